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
    /// in no order, and a tree lookup per group and status cost more than the rest. Many
    /// groups are counted in two halves side by side (by route: each half walks every group
    /// but reads only its own, and reading a group's statuses is most of the cost).
    pub fn of(agg: &Aggregates) -> Totals {
        if agg.groups.len() < PARALLEL_GROUPS {
            return Counted::of(agg, |_| true).totals();
        }
        let (mut even, odd) = rayon::join(
            || Counted::of(agg, |route| route % 2 == 0),
            || Counted::of(agg, |route| route % 2 == 1),
        );
        even.add(odd);
        even.totals()
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

/// Groups needed in [`Totals::of`] before they are counted in two halves.
const PARALLEL_GROUPS: usize = 10_000;

/// The totals of some routes, with statuses and bins still in hash maps.
#[derive(Default)]
struct Counted {
    totals: Totals,
    statuses: FastMap<u16, u64>,
    bins: FastMap<i64, TimeBin>,
}

impl Counted {
    /// The counts of the groups of the routes `counts` takes.
    fn of(agg: &Aggregates, counts: impl Fn(u32) -> bool) -> Counted {
        let mut counted = Counted::default();
        let (t, statuses, bins) = (
            &mut counted.totals,
            &mut counted.statuses,
            &mut counted.bins,
        );
        for (&(bin, route, stage), group) in &agg.groups {
            if !counts(route) {
                continue;
            }
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
        counted
    }

    /// Adds the counts of other routes.
    fn add(&mut self, other: Counted) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        for (start, bin) in other.bins {
            let b = self.bins.entry(start).or_default();
            b.requests += bin.requests;
            b.c2xx += bin.c2xx;
            b.c3xx += bin.c3xx;
            b.c4xx += bin.c4xx;
            b.c5xx += bin.c5xx;
            b.throttled += bin.throttled;
        }
        // The routes are the other half's own.
        self.totals.routes.extend(other.totals.routes);
        self.totals.route_stage.extend(other.totals.route_stage);
        self.totals.cache.extend(other.totals.cache);
    }

    /// The totals, statuses and bins in order.
    fn totals(self) -> Totals {
        let mut t = self.totals;
        t.statuses = self
            .statuses
            .into_iter()
            .map(|(status, n)| ((status != 0).then_some(status), n))
            .collect();
        t.bins = self.bins.into_iter().collect();
        t
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::aggregate::{Accumulator, AggregateOptions};
    use crate::model::Request;

    /// The totals in a form that compares: every map ordered.
    fn ordered(t: &Totals) -> String {
        let routes: BTreeMap<_, _> = t.routes.iter().collect();
        let route_stage: BTreeMap<_, _> = t.route_stage.iter().collect();
        let cache: BTreeMap<_, _> = t.cache.iter().collect();
        format!(
            "{:?} {routes:?} {route_stage:?} {:?} {cache:?}",
            t.statuses, t.bins
        )
    }

    #[test]
    fn totals_counted_in_two_halves_equal_those_counted_at_once() {
        let mut acc = Accumulator::new(Arc::new(AggregateOptions::default()));
        for i in 0u64..60_000 {
            let status = [200, 200, 201, 304, 404, 429, 500, 504][(i % 8) as usize];
            acc.push(&Request {
                // A day, so that the groups are bins × routes × stages.
                time_ms: 1_795_514_400_000 + (i as i64) * 1_440,
                status: (i % 97 != 0).then_some(status),
                method: Some(Cow::Borrowed("GET")),
                route: Some(Cow::Owned(format!("GET /items/{}", (i * 7919) % 301))),
                stage: Some(Cow::Borrowed(if i % 3 == 0 { "dev" } else { "prod" })),
                latency_ms: Some((i % 700) as f64),
                integration_latency_ms: (i % 4 != 0).then_some((i % 650) as f64),
                ..Request::default()
            });
        }
        let agg = acc.into_aggregates();
        assert!(agg.groups.len() >= PARALLEL_GROUPS, "{}", agg.groups.len());
        let halves = Totals::of(&agg);
        let at_once = Counted::of(&agg, |_| true).totals();
        assert_eq!(ordered(&halves), ordered(&at_once));
        assert_eq!(halves.requests(), 60_000);
    }
}
