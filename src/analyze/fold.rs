//! Routes no section can show, folded into one counted "other" route before the sections are
//! computed: at high cardinality (raw paths with ids in them) the per-route work and the
//! report's lists stay bounded by `--top`, while every total, per-bin count and overall
//! percentile stays what it was (the folded groups are merged, not dropped).
//!
//! A route is kept when it could appear in any list: among the `--top` of route × stages by
//! requests (latency), of routes by 4xx+5xx (errors), by 429s (throttling), by timeouts, of
//! route × stages by inferred cache hits, near the timeout, or among the timeline's busiest
//! and most throttled routes. Ties at a list's last place are all kept, so the choice never
//! depends on names.

use std::collections::HashSet;

use super::routes::Totals;
use super::timeline::{THROTTLED_ROUTES, TIMELINE_ROUTES};
use super::timeouts::NEAR_SHARE;
use super::AnalyzeOptions;
use crate::aggregate::{add_group, add_latencies, add_response_latency, Aggregates, Group, OTHER};
use crate::FastMap;

/// Routes are folded only beyond this many (below it the sections' per-route work is small).
pub const FOLD_ABOVE: usize = 1000;

/// Folds the routes no section can show into [`OTHER`]; how many were folded.
pub(crate) fn fold_routes(agg: &mut Aggregates, options: &AnalyzeOptions) -> u64 {
    let top = options.top;
    // Every route with requests has a code: few codes, nothing to fold (and no totals to
    // count for it).
    if top == 0 || agg.names.routes.names().len() <= FOLD_ABOVE {
        return 0;
    }
    let totals = Totals::of(agg);
    if totals.routes.len() <= FOLD_ABOVE {
        return 0;
    }
    let mut keep: HashSet<u32> = HashSet::new();
    let mut keep_top = |counts: Vec<(u32, u64)>, n: usize| {
        for route in leaders(counts, n) {
            keep.insert(route);
        }
    };
    let routes = |key: &dyn Fn(&super::routes::RouteCounts) -> u64| -> Vec<(u32, u64)> {
        totals.routes.iter().map(|(r, c)| (*r, key(c))).collect()
    };
    keep_top(routes(&|c| c.c4xx + c.c5xx), top);
    keep_top(routes(&|c| c.throttled), top.max(THROTTLED_ROUTES));
    keep_top(routes(&|c| c.requests), top.max(TIMELINE_ROUTES));
    let pairs = |list: Vec<((u32, u32), u64)>| -> Vec<(u32, u64)> {
        list.into_iter().map(|((r, _), n)| (r, n)).collect()
    };
    keep_top(
        pairs(totals.route_stage.iter().map(|(k, n)| (*k, *n)).collect()),
        top,
    );
    keep_top(agg.timeouts.iter().map(|(r, n)| (*r, *n)).collect(), top);
    let pattern = |hits: u64, misses: u64| hits > 0 && misses > 0;
    keep_top(
        pairs(
            totals
                .cache
                .iter()
                .filter(|(_, (h, m))| pattern(*h, *m))
                .map(|(k, (h, _))| (*k, *h))
                .collect(),
        ),
        top,
    );
    keep_top(pairs(near_timeout(agg, &totals, options)), top);

    let folded = totals.routes.keys().filter(|r| !keep.contains(r)).count() as u64;
    if folded == 0 {
        return 0;
    }
    // Merged as they are taken out, so the folded groups are freed as they go.
    let mut other: FastMap<(i64, u32), Group> = FastMap::default();
    for ((bin, route, stage), mut group) in agg.groups.extract_if(|(_, r, _), _| !keep.contains(r))
    {
        // Only route × stages with both kinds count as cached (analyze::cache).
        let (hits, misses) = totals
            .cache
            .get(&(route, stage))
            .copied()
            .unwrap_or_default();
        if !pattern(hits, misses) {
            (group.hits, group.misses) = (0, 0);
        }
        match other.get_mut(&(bin, stage)) {
            Some(mine) => mine.merge(&group),
            None => {
                other.insert((bin, stage), group);
            }
        }
    }
    for ((bin, stage), group) in other {
        add_group(&mut agg.groups, (bin, OTHER, stage), group);
    }
    let latencies = &mut agg.latencies;
    let folded_routes: Vec<_> = latencies
        .by_route
        .extract_if(|(r, _), _| !keep.contains(r))
        .collect();
    for ((_, stage), l) in folded_routes {
        add_latencies(&mut latencies.by_route, (OTHER, stage), l);
    }
    let folded_bins: Vec<_> = latencies
        .by_bin_route
        .extract_if(|(_, r), _| !keep.contains(r))
        .collect();
    for ((bin, _), l) in folded_bins {
        add_response_latency(&mut latencies.by_bin_route, (bin, OTHER), l);
    }
    let timeouts = std::mem::take(&mut agg.timeouts);
    for (route, n) in timeouts {
        let route = if keep.contains(&route) { route } else { OTHER };
        *agg.timeouts.entry(route).or_default() += n;
    }
    if let Some(computed) = &mut agg.computed {
        computed.by_route.retain(|(r, _), _| keep.contains(r));
        computed
            .by_bin_route_p99
            .retain(|(_, r), _| keep.contains(r));
    }
    folded
}

