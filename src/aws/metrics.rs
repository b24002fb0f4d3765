//! CloudWatch metrics: the GetMetricData queries for every API Gateway metric of an API's
//! stages (and, with `--detailed`, of each resource and method or route found with
//! ListMetrics), sent in batches of at most 500 queries with every NextToken followed. What
//! comes back is written in the AWS CLI's shapes — `queries-N.json` (the
//! `--metric-data-queries` form) beside `get-metric-data-N.json` (its pages) — so the offline
//! `gwstat metrics` reads them as they are.

use anyhow::{bail, Result};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, DimensionFilter, Metric, MetricDataQuery, MetricDataResult, MetricStat,
};
use aws_sdk_cloudwatch::Client;
use serde_json::{json, Value};

use super::{describe_error, Document, Progress};
use crate::metrics::canonical_stat;

/// The CloudWatch namespace of API Gateway.
pub const NAMESPACE: &str = "AWS/ApiGateway";

/// Most queries in one GetMetricData call (an AWS limit).
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// Which API: REST APIs are named by `ApiName`, HTTP APIs by `ApiId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRef {
    /// A REST API's name.
    Rest(String),
    /// An HTTP API's id.
    Http(String),
}

impl ApiRef {
    fn dimension(&self) -> (&'static str, &str) {
        match self {
            ApiRef::Rest(name) => ("ApiName", name),
            ApiRef::Http(id) => ("ApiId", id),
        }
    }

    /// The metrics this kind of API publishes: `(name, is a count)`.
    fn metrics(&self) -> &'static [(&'static str, bool)] {
        match self {
            ApiRef::Rest(_) => &[
                ("Count", true),
                ("4XXError", true),
                ("5XXError", true),
                ("CacheHitCount", true),
                ("CacheMissCount", true),
                ("Latency", false),
                ("IntegrationLatency", false),
            ],
            ApiRef::Http(_) => &[
                ("Count", true),
                ("4xx", true),
                ("5xx", true),
                ("DataProcessed", true),
                ("Latency", false),
                ("IntegrationLatency", false),
            ],
        }
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRequest {
    /// The API.
    pub api: ApiRef,
    /// Its stages.
    pub stages: Vec<String>,
    /// Also per resource and method (REST) or route (HTTP), as found with ListMetrics.
    pub detailed: bool,
    /// First ms.
    pub start_ms: i64,
    /// Last ms (exclusive).
    pub end_ms: i64,
    /// Period in seconds (60 or a multiple of 60; 1, 5, 10, 30 for high resolution).
    pub period: i32,
    /// Statistics of the latency metrics (counts always use `Sum`).
    pub latency_stats: Vec<String>,
}

/// Parses `--statistics` (comma-separated CloudWatch statistics).
pub fn parse_statistics(text: &str) -> Result<Vec<String>> {
    let stats: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            canonical_stat(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "--statistics: {s} is not a CloudWatch statistic (Average, Minimum, \
                     Maximum, Sum, SampleCount, p50, p99.9 …)"
                )
            })
        })
        .collect::<Result<_>>()?;
    if stats.is_empty() {
        bail!("--statistics: give at least one statistic");
    }
    Ok(stats)
}

/// One GetMetricData query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    /// Query id (`m0`, `m1`, …: unique over all batches).
    pub id: String,
    /// Metric name.
    pub metric: String,
    /// Dimensions, in order.
    pub dimensions: Vec<(String, String)>,
    /// Period, seconds.
    pub period: i32,
    /// Statistic.
    pub stat: String,
}

impl QuerySpec {
    /// The query as the AWS CLI's `--metric-data-queries` JSON.
    pub fn to_json(&self) -> Value {
        let dimensions: Vec<Value> = self
            .dimensions
            .iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect();
        json!({
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": self.metric,
                    "Dimensions": dimensions,
                },
                "Period": self.period,
                "Stat": self.stat,
            },
            "ReturnData": true,
        })
    }

    fn to_sdk(&self) -> MetricDataQuery {
        let mut metric = Metric::builder()
            .namespace(NAMESPACE)
            .metric_name(&self.metric);
        for (name, value) in &self.dimensions {
            metric = metric.dimensions(Dimension::builder().name(name).value(value).build());
        }
        MetricDataQuery::builder()
            .id(&self.id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.build())
                    .period(self.period)
                    .stat(&self.stat)
                    .build(),
            )
            .return_data(true)
            .build()
    }
}

/// The queries for every metric of every dimension set: counts with `Sum`, latencies with
/// each of `latency_stats`.
pub fn build_queries(
    request: &MetricsRequest,
    dimension_sets: &[Vec<(String, String)>],
) -> Vec<QuerySpec> {
    let mut out = Vec::new();
    for dimensions in dimension_sets {
        for (metric, is_count) in request.api.metrics() {
            let stats: Vec<String> = if *is_count {
                vec!["Sum".to_string()]
            } else {
                request.latency_stats.clone()
            };
            for stat in stats {
                out.push(QuerySpec {
                    id: format!("m{}", out.len()),
                    metric: (*metric).to_string(),
                    dimensions: dimensions.clone(),
                    period: request.period,
                    stat,
                });
            }
        }
    }
    out
}

