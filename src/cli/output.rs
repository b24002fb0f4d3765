//! Where a command's output goes: stdout (a closed pipe is not an error), or a file written
//! atomically (a temporary file beside it, renamed into place when complete), so an
//! interrupted run never leaves half a report.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::Outcome;
use crate::report::{render_document, Document, OutputFormat, RenderOptions};

/// Output choices shared by the commands whose reports are [`Document`]s (metrics, traces,
/// replay); each command has its own `-q`.
#[derive(Debug, Args)]
pub struct DocumentOutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Most routes to list (0 = all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// Exit with status 1 if any input could not be fully used (the output is still written).
    #[arg(long)]
    pub strict: bool,
}

impl DocumentOutputArgs {
    /// Prints the warnings (unless the table shows them or `quiet`), renders `doc`, and maps
    /// `skipped` unusable items (`what`) to the exit code under `--strict`.
    pub fn finish<D: Document>(
        &self,
        doc: &D,
        warnings: &[String],
        skipped: u64,
        what: &str,
        quiet: bool,
    ) -> Result<Outcome> {
        if !quiet && self.format != OutputFormat::Table {
            for warning in warnings {
                eprintln!("gwstat: {warning}");
            }
        }
        let terminal = self.output.is_none() && std::io::IsTerminal::is_terminal(&io::stdout());
        let options = render_options(terminal, ColorChoice::Auto);
        write_output(self.output.as_deref(), |out| {
            render_document(doc, self.format, options, out)
        })?;
        if self.strict && skipped > 0 {
            if !quiet {
                eprintln!("gwstat: --strict: {skipped} {what} unusable");
            }
            return Ok(Outcome::StrictViolation);
        }
        Ok(Outcome::Ok)
    }
}

/// Runs `render` against stdout or `path`.
pub fn write_output(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(path) => write_file_atomically(path, render),
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            match render(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to stdout"),
            }
        }
    }
}

/// Prints `text` to stdout with every line word-wrapped to the run's width (continuation
/// lines indented 4 more than their line), for commands that print prose rather than tables.
pub fn print_wrapped(text: &str) -> anyhow::Result<()> {
    let width = usize::from(super::terminal::stdout_width());
    write_output(None, |out| {
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            if width == 0 {
                writeln!(out, "{line}")?;
                continue;
            }
            for part in crate::report::width::wrap(line, width, 4) {
                writeln!(out, "{part}")?;
            }
        }
        Ok(())
    })
}

/// Temporary files being written, removed if the process is interrupted.
static IN_PROGRESS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Runs `then` once, on a signal thread, when Ctrl-C (SIGINT) arrives.
pub fn on_interrupt(then: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            then();
        }
    });
}

/// Stops the process cleanly on Ctrl-C (SIGINT): removes half-written temporary files, says
/// so on stderr and exits with 130. Output files are never left half written.
pub fn exit_cleanly_on_interrupt() {
    on_interrupt(|| {
        if let Ok(files) = IN_PROGRESS.lock() {
            for file in files.iter() {
                let _ = std::fs::remove_file(file);
            }
        }
        eprintln!("gwstat: interrupted; no output file was written");
        std::process::exit(130);
    });
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `path` through a temporary file in the same directory and renames it into place.
/// What is not a regular file (`/dev/null`, a FIFO, a terminal) is written to directly: a
/// rename would replace the device with a file. A symbolic link keeps pointing where it did:
/// the file it names is the one replaced.
pub fn write_file_atomically(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let file = File::options()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut out = BufWriter::new(file);
        return render(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = std::fs::canonicalize(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            resolved.as_path()
        }
        _ => path,
    };
    let temporary = temporary_path(path);
    if let Ok(mut files) = IN_PROGRESS.lock() {
        files.push(temporary.clone());
    }
    let result = (|| -> Result<()> {
        let file = File::create(&temporary)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::new(file);
        render(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        drop(out);
        std::fs::rename(&temporary, path)
            .with_context(|| format!("cannot write {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    if let Ok(mut files) = IN_PROGRESS.lock() {
        files.retain(|f| f != &temporary);
    }
    result
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always (still never with NO_COLOR).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output that goes to a terminal (`to_terminal`) or not: never with
    /// NO_COLOR set (not empty), else as chosen, `Auto` only on a terminal.
    pub fn colored(self, to_terminal: bool) -> bool {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        !no_color
            && match self {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => to_terminal,
            }
    }
}

/// How output is drawn when it goes to a terminal (`to_terminal`) or not: colour as `color`
/// chooses, fitted to the run's width; every section.
pub fn render_options(to_terminal: bool, color: ColorChoice) -> RenderOptions {
    RenderOptions {
        color: color.colored(to_terminal),
        width: Some(super::terminal::width(to_terminal)),
        ..RenderOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_render_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").unwrap();
        let err = write_output(Some(&path), |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("interrupted"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_output(Some(&path), |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn a_device_is_written_to_not_replaced() {
        write_output(Some(Path::new("/dev/null")), |out| out.write_all(b"x")).unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null is still a device");
    }

    #[test]
    fn a_symbolic_link_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_output(Some(&link), |out| out.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }
}
