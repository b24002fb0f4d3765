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
use crate::aggregate::templates::{
    openapi_templates, sources_by_code, RouteTemplates, DEFAULT_SEGMENT_CARDINALITY,
};
use crate::aggregate::{fold_columns, Accumulator, AggregateOptions};
use crate::analyze::compare::{compare, route_profiles};
use crate::analyze::reconcile::{cache_from_metrics, reconcile};
use crate::analyze::{build_report, AnalyzeOptions};
use crate::facts::REST_INTEGRATION_TIMEOUT_MS;
use crate::filter::{RequestFilter, StatusFilter, TimeBound, Window};
use crate::ingest::{
    add_execution_requests, ingest, ingest_into, FieldLog, IngestOptions, Ingested, InputSummary,
    RequestSink, SkipLog,
};
use crate::kind::{classify_all, InputKind};
use crate::metrics::analyze::{build_metrics_report, MetricsOptions};
use crate::metrics::naming::Queries;
use crate::metrics::report::MetricsReport;
use crate::model::RequestTable;
use crate::report::{
    renderer, InputFile, Inputs, OutputFormat, RenderOptions, Report, RequestSource, SloCheck,
};
use crate::source::Input;

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

    /// Compare with a baseline period: these inputs (file, directory, glob; repeatable) are
    /// read the same way and shown per route against the main inputs, biggest regressions
    /// first. Time filters apply to the main inputs only.
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
    let decode = args.input.decode_options()?;
    let filter = request_filter(&args)?;
    if args.engine == Engine::Insights {
        if !args.route_template.is_empty() || args.gateway.is_some() || !args.openapi.is_empty() {
            anyhow::bail!(
                "--engine insights groups routes as the log names them: route templates \
                 (--route-template, --gateway, --openapi) need --engine stream or table"
            );
        }
        return super::insights::run(&args, &decode);
    }
    if args.engine == Engine::Athena {
        return super::athena::run(&args, &decode);
    }
    if args.dry_run {
        anyhow::bail!("--dry-run goes with --engine insights or athena");
    }
    if args.follow {
        return super::follow::run(&args, &filter);
    }
    let mut filter = filter;
    let fetched = FetchedDir::new(&args, &mut filter)?;
    let given = match &fetched {
        Some(dir) => crate::source::expand(&[dir.0.display().to_string()])?,
        None => args.input.inputs()?,
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
    // Execution logs are joined to the access logs by request ID, which only the table keeps.
    let mut options = IngestOptions {
        decode,
        quiet: args.input.quiet,
        keep_request_ids: execution_logs,
    };
    let window = match stream_window(&args, &filter, metrics.is_some(), execution_logs)? {
        _ if args.engine == Engine::Table => None,
        Ok(window) => Some(window),
        Err(reason) if args.engine == Engine::Stream => {
            anyhow::bail!("--engine stream cannot {reason}; use --engine table (or auto)")
        }
        Err(_) => None,
    };
    // Stdin cannot be read twice: the table keeps its request IDs from the first read, in
    // case it holds execution logs (they cannot be sniffed ahead).
    let stdin = inputs.contains(&Input::Stdin);
    if let Some(window) = window {
        match stream(&inputs, &options, &filter, window, &args)? {
            Some(report) => return finish(&report, &args),
            None if stdin => anyhow::bail!(
                "the standard input holds execution logs, found only after it was read: give \
                 it as a file, or use --engine table"
            ),
            // Execution logs the first bytes did not show: the table joins them on request IDs.
            None => options.keep_request_ids = true,
        }
    }
    options.keep_request_ids |= stdin;
    let mut ingested = ingest(&inputs, &options)?;
    if !ingested.executions.by_request.is_empty()
        && !ingested.columns.is_empty()
        && !options.keep_request_ids
    {
        // Joining needs the access logs' request IDs, kept only when asked for.
        options.keep_request_ids = true;
        ingested = ingest(&inputs, &options)?;
    }
    let report = analyze(ingested, &filter, &args, metrics.as_ref())?;
    finish(&report, &args)
}

