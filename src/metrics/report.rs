//! The metrics report: serde structs (documented in docs/metrics.md) and how they are laid
//! out as tables.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Metadata, MetricName};
use crate::report::charts::{colors, Chart, ChartKind, ChartSeries};
use crate::report::layout::{ms, Block, Tone};
use crate::report::Document;

/// Bump on any breaking change to the JSON shape.
pub const METRICS_SCHEMA_VERSION: u32 = 1;

/// A whole metrics report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// Always `metrics`.
    pub kind: &'static str,
    /// What was read.
    pub inputs: MetricsInputs,
    /// Width of a time bin, seconds.
    pub bin_seconds: i64,
    /// First bin start, RFC 3339.
    pub start: Option<String>,
    /// Last bin end, RFC 3339.
    pub end: Option<String>,
    /// True when some bin spans several data points, so its percentiles are the worst
    /// point's value (percentiles cannot be combined).
    pub percentiles_are_worst_point: bool,
    /// Per API and stage (route `null`), then per route when detailed metrics exist.
    pub groups: Vec<MetricsGroup>,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsFile {
    /// Name as given.
    pub name: String,
    /// `get-metric-data`, `get-metric-statistics` or `metrics-csv`.
    pub shape: String,
    /// Series read.
    pub series: u64,
    /// Data points read.
    pub points: u64,
}

/// One series and where its meaning came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesInfo {
    /// File.
    pub file: String,
    /// Result Id, or label.
    pub id: String,
    /// Metric (REST spelling).
    pub metric: MetricName,
    /// Statistic.
    pub stat: String,
    /// True when the statistic was assumed (`Sum` for counts, `Average` for latencies).
    pub stat_assumed: bool,
    /// `Name=Value;…`.
    pub dimensions: String,
    /// `file`, `metric_query` or `naming`.
    pub metadata: Metadata,
    /// Data points.
    pub points: u64,
}

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsInputs {
    /// Per file.
    pub files: Vec<MetricsFile>,
    /// Per series.
    pub series: Vec<SeriesInfo>,
    /// Points or rows that could not be used.
    pub skipped: u64,
    /// Partial data, unnamed series, bad rows.
    pub warnings: Vec<String>,
}

/// Values over one time bin (or the whole range, for totals). Counts are CloudWatch's
/// (floating point) sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsBin {
    /// Bin start, RFC 3339.
    pub start: String,
    /// Requests (`Count` Sum, else its SampleCount, else Latency SampleCount).
    pub requests: Option<f64>,
    /// 4XX errors (`Sum`, or `Average` × requests).
    pub errors_4xx: Option<f64>,
    /// 5XX errors.
    pub errors_5xx: Option<f64>,
    /// errors_4xx / requests.
    pub error_rate_4xx: Option<f64>,
    /// errors_5xx / requests.
    pub error_rate_5xx: Option<f64>,
    /// Latency statistics by CloudWatch statistic name (`Average`, `Maximum`, `p99`, …), ms.
    pub latency_ms: BTreeMap<String, f64>,
    /// IntegrationLatency statistics, ms.
    pub integration_latency_ms: BTreeMap<String, f64>,
    /// Average Latency − average IntegrationLatency, ms; `null` when negative (the averages
    /// cover different requests: cache hits and 429s have no IntegrationLatency).
    pub overhead_ms: Option<f64>,
    /// Cache hits.
    pub cache_hits: Option<f64>,
    /// Cache misses.
    pub cache_misses: Option<f64>,
    /// hits / (hits + misses).
    pub cache_hit_ratio: Option<f64>,
    /// DataProcessed bytes (HTTP APIs).
    pub data_processed_bytes: Option<f64>,
}

/// One API / stage / route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsGroup {
    /// `ApiName` or `ApiId`.
    pub api: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// Route (`METHOD /resource` or route key) for detailed metrics.
    pub route: Option<String>,
    /// The whole range. Percentiles are not combinable, so they appear only in the
    /// `*_worst_bin_ms` maps here.
    pub totals: MetricsBin,
    /// Worst bin's value of each Latency percentile, ms.
    pub latency_worst_bin_ms: BTreeMap<String, f64>,
    /// Worst bin's value of each IntegrationLatency percentile, ms.
    pub integration_latency_worst_bin_ms: BTreeMap<String, f64>,
    /// The bin with the most requests.
    pub peak: Option<MetricsBin>,
    /// Every bin with data, oldest first.
    pub bins: Vec<MetricsBin>,
}

