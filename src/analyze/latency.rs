//! Latency: response latency, integration latency and gateway overhead, overall and per
//! route × stage, with exact percentiles (from the aggregates' histograms) or the engine's own
//! (Logs Insights).

use std::collections::BTreeSet;

use super::routes::Totals;
use super::sort_name;
use super::stats::sort_top;
use crate::aggregate::{Aggregates, Latencies, OTHER};
use crate::report::{Latency, RouteLatency};
use crate::FastMap;

/// The latency section with every route (see [`truncate`] for `--top`).
pub(crate) fn latency(agg: &Aggregates, totals: &Totals) -> Latency {
    let (overall, stats) = match &agg.computed {
        Some(computed) => (computed.overall.clone(), computed.by_route.clone()),
        None => {
            let mut overall = Latencies::default();
            for l in agg.latencies.by_route.values() {
                overall.merge(l);
            }
            let stats: FastMap<(u32, u32), _> = agg
                .latencies
                .by_route
                .iter()
                .filter(|((route, _), _)| *route != OTHER)
                .map(|(k, l)| (*k, l.stats()))
                .collect();
            (overall.stats(), stats)
        }
    };
    let keys: BTreeSet<(u32, u32)> = stats
        .keys()
        .chain(totals.route_stage.keys())
        .copied()
        .collect();
    let mut by_route: Vec<RouteLatency> = keys
        .into_iter()
        .map(|key| {
            let stats = stats.get(&key).cloned().unwrap_or_default();
            RouteLatency {
                count: totals
                    .route_stage
                    .get(&key)
                    .copied()
                    .unwrap_or(stats.latency_ms.count),
                route: agg.route(key.0),
                stage: agg.stage(key.1),
                stats,
                slo: None,
                template_source: agg.route_source(key.0),
            }
        })
        .collect();
    sort_top(&mut by_route, 0, |r| {
        (
            r.count,
            format!("{}\u{0}{}", sort_name(&r.route), sort_name(&r.stage)),
        )
    });
    Latency { overall, by_route }
}

/// Keeps the `top` busiest routes of a full latency section (0 = all).
pub fn truncate(latency: &mut Latency, top: usize) {
    if top > 0 {
        latency.by_route.truncate(top);
    }
}
