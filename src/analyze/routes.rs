//! Per-route counts shared by the errors and throttling sections (one query).

use polars::prelude::*;

use super::name_of;
use super::stats::{code_column, count_where, status_between, u64_column};
use crate::model::{col, RequestTable};

/// Counts for one route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTotals {
    /// Route name.
    pub route: Option<String>,
    /// Requests.
    pub requests: u64,
    /// 4xx.
    pub status_4xx: u64,
    /// 5xx.
    pub status_5xx: u64,
    /// 429.
    pub throttled: u64,
}

/// Counts per route, in no particular order.
pub fn route_totals(table: &RequestTable) -> PolarsResult<Vec<RouteTotals>> {
    let frame = table
        .lazy()
        .group_by([col(col::ROUTE)])
        .agg([
            len().cast(DataType::UInt64).alias("requests"),
            count_where(status_between(400, 499), "status_4xx"),
            count_where(status_between(500, 599), "status_5xx"),
            count_where(col(col::STATUS).eq(lit(429u32)), "throttled"),
        ])
        .collect()?;
    let routes = code_column(&frame, col::ROUTE)?;
    let column = |name| u64_column(&frame, name);
    let (requests, s4, s5, throttled) = (
        column("requests")?,
        column("status_4xx")?,
        column("status_5xx")?,
        column("throttled")?,
    );
    Ok((0..frame.height())
        .map(|i| RouteTotals {
            route: name_of(&table.dictionaries.route, routes[i]),
            requests: requests[i],
            status_4xx: s4[i],
            status_5xx: s5[i],
            throttled: throttled[i],
        })
        .collect())
}
