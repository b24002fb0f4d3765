//! `gwstat limits suggest`: rate and burst per stage, method and API key from recorded
//! traffic, each proven by replay.
//!
//! ```text
//! gwstat limits suggest sample-logs/rest-api-json-custom.log --gateway sample-logs/gateway.toml
//! gwstat limits suggest access.log --percentile 99.9 --headroom 0.5 --format json
//! ```

use anyhow::Result;
use clap::{Args, Subcommand};

use super::inputs::InputArgs;
use super::output::DocumentOutputArgs;
use super::replay::load_gateway;
use super::Outcome;
use crate::gateway::GatewayConfig;
use crate::ingest::{ingest, IngestOptions};
use crate::replay::advice::advise;
use crate::replay::report::SuggestReport;
use crate::replay::suggest::{suggest, SuggestOptions};
use crate::replay::{assign_api, order, Recorded, ReplayOptions};

/// Arguments of `gwstat limits`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat limits suggest sample-logs/rest-api-json-custom.log
  gwstat limits suggest access.log --gateway gateway.toml --percentile 99.9")]
pub struct LimitsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LimitsCommand,
}

/// `gwstat limits` subcommands.
#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// Propose rate/burst per stage, method and API key, proven by replay.
    Suggest(SuggestArgs),
}

/// Arguments of `gwstat limits suggest`.
#[derive(Debug, Args)]
#[command(mut_arg("top", |a| a.help("Methods and API keys listed (0 = all)")))]
pub struct SuggestArgs {
    /// Inputs and how to decode them.
    #[command(flatten)]
    pub input: InputArgs,

    /// AWS connection for `s3://` inputs.
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,

    /// Configuration the suggestions are proven against (gateway.toml or AWS CLI JSON);
    /// default: the logged stages with no limits but the account's.
    #[arg(long = "gateway", value_name = "FILE")]
    pub configs: Vec<String>,

    /// The old spelling of --gateway, accepted for one more release with a warning.
    #[arg(long = "config", value_name = "FILE", hide = true)]
    pub old_config: Vec<String>,

    /// The API id of the inputs' requests: stages are then `apiId:stage` (needed when several
    /// APIs of the configuration have a stage of that name).
    #[arg(long, value_name = "API_ID")]
    pub api: Option<String>,

    /// Percentile of per-second request counts the rate must cover.
    #[arg(long, default_value_t = 99.0)]
    pub percentile: f64,

    /// Extra share on top of the rate and the burst (0.2 = 20 %).
    #[arg(long, default_value_t = 0.2)]
    pub headroom: f64,

    /// Output choices (`--strict`: exit 1 when log lines could not be decoded).
    #[command(flatten)]
    pub out: DocumentOutputArgs,

    /// Mask API key ids in the output (stable pseudonyms such as key-3f9a1c).
    #[arg(long)]
    pub redact: bool,
}

/// Runs `gwstat limits`.
pub fn run(args: LimitsArgs) -> Result<Outcome> {
    let LimitsCommand::Suggest(args) = args.command;
    if !(0.0..=100.0).contains(&args.percentile) || args.headroom < 0.0 {
        anyhow::bail!("--percentile must be 0–100 and --headroom at least 0");
    }
    let mut config = if args.configs.is_empty() {
        GatewayConfig::default()
    } else {
        load_gateway(&args.configs)?
    };
    let ingested = ingest(
        &args.input.inputs(&args.aws)?,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: false,
        },
    )?;
    let mut requests = Recorded::from_columns(&ingested.columns);
    if let Some(api) = &args.api {
        if config.api_kind(api).is_none() {
            if !args.configs.is_empty() {
                anyhow::bail!("--api {api:?}: not an API of the configuration");
            }
            config.apis.push(crate::gateway::config::Api {
                id: api.clone(),
                name: String::new(),
                kind: Default::default(),
            });
        }
        assign_api(&mut requests, api);
    }
    let requests = order(requests);
    let sizing = SuggestOptions {
        percentile: args.percentile,
        headroom: args.headroom,
        top: args.out.top,
    };
    let mut suggestions = suggest(&requests, &config, &sizing);
    let mut advice = advise(&requests, &config, &ReplayOptions::default(), &sizing);
    if args.redact {
        for s in suggestions.iter_mut().filter(|s| s.scope == "api_key") {
            s.name = crate::redact::api_key(&s.name);
        }
        advice.redact();
    }
    let report = SuggestReport {
        percentile: args.percentile,
        headroom: args.headroom,
        suggestions,
        advice,
    };
    args.out.finish(
        &report,
        &[],
        ingested.skipped.total(),
        "log line(s)",
        args.input.quiet,
    )
}
