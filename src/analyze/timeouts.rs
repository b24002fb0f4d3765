//! Timeouts: 504s that hit the integration timeout, and routes running close to it.

use polars::prelude::*;

use super::stats::{code_column, sort_top, u64_column};
use super::{name_of, sort_name, AnalyzeOptions};
use crate::model::{col, RequestTable};
use crate::report::{Latency, NearTimeoutRoute, RouteTimeouts, Timeouts};

/// A 504 counts as a timeout when its integration latency is at least this share of the
/// timeout (logged integration latency on a timeout is the timeout plus a few ms; the 1 %
/// slack tolerates clock granularity).
pub const REACHED_SHARE: f64 = 0.99;
/// A route is "near the timeout" when its p99 integration latency is within 10 % of it.
const NEAR_SHARE: f64 = 0.9;

/// The timeouts section; `latency` must list every route (not yet cut to `--top`).
pub fn timeouts(
    table: &RequestTable,
    latency: &Latency,
    options: &AnalyzeOptions,
) -> PolarsResult<Timeouts> {
    let timeout = options.timeout_ms as f64;
    let mut reached = col(col::INTEGRATION_LATENCY).gt_eq(lit(timeout * REACHED_SHARE));
    if let Some(code) = table
        .dictionaries
        .error_type
        .names()
        .iter()
        .position(|t| &**t == "INTEGRATION_TIMEOUT")
    {
        reached = reached.or(col(col::ERROR_TYPE).eq(lit(code as u32)));
    }
    let frame = table
        .lazy()
        .filter(col(col::STATUS).eq(lit(504u32)).and(reached))
        .group_by([col(col::ROUTE)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let counts = u64_column(&frame, "count")?;
    let mut by_route: Vec<RouteTimeouts> = routes
        .into_iter()
        .zip(counts)
        .map(|(route, count)| RouteTimeouts {
            route: name_of(&table.dictionaries.route, route),
            count,
        })
        .collect();
    let count = by_route.iter().map(|r| r.count).sum();
    sort_top(&mut by_route, options.top, |r| {
        (r.count, sort_name(&r.route))
    });

    let near_timeout_routes = near_timeout_routes(latency, options);
    Ok(Timeouts {
        timeout_ms: options.timeout_ms,
        count,
        by_route,
        near_timeout_routes,
    })
}

/// Routes whose p99 integration latency is near the timeout, from the full latency section.
pub fn near_timeout_routes(latency: &Latency, options: &AnalyzeOptions) -> Vec<NearTimeoutRoute> {
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
