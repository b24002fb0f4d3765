//! The metric files the AWS CLI writes: `get-metric-data` (one or more pages, newest first),
//! `get-metric-statistics` (unsorted datapoints), and a plain CSV
//! (`timestamp,metric,dimensions,stat,value`). Timestamps may be ISO 8601 with `Z` (CLI v1),
//! with `+00:00` (CLI v2), or epoch seconds.

use std::collections::BTreeMap;

use serde_json::Value;

use super::naming::{infer, Queries};
use super::{canonical_stat, Dimensions, Metadata, MetricName, Series};
use crate::decode::time::parse_any_time;

/// Which file shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `aws cloudwatch get-metric-data`.
    GetMetricData,
    /// `aws cloudwatch get-metric-statistics`.
    GetMetricStatistics,
    /// `timestamp,metric,dimensions,stat,value`.
    Csv,
}

impl Shape {
    /// The name shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::GetMetricData => "get-metric-data",
            Shape::GetMetricStatistics => "get-metric-statistics",
            Shape::Csv => "metrics-csv",
        }
    }
}

/// Recognises a `--metric-query` file (the queries given to the AWS CLI, not results).
pub fn sniff_query(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    (trimmed.starts_with('{') || trimmed.starts_with('['))
        && !text.contains("\"MetricDataResults\"")
        && !text.contains("\"Datapoints\"")
        && (text.contains("\"MetricStat\"")
            || (text.contains("\"MetricName\"") && text.contains("\"Namespace\"")))
}

/// Recognises a metrics file from its first bytes.
pub fn sniff(head: &[u8]) -> Option<Shape> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if text.contains("\"MetricDataResults\"") {
            return Some(Shape::GetMetricData);
        }
        if text.contains("\"Datapoints\"") {
            return Some(Shape::GetMetricStatistics);
        }
        return None;
    }
    let header = trimmed.lines().next()?.to_ascii_lowercase();
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    (["timestamp", "metric", "stat", "value"]
        .iter()
        .all(|c| columns.contains(c)))
    .then_some(Shape::Csv)
}

/// What one file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    /// Series, points sorted by time.
    pub series: Vec<Series>,
    /// Things the user should know (partial data, unnamed series, bad rows).
    pub warnings: Vec<String>,
    /// Points or rows that could not be used.
    pub skipped: u64,
}

/// A file that is not a metrics file at all.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct MetricsError {
    /// The file.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// Decodes one metrics file.
pub fn decode(
    name: &str,
    bytes: &[u8],
    shape: Shape,
    queries: &Queries,
) -> Result<Decoded, MetricsError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let error = |message: String| MetricsError {
        name: name.to_string(),
        message,
    };
    let mut decoded = match shape {
        Shape::Csv => decode_csv(name, bytes),
        _ => {
            let mut values = Vec::new();
            for value in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
                match value {
                    Ok(Value::Array(pages)) => values.extend(pages),
                    Ok(v) => values.push(v),
                    Err(e) => {
                        return Err(error(format!(
                            "not valid {} JSON at line {}, column {}: {e}",
                            shape.as_str(),
                            e.line(),
                            e.column()
                        )))
                    }
                }
            }
            if shape == Shape::GetMetricData {
                decode_metric_data(name, &values, queries).map_err(error)?
            } else {
                decode_statistics(name, &values, queries)
            }
        }
    };
    for series in &mut decoded.series {
        series.normalize();
    }
    if decoded.series.is_empty() && decoded.warnings.is_empty() {
        decoded
            .warnings
            .push(format!("{name}: no API Gateway metric series"));
    }
    Ok(decoded)
}

/// Epoch seconds from a JSON timestamp: ISO 8601 text or epoch seconds (number or text).
fn timestamp(value: &Value) -> Option<i64> {
    let ms = match value {
        Value::Number(n) => crate::decode::time::parse_epoch(&n.to_string())?,
        Value::String(s) => parse_any_time(s)?,
        _ => return None,
    };
    Some(ms.div_euclid(1000))
}

#[derive(Default)]
struct Pending {
    label: String,
    points: Vec<(i64, f64)>,
    statuses: Vec<String>,
}

