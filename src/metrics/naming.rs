//! What a series measures when the file does not say: the query the user gave the AWS CLI
//! (`--metric-query FILE`), or the result's `Label` and `Id` read by naming convention.
//!
//! Conventions (documented in docs/metrics.md): the metric is a CloudWatch metric name in the
//! label or id (`Latency`, `5XXError`, `4xx`, …) or a common abbreviation in the id (`lat`,
//! `ilat`, `err4`, `err5`, `hits`, `misses`, `count`, `bytes`); the statistic is a statistic
//! name or percentile token (`Sum`, `avg`, `p99`, …); dimensions are `Name=Value` tokens
//! (`Stage=prod`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::{canonical_stat, Dimensions, MetricName};

/// What one query asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryInfo {
    /// The metric.
    pub metric: MetricName,
    /// The statistic, if the query names one.
    pub stat: Option<String>,
    /// The dimensions.
    pub dimensions: Dimensions,
}

/// Queries from `--metric-query` files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Queries {
    /// get-metric-data queries by `Id`.
    pub by_id: HashMap<String, QueryInfo>,
    /// get-metric-statistics requests (matched to files by metric name), with their
    /// statistics.
    pub statistics: Vec<(QueryInfo, Vec<String>)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    #[serde(default)]
    namespace: Option<String>,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricStat {
    metric: Metric,
    stat: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataQuery {
    id: String,
    #[serde(default)]
    metric_stat: Option<MetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatisticsRequest {
    #[serde(default)]
    namespace: Option<String>,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    #[serde(default)]
    statistics: Vec<String>,
    #[serde(default)]
    extended_statistics: Vec<String>,
}

fn dimensions(list: &[Dimension]) -> Dimensions {
    let mut d = Dimensions::default();
    for dim in list {
        d.set(&dim.name, &dim.value);
    }
    d
}

fn check_namespace(namespace: &Option<String>, what: &str) -> Result<()> {
    match namespace.as_deref() {
        None | Some("AWS/ApiGateway") => Ok(()),
        Some(other) => bail!("{what}: namespace {other} is not AWS/ApiGateway"),
    }
}

impl Queries {
    /// Reads `--metric-query` files: a list of MetricDataQuery objects, an object with
    /// `MetricDataQueries` (get-metric-data `--cli-input-json`), or a get-metric-statistics
    /// `--cli-input-json` object.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Queries> {
        let mut queries = Queries::default();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --metric-query {}", path.display()))?;
            queries
                .add(&text)
                .with_context(|| format!("--metric-query {}", path.display()))?;
        }
        Ok(queries)
    }

    /// Adds the queries in one JSON text.
    pub fn add(&mut self, text: &str) -> Result<()> {
        let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
        let data_queries = match &value {
            serde_json::Value::Array(_) => Some(value.clone()),
            serde_json::Value::Object(map) => map.get("MetricDataQueries").cloned(),
            _ => None,
        };
        if let Some(list) = data_queries {
            let list: Vec<DataQuery> = serde_json::from_value(list)
                .context("MetricDataQueries: expected [{Id, MetricStat: {Metric, Stat}}]")?;
            for q in list {
                // Expressions (no MetricStat) are not API Gateway metrics we can name.
                let Some(ms) = q.metric_stat else { continue };
                check_namespace(&ms.metric.namespace, &q.id)?;
                let Some(metric) = MetricName::parse(&ms.metric.metric_name) else {
                    bail!(
                        "{}: {} is not an API Gateway metric",
                        q.id,
                        ms.metric.metric_name
                    );
                };
                let stat = canonical_stat(&ms.stat)
                    .with_context(|| format!("{}: unknown statistic {}", q.id, ms.stat))?;
                self.by_id.insert(
                    q.id,
                    QueryInfo {
                        metric,
                        stat: Some(stat),
                        dimensions: dimensions(&ms.metric.dimensions),
                    },
                );
            }
            return Ok(());
        }
        let request: StatisticsRequest = serde_json::from_value(value).context(
            "expected MetricDataQueries or a get-metric-statistics request (MetricName, \
             Dimensions, Statistics)",
        )?;
        check_namespace(&request.namespace, &request.metric_name)?;
        let Some(metric) = MetricName::parse(&request.metric_name) else {
            bail!("{} is not an API Gateway metric", request.metric_name);
        };
        let stats = request
            .statistics
            .iter()
            .chain(&request.extended_statistics)
            .filter_map(|s| canonical_stat(s))
            .collect();
        self.statistics.push((
            QueryInfo {
                metric,
                stat: None,
                dimensions: dimensions(&request.dimensions),
            },
            stats,
        ));
        Ok(())
    }

    /// The get-metric-statistics request for a metric, if exactly one was given.
    pub fn statistics_for(&self, metric: MetricName) -> Option<&QueryInfo> {
        let mut matching = self.statistics.iter().filter(|(q, _)| q.metric == metric);
        let first = matching.next()?;
        matching.next().is_none().then_some(&first.0)
    }
}

