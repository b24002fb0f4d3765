//! The same requests, plain and inside CloudWatch envelopes, give the same report.

use std::io::Write;

use base64::Engine;
use serde_json::{json, Value};

use crate::common::{gwstat, json_of};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn report(path: &std::path::Path) -> Value {
    json_of(
        gwstat()
            .args(["report", "--format", "json", "-q", "--strict", "--top", "0"])
            .arg(path),
    )
}

fn epoch_of(line: &str) -> i64 {
    let v: Value = serde_json::from_str(line).unwrap();
    v["requestTimeEpoch"].as_str().unwrap().parse().unwrap()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[test]
fn envelopes_give_the_same_numbers_as_the_plain_log() {
    let generated = gwstat()
        .args([
            "generate",
            "--format",
            "rest-json",
            "--requests",
            "900",
            "--seconds",
            "300",
            "--no-malformed",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(generated.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 900);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.log");
    std::fs::write(&plain, &text).unwrap();

    let wrapped = dir.path().join("wrapped");
    let third = lines.len() / 3;
    let (a, rest) = lines.split_at(third);
    let (b, c) = rest.split_at(third);

    // S3 export tree: <prefix>/<task>/<stream>/000000.gz, lines not in time order.
    let stream_dir = wrapped.join("exportedlogs/task-1/stream-a");
    std::fs::create_dir_all(&stream_dir).unwrap();
    let mut export: Vec<String> = a
        .iter()
        .map(|l| format!("{} {l}", iso(epoch_of(l))))
        .collect();
    export.reverse();
    std::fs::write(
        stream_dir.join("000000.gz"),
        gzip((export.join("\n") + "\n").as_bytes()),
    )
    .unwrap();

    // filter-log-events, pretty-printed as the CLI prints it.
    let events: Vec<Value> = b
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"logStreamName": "stream-b", "timestamp": epoch_of(l), "message": l, "ingestionTime": epoch_of(l) + 500, "eventId": format!("{i:056}")}))
        .collect();
    let dump =
        serde_json::to_string_pretty(&json!({"events": events, "searchedLogStreams": []})).unwrap();
    std::fs::write(wrapped.join("filter-log-events.json"), dump).unwrap();

    // Subscription payloads: half as base64 lines, half as a Firehose object (gzip members,
    // JSON objects back to back), with a CONTROL_MESSAGE in between.
    let payload = |chunk: &[&str]| {
        let events: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, l)| json!({"id": i.to_string(), "timestamp": epoch_of(l), "message": l}))
            .collect();
        json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events}).to_string()
    };
    let control = json!({"messageType": "CONTROL_MESSAGE", "logEvents": []}).to_string();
    let (c1, c2) = c.split_at(c.len() / 2);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(gzip(s.as_bytes()));
    std::fs::write(
        wrapped.join("kinesis.txt"),
        format!("{}\n{}\n", b64(&payload(c1)), b64(&control)),
    )
    .unwrap();
    let mut firehose = gzip(payload(&c2[..c2.len() / 2]).as_bytes());
    firehose.extend(gzip(
        format!("{control}{}", payload(&c2[c2.len() / 2..])).as_bytes(),
    ));
    std::fs::write(wrapped.join("firehose-object"), firehose).unwrap();

    let expected = report(&plain);
    let actual = report(&wrapped);
    assert_eq!(actual["inputs"]["records"], expected["inputs"]["records"]);
    for section in [
        "summary",
        "latency",
        "errors",
        "throttling",
        "timeouts",
        "cache",
    ] {
        assert_eq!(actual[section], expected[section], "{section} differs");
    }
    let formats: Vec<&str> = actual["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert!(formats.contains(&"cloudwatch-export/json"), "{formats:?}");
    assert!(formats.contains(&"cloudwatch-json/json"), "{formats:?}");
    assert!(formats.contains(&"subscription/json"), "{formats:?}");
}

#[test]
fn envelope_timestamps_stand_in_for_missing_message_times() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tail.txt");
    std::fs::write(
        &file,
        "2026-11-25T02:56:04.161000+00:00 stream-1 {\"status\":\"200\",\"httpMethod\":\"GET\",\"resourcePath\":\"/a\"}\n2026-11-25T02:56:05.000000+00:00 stream-1 {\"status\":\"429\",\"httpMethod\":\"GET\",\"resourcePath\":\"/a\"}\n",
    )
    .unwrap();
    let r = report(&file);
    assert_eq!(r["summary"]["requests"], 2);
    assert_eq!(r["summary"]["start"], "2026-11-25T02:56:04.161Z");
    assert_eq!(r["inputs"]["files"][0]["format"], "logs-tail/json");
}

#[test]
fn broken_envelope_parts_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payloads.txt");
    std::fs::write(&file, "H4sIAAAAnotbase64\n").unwrap();
    let r = json_of(
        gwstat()
            .args(["report", "--format", "json", "-q"])
            .arg(&file),
    );
    assert_eq!(
        r["inputs"]["skipped_by_reason"]["invalid CloudWatch envelope"],
        1
    );
}