/// The time window the streaming engine filters by, or why it cannot make this report.
fn stream_window(
    args: &ReportArgs,
    filter: &RequestFilter,
    metrics: bool,
    execution_logs: bool,
) -> Result<std::result::Result<Window, &'static str>> {
    if !args.compare.is_empty() {
        return Ok(Err("compare with a baseline (--compare)"));
    }
    if metrics {
        return Ok(Err("reconcile with CloudWatch metrics"));
    }
    if execution_logs {
        return Ok(Err("join execution logs with access logs"));
    }
    Ok(match filter.fixed_window() {
        Some(window) => Ok(window?),
        None => Err("resolve a lone relative --since/--until (it depends on the data's range)"),
    })
}

/// The report by the streaming engine; `None` when the inputs hold execution logs that their
/// first bytes did not show (their join needs the table), unless the engine was asked for by
/// name (then an error).
fn stream(
    inputs: &[Input],
    options: &IngestOptions,
    filter: &RequestFilter,
    window: Window,
    args: &ReportArgs,
) -> Result<Option<Report>> {
    let analysis = analyze_options(args)?;
    let aggregate = AggregateOptions {
        templates: Some(Arc::new(route_templates(args)?)),
        ..aggregate_options(&analysis, filter.clone(), window)
    };
    let ingested = ingest_into(inputs, options, Accumulator::new(Arc::new(aggregate)))?;
    if !ingested.executions.by_request.is_empty() {
        if args.engine == Engine::Stream {
            anyhow::bail!(
                "--engine stream cannot join execution logs with access logs; use --engine \
                 table (or auto)"
            );
        }
        return Ok(None);
    }
    let acc = ingested.columns;
    if acc.records > 0 && acc.kept == 0 && filter.is_active() && !args.input.quiet {
        // Nothing matched: read the inputs again as a table to name the nearest values.
        if inputs.contains(&Input::Stdin) {
            eprintln!("gwstat: no request matches the filters");
        } else {
            let table = ingest(inputs, options)?;
            warn_nothing_matches(filter, &table.columns, false);
        }
    }
    let mut acc = acc.collapse_routes();
    if let Some(rename) = args.settings.route_renamer() {
        let mut renamed = acc.fresh();
        renamed.merge(acc, Some(&rename));
        acc = renamed;
    }
    let inputs = inputs_of(
        ingested.inputs,
        &ingested.skipped,
        &ingested.invalid,
        acc.records,
        acc.records - acc.kept,
    );
    let mut report = build_report(acc.into_aggregates(), inputs, &analysis);
    check_slos_and_redact(&mut report, args);
    Ok(Some(report))
}

/// Says on stderr why no request passes `filter`, naming the nearest values that exist (the
/// report is still written and the exit code stays 0: an empty answer is an answer).
fn warn_nothing_matches(
    filter: &RequestFilter,
    columns: &crate::model::RequestColumns,
    quiet: bool,
) {
    if quiet {
        return;
    }
    for line in filter.why_nothing_matches(columns) {
        eprintln!("gwstat: no request matches the filters: {line}");
    }
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
pub(super) fn write_report(report: &Report, args: &ReportArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = !no_color
        && match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => to_terminal,
        };
    let render = renderer(
        args.format,
        RenderOptions {
            color,
            width: Some(super::terminal::width(to_terminal)),
            sections: crate::report::Sections::only(&args.section),
        },
    );
    // A file is written beside its final name and renamed into place: never half written.
    super::output::write_output(args.output.as_deref(), |out| render.render(report, out))
}

