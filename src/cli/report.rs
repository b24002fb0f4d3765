//! `gwstat report`: API Gateway access logs to a report.
//!
//! ```text
//! gwstat report access.log                      # table on a terminal
//! gwstat report logs/ 'more/*.jsonl' - --format json > report.json
//! gwstat report sample-logs/ --since 2026-11-24T10:00Z --until +2h --stage prod --status 5xx,!504
//! ```

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::inputs::InputArgs;
use super::metrics::read_metric_inputs;
pub use super::output::ColorChoice;
use super::Outcome;
use crate::aggregate::templates::{openapi_templates, RouteTemplates, DEFAULT_SEGMENT_CARDINALITY};
use crate::analyze::AnalyzeOptions;
use crate::facts::REST_INTEGRATION_TIMEOUT_MS;
use crate::filter::{RequestFilter, StatusFilter, TimeBound, Window};
use crate::kind::{classify_all, InputKind};
use crate::metrics::analyze::{build_metrics_report, MetricsOptions};
use crate::metrics::naming::Queries;
use crate::plan::{self, ReportPlan};
use crate::report::{renderer, OutputFormat, RenderOptions, Report};

/// Arguments of `gwstat report`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat report sample-logs/
  gwstat report access.log --stage prod --status 5xx --since -1h
  gwstat report today/ --compare yesterday/
  gwstat report --follow access.log --window 5m
  gwstat report logs/ --format html -o report.html
  gwstat report sample-logs/ --section verdict
  gwstat report sample-logs/ --section throttling,keys --api-key burst4r8qz

Exit codes: 0 ok, 1 failure (an error, a refused input, skipped lines or invalid fields with --strict), 2 usage error.")]
pub struct ReportArgs {
    /// Inputs and how to decode them.
    #[command(flatten)]
    pub input: InputArgs,

