//! Query results to the same [`Report`] the local engine builds: counts are summed from the
//! grouped rows, statistics and percentiles are CloudWatch's own (`pct` is computed by Logs
//! Insights, so it may differ slightly from the local engine's exact linear interpolation),
//! and the lists are ranked and cut with the local engine's rules.

use std::collections::{BTreeMap, HashMap};

use super::keys::Keys;
use super::queries::{Measure, QueryKind};
use super::results::Row;
use crate::analyze::cache::{cache_from_routes, ratio};
use crate::analyze::errors::by_status;
use crate::analyze::stats::sort_top;
use crate::analyze::summary::status_classes;
use crate::analyze::timeouts::near_timeout_routes;
use crate::analyze::{sort_name, AnalyzeOptions};
use crate::decode::fields::Field;
use crate::facts::gateway_response_type;
use crate::filter::rfc3339;
use crate::report::{
    Cache, ErrorRate, Errors, Inputs, KeyThrottling, Latency, LatencyStats, MessageCount, Peak,
    Report, ResponseTypeCount, RouteCache, RouteErrors, RouteLatency, RouteThrottled,
    RouteThrottling, RouteTimeline, RouteTimeouts, SecondCount, Stats, Summary, ThrottleKinds,
    Throttling, TimeBin, Timeline, Timeouts, SCHEMA_VERSION,
};

/// Routes with their own timeline series (as the local engine).
const TIMELINE_ROUTES: usize = 8;
/// Routes with a throttling series.
const THROTTLED_ROUTES: usize = 12;

/// Every query's rows.
pub type Results = BTreeMap<QueryKind, Vec<Row>>;

/// Cache hits and misses per (route, stage).
type CacheCounts = BTreeMap<(Option<String>, Option<String>), (u64, u64)>;

#[derive(Debug, Default, Clone)]
struct RouteCounts {
    requests: u64,
    c4xx: u64,
    c5xx: u64,
    throttled: u64,
}

