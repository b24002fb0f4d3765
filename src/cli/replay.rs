//! `gwstat replay`: recorded access logs through the gateway core, predicted vs observed,
//! and what-if settings and sweeps.
//!
//! ```text
//! gwstat replay sample-logs/rest-api-json-custom.log --gateway sample-logs/gateway.toml
//! gwstat replay access.log --gateway gateway.toml --set stage.prod.rate=500 --verdicts v.ndjson
//! gwstat replay access.log --gateway gateway.toml --sweep usage_plan.gold.rate=5..50:5
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::gateway::load_config;
use super::inputs::InputArgs;
use super::output::DocumentOutputArgs;
use super::Outcome;
use crate::gateway::aws_import::{apply_usage, import, AwsSources};
use crate::gateway::GatewayConfig;
use crate::ingest::{ingest, IngestOptions};
use crate::replay::advice::advise;
use crate::replay::report::{SweepReport, SweepRow};
use crate::replay::suggest::SuggestOptions;
use crate::replay::whatif::{apply, apply_change, parse_sweep};
use crate::replay::{assign_api, drop_retries, http, order, replay, Recorded, ReplayOptions};
use crate::source::expand;

/// Arguments of `gwstat replay`.
#[derive(Debug, Args)]
#[command(
    mut_arg("top", |a| a.help("Longest list (0 = all)")),
    after_help = "Examples:\n  gwstat replay sample-logs/rest-api-json-custom.log --gateway sample-logs/gateway.toml\n  gwstat replay access.log --gateway get-stage.json --gateway plans.json --set stage.prod.rate=500\n  gwstat replay access.log --gateway gateway.toml --sweep stage.prod.rate=100..1000:100"
)]
pub struct ReplayArgs {
    /// Inputs and how to decode them.
    #[command(flatten)]
    pub input: InputArgs,

    /// AWS connection for `s3://` inputs.
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,

    /// Gateway configuration: a gateway.toml, or AWS CLI JSON (`get-stage`, `apigatewayv2
    /// get-stage`, `get-usage-plans`, `get-account`, `get-usage`, and `PLAN_ID=get-usage-plan-keys.json`).
    /// Repeatable for the JSON files. Required unless --target is given.
    #[arg(long = "gateway", value_name = "FILE")]
    pub configs: Vec<String>,

    /// The old spelling of --gateway, accepted for one more release with a warning.
    #[arg(long = "config", value_name = "FILE", hide = true)]
    pub old_config: Vec<String>,

    /// The API id of the positional inputs' requests that do not carry `apiId` (a line's
    /// own `$context.apiId` wins); needed when several APIs of the configuration have a
    /// stage of the same name.
    #[arg(long, value_name = "API_ID")]
    pub api: Option<String>,

    /// A log of another API of the account, replayed together with the inputs (repeatable):
    /// every API shares the account bucket. Lines carrying `apiId` keep it.
    #[arg(long = "api-log", value_name = "API_ID=FILE")]
    pub api_logs: Vec<String>,

    /// Requests per second of the account's traffic that is not replayed (other APIs):
    /// evenly spaced requests that take account tokens.
    #[arg(long, value_name = "RPS", default_value_t = 0.0)]
    pub account_background: f64,

    /// Send the requests over HTTP to this endpoint (e.g. `gwstat serve`) at their recorded
    /// pace instead of replaying them in virtual time.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// With --target: time compression (10 = ten times faster than recorded).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,

    /// With --target: requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,

    /// With --target: extra request header (repeatable), e.g. `--header 'authorization: x'`.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// With --target: send at most N requests.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_requests: u64,

    /// With --target: stop sending after S seconds.
    #[arg(long, value_name = "S", default_value_t = 300)]
    pub max_seconds: u64,

    /// With --target: allow a target that is not on this machine.
    #[arg(long)]
    pub allow_remote: bool,

    /// `aws apigateway get-usage` output (repeatable): what each key had used in the quota
    /// period before the log's first day, seeding its quota.
    #[arg(long, value_name = "FILE")]
    pub usage: Vec<PathBuf>,

    /// Change a setting before replaying (repeatable), e.g. `stage.prod.rate=500`,
    /// `usage_plan.gold.burst=50`, `account.rate=2500`, `options.consumption=all-or-nothing`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,

    /// Replay once per value of a setting, e.g. `stage.prod.rate=100..1000:100`.
    #[arg(long, value_name = "PATH=LO..HI:STEP")]
    pub sweep: Option<String>,

