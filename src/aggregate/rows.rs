//! The accumulated aggregates as the rows the Logs Insights queries return (with exact
//! statistics), so one assembly ([`crate::insights::assemble`]) builds the report from
//! aggregates wherever they were computed.

use std::collections::BTreeMap;

use super::accumulator::{Accumulator, Group, NONE};
use super::histogram::Histogram;
use crate::decode::fields::Field;
use crate::insights::assemble::Results;
use crate::insights::keys::Keys;
use crate::insights::queries::{Measure, QueryKind};
use crate::insights::results::Row;
use crate::FastMap;

/// The row keys the rows use.
pub fn keys() -> Keys {
    Keys::named(&[
        (Field::RouteKey, "route"),
        (Field::Stage, "stage"),
        (Field::Status, "status"),
        (Field::ApiKeyId, "apiKey"),
        (Field::ErrorResponseType, "responseType"),
        (Field::ErrorMessage, "message"),
    ])
}

const BIN: &str = "bin(…)";
const MEASURES: [Measure; 3] = [Measure::Latency, Measure::Integration, Measure::Overhead];

/// A row under construction.
#[derive(Default)]
struct RowBuilder(BTreeMap<String, String>);

impl RowBuilder {
    fn text(mut self, key: &str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v.to_string());
        }
        self
    }

    fn number(mut self, key: &str, value: impl ToString) -> Self {
        self.0.insert(key.to_string(), value.to_string());
        self
    }

    fn bin(self, start_seconds: i64) -> Self {
        self.number(BIN, start_seconds * 1000)
    }

    fn status(self, status: u16) -> Self {
        match status {
            0 => self,
            s => self.number("status", s),
        }
    }

    /// The values that are present.
    fn numbers(mut self, values: &[(&str, Option<f64>)]) -> Self {
        for (key, value) in values {
            if let Some(v) = value {
                self = self.number(key, v);
            }
        }
        self
    }

    fn stats(self, latencies: &Latencies, measure: Measure) -> Self {
        let histogram = latencies.measure(measure);
        let s = histogram.stats(latencies.missing(histogram));
        self.number("n", s.count).numbers(&s.named())
    }

    fn row(self) -> Row {
        Row(self.0)
    }
}

/// The latency histograms of one or more groups, and the requests they came from.
#[derive(Default)]
struct Latencies {
    latency: Histogram,
    integration: Histogram,
    overhead: Histogram,
    requests: u64,
}

impl Latencies {
    fn add(&mut self, group: &Group) {
        self.latency.merge(&group.latency);
        self.integration.merge(&group.integration);
        self.overhead.merge(&group.overhead);
        self.requests += group.requests();
    }

    fn measure(&self, m: Measure) -> &Histogram {
        match m {
            Measure::Latency => &self.latency,
            Measure::Integration => &self.integration,
            Measure::Overhead => &self.overhead,
        }
    }

    /// Requests without a value of the measure (polars ranks them first; see
    /// [`Histogram::quantiles`]).
    fn missing(&self, histogram: &Histogram) -> u64 {
        self.requests - histogram.count()
    }
}

