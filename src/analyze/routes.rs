//! The counts several sections share, summed in one pass over the aggregates' groups:
//! requests by status, per route (requests, 4xx, 5xx, 429s), per route × stage, per time bin
//! and the inferred cache pattern per route × stage.

use std::collections::BTreeMap;

use crate::aggregate::Aggregates;
use crate::report::TimeBin;
use crate::FastMap;

/// Counts for one route.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RouteCounts {
    /// Requests.
    pub requests: u64,
    /// 4xx.
    pub c4xx: u64,
    /// 5xx.
    pub c5xx: u64,
    /// 429.
    pub throttled: u64,
}

/// The shared counts.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    /// Requests by status (`None`: not logged).
    pub statuses: BTreeMap<Option<u16>, u64>,
    /// Per route code.
    pub routes: FastMap<u32, RouteCounts>,
    /// Requests per (route, stage).
    pub route_stage: FastMap<(u32, u32), u64>,
    /// Per bin start: requests by class and 429s (no start time or percentiles yet).
    pub bins: BTreeMap<i64, TimeBin>,
    /// Inferred cache hits and misses per (route, stage), where either was seen.
    pub cache: FastMap<(u32, u32), (u64, u64)>,
}

impl Totals {
    /// The counts of `agg`.
    pub fn of(agg: &Aggregates) -> Totals {
        let mut t = Totals::default();
        for (&(bin, route, stage), group) in &agg.groups {
            if group.hits + group.misses > 0 {
                let c = t.cache.entry((route, stage)).or_default();
                c.0 += group.hits;
                c.1 += group.misses;
            }
            if group.statuses.is_empty() {
                continue;
            }
            let r = t.routes.entry(route).or_default();
            let b = t.bins.entry(bin).or_default();
            let mut requests = 0;
            for &(status, n) in &group.statuses {
                requests += n;
                *t.statuses
                    .entry((status != 0).then_some(status))
                    .or_default() += n;
                b.requests += n;
                match status / 100 {
                    2 => b.c2xx += n,
                    3 => b.c3xx += n,
                    4 => {
                        b.c4xx += n;
                        r.c4xx += n;
                    }
                    5 => {
                        b.c5xx += n;
                        r.c5xx += n;
                    }
                    _ => {}
                }
                if status == 429 {
                    b.throttled += n;
                    r.throttled += n;
                }
            }
            r.requests += requests;
            *t.route_stage.entry((route, stage)).or_default() += requests;
        }
        t
    }

    /// Requests.
    pub fn requests(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// 429s.
    pub fn throttled(&self) -> u64 {
        self.routes.values().map(|r| r.throttled).sum()
    }

    /// Requests per status, as the status helpers take them.
    pub fn status_list(&self) -> Vec<(Option<u32>, u64)> {
        self.statuses
            .iter()
            .map(|(s, n)| (s.map(u32::from), *n))
            .collect()
    }

    /// Route codes with a non-zero `key`, most first, ties by name (missing last); `n` of
    /// them.
    pub fn ranked(
        &self,
        agg: &Aggregates,
        key: impl Fn(&RouteCounts) -> u64,
        n: usize,
    ) -> Vec<u32> {
        let mut list: Vec<(u32, u64, String)> = self
            .routes
            .iter()
            .map(|(r, c)| (*r, key(c)))
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (r, n, super::sort_name(&agg.route(r))))
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(&b.2)));
        list.into_iter().take(n).map(|(r, ..)| r).collect()
    }
}
