//! One example file of each CloudWatch Logs delivery form, each holding a different slice of
//! the same access-log lines (so no request is counted twice when the whole sample directory
//! is read).

use std::io::{self, Write};
use std::path::Path;

use base64::Engine;
use chrono::{DateTime, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

/// Stream name used in the examples.
const STREAM: &str = "5d9f0c2e8b7a4f1e9c3b2a1d0e4f5a6b";

fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn event_id(i: usize) -> String {
    format!("3791742158745286123471890675412934812734891273498{i:07}")
}

fn payload(lines: &[(i64, String)]) -> String {
    let events: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (t, m))| json!({"id": event_id(i), "timestamp": t, "message": m}))
        .collect();
    json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/apigateway/shop-api", "logStream": STREAM, "subscriptionFilters": ["gwstat-ship"], "logEvents": events}).to_string()
}

/// Writes the examples into `dir`; `lines` are (request time ms, access-log line).
pub fn write_envelopes(dir: &Path, lines: &[(i64, String)]) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let parts: Vec<&[(i64, String)]> = lines.chunks(lines.len().div_ceil(9).max(1)).collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or(&[]);
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> io::Result<()> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        written.push(name.to_string());
        Ok(())
    };

    // aws logs filter-log-events (pretty-printed, as the CLI prints it).
    let events: Vec<Value> = part(0)
        .iter()
        .enumerate()
        .map(|(i, (t, m))| json!({"logStreamName": STREAM, "timestamp": t, "message": m, "ingestionTime": t + 412, "eventId": event_id(i)}))
        .collect();
    let doc = serde_json::to_string_pretty(&json!({"events": events, "searchedLogStreams": []}))?;
    write("filter-log-events.json", format!("{doc}\n").as_bytes())?;

    // aws logs get-log-events (one page).
    let events: Vec<Value> = part(1)
        .iter()
        .map(|(t, m)| json!({"timestamp": t, "message": m, "ingestionTime": t + 412}))
        .collect();
    let page = json!({"nextForwardToken": "f/37917421587452861234718906754129348127348912734981273500", "events": events, "nextBackwardToken": "b/37917421587452861234718906754129348127348912734981273499"});
    write("get-log-events.json", format!("{page}\n").as_bytes())?;

    // aws logs tail (detailed format).
    let tail: String = part(2)
        .iter()
        .map(|(t, m)| {
            format!(
                "{} {STREAM} {m}\n",
                at(*t).format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            )
        })
        .collect();
    write("logs-tail.txt", tail.as_bytes())?;

    // CloudWatch Logs export to S3: <prefix>/<task>/<stream>/000000.gz, not time-sorted.
    let mut export: Vec<String> = part(3)
        .iter()
        .map(|(t, m)| format!("{} {m}\n", at(*t).format("%Y-%m-%dT%H:%M:%S%.3fZ")))
        .collect();
    export.reverse();
    write(
        &format!("s3-export/exportedlogs/0c4f1d2a-task/{STREAM}/000000.gz"),
        &gzip(export.concat().as_bytes())?,
    )?;

    // Subscription payloads, one base64 gzip record per line, with a CONTROL_MESSAGE.
    let b64 = |s: &str| -> io::Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(gzip(s.as_bytes())?))
    };
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "", "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1795514400000i64, "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}).to_string();
    let mut kinesis = format!("{}\n", b64(&control)?);
    for chunk in part(4).chunks(40) {
        kinesis.push_str(&b64(&payload(chunk))?);
        kinesis.push('\n');
    }
    write("kinesis-records.txt", kinesis.as_bytes())?;

    // Firehose to S3: gzip members back to back, JSON objects with no newline between.
    let mut firehose = Vec::new();
    for chunk in part(5).chunks(60) {
        firehose.extend(gzip(payload(chunk).as_bytes())?);
    }
    write(
        "firehose/2026/11/24/10/shop-stream-1-2026-11-24-10-00-00",
        &firehose,
    )?;

    // Logs Insights: console CSV download and get-query-results.
    let mut csv = String::from("@timestamp,@message,@logStream\n");
    for (t, m) in part(6) {
        csv.push_str(&format!(
            "{},\"{}\",{STREAM}\n",
            at(*t).format("%Y-%m-%d %H:%M:%S%.3f"),
            m.replace('"', "\"\"")
        ));
    }
    write("logs-insights-results.csv", csv.as_bytes())?;
    let rows: Vec<Value> = part(7)
        .iter()
        .map(|(t, m)| {
            json!([
                {"field": "@timestamp", "value": at(*t).format("%Y-%m-%d %H:%M:%S%.3f").to_string()},
                {"field": "@message", "value": m},
                {"field": "@logStream", "value": STREAM},
                {"field": "@ptr", "value": "CmAKJwojMTIzNDU2Nzg5MDEyOi9hd3MvYXBpZ2F0ZXdheS9zaG9wLWFwaRAAEjUaGAIGAAAA"}
            ])
        })
        .collect();
    let results = json!({"results": rows, "statistics": {"recordsMatched": rows.len() as f64, "recordsScanned": 5120.0, "bytesScanned": 1048576.0}, "status": "Complete"});
    write("get-query-results.json", format!("{results}\n").as_bytes())?;

    // Logs Insights console JSON download: a flat array of objects keyed by field name.
    let download: Vec<Value> = part(8)
        .iter()
        .map(|(t, m)| json!({"@timestamp": at(*t).format("%Y-%m-%d %H:%M:%S%.3f").to_string(), "@message": m, "@logStream": STREAM}))
        .collect();
    write(
        "logs-insights-results.json",
        serde_json::to_string_pretty(&download)?.as_bytes(),
    )?;
    Ok(written)
}