impl MetricsGroup {
    /// `api / stage` or `api / stage / route`, `-` for unknowns.
    pub fn label(&self) -> String {
        let mut parts = vec![
            self.api.clone().unwrap_or_else(|| "-".into()),
            self.stage.clone().unwrap_or_else(|| "-".into()),
        ];
        if let Some(route) = &self.route {
            parts.push(route.clone());
        }
        parts.join(" / ")
    }
}

/// Stats, number of series and dimension sets of one file's metric.
type SeriesGroup<'a> = (Vec<String>, u64, Vec<&'a str>);

fn count(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    })
}

fn rate(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
}

/// The highest percentile present (`p99` over `p90`), for a one-column view.
fn top_percentile(stats: &BTreeMap<String, f64>) -> Option<(&str, f64)> {
    stats
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix('p')?.parse::<f64>().ok()?, k, *v)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k, v)| (k.as_str(), v))
}

fn bin_row(label: String, b: &MetricsBin) -> Vec<String> {
    vec![
        label,
        count(b.requests),
        count(b.errors_4xx),
        count(b.errors_5xx),
        rate(b.error_rate_4xx),
        rate(b.error_rate_5xx),
        ms(b.latency_ms.get("Average").copied()),
        top_percentile(&b.latency_ms).map_or("-".into(), |(k, v)| format!("{} ({k})", ms(Some(v)))),
        ms(b.integration_latency_ms.get("Average").copied()),
        ms(b.overhead_ms),
        rate(b.cache_hit_ratio),
    ]
}

const BIN_HEADERS: [&str; 11] = [
    "time (UTC)",
    "requests",
    "4xx",
    "5xx",
    "4xx %",
    "5xx %",
    "latency avg",
    "latency pXX",
    "integration avg",
    "overhead avg",
    "cache hit %",
];

fn tone(b: &MetricsBin) -> Tone {
    match (b.errors_5xx, b.errors_4xx) {
        (Some(e), _) if e > 0.0 => Tone::Bad,
        (_, Some(e)) if e > 0.0 => Tone::Warn,
        _ => Tone::Normal,
    }
}

/// `HH:MM` of an RFC 3339 time when the range is within one day, else the date too.
fn short_time(start: &str, same_day: bool) -> String {
    if same_day && start.len() >= 16 {
        start[11..16].to_string()
    } else {
        start.get(..16).unwrap_or(start).replace('T', " ")
    }
}

