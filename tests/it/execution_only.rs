//! Execution logs alone make a full report (issue 19, point 2): every stitched request is
//! one request record — status, route, stage, latencies, timeouts, 429s — through the same
//! aggregation as access logs, labelled `inputs.request_source`; mixed with access logs,
//! each request counts once.
//!
//! Fixtures (tests/fixtures/real/): `execution-only/` is an S3 export of an
//! `API-Gateway-Execution-Logs_k1k7gu3ct7/prod` stream (`<ISO time> (<requestId>) <message>`,
//! gzip, in the export's `<prefix>/<task>/<stream>/000000.gz` layout) and
//! `execution-filter-log-events.json` the same events as `aws logs filter-log-events`
//! prints them. Eight requests: GET /pets/{petId} 200 (integration 20 ms, 25 ms from first
//! line to `Method completed`), 200 (40 ms, 46 ms), POST /orders 201 (100 ms, 104 ms), a
//! POST /orders integration timeout (504), a key throttle 429 (its line names the resource
//! ID, so no route), a Lambda function error 502 (30 ms, 34 ms), a usage-plan quota 429 and
//! a MOCK GET /health 200 (3 ms). `execution-mixed-access.log` has access-log records of the
//! first four (without integration latency) and one request only it has.

use serde_json::Value;

use crate::common::{gwstat, json_of};

const EXPORT: &str = "tests/fixtures/real/execution-only/";
const FILTER_LOG_EVENTS: &str = "tests/fixtures/real/execution-filter-log-events.json";
const MIXED_ACCESS: &str = "tests/fixtures/real/execution-mixed-access.log";
const BEFORE_PREFIX: &str = "tests/fixtures/real/execution-before-prefix/";
const IMPLAUSIBLE: &str = "tests/fixtures/real/execution-implausible.log";

fn report(inputs: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("report")
            .args(inputs)
            .args(["--format", "json", "--quiet"]),
    )
}

