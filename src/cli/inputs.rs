//! Arguments shared by every command that reads access logs: the inputs and how to decode
//! them.

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::decode::presets::{preset, PresetName};
use crate::decode::{DecodeOptions, Field, InputFormat, Template};
use crate::source::{expand, Input};

/// Inputs and decoding choices.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Log files, directories (read recursively), globs, or `-` for stdin. `.gz` files are
    /// decompressed. With no input, stdin is read when it is not a terminal.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Log family to expect instead of detecting it per file.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,

    /// The stage's access-log format string, verbatim (`$context.status …`), a preset name
    /// (rest-clf, rest-json, rest-xml, rest-csv, http-clf, http-json, http-xml, http-csv,
    /// rest-clf-legacy, http-clf-legacy), or @FILE to read it from a file.
    #[arg(long, value_name = "FORMAT")]
    pub access_format: Option<String>,

    /// Read key KEY as MEANING (e.g. `status=http_code`, `integrationLatency=backend_ms`).
    /// Repeatable. Meanings are `$context` names: requestTime, requestTimeEpoch, status,
    /// httpMethod, resourcePath, routeKey, responseLatency, integrationLatency, stage,
    /// identity.apiKeyId, error.responseType, error.message, requestId, xrayTraceId.
    #[arg(long = "field", value_name = "MEANING=KEY")]
    pub fields: Vec<String>,

    /// No progress bar and no warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl InputArgs {
    /// The decoding choices.
    pub fn decode_options(&self) -> Result<DecodeOptions> {
        Ok(DecodeOptions {
            input_format: self.input_format,
            access_format: self
                .access_format
                .as_deref()
                .map(access_format)
                .transpose()?,
            fields: self
                .fields
                .iter()
                .map(|f| field_override(f))
                .collect::<Result<_>>()?,
        })
    }

    /// The inputs; stdin when none are given and stdin is piped.
    pub fn inputs(&self) -> Result<Vec<Input>> {
        if self.inputs.is_empty() {
            if std::io::stdin().is_terminal() {
                bail!("no input: give log files, directories or globs, or pipe logs to stdin (see --help)");
            }
            return Ok(vec![Input::Stdin]);
        }
        Ok(expand(&self.inputs)?)
    }
}

/// `--access-format`: a preset name, `@file`, or the format string itself.
fn access_format(value: &str) -> Result<Template> {
    let text = if let Some(name) = PresetName::from_name(value) {
        preset(name).to_string()
    } else if let Some(path) = value.strip_prefix('@') {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the access-log format from {path}"))?
    } else {
        value.to_string()
    };
    Ok(Template::parse(&text)?)
}

fn field_override(text: &str) -> Result<(Field, String)> {
    let Some((meaning, key)) = text.split_once('=') else {
        bail!("--field {text:?}: expected MEANING=KEY, e.g. status=http_code");
    };
    let Some(field) = Field::from_meaning(meaning.trim()) else {
        let known: Vec<&str> = Field::ALL.iter().map(|f| f.context_name()).collect();
        bail!(
            "--field {text:?}: unknown meaning {meaning:?}; known: {}",
            known.join(", ")
        );
    };
    Ok((field, key.to_string()))
}
