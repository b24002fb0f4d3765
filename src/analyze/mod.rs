//! [`Aggregates`] to report sections: one module per section (summary, latency, errors,
//! throttling, keys, timeouts, cache, timeline, websocket; `routes` holds the counts several
//! share), each a function from the aggregates and options to a section struct, computed
//! once.
//! The sections that need individual requests take the request columns or table:
//! `execution` (the execution-log join), `reconcile` (against CloudWatch metrics) and
//! `compare` (against a baseline). Knows nothing of rendering.

pub(crate) mod cache;
pub(crate) mod compare;
pub(crate) mod errors;
pub(crate) mod execution;
pub mod findings;
pub(crate) mod fold;
pub(crate) mod keys;
pub(crate) mod latency;
pub(crate) mod reconcile;
pub(crate) mod routes;
pub(crate) mod stats;
pub(crate) mod summary;
pub(crate) mod throttling;
pub(crate) mod timeline;
pub(crate) mod timeouts;
pub(crate) mod websocket;

use crate::aggregate::Aggregates;
use crate::facts::REST_INTEGRATION_TIMEOUT_MS;
use crate::model::Dictionary;
use crate::report::{Inputs, Report, Summary, SCHEMA_VERSION};

/// Analysis choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Longest list length (0 = all).
    pub top: usize,
    /// Integration timeout in ms (29 000 unless raised).
    pub timeout_ms: u64,
    /// Timeline bin width in seconds (`None` = automatic).
    pub bin_seconds: Option<i64>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            top: 20,
            timeout_ms: REST_INTEGRATION_TIMEOUT_MS,
            bin_seconds: None,
        }
    }
}

/// Builds every section of the report from the aggregates.
pub fn build_report(mut agg: Aggregates, inputs: Inputs, options: &AnalyzeOptions) -> Report {
    let folded_routes = fold::fold_routes(&mut agg, options);
    let report = sections(&agg, inputs, options, folded_routes);
    drop_in_background(agg);
    report
}

/// The report's sections from the (folded) aggregates.
fn sections(
    agg: &Aggregates,
    inputs: Inputs,
    options: &AnalyzeOptions,
    folded_routes: u64,
) -> Report {
    // The sections are independent of each other once the shared counts are made: computed
    // side by side (this is the serial end of a run, while the other cores are idle).
    let (totals, busiest) = rayon::join(
        || routes::Totals::of(agg),
        || summary::busiest_seconds(agg, options.top),
    );
    let ((mut latency, timeouts), (timeline, (errors, throttling, cache, websocket))) = rayon::join(
        || {
            let latency = latency::latency(agg, &totals);
            let timeouts = timeouts::timeouts(agg, &latency, options);
            (latency, timeouts)
        },
        || {
            rayon::join(
                || timeline::timeline(agg, &totals),
                || {
                    (
                        errors::errors(agg, &totals, options),
                        throttling::throttling(agg, &totals, &busiest, options),
                        cache::cache(agg, &totals, options.top),
                        websocket::websocket(agg, options.top),
                    )
                },
            )
        },
    );
    latency::truncate(&mut latency, options.top);
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        inputs,
        summary: Summary {
            folded_routes,
            ..summary::summary(&totals, agg, &busiest)
        },
        latency,
        errors,
        throttling,
        timeouts,
        cache,
        execution: None,
        comparison: None,
        timeline,
        reconciliation: None,
        websocket,
        findings: Vec::new(),
    };
    report.findings = findings::findings(&report, &findings::NextCommand::default());
    report
}

/// Frees large aggregates on another thread, so the report is written meanwhile (freeing
/// hundreds of thousands of groups and histograms takes a noticeable part of a run; a process
/// that exits first leaves it to the operating system).
fn drop_in_background(agg: Aggregates) {
    if agg.groups.len() + agg.latencies.by_bin_route.len() < 10_000 {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("gwstat-free".into())
        .spawn(move || drop(agg));
    // Without a thread, it is freed here (the closure is dropped with the error).
    drop(spawned);
}

/// The name behind an optional dictionary code.
pub(crate) fn name_of(dictionary: &Dictionary, code: Option<u32>) -> Option<String> {
    code.map(|c| dictionary.name(c).to_string())
}

/// Sort key text for an optional name (missing sorts last).
pub(crate) fn sort_name(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "\u{10FFFF}".to_string())
}
