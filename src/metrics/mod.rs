//! CloudWatch metrics for API Gateway (namespace `AWS/ApiGateway`): the files the AWS CLI
//! writes ([`decode`]), what each series measures ([`naming`]), and the per-stage report
//! over time bins ([`analyze`], [`report`]).

pub mod analyze;
pub mod decode;
#[cfg(feature = "cli")]
pub(crate) mod load;
pub mod naming;
pub mod report;

use std::fmt;

use serde::Serialize;

/// An API Gateway metric, REST and HTTP API names folded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum MetricName {
    /// `Count`: requests.
    Count,
    /// `Latency`: request received → response sent, ms.
    Latency,
    /// `IntegrationLatency`: gateway → backend → gateway, ms.
    IntegrationLatency,
    /// `4XXError` (REST) or `4xx` (HTTP).
    Errors4xx,
    /// `5XXError` (REST) or `5xx` (HTTP).
    Errors5xx,
    /// `CacheHitCount`.
    CacheHitCount,
    /// `CacheMissCount`.
    CacheMissCount,
    /// `DataProcessed` (HTTP APIs), bytes.
    DataProcessed,
}

impl MetricName {
    /// Every metric.
    pub const ALL: [MetricName; 8] = [
        MetricName::Count,
        MetricName::Latency,
        MetricName::IntegrationLatency,
        MetricName::Errors4xx,
        MetricName::Errors5xx,
        MetricName::CacheHitCount,
        MetricName::CacheMissCount,
        MetricName::DataProcessed,
    ];

    /// Recognises a CloudWatch metric name (REST or HTTP API spelling, any case).
    pub fn parse(name: &str) -> Option<MetricName> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => MetricName::Count,
            "latency" => MetricName::Latency,
            "integrationlatency" => MetricName::IntegrationLatency,
            "4xxerror" | "4xx" => MetricName::Errors4xx,
            "5xxerror" | "5xx" => MetricName::Errors5xx,
            "cachehitcount" => MetricName::CacheHitCount,
            "cachemisscount" => MetricName::CacheMissCount,
            "dataprocessed" => MetricName::DataProcessed,
            _ => return None,
        })
    }

    /// The REST API spelling (HTTP APIs use `4xx`/`5xx`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::Count => "Count",
            MetricName::Latency => "Latency",
            MetricName::IntegrationLatency => "IntegrationLatency",
            MetricName::Errors4xx => "4XXError",
            MetricName::Errors5xx => "5XXError",
            MetricName::CacheHitCount => "CacheHitCount",
            MetricName::CacheMissCount => "CacheMissCount",
            MetricName::DataProcessed => "DataProcessed",
        }
    }

    /// Whether the statistic to assume, when none is known, is `Sum` (counts) rather than
    /// `Average` (latencies).
    pub fn is_count(self) -> bool {
        !matches!(self, MetricName::Latency | MetricName::IntegrationLatency)
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Canonical spelling of a CloudWatch statistic: `Sum`, `Average`, `Minimum`, `Maximum`,
/// `SampleCount`, or an extended statistic such as `p99` / `p99.9` (kept as given, with a
/// lower-case `p`). `None` for text that is not a statistic.
pub fn canonical_stat(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    Some(match lower.as_str() {
        "sum" => "Sum".into(),
        "average" | "avg" | "mean" => "Average".into(),
        "minimum" | "min" => "Minimum".into(),
        "maximum" | "max" => "Maximum".into(),
        "samplecount" | "samples" => "SampleCount".into(),
        _ => {
            let rest = lower.strip_prefix('p')?;
            let value: f64 = rest.parse().ok()?;
            if !(0.0..=100.0).contains(&value) || rest.starts_with('.') || rest.ends_with('.') {
                return None;
            }
            format!("p{rest}")
        }
    })
}

/// The dimensions of a series; `None` where the series is not split by that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Dimensions {
    /// `ApiName` (REST) or `ApiId` (HTTP).
    pub api: Option<String>,
    /// `Stage`.
    pub stage: Option<String>,
    /// `Method` (REST detailed metrics).
    pub method: Option<String>,
    /// `Resource` (REST detailed metrics).
    pub resource: Option<String>,
    /// `Route` (HTTP detailed metrics): the route key.
    pub route: Option<String>,
}