impl Document for MetricsReport {
    fn title(&self) -> &'static str {
        "gwstat metrics"
    }

    fn subtitle(&self) -> String {
        format!(
            "{} → {}, per {}",
            self.start.as_deref().unwrap_or("-"),
            self.end.as_deref().unwrap_or("-"),
            crate::report::layout::duration_text(self.bin_seconds)
        )
    }

    fn charts(&self) -> Vec<Chart> {
        let mut charts = Vec::new();
        for g in self.groups.iter().filter(|g| g.route.is_none()) {
            let labels: Vec<String> = g.bins.iter().map(|b| b.start.clone()).collect();
            let pick = |f: &dyn Fn(&MetricsBin) -> Option<f64>| g.bins.iter().map(f).collect();
            if g.bins.iter().any(|b| b.requests.is_some()) {
                charts.push(Chart {
                    title: format!("Requests and errors — {}", g.label()),
                    kind: ChartKind::Stacked,
                    unit: "requests",
                    labels: labels.clone(),
                    series: vec![
                        ChartSeries::new(
                            "other",
                            colors::OK,
                            pick(&|b| {
                                Some(
                                    (b.requests?
                                        - b.errors_4xx.unwrap_or(0.0)
                                        - b.errors_5xx.unwrap_or(0.0))
                                    .max(0.0),
                                )
                            }),
                        ),
                        ChartSeries::new("4XX", colors::WARN, pick(&|b| b.errors_4xx)),
                        ChartSeries::new("5XX", colors::BAD, pick(&|b| b.errors_5xx)),
                    ],
                    note: Some("Count, 4XXError and 5XXError from CloudWatch".into()),
                    log_scale: false,
                });
            }
            let mut latency = Vec::new();
            let stats: std::collections::BTreeSet<&String> =
                g.bins.iter().flat_map(|b| b.latency_ms.keys()).collect();
            let palette = [colors::BLUE, colors::ORANGE, colors::RED, colors::GREY];
            for (i, stat) in stats.iter().enumerate() {
                latency.push(ChartSeries::new(
                    format!("Latency {stat}"),
                    palette[i % palette.len()],
                    pick(&|b| b.latency_ms.get(*stat).copied()),
                ));
            }
            if g.bins
                .iter()
                .any(|b| b.integration_latency_ms.contains_key("Average"))
            {
                latency.push(ChartSeries::new(
                    "IntegrationLatency Average",
                    colors::GREEN,
                    pick(&|b| b.integration_latency_ms.get("Average").copied()),
                ));
            }
            if !latency.is_empty() {
                charts.push(Chart {
                    title: format!("Latency — {}", g.label()),
                    kind: ChartKind::Lines,
                    unit: "ms",
                    labels: labels.clone(),
                    series: latency,
                    note: None,
                    log_scale: true,
                });
            }
            if g.bins.iter().any(|b| b.cache_hit_ratio.is_some()) {
                charts.push(Chart {
                    title: format!("Cache hit ratio — {}", g.label()),
                    kind: ChartKind::Lines,
                    unit: "%",
                    labels,
                    series: vec![ChartSeries::new(
                        "CacheHitCount / (hits + misses)",
                        colors::GREEN,
                        pick(&|b| b.cache_hit_ratio.map(|r| r * 100.0)),
                    )],
                    note: None,
                    log_scale: false,
                });
            }
        }
        charts
    }

    fn blocks(&self) -> Vec<Block> {
        let mut out = Vec::new();
        let mut files = Block::new("Metrics inputs", vec!["file", "shape", "series", "points"]);
        files.shorten(&["file"]);
        for f in &self.inputs.files {
            files.row(vec![
                f.name.clone(),
                f.shape.clone(),
                f.series.to_string(),
                f.points.to_string(),
            ]);
        }
        if !self.inputs.warnings.is_empty() {
            files.note = Some(self.inputs.warnings.join("\n  "));
        }
        out.push(files);
        let mut series = Block::new(
            "Series (what each measures, and where that came from)",
            vec!["file", "metric", "stats", "series", "dimensions", "from"],
        );
        series.shorten(&["file", "dimensions"]);
        series.drop_first(&["from", "series", "stats"]);
        // One row per file, metric and source: dimensions and stats listed together.
        let mut grouped: BTreeMap<(&str, MetricName, &str), SeriesGroup> = BTreeMap::new();
        for s in &self.inputs.series {
            let from = match s.metadata {
                Metadata::File => "file",
                Metadata::MetricQuery => "--metric-query",
                Metadata::Naming => "label/id naming",
            };
            let e = grouped.entry((&s.file, s.metric, from)).or_default();
            let stat = if s.stat_assumed {
                format!("{} (assumed)", s.stat)
            } else {
                s.stat.clone()
            };
            if !e.0.contains(&stat) {
                e.0.push(stat);
            }
            e.1 += 1;
            if !e.2.contains(&s.dimensions.as_str()) {
                e.2.push(&s.dimensions);
            }
        }
        for ((file, metric, from), (stats, n, dims)) in grouped {
            let dims = match dims.as_slice() {
                [""] => "-".to_string(),
                [one] => one.to_string(),
                many => format!("{} sets", many.len()),
            };
            series.row(vec![
                file.rsplit('/').next().unwrap_or(file).to_string(),
                metric.to_string(),
                stats.join(", "),
                n.to_string(),
                dims,
                from.into(),
            ]);
        }
        out.push(series);
        let same_day = match (&self.start, &self.end) {
            (Some(a), Some(b)) => a.get(..10) == b.get(..10),
            _ => true,
        };
        for group in self.groups.iter().filter(|g| g.route.is_none()) {
            let mut block = Block::new(
                format!(
                    "Stage {} — per {}",
                    group.label(),
                    crate::report::layout::duration_text(self.bin_seconds)
                ),
                BIN_HEADERS.to_vec(),
            );
            block.drop_first(&[
                "4xx %",
                "5xx %",
                "cache hit %",
                "overhead avg",
                "integration avg",
                "latency pXX",
            ]);
            for b in &group.bins {
                block.toned_row(bin_row(short_time(&b.start, same_day), b), tone(b));
            }
            if let Some(peak) = &group.peak {
                block.toned_row(
                    bin_row(format!("peak {}", short_time(&peak.start, same_day)), peak),
                    Tone::Warn,
                );
            }
            block.row(bin_row("total".into(), &group.totals));
            let worst: Vec<String> = group
                .latency_worst_bin_ms
                .iter()
                .map(|(k, v)| format!("latency {k} {}", ms(Some(*v))))
                .chain(
                    group
                        .integration_latency_worst_bin_ms
                        .iter()
                        .map(|(k, v)| format!("integration {k} {}", ms(Some(*v)))),
                )
                .collect();
            let mut note = vec![
                "overhead = avg Latency − avg IntegrationLatency, `-` where negative (cache hits \
                 and 429s lower the Latency average but have no IntegrationLatency)"
                    .to_string(),
            ];
            if self.percentiles_are_worst_point {
                note.push(
                    "bins span several data points: their pXX is the worst point's value".into(),
                );
            }
            if !worst.is_empty() {
                note.push(format!(
                    "worst bin: {} (percentiles cannot be combined over bins)",
                    worst.join(", ")
                ));
            }
            block.note = Some(note.join("\n  "));
            out.push(block);
        }
        let routes: Vec<&MetricsGroup> = self.groups.iter().filter(|g| g.route.is_some()).collect();
        if !routes.is_empty() {
            let mut block = Block::new(
                "Routes (detailed metrics), most requests first",
                vec![
                    "api / stage / route",
                    "requests",
                    "4xx",
                    "5xx",
                    "latency avg",
                    "worst-bin pXX",
                    "integration avg",
                    "overhead avg",
                ],
            );
            block.shorten(&["api / stage / route"]);
            block.drop_first(&["overhead avg", "integration avg", "worst-bin pXX", "4xx"]);
            for g in routes {
                let t = &g.totals;
                block.toned_row(
                    vec![
                        g.label(),
                        count(t.requests),
                        count(t.errors_4xx),
                        count(t.errors_5xx),
                        ms(t.latency_ms.get("Average").copied()),
                        top_percentile(&g.latency_worst_bin_ms)
                            .map_or("-".into(), |(k, v)| format!("{} ({k})", ms(Some(v)))),
                        ms(t.integration_latency_ms.get("Average").copied()),
                        ms(t.overhead_ms),
                    ],
                    tone(t),
                );
            }
            out.push(block);
        }
        out
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = Vec::new();
        for g in &self.groups {
            let group = g.label();
            let mut push = |key: &str, b: &MetricsBin| {
                let mut add = |metric: String, value: Option<f64>| {
                    if let Some(v) = value {
                        rows.push([
                            "metrics".into(),
                            key.into(),
                            group.clone(),
                            metric,
                            v.to_string(),
                        ]);
                    }
                };
                add("requests".into(), b.requests);
                add("errors_4xx".into(), b.errors_4xx);
                add("errors_5xx".into(), b.errors_5xx);
                add("error_rate_4xx".into(), b.error_rate_4xx);
                add("error_rate_5xx".into(), b.error_rate_5xx);
                for (k, v) in &b.latency_ms {
                    add(format!("latency_ms.{k}"), Some(*v));
                }
                for (k, v) in &b.integration_latency_ms {
                    add(format!("integration_latency_ms.{k}"), Some(*v));
                }
                add("overhead_ms".into(), b.overhead_ms);
                add("cache_hits".into(), b.cache_hits);
                add("cache_misses".into(), b.cache_misses);
                add("cache_hit_ratio".into(), b.cache_hit_ratio);
                add("data_processed_bytes".into(), b.data_processed_bytes);
            };
            push("total", &g.totals);
            for b in &g.bins {
                push(&b.start, b);
            }
        }
        rows
    }
}
