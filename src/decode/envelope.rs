//! CloudWatch Logs envelopes around access-log messages: `aws logs filter-log-events` /
//! `get-log-events` JSON, S3 export lines (`<ISO> <message>`), `aws logs tail` output,
//! subscription payloads (gzip + base64, one per line, or Firehose's gzip members with JSON
//! objects back to back), Lambda `{"awslogs":{"data":…}}` events, and Logs Insights results
//! (`get-query-results` JSON, console CSV and JSON downloads).
//!
//! An envelope yields [`Event`]s: the message (an access-log line in any format the report
//! reads), the envelope's timestamp (used when the message has no time of its own) and the
//! log stream. Formats and sources: `../shared/reference/formats.md` §3.

use std::io::Read;

use base64::Engine;
use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

/// Which envelope a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// No envelope: access-log lines.
    None,
    /// JSON documents: filter-log-events, get-log-events, get-query-results, subscription
    /// payloads (also concatenated), Lambda events, Insights JSON arrays.
    Json,
    /// `<ISO-8601 ms Z> <message>` lines (S3 export, `aws logs tail --format short`).
    TimestampedLines,
    /// `<ISO+00:00> <stream> <message>` lines (`aws logs tail`).
    TailDetailed,
    /// One base64 gzip subscription payload per line.
    Base64Payloads,
    /// Logs Insights console CSV download.
    InsightsCsv,
}

impl Envelope {
    /// Every envelope kind (for fuzzing and tests).
    pub const ALL: [Envelope; 6] = [
        Envelope::None,
        Envelope::Json,
        Envelope::TimestampedLines,
        Envelope::TailDetailed,
        Envelope::Base64Payloads,
        Envelope::InsightsCsv,
    ];

    /// The name shown in reports (`inputs.files[].format` is `<envelope>/<format>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Envelope::None => "",
            Envelope::Json => "cloudwatch-json",
            Envelope::TimestampedLines => "cloudwatch-export",
            Envelope::TailDetailed => "logs-tail",
            Envelope::Base64Payloads => "subscription",
            Envelope::InsightsCsv => "insights-csv",
        }
    }
}

/// One log event out of an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The message: one access-log line.
    pub message: String,
    /// The event's timestamp, epoch ms.
    pub timestamp_ms: Option<i64>,
    /// The log stream.
    pub stream: Option<String>,
    /// Where it was: line number (line envelopes) or event number (JSON envelopes).
    pub place: u64,
}

/// Things an envelope held that are not events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unwrapped {
    /// The events, in file order.
    pub events: Vec<Event>,
    /// CONTROL_MESSAGE payloads skipped.
    pub control_messages: u64,
    /// Parts that could not be read: (place, reason).
    pub broken: Vec<(u64, &'static str)>,
}

fn iso_prefix(line: &str) -> Option<(i64, &str)> {
    let (ts, rest) = line.split_once(' ')?;
    if ts.len() < 19 || !ts.as_bytes()[0].is_ascii_digit() || ts.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let ms = DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp_millis())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().timestamp_millis())
        })?;
    Some((ms, rest))
}

/// Top-level keys that only CloudWatch envelopes have.
const ENVELOPE_KEYS: [&str; 5] = ["events", "results", "messageType", "logEvents", "awslogs"];

/// Recognises the envelope from the first bytes of a (decompressed) file.
pub fn detect(head: &[u8]) -> Envelope {
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = trimmed.lines().next().unwrap_or("").trim_end();
    if let Some(inner) = trimmed.strip_prefix('[') {
        // An array is a Logs Insights JSON download (rows keyed `@message`) or pages of CLI
        // output gathered by `jq -s`; an array of access-log records has no envelope (see
        // `framing`).
        let first = inner.trim_start();
        let keys = super::framing::first_value_end(first.as_bytes())
            .and_then(|end| serde_json::from_str::<Value>(&first[..end]).ok());
        return match keys {
            Some(Value::Object(map))
                if map.contains_key("@message")
                    || ENVELOPE_KEYS.iter().any(|k| map.contains_key(*k)) =>
            {
                Envelope::Json
            }
            // Cut before its first element ends: decided by what the head mentions.
            None if first.starts_with('{')
                && (first.contains("\"@message\"")
                    || ENVELOPE_KEYS
                        .iter()
                        .any(|k| first.contains(&format!("\"{k}\"")))) =>
            {
                Envelope::Json
            }
            _ => Envelope::None,
        };
    }
    if trimmed.starts_with('{') {
        return match serde_json::from_str::<Value>(first_line) {
            Ok(Value::Object(map)) if ENVELOPE_KEYS.iter().any(|k| map.contains_key(*k)) => {
                Envelope::Json
            }
            Ok(_) => Envelope::None,
            // A pretty-printed document (the CLI's default output) or objects back to back.
            Err(_) => {
                if [
                    "\"events\"",
                    "\"results\"",
                    "\"messageType\"",
                    "\"logEvents\"",
                    "\"nextForwardToken\"",
                    "\"awslogs\"",
                ]
                .iter()
                .any(|k| trimmed.contains(k))
                {
                    Envelope::Json
                } else {
                    Envelope::None
                }
            }
        };
    }
    if first_line.starts_with("H4sI") {
        return Envelope::Base64Payloads;
    }
    if first_line.contains("@message") && (first_line.starts_with('@') || first_line.contains(",@"))
    {
        return Envelope::InsightsCsv;
    }
    if let Some((_, rest)) = iso_prefix(first_line) {
        let ts = first_line.split(' ').next().unwrap_or("");
        let detailed = ts.ends_with("+00:00")
            && rest
                .split_once(' ')
                .is_some_and(|(stream, _)| !stream.starts_with('(') && !stream.starts_with('{'));
        return if detailed {
            Envelope::TailDetailed
        } else {
            Envelope::TimestampedLines
        };
    }
    Envelope::None
}

