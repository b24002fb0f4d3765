//! The request table to report sections: one module per section, each a function from the
//! table (polars lazy queries) and options to a section struct. Knows nothing of rendering.

pub mod cache;
pub mod compare;
pub mod errors;
pub mod execution;
pub mod latency;
pub mod reconcile;
pub mod routes;
pub mod stats;
pub mod summary;
pub mod throttling;
pub mod timeline;
pub mod timeouts;

use polars::prelude::PolarsResult;

use crate::facts::REST_INTEGRATION_TIMEOUT_MS;
use crate::model::{Dictionary, RequestTable};
use crate::report::{Inputs, Report, SCHEMA_VERSION};

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

/// Builds every section of the report.
pub fn build_report(
    table: &RequestTable,
    inputs: Inputs,
    options: &AnalyzeOptions,
) -> PolarsResult<Report> {
    let routes = routes::route_totals(table)?;
    let statuses = summary::status_counts(table)?;
    let seconds = summary::per_second(table)?;
    let mut latency = latency::latency(table)?;
    let timeouts = timeouts::timeouts(table, &latency, options)?;
    latency::truncate(&mut latency, options.top);
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        inputs,
        summary: summary::summary_from(table, &statuses, &seconds)?,
        latency,
        errors: errors::errors(table, &routes, &statuses, options)?,
        throttling: throttling::throttling(table, &routes, &seconds, options)?,
        timeouts,
        cache: cache::cache(table, options)?,
        execution: None,
        comparison: None,
        timeline: timeline::timeline(table, options.bin_seconds)?,
        reconciliation: None,
    })
}

/// The name behind an optional dictionary code.
pub(crate) fn name_of(dictionary: &Dictionary, code: Option<u32>) -> Option<String> {
    code.map(|c| dictionary.name(c).to_string())
}

/// Sort key text for an optional name (missing sorts last).
pub(crate) fn sort_name(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "\u{10FFFF}".to_string())
}