    /// Percentile of per-second request counts the advised rates cover (as in `limits
    /// suggest`).
    #[arg(long, default_value_t = 99.0)]
    pub percentile: f64,

    /// Extra share on top of advised rates and bursts (0.2 = 20 %).
    #[arg(long, default_value_t = 0.2)]
    pub headroom: f64,

    /// Drop requests that look like client retries of an earlier 429 (same API key and
    /// route within --retry-window) before replaying.
    #[arg(long)]
    pub drop_retries: bool,

    /// Window for --drop-retries, in ms.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub retry_window_ms: i64,

    /// Write one NDJSON verdict per request (requestId, observed_status, predicted_status,
    /// level, cache) to FILE.
    #[arg(long, value_name = "FILE")]
    pub verdicts: Option<PathBuf>,

    /// Output choices (`--strict`: exit 1 when log lines could not be decoded).
    #[command(flatten)]
    pub out: DocumentOutputArgs,

    /// Mask API key ids in the output (stable pseudonyms such as key-3f9a1c).
    #[arg(long)]
    pub redact: bool,
}

/// Loads the gateway configuration from a TOML file or AWS CLI JSON files.
pub fn load_gateway(configs: &[String]) -> Result<GatewayConfig> {
    let tomls: Vec<&String> = configs.iter().filter(|c| c.ends_with(".toml")).collect();
    match (tomls.as_slice(), configs.len()) {
        ([one], 1) => return load_config(Path::new(one.as_str())),
        ([], _) => {}
        _ => bail!("give either one gateway.toml or AWS CLI JSON files to --gateway, not both"),
    }
    let mut sources = AwsSources::default();
    for spec in configs {
        if let Some((plan, file)) = spec.split_once('=') {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
            sources.usage_plan_keys.push((plan.to_string(), text));
            continue;
        }
        let text = std::fs::read_to_string(spec).with_context(|| format!("cannot read {spec}"))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{spec}: not JSON"))?;
        if json.get("methodSettings").is_some() || json.get("stageName").is_some() {
            sources.rest_stages.push(text);
        } else if json.get("StageName").is_some() {
            sources.http_stages.push(text);
        } else if json.get("usagePlanId").is_some() {
            sources.usage.push(text);
        } else if json.get("throttleSettings").is_some() {
            sources.account = Some(text);
        } else if json.get("items").is_some() {
            sources.usage_plans = Some(text);
        } else {
            bail!("{spec}: not a get-stage, apigatewayv2 get-stage, get-usage-plans, get-account or get-usage output (for a whole account, run gwstat gateway import first)");
        }
    }
    Ok(import(&sources)?)
}

