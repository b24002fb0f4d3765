//! The report pipeline and its options. A [`ReportPlan`] says what the report is made of:
//! how inputs are decoded, which requests are kept, where the aggregations run, how routes
//! are named and held to objectives, and what the analysis shows. The CLI builds one from its
//! flags (and `gwstat.toml`); nothing here knows of flags or files of settings.
//!
//! ```text
//! inputs ─▶ ingest (decode) ─▶ aggregates (stream: folded while reading; table: folded from
//!           the kept requests) ─▶ analyze (sections, findings) ─▶ Report
//! ```

mod routes;

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

pub use routes::{by_specificity, RouteNames, Slo, Slos};

use crate::aggregate::templates::{sources_by_code, RouteTemplates, TemplatedColumns};
use crate::aggregate::{fold_columns, Accumulator, AggregateOptions};
use crate::analyze::compare::{compare, route_profiles};
use crate::analyze::findings::NextCommand;
use crate::analyze::reconcile::{cache_from_metrics, reconcile};
use crate::analyze::{build_report, AnalyzeOptions};
use crate::decode::DecodeOptions;
use crate::filter::{RequestFilter, Window};
use crate::ingest::{
    add_execution_requests, ingest_into, FieldLog, IngestOptions, Ingested, InputSummary,
    RequestSink, SkipLog,
};
use crate::metrics::report::MetricsReport;
use crate::model::{RequestColumns, RequestTable};
use crate::report::{Comparison, InputFile, Inputs, Report, RequestSource, TemplateSource};
use crate::source::Input;
use crate::FastMap;

/// Where a local report's aggregations run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// Streaming when the plan allows it, else the table.
    #[default]
    Auto,
    /// Aggregated while reading: one pass, memory bounded by the data's cardinality.
    Stream,
    /// From every decoded request kept first (needed to compare with a baseline, reconcile
    /// with metrics, join execution logs and resolve a lone relative time bound).
    Table,
}

/// Everything the report pipeline needs to know besides its inputs.
#[derive(Debug, Clone, Default)]
pub struct ReportPlan {
    /// How access logs are decoded.
    pub decode: DecodeOptions,
    /// No progress and no notes on stderr.
    pub quiet: bool,
    /// Which requests the report covers.
    pub filter: RequestFilter,
    /// Where the aggregations run.
    pub engine: Engine,
    /// List lengths, the integration timeout and the time bin.
    pub analysis: AnalyzeOptions,
    /// The templates raw paths are matched against, and the inference rules.
    pub templates: Arc<RouteTemplates>,
    /// Route aliases and groups.
    pub routes: RouteNames,
    /// Latency objectives per route glob.
    pub slos: Slos,
    /// A baseline's inputs to compare with, route by route.
    pub compare: Vec<Input>,
    /// Mask API keys, client IPs and user identities.
    pub redact: bool,
    /// How the next commands suggested by the findings begin.
    pub next_command: NextCommand,
}

impl ReportPlan {
    /// The report over `inputs`, reconciled with `metrics` when given. `execution_logs`:
    /// whether any input is known to hold execution logs (their join needs the table).
    pub fn report(
        &self,
        inputs: &[Input],
        metrics: Option<&MetricsReport>,
        execution_logs: bool,
    ) -> Result<Report> {
        // Execution logs are joined to the access logs by request ID, which only the table
        // keeps.
        let mut options = IngestOptions {
            decode: self.decode.clone(),
            quiet: self.quiet,
            keep_request_ids: execution_logs,
        };
        let window = match self.stream_window(metrics.is_some(), execution_logs)? {
            _ if self.engine == Engine::Table => None,
            Ok(window) => Some(window),
            Err(reason) if self.engine == Engine::Stream => {
                bail!("--engine stream cannot {reason}; use --engine table (or auto)")
            }
            Err(_) => None,
        };
        // Stdin (or a named pipe) cannot be read twice: the table keeps its request IDs from
        // the first read, in case it holds execution logs (they cannot be sniffed ahead).
        let stdin = inputs.iter().any(Input::read_once);
        if let Some(window) = window {
            match self.stream(inputs, &options, window)? {
                Some(report) => return Ok(report),
                None if stdin => bail!(
                    "the standard input (or a named pipe) holds execution logs, found only after \
                     it was read: give it as a file, or use --engine table"
                ),
                // Execution logs the first bytes did not show: the table joins them on
                // request IDs.
                None => options.keep_request_ids = true,
            }
        }
        options.keep_request_ids |= stdin;
        let (mut ingested, mut known) = self.ingest_templated(inputs, &options)?;
        if !ingested.executions.by_request.is_empty()
            && !ingested.columns.is_empty()
            && !options.keep_request_ids
        {
            // Joining needs the access logs' request IDs, kept only when asked for.
            options.keep_request_ids = true;
            (ingested, known) = self.ingest_templated(inputs, &options)?;
        }
        self.analyze_templated(ingested, &known, metrics)
    }