/// Takes the events out of a whole (decompressed) file.
pub fn unwrap(envelope: Envelope, data: &[u8]) -> Unwrapped {
    let mut out = Unwrapped::default();
    match envelope {
        Envelope::None => {}
        Envelope::Json => json_documents(data, &mut out),
        Envelope::TimestampedLines | Envelope::TailDetailed => {
            let text = String::from_utf8_lossy(data);
            for (i, line) in text.lines().enumerate() {
                let place = i as u64 + 1;
                let line = line.trim_end();
                if line.is_empty() {
                    continue;
                }
                match iso_prefix(line) {
                    Some((ms, rest)) => {
                        let (stream, message) = match envelope {
                            Envelope::TailDetailed => match rest.split_once(' ') {
                                Some((s, m)) => (Some(s.to_string()), m),
                                None => (None, rest),
                            },
                            _ => (None, rest),
                        };
                        out.events.push(Event {
                            message: message.to_string(),
                            timestamp_ms: Some(ms),
                            stream,
                            place,
                        });
                    }
                    // A line without a timestamp continues the previous message.
                    None => match out.events.last_mut() {
                        Some(last) => {
                            last.message.push(' ');
                            last.message.push_str(line.trim());
                        }
                        None => out.broken.push((place, "no event timestamp")),
                    },
                }
            }
        }
        Envelope::Base64Payloads => {
            let text = String::from_utf8_lossy(data);
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                match decode_base64_gzip(line) {
                    Some(bytes) => json_documents_at(&bytes, &mut out, i as u64 + 1),
                    None => out
                        .broken
                        .push((i as u64 + 1, "invalid subscription payload")),
                }
            }
        }
        Envelope::InsightsCsv => insights_csv(data, &mut out),
    }
    out
}

