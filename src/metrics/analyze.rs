//! Series to report: per API/stage (and route, with detailed metrics), each data point's
//! counts and latencies derived first (rates × counts where only `Average` was fetched), then
//! summed or combined into time bins.

use std::collections::BTreeMap;

use chrono::DateTime;

use super::report::{
    MetricsBin, MetricsFile, MetricsGroup, MetricsInputs, MetricsReport, SeriesInfo,
    METRICS_SCHEMA_VERSION,
};
use super::{Dimensions, MetricName, Series};

/// Choices for the analysis.
#[derive(Debug, Clone, Default)]
pub struct MetricsOptions {
    /// Bin width in seconds; `None` = the data's own period.
    pub bin_seconds: Option<i64>,
    /// Most routes to list (0 = all).
    pub top: usize,
}

/// One file's series, as decoded.
#[derive(Debug, Clone)]
pub struct MetricsSource {
    /// File name.
    pub name: String,
    /// Shape name.
    pub shape: String,
    /// Its series.
    pub series: Vec<Series>,
    /// Unusable points.
    pub skipped: u64,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// RFC 3339 text of epoch seconds.
pub fn rfc3339(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

/// The data's period: the smallest gap between consecutive points of any series (60 s if
/// no series has two points).
pub fn data_period(series: &[Series]) -> i64 {
    series
        .iter()
        .flat_map(|s| s.points.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|gap| *gap > 0)
        .min()
        .unwrap_or(60)
}

/// The values of one group at one timestamp, by (metric, stat).
type Point = BTreeMap<(MetricName, String), f64>;

/// What one data point (one timestamp of one group) says, derived.
#[derive(Debug, Clone, Default)]
struct Derived {
    requests: Option<f64>,
    e4: Option<f64>,
    e5: Option<f64>,
    hits: Option<f64>,
    misses: Option<f64>,
    bytes: Option<f64>,
    latency: BTreeMap<String, f64>,
    integration: BTreeMap<String, f64>,
}

fn derive(point: &Point) -> Derived {
    let get = |m: MetricName, s: &str| point.get(&(m, s.to_string())).copied();
    let requests = get(MetricName::Count, "Sum")
        .or_else(|| get(MetricName::Count, "SampleCount"))
        .or_else(|| get(MetricName::Latency, "SampleCount"));
    let count_of = |m: MetricName| get(m, "Sum").or_else(|| Some(get(m, "Average")? * requests?));
    let stats = |m: MetricName| -> BTreeMap<String, f64> {
        point
            .iter()
            .filter(|((metric, stat), _)| *metric == m && stat != "Sum" && stat != "SampleCount")
            .map(|((_, stat), v)| (stat.clone(), *v))
            .collect()
    };
    Derived {
        requests,
        e4: count_of(MetricName::Errors4xx),
        e5: count_of(MetricName::Errors5xx),
        hits: count_of(MetricName::CacheHitCount),
        misses: count_of(MetricName::CacheMissCount),
        bytes: get(MetricName::DataProcessed, "Sum"),
        latency: stats(MetricName::Latency),
        integration: stats(MetricName::IntegrationLatency),
    }
}

fn sum(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values
        .flatten()
        .fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

fn ratio(part: Option<f64>, whole: Option<f64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0.0 => Some(p / w),
        _ => None,
    }
}

/// Combines one latency measure over several points: averages weighted by requests when
/// every point has them, extremes as extremes, percentiles as the worst point's value.
fn combine_stats(
    points: &[&Derived],
    pick: impl Fn(&Derived) -> &BTreeMap<String, f64>,
) -> (BTreeMap<String, f64>, bool) {
    let mut out = BTreeMap::new();
    let mut worst_point = false;
    let names: std::collections::BTreeSet<&String> =
        points.iter().flat_map(|p| pick(p).keys()).collect();
    for name in names {
        let with: Vec<(&Derived, f64)> = points
            .iter()
            .filter_map(|p| Some((*p, *pick(p).get(name)?)))
            .collect();
        let value = match name.as_str() {
            "Minimum" => with.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min),
            "Maximum" => with
                .iter()
                .map(|(_, v)| *v)
                .fold(f64::NEG_INFINITY, f64::max),
            "Average" => {
                let weights: Option<Vec<f64>> = with.iter().map(|(p, _)| p.requests).collect();
                match weights {
                    Some(w) if w.iter().sum::<f64>() > 0.0 => {
                        with.iter().zip(&w).map(|((_, v), w)| v * w).sum::<f64>()
                            / w.iter().sum::<f64>()
                    }
                    _ => with.iter().map(|(_, v)| *v).sum::<f64>() / with.len() as f64,
                }
            }
            _ => {
                if with.len() > 1 {
                    worst_point = true;
                }
                with.iter()
                    .map(|(_, v)| *v)
                    .fold(f64::NEG_INFINITY, f64::max)
            }
        };
        out.insert(name.clone(), value);
    }
    (out, worst_point)
}

fn combine(start: i64, points: &[&Derived]) -> (MetricsBin, bool) {
    let requests = sum(points.iter().map(|p| p.requests));
    let errors_4xx = sum(points.iter().map(|p| p.e4));
    let errors_5xx = sum(points.iter().map(|p| p.e5));
    let cache_hits = sum(points.iter().map(|p| p.hits));
    let cache_misses = sum(points.iter().map(|p| p.misses));
    let (latency_ms, w1) = combine_stats(points, |p| &p.latency);
    let (integration_latency_ms, w2) = combine_stats(points, |p| &p.integration);
    // Averages over different requests (cache hits and 429s have a Latency but no
    // IntegrationLatency): a negative difference says nothing about overhead.
    let overhead_ms = match (
        latency_ms.get("Average"),
        integration_latency_ms.get("Average"),
    ) {
        (Some(l), Some(i)) if l >= i => Some(l - i),
        _ => None,
    };
    let lookups = match (cache_hits, cache_misses) {
        (Some(h), Some(m)) => Some(h + m),
        _ => None,
    };
    let bin = MetricsBin {
        start: rfc3339(start),
        requests,
        errors_4xx,
        errors_5xx,
        error_rate_4xx: ratio(errors_4xx, requests),
        error_rate_5xx: ratio(errors_5xx, requests),
        latency_ms,
        integration_latency_ms,
        overhead_ms,
        cache_hits,
        cache_misses,
        cache_hit_ratio: ratio(cache_hits, lookups),
        data_processed_bytes: sum(points.iter().map(|p| p.bytes)),
    };
    (bin, w1 || w2)
}

fn is_percentile(stat: &str) -> bool {
    stat.starts_with('p')
}

/// Builds the metrics report from decoded files.
pub fn build_metrics_report(
    sources: Vec<MetricsSource>,
    options: &MetricsOptions,
) -> MetricsReport {
    let mut inputs = MetricsInputs::default();
    let mut all: Vec<Series> = Vec::new();
    for source in sources {
        inputs.files.push(MetricsFile {
            name: source.name,
            shape: source.shape,
            series: source.series.len() as u64,
            points: source.series.iter().map(|s| s.points.len() as u64).sum(),
        });
        inputs.skipped += source.skipped;
        inputs.warnings.extend(source.warnings);
        all.extend(source.series);
    }
    for s in &all {
        inputs.series.push(SeriesInfo {
            file: s.file.clone(),
            id: s.id.clone(),
            metric: s.metric,
            stat: s.stat.clone(),
            stat_assumed: s.stat_assumed,
            dimensions: s.dimensions.to_text(),
            metadata: s.metadata,
            points: s.points.len() as u64,
        });
    }
    let bin_seconds = options
        .bin_seconds
        .unwrap_or_else(|| data_period(&all))
        .max(1);

    // group → timestamp → (metric, stat) → value
    let mut groups: BTreeMap<Dimensions, BTreeMap<i64, Point>> = BTreeMap::new();
    for s in &all {
        let key = Dimensions {
            api: s.dimensions.api.clone(),
            stage: s.dimensions.stage.clone(),
            route: s.dimensions.route_name(),
            method: None,
            resource: None,
        };
        let points = groups.entry(key).or_default();
        for (t, v) in &s.points {
            points
                .entry(*t)
                .or_default()
                .insert((s.metric, s.stat.clone()), *v);
        }
    }
    let mut worst_point = false;
    let mut start = None::<i64>;
    let mut end = None::<i64>;
    let mut out_groups = Vec::new();
    for (dims, points) in groups {
        let derived: Vec<(i64, Derived)> = points.iter().map(|(t, p)| (*t, derive(p))).collect();
        let mut by_bin: BTreeMap<i64, Vec<&Derived>> = BTreeMap::new();
        for (t, d) in &derived {
            by_bin
                .entry(t.div_euclid(bin_seconds) * bin_seconds)
                .or_default()
                .push(d);
        }
        if let (Some(first), Some(last)) = (by_bin.keys().next(), by_bin.keys().next_back()) {
            start = Some(start.map_or(*first, |s| s.min(*first)));
            end = Some(end.map_or(last + bin_seconds, |e| e.max(last + bin_seconds)));
        }
        let bins: Vec<MetricsBin> = by_bin
            .iter()
            .map(|(t, ds)| {
                let (bin, worst) = combine(*t, ds);
                worst_point |= worst;
                bin
            })
            .collect();
        let everything: Vec<&Derived> = derived.iter().map(|(_, d)| d).collect();
        let first = derived.first().map_or(0, |(t, _)| *t);
        let (mut totals, _) = combine(first.div_euclid(bin_seconds) * bin_seconds, &everything);
        // Percentiles cannot be combined over bins: report the worst bin's value apart.
        let worst = |pick: fn(&MetricsBin) -> &BTreeMap<String, f64>| {
            let mut out = BTreeMap::<String, f64>::new();
            for b in &bins {
                for (k, v) in pick(b).iter().filter(|(k, _)| is_percentile(k)) {
                    let e = out.entry(k.clone()).or_insert(*v);
                    *e = e.max(*v);
                }
            }
            out
        };
        let latency_worst_bin_ms = worst(|b| &b.latency_ms);
        let integration_latency_worst_bin_ms = worst(|b| &b.integration_latency_ms);
        totals.latency_ms.retain(|k, _| !is_percentile(k));
        totals
            .integration_latency_ms
            .retain(|k, _| !is_percentile(k));
        let peak = bins
            .iter()
            .filter(|b| b.requests.is_some())
            .max_by(|a, b| {
                a.requests
                    .unwrap_or(0.0)
                    .total_cmp(&b.requests.unwrap_or(0.0))
            })
            .cloned();
        out_groups.push(MetricsGroup {
            api: dims.api,
            stage: dims.stage,
            route: dims.route,
            totals,
            latency_worst_bin_ms,
            integration_latency_worst_bin_ms,
            peak,
            bins,
        });
    }
    // Stages first, then routes by requests.
    out_groups.sort_by(|a, b| {
        (a.route.is_some(), &a.api, &a.stage)
            .cmp(&(b.route.is_some(), &b.api, &b.stage))
            .then(
                b.totals
                    .requests
                    .unwrap_or(0.0)
                    .total_cmp(&a.totals.requests.unwrap_or(0.0)),
            )
            .then(a.route.cmp(&b.route))
    });
    if options.top > 0 {
        let mut routes = 0;
        out_groups.retain(|g| {
            if g.route.is_none() {
                return true;
            }
            routes += 1;
            routes <= options.top
        });
    }
    MetricsReport {
        schema_version: METRICS_SCHEMA_VERSION,
        kind: "metrics",
        inputs,
        bin_seconds,
        start: start.map(rfc3339),
        end: end.map(rfc3339),
        percentiles_are_worst_point: worst_point,
        groups: out_groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metadata;

    fn series(metric: MetricName, stat: &str, stage: &str, points: &[(i64, f64)]) -> Series {
        Series {
            file: "f".into(),
            id: format!("{metric} {stat}"),
            metric,
            stat: stat.into(),
            stat_assumed: false,
            dimensions: Dimensions {
                stage: Some(stage.into()),
                ..Dimensions::default()
            },
            metadata: Metadata::File,
            points: points.to_vec(),
        }
    }

    fn report(series: Vec<Series>, bin: Option<i64>) -> MetricsReport {
        build_metrics_report(
            vec![MetricsSource {
                name: "f".into(),
                shape: "metrics-csv".into(),
                series,
                skipped: 0,
                warnings: vec![],
            }],
            &MetricsOptions {
                bin_seconds: bin,
                top: 0,
            },
        )
    }

    #[test]
    fn counts_rates_latency_and_cache_by_hand() {
        let r = report(
            vec![
                series(MetricName::Count, "Sum", "prod", &[(0, 100.0), (60, 300.0)]),
                // REST error rate fetched as Average: count = rate × requests.
                series(
                    MetricName::Errors4xx,
                    "Average",
                    "prod",
                    &[(0, 0.1), (60, 0.2)],
                ),
                series(MetricName::Errors5xx, "Sum", "prod", &[(60, 3.0)]),
                series(
                    MetricName::Latency,
                    "Average",
                    "prod",
                    &[(0, 50.0), (60, 150.0)],
                ),
                series(
                    MetricName::Latency,
                    "p99",
                    "prod",
                    &[(0, 400.0), (60, 900.0)],
                ),
                series(
                    MetricName::IntegrationLatency,
                    "Average",
                    "prod",
                    &[(0, 40.0), (60, 130.0)],
                ),
                series(
                    MetricName::CacheHitCount,
                    "Sum",
                    "prod",
                    &[(0, 30.0), (60, 60.0)],
                ),
                series(
                    MetricName::CacheMissCount,
                    "Sum",
                    "prod",
                    &[(0, 70.0), (60, 40.0)],
                ),
            ],
            None,
        );
        assert_eq!(r.bin_seconds, 60);
        let g = &r.groups[0];
        assert_eq!(g.bins.len(), 2);
        assert_eq!(g.bins[0].errors_4xx, Some(10.0));
        assert_eq!(g.bins[1].errors_4xx, Some(60.0));
        assert_eq!(g.bins[1].error_rate_5xx, Some(0.01));
        assert_eq!(g.bins[1].overhead_ms, Some(20.0));
        let t = &g.totals;
        assert_eq!(t.requests, Some(400.0));
        assert_eq!(t.errors_4xx, Some(70.0));
        assert_eq!(t.error_rate_4xx, Some(70.0 / 400.0));
        // Request-weighted average: (50×100 + 150×300) / 400 = 125.
        assert_eq!(t.latency_ms["Average"], 125.0);
        assert!(!t.latency_ms.contains_key("p99"));
        assert_eq!(g.latency_worst_bin_ms["p99"], 900.0);
        assert_eq!(t.cache_hit_ratio, Some(90.0 / 200.0));
        assert_eq!(g.peak.as_ref().unwrap().start, "1970-01-01T00:01:00Z");
        assert!(!r.percentiles_are_worst_point);
        // Rebinning to 2 minutes marks percentiles as worst-point values.
        let r = report(
            vec![series(
                MetricName::Latency,
                "p99",
                "prod",
                &[(0, 400.0), (60, 900.0)],
            )],
            Some(120),
        );
        assert!(r.percentiles_are_worst_point);
        assert_eq!(r.groups[0].bins[0].latency_ms["p99"], 900.0);
    }
}
