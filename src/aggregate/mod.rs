//! The typed centre of `gwstat report`: [`Aggregates`], what every report section is computed
//! from (`crate::analyze`). Three engines produce it:
//!
//! - stream: an [`Accumulator`] per decode chunk folds the requests while reading, in one
//!   pass and in memory bounded by the data's cardinality (routes, stages, statuses, seconds
//!   spanned, distinct latencies), never by its size; the chunks' accumulators are merged;
//! - table: the decoded request columns (kept for the execution-log join, metrics
//!   reconciliation and `--compare`) folded row by row into the same accumulator
//!   ([`fold_columns`]), so both give the same report to the last bit in linear time;
//! - Logs Insights: the queries' result rows read into the same shape
//!   (`crate::insights::assemble`), with CloudWatch's own statistics where no histogram
//!   exists ([`ComputedLatency`]).
//!
//! Percentiles stay exact: latencies are counted per distinct value ([`histogram`]), and
//! percentiles of the counts are those of the values.

pub(crate) mod accumulator;
pub(crate) mod bins;
pub(crate) mod histogram;
pub(crate) mod rules;
pub mod templates;
pub(crate) mod websocket;

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;

pub(crate) use accumulator::{add_group, add_latencies, add_response_latency};
pub use accumulator::{
    Accumulator, AggregateOptions, Group, Latencies, LatencyDetail, Names, ResponseLatency, NONE,
    OTHER,
};

use crate::model::RequestSink;
use crate::model::{Request, RequestColumns};
use crate::report::{LatencyStats, TemplateSource};
use crate::FastMap;

/// Bin start of counts whose time bin is unknown (Logs Insights rows without one): counted
/// in every total, in no timeline bin.
pub const NO_BIN: i64 = i64::MIN;

/// The aggregates of the requests a report covers.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Requests kept by the filters (the report's requests).
    pub kept: u64,
    /// Earliest and latest request time, epoch ms.
    pub bounds: Option<(i64, i64)>,
    /// Width of the time bins the groups are keyed by, seconds (the timeline's).
    pub bin_seconds: i64,
    /// Dictionaries behind the codes.
    pub names: Names,
    /// Per (bin start in epoch seconds, route, stage): requests by status, inferred cache
    /// hits and misses.
    pub groups: FastMap<(i64, u32, u32), Group>,
    /// Latency histograms per route × stage, per bin and per bin × route (empty from Logs
    /// Insights: see `computed`).
    pub latencies: LatencyDetail,
    /// Requests and 429s per epoch second, in no order (from Logs Insights: the busiest
    /// seconds only).
    pub seconds: Vec<(i64, [u64; 2])>,
    /// Requests per (API key, status); status 0: not logged.
    pub api_keys: FastMap<(u32, u16), u64>,
    /// Requests per (gateway response type, status).
    pub types: FastMap<(u32, u16), u64>,
    /// Requests per gateway error message.
    pub messages: FastMap<u32, u64>,
    /// 504s that reached the integration timeout, per route.
    pub timeouts: FastMap<u32, u64>,
    /// Latency statistics computed by the engine itself (Logs Insights); `None` when
    /// `latencies` holds them.
    pub computed: Option<Box<ComputedLatency>>,
    /// WebSocket events, finished (`None`: none seen).
    pub websocket: Option<Box<websocket::WebSocketAggregates>>,
    /// Routes made from raw paths by a template, and how (`crate::aggregate::templates`).
    pub route_sources: FastMap<u32, TemplateSource>,
}

/// Latency statistics as an engine computed them, where no histograms exist.
#[derive(Debug, Clone, Default)]
pub struct ComputedLatency {
    /// Over every request.
    pub overall: LatencyStats,
    /// Per (route, stage).
    pub by_route: FastMap<(u32, u32), LatencyStats>,
    /// Per bin start.
    pub by_bin: FastMap<i64, BinPercentiles>,
    /// Response-latency p99 per (bin start, route), the largest over the route's stages.
    pub by_bin_route_p99: FastMap<(i64, u32), f64>,
}

/// The percentiles the timeline shows per bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BinPercentiles {
    /// Response latency p50, p95, p99.
    pub latency: [Option<f64>; 3],
    /// Integration latency p50, p99.
    pub integration: [Option<f64>; 2],
    /// Overhead p50.
    pub overhead_p50: Option<f64>,
}