/// Abbreviations seen in result ids.
const ID_WORDS: [(&str, MetricName); 19] = [
    ("lat", MetricName::Latency),
    ("latency", MetricName::Latency),
    ("ilat", MetricName::IntegrationLatency),
    ("intlat", MetricName::IntegrationLatency),
    ("integration", MetricName::IntegrationLatency),
    ("err4", MetricName::Errors4xx),
    ("e4", MetricName::Errors4xx),
    ("err5", MetricName::Errors5xx),
    ("e5", MetricName::Errors5xx),
    ("hit", MetricName::CacheHitCount),
    ("hits", MetricName::CacheHitCount),
    ("miss", MetricName::CacheMissCount),
    ("misses", MetricName::CacheMissCount),
    ("count", MetricName::Count),
    ("requests", MetricName::Count),
    ("req", MetricName::Count),
    ("bytes", MetricName::DataProcessed),
    ("data", MetricName::DataProcessed),
    ("processed", MetricName::DataProcessed),
];

/// What a label and id say by convention.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inferred {
    /// The metric, if recognised.
    pub metric: Option<MetricName>,
    /// The statistic, if named.
    pub stat: Option<String>,
    /// `Name=Value` dimensions found in the label.
    pub dimensions: Dimensions,
}

/// Reads a label and an id by the conventions above. The label wins over the id.
pub fn infer(label: &str, id: &str) -> Inferred {
    let mut inferred = Inferred::default();
    for text in [label, id] {
        for token in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '/')) {
            if let Some((name, value)) = token.split_once('=') {
                if !value.is_empty() && inferred.dimensions.set(name, value) {
                    continue;
                }
            }
            for word in token.split(['_', '-', ':']) {
                if word.is_empty() {
                    continue;
                }
                if inferred.metric.is_none() {
                    inferred.metric = MetricName::parse(word);
                    if inferred.metric.is_some() {
                        continue;
                    }
                }
                if inferred.stat.is_none() {
                    inferred.stat = canonical_stat(word);
                    if inferred.stat.is_some() {
                        continue;
                    }
                }
                if inferred.metric.is_none() && text == id {
                    let lower = word.to_ascii_lowercase();
                    inferred.metric = ID_WORDS.iter().find(|(w, _)| *w == lower).map(|(_, m)| *m);
                }
            }
        }
    }
    inferred
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_ids_by_convention() {
        let i = infer("Latency", "lat_p99");
        assert_eq!(i.metric, Some(MetricName::Latency));
        assert_eq!(i.stat.as_deref(), Some("p99"));
        let i = infer("5XXError", "err5");
        assert_eq!(i.metric, Some(MetricName::Errors5xx));
        assert_eq!(i.stat, None);
        let i = infer("Stage=prod IntegrationLatency Average", "q1");
        assert_eq!(i.metric, Some(MetricName::IntegrationLatency));
        assert_eq!(i.stat.as_deref(), Some("Average"));
        assert_eq!(i.dimensions.stage.as_deref(), Some("prod"));
        let i = infer("", "ilat_avg");
        assert_eq!(i.metric, Some(MetricName::IntegrationLatency));
        assert_eq!(i.stat.as_deref(), Some("Average"));
        assert_eq!(infer("something", "q1").metric, None);
    }

    #[test]
    fn metric_data_queries_by_id() {
        let mut q = Queries::default();
        q.add(
            r#"[{"Id":"lat_p99","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway",
            "MetricName":"Latency","Dimensions":[{"Name":"ApiName","Value":"shop"},
            {"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"p99"}},
            {"Id":"e1","Expression":"m1/m2"}]"#,
        )
        .unwrap();
        let info = &q.by_id["lat_p99"];
        assert_eq!(info.metric, MetricName::Latency);
        assert_eq!(info.stat.as_deref(), Some("p99"));
        assert_eq!(info.dimensions.stage.as_deref(), Some("prod"));
        assert_eq!(info.dimensions.api.as_deref(), Some("shop"));
        assert_eq!(q.by_id.len(), 1);
    }

    #[test]
    fn statistics_request_and_bad_queries() {
        let mut q = Queries::default();
        q.add(r#"{"Namespace":"AWS/ApiGateway","MetricName":"Latency","Dimensions":[{"Name":"Stage","Value":"prod"}],"Statistics":["Average"],"ExtendedStatistics":["p99"]}"#).unwrap();
        assert_eq!(q.statistics[0].1, vec!["Average", "p99"]);
        assert!(q.statistics_for(MetricName::Latency).is_some());
        let err = Queries::default()
            .add(r#"{"Namespace":"AWS/Lambda","MetricName":"Duration"}"#)
            .unwrap_err();
        assert!(format!("{err:#}").contains("AWS/Lambda"), "{err:#}");
        assert!(Queries::default().add("nope").is_err());
    }
}
