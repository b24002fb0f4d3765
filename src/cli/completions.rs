//! `gwstat completions SHELL` and `gwstat man`: shell completions and man pages, generated
//! from the clap definitions so they never drift from the real flags. The pages are also
//! checked in under docs/man/ (a test keeps them up to date).
//!
//! ```text
//! gwstat completions bash > ~/.local/share/bash-completion/completions/gwstat
//! gwstat man > gwstat.1 && man ./gwstat.1
//! gwstat man --dir docs/man
//! ```

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Outcome};

/// Arguments of `gwstat completions`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat completions bash > ~/.local/share/bash-completion/completions/gwstat
  gwstat completions zsh > ~/.zfunc/_gwstat")]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `gwstat man`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat man | man -l -
  gwstat man --dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write gwstat.1 and one gwstat-SUBCOMMAND.1 per subcommand into DIR instead of
    /// printing gwstat.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: CompletionsArgs) -> Result<Outcome> {
    let mut command = Cli::command();
    // Generated into memory first: clap_complete panics on a write error (e.g. `| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "gwstat", &mut script);
    write_stdout(&script)
}

fn write_stdout(bytes: &[u8]) -> Result<Outcome> {
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Outcome::Ok),
        other => {
            other?;
            Ok(Outcome::Ok)
        }
    }
}

/// Every man page: (file name, roff text).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let command = Cli::command();
    let mut pages = Vec::new();
    let mut main = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut main)?;
    pages.push(("gwstat.1".to_string(), main));
    for sub in command.get_subcommands() {
        let name = format!("gwstat-{}", sub.get_name());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub.clone().name(name.clone())).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

/// Prints or writes the man pages.
pub fn man(args: ManArgs) -> Result<Outcome> {
    let pages = man_pages()?;
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in pages {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        None => return write_stdout(&pages[0].1),
    }
    Ok(Outcome::Ok)
}