/// `(route, requests)` of the latency section, `null` routes as "-".
fn routes(r: &Value) -> Vec<(String, u64)> {
    r["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["route"].as_str().unwrap_or("-").to_string(),
                x["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn statuses(r: &Value) -> Vec<(u64, u64)> {
    r["errors"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["status"].as_u64().unwrap(), x["count"].as_u64().unwrap()))
        .collect()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

/// The numbers of the eight requests, however the execution log arrived.
fn assert_eight_requests(r: &Value) {
    assert_eq!(r["inputs"]["request_source"], "execution");
    assert_eq!(r["inputs"]["records"], 8);
    assert_eq!(r["inputs"]["skipped"], 0);
    assert_eq!(r["inputs"]["invalid_fields"], 0);
    let s = &r["summary"];
    assert_eq!(s["requests"], 8);
    assert_eq!(s["start"], "2026-11-25T02:56:04Z");
    let classes = &s["status_classes"];
    assert_eq!(
        [&classes["2xx"], &classes["4xx"], &classes["5xx"]],
        [4, 2, 2]
    );
    assert_eq!(statuses(r), [(429, 2), (502, 1), (504, 1)]);
    // Latency: first line to `Method completed`: 1, 1, 3, 25, 34, 46, 104, 29003 ms.
    let latency = &r["latency"]["overall"]["latency_ms"];
    assert_eq!(latency["count"], 8);
    assert!(close(&latency["p50"], 29.5), "{latency}");
    assert!(close(&latency["p99"], 104.0 + 0.93 * (29_003.0 - 104.0)));
    // Integration latency as stated (20, 30, 40, 100) and the timeout's span (29000).
    let integration = &r["latency"]["overall"]["integration_latency_ms"];
    assert_eq!(integration["count"], 5);
    assert!(close(&integration["p50"], 40.0));
    assert!(close(&integration["p99"], 100.0 + 0.96 * 28_900.0));
    assert_eq!(
        routes(r),
        [
            ("GET /pets/{petId}".to_string(), 3),
            ("POST /orders".to_string(), 2),
            ("-".to_string(), 2),
            ("GET /health".to_string(), 1),
        ]
    );
    assert_eq!(r["latency"]["by_route"][0]["stage"], "prod");
    assert_eq!(r["throttling"]["throttled"], 2);
    assert_eq!(r["timeouts"]["count"], 1);
    assert_eq!(r["timeouts"]["by_route"][0]["route"], "POST /orders");
    let types: Vec<(&str, u64)> = r["errors"]["by_response_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["response_type"].as_str().unwrap(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("INTEGRATION_TIMEOUT", 1),
            ("QUOTA_EXCEEDED", 1),
            ("THROTTLED", 1)
        ]
    );
    // The masked key of the usage-plan lines: both 429s and the two POSTs.
    let keys = r["throttling"]["by_api_key"].as_array().unwrap();
    let key = keys.iter().find(|k| k["api_key"] != Value::Null).unwrap();
    assert_eq!(key["api_key"], "**********************************8tr5wz");
    assert_eq!(
        (&key["requests"], &key["throttled"]),
        (&4.into(), &2.into())
    );
    let x = &r["execution"];
    assert_eq!((&x["requests"], &x["joined"]), (&8.into(), &0.into()));
    assert_eq!(x["requests_added"], 8);
    assert_eq!(x["requests_completed"], 0);
}

#[test]
fn an_s3_export_of_execution_logs_alone_makes_a_full_report() {
    let r = report(&[EXPORT]);
    assert_eq!(
        r["inputs"]["files"][0]["format"],
        "cloudwatch-export/execution"
    );
    assert_eight_requests(&r);
}

#[test]
fn filter_log_events_output_of_the_execution_log_group_gives_the_same_numbers() {
    let r = report(&[FILTER_LOG_EVENTS]);
    assert_eq!(
        r["inputs"]["files"][0]["format"],
        "cloudwatch-json/execution"
    );
    assert_eight_requests(&r);
}

#[test]
fn access_and_execution_logs_count_each_request_once() {
    let r = report(&[EXPORT, MIXED_ACCESS]);
    // Four requests in both, four only in the execution log, one only in the access log.
    assert_eq!(r["inputs"]["request_source"], "access+execution");
    assert_eq!(r["inputs"]["records"], 9);
    assert_eq!(r["summary"]["requests"], 9);
    let x = &r["execution"];
    assert_eq!((&x["requests"], &x["joined"]), (&8.into(), &4.into()));
    assert_eq!(x["requests_added"], 4);
    assert_eq!(x["requests_completed"], 4);
    // The access log wins where it has a value: its latencies for the four joined requests
    // (30, 50, 110, 29012), execution spans for the others (1, 34, 1, 3), and 12.
    let latency = &r["latency"]["overall"]["latency_ms"];
    assert_eq!(latency["count"], 9);
    assert!(close(&latency["p50"], 30.0));
    assert!(close(&latency["max"], 29_012.0));
    // The execution log adds what the access log lacks: integration latency.
    let integration = &r["latency"]["overall"]["integration_latency_ms"];
    assert_eq!(integration["count"], 5);
    assert!(close(&integration["max"], 29_000.0));
    assert_eq!(statuses(&r), [(429, 2), (502, 1), (504, 1)]);
    assert_eq!(r["summary"]["status_classes"]["2xx"], 5);
    assert_eq!(r["throttling"]["throttled"], 2);
    assert_eq!(r["timeouts"]["count"], 1);
    assert_eq!(
        routes(&r),
        [
            ("GET /pets/{petId}".to_string(), 4),
            ("POST /orders".to_string(), 2),
            ("-".to_string(), 2),
            ("GET /health".to_string(), 1),
        ]
    );

    // The access log alone is labelled as such and has no execution section.
    let access = report(&[MIXED_ACCESS]);
    assert_eq!(access["inputs"]["request_source"], "access");
    assert_eq!(access["summary"]["requests"], 5);
    assert!(access.get("execution").is_none());
}

#[test]
fn execution_logs_from_before_the_request_id_prefix_are_stitched_by_order() {
    let r = report(&[BEFORE_PREFIX]);
    assert_eq!(r["inputs"]["request_source"], "execution");
    assert_eq!(r["summary"]["requests"], 2);
    assert_eq!(r["summary"]["start"], "2016-10-05T18:04:51.101Z");
    assert_eq!(
        routes(&r),
        [
            ("GET /pets".to_string(), 1),
            ("POST /orders".to_string(), 1)
        ]
    );
    assert_eq!(statuses(&r), [(502, 1)]);
    assert_eq!(r["summary"]["status_classes"]["2xx"], 1);
    // `Received response. Integration latency: 41 ms` / `89 ms` (the older form), and
    // 45 / 93 ms from the usage-plan line to `Method completed`.
    let overall = &r["latency"]["overall"];
    assert!(close(&overall["integration_latency_ms"]["min"], 41.0));
    assert!(close(&overall["integration_latency_ms"]["max"], 89.0));
    assert!(close(&overall["latency_ms"]["min"], 45.0));
    assert!(close(&overall["latency_ms"]["max"], 93.0));
}

#[test]
fn implausible_execution_values_are_counted_not_aggregated_and_fail_strict() {
    let r = report(&[IMPLAUSIBLE]);
    let inputs = &r["inputs"];
    // i2 is dated 2089: it cannot be placed in time and is skipped at its first line.
    assert_eq!(inputs["skipped_by_reason"]["implausible request time"], 1);
    assert_eq!(
        inputs["skipped_samples"]["implausible request time"][0],
        format!("{IMPLAUSIBLE}:9")
    );
    // i1's status 999 and 2 h integration latency are dropped; the request still counts.
    assert_eq!(inputs["invalid_fields"], 2);
    assert_eq!(inputs["invalid_fields_by_reason"]["implausible status"], 1);
    assert_eq!(
        inputs["invalid_fields_by_reason"]["implausible integration latency"],
        1
    );
    assert_eq!(
        inputs["invalid_field_samples"]["implausible status"][0],
        format!("{IMPLAUSIBLE}:1")
    );
    assert_eq!(r["summary"]["requests"], 2);
    assert_eq!(r["summary"]["status_classes"]["unknown"], 1);
    let integration = &r["latency"]["overall"]["integration_latency_ms"];
    assert_eq!(integration["count"], 1);
    assert!(close(&integration["max"], 5.0));
    gwstat()
        .args(["report", IMPLAUSIBLE, "--strict", "-q", "--format", "json"])
        .assert()
        .code(1);
}

#[test]
fn execution_lines_without_event_times_are_counted_as_skipped() {
    // Bare `(requestId) message` lines: the request cannot be placed in time.
    let r = report(&["tests/fixtures/execution/sequence.log"]);
    assert_eq!(r["inputs"]["request_source"], "execution");
    assert_eq!(r["summary"]["requests"], 0);
    assert_eq!(r["inputs"]["skipped_by_reason"]["no request time"], 1);
    assert_eq!(r["execution"]["requests"], 1);
}
