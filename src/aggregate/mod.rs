//! The streaming engine: the report's aggregates folded while decoding, in one pass and in
//! memory bounded by the data's cardinality rather than its size — for inputs larger than
//! RAM, and the fastest way to a report. Percentiles stay exact: latencies are counted per
//! distinct value ([`histogram`]), and percentiles of the counts are those of the values.
//!
//! Flow: decoders → [`Accumulator`] per chunk → merged → rows in the shape of the Logs
//! Insights queries' results ([`rows`]) → the same assembly as `--engine insights` → the
//! [`Report`], equal to the one the request table (polars) gives.

pub mod accumulator;
pub mod histogram;
pub mod rows;

pub use accumulator::{Accumulator, AggregateOptions};

use crate::analyze::timeline::{auto_bin_seconds, latency_bucket, latency_buckets};
use crate::analyze::AnalyzeOptions;
use crate::ingest::RequestSink;
use crate::model::Request;
use crate::report::{Inputs, Report};

impl RequestSink for Accumulator {
    const ORDERED: bool = false;

    fn fresh(&self) -> Self {
        Accumulator::new(std::sync::Arc::new(self.options().clone()))
    }

    fn push(&mut self, request: &Request<'_>) {
        Accumulator::push(self, request);
    }

    fn append(&mut self, other: Self) {
        self.merge(other, None);
    }

    fn requests(&self) -> usize {
        self.records as usize
    }
}

/// The report of everything accumulated.
pub fn report(mut acc: Accumulator, inputs: Inputs, options: &AnalyzeOptions) -> Report {
    let width = match (options.bin_seconds, acc.bounds) {
        (Some(width), _) => width.max(1),
        (None, Some((first, last))) => {
            auto_bin_seconds(last.div_euclid(1000) - first.div_euclid(1000) + 1)
        }
        (None, None) => 60,
    };
    acc.finish(width);
    let results = rows::results(&acc, options.top);
    let mut report =
        crate::insights::assemble::assemble(&results, &rows::keys(), inputs, width, options);
    let mut buckets = vec![0u64; latency_bucket(f64::INFINITY) + 1];
    for group in acc.groups.values() {
        for (value, n) in group.latency.sorted() {
            buckets[latency_bucket(value)] += n;
        }
    }
    if acc.bounds.is_some() {
        report.timeline.latency_histogram = latency_buckets(&buckets);
    }
    report
}