/// Ingested requests to the report: filters, settings, sections, reconciliation, comparison.
pub(super) fn analyze(
    mut ingested: Ingested,
    filter: &RequestFilter,
    args: &ReportArgs,
    metrics: Option<&MetricsReport>,
) -> Result<Report> {
    let mut ingested_executions = std::mem::take(&mut ingested.executions);
    // Execution logs count as requests too, once each (joined to access logs by request ID).
    let access_records = ingested.columns.len();
    let counts = (!ingested_executions.by_request.is_empty())
        .then(|| add_execution_requests(&ingested_executions, &mut ingested));
    let source = match &counts {
        Some(counts) => match (access_records, counts.added + counts.completed) {
            (0, _) => RequestSource::Execution,
            (_, 0) => RequestSource::Access,
            _ => RequestSource::AccessAndExecution,
        },
        None => RequestSource::Access,
    };
    let records = ingested.columns.len() as u64;
    let templates = route_templates(args)?;
    let sources = templates.apply(&mut ingested.columns.route);
    args.settings.apply_routes(&mut ingested.columns);
    let mask = filter.mask(&ingested.columns)?;
    warn_nothing_matches(filter, &ingested.columns, args.input.quiet);
    // Execution records are the filtered requests' (joined by request ID).
    let ids_logged = ingested.columns.request_id.iter().any(Option::is_some);
    if let Some(mask) = mask.as_ref().filter(|_| ids_logged) {
        let kept: std::collections::HashSet<&str> = ingested
            .columns
            .request_id
            .iter()
            .zip(mask)
            .filter(|(_, keep)| **keep)
            .filter_map(|(id, _)| id.as_deref())
            .collect();
        ingested_executions
            .by_request
            .retain(|id, _| kept.contains(id.as_str()));
    } else if filter.is_active() && !ingested_executions.by_request.is_empty() && !args.input.quiet
    {
        eprintln!("gwstat: the filters apply to access-log requests; execution logs are not filtered (no access log with request IDs to join them to)");
    }
    let execution = counts
        .filter(|_| !ingested_executions.by_request.is_empty())
        .map(|counts| {
            // Joined: with the access log's own requests (the rows before the added ones).
            let access_ids = ingested.columns.request_id.iter().take(access_records);
            let mut summary = crate::analyze::execution::execution_summary(
                &ingested_executions,
                access_ids.flatten().map(|id| &**id),
                args.top,
            );
            summary.requests_added = counts.added;
            summary.requests_completed = counts.completed;
            summary
        });
    // WebSocket events are no requests to compare with a baseline, route by route (nor with
    // metrics: `reconcile` leaves them out).
    let http = ingested.columns.http_rows(mask.as_deref());
    let reconciliation = metrics
        .map(|m| reconcile(&ingested.columns, filter, m))
        .transpose()?;
    let options = analyze_options(args)?;
    let mut acc = fold_columns(
        &ingested.columns,
        mask.as_deref(),
        aggregate_options(&options, RequestFilter::default(), Window::default()),
    );
    acc.route_sources = sources_by_code(&acc.names.routes, &sources);
    let inputs = inputs_of(
        ingested.inputs,
        &ingested.skipped,
        &ingested.invalid,
        records,
        records - acc.kept,
    );
    let mut report = build_report(acc.into_aggregates(), inputs, &options);
    report.inputs.request_source = source;
    report.execution = execution;
    if let Some(cache) =
        crate::analyze::execution::cache_from_executions(&ingested_executions, args.top)
    {
        report.cache = cache;
    }
    if let Some(cache) = metrics.and_then(|m| cache_from_metrics(m, filter, args.top)) {
        report.cache = cache;
    }
    report.reconciliation = reconciliation;
    if !args.compare.is_empty() {
        let table = RequestTable::build(ingested.columns, http.as_deref())
            .context("building the request table")?;
        report.comparison = Some(compare_with_baseline(&table, filter, args)?);
    }
    check_slos_and_redact(&mut report, args);
    Ok(report)
}

