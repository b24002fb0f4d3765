//! `gwstat gateway`: check a gateway.toml, or build one from AWS CLI output.
//!
//! ```text
//! gwstat gateway check gateway.toml
//! gwstat gateway import --stage prod-stage.json --usage-plans plans.json \
//!     --usage-plan-keys abc123=keys.json --account account.json -o gateway.toml
//! gwstat gateway import --from-aws --profile prod --region eu-west-1 --save account/ -o gateway.toml
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::Outcome;
use crate::aws::apigateway::{fetch_account, AccountRequest};
use crate::aws::{run_with_progress, AwsArgs, Document, Progress};
use crate::gateway::aws_account::{import_account, AccountFile};
use crate::gateway::aws_import::{import, AwsSources};
use crate::gateway::config::{method_key, stage_label};
use crate::gateway::{GatewayConfig, Level, Pipeline};

/// Arguments of `gwstat gateway`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat gateway check sample-logs/gateway.toml
  gwstat gateway import --stage get-stage.json --usage-plans plans.json -o gateway.toml
  gwstat gateway import --from-aws --region eu-west-1 --save account/ -o gateway.toml")]
pub struct GatewayArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: GatewayCommand,
}

/// `gwstat gateway` subcommands.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Validate a gateway.toml and show the throttle levels each configured method meets.
    Check {
        /// The configuration file.
        config: PathBuf,
    },
    /// Build a gateway.toml from `aws apigateway …` / `aws apigatewayv2 …` JSON output.
    Import(Box<ImportArgs>),
}

/// Inputs of `gwstat gateway import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A whole account: AWS CLI JSON outputs (files, or directories read recursively for
    /// `*.json`), each recognised by its content (docs/gateway.md).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The API (or usage plan) id of an output that does not carry it, when its directory is
    /// not named after it (repeatable).
    #[arg(long = "api-id", value_name = "ID=FILE")]
    pub api_ids: Vec<String>,
    /// `aws apigateway get-stage` output (repeatable).
    #[arg(long = "stage", value_name = "FILE")]
    pub stages: Vec<PathBuf>,
    /// `aws apigatewayv2 get-stage` output (repeatable).
    #[arg(long = "http-stage", value_name = "FILE")]
    pub http_stages: Vec<PathBuf>,
    /// `aws apigateway get-usage-plans` output.
    #[arg(long, value_name = "FILE")]
    pub usage_plans: Option<PathBuf>,
    /// `aws apigateway get-usage-plan-keys --usage-plan-id PLAN_ID` output (repeatable).
    #[arg(long, value_name = "PLAN_ID=FILE")]
    pub usage_plan_keys: Vec<String>,
    /// `aws apigateway get-account` output (account throttle).
    #[arg(long, value_name = "FILE")]
    pub account: Option<PathBuf>,
    /// `aws apigateway get-usage` output (repeatable): the requests each key has already
    /// used, per day, seeding its quota.
    #[arg(long, value_name = "FILE")]
    pub usage: Vec<PathBuf>,
    /// Read the account straight from AWS instead of files: REST, HTTP and WebSocket APIs
    /// with their stages, resources, methods, routes and integrations, usage plans and
    /// their keys, the account's throttle (every list followed page by page).
    #[arg(long, conflicts_with_all = ["paths", "stages", "http_stages", "usage_plans", "usage_plan_keys", "account", "usage", "api_ids"])]
    pub from_aws: bool,
    /// With --from-aws: also read each usage plan's use (`get-usage`) over the last DAYS UTC
    /// days, seeding its keys' quotas.
    #[arg(long, value_name = "DAYS", requires = "from_aws")]
    pub usage_days: Option<u32>,
    /// With --from-aws: also save what was read into DIR, as the AWS CLI outputs that
    /// `gwstat gateway import DIR` reads later without AWS.
    #[arg(long, value_name = "DIR", requires = "from_aws")]
    pub save: Option<PathBuf>,
    /// With --from-aws: items per AWS list call (default: AWS's own page size).
    #[arg(long, value_name = "N", requires = "from_aws")]
    pub page_size: Option<u32>,
    /// Where and as whom to call AWS (with --from-aws).
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Write the TOML here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads and validates a gateway.toml, printing warnings to stderr.
pub fn load_config(path: &Path) -> Result<GatewayConfig> {
    let config =
        GatewayConfig::from_toml(&read(path)?).with_context(|| format!("{}", path.display()))?;
    for warning in config.validate()? {
        eprintln!("gwstat: warning: {}: {warning}", path.display());
    }
    Ok(config)
}

/// Runs `gwstat gateway`.
pub fn run(args: GatewayArgs) -> Result<Outcome> {
    match args.command {
        GatewayCommand::Check { config } => check(&config),
        GatewayCommand::Import(args) => import_command(*args),
    }
}

