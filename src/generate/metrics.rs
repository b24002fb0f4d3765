//! CloudWatch metrics for generated REST traffic, as API Gateway would publish them: one
//! data point per minute per stage (and per route, as detailed metrics), written in the
//! shapes the AWS CLI produces (get-metric-data pages newest first, get-metric-statistics
//! unsorted, and CSV), with the query files that name each series.
//!
//! AWS documents that some throttled requests never reach the access logs; to model that,
//! every tenth logged 429 of a route in a minute adds one more 429 that only the metrics
//! count.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::{json, Value};

use super::traffic::{Event, ROUTES};
use crate::gateway::CacheResult;

/// The REST API's name (the `ApiName` dimension).
pub const API_NAME: &str = "shop-api";

/// One minute of one stage (or route).
#[derive(Debug, Clone, Default)]
struct Minute {
    count: u64,
    e4: u64,
    e5: u64,
    throttled: u64,
    latency: Vec<f64>,
    integration: Vec<f64>,
    hits: u64,
    misses: u64,
}

type Key = (String, Option<usize>, i64);

fn aggregate(events: &[Event]) -> BTreeMap<Key, Minute> {
    let mut out: BTreeMap<Key, Minute> = BTreeMap::new();
    for e in events {
        let minute = e.time_ms.div_euclid(60_000) * 60;
        for route in [None, Some(e.route)] {
            let m = out.entry((e.stage.to_string(), route, minute)).or_default();
            m.count += 1;
            match e.status {
                400..=499 => m.e4 += 1,
                500..=599 => m.e5 += 1,
                _ => {}
            }
            if e.status == 429 {
                m.throttled += 1;
            }
            m.latency.push(e.latency_ms as f64);
            if let Some(i) = e.integration_latency_ms {
                m.integration.push(i as f64);
            }
            match e.cache {
                CacheResult::Hit => m.hits += 1,
                CacheResult::Miss | CacheResult::Bypass => m.misses += 1,
                CacheResult::NotCached => {}
            }
        }
    }
    // 429s the access logs never saw: one per ten logged, per route and minute; a stage
    // counts its routes' ones, so detailed metrics add up to the stage's.
    let unlogged: Vec<(Key, u64)> = out
        .iter()
        .filter(|((_, route, _), _)| route.is_some())
        .map(|(k, m)| (k.clone(), m.throttled / 10))
        .collect();
    for ((stage, route, minute), n) in unlogged {
        for key in [(stage.clone(), route, minute), (stage, None, minute)] {
            if let Some(m) = out.get_mut(&key) {
                m.count += n;
                m.e4 += n;
            }
        }
    }
    out
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank - 1])
}

fn average(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| {
        let avg = values.iter().sum::<f64>() / values.len() as f64;
        (avg * 100.0).round() / 100.0
    })
}

/// The statistic values of one minute.
fn value(m: &Minute, metric: &str, stat: &str) -> Option<f64> {
    Some(match (metric, stat) {
        ("Count", "Sum") => m.count as f64,
        ("4XXError", "Sum") => m.e4 as f64,
        ("5XXError", "Sum") => m.e5 as f64,
        ("CacheHitCount", "Sum") => m.hits as f64,
        ("CacheMissCount", "Sum") => m.misses as f64,
        ("Latency", "Average") => average(&m.latency)?,
        ("Latency", "p99") => percentile(&m.latency, 99.0)?,
        ("Latency", "Maximum") => percentile(&m.latency, 100.0)?,
        ("Latency", "SampleCount") => m.latency.len() as f64,
        ("IntegrationLatency", "Average") => average(&m.integration)?,
        ("IntegrationLatency", "p99") => percentile(&m.integration, 99.0)?,
        _ => return None,
    })
}

/// The stage-level queries of the get-metric-data sample.
const STAGE_QUERIES: [(&str, &str, &str); 9] = [
    ("count", "Count", "Sum"),
    ("err4", "4XXError", "Sum"),
    ("err5", "5XXError", "Sum"),
    ("lat_avg", "Latency", "Average"),
    ("lat_p99", "Latency", "p99"),
    ("ilat_avg", "IntegrationLatency", "Average"),
    ("ilat_p99", "IntegrationLatency", "p99"),
    ("hits", "CacheHitCount", "Sum"),
    ("misses", "CacheMissCount", "Sum"),
];

fn dims(stage: &str, route: Option<usize>) -> Vec<Value> {
    let mut d = vec![
        json!({"Name": "ApiName", "Value": API_NAME}),
        json!({"Name": "Stage", "Value": stage}),
    ];
    if let Some(r) = route {
        d.push(json!({"Name": "Method", "Value": ROUTES[r].method}));
        d.push(json!({"Name": "Resource", "Value": ROUTES[r].resource}));
    }
    d
}

