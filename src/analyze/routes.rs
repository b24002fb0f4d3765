//! The counts several sections share, summed in one pass over the aggregates' groups:
//! requests by status, per route (requests, 4xx, 5xx, 429s), per route × stage, per time bin
//! and the inferred cache pattern per route × stage.

use std::collections::BTreeMap;

use crate::aggregate::{Aggregates, OTHER};
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
    /// Per route code (folded routes not included).
    pub routes: FastMap<u32, RouteCounts>,
    /// Requests per (route, stage) (folded routes not included).
    pub route_stage: FastMap<(u32, u32), u64>,
    /// Per bin start: requests by class and 429s (no start time or percentiles yet).
    pub bins: BTreeMap<i64, TimeBin>,
    /// Inferred cache hits and misses per (route, stage), where either was seen (folded
    /// routes under [`OTHER`]).
    pub cache: FastMap<(u32, u32), (u64, u64)>,
}

impl Totals {
    /// The counts of `agg`. Counted in hash maps and ordered once at the end: the groups come
    /// in no order, and a tree lookup per group and status cost more than the rest.
    pub fn of(agg: &Aggregates) -> Totals {
        let mut t = Totals::default();
        let mut statuses: FastMap<u16, u64> = FastMap::default();
        let mut bins: FastMap<i64, TimeBin> = FastMap::default();
        for (&(bin, route, stage), group) in &agg.groups {
            if group.hits + group.misses > 0 {
                let c = t.cache.entry((route, stage)).or_default();
                c.0 += group.hits;
                c.1 += group.misses;
            }
            if group.statuses.is_empty() {
                continue;
            }
            let b = bins.entry(bin).or_default();
            let mut r = RouteCounts::default();
            for (status, n) in group.statuses.iter() {
                r.requests += n;
                *statuses.entry(status).or_default() += n;
                add_status(b, status, n);
                match status / 100 {
                    4 => r.c4xx += n,
                    5 => r.c5xx += n,
                    _ => {}
                }
                if status == 429 {
                    r.throttled += n;
                }
            }
            // Folded routes count in every total, in no per-route list.
            if route != OTHER {
                let counts = t.routes.entry(route).or_default();
                counts.requests += r.requests;
                counts.c4xx += r.c4xx;
                counts.c5xx += r.c5xx;
                counts.throttled += r.throttled;
                *t.route_stage.entry((route, stage)).or_default() += r.requests;
            }
        }
        t.statuses = statuses
            .into_iter()
            .map(|(status, n)| ((status != 0).then_some(status), n))
            .collect();
        t.bins = bins.into_iter().collect();
        t
    }

    /// Requests.
    pub fn requests(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// 429s.
    pub fn throttled(&self) -> u64 {
        self.statuses.get(&Some(429)).copied().unwrap_or(0)
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

/// Adds `n` requests of `status` to a bin's counts.
fn add_status(bin: &mut TimeBin, status: u16, n: u64) {
    bin.requests += n;
    match status / 100 {
        2 => bin.c2xx += n,
        3 => bin.c3xx += n,
        4 => bin.c4xx += n,
        5 => bin.c5xx += n,
        _ => {}
    }
    if status == 429 {
        bin.throttled += n;
    }
}
