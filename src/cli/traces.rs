//! `gwstat traces`: X-Ray files (from the AWS CLI) to where the time goes per route, joined
//! to access logs given alongside.
//!
//! ```text
//! gwstat traces sample-logs/traces/
//! gwstat traces sample-logs/traces/ sample-logs/rest-api-json-custom.log --format json
//! gwstat traces --since -1h --filter-expression 'service("shop-api/prod")'
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;

use super::output::DocumentOutputArgs;
use super::window::{aws_range, now_ms};
use super::Outcome;
use crate::aws::traces::{fetch_traces, TracesRequest};
use crate::aws::{run_with_progress, AwsArgs, Document, Progress};
use crate::ingest::{ingest, IngestOptions};
use crate::source::expand;
use crate::traces::analyze::TraceSource;
use crate::traces::analyze::{bare_trace_id, build_traces_report, RouteIndex};
use crate::traces::decode::{decode, sniff};
use crate::traces::load::{load_traces, trace_shape};

/// Arguments of `gwstat traces`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat traces sample-logs/traces/
  aws xray batch-get-traces --trace-ids 1-6b064e44-0a1b2c3d4e5f60718293a4b5 > traces.json
  gwstat traces traces.json access.log --format json   # routes from the logs, by request id
  gwstat traces --since -1h --filter-expression 'service(\"shop-api/prod\")'   # from X-Ray
  gwstat traces --since 2026-11-24T10:00Z --until +30m --save incident/traces/ access.log

Exit codes: 0 ok, 1 failure (an error, an unreadable segment with --strict), 2 usage error.")]
pub struct TracesArgs {
    /// X-Ray files (batch-get-traces or get-trace-summaries JSON), access logs to join by
    /// request id, directories, globs, or `-` for stdin. Without X-Ray files, traces are
    /// read from X-Ray (GetTraceSummaries, BatchGetTraces).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Which traces to read from X-Ray.
    #[command(flatten)]
    pub select: TraceSelection,

    /// Start when reading X-Ray: RFC 3339, or relative to now (default -1h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,

    /// End when reading X-Ray: RFC 3339, relative to --since (+2h), or now (default).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,

    /// Also save what was read from X-Ray into DIR (files `gwstat traces DIR` reads).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,

    /// AWS connection.
    #[command(flatten)]
    pub aws: AwsArgs,

    /// Output choices.
    #[command(flatten)]
    pub out: DocumentOutputArgs,

    /// No progress or notes on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which traces to read from X-Ray.
#[derive(Debug, Clone, Args)]
pub struct TraceSelection {
    /// X-Ray filter expression, such as `service("shop-api/prod")` or `http.status = 504`.
    #[arg(long, value_name = "EXPR")]
    pub filter_expression: Option<String>,

    /// Most traces read in full with BatchGetTraces (every summary is kept).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_traces: usize,
}

impl TraceSelection {
    /// The request for `range`.
    pub fn request(&self, range: (i64, i64)) -> TracesRequest {
        TracesRequest {
            start_ms: range.0,
            end_ms: range.1,
            filter: self.filter_expression.clone(),
            max_traces: self.max_traces,
        }
    }
}

/// Reads X-Ray (summaries, then traces five at a time) with a progress line.
pub fn read_xray(request: TracesRequest, aws: &AwsArgs, quiet: bool) -> Result<Vec<Document>> {
    let progress = Arc::new(Progress::default());
    run_with_progress(
        aws,
        quiet,
        progress.clone(),
        |traces, pages, batches| {
            format!("reading X-Ray: {traces} traces, {pages} pages, {batches} batches")
        },
        |config| async move {
            let client = aws_sdk_xray::Client::new(&config);
            fetch_traces(&client, &request, &progress).await
        },
    )
}

/// Decodes documents read from X-Ray.
pub fn decode_documents(documents: &[Document]) -> Result<Vec<TraceSource>> {
    documents
        .iter()
        .filter_map(|doc| sniff(&doc.bytes).map(|shape| (doc, shape)))
        .map(|(doc, shape)| {
            let decoded = decode(&doc.name, &doc.bytes, shape).map_err(anyhow::Error::msg)?;
            Ok(TraceSource {
                name: doc.name.clone(),
                shape: shape.as_str().to_string(),
                traces: decoded.traces,
                summaries: decoded.summaries,
                skipped: decoded.skipped,
                warnings: decoded.warnings,
            })
        })
        .collect()
}

/// Runs `gwstat traces`.
pub fn run(args: TracesArgs) -> Result<Outcome> {
    let inputs = expand(&args.inputs)?;
    let mut sources = Vec::new();
    let mut logs = Vec::new();
    for input in &inputs {
        match trace_shape(input)? {
            Some(shape) => sources.push(load_traces(input, shape)?),
            None if crate::metrics::load::metrics_shape(input)?.is_some() => {
                if !args.quiet {
                    eprintln!("gwstat: {}: a metrics file; skipped", input.name());
                }
            }
            None => logs.push(input.clone()),
        }
    }
    if sources.is_empty() {
        // Logs alone read X-Ray only when asked for a range: a forgotten trace file should
        // not silently turn into a call to AWS.
        if !args.inputs.is_empty() && args.since.is_none() {
            bail!(
                "no X-Ray files among the inputs (expected aws xray batch-get-traces or \
                 get-trace-summaries JSON); to read X-Ray for these logs, give --since"
            );
        }
        let since = args.since.as_deref().unwrap_or("-1h");
        let range = aws_range(since, args.until.as_deref(), now_ms())?;
        let documents = read_xray(args.select.request(range), &args.aws, args.quiet)?;
        if let Some(dir) = &args.save {
            Document::write_all(&documents, dir)?;
        }
        sources = decode_documents(&documents)?;
    }
    let routes = if logs.is_empty() {
        None
    } else {
        let ingested = ingest(
            &logs,
            &IngestOptions {
                quiet: args.quiet,
                keep_request_ids: true,
                ..IngestOptions::default()
            },
        )?;
        let columns = &ingested.columns;
        let mut index = RouteIndex::default();
        for row in 0..columns.len() {
            let Some(route) = columns.route.name(row) else {
                continue;
            };
            if let Some(Some(id)) = columns.request_id.get(row) {
                index.insert(id.to_string(), route.to_string());
            }
            if let Some(Some(trace)) = columns.xray_trace_id.get(row) {
                index.insert(bare_trace_id(trace).to_string(), route.to_string());
            }
        }
        if !args.quiet && ingested.skipped.total() > 0 {
            eprintln!(
                "gwstat: {} log line(s) could not be decoded",
                ingested.skipped.total()
            );
        }
        Some(index)
    };
    let report = build_traces_report(sources, routes.as_ref(), args.out.top);
    args.out.finish(
        &report,
        &report.inputs.warnings,
        report.inputs.skipped,
        "segment(s)",
        args.quiet,
    )
}