/// Route × stages whose integration p99 is near the timeout, with their requests.
fn near_timeout(
    agg: &Aggregates,
    totals: &Totals,
    options: &AnalyzeOptions,
) -> Vec<((u32, u32), u64)> {
    let near = options.timeout_ms as f64 * NEAR_SHARE;
    let count = |key: &(u32, u32)| totals.route_stage.get(key).copied().unwrap_or(0);
    if let Some(computed) = &agg.computed {
        return computed
            .by_route
            .iter()
            .filter(|(_, s)| s.integration_latency_ms.p99.is_some_and(|p| p >= near))
            .map(|(k, _)| (*k, count(k)))
            .collect();
    }
    agg.latencies
        .by_route
        .iter()
        .filter(|(_, l)| {
            let [p99] = l.integration.quantiles([0.99], l.missing(&l.integration));
            p99.is_some_and(|p| p >= near)
        })
        .map(|(k, _)| (*k, count(k)))
        .collect()
}

/// The routes of the `n` largest non-zero counts, and every route tied with the last of them.
fn leaders(mut counts: Vec<(u32, u64)>, n: usize) -> Vec<u32> {
    counts.retain(|(_, c)| *c > 0);
    counts.sort_unstable_by_key(|(_, c)| std::cmp::Reverse(*c));
    let Some(last) = counts.get(n.saturating_sub(1).min(counts.len().saturating_sub(1))) else {
        return Vec::new();
    };
    let last = if counts.len() <= n { 0 } else { last.1 };
    counts
        .into_iter()
        .take_while(|(_, c)| *c >= last)
        .map(|(r, _)| r)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use super::*;
    use crate::aggregate::{Accumulator, AggregateOptions};
    use crate::analyze::build_report;
    use crate::model::Request;
    use crate::report::{Inputs, Report, Summary};

    /// 40 000 requests over 3 000 raw paths (a few hot ones), GETs with and without
    /// integration latency, 429s, 504s at the timeout and 5xx spread over the paths.
    fn aggregates() -> Accumulator {
        let mut acc = Accumulator::new(Arc::new(AggregateOptions {
            timeout_ms: 29_000,
            ..AggregateOptions::default()
        }));
        for i in 0u64..40_000 {
            let id = if i % 3 == 0 { i % 7 } else { (i * 7919) % 3000 };
            let status = match i % 50 {
                0 => 429,
                1 => 504,
                2 => 500,
                3 => 404,
                _ => 200,
            };
            let latency = ((i * 31) % 900) as f64;
            let integration = match (status, i % 4) {
                (504, _) => Some(29_001.0),
                (_, 0) => None,
                _ => Some((latency - 9.0).max(0.0)),
            };
            acc.push(&Request {
                time_ms: 1_795_514_400_000 + (i as i64) * 90,
                status: Some(status),
                method: Some(Cow::Borrowed(if i % 2 == 0 { "GET" } else { "POST" })),
                route: Some(Cow::Owned(format!("GET /items/{id}"))),
                stage: Some(Cow::Borrowed(if i % 5 == 0 { "dev" } else { "prod" })),
                api_key: Some(Cow::Owned(format!("key{}", i % 60))),
                latency_ms: Some(latency),
                integration_latency_ms: integration,
                ..Request::default()
            });
        }
        acc
    }

    fn report(top: usize) -> Report {
        let inputs = Inputs::default();
        let options = AnalyzeOptions {
            top,
            ..AnalyzeOptions::default()
        };
        build_report(aggregates().into_aggregates(), inputs, &options)
    }

    fn first<T: Clone>(list: &[T], n: usize) -> Vec<T> {
        list.iter().take(n).cloned().collect()
    }

    #[test]
    fn folding_changes_no_total_and_no_list() {
        let all = report(0);
        let top = report(5);
        assert_eq!(all.summary.folded_routes, 0);
        assert!(
            top.summary.folded_routes > 1000,
            "{}",
            top.summary.folded_routes
        );
        assert_eq!(
            Summary {
                folded_routes: 0,
                ..top.summary.clone()
            },
            all.summary
        );
        assert_eq!(top.latency.overall, all.latency.overall);
        assert_eq!(top.latency.by_route, first(&all.latency.by_route, 5));
        assert_eq!(top.errors.by_route, first(&all.errors.by_route, 5));
        assert_eq!(top.errors.by_status, first(&all.errors.by_status, 5));
        assert_eq!(top.throttling.throttled, all.throttling.throttled);
        assert_eq!(top.throttling.by_route, first(&all.throttling.by_route, 5));
        assert_eq!(top.timeouts.count, all.timeouts.count);
        assert!(top.timeouts.count > 0);
        assert_eq!(top.timeouts.by_route, first(&all.timeouts.by_route, 5));
        assert_eq!(
            top.timeouts.near_timeout_routes,
            first(&all.timeouts.near_timeout_routes, 5)
        );
        assert_eq!(
            (top.cache.hits, top.cache.misses, &top.cache.source),
            (all.cache.hits, all.cache.misses, &all.cache.source)
        );
        assert!(all.cache.hits.is_some_and(|h| h > 0));
        assert_eq!(top.cache.by_route, first(&all.cache.by_route, 5));
        assert_eq!(top.timeline, all.timeline);
    }
}
