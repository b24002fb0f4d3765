//! Arguments shared by every command that reads access logs: the inputs and how to decode
//! them.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::aws::s3;
use crate::aws::AwsArgs;
use crate::decode::presets::{preset, PresetName};
use crate::decode::{DecodeOptions, Field, InputFormat, Template};
use crate::filter::Window;
use crate::source::{expand, Input};

/// Inputs and decoding choices.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Log files, directories (read recursively), globs, `-` for stdin, or S3:
    /// `s3://BUCKET/PREFIX/` (every object under it) or `s3://BUCKET/KEY`. `.gz` is
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

    /// The inputs; stdin when none are given and stdin is piped. `s3://` inputs are listed
    /// with `aws`'s connection.
    pub fn inputs(&self, aws: &AwsArgs) -> Result<Vec<Input>> {
        Ok(self.inputs_within(aws, Window::default())?.0)
    }

    /// The inputs, leaving out the S3 objects whose keys and write times show they cannot
    /// hold requests of `window`; and the S3 objects not read, by reason (said on stderr
    /// unless `--quiet`).
    pub fn inputs_within(
        &self,
        aws: &AwsArgs,
        window: Window,
    ) -> Result<(Vec<Input>, BTreeMap<String, u64>)> {
        if self.inputs.is_empty() {
            if std::io::stdin().is_terminal() {
                bail!("no input: give log files, directories or globs, or pipe logs to stdin (see --help)");
            }
            return Ok((vec![Input::Stdin], BTreeMap::new()));
        }
        resolve(&self.inputs, aws, window, self.quiet)
    }
}

/// Input arguments (files, directories, globs, `s3://` URLs) as inputs, in the order given,
/// leaving out the S3 objects whose keys and write times show they cannot hold requests of
/// `window`; and the S3 objects not read, by reason (said on stderr unless `quiet`).
pub fn resolve(
    args: &[String],
    aws: &AwsArgs,
    window: Window,
    quiet: bool,
) -> Result<(Vec<Input>, BTreeMap<String, u64>)> {
    let urls: Vec<String> = args.iter().filter(|a| is_s3(a)).cloned().collect();
    if urls.is_empty() {
        return Ok((expand(args)?, BTreeMap::new()));
    }
    let listing = s3::list(&urls, aws, window)?;
    let read: usize = listing.inputs.iter().map(Vec::len).sum();
    if !quiet {
        let skipped: Vec<String> = listing
            .skipped
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        let skipped = match skipped.is_empty() {
            true => String::new(),
            false => format!("; skipped {}", skipped.join(", ")),
        };
        eprintln!(
            "gwstat: S3: {read} objects to read ({:.1} MiB){skipped}",
            listing.bytes as f64 / (1 << 20) as f64
        );
    }
    // In the order given: each run of local arguments expanded together, each URL's
    // objects where the URL stands.
    let mut remote = listing.inputs.into_iter();
    let mut inputs = Vec::new();
    let mut local: Vec<String> = Vec::new();
    for arg in args {
        if is_s3(arg) {
            if !local.is_empty() {
                inputs.extend(expand(&std::mem::take(&mut local))?);
            }
            inputs.extend(remote.next().unwrap_or_default());
        } else {
            local.push(arg.clone());
        }
    }
    if !local.is_empty() {
        inputs.extend(expand(&local)?);
    }
    let skipped = listing
        .skipped
        .into_iter()
        .map(|(reason, n)| (reason.to_string(), n))
        .collect();
    Ok((inputs, skipped))
}

/// Whether an input argument names S3 (`s3://…`).
pub fn is_s3(arg: &str) -> bool {
    s3::is_s3(arg)
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