/// The file a get-metric-data result file needs to say what its series measure: the
/// `queries-N.json` `gwstat fetch` saves beside `get-metric-data-N.json`, else the
/// `--metric-data-queries` file of the AWS CLI command that wrote it.
fn queries_file_for(name: &str) -> String {
    let path = std::path::Path::new(name);
    let n = path
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("get-metric-data-")?.strip_suffix(".json"))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    match n {
        Some(n) => format!(
            "{} (saved beside it by gwstat fetch)",
            path.with_file_name(format!("queries-{n}.json")).display()
        ),
        None => "the --metric-data-queries file of the get-metric-data command that wrote it"
            .to_string(),
    }
}

/// Series of a get-metric-data file. A series named only by convention must carry its
/// dimensions in its `Label` (`Name=Value` tokens; an `Id` cannot hold them): one that
/// names none would merge every API and stage into one, so the file is refused with the
/// name of the queries file it needs.
fn decode_metric_data(name: &str, pages: &[Value], queries: &Queries) -> Result<Decoded, String> {
    let mut decoded = Decoded::default();
    let mut without_dimensions: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, Pending> = BTreeMap::new();
    for page in pages {
        for message in page["Messages"].as_array().into_iter().flatten() {
            decoded.warnings.push(format!(
                "{name}: CloudWatch message {}: {}",
                message["Code"].as_str().unwrap_or("?"),
                message["Value"].as_str().unwrap_or("")
            ));
        }
        let Some(results) = page["MetricDataResults"].as_array() else {
            decoded.warnings.push(format!(
                "{name}: a page without MetricDataResults was ignored"
            ));
            continue;
        };
        for result in results {
            let id = result["Id"].as_str().unwrap_or("").to_string();
            let pending = by_id.entry(id.clone()).or_default();
            if let Some(label) = result["Label"].as_str() {
                pending.label = label.to_string();
            }
            if let Some(status) = result["StatusCode"].as_str() {
                pending.statuses.push(status.to_string());
            }
            let times = result["Timestamps"].as_array().map_or(&[][..], |v| v);
            let values = result["Values"].as_array().map_or(&[][..], |v| v);
            if times.len() != values.len() {
                decoded.warnings.push(format!(
                    "{name}: {id}: {} timestamps but {} values; the extra ones were ignored",
                    times.len(),
                    values.len()
                ));
                decoded.skipped += times.len().abs_diff(values.len()) as u64;
            }
            for (t, v) in times.iter().zip(values) {
                match (timestamp(t), v.as_f64()) {
                    (Some(t), Some(v)) if v.is_finite() => pending.points.push((t, v)),
                    _ => decoded.skipped += 1,
                }
            }
        }
    }
    for (id, pending) in by_id {
        // The last page's status is the series' final one.
        match pending.statuses.last().map(String::as_str) {
            None | Some("Complete") => {}
            Some(status) => decoded.warnings.push(format!(
                "{name}: {id}: StatusCode {status}{}",
                if status == "PartialData" {
                    " (more pages exist: pass every page, or let the CLI paginate)"
                } else {
                    ""
                }
            )),
        }
        let (metric, stat, dimensions, metadata) = if let Some(q) = queries.by_id.get(&id) {
            (
                q.metric,
                q.stat.clone(),
                q.dimensions.clone(),
                Metadata::MetricQuery,
            )
        } else {
            let inferred = infer(&pending.label, &id);
            let Some(metric) = inferred.metric else {
                decoded.warnings.push(format!(
                    "{name}: series {id} (label {:?}) names no API Gateway metric; ignored \
                     (give --metric-query with the queries)",
                    pending.label
                ));
                decoded.skipped += pending.points.len() as u64;
                continue;
            };
            if inferred.dimensions == Dimensions::default() {
                without_dimensions.push(format!("{id} (label {:?})", pending.label));
                continue;
            }
            (metric, inferred.stat, inferred.dimensions, Metadata::Naming)
        };
        decoded.series.push(series(
            name,
            id,
            metric,
            stat,
            dimensions,
            metadata,
            pending.points,
        ));
    }
    if let Some(first) = without_dimensions.first() {
        let (others, verb, their) = match without_dimensions.len() - 1 {
            0 => (String::new(), "does", "its"),
            1 => (" and 1 other".to_string(), "do", "their"),
            n => (format!(" and {n} others"), "do", "their"),
        };
        return Err(format!(
            "series {first}{others} {verb} not say which API and stage {} (no query for \
             {their} Id, no Name=Value dimension such as Stage=prod in {their} Label); give {} \
             with --metric-query or among the inputs",
            if verb == "does" {
                "it measures"
            } else {
                "they measure"
            },
            queries_file_for(name)
        ));
    }
    Ok(decoded)
}