    /// Read CloudWatch Logs instead of files (--since/--until then count from now).
    #[command(flatten)]
    pub aws: super::fetch::LogGroupArgs,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show only these parts of the report, in their usual order (repeatable or
    /// comma-separated; table, Markdown and HTML: JSON and CSV always hold everything).
    /// Default: the verdict, then every table but the full list of findings.
    #[arg(long, value_enum, value_name = "NAME", value_delimiter = ',')]
    pub section: Vec<crate::report::Section>,

    /// Longest list in each section (0 = all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// Keep requests at or after this time: RFC 3339 (2026-11-24T10:00Z) or relative to
    /// --until (-3h); alone, relative to the last request.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,

    /// Keep requests before this time: RFC 3339 or relative to --since (+2h); alone,
    /// relative to the first request.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,

    /// Keep only these stages (repeatable or comma-separated).
    #[arg(long, value_name = "STAGE", value_delimiter = ',')]
    pub stage: Vec<String>,

    /// Keep routes matching this glob, against `METHOD /path` or `/path` (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub route: Vec<String>,

    /// Keep only these HTTP methods (repeatable or comma-separated).
    #[arg(long, value_name = "METHOD", value_delimiter = ',')]
    pub method: Vec<String>,

    /// Keep statuses: codes and classes, comma-separated, `!` excludes (5xx,!504,429).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub status: Option<String>,

    /// Keep only these API key IDs (repeatable or comma-separated).
    #[arg(long, value_name = "KEY", value_delimiter = ',')]
    pub api_key: Vec<String>,

    /// Integration timeout in ms, for the timeouts section (raised REST limits, 30000 for
    /// HTTP APIs).
    #[arg(long, value_name = "MS", default_value_t = REST_INTEGRATION_TIMEOUT_MS)]
    pub integration_timeout_ms: u64,

    /// Time bin for the timeline, charts and sparklines (30s, 1m, 5m, 1h); default: at most
    /// 120 bins over the range.
    #[arg(long, value_name = "DURATION")]
    pub bin: Option<String>,

    /// Compare with a baseline period: these inputs (file, directory, glob, s3:// URL;
    /// repeatable) are read the same way and shown per route against the main inputs,
    /// biggest regressions first. Time filters apply to the main inputs only.
    #[arg(long, value_name = "INPUT")]
    pub compare: Vec<String>,

    /// Follow the (single) input as it grows — a file (rotation and truncation handled) or
    /// `-` — and refresh the report every --interval over the last --window of requests.
    /// Ctrl-C ends with a final report. JSON output is one report per line (NDJSON).
    #[arg(long)]
    pub follow: bool,

    /// With --follow: the sliding window, by request time.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        requires = "follow"
    )]
    pub window: String,

    /// With --follow: how often the report is refreshed.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        requires = "follow"
    )]
    pub interval: String,

    /// Where the aggregations run: `auto` (default) streams when it can, else builds the
    /// table; `stream` folds the aggregates while reading, in one pass and bounded memory
    /// (any input size); `table` keeps every decoded request, then folds them
    /// into the same aggregates;
    /// `insights` runs them inside CloudWatch Logs Insights over the --log-group(s) and
    /// reads back only the aggregates; `athena` runs them as SQL inside Amazon Athena over
    /// --athena-table (an S3 archive). All give the same report (Insights: its own
    /// percentiles).
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,

    /// With --engine insights or athena: print the queries and run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where and how --engine athena runs.
    #[command(flatten)]
    pub athena: super::athena::AthenaArgs,

    /// With --engine insights: most queries running at once (the account's Logs Insights
    /// concurrency limit is shared with other users of it).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub insights_concurrency: usize,

    /// With --follow: stop after this long (a final report is written).
    #[arg(long, value_name = "DURATION", requires = "follow")]
    pub stop_after: Option<String>,

    /// Mask API key ids (stable pseudonyms such as key-3f9a1c), client IPs and user
    /// identities in every output format, to share a report outside the team.
    #[arg(long)]
    pub redact: bool,

    /// Exit with status 1 if any line could not be decoded or any value was implausible
    /// (an invalid field); the report is still written.
    #[arg(long)]
    pub strict: bool,

    /// A route template for logs that name only a raw path (`$context.path`):
    /// `GET /users/{id}`, or `/users/{id}` for every method; a trailing `{proxy+}` takes the
    /// rest of the path. The most specific matching template wins (repeatable).
    #[arg(long, value_name = "TEMPLATE")]
    pub route_template: Vec<String>,

    /// Route templates from a gateway.toml: its stages' routes and method settings.
    #[arg(long, value_name = "FILE")]
    pub gateway: Option<PathBuf>,

    /// Route templates from an OpenAPI 3 or Swagger 2 export in JSON (`aws apigateway
    /// get-export --export-type oas30`; repeatable).
    #[arg(long, value_name = "FILE")]
    pub openapi: Vec<PathBuf>,

    /// Raw paths without a template: a segment position with more than N distinct values
    /// under one parent path becomes `{id}` (numbers, UUIDs, hex and long tokens always do;
    /// 0 turns this rule off).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEGMENT_CARDINALITY)]
    pub segment_cardinality: usize,

    /// Colour in table output: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Settings from gwstat.toml (route aliases and groups, SLOs), filled in by the CLI.
    #[arg(skip)]
    pub settings: Box<super::settings::Settings>,
}

/// Where the report's aggregations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Here, streaming when the options allow it (else the table).
    #[value(alias = "local")]
    Auto,
    /// Here, aggregated while reading: one pass, memory bounded by the data's cardinality.
    Stream,
    /// Here, from every decoded request kept first (needed by --compare, metrics
    /// reconciliation, execution logs and a lone relative --since/--until).
    Table,
    /// Inside CloudWatch Logs Insights (StartQuery/GetQueryResults).
    Insights,
    /// Inside Amazon Athena, over a table of access logs in S3 (exact building blocks).
    Athena,
}

