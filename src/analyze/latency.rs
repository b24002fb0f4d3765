//! Latency: response latency, integration latency and gateway overhead, overall and per
//! route × stage, with exact percentiles.

use polars::prelude::*;

use super::stats::{code_column, latency_exprs, pair_key, read_latency, sort_top, u64_column};
use super::{name_of, sort_name};
use crate::model::{col, RequestTable};
use crate::report::{Latency, RouteLatency};

/// The latency section with every route (see [`truncate`] for `--top`).
pub fn latency(table: &RequestTable) -> PolarsResult<Latency> {
    let overall_frame = table.lazy().select(latency_exprs()).collect()?;
    let overall = read_latency(&overall_frame, 0)?;

    let mut aggs = vec![
        col(col::ROUTE).first(),
        col(col::STAGE).first(),
        len().cast(DataType::UInt64).alias("requests"),
    ];
    aggs.extend(latency_exprs());
    let frame = table
        .lazy()
        .group_by([pair_key(col(col::ROUTE), col(col::STAGE))])
        .agg(aggs)
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let stages = code_column(&frame, col::STAGE)?;
    let counts = u64_column(&frame, "requests")?;
    let mut by_route = (0..frame.height())
        .map(|i| {
            Ok(RouteLatency {
                route: name_of(&table.dictionaries.route, routes[i]),
                stage: name_of(&table.dictionaries.stage, stages[i]),
                count: counts[i],
                stats: read_latency(&frame, i)?,
                slo: None,
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    sort_top(&mut by_route, 0, |r| {
        (
            r.count,
            format!("{}\u{0}{}", sort_name(&r.route), sort_name(&r.stage)),
        )
    });
    Ok(Latency { overall, by_route })
}

/// Keeps the `top` busiest routes of a full latency section (0 = all).
pub fn truncate(latency: &mut Latency, top: usize) {
    if top > 0 {
        latency.by_route.truncate(top);
    }
}
