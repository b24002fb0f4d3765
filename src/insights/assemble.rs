//! Query results to [`Aggregates`], and so to the same [`Report`] the local engines build:
//! counts are summed from the grouped rows; statistics and percentiles are CloudWatch's own
//! (`pct` is computed by Logs Insights, so it may differ slightly from the local engines'
//! exact linear interpolation) and carried in [`ComputedLatency`]; lists are ranked and cut
//! by the same sections (`crate::analyze`).

use std::collections::BTreeMap;

use super::keys::Keys;
use super::queries::{Measure, QueryKind};
use super::results::Row;
use crate::aggregate::{Aggregates, ComputedLatency, NONE, NO_BIN};
use crate::analyze::{build_report, AnalyzeOptions};
use crate::decode::fields::Field;
use crate::model::Dictionary;
use crate::report::{Inputs, LatencyStats, Report, Stats};

/// Every query's rows.
pub type Results = BTreeMap<QueryKind, Vec<Row>>;

/// Builds the report from the rows of every query, binned by `bin_seconds`.
pub fn assemble(
    results: &Results,
    keys: &Keys,
    inputs: Inputs,
    bin_seconds: i64,
    options: &AnalyzeOptions,
) -> Report {
    build_report(aggregates(results, keys, bin_seconds), inputs, options)
}

/// The aggregates the rows of every query hold.
pub fn aggregates(results: &Results, keys: &Keys, bin_seconds: i64) -> Aggregates {
    let rows = |kind: QueryKind| results.get(&kind).map(Vec::as_slice).unwrap_or(&[]);
    let mut agg = Aggregates {
        bin_seconds: bin_seconds.max(1),
        ..Aggregates::default()
    };
    let mut computed = ComputedLatency::default();
    let code = |d: &mut Dictionary, name: Option<&str>| name.map_or(NONE, |n| d.code(n));
    let route =
        |agg: &mut Aggregates, row: &Row| code(&mut agg.names.routes, row.route(keys).as_deref());
    let stage =
        |agg: &mut Aggregates, row: &Row| code(&mut agg.names.stages, row.stage(keys).as_deref());
    let status = |row: &Row| row.status(keys).unwrap_or(0);
    let bin = |row: &Row| row.bin_start().unwrap_or(NO_BIN);

    let (mut requests, mut throttled) = (0, 0);
    for row in rows(QueryKind::Counts) {
        let n = row.count("requests");
        let key = (bin(row), route(&mut agg, row), stage(&mut agg, row));
        let s = status(row);
        agg.groups.entry(key).or_default().count_status(s, n);
        requests += n;
        if s == 429 {
            throttled += n;
        }
    }
    agg.kept = requests;
    for (kind, hit) in [
        (QueryKind::CacheHits, true),
        (QueryKind::CacheMisses, false),
    ] {
        for row in rows(kind) {
            let key = (bin(row), route(&mut agg, row), stage(&mut agg, row));
            let group = agg.groups.entry(key).or_default();
            if hit {
                group.hits += row.count("hits");
            } else {
                group.misses += row.count("misses");
            }
        }
    }
    if let Some(bounds) = rows(QueryKind::Bounds).first() {
        if let (Some(first), Some(last)) = (bounds.time_ms("first"), bounds.time_ms("last")) {
            agg.bounds = Some((first, last));
        }
    }
    let throttled_seconds: BTreeMap<i64, u64> = rows(QueryKind::ThrottledSeconds)
        .iter()
        .filter_map(|r| Some((r.bin_start()?, r.count("throttled"))))
        .collect();
    agg.seconds = rows(QueryKind::BusiestSeconds)
        .iter()
        .filter_map(|r| {
            let second = r.bin_start()?;
            let t = throttled_seconds.get(&second).copied().unwrap_or(0);
            Some((second, [r.count("requests"), t]))
        })
        .collect();

    for measure in [Measure::Latency, Measure::Integration, Measure::Overhead] {
        for row in rows(QueryKind::RouteStats(measure)) {
            let key = (route(&mut agg, row), stage(&mut agg, row));
            let entry = computed.by_route.entry(key).or_default();
            *measure_of(entry, measure) = stats(row);
        }
        if let Some(row) = rows(QueryKind::OverallStats(measure)).first() {
            *measure_of(&mut computed.overall, measure) = stats(row);
        }
        for row in rows(QueryKind::BinStats(measure)) {
            let Some(start) = row.bin_start() else {
                continue;
            };
            let p = computed.by_bin.entry(start).or_default();
            match measure {
                Measure::Latency => {
                    p.latency = [row.number("p50"), row.number("p95"), row.number("p99")];
                }
                Measure::Integration => p.integration = [row.number("p50"), row.number("p99")],
                Measure::Overhead => p.overhead_p50 = row.number("p50"),
            }
        }
    }
    // The query groups by stage too; one stage's p99 is kept where a route has several
    // (percentiles cannot be combined).
    for row in rows(QueryKind::RouteBinP99) {
        let (Some(start), Some(p99)) = (row.bin_start(), row.number("p99")) else {
            continue;
        };
        let slot = computed
            .by_bin_route_p99
            .entry((start, route(&mut agg, row)))
            .or_insert(p99);
        *slot = slot.max(p99);
    }
    agg.computed = Some(Box::new(computed));

    if results.contains_key(&QueryKind::ApiKeys) {
        for row in rows(QueryKind::ApiKeys) {
            let name = row
                .key(keys, Field::ApiKeyId)
                .or_else(|| row.key(keys, Field::ApiKey));
            let key = code(&mut agg.names.api_keys, name);
            *agg.api_keys.entry((key, status(row))).or_default() += row.count("requests");
        }
    } else {
        // No key is logged: every request is keyless, as in the local engines.
        agg.api_keys.insert((NONE, 0), requests - throttled);
        agg.api_keys.insert((NONE, 429), throttled);
    }
    for row in rows(QueryKind::ResponseTypes) {
        if let Some(name) = row.key(keys, Field::ErrorResponseType) {
            let kind = agg.names.types.code(name);
            *agg.types.entry((kind, status(row))).or_default() += row.count("n");
        }
    }
    for row in rows(QueryKind::Messages) {
        if let Some(m) = row.key(keys, Field::ErrorMessage) {
            // `$context.error.messageString` is quoted (the file decoders strip the quotes).
            let m = m
                .strip_prefix('"')
                .and_then(|m| m.strip_suffix('"'))
                .unwrap_or(m);
            let message = agg.names.messages.code(m);
            *agg.messages.entry(message).or_default() += row.count("n");
        }
    }
    for row in rows(QueryKind::Timeouts) {
        let r = route(&mut agg, row);
        *agg.timeouts.entry(r).or_default() += row.count("n");
    }
    agg
}

/// The statistics of one measure in `stats`.
fn measure_of(stats: &mut LatencyStats, measure: Measure) -> &mut Stats {
    match measure {
        Measure::Latency => &mut stats.latency_ms,
        Measure::Integration => &mut stats.integration_latency_ms,
        Measure::Overhead => &mut stats.overhead_ms,
    }
}

/// A statistics row.
fn stats(row: &Row) -> Stats {
    Stats {
        count: row.count("n"),
        min: row.number("min"),
        max: row.number("max"),
        mean: row.number("mean"),
        p50: row.number("p50"),
        p90: row.number("p90"),
        p95: row.number("p95"),
        p99: row.number("p99"),
    }
}