/// Runs `gwstat report`.
pub fn run(args: ReportArgs) -> Result<Outcome> {
    if args.engine == Engine::Insights {
        if route_templates_given(&args) {
            anyhow::bail!(
                "--engine insights groups routes as the log names them: route templates \
                 (--route-template, --gateway, --openapi) need --engine stream or table"
            );
        }
        let plan = plan(&args)?;
        let query = super::insights::InsightsQuery {
            aws: &args.aws,
            since: args.since.as_deref(),
            until: args.until.as_deref(),
            concurrency: args.insights_concurrency,
            dry_run: args.dry_run,
            files: !args.input.inputs.is_empty(),
            unsupported: local_only(&args),
        };
        if let Some(report) = super::insights::run(&plan, &query)? {
            write_report(&report, &args)?;
        }
        return Ok(Outcome::Ok);
    }
    if args.engine == Engine::Athena {
        let plan = plan(&args)?;
        let query = super::athena::AthenaQuery {
            athena: &args.athena,
            aws: &args.aws,
            since: args.since.as_deref(),
            until: args.until.as_deref(),
            dry_run: args.dry_run,
            files: !args.input.inputs.is_empty(),
            unsupported: {
                let [a, b, c, d, e, f, g] = local_only(&args);
                let templates = "route templates (--route-template, --gateway, --openapi)";
                [
                    a,
                    b,
                    c,
                    d,
                    e,
                    f,
                    g,
                    (route_templates_given(&args), templates),
                ]
            },
        };
        if let Some(report) = super::athena::run(&plan, &query)? {
            write_report(&report, &args)?;
        }
        return Ok(Outcome::Ok);
    }
    if args.dry_run {
        anyhow::bail!("--dry-run goes with --engine insights or athena");
    }
    let mut plan = plan(&args)?;
    if args.follow {
        return super::follow::run(
            &plan,
            &super::follow::FollowArgs {
                inputs: &args.input.inputs,
                window: &args.window,
                interval: &args.interval,
                stop_after: args.stop_after.as_deref(),
                format: args.format,
                output: args.output.as_deref(),
            },
        );
    }
    let fetched = FetchedDir::new(&args, &mut plan.filter)?;
    let (given, objects_skipped) = match &fetched {
        Some(dir) => (
            crate::source::expand(&[dir.0.display().to_string()])?,
            Default::default(),
        ),
        // S3 keys outside a window known before reading are not read.
        None => {
            let window = plan.filter.fixed_window().and_then(Result::ok);
            args.input
                .inputs_within(&args.aws.aws, window.unwrap_or_default())?
        }
    };
    // Each input's kind, told once: metric files (and their query files) go to the
    // reconciliation; X-Ray files are for `gwstat traces`; the rest are logs.
    let classified = classify_all(&given)?;
    let mut queries = Queries::default();
    let (metric_sources, others) = read_metric_inputs(&classified, &mut queries)?;
    let mut inputs = Vec::new();
    let mut execution_logs = false;
    for c in others {
        if let InputKind::Traces(_) = c.kind {
            if !args.input.quiet {
                eprintln!(
                    "gwstat: {}: X-Ray traces, skipped (see gwstat traces)",
                    c.input.name()
                );
            }
        } else {
            execution_logs |= c.kind == InputKind::ExecutionLog;
            inputs.push(c.input);
        }
    }
    let metrics = (!metric_sources.is_empty()).then(|| {
        build_metrics_report(
            metric_sources,
            &MetricsOptions {
                bin_seconds: None,
                top: args.top,
            },
        )
    });
    let mut report = plan.report(&inputs, metrics.as_ref(), execution_logs)?;
    report.inputs.objects_skipped = objects_skipped;
    finish(&report, &args)
}

