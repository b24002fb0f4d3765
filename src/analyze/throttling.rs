//! Throttling: 429s by route, by API key, by cause (THROTTLED vs QUOTA_EXCEEDED where the
//! response type is logged), and the busiest seconds.

use super::routes::Totals;
use super::stats::sort_top;
use super::{sort_name, AnalyzeOptions};
use crate::aggregate::Aggregates;
use crate::filter::rfc3339;
use crate::report::{RouteThrottling, SecondCount, ThrottleKinds, Throttling};

/// The throttling section; `busiest`: requests and 429s per second, busiest first.
pub(crate) fn throttling(
    agg: &Aggregates,
    totals: &Totals,
    busiest: &[(i64, [u64; 2])],
    options: &AnalyzeOptions,
) -> Throttling {
    let top = options.top;
    let requests = totals.requests();
    let throttled = totals.throttled();
    let mut by_route: Vec<RouteThrottling> = totals
        .routes
        .iter()
        .filter(|(_, r)| r.throttled > 0)
        .map(|(route, r)| RouteThrottling {
            route: agg.route(*route),
            requests: r.requests,
            throttled: r.throttled,
        })
        .collect();
    sort_top(&mut by_route, top, |r| (r.throttled, sort_name(&r.route)));
    let shown = if top > 0 { top } else { usize::MAX };
    let top_seconds = busiest
        .iter()
        .take(shown)
        .map(|&(second, [requests, throttled])| SecondCount {
            second: rfc3339(second * 1000),
            requests,
            throttled,
        })
        .collect();
    Throttling {
        throttled,
        throttle_rate: (requests > 0).then(|| throttled as f64 / requests as f64),
        by_kind: kinds(agg, throttled),
        by_route,
        by_api_key: super::keys::by_api_key(agg, top),
        top_seconds,
    }
}

/// 429s by the response type logged with them.
fn kinds(agg: &Aggregates, throttled: u64) -> ThrottleKinds {
    let mut kinds = ThrottleKinds::default();
    for (&(code, status), &n) in &agg.types {
        if status != 429 {
            continue;
        }
        match agg.names.types.name(code) {
            "THROTTLED" => kinds.throttled += n,
            "QUOTA_EXCEEDED" => kinds.quota_exceeded += n,
            _ => {}
        }
    }
    kinds.unknown = throttled.saturating_sub(kinds.throttled + kinds.quota_exceeded);
    kinds
}