fn series(
    file: &str,
    id: String,
    metric: MetricName,
    stat: Option<String>,
    dimensions: Dimensions,
    metadata: Metadata,
    points: Vec<(i64, f64)>,
) -> Series {
    let stat_assumed = stat.is_none();
    let stat =
        stat.unwrap_or_else(|| if metric.is_count() { "Sum" } else { "Average" }.to_string());
    Series {
        file: file.to_string(),
        id,
        metric,
        stat,
        stat_assumed,
        dimensions,
        metadata,
        points,
    }
}

const PLAIN_STATS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

fn decode_statistics(name: &str, documents: &[Value], queries: &Queries) -> Decoded {
    let mut decoded = Decoded::default();
    for doc in documents {
        let label = doc["Label"].as_str().unwrap_or("");
        let inferred = infer(label, "");
        let Some(metric) = MetricName::parse(label).or(inferred.metric) else {
            decoded.warnings.push(format!(
                "{name}: Label {label:?} names no API Gateway metric; ignored"
            ));
            continue;
        };
        let (dimensions, metadata) = match queries.statistics_for(metric) {
            Some(q) => (q.dimensions.clone(), Metadata::MetricQuery),
            None if inferred.dimensions != Dimensions::default() => {
                (inferred.dimensions.clone(), Metadata::Naming)
            }
            None => (Dimensions::default(), Metadata::File),
        };
        let mut by_stat: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for point in doc["Datapoints"].as_array().into_iter().flatten() {
            let Some(t) = timestamp(&point["Timestamp"]) else {
                decoded.skipped += 1;
                continue;
            };
            for stat in PLAIN_STATS {
                if let Some(v) = point[stat].as_f64() {
                    by_stat.entry(stat.to_string()).or_default().push((t, v));
                }
            }
            if let Some(extended) = point["ExtendedStatistics"].as_object() {
                for (stat, v) in extended {
                    match (canonical_stat(stat), v.as_f64()) {
                        (Some(stat), Some(v)) => by_stat.entry(stat).or_default().push((t, v)),
                        _ => decoded.skipped += 1,
                    }
                }
            }
        }
        for (stat, points) in by_stat {
            decoded.series.push(series(
                name,
                format!("{label} {stat}"),
                metric,
                Some(stat),
                dimensions.clone(),
                metadata,
                points,
            ));
        }
    }
    decoded
}

