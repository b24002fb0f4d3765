//! `gwstat config show`: the settings in force and where each came from.
//!
//! ```text
//! gwstat config show
//! gwstat --config team.toml config show
//! ```

use std::path::Path;

use crate::report::layout::Block;
use anyhow::Result;
use clap::{Args, Subcommand};

use super::settings::load;
use super::Outcome;

/// Arguments of `gwstat config`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat config show
  GWSTAT_CONFIG=team.toml gwstat config show
  gwstat --config team.toml config show")]
pub struct ConfigArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// `gwstat config` actions.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print every setting, its value and where it came from.
    Show,
}

/// Runs `gwstat config`.
pub fn run(args: ConfigArgs, flag: Option<&Path>) -> Result<Outcome> {
    let ConfigAction::Show = args.action;
    let loaded = load(flag)?;
    let title = match &loaded.found {
        Some(found) => format!(
            "settings file: {} (found via {})",
            found.path.display(),
            found.via
        ),
        None => "settings file: none (looked for --config, GWSTAT_CONFIG, ./gwstat.toml, \
                 $XDG_CONFIG_HOME/gwstat/gwstat.toml); built-in defaults"
            .to_string(),
    };
    let mut table = Block::new(title, vec!["setting", "value", "from"]);
    table.shorten(&["from"]);
    let source = loaded
        .found
        .as_ref()
        .map(|f| f.path.display().to_string())
        .unwrap_or_default();
    for (key, value, default) in loaded.settings.entries() {
        match value {
            Some(v) => table.row(vec![key.to_string(), v, source.clone()]),
            None => table.row(vec![
                key.to_string(),
                default.to_string(),
                "default".to_string(),
            ]),
        };
    }
    table.note = Some("Flags given on the command line win over these.".into());
    let options = crate::report::RenderOptions {
        width: Some(super::terminal::stdout_width()),
        ..Default::default()
    };
    super::output::write_output(None, |out| {
        crate::report::render::write_table_blocks(&[table], options, out)
    })?;
    Ok(Outcome::Ok)
}