/// The stage-level dimension sets (`ApiName`/`ApiId` and `Stage`).
pub fn stage_dimensions(request: &MetricsRequest) -> Vec<Vec<(String, String)>> {
    let (api_dim, api) = request.api.dimension();
    request
        .stages
        .iter()
        .map(|stage| {
            vec![
                (api_dim.to_string(), api.to_string()),
                ("Stage".to_string(), stage.clone()),
            ]
        })
        .collect()
}

/// The per-resource/method or per-route dimension sets CloudWatch holds for the stages
/// (ListMetrics on `Count`; it lists what had data in the last two weeks).
async fn detailed_dimensions(
    client: &Client,
    request: &MetricsRequest,
    progress: &Progress,
) -> Result<Vec<Vec<(String, String)>>> {
    let (api_dim, api) = request.api.dimension();
    let mut out = Vec::new();
    for stage in &request.stages {
        let mut pages = client
            .list_metrics()
            .namespace(NAMESPACE)
            .metric_name("Count")
            .dimensions(DimensionFilter::builder().name(api_dim).value(api).build())
            .dimensions(
                DimensionFilter::builder()
                    .name("Stage")
                    .value(stage)
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| describe_error("ListMetrics", e))?;
            progress.page(0);
            for metric in page.metrics() {
                let dims: Vec<(String, String)> = metric
                    .dimensions()
                    .iter()
                    .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
                    .collect();
                if dims.len() > 2 && !out.contains(&dims) {
                    out.push(dims);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn iso(t: &DateTime) -> String {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// One result as the AWS CLI prints it.
fn result_json(r: &MetricDataResult) -> Value {
    let messages: Vec<Value> = r
        .messages()
        .iter()
        .map(|m| json!({"Code": m.code(), "Value": m.value()}))
        .collect();
    json!({
        "Id": r.id(),
        "Label": r.label(),
        "Timestamps": r.timestamps().iter().map(iso).collect::<Vec<_>>(),
        "Values": r.values(),
        "StatusCode": r.status_code().map(|s| s.as_str()),
        "Messages": messages,
    })
}

/// Reads every metric of the request; returns the documents to save or decode.
pub async fn fetch_metrics(
    client: &Client,
    request: &MetricsRequest,
    progress: &Progress,
) -> Result<Vec<Document>> {
    let mut dimension_sets = stage_dimensions(request);
    if request.detailed {
        dimension_sets.extend(detailed_dimensions(client, request, progress).await?);
    }
    let queries = build_queries(request, &dimension_sets);
    let start = DateTime::from_millis(request.start_ms);
    let end = DateTime::from_millis(request.end_ms);
    let mut documents = Vec::new();
    for (k, batch) in queries.chunks(MAX_QUERIES_PER_CALL).enumerate() {
        let mut pages = client
            .get_metric_data()
            .set_metric_data_queries(Some(batch.iter().map(QuerySpec::to_sdk).collect()))
            .start_time(start)
            .end_time(end)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| describe_error("GetMetricData", e))?;
            let points: usize = page
                .metric_data_results()
                .iter()
                .map(|r| r.values().len())
                .sum();
            progress.page(points);
            let messages: Vec<Value> = page
                .messages()
                .iter()
                .map(|m| json!({"Code": m.code(), "Value": m.value()}))
                .collect();
            out.push(json!({
                "MetricDataResults": page.metric_data_results().iter().map(result_json).collect::<Vec<_>>(),
                "Messages": messages,
            }));
        }
        progress.part_done();
        let query_json: Vec<Value> = batch.iter().map(QuerySpec::to_json).collect();
        documents.push(Document::json(
            format!("queries-{k}.json"),
            &Value::Array(query_json),
        ));
        documents.push(Document::json(
            format!("get-metric-data-{k}.json"),
            &Value::Array(out),
        ));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(api: ApiRef) -> MetricsRequest {
        MetricsRequest {
            api,
            stages: vec!["prod".into(), "beta".into()],
            detailed: false,
            start_ms: 0,
            end_ms: 3_600_000,
            period: 60,
            latency_stats: parse_statistics("Average,p99").unwrap(),
        }
    }

    #[test]
    fn rest_queries_cover_every_metric_and_stat() {
        let r = request(ApiRef::Rest("shop-api".into()));
        let q = build_queries(&r, &stage_dimensions(&r));
        // 5 counts + 2 latencies × 2 stats, per stage.
        assert_eq!(q.len(), 2 * (5 + 4));
        assert_eq!(q[0].id, "m0");
        assert_eq!(q[17].id, "m17");
        assert!(q
            .iter()
            .any(|x| x.metric == "Latency" && x.stat == "p99" && x.dimensions[1].1 == "beta"));
        let j = q[0].to_json();
        assert_eq!(
            j["MetricStat"]["Metric"]["Dimensions"][0]["Name"],
            "ApiName"
        );
        assert_eq!(j["MetricStat"]["Stat"], "Sum");
    }

    #[test]
    fn http_apis_use_their_names() {
        let r = request(ApiRef::Http("a1b2c3".into()));
        let q = build_queries(&r, &stage_dimensions(&r));
        assert!(q.iter().any(|x| x.metric == "4xx"));
        assert!(q.iter().all(|x| x.metric != "CacheHitCount"));
        assert_eq!(q[0].dimensions[0].0, "ApiId");
    }

    #[test]
    fn statistics_are_checked() {
        assert_eq!(
            parse_statistics("avg, P99 ,max").unwrap(),
            ["Average", "p99", "Maximum"]
        );
        assert!(parse_statistics("median").is_err());
        assert!(parse_statistics(",").is_err());
    }
}