/// The rows of every query, from aggregates whose groups are keyed by the final bin width;
/// `top` is the busiest seconds' list length (0 = all).
pub fn results(acc: &Accumulator, top: usize) -> Results {
    let names = &acc.names;
    let name = |dictionary: &crate::model::Dictionary, code: u32| {
        (code != NONE).then(|| dictionary.name(code).to_string())
    };
    let route = |code: u32| name(&names.routes, code);
    let stage = |code: u32| name(&names.stages, code);
    let mut results = Results::new();
    let mut push = |kind: QueryKind, row: RowBuilder| {
        results.entry(kind).or_default().push(row.row());
    };

    let mut by_route_stage: FastMap<(u32, u32), Latencies> = FastMap::default();
    let mut by_bin: BTreeMap<i64, Latencies> = BTreeMap::new();
    // Per bin and route only the response latency is reported (its p99).
    let mut by_bin_route: FastMap<(i64, u32), (Histogram, u64)> = FastMap::default();
    let mut overall = Latencies::default();
    for ((bin, r, s), group) in &acc.groups {
        for (status, n) in &group.statuses {
            let row = RowBuilder::default()
                .bin(*bin)
                .text("route", route(*r).as_deref())
                .text("stage", stage(*s).as_deref())
                .status(*status)
                .number("requests", n);
            push(QueryKind::Counts, row);
        }
        for (kind, field, n) in [
            (QueryKind::CacheHits, "hits", group.hits),
            (QueryKind::CacheMisses, "misses", group.misses),
        ] {
            if n > 0 {
                let row = RowBuilder::default()
                    .bin(*bin)
                    .text("route", route(*r).as_deref())
                    .text("stage", stage(*s).as_deref())
                    .number(field, n);
                push(kind, row);
            }
        }
        by_route_stage.entry((*r, *s)).or_default().add(group);
        by_bin.entry(*bin).or_default().add(group);
        let bin_route = by_bin_route.entry((*bin, *r)).or_default();
        bin_route.0.merge(&group.latency);
        bin_route.1 += group.requests();
        overall.add(group);
    }
    for ((r, s), latencies) in &by_route_stage {
        for m in MEASURES {
            if latencies.measure(m).count() > 0 {
                let row = RowBuilder::default()
                    .text("route", route(*r).as_deref())
                    .text("stage", stage(*s).as_deref())
                    .stats(latencies, m);
                push(QueryKind::RouteStats(m), row);
            }
        }
    }
    for m in MEASURES {
        if overall.measure(m).count() > 0 {
            push(
                QueryKind::OverallStats(m),
                RowBuilder::default().stats(&overall, m),
            );
        }
    }
    for (bin, l) in &by_bin {
        let [l50, l95, l99] = l
            .latency
            .quantiles([0.5, 0.95, 0.99], l.missing(&l.latency));
        let [i50, i99] = l
            .integration
            .quantiles([0.5, 0.99], l.missing(&l.integration));
        let [o50] = l.overhead.quantiles([0.5], l.missing(&l.overhead));
        for (m, values) in [
            (
                Measure::Latency,
                &[("p50", l50), ("p95", l95), ("p99", l99)][..],
            ),
            (Measure::Integration, &[("p50", i50), ("p99", i99)]),
            (Measure::Overhead, &[("p50", o50)]),
        ] {
            push(
                QueryKind::BinStats(m),
                RowBuilder::default().bin(*bin).numbers(values),
            );
        }
    }
    for ((bin, r), (histogram, rows)) in &by_bin_route {
        let [p99] = histogram.quantiles([0.99], rows - histogram.count());
        if let Some(p99) = p99 {
            let row = RowBuilder::default()
                .bin(*bin)
                .text("route", route(*r).as_deref())
                .number("requests", histogram.count())
                .number("p99", p99);
            push(QueryKind::RouteBinP99, row);
        }
    }

    if let Some((first, last)) = acc.bounds {
        let row = RowBuilder::default()
            .number("requests", acc.kept)
            .number("first", first)
            .number("last", last);
        push(QueryKind::Bounds, row);
    }
    let mut seconds: Vec<(i64, [u64; 2])> = acc.seconds.iter().map(|(s, c)| (*s, *c)).collect();
    seconds.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(&b.0)));
    if top > 0 {
        seconds.truncate(top);
    }
    for (second, [requests, throttled]) in seconds {
        push(
            QueryKind::BusiestSeconds,
            RowBuilder::default()
                .bin(second)
                .number("requests", requests),
        );
        if throttled > 0 {
            push(
                QueryKind::ThrottledSeconds,
                RowBuilder::default()
                    .bin(second)
                    .number("throttled", throttled),
            );
        }
    }
    for (kind, key, count, dictionary, counts) in [
        (
            QueryKind::ApiKeys,
            "apiKey",
            "requests",
            &names.api_keys,
            &acc.api_keys,
        ),
        (
            QueryKind::ResponseTypes,
            "responseType",
            "n",
            &names.types,
            &acc.types,
        ),
    ] {
        for ((code, status), n) in counts {
            let row = RowBuilder::default()
                .text(key, name(dictionary, *code).as_deref())
                .status(*status)
                .number(count, n);
            push(kind, row);
        }
    }
    for (message, n) in &acc.messages {
        let row = RowBuilder::default()
            .text("message", name(&names.messages, *message).as_deref())
            .number("n", n);
        push(QueryKind::Messages, row);
    }
    for (r, n) in &acc.timeouts {
        let row = RowBuilder::default()
            .text("route", route(*r).as_deref())
            .number("n", n);
        push(QueryKind::Timeouts, row);
    }
    results
}
