//! `--compare`: per route, requests, error rates and p99 latency of this period against a
//! baseline period (yesterday vs today), biggest regressions first.

use std::collections::BTreeMap;

use polars::prelude::PolarsResult;

use super::name_of;
use crate::aggregate::histogram::Histogram;
use crate::model::{col, RequestTable};
use crate::report::{Comparison, RouteChange, Summary};
use crate::FastMap;

/// One route's profile in one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteProfile {
    /// Requests.
    pub requests: u64,
    /// 4xx + 5xx.
    pub errors: u64,
    /// 5xx.
    pub server_errors: u64,
    /// p99 response latency, ms.
    pub p99_ms: Option<f64>,
}

/// Profiles per route name, read straight from the table's columns: one pass that counts
/// each route's requests and errors and its latencies in an exact histogram (the p99 is the
/// linearly interpolated 99th percentile of the logged latencies, as polars computes it).
pub fn route_profiles(
    table: &RequestTable,
) -> PolarsResult<BTreeMap<Option<String>, RouteProfile>> {
    let frame = &table.frame;
    let routes = frame.column(col::ROUTE)?.u32()?;
    let statuses = frame.column(col::STATUS)?.u32()?;
    let latencies = frame.column(col::LATENCY)?.f64()?;
    // Per route code: the profile being counted, its latencies and how many had none.
    let mut groups: FastMap<Option<u32>, (RouteProfile, Histogram, u64)> = FastMap::default();
    for ((route, status), latency) in routes.iter().zip(statuses.iter()).zip(latencies.iter()) {
        let (profile, histogram, missing) = groups.entry(route).or_default();
        profile.requests += 1;
        if let Some(status) = status {
            profile.errors += u64::from((400..=599).contains(&status));
            profile.server_errors += u64::from((500..=599).contains(&status));
        }
        match latency {
            Some(ms) => histogram.add(ms),
            None => *missing += 1,
        }
    }
    Ok(groups
        .into_iter()
        .map(|(route, (mut profile, histogram, missing))| {
            [profile.p99_ms] = histogram.quantiles([0.99], missing);
            (name_of(&table.dictionaries.route, route), profile)
        })
        .collect())
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn change(before: Option<f64>, now: Option<f64>) -> Option<f64> {
    match (before, now) {
        (Some(b), Some(n)) if b > 0.0 => Some((n - b) / b),
        _ => None,
    }
}

/// Compares per-route profiles; `top` keeps the biggest regressions (0 = all).
pub fn compare(
    now: &BTreeMap<Option<String>, RouteProfile>,
    before: &BTreeMap<Option<String>, RouteProfile>,
    baseline: &Summary,
    baseline_inputs: Vec<String>,
    top: usize,
) -> Comparison {
    let empty = RouteProfile::default();
    let names: std::collections::BTreeSet<&Option<String>> =
        now.keys().chain(before.keys()).collect();
    let mut routes: Vec<RouteChange> = names
        .into_iter()
        .map(|name| {
            let n = now.get(name).unwrap_or(&empty);
            let b = before.get(name).unwrap_or(&empty);
            let error_rate_before = rate(b.errors, b.requests);
            let error_rate_now = rate(n.errors, n.requests);
            let p99_change = change(b.p99_ms, n.p99_ms);
            let error_growth = match (error_rate_before, error_rate_now) {
                (Some(b), Some(n)) => (n - b).max(0.0),
                (None, Some(n)) => n,
                _ => 0.0,
            };
            RouteChange {
                route: name.clone(),
                requests_before: b.requests,
                requests_now: n.requests,
                requests_change: change(Some(b.requests as f64), Some(n.requests as f64)),
                error_rate_before,
                error_rate_now,
                server_error_rate_before: rate(b.server_errors, b.requests),
                server_error_rate_now: rate(n.server_errors, n.requests),
                p99_before_ms: b.p99_ms,
                p99_now_ms: n.p99_ms,
                p99_change,
                score: p99_change.unwrap_or(0.0).max(0.0) + 10.0 * error_growth,
            }
        })
        .collect();
    routes.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.requests_now.cmp(&a.requests_now))
            .then(a.route.cmp(&b.route))
    });
    if top > 0 {
        routes.truncate(top);
    }
    Comparison {
        baseline_inputs,
        baseline_requests: baseline.requests,
        baseline_start: baseline.start.clone(),
        baseline_end: baseline.end.clone(),
        routes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(requests: u64, errors: u64, p99: f64) -> RouteProfile {
        RouteProfile {
            requests,
            errors,
            server_errors: errors,
            p99_ms: Some(p99),
        }
    }

    #[test]
    fn regressions_first_by_hand() {
        let before: BTreeMap<_, _> = [
            (Some("GET /a".to_string()), profile(100, 1, 100.0)),
            (Some("GET /b".to_string()), profile(100, 0, 100.0)),
            (Some("GET /gone".to_string()), profile(10, 0, 10.0)),
        ]
        .into();
        let now: BTreeMap<_, _> = [
            // p99 doubled: score 1.0.
            (Some("GET /a".to_string()), profile(200, 2, 200.0)),
            // errors 0 → 20 %: score 2.0.
            (Some("GET /b".to_string()), profile(100, 20, 100.0)),
            (Some("GET /new".to_string()), profile(5, 0, 50.0)),
        ]
        .into();
        let c = compare(
            &now,
            &before,
            &Summary {
                requests: 210,
                start: None,
                end: None,
                duration_seconds: None,
                status_classes: Default::default(),
                error_rate: Default::default(),
                avg_rps: None,
                peak_rps: None,
                folded_routes: 0,
                inferred_routes: 0,
            },
            vec!["y.log".into()],
            0,
        );
        let order: Vec<&str> = c
            .routes
            .iter()
            .map(|r| r.route.as_deref().unwrap())
            .collect();
        assert_eq!(order, ["GET /b", "GET /a", "GET /new", "GET /gone"]);
        assert_eq!(c.routes[0].score, 2.0);
        assert_eq!(c.routes[1].p99_change, Some(1.0));
        assert_eq!(c.routes[1].requests_change, Some(1.0));
        assert_eq!(c.routes[3].requests_now, 0);
        assert_eq!(c.routes[2].requests_change, None);
    }
}
