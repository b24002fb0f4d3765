//! Summary: requests, time range, status classes, average and peak requests per second.

use super::routes::Totals;
use crate::aggregate::Aggregates;
use crate::filter::rfc3339;
use crate::report::{ErrorRate, Peak, StatusClasses, Summary, TemplateSource};

/// Requests per status class from per-status counts.
pub fn status_classes(statuses: &[(Option<u32>, u64)]) -> StatusClasses {
    let mut classes = StatusClasses::default();
    for &(status, count) in statuses {
        let slot = match status.map(|s| s / 100) {
            Some(1) => &mut classes.c1xx,
            Some(2) => &mut classes.c2xx,
            Some(3) => &mut classes.c3xx,
            Some(4) => &mut classes.c4xx,
            Some(5) => &mut classes.c5xx,
            _ => &mut classes.unknown,
        };
        *slot += count;
    }
    classes
}

/// Requests and 429s per second, busiest first (ties: earlier first).
/// Only the first `top` are ordered and kept (0: all): a day of seconds is 86,400 entries,
/// and the report lists 20.
pub(crate) fn busiest_seconds(agg: &Aggregates, top: usize) -> Vec<(i64, [u64; 2])> {
    let busier = |a: &(i64, [u64; 2]), b: &(i64, [u64; 2])| b.1[0].cmp(&a.1[0]).then(a.0.cmp(&b.0));
    let mut seconds = agg.seconds.clone();
    if top > 0 && top < seconds.len() {
        seconds.select_nth_unstable_by(top - 1, busier);
        seconds.truncate(top);
    }
    seconds.sort_unstable_by(busier);
    seconds
}

/// The summary section alone.
pub fn summary_of(agg: &Aggregates) -> Summary {
    summary(&Totals::of(agg), agg, &busiest_seconds(agg, 1))
}

/// The summary section; `busiest` from [`busiest_seconds`].
pub(crate) fn summary(totals: &Totals, agg: &Aggregates, busiest: &[(i64, [u64; 2])]) -> Summary {
    let requests = totals.requests();
    let classes = status_classes(&totals.status_list());
    let rate = |n: u64| (requests > 0).then(|| n as f64 / requests as f64);
    let (first, last) = (agg.bounds.map(|b| b.0), agg.bounds.map(|b| b.1));
    let duration_seconds = agg
        .bounds
        .map(|(f, l)| (l.div_euclid(1000) - f.div_euclid(1000) + 1) as u64);
    Summary {
        requests,
        start: first.map(rfc3339),
        end: last.map(rfc3339),
        duration_seconds,
        error_rate: ErrorRate {
            r4xx: rate(classes.c4xx),
            r5xx: rate(classes.c5xx),
        },
        avg_rps: duration_seconds.map(|d| requests as f64 / d as f64),
        peak_rps: busiest.first().map(|(second, [n, _])| Peak {
            value: *n,
            at: rfc3339(second * 1000),
        }),
        status_classes: classes,
        folded_routes: 0,
        inferred_routes: agg
            .route_sources
            .values()
            .filter(|s| **s == TemplateSource::Inferred)
            .count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_seconds_kept_are_the_first_of_all_in_order() {
        let agg = Aggregates {
            // Ties in requests (every 7th second has as many as another): earlier first.
            seconds: (0..5_000i64)
                .map(|s| {
                    (
                        1_795_514_400 + s,
                        [(s * 7919 % 1009) as u64, (s % 3) as u64],
                    )
                })
                .collect(),
            ..Aggregates::default()
        };
        let all = busiest_seconds(&agg, 0);
        assert_eq!(all.len(), 5_000);
        assert!(all
            .windows(2)
            .all(|w| w[0].1[0] > w[1].1[0] || (w[0].1[0] == w[1].1[0] && w[0].0 < w[1].0)));
        for top in [1, 20, 4_999, 5_000, 6_000] {
            assert_eq!(busiest_seconds(&agg, top), all[..top.min(5_000)]);
        }
    }
}