/// The flags only the local engines honour, each with whether it was given: the remote
/// engines (insights, athena) refuse the ones that are on.
fn local_only(args: &ReportArgs) -> [(bool, &'static str); 7] {
    [
        (args.follow, "--follow"),
        (!args.compare.is_empty(), "--compare"),
        (!args.stage.is_empty(), "--stage"),
        (!args.route.is_empty(), "--route"),
        (!args.method.is_empty(), "--method"),
        (args.status.is_some(), "--status"),
        (!args.api_key.is_empty(), "--api-key"),
    ]
}

/// Whether route templates were asked for (--route-template, --gateway, --openapi).
fn route_templates_given(args: &ReportArgs) -> bool {
    !args.route_template.is_empty() || args.gateway.is_some() || !args.openapi.is_empty()
}

/// The library's plan for this report, from the flags (and the settings they hold): the one
/// place where `gwstat report`'s flags become the pipeline's options.
pub fn plan(args: &ReportArgs) -> Result<ReportPlan> {
    Ok(ReportPlan {
        decode: args.input.decode_options()?,
        quiet: args.input.quiet,
        filter: request_filter(args)?,
        engine: match args.engine {
            Engine::Auto | Engine::Insights | Engine::Athena => plan::Engine::Auto,
            Engine::Stream => plan::Engine::Stream,
            Engine::Table => plan::Engine::Table,
        },
        analysis: AnalyzeOptions {
            top: args.top,
            timeout_ms: args.integration_timeout_ms,
            bin_seconds: super::metrics::bin_seconds(args.bin.as_deref())?,
        },
        templates: Arc::new(route_templates(args)?),
        routes: args.settings.routes.clone(),
        slos: args.settings.slo.clone(),
        // Listed here (S3 too) for the local engines; the remote ones refuse --compare.
        compare: match args.engine {
            Engine::Insights | Engine::Athena => Vec::new(),
            _ if args.compare.is_empty() => Vec::new(),
            _ => {
                super::inputs::resolve(
                    &args.compare,
                    &args.aws.aws,
                    Window::default(),
                    args.input.quiet,
                )
                .context("--compare")?
                .0
            }
        },
        redact: args.redact,
        next_command: next_command(args),
    })
}

/// Writes the report; the exit outcome from its skipped lines.
fn finish(report: &Report, args: &ReportArgs) -> Result<Outcome> {
    write_report(report, args)?;
    let files = report.inputs.files.iter();
    let refused: Vec<_> =
        crate::ingest::refused(files.map(|f| (f.name.as_str(), f.format.as_str()))).collect();
    for (name, why) in &refused {
        eprintln!("gwstat: {name}: {why}");
    }
    if !refused.is_empty() {
        eprintln!(
            "gwstat: {} input(s) refused; the report covers the others",
            refused.len()
        );
        return Ok(Outcome::Refused);
    }

    let skipped = report.inputs.skipped;
    if skipped > 0 && !args.input.quiet && args.format != OutputFormat::Table {
        eprintln!("gwstat: {skipped} line(s) could not be decoded (see inputs.skipped_by_reason)");
    }
    let invalid = report.inputs.invalid_fields;
    if invalid > 0 && !args.input.quiet && args.format != OutputFormat::Table {
        eprintln!(
            "gwstat: {invalid} implausible value(s) left out (see inputs.invalid_fields_by_reason)"
        );
    }
    if args.strict && skipped + invalid > 0 {
        if !args.input.quiet {
            eprintln!("gwstat: --strict: {skipped} line(s) skipped, {invalid} invalid field(s)");
        }
        return Ok(Outcome::StrictViolation);
    }
    Ok(Outcome::Ok)
}

/// Renders the report in the chosen format to --output or stdout.
fn write_report(report: &Report, args: &ReportArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let render = renderer(
        args.format,
        RenderOptions {
            sections: crate::report::Sections::only(&args.section),
            ..super::output::render_options(to_terminal, args.color)
        },
    );
    // A file is written beside its final name and renamed into place: never half written.
    super::output::write_output(args.output.as_deref(), |out| render.render(report, out))
}

/// The route templates from `--route-template`, `--gateway` and `--openapi`, with the
/// cardinality rule's threshold.
fn route_templates(args: &ReportArgs) -> Result<RouteTemplates> {
    let mut explicit = args.route_template.clone();
    if let Some(path) = &args.gateway {
        let config = super::gateway::load_config(path)?;
        for stage in &config.stages {
            explicit.extend(stage.routes.iter().cloned());
            explicit.extend(
                stage
                    .methods
                    .keys()
                    .filter_map(|key| crate::gateway::config::method_key(key))
                    .filter(|(resource, _)| resource.starts_with('/'))
                    .map(|(resource, method)| format!("{method} {resource}")),
            );
        }
    }
    for path in &args.openapi {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let document: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not JSON (--openapi reads the JSON export: aws apigateway get-export \
                 --export-type oas30 --accepts application/json)",
                path.display()
            )
        })?;
        let templates = openapi_templates(&document).with_context(|| {
            format!(
                "{}: not an OpenAPI 3 or Swagger 2 document (no openapi/swagger and paths)",
                path.display()
            )
        })?;
        explicit.extend(templates);
    }
    for template in &args.route_template {
        let path = template
            .split_once(' ')
            .map_or(template.as_str(), |(_, p)| p);
        if !path.starts_with('/') {
            anyhow::bail!(
                "--route-template {template:?}: give METHOD /path or /path (e.g. GET /users/{{id}})"
            );
        }
    }
    Ok(RouteTemplates::new(&explicit, args.segment_cardinality))
}

