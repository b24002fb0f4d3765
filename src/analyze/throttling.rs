//! Throttling: 429s by route, by API key, by cause (THROTTLED vs QUOTA_EXCEEDED where the
//! response type is logged), and the busiest seconds.

use polars::prelude::*;

use super::routes::RouteTotals;
use super::stats::{code_column, count_where, sort_top, u64_column};
use super::{name_of, sort_name, AnalyzeOptions};
use crate::filter::rfc3339;
use crate::model::{col, RequestTable};
use crate::report::{KeyThrottling, RouteThrottling, SecondCount, ThrottleKinds, Throttling};

/// The throttling section.
pub fn throttling(
    table: &RequestTable,
    routes: &[RouteTotals],
    seconds: &[(i64, u64, u64)],
    options: &AnalyzeOptions,
) -> PolarsResult<Throttling> {
    let top = options.top;
    let throttled: u64 = routes.iter().map(|r| r.throttled).sum();
    let requests = table.len() as u64;

    let mut by_route: Vec<RouteThrottling> = routes
        .iter()
        .filter(|r| r.throttled > 0)
        .map(|r| RouteThrottling {
            route: r.route.clone(),
            requests: r.requests,
            throttled: r.throttled,
        })
        .collect();
    sort_top(&mut by_route, top, |r| (r.throttled, sort_name(&r.route)));

    let frame = table
        .lazy()
        .group_by([col(col::API_KEY)])
        .agg([
            len().cast(DataType::UInt64).alias("requests"),
            count_where(col(col::STATUS).eq(lit(429u32)), "throttled"),
        ])
        .collect()?;
    let keys = code_column(&frame, col::API_KEY)?;
    let key_requests = u64_column(&frame, "requests")?;
    let key_throttled = u64_column(&frame, "throttled")?;
    let mut by_api_key: Vec<KeyThrottling> = (0..frame.height())
        .filter(|i| key_throttled[*i] > 0)
        .map(|i| KeyThrottling {
            api_key: name_of(&table.dictionaries.api_key, keys[i]),
            requests: key_requests[i],
            throttled: key_throttled[i],
        })
        .collect();
    sort_top(&mut by_api_key, top, |k| {
        (k.throttled, sort_name(&k.api_key))
    });

    let mut top_seconds: Vec<SecondCount> = seconds
        .iter()
        .take(if top > 0 { top } else { usize::MAX })
        .map(|&(second, requests, throttled)| SecondCount {
            second: rfc3339(second * 1000),
            requests,
            throttled,
        })
        .collect();
    if top > 0 {
        top_seconds.truncate(top);
    }

    Ok(Throttling {
        throttled,
        throttle_rate: (requests > 0).then(|| throttled as f64 / requests as f64),
        by_kind: kinds(table, throttled)?,
        by_route,
        by_api_key,
        top_seconds,
    })
}

fn kinds(table: &RequestTable, throttled: u64) -> PolarsResult<ThrottleKinds> {
    let frame = table
        .lazy()
        .filter(col(col::STATUS).eq(lit(429u32)))
        .group_by([col(col::ERROR_TYPE)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .collect()?;
    let types = code_column(&frame, col::ERROR_TYPE)?;
    let counts = u64_column(&frame, "count")?;
    let mut kinds = ThrottleKinds::default();
    for (code, count) in types.into_iter().zip(counts) {
        match code.map(|c| table.dictionaries.error_type.name(c)) {
            Some("THROTTLED") => kinds.throttled += count,
            Some("QUOTA_EXCEEDED") => kinds.quota_exceeded += count,
            _ => {}
        }
    }
    kinds.unknown = throttled - kinds.throttled - kinds.quota_exceeded;
    Ok(kinds)
}
