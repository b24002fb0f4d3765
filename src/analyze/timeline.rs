//! The report over time: per bin, requests by status class, 429s, latency percentiles and
//! inferred cache hits; per-bin series for the busiest routes and for routes with 429s; and
//! the latency histogram. Feeds the HTML charts and the terminal sparklines.

use std::collections::HashMap;

use polars::prelude::*;

use super::stats::{
    code_column, count_where, f64_column, i64_column, pair_key, status_between, u64_column,
};
use super::{name_of, sort_name};
use crate::filter::rfc3339;
use crate::model::{col, RequestTable};
use crate::report::{HistogramBucket, RouteThrottled, RouteTimeline, TimeBin, Timeline};

/// Most bins an automatic bin width gives.
const MAX_BINS: i64 = 120;
/// Routes with their own series.
const TIMELINE_ROUTES: usize = 8;
/// Histogram bucket upper bounds, ms.
const BUCKETS: [f64; 14] = [
    5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 29000.0,
    30000.0,
];

/// Round bin widths, seconds; beyond the last, whole days.
const WIDTHS: [i64; 15] = [
    1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400,
];
const DAY: i64 = 86_400;

/// The smallest round bin width giving at most [`MAX_BINS`] bins over `seconds`.
pub fn auto_bin_seconds(seconds: i64) -> i64 {
    WIDTHS
        .into_iter()
        .find(|w| (seconds + w - 1) / w <= MAX_BINS)
        .unwrap_or_else(|| {
            let days = (seconds + DAY * MAX_BINS - 1) / (DAY * MAX_BINS);
            days.max(1) * DAY
        })
}

/// The largest width that divides every width [`auto_bin_seconds`] can give for `seconds`
/// or any longer range: data kept in bins this wide can be regrouped exactly into the final
/// timeline's bins once the whole range is known (the streaming aggregation).
pub fn bin_granularity(seconds: i64) -> i64 {
    let width = auto_bin_seconds(seconds);
    let gcd = |mut a: i64, mut b: i64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    WIDTHS.into_iter().filter(|w| *w >= width).fold(DAY, gcd)
}

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

fn bin_expr(bin: i64) -> Expr {
    // Times are epoch seconds ≥ 0, so the remainder is the offset into the bin.
    col(col::SECOND) - col(col::SECOND) % lit(bin)
}

