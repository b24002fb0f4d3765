//! `gwstat traces`: X-Ray files (from the AWS CLI) to where the time goes per route, joined
//! to access logs given alongside.
//!
//! ```text
//! gwstat traces sample-logs/traces/
//! gwstat traces sample-logs/traces/ sample-logs/rest-api-json-custom.log --format json
//! ```

use anyhow::{bail, Result};
use clap::Args;

use super::output::DocumentOutputArgs;
use super::Outcome;
use crate::ingest::{ingest, IngestOptions};
use crate::source::expand;
use crate::traces::analyze::{bare_trace_id, build_traces_report, RouteIndex};
use crate::traces::load::{load_traces, trace_shape};

/// Arguments of `gwstat traces`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat traces sample-logs/traces/
  aws xray batch-get-traces --trace-ids 1-6b064e44-0a1b2c3d4e5f60718293a4b5 > traces.json
  gwstat traces traces.json access.log --format json   # routes from the logs, by request id")]
pub struct TracesArgs {
    /// X-Ray files (batch-get-traces or get-trace-summaries JSON), access logs to join by
    /// request id, directories, globs, or `-` for stdin.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// Output choices.
    #[command(flatten)]
    pub out: DocumentOutputArgs,
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
                if !args.out.quiet {
                    eprintln!("gwstat: {}: a metrics file; skipped", input.name());
                }
            }
            None => logs.push(input.clone()),
        }
    }
    if sources.is_empty() {
        bail!(
            "no X-Ray files among the inputs (expected aws xray batch-get-traces or \
             get-trace-summaries JSON)"
        );
    }
    let routes = if logs.is_empty() {
        None
    } else {
        let ingested = ingest(
            &logs,
            &IngestOptions {
                quiet: args.out.quiet,
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
        if !args.out.quiet && ingested.skipped.total() > 0 {
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
    )
}
