//! Execution logs: stitched, joined with access logs, explained.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

fn fixture(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let access = dir.join("access.log");
    let line = |id: &str, ms: u64, status: u16, integ: &str, kind: &str| {
        format!("{{\"requestId\":\"{id}\",\"requestTimeEpoch\":\"{ms}\",\"httpMethod\":\"GET\",\"resourcePath\":\"/orders/{{id}}\",\"stage\":\"prod\",\"status\":\"{status}\",\"responseLatency\":\"29012\",\"integrationLatency\":\"{integ}\",\"error.responseType\":\"{kind}\"}}\n")
    };
    std::fs::write(
        &access,
        [
            line(
                "r-timeout",
                1_795_575_364_000,
                504,
                "29000",
                "INTEGRATION_TIMEOUT",
            ),
            line(
                "r-proxy",
                1_795_575_365_000,
                502,
                "31",
                "INTEGRATION_FAILURE",
            ),
            line("r-ok", 1_795_575_366_000, 200, "40", "-"),
            line("r-no-exec", 1_795_575_367_000, 200, "40", "-"),
        ]
        .concat(),
    )
    .unwrap();
    // An S3 export of the execution log group: `<ISO> (<id>) <message>`, interleaved.
    let exec = dir.join("exec");
    std::fs::create_dir_all(exec.join("task/stream")).unwrap();
    let export = "\
2026-11-25T02:56:04.000Z (r-timeout) HTTP Method: GET, Resource Path: /orders/{id}
2026-11-25T02:56:04.002Z (r-timeout) Sending request to https://lambda.us-east-1.amazonaws.com/fn
2026-11-25T02:56:05.000Z (r-proxy) HTTP Method: GET, Resource Path: /orders/{id}
2026-11-25T02:56:05.031Z (r-proxy) Received response. Status: 200, Integration latency: 31 ms
2026-11-25T02:56:05.032Z (r-proxy) Execution failed due to configuration error: Malformed Lambda proxy response
2026-11-25T02:56:05.033Z (r-proxy) Method completed with status: 502
2026-11-25T02:56:06.000Z (r-ok) HTTP Method: GET, Resource Path: /orders/{id}
2026-11-25T02:56:06.040Z (r-ok) Received response. Status: 200, Integration latency: 40 ms
2026-11-25T02:56:06.041Z (r-ok) Method completed with status: 200
2026-11-25T02:56:33.002Z (r-timeout) Execution failed due to a timeout error
2026-11-25T02:56:33.003Z (r-timeout) Method completed with status: 504
2026-11-25T02:56:34.000Z (r-exec-only) Method completed with status: 429
";
    std::fs::write(exec.join("task/stream/000000"), export).unwrap();
    (access, exec)
}

#[test]
fn report_joins_execution_logs_and_breaks_down_causes() {
    let dir = tempfile::tempdir().unwrap();
    let (access, exec) = fixture(dir.path());
    let r: Value = json_of(
        gwstat()
            .args(["report", "--format", "json", "-q"])
            .arg(&access)
            .arg(&exec),
    );
    let x = &r["execution"];
    assert_eq!(x["requests"], 4);
    assert_eq!(x["joined"], 3);
    assert_eq!(x["join_rate"], 0.75);
    let causes: Vec<(&str, u64)> = x["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cause"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert!(causes.contains(&("integration timeout", 1)), "{causes:?}");
    assert!(
        causes.contains(&("malformed Lambda proxy response", 1)),
        "{causes:?}"
    );
    assert!(causes.contains(&("no cause logged", 1)), "{causes:?}");
    // r-exec-only is known from the execution log alone: it counts, once.
    assert_eq!(r["summary"]["requests"], 5);
    assert_eq!(r["inputs"]["request_source"], "access+execution");
    assert_eq!(x["requests_added"], 1);
    assert_eq!(r["throttling"]["throttled"], 1);
    assert!(r["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["format"] == "cloudwatch-export/execution"));
}

#[test]
fn explain_tells_the_story_of_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let (access, exec) = fixture(dir.path());
    gwstat()
        .args(["explain", "r-timeout", "-q"])
        .arg(&access)
        .arg(&exec)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "+29002 ms  Execution failed due to a timeout error",
        ))
        .stdout(predicate::str::contains(
            "verdict: 504 because the integration timed out after 29,000 ms",
        ));
    gwstat()
        .args(["explain", "r-proxy", "-q"])
        .arg(&access)
        .arg(&exec)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "verdict: 502 because of a malformed Lambda proxy response",
        ));
    gwstat()
        .args(["explain", "nope", "-q"])
        .arg(&access)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("in none of the inputs"));
}

/// Chooses a sample request.
type Pick = dyn Fn(&Value) -> bool;

/// The first sample request matching `pick`.
fn sample_id(pick: impl Fn(&Value) -> bool) -> String {
    let text =
        std::fs::read_to_string(crate::common::root().join("sample-logs/rest-api-json-custom.log"))
            .unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| pick(v))
        .map(|v| v["requestId"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn explain_works_on_sample_logs_for_each_kind_of_outcome() {
    let cases: [(Box<Pick>, &str); 4] = [
        (
            Box::new(|v| v["status"] == "504"),
            "504 because the integration timed out after 29,000 ms",
        ),
        (Box::new(|v| v["status"] == "502"), "502 because of a"),
        (Box::new(|v| v["status"] == "429"), "429 because"),
        (
            Box::new(|v| {
                v["status"] == "200" && v["httpMethod"] == "GET" && v["integrationLatency"] == "-"
            }),
            "served from the stage cache",
        ),
    ];
    for (pick, verdict) in cases {
        let id = sample_id(pick);
        gwstat()
            .args(["explain", &id, "sample-logs/", "-q"])
            .assert()
            .success()
            .stdout(predicate::str::contains("execution log ("))
            .stdout(predicate::str::contains(verdict));
    }
}

#[test]
fn sample_execution_logs_join_completely() {
    let r = json_of(gwstat().args(["report", "sample-logs/", "--format", "json", "-q"]));
    assert_eq!(r["execution"]["join_rate"], 1.0);
    assert_eq!(r["execution"]["unclassified_lines"], 0);
}

#[test]
fn cache_source_is_execution_logs_when_they_are_given() {
    let json = |args: &[&str]| -> Value {
        json_of(
            gwstat()
                .args(["report", "--format", "json", "-q"])
                .args(args),
        )
    };
    let inferred = json(&["sample-logs/rest-api-json-custom.log"]);
    let exec = json(&[
        "sample-logs/rest-api-json-custom.log",
        "sample-logs/execution-logs/",
    ]);
    assert_eq!(inferred["cache"]["source"], "inferred");
    assert_eq!(exec["cache"]["source"], "execution-logs");
    assert_eq!(exec["cache"]["hits"], inferred["cache"]["hits"]);
    assert_eq!(exec["cache"]["misses"], inferred["cache"]["misses"]);
}
