//! Access logs in the shapes operators hold them (tests/fixtures/real/, written for these
//! tests in the shapes AWS documents): each gives the numbers of its four requests.

use serde_json::Value;

use crate::common::{gwstat, json_of};

const REAL: &str = "tests/fixtures/real";
const FIREHOSE: &str = "tests/fixtures/real/firehose/amazon-apigateway-access-1-2026-11-25-02-56-04-5f0c7d3e-1b2a-4c5d-9e8f-0a1b2c3d4e5f";

fn report(path: &str) -> Value {
    json_of(gwstat().args(["report", path, "--format", "json", "-q", "--strict"]))
}

/// The four requests every fixture holds: 2 × 200, a 404 and a 504 (29 012 ms).
fn assert_the_four_requests(r: &Value) {
    assert_eq!(r["summary"]["requests"], 4, "{}", r["inputs"]);
    let classes = &r["summary"]["status_classes"];
    assert_eq!(
        (&classes["2xx"], &classes["4xx"], &classes["5xx"]),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );
    let latency = &r["latency"]["overall"]["latency_ms"];
    assert_eq!(latency["count"], 4);
    assert_eq!(latency["min"].as_f64(), Some(12.0));
    assert_eq!(latency["max"].as_f64(), Some(29012.0));
    assert_eq!(r["inputs"]["skipped"], 0);
}

fn format_of(r: &Value) -> &str {
    r["inputs"]["files"][0]["format"].as_str().unwrap()
}

#[test]
fn firehose_objects_with_records_back_to_back() {
    let r = report(FIREHOSE);
    assert_the_four_requests(&r);
    assert_eq!(format_of(&r), "json (concatenated)");
    // GZIP compression: two gzip members, records back to back inside.
    let r = report(&format!("{FIREHOSE}.gz"));
    assert_the_four_requests(&r);
    assert_eq!(format_of(&r), "json (concatenated)");
}

#[test]
fn pretty_printed_objects_one_after_another() {
    let r = report(&format!("{REAL}/jq-pretty-stream.json"));
    assert_the_four_requests(&r);
    assert_eq!(format_of(&r), "json (concatenated)");
}

#[test]
fn arrays_of_records_pretty_and_compact() {
    for file in ["jq-slurp-array.json", "compact-array.json"] {
        let r = report(&format!("{REAL}/{file}"));
        assert_the_four_requests(&r);
        assert_eq!(format_of(&r), "json (array)", "{file}");
    }
}

#[test]
fn a_broken_record_in_a_stream_is_counted_at_its_record_number() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(FIREHOSE).unwrap();
    // A balanced but invalid record (a trailing comma) put third: it alone is skipped, at
    // its record number, and the four after and before it still count.
    let cut = text.match_indices("{\"requestId\"").nth(2).unwrap().0;
    let broken = format!("{}{{\"requestId\":\"x\",}}{}", &text[..cut], &text[cut..]);
    let path = dir.path().join("broken");
    std::fs::write(&path, broken).unwrap();
    let r = json_of(
        gwstat()
            .args(["report", "--format", "json", "-q"])
            .arg(&path),
    );
    assert_eq!(r["summary"]["requests"], 4);
    assert_eq!(r["inputs"]["skipped"], 1, "{}", r["inputs"]);
    let place = format!("{}:3", path.display());
    assert_eq!(
        r["inputs"]["skipped_samples"]["invalid JSON"][0],
        place.as_str()
    );
}

#[test]
fn json_behind_line_prefixes() {
    // (file, format shown, first request time: the record's own or the prefix's)
    for (file, format, start) in [
        (
            "console-copy.log",
            "json after a line prefix",
            "2026-11-25T02:56:04",
        ),
        (
            "syslog-rfc5424.log",
            "json after a line prefix",
            "2026-11-25T02:56:04.112",
        ),
        (
            "syslog-rfc3164.log",
            "json after a line prefix",
            "2026-11-25T02:56:04",
        ),
        (
            "stream-name-prefix.log",
            "json after a line prefix",
            "2026-11-25T02:56:04",
        ),
        (
            "cloudwatch-console-copy.log",
            "cloudwatch-export/json after a line prefix",
            "2026-11-25T02:56:04.112",
        ),
    ] {
        let r = report(&format!("{REAL}/{file}"));
        assert_the_four_requests(&r);
        assert_eq!(format_of(&r), format, "{file}");
        let first = r["summary"]["start"].as_str().unwrap();
        assert!(first.starts_with(start), "{file}: {first}");
    }
}

