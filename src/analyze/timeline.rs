//! The report over time: per bin, requests by status class, 429s, latency percentiles and
//! inferred cache hits; per-bin series for the busiest routes and for routes with 429s; and
//! the latency histogram. Feeds the HTML charts and the terminal sparklines.

use std::collections::BTreeMap;

use super::routes::Totals;
use crate::aggregate::histogram::{Each, Histogram};
use crate::aggregate::{Aggregates, BinPercentiles};
use crate::filter::rfc3339;
use crate::report::{HistogramBucket, RouteThrottled, RouteTimeline, TimeBin, Timeline};

/// Routes with their own series.
pub(crate) const TIMELINE_ROUTES: usize = 8;
/// Routes with a throttling series.
pub(crate) const THROTTLED_ROUTES: usize = 12;
/// Histogram bucket upper bounds, ms.
const BUCKETS: [f64; 14] = [
    5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 29000.0,
    30000.0,
];

/// Latency histogram buckets from the count of values in each of [`BUCKETS`] (and the open
/// bucket above), without the empty buckets at both ends.
pub(crate) fn latency_buckets(counts: &[u64]) -> Vec<HistogramBucket> {
    let mut out: Vec<HistogramBucket> = counts
        .iter()
        .enumerate()
        .map(|(i, count)| HistogramBucket {
            up_to_ms: BUCKETS.get(i).copied(),
            count: *count,
        })
        .collect();
    while out.last().is_some_and(|b| b.count == 0) {
        out.pop();
    }
    let lead = out.iter().take_while(|b| b.count == 0).count();
    out.drain(..lead);
    out
}

/// The bucket of a latency in [`latency_buckets`]' counts.
pub(crate) fn latency_bucket(ms: f64) -> usize {
    BUCKETS.partition_point(|up| *up < ms)
}

/// The timeline, in the aggregates' bins.
pub(crate) fn timeline(agg: &Aggregates, totals: &Totals) -> Timeline {
    let bin = agg.bin_seconds.max(1);
    let Some((first, last)) = agg.bounds else {
        return Timeline {
            bin_seconds: bin,
            ..Timeline::default()
        };
    };
    let first_bin = first.div_euclid(1000).div_euclid(bin) * bin;
    let last_bin = last.div_euclid(1000).div_euclid(bin) * bin;
    let count = ((last_bin - first_bin) / bin + 1) as usize;
    let index = |start: i64| -> Option<usize> {
        let i = start.checked_sub(first_bin)?.div_euclid(bin);
        (0..count as i64).contains(&i).then_some(i as usize)
    };
    let mut bins: Vec<TimeBin> = (0..count)
        .map(|i| {
            let start = first_bin + i as i64 * bin;
            TimeBin {
                start: rfc3339(start * 1000),
                ..totals.bins.get(&start).cloned().unwrap_or_default()
            }
        })
        .collect();
    for (start, p) in bin_percentiles(agg) {
        if let Some(i) = index(start) {
            let b = &mut bins[i];
            [b.latency_p50_ms, b.latency_p95_ms, b.latency_p99_ms] = p.latency;
            [b.integration_latency_p50_ms, b.integration_latency_p99_ms] = p.integration;
            b.overhead_p50_ms = p.overhead_p50;
        }
    }
    // Cache hits and misses of the route × stages that show both kinds (the cache section's
    // rule).
    let pattern = |route: u32, stage: u32| {
        totals
            .cache
            .get(&(route, stage))
            .is_some_and(|(h, m)| *h > 0 && *m > 0)
    };
    for (&(start, route, stage), group) in &agg.groups {
        if group.hits + group.misses > 0 && pattern(route, stage) {
            if let Some(i) = index(start) {
                bins[i].cache_hits += group.hits;
                bins[i].cache_misses += group.misses;
            }
        }
    }

    let busiest = totals.ranked(agg, |c| c.requests, TIMELINE_ROUTES);
    let throttled_routes = totals.ranked(agg, |c| c.throttled, THROTTLED_ROUTES);
    let mut routes: Vec<RouteTimeline> = busiest
        .iter()
        .map(|r| RouteTimeline {
            route: agg.route(*r),
            requests: vec![0; count],
            latency_p99_ms: vec![None; count],
        })
        .collect();
    let mut throttled_by_route: Vec<RouteThrottled> = throttled_routes
        .iter()
        .map(|r| RouteThrottled {
            route: agg.route(*r),
            throttled: vec![0; count],
        })
        .collect();
    for (&(start, route, _), group) in &agg.groups {
        let Some(i) = index(start) else { continue };
        if let Some(s) = busiest.iter().position(|r| *r == route) {
            routes[s].requests[i] += group.requests();
        }
        if let Some(s) = throttled_routes.iter().position(|r| *r == route) {
            throttled_by_route[s].throttled[i] += group
                .statuses
                .iter()
                .filter(|(status, _)| *status == 429)
                .map(|(_, n)| n)
                .sum::<u64>();
        }
    }
    match &agg.computed {
        Some(computed) => {
            for (&(start, route), &p99) in &computed.by_bin_route_p99 {
                if let (Some(s), Some(i)) = (busiest.iter().position(|r| *r == route), index(start))
                {
                    routes[s].latency_p99_ms[i] = Some(p99);
                }
            }
        }
        None => {
            // The busiest routes' latency per bin, over their stages.
            for (&(start, route), l) in &agg.latencies.by_bin_route {
                if let (Some(s), Some(i)) = (busiest.iter().position(|r| *r == route), index(start))
                {
                    let missing = l.requests - l.latency.count();
                    let [p99] = l.latency.quantiles([0.99], missing);
                    routes[s].latency_p99_ms[i] = p99;
                }
            }
        }
    }
    Timeline {
        bin_seconds: bin,
        bins,
        routes,
        throttled_by_route,
        latency_histogram: latency_histogram(agg),
    }
}

/// The timeline's percentiles per bin start.
fn bin_percentiles(agg: &Aggregates) -> Vec<(i64, BinPercentiles)> {
    if let Some(computed) = &agg.computed {
        return computed.by_bin.iter().map(|(s, p)| (*s, *p)).collect();
    }
    let by_bin: BTreeMap<i64, _> = agg.latencies.by_bin.iter().map(|(s, l)| (*s, l)).collect();
    by_bin
        .into_iter()
        .map(|(start, l)| {
            let [l50, l95, l99] = l
                .latency
                .quantiles([0.5, 0.95, 0.99], l.missing(&l.latency));
            let [i50, i99] = l
                .integration
                .quantiles([0.5, 0.99], l.missing(&l.integration));
            let [o50] = l.overhead.quantiles([0.5], l.missing(&l.overhead));
            let p = BinPercentiles {
                latency: [l50, l95, l99],
                integration: [i50, i99],
                overhead_p50: o50,
            };
            (start, p)
        })
        .collect()
}

/// The latency histogram over every request (empty without histograms).
fn latency_histogram(agg: &Aggregates) -> Vec<HistogramBucket> {
    if agg.computed.is_some() {
        return Vec::new();
    }
    let mut buckets = vec![0u64; latency_bucket(f64::INFINITY) + 1];
    for l in agg.latencies.by_route.values() {
        count_buckets(&l.latency, &mut buckets);
    }
    latency_buckets(&buckets)
}

fn count_buckets(histogram: &Histogram, buckets: &mut [u64]) {
    histogram.each_sorted(&mut Each(|value, n| buckets[latency_bucket(value)] += n));
}
