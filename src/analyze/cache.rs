//! Cache, inferred from access logs. No `$context` variable says whether the stage cache
//! answered, so the section looks for the pattern AWS's own sample relies on: a GET answered
//! 2xx whose line logs a response latency but no (or zero) integration latency did not reach
//! the backend, so it was probably a cache hit; one with an integration latency was a miss.
//! A route × stage counts only when it shows both kinds (the cache is per stage). Labelled
//! `source: "inferred"`; without that pattern the section reports `source: "none"`.

use polars::prelude::*;

use super::stats::{code_column, count_where, pair_key, sort_top, status_between, u64_column};
use super::{name_of, sort_name, AnalyzeOptions};
use crate::model::{col, RequestTable};
use crate::report::{Cache, RouteCache};

/// The cache section.
pub fn cache(table: &RequestTable, options: &AnalyzeOptions) -> PolarsResult<Cache> {
    let get_code = table
        .dictionaries
        .method
        .names()
        .iter()
        .position(|m| m.eq_ignore_ascii_case("GET"));
    let Some(get_code) = get_code else {
        return Ok(no_pattern());
    };
    let get_2xx = col(col::METHOD)
        .eq(lit(get_code as u32))
        .and(status_between(200, 299));
    let integration = col(col::INTEGRATION_LATENCY);
    let hit = get_2xx.clone().and(col(col::LATENCY).is_not_null()).and(
        integration
            .clone()
            .is_null()
            .or(integration.clone().eq(lit(0.0))),
    );
    let miss = get_2xx.and(integration.gt(lit(0.0)));
    let frame = table
        .lazy()
        .group_by([pair_key(col(col::ROUTE), col(col::STAGE))])
        .agg([
            col(col::ROUTE).first(),
            col(col::STAGE).first(),
            count_where(hit, "hits"),
            count_where(miss, "misses"),
        ])
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let stages = code_column(&frame, col::STAGE)?;
    let hits = u64_column(&frame, "hits")?;
    let misses = u64_column(&frame, "misses")?;
    let by_route: Vec<RouteCache> = (0..frame.height())
        .map(|i| RouteCache {
            route: name_of(&table.dictionaries.route, routes[i]),
            stage: name_of(&table.dictionaries.stage, stages[i]),
            hits: hits[i],
            misses: misses[i],
            hit_ratio: ratio(hits[i], misses[i]),
        })
        .collect();
    Ok(cache_from_routes(by_route, options.top))
}

/// The cache section from per route × stage hit and miss counts: only the route × stages
/// that show both kinds count (the cache is per stage).
pub fn cache_from_routes(by_route: Vec<RouteCache>, top: usize) -> Cache {
    let mut by_route: Vec<RouteCache> = by_route
        .into_iter()
        .filter(|r| r.hits > 0 && r.misses > 0)
        .collect();
    if by_route.is_empty() {
        return no_pattern();
    }
    let hits: u64 = by_route.iter().map(|r| r.hits).sum();
    let misses: u64 = by_route.iter().map(|r| r.misses).sum();
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