fn decode_base64_gzip(text: &str) -> Option<Vec<u8>> {
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(&compressed[..])
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

fn json_documents(data: &[u8], out: &mut Unwrapped) {
    json_documents_at(data, out, 0);
}

/// Reads JSON values back to back (newline-separated or not); `place` numbers events from
/// 1 when 0, else every event gets `place` (the line of a base64 payload).
fn json_documents_at(data: &[u8], out: &mut Unwrapped, place: u64) {
    let mut counter = out.events.len() as u64;
    let mut next_place = |out_place: u64| {
        counter += 1;
        if out_place == 0 {
            counter
        } else {
            out_place
        }
    };
    let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    for value in stream {
        let Ok(value) = value else {
            out.broken
                .push((next_place(place), "invalid JSON in envelope"));
            break;
        };
        document(&value, out, place, &mut next_place);
    }
}

fn document(
    value: &Value,
    out: &mut Unwrapped,
    place: u64,
    next_place: &mut impl FnMut(u64) -> u64,
) {
    match value {
        Value::Array(rows) => {
            // Logs Insights JSON download: objects keyed by field name; or envelope
            // documents gathered into one array (`jq -s`).
            for row in rows {
                if row.get("@message").is_none() && row.is_object() {
                    document(row, out, place, next_place);
                    continue;
                }
                if let Some(message) = row.get("@message").and_then(Value::as_str) {
                    out.events.push(Event {
                        message: message.to_string(),
                        timestamp_ms: row
                            .get("@timestamp")
                            .and_then(Value::as_str)
                            .and_then(insights_time),
                        stream: row
                            .get("@logStream")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        place: next_place(place),
                    });
                }
            }
        }
        Value::Object(map) => {
            if let Some(data) = map
                .get("awslogs")
                .and_then(|a| a.get("data"))
                .and_then(Value::as_str)
            {
                match decode_base64_gzip(data) {
                    Some(bytes) => json_documents_at(&bytes, out, place.max(1)),
                    None => out
                        .broken
                        .push((next_place(place), "invalid subscription payload")),
                }
                return;
            }
            if map.get("messageType").and_then(Value::as_str) == Some("CONTROL_MESSAGE") {
                out.control_messages += 1;
                return;
            }
            let stream = map
                .get("logStream")
                .and_then(Value::as_str)
                .map(str::to_string);
            let events = map.get("events").or_else(|| map.get("logEvents"));
            if let Some(Value::Array(events)) = events {
                for e in events {
                    let Some(message) = e.get("message").and_then(Value::as_str) else {
                        continue;
                    };
                    out.events.push(Event {
                        message: message.trim_end().to_string(),
                        timestamp_ms: e.get("timestamp").and_then(Value::as_i64),
                        stream: e
                            .get("logStreamName")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .or_else(|| stream.clone()),
                        place: next_place(place),
                    });
                }
            }
            if let Some(Value::Array(rows)) = map.get("results") {
                for row in rows {
                    let Some(fields) = row.as_array() else {
                        continue;
                    };
                    let field = |name: &str| {
                        fields
                            .iter()
                            .find(|f| f.get("field").and_then(Value::as_str) == Some(name))
                            .and_then(|f| f.get("value"))
                            .and_then(Value::as_str)
                    };
                    if let Some(message) = field("@message") {
                        out.events.push(Event {
                            message: message.to_string(),
                            timestamp_ms: field("@timestamp").and_then(insights_time),
                            stream: field("@logStream").map(str::to_string),
                            place: next_place(place),
                        });
                    }
                }
            }
        }
        _ => out.broken.push((next_place(place), "not an envelope")),
    }
}

/// Logs Insights time: `2026-11-25 02:56:04.161` (UTC).
fn insights_time(text: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
        .or_else(|| {
            DateTime::parse_from_rfc3339(text.trim())
                .ok()
                .map(|t| t.timestamp_millis())
        })
}

fn insights_csv(data: &[u8], out: &mut Unwrapped) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let Ok(headers) = reader.headers().cloned() else {
        out.broken.push((1, "invalid CSV header"));
        return;
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (message, timestamp, stream) = (
        column("@message"),
        column("@timestamp"),
        column("@logStream"),
    );
    for (i, record) in reader.records().enumerate() {
        let place = i as u64 + 2;
        match record {
            Ok(record) => {
                let Some(text) = message.and_then(|c| record.get(c)) else {
                    out.broken.push((place, "no @message"));
                    continue;
                };
                out.events.push(Event {
                    message: text.to_string(),
                    timestamp_ms: timestamp
                        .and_then(|c| record.get(c))
                        .and_then(insights_time),
                    stream: stream.and_then(|c| record.get(c)).map(str::to_string),
                    place,
                });
            }
            Err(_) => out.broken.push((place, "invalid CSV row")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const ACCESS: &str = r#"{ "requestId":"c5a56ba0-fd42-4425-b7d2-5e8836563270", "ip": "203.0.113.17", "status":"200" }"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn filter_log_events_pretty_printed() {
        let doc = format!(
            "{{\n    \"events\": [\n        {{\n            \"logStreamName\": \"s1\",\n            \"timestamp\": 1795575364161,\n            \"message\": {},\n            \"eventId\": \"37917421587452861234718906754129348127348912734981273498\"\n        }}\n    ],\n    \"searchedLogStreams\": []\n}}\n",
            serde_json::to_string(ACCESS).unwrap()
        );
        assert_eq!(detect(doc.as_bytes()), Envelope::Json);
        let u = unwrap(Envelope::Json, doc.as_bytes());
        assert_eq!(u.events.len(), 1);
        assert_eq!(u.events[0].message, ACCESS);
        assert_eq!(u.events[0].timestamp_ms, Some(1_795_575_364_161));
        assert_eq!(u.events[0].stream.as_deref(), Some("s1"));
    }

    #[test]
    fn get_log_events_pages_one_per_line() {
        let page = format!(
            "{{\"nextForwardToken\":\"f/1\",\"events\":[{{\"ingestionTime\":1,\"timestamp\":1795575364112,\"message\":{}}}],\"nextBackwardToken\":\"b/0\"}}",
            serde_json::to_string(ACCESS).unwrap()
        );
        let two = format!("{page}\n{page}\n");
        assert_eq!(detect(two.as_bytes()), Envelope::Json);
        assert_eq!(unwrap(Envelope::Json, two.as_bytes()).events.len(), 2);
    }

    #[test]
    fn s3_export_lines_with_continuations() {
        let text = format!("2026-11-25T02:56:04.112Z {ACCESS}\n2026-11-25T02:56:04.113Z first part\n  second part\n");
        assert_eq!(detect(text.as_bytes()), Envelope::TimestampedLines);
        let u = unwrap(Envelope::TimestampedLines, text.as_bytes());
        assert_eq!(u.events.len(), 2);
        assert_eq!(u.events[0].timestamp_ms, Some(1_795_575_364_112));
        assert_eq!(u.events[1].message, "first part second part");
    }

    #[test]
    fn logs_tail_detailed_and_short() {
        let detailed = format!("2026-11-25T02:56:04.161000+00:00 072b030ba126 {ACCESS}\n");
        assert_eq!(detect(detailed.as_bytes()), Envelope::TailDetailed);
        let u = unwrap(Envelope::TailDetailed, detailed.as_bytes());
        assert_eq!(u.events[0].stream.as_deref(), Some("072b030ba126"));
        assert_eq!(u.events[0].message, ACCESS);
        let short = format!("2026-11-25T02:56:04 {ACCESS}\n");
        assert_eq!(detect(short.as_bytes()), Envelope::TimestampedLines);
        assert_eq!(
            unwrap(Envelope::TimestampedLines, short.as_bytes()).events[0].timestamp_ms,
            Some(1_795_575_364_000)
        );
    }

    fn payload(events: &[&str], kind: &str) -> String {
        let events: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 1_795_575_364_161i64 + i as i64, "message": m}))
            .collect();
        serde_json::json!({"messageType": kind, "owner": "123", "logGroup": "g", "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events}).to_string()
    }

    #[test]
    fn subscription_payloads_base64_lambda_and_firehose() {
        let data = payload(&[ACCESS, ACCESS], "DATA_MESSAGE");
        let control = payload(&[], "CONTROL_MESSAGE");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(gzip(s.as_bytes()));
        let lines = format!("{}\n{}\n", b64(&data), b64(&control));
        assert_eq!(detect(lines.as_bytes()), Envelope::Base64Payloads);
        let u = unwrap(Envelope::Base64Payloads, lines.as_bytes());
        assert_eq!((u.events.len(), u.control_messages), (2, 1));
        assert_eq!(u.events[0].stream.as_deref(), Some("s"));

        let lambda = serde_json::json!({"awslogs": {"data": b64(&data)}}).to_string();
        assert_eq!(detect(lambda.as_bytes()), Envelope::Json);
        assert_eq!(unwrap(Envelope::Json, lambda.as_bytes()).events.len(), 2);

        // Firehose: JSON objects back to back, no newline.
        let firehose = format!("{data}{control}{data}");
        assert_eq!(detect(firehose.as_bytes()), Envelope::Json);
        let u = unwrap(Envelope::Json, firehose.as_bytes());
        assert_eq!((u.events.len(), u.control_messages), (4, 1));
    }

    #[test]
    fn insights_results_json_csv_and_download() {
        let results = serde_json::json!({"results": [[{"field": "@timestamp", "value": "2026-11-25 02:56:04.161"}, {"field": "@message", "value": ACCESS}, {"field": "@logStream", "value": "s"}]], "status": "Complete"}).to_string();
        let u = unwrap(detect(results.as_bytes()), results.as_bytes());
        assert_eq!(u.events[0].timestamp_ms, Some(1_795_575_364_161));
        let download =
            serde_json::json!([{"@timestamp": "2026-11-25 02:56:04.161", "@message": ACCESS}])
                .to_string();
        assert_eq!(
            unwrap(detect(download.as_bytes()), download.as_bytes())
                .events
                .len(),
            1
        );
        let csv_text = format!(
            "@timestamp,@message\n2026-11-25 02:56:04.161,\"{}\"\n",
            ACCESS.replace('"', "\"\"")
        );
        assert_eq!(detect(csv_text.as_bytes()), Envelope::InsightsCsv);
        let u = unwrap(Envelope::InsightsCsv, csv_text.as_bytes());
        assert_eq!(u.events[0].message, ACCESS);
    }

    #[test]
    fn arrays_of_records_are_not_envelopes_but_gathered_pages_are() {
        let records = format!("[{ACCESS},\n{ACCESS}]");
        assert_eq!(detect(records.as_bytes()), Envelope::None);
        let page = format!(
            "{{\"events\":[{{\"timestamp\":1795575364112,\"message\":{}}}]}}",
            serde_json::to_string(ACCESS).unwrap()
        );
        let gathered = format!("[\n{page},\n{page}\n]");
        assert_eq!(detect(gathered.as_bytes()), Envelope::Json);
        assert_eq!(unwrap(Envelope::Json, gathered.as_bytes()).events.len(), 2);
    }

    #[test]
    fn plain_access_logs_have_no_envelope() {
        assert_eq!(detect(ACCESS.as_bytes()), Envelope::None);
        assert_eq!(
            detect(b"203.0.113.17 - - [25/Nov/2026:02:56:04 +0000] \"GET / HTTP/1.1\" 200 1 x y"),
            Envelope::None
        );
    }
}