/// How next commands in findings begin: these inputs and the flags that narrowed the report
/// (API keys left out with --redact).
fn next_command(args: &ReportArgs) -> crate::analyze::findings::NextCommand {
    let inputs = if args.input.inputs.is_empty() {
        args.aws
            .log_groups
            .iter()
            .flat_map(|g| ["--log-group".to_string(), g.clone()])
            .collect()
    } else {
        args.input.inputs.clone()
    };
    let mut narrowing = Vec::new();
    let mut add = |flag: &str, values: &[String]| {
        for v in values {
            narrowing.push((flag.to_string(), v.clone()));
        }
    };
    add("--stage", &args.stage);
    add("--route", &args.route);
    add("--method", &args.method);
    if !args.redact {
        add("--api-key", &args.api_key);
    }
    for (flag, value) in [
        ("--status", &args.status),
        ("--since", &args.since),
        ("--until", &args.until),
    ] {
        add(flag, value.as_slice());
    }
    crate::analyze::findings::NextCommand {
        start: crate::analyze::findings::invocation(&inputs),
        narrowing,
    }
}

/// A temporary directory holding what `--log-group` read, removed when dropped.
struct FetchedDir(std::path::PathBuf);

impl FetchedDir {
    /// Reads the log groups (if any) for the report's time range, which then becomes an
    /// absolute filter.
    fn new(args: &ReportArgs, filter: &mut RequestFilter) -> Result<Option<FetchedDir>> {
        if args.aws.log_groups.is_empty() {
            return Ok(None);
        }
        if !args.input.inputs.is_empty() {
            anyhow::bail!("give --log-group or input files, not both");
        }
        let range = super::window::aws_range(
            args.since.as_deref().unwrap_or("-1h"),
            args.until.as_deref(),
            super::window::now_ms(),
        )?;
        filter.since = Some(TimeBound::At(range.0));
        filter.until = Some(TimeBound::At(range.1));
        let dir = std::env::temp_dir().join(format!(
            "gwstat-logs-{}-{}",
            std::process::id(),
            super::window::now_ms()
        ));
        let guard = FetchedDir(dir);
        super::fetch::fetch_logs(&args.aws, range, &guard.0, false, args.input.quiet)?;
        Ok(Some(guard))
    }
}

impl Drop for FetchedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn request_filter(args: &ReportArgs) -> Result<RequestFilter> {
    Ok(RequestFilter {
        since: args.since.as_deref().map(TimeBound::parse).transpose()?,
        until: args.until.as_deref().map(TimeBound::parse).transpose()?,
        stages: args.stage.clone(),
        routes: args
            .route
            .iter()
            .map(|r| RequestFilter::route_pattern(r))
            .collect::<Result<_, _>>()?,
        methods: args.method.clone(),
        status: args
            .status
            .as_deref()
            .map(StatusFilter::parse)
            .transpose()?,
        api_keys: args.api_key.clone(),
    })
}