fn decode_csv(name: &str, bytes: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
        Err(e) => {
            decoded.warnings.push(format!("{name}: no CSV header: {e}"));
            return decoded;
        }
    };
    let column = |n: &str| headers.iter().position(|h| h == n);
    let (Some(tc), Some(mc), Some(sc), Some(vc)) = (
        column("timestamp"),
        column("metric"),
        column("stat"),
        column("value"),
    ) else {
        decoded.warnings.push(format!(
            "{name}: the CSV header needs timestamp, metric, stat and value columns"
        ));
        return decoded;
    };
    let dc = column("dimensions");
    let mut by_key: BTreeMap<(MetricName, String, Dimensions), Vec<(i64, f64)>> = BTreeMap::new();
    let mut bad = 0u64;
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let problem = match record {
            Err(e) => Some(format!("unreadable row: {e}")),
            Ok(r) => {
                let field = |c: usize| r.get(c).unwrap_or("");
                let mut dims = Dimensions::default();
                let dims_text = dc.map(field).unwrap_or("");
                let mut problem = None;
                for pair in dims_text.split(';').filter(|p| !p.trim().is_empty()) {
                    match pair.split_once('=') {
                        Some((k, v)) if dims.set(k.trim(), v.trim()) => {}
                        _ => problem = Some(format!("unknown dimension {pair:?}")),
                    }
                }
                let time = parse_any_time(field(tc)).map(|ms| ms.div_euclid(1000));
                let metric = MetricName::parse(field(mc));
                let stat = canonical_stat(field(sc));
                let value = field(vc).parse::<f64>().ok().filter(|v| v.is_finite());
                match (problem, time, metric, stat, value) {
                    (Some(p), ..) => Some(p),
                    (None, None, ..) => Some(format!("bad timestamp {:?}", field(tc))),
                    (None, _, None, ..) => Some(format!("unknown metric {:?}", field(mc))),
                    (None, _, _, None, _) => Some(format!("unknown stat {:?}", field(sc))),
                    (None, _, _, _, None) => Some(format!("bad value {:?}", field(vc))),
                    (None, Some(t), Some(m), Some(s), Some(v)) => {
                        by_key.entry((m, s, dims)).or_default().push((t, v));
                        None
                    }
                }
            }
        };
        if let Some(problem) = problem {
            bad += 1;
            if bad <= 5 {
                decoded.warnings.push(format!("{name}:{line}: {problem}"));
            }
        }
    }
    if bad > 5 {
        decoded
            .warnings
            .push(format!("{name}: {} more bad rows", bad - 5));
    }
    decoded.skipped += bad;
    for ((metric, stat, dimensions), points) in by_key {
        decoded.series.push(series(
            name,
            format!("{metric} {stat} {}", dimensions.to_text()),
            metric,
            Some(stat),
            dimensions,
            Metadata::File,
            points,
        ));
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> Decoded {
        let shape = sniff(text.as_bytes()).unwrap();
        decode("f", text.as_bytes(), shape, &Queries::default()).unwrap()
    }

    #[test]
    fn metric_data_pages_newest_first_and_three_timestamp_forms() {
        let page1 = r#"{"MetricDataResults":[{"Id":"lat_p99","Label":"Latency ApiName=shop Stage=prod","Timestamps":["2026-11-25T02:55:00+00:00","2026-11-25T02:54:00Z"],"Values":[812.0,640.5],"StatusCode":"PartialData"}],"NextToken":"x","Messages":[]}"#;
        let page2 = r#"{"MetricDataResults":[{"Id":"lat_p99","Label":"Latency ApiName=shop Stage=prod","Timestamps":[1795575180],"Values":[500.0],"StatusCode":"Complete"}]}"#;
        let d = data(&format!("{page1}\n{page2}"));
        assert_eq!(d.series.len(), 1);
        let s = &d.series[0];
        assert_eq!(s.metric, MetricName::Latency);
        assert_eq!(s.stat, "p99");
        assert_eq!(s.metadata, Metadata::Naming);
        assert_eq!(s.dimensions.stage.as_deref(), Some("prod"));
        assert_eq!(s.dimensions.api.as_deref(), Some("shop"));
        assert_eq!(
            s.points,
            vec![
                (1_795_575_180, 500.0),
                (1_795_575_240, 640.5),
                (1_795_575_300, 812.0)
            ]
        );
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        // The same pages as a JSON array.
        let d2 = data(&format!("[{page1},{page2}]"));
        assert_eq!(d2.series, d.series);
    }

    #[test]
    fn unnamed_series_and_partial_data_are_reported() {
        let d = data(
            r#"{"MetricDataResults":[{"Id":"q1","Label":"q1","Timestamps":["2026-11-25T02:55:00Z"],"Values":[1],"StatusCode":"PartialData"}]}"#,
        );
        assert!(d.series.is_empty());
        assert_eq!(d.skipped, 1);
        assert!(d.warnings.iter().any(|w| w.contains("PartialData")));
        assert!(d.warnings.iter().any(|w| w.contains("--metric-query")));
    }

    #[test]
    fn series_without_dimensions_are_refused_with_the_file_they_need() {
        let page = r#"{"MetricDataResults":[
            {"Id":"m0","Label":"Count","Timestamps":[1795575180],"Values":[5]},
            {"Id":"m1","Label":"Latency","Timestamps":[1795575180],"Values":[9]},
            {"Id":"m2","Label":"5XXError","Timestamps":[1795575180],"Values":[0]}]}"#;
        let refuse = |name: &str| {
            decode(
                name,
                page.as_bytes(),
                Shape::GetMetricData,
                &Queries::default(),
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            refuse("incident/metrics/get-metric-data-2.json"),
            "incident/metrics/get-metric-data-2.json: series m0 (label \"Count\") and 2 others \
             do not say which API and stage they measure (no query for their Id, no Name=Value \
             dimension such as Stage=prod in their Label); give \
             incident/metrics/queries-2.json (saved beside it by gwstat fetch) with \
             --metric-query or among the inputs"
        );
        assert!(refuse("data.json").contains(
            "give the --metric-data-queries file of the get-metric-data command that wrote it"
        ));
        // With the queries, the same file is read.
        let mut queries = Queries::default();
        for (id, metric) in [("m0", "Count"), ("m1", "Latency"), ("m2", "5XXError")] {
            queries
                .add(&format!(
                    r#"[{{"Id":"{id}","MetricStat":{{"Metric":{{"MetricName":"{metric}",
                    "Dimensions":[{{"Name":"Stage","Value":"prod"}}]}},"Stat":"Sum"}}}}]"#
                ))
                .unwrap();
        }
        let d = decode("data.json", page.as_bytes(), Shape::GetMetricData, &queries).unwrap();
        assert_eq!(d.series.len(), 3);
        assert!(d
            .series
            .iter()
            .all(|s| s.dimensions.stage.as_deref() == Some("prod")));
    }

    #[test]
    fn statistics_unsorted_with_extended() {
        let d = data(
            r#"{"Label":"Latency","Datapoints":[
            {"Timestamp":"2026-11-25T02:55:00Z","SampleCount":1832.0,"Average":143.2,"Unit":"Milliseconds","ExtendedStatistics":{"p99":812.0}},
            {"Timestamp":"2026-11-25T02:53:00Z","SampleCount":10.0,"Average":100.0,"ExtendedStatistics":{"p99":300.0}},
            {"Timestamp":"2026-11-25T02:54:00Z","SampleCount":1710.0,"Average":128.9,"ExtendedStatistics":{"p99":640.5}}]}"#,
        );
        let stats: Vec<&str> = d.series.iter().map(|s| s.stat.as_str()).collect();
        assert_eq!(stats, ["Average", "SampleCount", "p99"]);
        let p99 = &d.series[2];
        assert_eq!(p99.metadata, Metadata::File);
        let values: Vec<f64> = p99.points.iter().map(|p| p.1).collect();
        assert_eq!(values, [300.0, 640.5, 812.0]);
    }

    #[test]
    fn csv_rows_and_bad_rows() {
        let d = data(
            "timestamp,metric,dimensions,stat,value\n\
             2026-11-25T02:54:00Z,Count,ApiName=shop;Stage=prod,Sum,10\n\
             2026-11-25T02:55:00Z,Count,ApiName=shop;Stage=prod,Sum,12\n\
             2026-11-25T02:55:00Z,Nope,Stage=prod,Sum,1\n\
             yesterday,Count,Stage=prod,Sum,1\n\
             2026-11-25T02:55:00Z,Count,Color=red,Sum,1\n",
        );
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].dimensions.stage.as_deref(), Some("prod"));
        assert_eq!(d.series[0].points.len(), 2);
        assert_eq!(d.skipped, 3);
        assert!(
            d.warnings[0].starts_with("f:4: unknown metric"),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn http_api_names_and_dimensions() {
        let d = data(
            "timestamp,metric,dimensions,stat,value\n\
             1795514400,Count,ApiId=a1b2c3;Stage=$default;Route=GET /pets,Sum,10\n\
             1795514400,5xx,ApiId=a1b2c3;Stage=$default;Route=GET /pets,Sum,2\n\
             1795514400,DataProcessed,ApiId=a1b2c3;Stage=$default;Route=GET /pets,Sum,2048\n",
        );
        let metrics: Vec<MetricName> = d.series.iter().map(|s| s.metric).collect();
        assert_eq!(
            metrics,
            [
                MetricName::Count,
                MetricName::Errors5xx,
                MetricName::DataProcessed
            ]
        );
        let dims = &d.series[0].dimensions;
        assert_eq!(dims.api.as_deref(), Some("a1b2c3"));
        assert_eq!(dims.route_name().as_deref(), Some("GET /pets"));
        let report = crate::metrics::analyze::build_metrics_report(
            vec![crate::metrics::analyze::MetricsSource {
                name: "f".into(),
                shape: "metrics-csv".into(),
                series: d.series,
                skipped: 0,
                warnings: vec![],
            }],
            &crate::metrics::analyze::MetricsOptions::default(),
        );
        let t = &report.groups[0].totals;
        assert_eq!(t.error_rate_5xx, Some(0.2));
        assert_eq!(t.data_processed_bytes, Some(2048.0));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"{\"requestId\":\"x\"}"), None);
        assert_eq!(sniff(b"timestamp,metric,stat,value\n"), Some(Shape::Csv));
        assert_eq!(sniff(b"10.0.0.1 - - [x]"), None);
        let err = decode(
            "f",
            b"{\"MetricDataResults\": [",
            Shape::GetMetricData,
            &Queries::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not valid get-metric-data JSON"),
            "{err}"
        );
    }
}
