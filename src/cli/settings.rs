//! `gwstat.toml`: the user's defaults. Found via `gwstat --config FILE`, then `GWSTAT_CONFIG`,
//! then `./gwstat.toml`, then `$XDG_CONFIG_HOME/gwstat/gwstat.toml` (`~/.config/…`); the first
//! that exists is used, whole. A flag given on the command line always wins over the file,
//! and the file over the built-in default. `gwstat config show` prints the effective
//! settings and where each came from. Reference: docs/config.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;

use super::output::ColorChoice;
use crate::decode::InputFormat;
use crate::plan::{RouteNames, Slos};
use crate::report::OutputFormat;

/// `[report]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// `--top` for report, metrics and traces.
    pub top: Option<usize>,
    /// `--bin` for report and metrics.
    pub bin: Option<String>,
    /// `--format` of `gwstat report`.
    pub format: Option<OutputFormat>,
    /// `--integration-timeout-ms`.
    pub integration_timeout_ms: Option<u64>,
    /// `--color`.
    pub color: Option<ColorChoice>,
}

/// `[input]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputSettings {
    /// `--input-format`.
    pub input_format: Option<InputFormat>,
    /// `--access-format` (a format string, preset name or @FILE).
    pub access_format: Option<String>,
    /// `--field MEANING=KEY` pairs: meaning → key.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// `[gateway]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Default `--gateway` of replay, limits suggest and serve.
    pub config: Option<PathBuf>,
}

/// A whole gwstat.toml.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Report defaults.
    #[serde(default)]
    pub report: ReportSettings,
    /// Input defaults.
    #[serde(default)]
    pub input: InputSettings,
    /// Route aliases and groups.
    #[serde(default)]
    pub routes: RouteNames,
    /// Per-route-glob latency objectives.
    #[serde(default)]
    pub slo: Slos,
    /// Gateway defaults.
    #[serde(default)]
    pub gateway: GatewaySettings,
}

/// Where the settings came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// How it was found (`--config`, `GWSTAT_CONFIG`, `./gwstat.toml`, `XDG config dir`).
    pub via: &'static str,
}

/// The settings in force and their file, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// The settings (defaults when no file).
    pub settings: Settings,
    /// The file they came from.
    pub found: Option<Found>,
}

/// The XDG config file path.
fn xdg_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("gwstat").join("gwstat.toml"))
}

/// Finds and reads the settings file; an explicitly named file must exist.
pub fn load(flag: Option<&Path>) -> Result<Loaded> {
    let explicit = flag.map(|p| (p.to_path_buf(), "--config")).or_else(|| {
        std::env::var_os("GWSTAT_CONFIG")
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), "GWSTAT_CONFIG"))
    });
    let found = match explicit {
        Some((path, via)) => {
            if !path.is_file() {
                bail!("{via}: {} does not exist", path.display());
            }
            Some(Found { path, via })
        }
        None => {
            let local = PathBuf::from("gwstat.toml");
            if local.is_file() {
                Some(Found {
                    path: local,
                    via: "./gwstat.toml",
                })
            } else {
                xdg_path().filter(|p| p.is_file()).map(|path| Found {
                    path,
                    via: "XDG config dir",
                })
            }
        }
    };
    let Some(found) = found else {
        return Ok(Loaded::default());
    };
    let text = std::fs::read_to_string(&found.path)
        .with_context(|| format!("cannot read {}", found.path.display()))?;
    let settings = parse(&text).with_context(|| format!("{}", found.path.display()))?;
    Ok(Loaded {
        settings,
        found: Some(found),
    })
}

/// Parses and checks a gwstat.toml text.
pub fn parse(text: &str) -> Result<Settings> {
    let settings: Settings = toml::from_str(text)?;
    if let Some(bin) = &settings.report.bin {
        super::metrics::bin_seconds(Some(bin)).context("[report] bin")?;
    }
    for glob in settings.routes.groups.keys().chain(settings.slo.0.keys()) {
        glob::Pattern::new(glob).with_context(|| format!("route glob {glob:?}"))?;
    }
    for (glob, slo) in &settings.slo.0 {
        if slo.p99_ms.is_nan() || slo.p99_ms <= 0.0 {
            bail!("[slo] {glob:?}: p99_ms must be above 0");
        }
    }
    Ok(settings)
}

