//! Cache, inferred from access logs. No `$context` variable says whether the stage cache
//! answered, so the section looks for the pattern AWS's own sample relies on: a GET answered
//! 2xx whose line logs a response latency but no (or zero) integration latency did not reach
//! the backend, so it was probably a cache hit; one with an integration latency was a miss.
//! A route × stage counts only when it shows both kinds (the cache is per stage). Labelled
//! `source: "inferred"`; without that pattern the section reports `source: "none"`.

use super::routes::Totals;
use super::sort_name;
use super::stats::sort_top;
use crate::aggregate::{Aggregates, OTHER};
use crate::report::{Cache, RouteCache};

/// The cache section from the inferred hits and misses per route × stage.
pub(crate) fn cache(agg: &Aggregates, totals: &Totals, top: usize) -> Cache {
    let folded = totals
        .cache
        .iter()
        .filter(|((route, _), (h, m))| *route == OTHER && *h > 0 && *m > 0)
        .fold((0, 0), |(h, m), (_, c)| (h + c.0, m + c.1));
    cache_from_routes(
        totals
            .cache
            .iter()
            .filter(|((route, _), _)| *route != OTHER)
            .map(|(&(route, stage), &(hits, misses))| RouteCache {
                route: agg.route(route),
                stage: agg.stage(stage),
                hits,
                misses,
                hit_ratio: ratio(hits, misses),
            })
            .collect(),
        folded,
        top,
    )
}

/// The cache section from per route × stage hit and miss counts: only the route × stages
/// that show both kinds count (the cache is per stage); `folded`: the hits and misses of such
/// route × stages folded out of the lists.
fn cache_from_routes(by_route: Vec<RouteCache>, folded: (u64, u64), top: usize) -> Cache {
    let mut by_route: Vec<RouteCache> = by_route
        .into_iter()
        .filter(|r| r.hits > 0 && r.misses > 0)
        .collect();
    if by_route.is_empty() {
        return no_pattern();
    }
    let hits: u64 = by_route.iter().map(|r| r.hits).sum::<u64>() + folded.0;
    let misses: u64 = by_route.iter().map(|r| r.misses).sum::<u64>() + folded.1;
    sort_top(&mut by_route, top, |r| {
        (
            r.hits,
            format!("{}\u{0}{}", sort_name(&r.route), sort_name(&r.stage)),
        )
    });
    Cache {
        source: "inferred".into(),
        hits: Some(hits),
        misses: Some(misses),
        hit_ratio: ratio(hits, misses),
        note: "inferred from access logs: on a route and stage with both kinds, a 2xx GET \
               logged with a response latency but no integration latency counts as a hit, \
               one with an integration latency as a miss (a heuristic: MOCK integrations \
               look like hits)"
            .into(),
        by_route,
    }
}

fn no_pattern() -> Cache {
    Cache {
        source: "none".into(),
        hits: None,
        misses: None,
        hit_ratio: None,
        note: "no cached-GET pattern in the access logs (no route and stage has successful \
               GETs both with and without integration latency); cache metrics or execution \
               logs are needed to know"
            .into(),
        by_route: Vec::new(),
    }
}

/// Hits over hits and misses.
pub fn ratio(hits: u64, misses: u64) -> Option<f64> {
    let total = hits + misses;
    (total > 0).then(|| hits as f64 / total as f64)
}