impl Aggregates {
    /// The name of a route code (`None`: not logged).
    pub fn route(&self, code: u32) -> Option<String> {
        if code == OTHER {
            return Some("(other routes)".to_string());
        }
        name(&self.names.routes, code)
    }

    /// How a route was made from raw paths (`None`: as the log named it).
    pub fn route_source(&self, code: u32) -> Option<TemplateSource> {
        self.route_sources
            .get(&code)
            .copied()
            .filter(|s| *s != TemplateSource::Log)
    }

    /// The name of a stage code.
    pub fn stage(&self, code: u32) -> Option<String> {
        name(&self.names.stages, code)
    }
}

/// The name behind a code ([`NONE`]: `None`).
pub(crate) fn name(dictionary: &crate::model::Dictionary, code: u32) -> Option<String> {
    (code != NONE).then(|| dictionary.name(code).to_string())
}

impl RequestSink for Accumulator {
    const ORDERED: bool = false;

    fn fresh(&self) -> Self {
        let mut fresh = Accumulator::new(Arc::new(self.options().clone()));
        fresh.expect_span_of(self);
        fresh
    }

    fn expect_span(&mut self, first_ms: i64, last_ms: i64) {
        Accumulator::expect_span(self, first_ms, last_ms);
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

/// Rows below which [`fold_columns`] folds on one core: a part's fresh accumulator and its
/// merge cost more than folding them where they are.
const FOLD_PART_ROWS: usize = 1 << 16;

/// The table engine: the kept rows of decoded request columns (`keep`: the filters' row
/// mask, `None` = all) folded into an accumulator made with `options` (whose filter is not
/// applied again), in one linear pass: a part of the rows per core, each into its own
/// accumulator, merged in row order (as the stream engine's workers are).
pub fn fold_columns(
    columns: &RequestColumns,
    keep: Option<&[bool]>,
    options: AggregateOptions,
) -> Accumulator {
    let parts = rayon::current_num_threads()
        .min(columns.len() / FOLD_PART_ROWS)
        .max(1);
    fold_in_parts(columns, keep, options, parts)
}

/// [`fold_columns`] in `parts` parts.
fn fold_in_parts(
    columns: &RequestColumns,
    keep: Option<&[bool]>,
    options: AggregateOptions,
    parts: usize,
) -> Accumulator {
    let mut acc = Accumulator::new(Arc::new(AggregateOptions {
        filter: crate::filter::RequestFilter::default(),
        ..options
    }));
    let rows = columns.len();
    if keep.is_none() && columns.websocket.is_empty() {
        // Every row counts in the range (WebSocket events do not): their span sizes the time
        // bins once, before any is folded.
        if let (Some(first), Some(last)) =
            (columns.time_ms.iter().min(), columns.time_ms.iter().max())
        {
            acc.expect_span(*first, *last);
        }
    }
    let bounds: Vec<usize> = (0..=parts).map(|i| rows * i / parts).collect();
    let folded: Vec<Accumulator> = bounds
        .par_windows(2)
        .map(|ends| {
            let mut part = acc.fresh();
            fold_rows(columns, keep, ends[0]..ends[1], &mut part);
            part
        })
        .collect();
    for part in folded {
        acc.merge(part, None);
    }
    acc
}

/// Folds `rows` of `columns` (those `keep` keeps) into `acc`.
fn fold_rows(
    columns: &RequestColumns,
    keep: Option<&[bool]>,
    rows: std::ops::Range<usize>,
    acc: &mut Accumulator,
) {
    fn text(column: &crate::model::CodedColumn, row: usize) -> Option<Cow<'_, str>> {
        column.name(row).map(Cow::Borrowed)
    }
    let first_event = columns.websocket.partition_point(|(r, _)| *r < rows.start);
    let mut websocket = columns.websocket[first_event..].iter().peekable();
    for row in rows {
        let ws = websocket
            .next_if(|(r, _)| *r == row)
            .map(|(_, ws)| ws.clone());
        if keep.is_some_and(|k| !k[row]) {
            continue;
        }
        acc.push(&Request {
            time_ms: columns.time_ms[row],
            status: columns.status(row),
            method: text(&columns.method, row),
            route: text(&columns.route, row),
            stage: text(&columns.stage, row),
            api_key: text(&columns.api_key, row),
            error_type: text(&columns.error_type, row),
            error_message: text(&columns.error_message, row),
            latency_ms: columns.latency(row),
            integration_latency_ms: columns.integration_latency(row),
            request_id: None,
            xray_trace_id: None,
            api_id: text(&columns.api_id, row),
            // Implausible values were dropped (and counted) when the columns were built.
            invalid: Default::default(),
            websocket: ws,
        });
    }
}

impl Accumulator {
    /// Everything accumulated, in bins of the fixed width or of the automatic one for the
    /// range.
    pub fn into_aggregates(mut self) -> Aggregates {
        let width = self.bin_seconds();
        self.finish(width);
        Aggregates {
            kept: self.kept,
            bounds: self.bounds,
            bin_seconds: width,
            names: self.names,
            groups: self.groups,
            latencies: self.latencies,
            seconds: self.seconds,
            api_keys: self.api_keys,
            types: self.types,
            messages: self.messages,
            timeouts: self.timeouts,
            computed: None,
            websocket: self.websocket.map(|mut w| {
                w.finish();
                w
            }),
            route_sources: self.route_sources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{build_report, AnalyzeOptions};
    use crate::model::websocket::{EventType, WebSocketEvent};
    use crate::report::{Inputs, Report};

    /// `n` requests over two days, a little out of time order: routes, stages, statuses
    /// (429s, 504s at the timeout), keys, gateway errors, missing and fractional latencies,
    /// and a WebSocket event every 97th row.
    fn columns(n: usize) -> RequestColumns {
        let mut columns = RequestColumns::default();
        let statuses = [200, 200, 201, 404, 429, 502, 504];
        for i in 0..n {
            let status = statuses[i * 13 % statuses.len()];
            let jitter = (i as i64 * 7919) % 5_000;
            let latency = match i % 11 {
                0 => None,
                1 => Some(12.5),
                _ => Some((i * 31 % 900) as f64),
            };
            let websocket = (i % 97 == 5).then(|| WebSocketEvent {
                event: Some(EventType::Message),
                connection_id: Some(Cow::Owned(format!("c{}", i % 5))),
                connected_at_ms: Some(1_795_514_400_000),
            });
            columns.push(&Request {
                time_ms: 1_795_514_400_000 + (i as i64 * 172_800_000) / n as i64 - jitter,
                status: Some(status),
                method: Some(Cow::Borrowed(if i % 3 == 0 { "POST" } else { "GET" })),
                route: Some(Cow::Owned(format!("GET /r{}", i * 7 % 40))),
                stage: Some(Cow::Borrowed(["prod", "dev", "beta", "qa", "e2e"][i % 5])),
                api_key: (i % 4 != 0).then(|| Cow::Owned(format!("key{}", i % 9))),
                error_type: (status >= 400).then_some(Cow::Borrowed("DEFAULT_4XX")),
                error_message: (status == 429).then_some(Cow::Borrowed("Too Many Requests")),
                latency_ms: latency,
                integration_latency_ms: latency.map(|l| (l - 3.0).max(0.0)),
                websocket,
                ..Request::default()
            });
        }
        columns
    }

    fn report(columns: &RequestColumns, keep: Option<&[bool]>, parts: usize) -> Report {
        let acc = fold_in_parts(columns, keep, AggregateOptions::default(), parts);
        build_report(
            acc.into_aggregates(),
            Inputs::default(),
            &AnalyzeOptions::default(),
        )
    }

    #[test]
    fn rows_folded_in_parts_give_the_report_of_one_pass() {
        let columns = columns(20_000);
        let mask: Vec<bool> = (0..columns.len()).map(|i| i % 6 != 1).collect();
        for keep in [None, Some(&mask[..])] {
            let whole = report(&columns, keep, 1);
            assert!(whole.websocket.is_some() && !whole.latency.by_route.is_empty());
            for parts in [2, 3, 7] {
                assert!(report(&columns, keep, parts) == whole, "{parts} parts");
            }
        }
        // Without WebSocket events the rows' span sizes the bins ahead: the same report.
        let mut plain = columns.clone();
        plain.websocket.clear();
        assert!(report(&plain, None, 3) == report(&plain, None, 1));
    }
}