#[test]
fn custom_formats_are_inferred_from_their_first_lines() {
    let r = report(&format!("{REAL}/custom-key-value.log"));
    assert_the_four_requests(&r);
    assert_eq!(
        format_of(&r),
        "inferred --access-format 'requestId: $context.requestId, ip: $context.identity.sourceIp, \
         requestTime: $context.requestTime, httpMethod: $context.httpMethod, resourcePath: \
         $context.resourcePath, status: $context.status, protocol: $context.protocol, userAgent: \
         $context.identity.userAgent, responseLatency: $context.responseLatency, \
         integrationLatency: $context.integrationLatency'"
    );
    // Delimited, every column told by its values (no latency column here).
    let r = report(&format!("{REAL}/custom-pipe-delimited.log"));
    assert_eq!(r["summary"]["requests"], 4);
    assert_eq!(r["summary"]["status_classes"]["5xx"], 1);
    let routes = r["errors"]["by_route"].as_array().unwrap();
    let orders = routes
        .iter()
        .find(|e| e["route"] == "POST /orders")
        .unwrap();
    assert_eq!(orders["status_5xx"], 1);
}

#[test]
fn an_ambiguous_custom_format_prints_the_access_format_to_use() {
    let file = format!("{REAL}/custom-tab-delimited.log");
    let out = gwstat()
        .args(["report", &file, "--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    let format = "$context.requestTimeEpoch\t$context.routeKey\t$context.status\t\
                  $context.responseLatency\t$context.integrationLatency";
    assert!(
        err.contains(&format!("--access-format '{format}'")),
        "{err}"
    );
    assert!(
        err.contains("column 4 (a number: responseLatency?)"),
        "{err}"
    );
    // Given as printed, it reads the four requests.
    let r = json_of(gwstat().args([
        "report",
        &file,
        "--format",
        "json",
        "-q",
        "--strict",
        "--access-format",
        format,
    ]));
    assert_the_four_requests(&r);
}

#[test]
fn execution_logs_from_before_the_request_id_prefix_are_stitched_by_order() {
    let dir = "tests/fixtures/real/execution-before-prefix";
    let r = json_of(gwstat().args(["report", dir, "--format", "json", "-q"]));
    let x = &r["execution"];
    assert_eq!(x["requests"], 2, "{x}");
    assert_eq!(x["lines_without_request_id"], 0);
    assert_eq!(x["unclassified_lines"], 0);
    let causes: Vec<(&str, u64)> = x["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cause"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(causes, [("malformed Lambda proxy response", 1)]);
    let file = &r["inputs"]["files"][0];
    assert_eq!(file["format"], "cloudwatch-export/execution");
    assert_eq!(file["records"], 2);
}

/// A field the first lines do not log (custom formats that log a key only sometimes, or logs
/// whose format gained a variable) is still read on the lines that have it, in both engines.
#[test]
fn a_key_missing_from_the_first_line_is_read_where_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grown.log");
    let first = r#"{"requestTimeEpoch":"1795514400000","status":"200","responseLatency":"12","httpMethod":"GET","resourcePath":"/a","requestId":"r1"}"#;
    let later = r#"{"requestTimeEpoch":"1795514401000","status":"200","responseLatency":"14","integrationLatency":"10","httpMethod":"GET","resourcePath":"/a","requestId":"r2"}"#;
    std::fs::write(&path, format!("{first}\n{later}\n")).unwrap();
    for engine in ["stream", "table"] {
        let r = json_of(
            gwstat()
                .args(["report", "--format", "json", "-q", "--engine", engine])
                .arg(&path),
        );
        let integration = &r["latency"]["overall"]["integration_latency_ms"];
        assert_eq!(integration["count"], 1, "{engine}");
        assert_eq!(integration["max"], 10.0, "{engine}");
    }
}