/// The analysis options from the flags.
fn analyze_options(args: &ReportArgs) -> Result<AnalyzeOptions> {
    Ok(AnalyzeOptions {
        top: args.top,
        timeout_ms: args.integration_timeout_ms,
        bin_seconds: super::metrics::bin_seconds(args.bin.as_deref())?,
    })
}

/// What the accumulators need: the filters (relative bounds resolved into `window`) and
/// the analysis options that change what is counted.
fn aggregate_options(
    analysis: &AnalyzeOptions,
    filter: RequestFilter,
    window: Window,
) -> AggregateOptions {
    AggregateOptions {
        filter,
        window,
        timeout_ms: analysis.timeout_ms,
        bin_seconds: analysis.bin_seconds,
        templates: None,
    }
}

/// The route templates from `--route-template`, `--gateway` and `--openapi`, with the
/// cardinality rule's threshold.
pub(super) fn route_templates(args: &ReportArgs) -> Result<RouteTemplates> {
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

/// The report's `inputs` section.
fn inputs_of(
    files: Vec<InputSummary>,
    skipped: &SkipLog,
    invalid: &FieldLog,
    records: u64,
    filtered_out: u64,
) -> Inputs {
    Inputs {
        files: files
            .into_iter()
            .map(|i| InputFile {
                name: i.name,
                format: i.format,
                records: i.records,
                skipped: i.skipped,
            })
            .collect(),
        records,
        filtered_out,
        skipped: skipped.total(),
        skipped_by_reason: skipped.counts(),
        skipped_samples: skipped.samples(),
        invalid_fields: invalid.total(),
        invalid_fields_by_reason: invalid.counts(),
        invalid_field_samples: invalid.samples(),
        request_source: RequestSource::Access,
    }
}

/// Route SLOs from the settings, checked against each route's p99; the findings from the
/// finished sections; then `--redact`.
fn check_slos_and_redact(report: &mut Report, args: &ReportArgs) {
    for route in &mut report.latency.by_route {
        let slo = route
            .route
            .as_deref()
            .and_then(|r| args.settings.slo_for(r));
        route.slo = slo.map(|slo| SloCheck {
            p99_ms: slo.p99_ms,
            breached: route.stats.latency_ms.p99.is_some_and(|p| p > slo.p99_ms),
        });
    }
    report.findings = crate::analyze::findings::findings(report, &next_command(args));
    if args.redact {
        crate::redact::report(report);
    }
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

/// Reads the `--compare` inputs with the same decoding and non-time filters and compares
/// them per route with `table`.
fn compare_with_baseline(
    table: &RequestTable,
    filter: &RequestFilter,
    args: &ReportArgs,
) -> Result<crate::report::Comparison> {
    let inputs = crate::source::expand(&args.compare)?;
    let mut ingested = ingest(
        &inputs,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: false,
        },
    )
    .context("reading the --compare inputs")?;
    route_templates(args)?.apply(&mut ingested.columns.route);
    args.settings.apply_routes(&mut ingested.columns);
    let baseline_filter = RequestFilter {
        since: None,
        until: None,
        ..filter.clone()
    };
    let mask = baseline_filter.mask(&ingested.columns)?;
    let options = analyze_options(args)?;
    let folded = fold_columns(
        &ingested.columns,
        mask.as_deref(),
        aggregate_options(&options, RequestFilter::default(), Window::default()),
    );
    let summary = crate::analyze::summary::summary_of(&folded.into_aggregates());
    let http = ingested.columns.http_rows(mask.as_deref());
    let baseline = RequestTable::build(ingested.columns, http.as_deref())
        .context("building the baseline table")?;
    let before = route_profiles(&baseline).context("analysing the baseline")?;
    let now = route_profiles(table).context("analysing requests")?;
    Ok(compare(
        &now,
        &before,
        &summary,
        inputs.iter().map(|i| i.name()).collect(),
        args.top,
    ))
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