/// Builds the report from the rows of every query.
pub fn assemble(
    results: &Results,
    keys: &Keys,
    inputs: Inputs,
    bin_seconds: i64,
    options: &AnalyzeOptions,
) -> Report {
    let rows = |kind: QueryKind| results.get(&kind).map(Vec::as_slice).unwrap_or(&[]);
    let top = options.top;

    // Counts by bin, stage, route and status.
    let mut statuses: BTreeMap<Option<u16>, u64> = BTreeMap::new();
    let mut routes: BTreeMap<Option<String>, RouteCounts> = BTreeMap::new();
    let mut route_stage: HashMap<(Option<String>, Option<String>), u64> = HashMap::new();
    let mut bin_counts: BTreeMap<i64, TimeBin> = BTreeMap::new();
    let mut route_throttled_bins: BTreeMap<Option<String>, BTreeMap<i64, u64>> = BTreeMap::new();
    for row in rows(QueryKind::Counts) {
        let n = row.count("requests");
        let status = row.status(keys);
        let route = row.route(keys);
        *statuses.entry(status).or_default() += n;
        let r = routes.entry(route.clone()).or_default();
        r.requests += n;
        let class = status.map(|s| s / 100);
        if class == Some(4) {
            r.c4xx += n;
        }
        if class == Some(5) {
            r.c5xx += n;
        }
        if status == Some(429) {
            r.throttled += n;
        }
        *route_stage
            .entry((route.clone(), row.stage(keys)))
            .or_default() += n;
        if let Some(start) = row.bin_start() {
            let b = bin_counts.entry(start).or_default();
            b.requests += n;
            match class {
                Some(2) => b.c2xx += n,
                Some(3) => b.c3xx += n,
                Some(4) => b.c4xx += n,
                Some(5) => b.c5xx += n,
                _ => {}
            }
            if status == Some(429) {
                b.throttled += n;
                *route_throttled_bins
                    .entry(route)
                    .or_default()
                    .entry(start)
                    .or_default() += n;
            }
        }
    }
    let requests: u64 = statuses.values().sum();

    // Summary.
    let status_list: Vec<(Option<u32>, u64)> = statuses
        .iter()
        .map(|(s, n)| (s.map(u32::from), *n))
        .collect();
    let classes = status_classes(&status_list);
    let bounds = rows(QueryKind::Bounds).first();
    let first = bounds.and_then(|r| r.time_ms("first"));
    let last = bounds.and_then(|r| r.time_ms("last"));
    let duration_seconds = match (first, last) {
        (Some(f), Some(l)) => Some((l.div_euclid(1000) - f.div_euclid(1000) + 1) as u64),
        _ => None,
    };
    let throttled_seconds: HashMap<i64, u64> = rows(QueryKind::ThrottledSeconds)
        .iter()
        .filter_map(|r| Some((r.bin_start()?, r.count("throttled"))))
        .collect();
    let mut busiest: Vec<(i64, u64)> = rows(QueryKind::BusiestSeconds)
        .iter()
        .filter_map(|r| Some((r.bin_start()?, r.count("requests"))))
        .collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rate = |n: u64| (requests > 0).then(|| n as f64 / requests as f64);
    let summary = Summary {
        requests,
        start: first.map(rfc3339),
        end: last.map(rfc3339),
        duration_seconds,
        error_rate: ErrorRate {
            r4xx: rate(classes.c4xx),
            r5xx: rate(classes.c5xx),
        },
        avg_rps: duration_seconds.map(|d| requests as f64 / d as f64),
        peak_rps: busiest.first().map(|(second, n)| Peak {
            value: *n,
            at: rfc3339(second * 1000),
        }),
        status_classes: classes,
    };

    // Latency.
    let stats_of = |row: Option<&Row>| -> Stats {
        let Some(row) = row else {
            return Stats::default();
        };
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
    };
    let overall = LatencyStats {
        latency_ms: stats_of(rows(QueryKind::OverallStats(Measure::Latency)).first()),
        integration_latency_ms: stats_of(
            rows(QueryKind::OverallStats(Measure::Integration)).first(),
        ),
        overhead_ms: stats_of(rows(QueryKind::OverallStats(Measure::Overhead)).first()),
    };
    let mut by_route: BTreeMap<(Option<String>, Option<String>), LatencyStats> = BTreeMap::new();
    for (measure, slot) in [
        (Measure::Latency, 0),
        (Measure::Integration, 1),
        (Measure::Overhead, 2),
    ] {
        for row in rows(QueryKind::RouteStats(measure)) {
            let entry = by_route
                .entry((row.route(keys), row.stage(keys)))
                .or_default();
            let stats = stats_of(Some(row));
            match slot {
                0 => entry.latency_ms = stats,
                1 => entry.integration_latency_ms = stats,
                _ => entry.overhead_ms = stats,
            }
        }
    }
    for key in route_stage.keys() {
        by_route.entry(key.clone()).or_default();
    }
    let mut by_route: Vec<RouteLatency> = by_route
        .into_iter()
        .map(|((route, stage), stats)| RouteLatency {
            count: route_stage
                .get(&(route.clone(), stage.clone()))
                .copied()
                .unwrap_or(stats.latency_ms.count),
            route,
            stage,
            stats,
            slo: None,
        })
        .collect();
    sort_top(&mut by_route, 0, |r| {
        (
            r.count,
            format!("{}\u{0}{}", sort_name(&r.route), sort_name(&r.stage)),
        )
    });
    let mut latency = Latency { overall, by_route };

    // Timeouts (near-timeout routes from the full latency list, as locally).
    let mut timeout_routes: Vec<RouteTimeouts> = rows(QueryKind::Timeouts)
        .iter()
        .map(|r| RouteTimeouts {
            route: r.route(keys),
            count: r.count("n"),
        })
        .collect();
    let timeout_count = timeout_routes.iter().map(|r| r.count).sum();
    sort_top(&mut timeout_routes, top, |r| (r.count, sort_name(&r.route)));
    let timeouts = Timeouts {
        timeout_ms: options.timeout_ms,
        count: timeout_count,
        by_route: timeout_routes,
        near_timeout_routes: near_timeout_routes(&latency, options),
    };
    crate::analyze::latency::truncate(&mut latency, top);

    // Errors.
    let by_status = by_status(&status_list, top);
    let mut error_routes: Vec<RouteErrors> = routes
        .iter()
        .filter(|(_, r)| r.c4xx + r.c5xx > 0)
        .map(|(route, r)| RouteErrors {
            route: route.clone(),
            count: r.c4xx + r.c5xx,
            requests: r.requests,
            status_4xx: r.c4xx,
            status_5xx: r.c5xx,
        })
        .collect();
    sort_top(&mut error_routes, top, |r| (r.count, sort_name(&r.route)));
    let mut types: BTreeMap<String, Vec<(u64, u16)>> = BTreeMap::new();
    for row in rows(QueryKind::ResponseTypes) {
        if let Some(name) = row.key(keys, Field::ErrorResponseType) {
            types
                .entry(name.to_string())
                .or_default()
                .push((row.count("n"), row.status(keys).unwrap_or(0)));
        }
    }
    let mut kinds = ThrottleKinds::default();
    for (name, list) in &types {
        let n429: u64 = list.iter().filter(|(_, s)| *s == 429).map(|(n, _)| n).sum();
        match name.as_str() {
            "THROTTLED" => kinds.throttled += n429,
            "QUOTA_EXCEEDED" => kinds.quota_exceeded += n429,
            _ => {}
        }
    }
    let mut by_response_type: Vec<ResponseTypeCount> = types
        .into_iter()
        .map(|(name, mut list)| {
            list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            ResponseTypeCount {
                count: list.iter().map(|(n, _)| n).sum(),
                statuses: list.iter().map(|(_, s)| *s).filter(|s| *s != 0).collect(),
                meaning: gateway_response_type(&name).map(|t| t.when.to_string()),
                response_type: name,
            }
        })
        .collect();
    sort_top(&mut by_response_type, top, |t| {
        (t.count, t.response_type.clone())
    });
    let mut messages: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows(QueryKind::Messages) {
        if let Some(m) = row.key(keys, Field::ErrorMessage) {
            let m = m
                .strip_prefix('"')
                .and_then(|m| m.strip_suffix('"'))
                .unwrap_or(m);
            *messages.entry(m.to_string()).or_default() += row.count("n");
        }
    }
    let mut by_message: Vec<MessageCount> = messages
        .into_iter()
        .map(|(message, count)| MessageCount { message, count })
        .collect();
    sort_top(&mut by_message, top, |m| (m.count, m.message.clone()));
    let errors = Errors {
        by_status,
        by_route: error_routes,
        by_response_type,
        by_message,
    };

    // Throttling.
    let throttled: u64 = routes.values().map(|r| r.throttled).sum();
    kinds.unknown = throttled.saturating_sub(kinds.throttled + kinds.quota_exceeded);
    let mut throttle_routes: Vec<RouteThrottling> = routes
        .iter()
        .filter(|(_, r)| r.throttled > 0)
        .map(|(route, r)| RouteThrottling {
            route: route.clone(),
            requests: r.requests,
            throttled: r.throttled,
        })
        .collect();
    sort_top(&mut throttle_routes, top, |r| {
        (r.throttled, sort_name(&r.route))
    });
    let mut api_keys: BTreeMap<Option<String>, (u64, u64)> = BTreeMap::new();
    if !results.contains_key(&QueryKind::ApiKeys) {
        // No key is logged: every request is keyless, as in the local engine.
        api_keys.insert(None, (requests, throttled));
    }
    for row in rows(QueryKind::ApiKeys) {
        let key = row
            .key(keys, Field::ApiKeyId)
            .or_else(|| row.key(keys, Field::ApiKey))
            .map(str::to_string);
        let entry = api_keys.entry(key).or_default();
        entry.0 += row.count("requests");
        if row.status(keys) == Some(429) {
            entry.1 += row.count("requests");
        }
    }
    let mut by_api_key: Vec<KeyThrottling> = api_keys
        .into_iter()
        .filter(|(_, (_, t))| *t > 0)
        .map(|(api_key, (requests, throttled))| KeyThrottling {
            api_key,
            requests,
            throttled,
        })
        .collect();
    sort_top(&mut by_api_key, top, |k| {
        (k.throttled, sort_name(&k.api_key))
    });
    let mut top_seconds: Vec<SecondCount> = busiest
        .iter()
        .map(|(second, requests)| SecondCount {
            second: rfc3339(second * 1000),
            requests: *requests,
            throttled: throttled_seconds.get(second).copied().unwrap_or(0),
        })
        .collect();
    if top > 0 {
        top_seconds.truncate(top);
    }
    let throttling = Throttling {
        throttled,
        throttle_rate: rate(throttled),
        by_kind: kinds,
        by_route: throttle_routes,
        by_api_key,
        top_seconds,
    };

    // Cache: per route × stage, and per bin for the route × stages that show both kinds.
    let mut cache_rows = CacheCounts::new();
    for (kind, hit) in [
        (QueryKind::CacheHits, true),
        (QueryKind::CacheMisses, false),
    ] {
        for row in rows(kind) {
            let entry = cache_rows
                .entry((row.route(keys), row.stage(keys)))
                .or_default();
            if hit {
                entry.0 += row.count("hits");
            } else {
                entry.1 += row.count("misses");
            }
        }
    }
    let cache: Cache = cache_from_routes(
        cache_rows
            .iter()
            .map(|((route, stage), (hits, misses))| RouteCache {
                route: route.clone(),
                stage: stage.clone(),
                hits: *hits,
                misses: *misses,
                hit_ratio: ratio(*hits, *misses),
            })
            .collect(),
        top,
    );

    // Timeline.
    let timeline = timeline(
        results,
        keys,
        first,
        last,
        bin_seconds,
        bin_counts,
        &routes,
        route_throttled_bins,
        &cache_rows,
    );

    Report {
        schema_version: SCHEMA_VERSION,
        inputs,
        summary,
        latency,
        errors,
        throttling,
        timeouts,
        cache,
        execution: None,
        timeline,
        comparison: None,
        reconciliation: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn timeline(
    results: &Results,
    keys: &Keys,
    first: Option<i64>,
    last: Option<i64>,
    bin: i64,
    mut counts: BTreeMap<i64, TimeBin>,
    routes: &BTreeMap<Option<String>, RouteCounts>,
    route_throttled_bins: BTreeMap<Option<String>, BTreeMap<i64, u64>>,
    cache_rows: &CacheCounts,
) -> Timeline {
    let bin = bin.max(1);
    let (Some(first), Some(last)) = (first, last) else {
        return Timeline {
            bin_seconds: bin,
            ..Timeline::default()
        };
    };
    let rows = |kind: QueryKind| results.get(&kind).map(Vec::as_slice).unwrap_or(&[]);
    let first_bin = first.div_euclid(1000).div_euclid(bin) * bin;
    let last_bin = last.div_euclid(1000).div_euclid(bin) * bin;
    let count = ((last_bin - first_bin) / bin + 1) as usize;
    let index = |start: i64| -> Option<usize> {
        let i = (start - first_bin).div_euclid(bin);
        (0..count as i64).contains(&i).then_some(i as usize)
    };
    let mut bins: Vec<TimeBin> = (0..count)
        .map(|i| {
            let start = first_bin + i as i64 * bin;
            TimeBin {
                start: rfc3339(start * 1000),
                ..counts.remove(&start).unwrap_or_default()
            }
        })
        .collect();
    for (measure, kind) in [
        (Measure::Latency, QueryKind::BinStats(Measure::Latency)),
        (
            Measure::Integration,
            QueryKind::BinStats(Measure::Integration),
        ),
        (Measure::Overhead, QueryKind::BinStats(Measure::Overhead)),
    ] {
        for row in rows(kind) {
            let Some(i) = row.bin_start().and_then(index) else {
                continue;
            };
            let b = &mut bins[i];
            match measure {
                Measure::Latency => {
                    b.latency_p50_ms = row.number("p50");
                    b.latency_p95_ms = row.number("p95");
                    b.latency_p99_ms = row.number("p99");
                }
                Measure::Integration => {
                    b.integration_latency_p50_ms = row.number("p50");
                    b.integration_latency_p99_ms = row.number("p99");
                }
                Measure::Overhead => b.overhead_p50_ms = row.number("p50"),
            }
        }
    }
    for (kind, hit) in [
        (QueryKind::CacheHits, true),
        (QueryKind::CacheMisses, false),
    ] {
        for row in rows(kind) {
            let pattern = cache_rows
                .get(&(row.route(keys), row.stage(keys)))
                .is_some_and(|(h, m)| *h > 0 && *m > 0);
            let (true, Some(i)) = (pattern, row.bin_start().and_then(index)) else {
                continue;
            };
            if hit {
                bins[i].cache_hits += row.count("hits");
            } else {
                bins[i].cache_misses += row.count("misses");
            }
        }
    }

    let ranked = |key: &dyn Fn(&RouteCounts) -> u64, n: usize| -> Vec<Option<String>> {
        let mut list: Vec<(&Option<String>, u64)> = routes
            .iter()
            .map(|(r, c)| (r, key(c)))
            .filter(|(_, n)| *n > 0)
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(sort_name(a.0).cmp(&sort_name(b.0))));
        list.into_iter().take(n).map(|(r, _)| r.clone()).collect()
    };
    let busiest = ranked(&|c| c.requests, TIMELINE_ROUTES);
    let mut series: Vec<RouteTimeline> = busiest
        .iter()
        .map(|r| RouteTimeline {
            route: r.clone(),
            requests: vec![0; count],
            latency_p99_ms: vec![None; count],
        })
        .collect();
    for row in rows(QueryKind::Counts) {
        let route = row.route(keys);
        if let (Some(s), Some(i)) = (
            busiest.iter().position(|r| *r == route),
            row.bin_start().and_then(index),
        ) {
            series[s].requests[i] += row.count("requests");
        }
    }
    // p99 per bin and route: the query groups by stage too; one stage's p99 is kept where a
    // route has several (percentiles cannot be combined).
    for row in rows(QueryKind::RouteBinP99) {
        let route = row.route(keys);
        if let (Some(s), Some(i)) = (
            busiest.iter().position(|r| *r == route),
            row.bin_start().and_then(index),
        ) {
            let p99 = row.number("p99");
            let slot = &mut series[s].latency_p99_ms[i];
            *slot = match (*slot, p99) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let throttled_routes = ranked(&|c| c.throttled, THROTTLED_ROUTES);
    let throttled_by_route = throttled_routes
        .iter()
        .map(|r| {
            let mut series = vec![0; count];
            for (start, n) in route_throttled_bins.get(r).into_iter().flatten() {
                if let Some(i) = index(*start) {
                    series[i] += n;
                }
            }
            RouteThrottled {
                route: r.clone(),
                throttled: series,
            }
        })
        .collect();
    Timeline {
        bin_seconds: bin,
        bins,
        routes: series,
        throttled_by_route,
        latency_histogram: Vec::new(),
    }
}