/// The timeline; `bin_seconds` `None` picks a width automatically.
pub fn timeline(table: &RequestTable, bin_seconds: Option<i64>) -> PolarsResult<Timeline> {
    if table.is_empty() {
        return Ok(Timeline {
            bin_seconds: bin_seconds.unwrap_or(60),
            ..Timeline::default()
        });
    }
    let bounds = table
        .lazy()
        .select([
            col(col::SECOND).min().alias("first"),
            col(col::SECOND).max().alias("last"),
        ])
        .collect()?;
    let first = i64_column(&bounds, "first")?[0];
    let last = i64_column(&bounds, "last")?[0];
    let bin = bin_seconds
        .unwrap_or_else(|| auto_bin_seconds(last - first + 1))
        .max(1);
    let first_bin = first.div_euclid(bin) * bin;
    let count = ((last.div_euclid(bin) * bin - first_bin) / bin + 1) as usize;
    let index = |start: i64| ((start - first_bin) / bin) as usize;

    // Cache pattern routes: GET 2xx both with and without integration latency.
    let get_code = table
        .dictionaries
        .method
        .names()
        .iter()
        .position(|m| m.eq_ignore_ascii_case("GET"))
        .map(|c| c as u32);
    let get_2xx = match get_code {
        Some(code) => col(col::METHOD).eq(lit(code)).and(status_between(200, 299)),
        None => lit(false),
    };
    let integration = col(col::INTEGRATION_LATENCY);
    let hit = get_2xx.clone().and(col(col::LATENCY).is_not_null()).and(
        integration
            .clone()
            .is_null()
            .or(integration.clone().eq(lit(0.0))),
    );
    let miss = get_2xx.and(integration.clone().gt(lit(0.0)));
    // The cache is per stage: a route × stage counts when it shows both kinds (as in the
    // cache section).
    let pattern = table
        .lazy()
        .group_by([pair_key(col(col::ROUTE), col(col::STAGE))])
        .agg([
            col(col::ROUTE).first(),
            col(col::STAGE).first(),
            count_where(hit.clone(), "hits"),
            count_where(miss.clone(), "misses"),
        ])
        .collect()?;
    let cached_route = {
        let routes = code_column(&pattern, col::ROUTE)?;
        let stages = code_column(&pattern, col::STAGE)?;
        let hits = u64_column(&pattern, "hits")?;
        let misses = u64_column(&pattern, "misses")?;
        (0..pattern.height())
            .filter(|i| hits[*i] > 0 && misses[*i] > 0)
            .filter_map(|i| Some((routes[i]?, stages[i])))
            .fold(lit(false), |acc, (route, stage)| {
                let stage = match stage {
                    Some(s) => col(col::STAGE).eq(lit(s)),
                    None => col(col::STAGE).is_null(),
                };
                acc.or(col(col::ROUTE).eq(lit(route)).and(stage))
            })
    };

    let q =
        |c: &str, p: f64, name: &str| col(c).quantile(lit(p), QuantileMethod::Linear).alias(name);
    let frame = table
        .lazy()
        .with_column(bin_expr(bin).alias("bin"))
        .group_by([col("bin")])
        .agg([
            len().cast(DataType::UInt64).alias("requests"),
            count_where(status_between(200, 299), "c2"),
            count_where(status_between(300, 399), "c3"),
            count_where(status_between(400, 499), "c4"),
            count_where(status_between(500, 599), "c5"),
            count_where(col(col::STATUS).eq(lit(429u32)), "throttled"),
            q(col::LATENCY, 0.5, "l50"),
            q(col::LATENCY, 0.95, "l95"),
            q(col::LATENCY, 0.99, "l99"),
            q(col::INTEGRATION_LATENCY, 0.5, "i50"),
            q(col::INTEGRATION_LATENCY, 0.99, "i99"),
            q(col::OVERHEAD, 0.5, "o50"),
            count_where(hit.and(cached_route.clone()), "hits"),
            count_where(miss.and(cached_route), "misses"),
        ])
        .collect()?;
    let mut bins: Vec<TimeBin> = (0..count)
        .map(|i| TimeBin {
            start: rfc3339((first_bin + i as i64 * bin) * 1000),
            ..TimeBin::default()
        })
        .collect();
    let starts = i64_column(&frame, "bin")?;
    let u = |n: &str| u64_column(&frame, n);
    let f = |n: &str| f64_column(&frame, n);
    let (requests, c2, c3, c4, c5, throttled, hits, misses) = (
        u("requests")?,
        u("c2")?,
        u("c3")?,
        u("c4")?,
        u("c5")?,
        u("throttled")?,
        u("hits")?,
        u("misses")?,
    );
    let (l50, l95, l99, i50, i99, o50) = (
        f("l50")?,
        f("l95")?,
        f("l99")?,
        f("i50")?,
        f("i99")?,
        f("o50")?,
    );
    for row in 0..frame.height() {
        let b = &mut bins[index(starts[row])];
        b.requests = requests[row];
        b.c2xx = c2[row];
        b.c3xx = c3[row];
        b.c4xx = c4[row];
        b.c5xx = c5[row];
        b.throttled = throttled[row];
        b.latency_p50_ms = l50[row];
        b.latency_p95_ms = l95[row];
        b.latency_p99_ms = l99[row];
        b.integration_latency_p50_ms = i50[row];
        b.integration_latency_p99_ms = i99[row];
        b.overhead_p50_ms = o50[row];
        b.cache_hits = hits[row];
        b.cache_misses = misses[row];
    }

    let routes = route_series(table, bin, count, &index)?;
    let throttled_by_route = throttle_series(table, bin, count, &index)?;
    let latency_histogram = histogram(table)?;
    Ok(Timeline {
        bin_seconds: bin,
        bins,
        routes,
        throttled_by_route,
        latency_histogram,
    })
}