    /// Reads `inputs` into request columns whose routes are templated as they are decoded
    /// (on every core), and how the templated routes were made, by name.
    fn ingest_templated(
        &self,
        inputs: &[Input],
        options: &IngestOptions,
    ) -> Result<(Ingested, FastMap<Box<str>, TemplateSource>)> {
        let sink = TemplatedColumns::new(self.templates.clone(), options.keep_request_ids);
        let Ingested {
            columns,
            skipped,
            invalid,
            inputs,
            executions,
        } = ingest_into(inputs, options, sink)?;
        let ingested = Ingested {
            columns: columns.columns,
            skipped,
            invalid,
            inputs,
            executions,
        };
        Ok((ingested, columns.sources))
    }

    /// Names the routes of `columns` as the filters and the report see them: templated
    /// (`known`: how the routes templated while decoding were made), then renamed. Returns
    /// how each templated route was made.
    fn name_routes(
        &self,
        columns: &mut RequestColumns,
        known: &FastMap<Box<str>, TemplateSource>,
    ) -> FastMap<String, TemplateSource> {
        let sources = self.templates.apply(&mut columns.route, known);
        self.routes.apply(columns);
        sources
    }

    /// The time window the streaming engine filters by, or why it cannot make this report.
    fn stream_window(
        &self,
        metrics: bool,
        execution_logs: bool,
    ) -> Result<std::result::Result<Window, &'static str>> {
        if !self.compare.is_empty() {
            return Ok(Err("compare with a baseline (--compare)"));
        }
        if metrics {
            return Ok(Err("reconcile with CloudWatch metrics"));
        }
        if execution_logs {
            return Ok(Err("join execution logs with access logs"));
        }
        Ok(match self.filter.fixed_window() {
            Some(window) => Ok(window?),
            None => Err("resolve a lone relative --since/--until (it depends on the data's range)"),
        })
    }

    /// The report by the streaming engine; `None` when the inputs hold execution logs that
    /// their first bytes did not show (their join needs the table), unless the engine was
    /// asked for by name (then an error).
    fn stream(
        &self,
        inputs: &[Input],
        options: &IngestOptions,
        window: Window,
    ) -> Result<Option<Report>> {
        let aggregate = AggregateOptions {
            templates: Some(self.templates.clone()),
            ..self.aggregate_options(self.filter.clone(), window)
        };
        let ingested = ingest_into(inputs, options, Accumulator::new(Arc::new(aggregate)))?;
        if !ingested.executions.by_request.is_empty() {
            if self.engine == Engine::Stream {
                bail!(
                    "--engine stream cannot join execution logs with access logs; use --engine \
                     table (or auto)"
                );
            }
            return Ok(None);
        }
        let acc = ingested.columns;
        if acc.records > 0 && acc.kept == 0 && self.filter.is_active() && !self.quiet {
            // Nothing matched: read the inputs again as a table to name the nearest values;
            // files only (stdin and pipes are consumed, and S3 objects would be downloaded
            // again).
            if inputs
                .iter()
                .any(|i| i.read_once() || !matches!(i, Input::File(_)))
            {
                eprintln!("gwstat: no request matches the filters");
            } else {
                // Named as the filters see them: templated and renamed.
                let (mut table, known) = self.ingest_templated(inputs, options)?;
                self.name_routes(&mut table.columns, &known);
                self.warn_nothing_matches(&table.columns);
            }
        }
        let mut acc = acc.collapse_routes();
        if let Some(rename) = self.routes.renamer() {
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
        let mut report = build_report(acc.into_aggregates(), inputs, &self.analysis);
        self.finish(&mut report);
        Ok(Some(report))
    }

    /// Ingested requests to the report: filters, route names, sections, reconciliation with
    /// `metrics`, comparison with the baseline.
    pub fn analyze(&self, ingested: Ingested, metrics: Option<&MetricsReport>) -> Result<Report> {
        self.analyze_templated(ingested, &FastMap::default(), metrics)
    }

    /// [`analyze`](Self::analyze) of requests whose routes may be templated already, made as
    /// `known` says (by name).
    fn analyze_templated(
        &self,
        mut ingested: Ingested,
        known: &FastMap<Box<str>, TemplateSource>,
        metrics: Option<&MetricsReport>,
    ) -> Result<Report> {
        let filter = &self.filter;
        let top = self.analysis.top;
        let mut ingested_executions = std::mem::take(&mut ingested.executions);
        // Execution logs count as requests too, once each (joined to access logs by request
        // ID).
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
        let sources = self.name_routes(&mut ingested.columns, known);
        let mask = filter.mask(&ingested.columns)?;
        self.warn_nothing_matches(&ingested.columns);
        // Execution records are the filtered requests' (joined by request ID).
        let ids_logged = ingested.columns.request_id.iter().any(Option::is_some);
        if let Some(mask) = mask.as_ref().filter(|_| ids_logged) {
            let kept: HashSet<&str> = ingested
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
        } else if filter.is_active() && !ingested_executions.by_request.is_empty() && !self.quiet {
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
                    top,
                );
                summary.requests_added = counts.added;
                summary.requests_completed = counts.completed;
                summary
            });
        // WebSocket events are no requests to compare with a baseline, route by route (nor
        // with metrics: `reconcile` leaves them out).
        let http = ingested.columns.http_rows(mask.as_deref());
        let reconciliation = metrics
            .map(|m| reconcile(&ingested.columns, filter, m))
            .transpose()?;
        let mut acc = fold_columns(
            &ingested.columns,
            mask.as_deref(),
            self.aggregate_options(RequestFilter::default(), Window::default()),
        );
        acc.route_sources = sources_by_code(&acc.names.routes, &sources);
        let inputs = inputs_of(
            ingested.inputs,
            &ingested.skipped,
            &ingested.invalid,
            records,
            records - acc.kept,
        );
        let mut report = build_report(acc.into_aggregates(), inputs, &self.analysis);
        report.inputs.request_source = source;
        report.execution = execution;
        if let Some(cache) =
            crate::analyze::execution::cache_from_executions(&ingested_executions, top)
        {
            report.cache = cache;
        }
        if let Some(cache) = metrics.and_then(|m| cache_from_metrics(m, filter, top)) {
            report.cache = cache;
        }
        report.reconciliation = reconciliation;
        if !self.compare.is_empty() {
            let table = RequestTable::build(ingested.columns, http.as_deref())
                .context("building the request table")?;
            report.comparison = Some(self.compare_with_baseline(&table)?);
        }
        self.finish(&mut report);
        Ok(report)
    }

    /// What the accumulators need: the filters (relative bounds resolved into `window`) and
    /// the analysis options that change what is counted.
    fn aggregate_options(&self, filter: RequestFilter, window: Window) -> AggregateOptions {
        AggregateOptions {
            filter,
            window,
            timeout_ms: self.analysis.timeout_ms,
            bin_seconds: self.analysis.bin_seconds,
            templates: None,
        }
    }

    /// Says on stderr why no request passes the filters, naming the nearest values that
    /// exist (the report is still written: an empty answer is an answer).
    fn warn_nothing_matches(&self, columns: &RequestColumns) {
        if self.quiet {
            return;
        }
        for line in self.filter.why_nothing_matches(columns) {
            eprintln!("gwstat: no request matches the filters: {line}");
        }
    }

    /// Route SLOs checked against each route's p99; the findings from the finished
    /// sections; then the redaction.
    fn finish(&self, report: &mut Report) {
        self.slos.check(report);
        report.findings = crate::analyze::findings::findings(report, &self.next_command);
        if self.redact {
            crate::redact::report(report);
        }
    }

    /// Reads the baseline's inputs with the same decoding and non-time filters and compares
    /// them per route with `table`.
    fn compare_with_baseline(&self, table: &RequestTable) -> Result<Comparison> {
        let (mut ingested, known) = self
            .ingest_templated(
                &self.compare,
                &IngestOptions {
                    decode: self.decode.clone(),
                    quiet: self.quiet,
                    keep_request_ids: false,
                },
            )
            .context("reading the --compare inputs")?;
        self.name_routes(&mut ingested.columns, &known);
        let baseline_filter = RequestFilter {
            since: None,
            until: None,
            ..self.filter.clone()
        };
        let mask = baseline_filter.mask(&ingested.columns)?;
        let folded = fold_columns(
            &ingested.columns,
            mask.as_deref(),
            self.aggregate_options(RequestFilter::default(), Window::default()),
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
            self.compare.iter().map(|i| i.name()).collect(),
            self.analysis.top,
        ))
    }
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
        objects_skipped: Default::default(),
    }
}