/// Whether the user gave `id` on the command line (or in the environment).
pub fn given(matches: &ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Sets `value` from `setting` unless the flag `id` was given.
pub fn fill<T: Clone>(value: &mut T, setting: &Option<T>, matches: &ArgMatches, id: &str) {
    if let Some(s) = setting {
        if !given(matches, id) {
            *value = s.clone();
        }
    }
}

impl Settings {
    /// Applies `[input]` to the shared input arguments.
    pub fn apply_input(&self, input: &mut super::inputs::InputArgs, matches: &ArgMatches) {
        fill(
            &mut input.input_format,
            &self.input.input_format,
            matches,
            "input_format",
        );
        if input.access_format.is_none() {
            input.access_format = self.input.access_format.clone();
        }
        if input.fields.is_empty() {
            input.fields = self
                .input
                .fields
                .iter()
                .map(|(meaning, key)| format!("{meaning}={key}"))
                .collect();
        }
    }

    /// Every setting as `(key, value)`, for `gwstat config show`.
    pub fn entries(&self) -> Vec<(String, Option<String>, &'static str)> {
        let d = |v: Option<String>, default: &'static str| (v, default);
        let mut out = Vec::new();
        let mut push = |key: &str, (value, default): (Option<String>, &'static str)| {
            out.push((key.to_string(), value, default));
        };
        push(
            "report.top",
            d(self.report.top.map(|v| v.to_string()), "20"),
        );
        push(
            "report.bin",
            d(self.report.bin.clone(), "auto (≤ 120 bins)"),
        );
        push(
            "report.format",
            d(
                self.report.format.map(|v| format!("{v:?}").to_lowercase()),
                "table",
            ),
        );
        push(
            "report.integration_timeout_ms",
            d(
                self.report.integration_timeout_ms.map(|v| v.to_string()),
                "29000",
            ),
        );
        push(
            "report.color",
            d(
                self.report.color.map(|v| format!("{v:?}").to_lowercase()),
                "auto",
            ),
        );
        push(
            "input.input_format",
            d(
                self.input
                    .input_format
                    .map(|v| format!("{v:?}").to_lowercase()),
                "auto",
            ),
        );
        push(
            "input.access_format",
            d(self.input.access_format.clone(), "detected per file"),
        );
        for (meaning, key) in &self.input.fields {
            push(&format!("input.fields.{meaning}"), d(Some(key.clone()), ""));
        }
        for (route, alias) in &self.routes.aliases {
            push(
                &format!("routes.aliases.\"{route}\""),
                d(Some(alias.clone()), ""),
            );
        }
        for (glob, group) in &self.routes.groups {
            push(
                &format!("routes.groups.\"{glob}\""),
                d(Some(group.clone()), ""),
            );
        }
        for (glob, slo) in &self.slo.0 {
            push(
                &format!("slo.\"{glob}\".p99_ms"),
                d(Some(slo.p99_ms.to_string()), ""),
            );
        }
        push(
            "gateway.config",
            d(
                self.gateway
                    .config
                    .as_ref()
                    .map(|p| p.display().to_string()),
                "none",
            ),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[report]
top = 5
bin = "5m"
format = "json"

[input]
fields = { status = "http_code" }

[routes]
aliases = { "GET /products/{productId}" = "GET /products/:id" }
groups = { "GET /users/*" = "GET /users/*" }

[slo]
"GET /products*" = { p99_ms = 300 }
"*" = { p99_ms = 1000 }

[gateway]
config = "sample-logs/gateway.toml"
"#;

    #[test]
    fn parses_and_checks() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.report.top, Some(5));
        assert_eq!(s.report.format, Some(OutputFormat::Json));
        assert_eq!(s.slo.for_route("GET /products").unwrap().p99_ms, 300.0);
        assert_eq!(s.slo.for_route("POST /orders").unwrap().p99_ms, 1000.0);
        assert_eq!(s.routes.groups["GET /users/*"], "GET /users/*");
        assert!(parse("[report]\ntopp = 1")
            .unwrap_err()
            .to_string()
            .contains("topp"));
        assert!(format!("{:#}", parse("[report]\nbin = \"soon\"").unwrap_err()).contains("bin"));
        assert!(parse("[slo]\n\"*\" = { p99_ms = 0 }").is_err());
    }
}