/// The top route codes by a count, most first (ties by name, missing last).
fn top_routes(table: &RequestTable, count: Expr, n: usize) -> PolarsResult<Vec<Option<u32>>> {
    let frame = table
        .lazy()
        .group_by([col(col::ROUTE)])
        .agg([count.alias("n")])
        .filter(col("n").gt(lit(0u64)))
        .collect()?;
    let codes = code_column(&frame, col::ROUTE)?;
    let counts = u64_column(&frame, "n")?;
    let mut ranked: Vec<(Option<u32>, u64, String)> = codes
        .into_iter()
        .zip(counts)
        .map(|(code, n)| {
            (
                code,
                n,
                sort_name(&name_of(&table.dictionaries.route, code)),
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(&b.2)));
    Ok(ranked.into_iter().take(n).map(|(code, ..)| code).collect())
}

/// `route` is one of `codes` (a short list).
fn any_route(codes: &[u32]) -> Expr {
    codes
        .iter()
        .fold(lit(false), |acc, c| acc.or(col(col::ROUTE).eq(lit(*c))))
}

fn route_filter(routes: &[Option<u32>]) -> Expr {
    let codes: Vec<u32> = routes.iter().flatten().copied().collect();
    let listed = any_route(&codes);
    if routes.contains(&None) {
        listed.or(col(col::ROUTE).is_null())
    } else {
        listed
    }
}

fn route_series(
    table: &RequestTable,
    bin: i64,
    count: usize,
    index: &dyn Fn(i64) -> usize,
) -> PolarsResult<Vec<RouteTimeline>> {
    let top = top_routes(table, len().cast(DataType::UInt64), TIMELINE_ROUTES)?;
    let frame = table
        .lazy()
        .filter(route_filter(&top))
        .with_column(bin_expr(bin).alias("bin"))
        .group_by([pair_key(col(col::ROUTE), col("bin"))])
        .agg([
            col(col::ROUTE).first(),
            col("bin").first(),
            len().cast(DataType::UInt64).alias("requests"),
            col(col::LATENCY)
                .quantile(lit(0.99), QuantileMethod::Linear)
                .alias("p99"),
        ])
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let starts = i64_column(&frame, "bin")?;
    let requests = u64_column(&frame, "requests")?;
    let p99 = f64_column(&frame, "p99")?;
    let slot: HashMap<Option<u32>, usize> = top.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let mut out: Vec<RouteTimeline> = top
        .iter()
        .map(|r| RouteTimeline {
            route: name_of(&table.dictionaries.route, *r),
            requests: vec![0; count],
            latency_p99_ms: vec![None; count],
        })
        .collect();
    for row in 0..frame.height() {
        if let Some(&s) = slot.get(&routes[row]) {
            let i = index(starts[row]);
            out[s].requests[i] = requests[row];
            out[s].latency_p99_ms[i] = p99[row];
        }
    }
    Ok(out)
}

fn throttle_series(
    table: &RequestTable,
    bin: i64,
    count: usize,
    index: &dyn Fn(i64) -> usize,
) -> PolarsResult<Vec<RouteThrottled>> {
    let throttled = col(col::STATUS).eq(lit(429u32));
    let top = top_routes(table, count_where(throttled.clone(), "t"), 12)?;
    if top.is_empty() {
        return Ok(Vec::new());
    }
    let frame = table
        .lazy()
        .filter(throttled.and(route_filter(&top)))
        .with_column(bin_expr(bin).alias("bin"))
        .group_by([pair_key(col(col::ROUTE), col("bin"))])
        .agg([
            col(col::ROUTE).first(),
            col("bin").first(),
            len().cast(DataType::UInt64).alias("n"),
        ])
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let starts = i64_column(&frame, "bin")?;
    let n = u64_column(&frame, "n")?;
    let slot: HashMap<Option<u32>, usize> = top.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let mut out: Vec<RouteThrottled> = top
        .iter()
        .map(|r| RouteThrottled {
            route: name_of(&table.dictionaries.route, *r),
            throttled: vec![0; count],
        })
        .collect();
    for row in 0..frame.height() {
        if let Some(&s) = slot.get(&routes[row]) {
            out[s].throttled[index(starts[row])] = n[row];
        }
    }
    Ok(out)
}

fn histogram(table: &RequestTable) -> PolarsResult<Vec<HistogramBucket>> {
    let latency = col(col::LATENCY);
    let mut aggs = Vec::new();
    let mut low: Option<f64> = None;
    for (i, up) in BUCKETS.iter().enumerate() {
        let mut cond = latency.clone().lt_eq(lit(*up));
        if let Some(low) = low {
            cond = cond.and(latency.clone().gt(lit(low)));
        }
        aggs.push(count_where(cond, &format!("b{i}")));
        low = Some(*up);
    }
    aggs.push(count_where(
        latency.gt(lit(BUCKETS[BUCKETS.len() - 1])),
        "over",
    ));
    let frame = table.lazy().select(aggs).collect()?;
    let mut counts = (0..BUCKETS.len())
        .map(|i| Ok(u64_column(&frame, &format!("b{i}"))?[0]))
        .collect::<PolarsResult<Vec<u64>>>()?;
    counts.push(u64_column(&frame, "over")?[0]);
    Ok(latency_buckets(&counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_bins() {
        assert_eq!(auto_bin_seconds(60), 1);
        assert_eq!(auto_bin_seconds(3600), 30);
        assert_eq!(auto_bin_seconds(3601), 60);
        assert_eq!(auto_bin_seconds(7200), 60);
        assert_eq!(auto_bin_seconds(7201), 300);
        assert_eq!(auto_bin_seconds(86400), 900);
        assert_eq!(auto_bin_seconds(86400 * 365), 86400 * 4);
    }

    #[test]
    fn granularity_divides_every_later_width() {
        for seconds in [1, 60, 121, 600, 1200, 1201, 3600, 7201, 86400, 86400 * 400] {
            let g = bin_granularity(seconds);
            for later in [
                seconds,
                seconds * 2,
                seconds * 7,
                seconds * 100,
                seconds * 1000,
            ] {
                assert_eq!(auto_bin_seconds(later) % g, 0, "{seconds} → {later}");
            }
            assert_eq!(auto_bin_seconds(seconds) % g, 0);
        }
        assert_eq!(bin_granularity(86400), 900);
        assert_eq!(bin_granularity(600), 5);
    }
}