impl Dimensions {
    /// Sets the dimension called `name` (CloudWatch spelling, any case); false if unknown.
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let value = Some(value.to_string());
        match name.to_ascii_lowercase().as_str() {
            "apiname" | "apiid" => self.api = value,
            "stage" => self.stage = value,
            "method" => self.method = value,
            "resource" => self.resource = value,
            "route" => self.route = value,
            _ => return false,
        }
        true
    }

    /// The route this series is for (`METHOD /resource` or the route key), if per route.
    pub fn route_name(&self) -> Option<String> {
        match (&self.route, &self.method, &self.resource) {
            (Some(route), _, _) => Some(route.clone()),
            (None, Some(method), Some(resource)) => Some(format!("{method} {resource}")),
            (None, None, Some(resource)) => Some(resource.clone()),
            _ => None,
        }
    }

    /// `Name=Value` pairs joined by `;` (the CSV form), empty when there are none.
    pub fn to_text(&self) -> String {
        [
            ("ApiName", &self.api),
            ("Stage", &self.stage),
            ("Method", &self.method),
            ("Resource", &self.resource),
            ("Route", &self.route),
        ]
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
        .collect::<Vec<_>>()
        .join(";")
    }
}

/// Where a series' metric, statistic and dimensions came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metadata {
    /// The file itself says (CSV columns, get-metric-statistics Label + query).
    File,
    /// `--metric-query FILE` (the JSON given to the AWS CLI).
    MetricQuery,
    /// The result's `Label` / `Id`, read by naming convention.
    Naming,
}

/// One time series: a metric, a statistic, its dimensions, and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The file it was read from.
    pub file: String,
    /// The result `Id` (get-metric-data) or the label.
    pub id: String,
    /// The metric.
    pub metric: MetricName,
    /// The statistic ([`canonical_stat`]).
    pub stat: String,
    /// True when the statistic was not known and the default was assumed
    /// (`Sum` for counts, `Average` for latencies).
    pub stat_assumed: bool,
    /// Dimensions.
    pub dimensions: Dimensions,
    /// Where metric, stat and dimensions came from.
    pub metadata: Metadata,
    /// `(epoch seconds, value)`, sorted by time, one per timestamp.
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// Sorts points by time and keeps the last value given for a repeated timestamp.
    pub fn normalize(&mut self) {
        self.points.sort_by_key(|(t, _)| *t);
        let mut out: Vec<(i64, f64)> = Vec::with_capacity(self.points.len());
        for (t, v) in self.points.drain(..) {
            match out.last_mut() {
                Some(last) if last.0 == t => last.1 = v,
                _ => out.push((t, v)),
            }
        }
        self.points = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_in_both_spellings() {
        assert_eq!(MetricName::parse("4XXError"), Some(MetricName::Errors4xx));
        assert_eq!(MetricName::parse("4xx"), Some(MetricName::Errors4xx));
        assert_eq!(MetricName::parse("5xx"), Some(MetricName::Errors5xx));
        assert_eq!(
            MetricName::parse("DataProcessed"),
            Some(MetricName::DataProcessed)
        );
        assert_eq!(MetricName::parse("Throttles"), None);
    }

    #[test]
    fn statistics_are_canonical() {
        assert_eq!(canonical_stat("avg").as_deref(), Some("Average"));
        assert_eq!(canonical_stat("P99").as_deref(), Some("p99"));
        assert_eq!(canonical_stat("p99.9").as_deref(), Some("p99.9"));
        assert_eq!(canonical_stat("p101"), None);
        assert_eq!(canonical_stat("prod"), None);
    }

    #[test]
    fn normalize_sorts_and_dedups() {
        let mut s = Series {
            file: "f".into(),
            id: "x".into(),
            metric: MetricName::Count,
            stat: "Sum".into(),
            stat_assumed: false,
            dimensions: Dimensions::default(),
            metadata: Metadata::File,
            points: vec![(120, 3.0), (60, 1.0), (120, 4.0)],
        };
        s.normalize();
        assert_eq!(s.points, vec![(60, 1.0), (120, 4.0)]);
    }
}
