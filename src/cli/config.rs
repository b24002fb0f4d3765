//! `gwstat config show`: the settings in force and where each came from.
//!
//! ```text
//! gwstat config show
//! gwstat --config team.toml config show
//! ```

use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use comfy_table::{presets, Table};

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
    match &loaded.found {
        Some(found) => println!(
            "settings file: {} (found via {})",
            found.path.display(),
            found.via
        ),
        None => println!(
            "settings file: none (looked for --config, GWSTAT_CONFIG, ./gwstat.toml, \
             $XDG_CONFIG_HOME/gwstat/gwstat.toml); built-in defaults"
        ),
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_header(["setting", "value", "from"]);
    let source = loaded
        .found
        .as_ref()
        .map(|f| f.path.display().to_string())
        .unwrap_or_default();
    for (key, value, default) in loaded.settings.entries() {
        match value {
            Some(v) => table.add_row([key, v, source.clone()]),
            None => table.add_row([key, default.to_string(), "default".to_string()]),
        };
    }
    println!("{table}");
    println!("Flags given on the command line win over these.");
    Ok(Outcome::Ok)
}
