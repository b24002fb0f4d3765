//! Execution logs joined with access logs: join rate and the causes of 4xx/5xx.

use std::collections::{BTreeMap, HashSet};

use crate::decode::execution::Executions;
use crate::report::{Cache, CauseCount, ExecutionSummary, RouteCache};

/// Summarises stitched executions; `access_ids` are the access-log request IDs.
pub fn execution_summary<'a>(
    executions: &Executions,
    access_ids: impl IntoIterator<Item = &'a str>,
    top: usize,
) -> ExecutionSummary {
    let ids: HashSet<&str> = access_ids.into_iter().collect();
    let requests = executions.by_request.len() as u64;
    let joined = executions
        .by_request
        .keys()
        .filter(|id| ids.contains(id.as_str()))
        .count() as u64;
    let mut causes: BTreeMap<String, BTreeMap<u16, u64>> = BTreeMap::new();
    for record in executions.by_request.values() {
        let failed = record.status.is_some_and(|s| s >= 400);
        if let (true, Some(cause)) = (failed || record.cause.is_some(), &record.cause) {
            let statuses = causes.entry(cause.clone()).or_default();
            *statuses.entry(record.status.unwrap_or(0)).or_default() += 1;
        } else if failed {
            let statuses = causes.entry("no cause logged".to_string()).or_default();
            *statuses.entry(record.status.unwrap_or(0)).or_default() += 1;
        }
    }
    let mut causes: Vec<CauseCount> = causes
        .into_iter()
        .map(|(cause, statuses)| CauseCount {
            count: statuses.values().sum(),
            cause,
            statuses,
        })
        .collect();
    causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    if top > 0 {
        causes.truncate(top);
    }
    ExecutionSummary {
        requests,
        joined,
        join_rate: (requests > 0).then(|| joined as f64 / requests as f64),
        unclassified_lines: executions.unclassified(),
        lines_without_request_id: executions.without_id,
        requests_added: 0,
        requests_completed: 0,
        causes,
    }
}

/// Cache hits and misses as execution logs show them: a 2xx GET that completed without
/// calling the integration was answered from the cache; one that called it was a miss.
/// Counted on route × stage pairs that show both (MOCK integrations never call one).
pub fn cache_from_executions(executions: &Executions, top: usize) -> Option<Cache> {
    let mut by_route: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    for r in executions.by_request.values() {
        let get_2xx =
            r.method.as_deref() == Some("GET") && r.status.is_some_and(|s| (200..300).contains(&s));
        if !get_2xx {
            continue;
        }
        let route = format!("GET {}", r.resource.as_deref().unwrap_or("-"));
        let entry = by_route.entry((route, r.stage.clone())).or_default();
        if r.integration_called {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    let ratio = |h: u64, m: u64| (h + m > 0).then(|| h as f64 / (h + m) as f64);
    let mut rows: Vec<RouteCache> = by_route
        .into_iter()
        .filter(|(_, (h, m))| *h > 0 && *m > 0)
        .map(|((route, stage), (hits, misses))| RouteCache {
            route: Some(route),
            stage,
            hits,
            misses,
            hit_ratio: ratio(hits, misses),
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let hits: u64 = rows.iter().map(|r| r.hits).sum();
    let misses: u64 = rows.iter().map(|r| r.misses).sum();
    rows.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.route.cmp(&b.route)));
    if top > 0 {
        rows.truncate(top);
    }
    Some(Cache {
        source: "execution-logs".into(),
        hits: Some(hits),
        misses: Some(misses),
        hit_ratio: ratio(hits, misses),
        note: "from execution logs: a 2xx GET that completed without calling the integration \
               was served from the cache, one that called it was a miss (route and stage \
               pairs showing both)"
            .into(),
        by_route: rows,
    })
}
