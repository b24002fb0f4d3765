//! Timeouts: 504s (503s on HTTP APIs) that hit the integration timeout, and routes running close to it.

use super::stats::sort_top;
use super::{sort_name, AnalyzeOptions};
use crate::aggregate::{Aggregates, OTHER};
use crate::report::{Latency, NearTimeoutRoute, RouteTimeouts, Timeouts};

/// A route is "near the timeout" when its p99 integration latency is within 10 % of it.
pub(crate) const NEAR_SHARE: f64 = 0.9;

/// The timeouts section; `latency` must list every route (not yet cut to `--top`).
pub(crate) fn timeouts(agg: &Aggregates, latency: &Latency, options: &AnalyzeOptions) -> Timeouts {
    let mut by_route: Vec<RouteTimeouts> = agg
        .timeouts
        .iter()
        .filter(|(route, _)| **route != OTHER)
        .map(|(route, count)| RouteTimeouts {
            route: agg.route(*route),
            count: *count,
        })
        .collect();
    let count = agg.timeouts.values().sum();
    sort_top(&mut by_route, options.top, |r| {
        (r.count, sort_name(&r.route))
    });
    Timeouts {
        timeout_ms: options.timeout_ms,
        count,
        by_route,
        near_timeout_routes: near_timeout_routes(latency, options),
    }
}

/// Routes whose p99 integration latency is near the timeout, from the full latency section.
fn near_timeout_routes(latency: &Latency, options: &AnalyzeOptions) -> Vec<NearTimeoutRoute> {
    let timeout = options.timeout_ms as f64;
    let mut near: Vec<NearTimeoutRoute> = latency
        .by_route
        .iter()
        .filter_map(|r| {
            let p99 = r.stats.integration_latency_ms.p99?;
            (p99 >= timeout * NEAR_SHARE).then(|| NearTimeoutRoute {
                route: r.route.clone(),
                stage: r.stage.clone(),
                count: r.count,
                p99_integration_latency_ms: p99,
            })
        })
        .collect();
    sort_top(&mut near, options.top, |r| (r.count, sort_name(&r.route)));
    near
}