fn check(path: &Path) -> Result<Outcome> {
    let config = load_config(path)?;
    // Written whole, then wrapped to the width.
    let mut out = String::new();
    macro_rules! say {
        ($($arg:tt)*) => {{
            use std::fmt::Write as _;
            let _ = writeln!(out, $($arg)*);
        }};
    }
    say!(
        "account: {} rps, burst {}",
        config.account.rate,
        config.account.burst
    );
    let options = config.options;
    say!(
        "options: stage default buckets {:?}, consumption {:?}, quota counts {:?}, week starts {:?}, timeout integration latency {:?}, overhead {} ms",
        options.stage_default_buckets,
        options.consumption,
        options.quota_counts,
        options.week_start,
        options.timeout_integration_latency,
        options.overhead_ms
    );
    let mut pipeline = Pipeline::new(config.clone());
    for api in &config.apis {
        let name = if api.name.is_empty() {
            String::new()
        } else {
            format!(" {}", api.name)
        };
        say!("api {} ({:?}){name}", api.id, api.kind);
    }
    for (index, stage) in config.stages.iter().enumerate() {
        say!(
            "stage {} ({:?}): throttle {}, cache {}",
            stage.label(),
            stage.api,
            stage
                .throttle
                .map_or("none (account only)".to_string(), |t| format!(
                    "{} rps / {}",
                    t.rate, t.burst
                )),
            if stage.cache.enabled {
                format!(
                    "{} GB, ttl {} s",
                    stage.cache.size_gb, stage.cache.ttl_seconds
                )
            } else {
                "off".to_string()
            }
        );
        let key = config
            .usage_plans
            .iter()
            .find(|p| {
                p.api_stages
                    .iter()
                    .any(|s| config.stage_index(&s.api_id, &s.stage) == Some(index))
            })
            .and_then(|p| {
                config
                    .api_keys
                    .iter()
                    .find(|k| k.usage_plans.contains(&p.id))
            })
            .map(|k| k.id.clone());
        // Every configured method and route (a WebSocket route key is its own resource).
        let mut methods: Vec<(String, String)> = stage
            .methods
            .keys()
            .chain(&stage.routes)
            .filter_map(|k| {
                method_key(k).or_else(|| {
                    (stage.api == crate::gateway::config::ApiKind::Websocket)
                        .then(|| (k.clone(), String::new()))
                })
            })
            .collect();
        methods.sort();
        methods.dedup();
        if methods.is_empty() {
            methods.push(("/{any}".into(), "GET".into()));
        }
        for (resource, method) in methods {
            let request = crate::gateway::GatewayRequest {
                api: &stage.api_id,
                stage: &stage.name,
                method: &method,
                resource: &resource,
                api_key: key.as_deref(),
                cache_key: "",
                cache_control_max_age_0: false,
                may_invalidate_cache: false,
                payload_bytes: 0,
                overhead_ms: None,
                backend: crate::gateway::Backend::Response {
                    status: 200,
                    latency_ms: 0,
                    bytes: 0,
                },
            };
            let prepared = pipeline.prepare(&request);
            let levels: Vec<&str> = Pipeline::levels(&prepared)
                .into_iter()
                .map(Level::as_str)
                .collect();
            let route = if method.is_empty() || method == resource {
                resource.clone()
            } else {
                format!("{method} {resource}")
            };
            say!("  {route}: {}", levels.join(" → "));
        }
    }
    for plan in &config.usage_plans {
        say!(
            "usage plan {}: stages {}, throttle {}, quota {}",
            plan.id,
            plan.api_stages
                .iter()
                .map(|s| stage_label(&s.api_id, &s.stage))
                .collect::<Vec<_>>()
                .join(", "),
            plan.throttle.map_or("none".to_string(), |t| format!(
                "{} rps / {}",
                t.rate, t.burst
            )),
            plan.quota.map_or("none".to_string(), |q| format!(
                "{} per {:?} (offset {})",
                q.limit, q.period, q.offset
            ))
        );
        if !plan.usage.is_empty() {
            say!(
                "  usage already counted for {} key(s), {} day(s)",
                plan.usage.len(),
                plan.usage.values().map(|d| d.len()).sum::<usize>()
            );
        }
    }
    say!("api keys: {}", config.api_keys.len());
    for unknown in config.unknowns() {
        eprintln!("gwstat: warning: {}: {unknown}", path.display());
    }
    say!("{}: ok", path.display());
    super::output::print_wrapped(&out)?;
    Ok(Outcome::Ok)
}