/// Runs `gwstat replay`.
pub fn run(args: ReplayArgs) -> Result<Outcome> {
    if let Some(target) = &args.target {
        return run_http(&args, target);
    }
    if args.configs.is_empty() {
        bail!("give --gateway (a gateway.toml or AWS CLI JSON), or --target URL for HTTP replay");
    }
    let mut config = load_gateway(&args.configs)?;
    for file in &args.usage {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        apply_usage(&mut config, &text).with_context(|| format!("{}", file.display()))?;
    }
    let changes = args
        .sets
        .iter()
        .map(|setting| apply_change(&mut config, setting))
        .collect::<Result<Vec<_>, _>>()?;
    config.validate()?;
    let ingested = ingest(
        &args.input.inputs(&args.aws)?,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: true,
        },
    )?;
    let mut skipped = ingested.skipped.total();
    let mut requests = Recorded::from_columns(&ingested.columns);
    assign_api(&mut requests, args.api.as_deref().unwrap_or(""));
    for spec in &args.api_logs {
        let Some((api, file)) = spec.split_once('=') else {
            bail!("--api-log {spec:?}: expected API_ID=FILE");
        };
        if config.api_kind(api).is_none() {
            bail!("--api-log {spec:?}: API {api:?} is not in the configuration");
        }
        let other = ingest(
            &expand(&[file.to_string()])?,
            &IngestOptions {
                decode: args.input.decode_options()?,
                quiet: args.input.quiet,
                keep_request_ids: true,
            },
        )?;
        skipped += other.skipped.total();
        let mut more = Recorded::from_columns(&other.columns);
        assign_api(&mut more, api);
        requests.extend(more);
    }
    if skipped > 0 && !args.input.quiet {
        eprintln!("gwstat: {skipped} line(s) could not be decoded and are not replayed");
    }
    if args.api.is_none() && !args.input.quiet && requests.iter().any(|r| r.api.is_empty()) {
        let shared = config.shared_stage_names();
        if !shared.is_empty() {
            eprintln!(
                "gwstat: warning: several APIs have stage(s) {}; requests of the inputs whose API is not given (--api) meet none of their settings",
                shared.join(", ")
            );
        }
    }
    if !(0.0..=100.0).contains(&args.percentile)
        || !args.headroom.is_finite()
        || args.headroom < 0.0
    {
        bail!("--percentile must be 0–100 and --headroom at least 0");
    }
    if !args.account_background.is_finite() || args.account_background < 0.0 {
        bail!("--account-background must be a rate of 0 or more");
    }
    let mut requests = order(requests);
    let mut dropped = 0;
    if args.drop_retries {
        (requests, dropped) = drop_retries(requests, args.retry_window_ms);
        if !args.input.quiet {
            eprintln!("gwstat: dropped {dropped} likely client retries of a 429");
        }
    }
    let options = ReplayOptions {
        account_background_rps: args.account_background,
        drop_retries: args.drop_retries,
        retry_window_ms: args.retry_window_ms,
        top: args.out.top,
    };
    let quiet = args.input.quiet;
    let what = "log line(s)";

    if let Some(sweep) = &args.sweep {
        let sweep = parse_sweep(sweep)?;
        let mut rows = Vec::new();
        for value in &sweep.values {
            let mut variant = config.clone();
            apply(&mut variant, &format!("{}={value}", sweep.path))?;
            variant.validate()?;
            let report = replay(&requests, &variant, &options, dropped, |_| {});
            rows.push(SweepRow::new(value, &report));
        }
        let report = SweepReport::new(&sweep.path, rows, changes);
        args.out.finish(&report, &[], skipped, what, quiet)
    } else {
        let mut verdicts = args
            .verdicts
            .as_ref()
            .map(|p| {
                File::create(p)
                    .map(BufWriter::new)
                    .with_context(|| format!("cannot create {}", p.display()))
            })
            .transpose()?;
        let mut write_error = None;
        let report = replay(&requests, &config, &options, dropped, |v| {
            if let Some(w) = verdicts.as_mut() {
                if let Err(e) = crate::report::rounding::write_json_line(&mut *w, v) {
                    write_error.get_or_insert(e);
                }
            }
        });
        if let Some(e) = write_error {
            return Err(e).context("writing verdicts");
        }
        if let Some(mut w) = verdicts {
            w.flush().context("writing verdicts")?;
        }
        let mut report = report;
        report.settings_changed = changes;
        report.advice = Some(advise(
            &requests,
            &config,
            &options,
            &SuggestOptions {
                percentile: args.percentile,
                headroom: args.headroom,
                top: 0,
            },
        ));
        if args.redact {
            report.redact();
            if let Some(advice) = report.advice.as_mut() {
                advice.redact();
            }
        }
        args.out.finish(&report, &[], skipped, what, quiet)
    }
}

fn run_http(args: &ReplayArgs, target: &str) -> Result<Outcome> {
    let uri: hyper::Uri = target
        .parse()
        .with_context(|| format!("--target {target:?} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--target must be an http:// URL");
    }
    if !http::is_loopback(&uri) && !args.allow_remote {
        bail!("--target {target} is not on this machine; add --allow-remote to send traffic there");
    }
    if !args.speed.is_finite() || args.speed <= 0.0 {
        bail!("--speed must be positive");
    }
    let key_values = if args.configs.is_empty() {
        Default::default()
    } else {
        load_gateway(&args.configs)?
            .api_keys
            .into_iter()
            .filter_map(|k| Some((k.id, k.value?)))
            .collect()
    };
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                // The value may be a secret (authorization, x-api-key): never echoed.
                .with_context(|| {
                    format!(
                        "--header: expected NAME: VALUE, got {} characters without ':'",
                        h.chars().count()
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let ingested = ingest(
        &args.input.inputs(&args.aws)?,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: false,
        },
    )?;
    let requests = order(Recorded::from_columns(&ingested.columns));
    let options = http::HttpReplayOptions {
        target: uri,
        speed: args.speed,
        concurrency: args.concurrency,
        headers,
        max_requests: args.max_requests,
        max_duration: std::time::Duration::from_secs(args.max_seconds),
        key_values,
        request_timeout: std::time::Duration::from_secs(35),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(http::http_replay(&requests, &options));
    args.out.finish(
        &report,
        &[],
        ingested.skipped.total(),
        "log line(s)",
        args.input.quiet,
    )
}