/// CLI v2 timestamp text (`+00:00`).
fn v2_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// CLI v1 timestamp text (`Z`).
fn v1_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Writes `get-metric-data.json` (two pages, newest first) with `queries.json`,
/// `get-metric-statistics-latency.json` (unsorted) with its `.query.json`, and
/// `detailed-metrics.csv` (per route), all into `dir`. Returns the file names.
pub fn write_metrics(dir: &Path, events: &[Event]) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let minutes = aggregate(events);
    let stages: Vec<String> = {
        let mut s: Vec<String> = minutes.keys().map(|k| k.0.clone()).collect();
        s.dedup();
        s.sort();
        s.dedup();
        s
    };
    let mut written = Vec::new();
    let mut write = |name: &str, text: String| -> io::Result<()> {
        std::fs::write(dir.join(name), text)?;
        written.push(name.to_string());
        Ok(())
    };

    // get-metric-data: the queries file, and two pages of results.
    let mut queries = Vec::new();
    let mut results = Vec::new();
    for stage in &stages {
        for (id, metric, stat) in STAGE_QUERIES {
            let id = format!("{}_{id}", stage.to_ascii_lowercase());
            queries.push(json!({
                "Id": id,
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": metric, "Dimensions": dims(stage, None)},
                    "Period": 60,
                    "Stat": stat
                },
                "ReturnData": true
            }));
            let mut points: Vec<(i64, f64)> = minutes
                .iter()
                .filter(|((s, r, _), _)| s == stage && r.is_none())
                .filter_map(|((_, _, t), m)| Some((*t, value(m, metric, stat)?)))
                .collect();
            points.reverse(); // TimestampDescending, as CloudWatch returns by default.
            results.push((id, metric, points));
        }
    }
    write("queries.json", pretty(&Value::Array(queries)))?;
    let page = |first: bool| -> Value {
        let series: Vec<Value> = results
            .iter()
            .map(|(id, metric, points)| {
                let half = points.len() / 2;
                let part = if first {
                    &points[..half]
                } else {
                    &points[half..]
                };
                json!({
                    "Id": id,
                    "Label": metric,
                    "Timestamps": part.iter().map(|(t, _)| v2_time(*t)).collect::<Vec<_>>(),
                    "Values": part.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
                    "StatusCode": if first { "PartialData" } else { "Complete" }
                })
            })
            .collect();
        let mut page = json!({"MetricDataResults": series, "Messages": []});
        if first {
            page["NextToken"] = json!("eyJwYWdlIjoyfQ==");
        }
        page
    };
    write(
        "get-metric-data.json",
        format!("{}\n{}", pretty(&page(true)), pretty(&page(false))),
    )?;

    // get-metric-statistics for prod Latency, datapoints in a scrambled order.
    let prod: Vec<(i64, &Minute)> = minutes
        .iter()
        .filter(|((s, r, _), _)| s == "prod" && r.is_none())
        .map(|((_, _, t), m)| (*t, m))
        .collect();
    let mut order: Vec<usize> = (0..prod.len()).collect();
    order.sort_by_key(|i| (i * 7919) % prod.len().max(1));
    let datapoints: Vec<Value> = order
        .iter()
        .map(|&i| {
            let (t, m) = prod[i];
            json!({
                "Timestamp": v1_time(t),
                "SampleCount": value(m, "Latency", "SampleCount"),
                "Average": value(m, "Latency", "Average"),
                "Maximum": value(m, "Latency", "Maximum"),
                "Unit": "Milliseconds",
                "ExtendedStatistics": {"p99": value(m, "Latency", "p99")}
            })
        })
        .collect();
    write(
        "get-metric-statistics-latency.json",
        pretty(&json!({"Label": "Latency", "Datapoints": datapoints})),
    )?;
    write(
        "get-metric-statistics-latency.query.json",
        pretty(&json!({
            "Namespace": "AWS/ApiGateway",
            "MetricName": "Latency",
            "Dimensions": dims("prod", None),
            "StartTime": prod.first().map(|p| v1_time(p.0)),
            "EndTime": prod.last().map(|p| v1_time(p.0 + 60)),
            "Period": 60,
            "Statistics": ["SampleCount", "Average", "Maximum"],
            "ExtendedStatistics": ["p99"]
        })),
    )?;

    // Detailed (per-route) metrics for prod as CSV, epoch-second timestamps.
    let mut csv = String::from("timestamp,metric,dimensions,stat,value\n");
    for ((stage, route, t), m) in &minutes {
        let (Some(r), "prod") = (route, stage.as_str()) else {
            continue;
        };
        let dims = format!(
            "ApiName={API_NAME};Stage=prod;Method={};Resource={}",
            ROUTES[*r].method, ROUTES[*r].resource
        );
        for (metric, stat) in [
            ("Count", "Sum"),
            ("4XXError", "Sum"),
            ("5XXError", "Sum"),
            ("Latency", "Average"),
            ("Latency", "p99"),
            ("IntegrationLatency", "Average"),
        ] {
            if let Some(v) = value(m, metric, stat) {
                csv.push_str(&format!("{t},{metric},{dims},{stat},{v}\n"));
            }
        }
    }
    write("detailed-metrics.csv", csv)?;
    Ok(written)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[5.0], 99.0), Some(5.0));
        assert_eq!(percentile(&[], 99.0), None);
    }
}