/// Every `*.json` file under `paths` (directories recursively, in name order).
fn json_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("cannot read {}", path.display()))?;
            entries.sort();
            let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
                entries.into_iter().partition(|p| p.is_dir());
            out.extend(
                files
                    .into_iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "json")),
            );
            out.extend(json_files(&dirs)?);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn import_account_command(args: &ImportArgs) -> Result<crate::gateway::GatewayConfig> {
    let mut ids = std::collections::BTreeMap::new();
    for spec in &args.api_ids {
        let Some((id, file)) = spec.split_once('=') else {
            bail!("--api-id {spec:?}: expected ID=FILE");
        };
        ids.insert(PathBuf::from(file), id.to_string());
    }
    let files = json_files(&args.paths)?
        .into_iter()
        .map(|path| {
            Ok(AccountFile {
                text: read(&path)?,
                id: ids.remove(&path),
                path,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(path) = ids.keys().next() {
        bail!(
            "--api-id names {}, which is not among the imported files",
            path.display()
        );
    }
    let (config, notes) = import_account(&files)?;
    for note in notes {
        eprintln!("gwstat: {note}");
    }
    Ok(config)
}

/// `--from-aws`: reads the account's documents and imports them as saved files would be.
fn import_from_aws(args: &ImportArgs) -> Result<crate::gateway::GatewayConfig> {
    let request = AccountRequest {
        page_size: args.page_size,
        usage_days: args.usage_days,
        today: Some(chrono::Utc::now().date_naive()),
    };
    let progress = std::sync::Arc::new(Progress::default());
    let read = run_with_progress(
        &args.aws,
        false,
        progress.clone(),
        |items, pages, _| format!("reading API Gateway: {items} items, {pages} calls"),
        |config| async move {
            let rest = aws_sdk_apigateway::Client::new(&config);
            let v2 = aws_sdk_apigatewayv2::Client::new(&config);
            fetch_account(&rest, &v2, &request, &progress).await
        },
    )?;
    for warning in &read.warnings {
        eprintln!("gwstat: warning: {warning}");
    }
    if let Some(dir) = &args.save {
        Document::write_all(&read.documents, dir)?;
    }
    if read.documents.is_empty() {
        bail!("AWS returned no APIs, usage plans or account settings to import (check --region and --profile)");
    }
    // In the order `json_files` lists the saved directory (a directory's files, then its
    // subdirectories), so that both give the same gateway.toml.
    let mut documents: Vec<&Document> = read.documents.iter().collect();
    documents.sort_by_cached_key(|doc| {
        let path = Path::new(&doc.name);
        let mut key: Vec<(bool, String)> = path
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .map(|c| (true, c.as_os_str().to_string_lossy().into_owned()))
            .collect();
        key.push((false, doc.name.clone()));
        key
    });
    let files: Vec<AccountFile> = documents
        .into_iter()
        .map(|doc| AccountFile {
            path: PathBuf::from(&doc.name),
            text: String::from_utf8_lossy(&doc.bytes).into_owned(),
            id: None,
        })
        .collect();
    let (config, notes) = import_account(&files)?;
    for note in notes {
        eprintln!("gwstat: {note}");
    }
    Ok(config)
}

fn import_command(args: ImportArgs) -> Result<Outcome> {
    if !args.from_aws
        && (args.aws.profile.is_some()
            || args.aws.region.is_some()
            || args.aws.endpoint_url.is_some())
    {
        bail!("--profile, --region and --endpoint-url go with --from-aws (files are imported without AWS)");
    }
    if args.from_aws {
        let config = import_from_aws(&args)?;
        return write_config(&config, args.output.as_deref());
    }
    let legacy = !args.stages.is_empty()
        || !args.http_stages.is_empty()
        || args.usage_plans.is_some()
        || !args.usage_plan_keys.is_empty()
        || args.account.is_some()
        || !args.usage.is_empty();
    if !args.paths.is_empty() {
        if legacy {
            bail!("give either paths of AWS CLI outputs (recognised by content) or the --stage/--usage-plans/… flags, not both");
        }
        let config = import_account_command(&args)?;
        return write_config(&config, args.output.as_deref());
    }
    if args.stages.is_empty() && args.http_stages.is_empty() && args.usage_plans.is_none() {
        bail!("give AWS CLI outputs (files or directories), or at least one --stage, --http-stage or --usage-plans file");
    }
    let sources = AwsSources {
        rest_stages: args.stages.iter().map(|p| read(p)).collect::<Result<_>>()?,
        http_stages: args
            .http_stages
            .iter()
            .map(|p| read(p))
            .collect::<Result<_>>()?,
        usage_plans: args.usage_plans.as_deref().map(read).transpose()?,
        usage_plan_keys: args
            .usage_plan_keys
            .iter()
            .map(|arg| {
                let Some((plan, file)) = arg.split_once('=') else {
                    bail!("--usage-plan-keys {arg:?}: expected PLAN_ID=FILE");
                };
                Ok((plan.to_string(), read(Path::new(file))?))
            })
            .collect::<Result<_>>()?,
        account: args.account.as_deref().map(read).transpose()?,
        usage: args.usage.iter().map(|p| read(p)).collect::<Result<_>>()?,
    };
    let config = import(&sources)?;
    write_config(&config, args.output.as_deref())
}

fn write_config(config: &crate::gateway::GatewayConfig, output: Option<&Path>) -> Result<Outcome> {
    let text = format!(
        "# gateway.toml imported by gwstat from AWS CLI output; see docs/gateway.md\n{}",
        toml::to_string_pretty(config).context("writing TOML")?
    );
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(Outcome::Ok)
}
