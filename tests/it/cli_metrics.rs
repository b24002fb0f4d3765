//! `gwstat metrics`, `gwstat traces` and the logs-vs-metrics reconciliation of `gwstat report`,
//! on hand-made files with hand-checked numbers and on sample-logs/.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

fn json(args: &[&str]) -> Value {
    json_of(gwstat().args(args).args(["--format", "json", "--quiet"]))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Two get-metric-data pages, newest first, CLI v2 and v1 timestamps and epoch seconds,
/// series named by a query file; REST error rates fetched as Average.
const PAGE_1: &str = r#"{"MetricDataResults":[
 {"Id":"c","Label":"Count","Timestamps":["2026-11-24T10:02:00+00:00","2026-11-24T10:01:00+00:00"],"Values":[200,100],"StatusCode":"PartialData"},
 {"Id":"e4","Label":"4XXError","Timestamps":["2026-11-24T10:02:00+00:00","2026-11-24T10:01:00+00:00"],"Values":[0.5,0.1],"StatusCode":"PartialData"},
 {"Id":"l","Label":"Latency","Timestamps":["2026-11-24T10:02:00+00:00","2026-11-24T10:01:00+00:00"],"Values":[30,60],"StatusCode":"PartialData"},
 {"Id":"i","Label":"IntegrationLatency","Timestamps":["2026-11-24T10:02:00+00:00","2026-11-24T10:01:00+00:00"],"Values":[20,40],"StatusCode":"PartialData"}
],"NextToken":"abc","Messages":[]}"#;
const PAGE_2: &str = r#"{"MetricDataResults":[
 {"Id":"c","Label":"Count","Timestamps":["2026-11-24T10:00:00Z"],"Values":[100],"StatusCode":"Complete"},
 {"Id":"e4","Label":"4XXError","Timestamps":[1795514400],"Values":[0.0],"StatusCode":"Complete"},
 {"Id":"l","Label":"Latency","Timestamps":["2026-11-24T10:00:00Z"],"Values":[90],"StatusCode":"Complete"},
 {"Id":"i","Label":"IntegrationLatency","Timestamps":["2026-11-24T10:00:00Z"],"Values":[80],"StatusCode":"Complete"}
]}"#;
const QUERIES: &str = r#"[
 {"Id":"c","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Count","Dimensions":[{"Name":"ApiName","Value":"shop"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Sum"}},
 {"Id":"e4","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"4XXError","Dimensions":[{"Name":"ApiName","Value":"shop"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Average"}},
 {"Id":"l","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Latency","Dimensions":[{"Name":"ApiName","Value":"shop"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Average"}},
 {"Id":"i","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"IntegrationLatency","Dimensions":[{"Name":"ApiName","Value":"shop"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Average"}}
]"#;

#[test]
fn get_metric_data_pages_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "data.json", &format!("{PAGE_1}\n{PAGE_2}"));
    let queries = write(dir.path(), "q.json", QUERIES);
    let r = json(&["metrics", &data, "--metric-query", &queries]);
    assert_eq!(r["kind"], "metrics");
    assert_eq!(r["bin_seconds"], 60);
    let g = &r["groups"][0];
    assert_eq!(g["stage"], "prod");
    assert_eq!(g["api"], "shop");
    let bins = g["bins"].as_array().unwrap();
    // Oldest first, whatever the order in the file.
    let starts: Vec<&str> = bins.iter().map(|b| b["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:01:00Z",
            "2026-11-24T10:02:00Z"
        ]
    );
    // 4XX as Average (a rate) × Count: 0, 10, 100.
    let e4: Vec<f64> = bins
        .iter()
        .map(|b| b["errors_4xx"].as_f64().unwrap())
        .collect();
    assert_eq!(e4, [0.0, 10.0, 100.0]);
    let t = &g["totals"];
    assert_eq!(t["requests"], 400.0);
    assert_eq!(t["errors_4xx"], 110.0);
    assert_eq!(t["error_rate_4xx"], 110.0 / 400.0);
    // Request-weighted: (90×100 + 60×100 + 30×200) / 400 = 52.5; integration 40; overhead 12.5.
    assert_eq!(t["latency_ms"]["Average"], 52.5);
    assert_eq!(t["integration_latency_ms"]["Average"], 40.0);
    assert_eq!(t["overhead_ms"], 12.5);
    assert_eq!(g["peak"]["start"], "2026-11-24T10:02:00Z");
    assert_eq!(r["inputs"]["series"][0]["metadata"], "metric_query");
    // Without the queries, labels that name only the metric would lose the API and stage:
    // refused, naming the file needed.
    gwstat()
        .args(["metrics", &data, "-q"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "data.json: series c (label \"Count\") and 3 others do not say which API and stage",
        ))
        .stderr(predicate::str::contains(
            "give the --metric-data-queries file of the get-metric-data command that wrote it",
        ));
    // The same numbers by Label naming when the labels carry the dimensions (stats assumed,
    // and said so).
    let labelled = write(
        dir.path(),
        "labelled.json",
        &format!("{PAGE_1}\n{PAGE_2}").replace(
            r#"","Timestamps""#,
            r#" ApiName=shop Stage=prod","Timestamps""#,
        ),
    );
    let r2 = json(&["metrics", &labelled]);
    assert_eq!(r2["groups"][0]["totals"]["requests"], 400.0);
    assert_eq!(r2["groups"][0]["stage"], "prod");
    assert_eq!(r2["groups"][0]["api"], "shop");
    assert_eq!(r2["inputs"]["series"][0]["metadata"], "naming");
    assert_eq!(r2["inputs"]["series"][0]["stat_assumed"], true);
    // With --bin 3m everything falls into one bin.
    let r3 = json(&["metrics", &data, "--metric-query", &queries, "--bin", "3m"]);
    assert_eq!(r3["groups"][0]["bins"].as_array().unwrap().len(), 1);
    assert_eq!(r3["groups"][0]["bins"][0]["requests"], 400.0);
}

#[test]
fn get_metric_statistics_unsorted_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let stats = write(
        dir.path(),
        "stats.json",
        r#"{"Label":"Latency","Datapoints":[
        {"Timestamp":"2026-11-24T10:02:00Z","SampleCount":50,"Average":10.0,"Maximum":70,"ExtendedStatistics":{"p99":60}},
        {"Timestamp":"2026-11-24T10:00:00Z","SampleCount":150,"Average":30.0,"Maximum":90,"ExtendedStatistics":{"p99":80}}]}"#,
    );
    let r = json(&["metrics", &stats]);
    let g = &r["groups"][0];
    assert_eq!(g["bins"][0]["start"], "2026-11-24T10:00:00Z");
    // Requests from Latency SampleCount; average weighted by them: (30×150 + 10×50)/200 = 25.
    assert_eq!(g["totals"]["requests"], 200.0);
    assert_eq!(g["totals"]["latency_ms"]["Average"], 25.0);
    assert_eq!(g["totals"]["latency_ms"]["Maximum"], 90.0);
    assert_eq!(g["latency_worst_bin_ms"]["p99"], 80.0);
    // The data's period is the smallest gap: 2 minutes here.
    assert_eq!(r["bin_seconds"], 120);

    let csv = write(
        dir.path(),
        "m.csv",
        "timestamp,metric,dimensions,stat,value\n\
         2026-11-24T10:00:00Z,Count,ApiName=shop;Stage=prod;Method=GET;Resource=/a,Sum,5\n\
         2026-11-24T10:00:00Z,Count,ApiName=shop;Stage=prod;Method=GET;Resource=/b,Sum,7\n\
         2026-11-24T10:00:00Z,5XXError,ApiName=shop;Stage=prod;Method=GET;Resource=/b,Sum,1\n\
         2026-11-24T10:00:00Z,Count,ApiName=shop;Stage=prod,Sum,12\n\
         2026-11-24T10:00:00Z,Bogus,ApiName=shop;Stage=prod,Sum,12\n",
    );
    let r = json(&["metrics", &csv]);
    let routes: Vec<(&str, f64)> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["route"].is_null())
        .map(|g| {
            (
                g["route"].as_str().unwrap(),
                g["totals"]["requests"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(routes, [("GET /b", 7.0), ("GET /a", 5.0)]);
    assert_eq!(r["inputs"]["skipped"], 1);
    assert!(r["inputs"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("m.csv:6: unknown metric"));
    gwstat()
        .args(["metrics", &csv, "--strict", "-q"])
        .assert()
        .code(1);
}

#[test]
fn bad_metric_inputs_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "a.log", "{\"requestId\":\"x\"}\n");
    gwstat()
        .args(["metrics", &log])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no metrics files among the inputs",
        ));
    let cut = write(dir.path(), "cut.json", "{\"MetricDataResults\": [{\"Id\":");
    gwstat()
        .args(["metrics", &cut])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not valid get-metric-data JSON"));
    let bad_query = write(
        dir.path(),
        "q.json",
        "{\"Namespace\":\"AWS/Lambda\",\"MetricName\":\"Duration\"}",
    );
    gwstat()
        .args(["metrics", &cut, "--metric-query", &bad_query])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("AWS/Lambda"));
    gwstat()
        .args(["metrics", &cut, "--bin", "soon"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--bin soon"));
}

#[test]
fn reconciliation_arithmetic_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    // Three logged requests at 10:00 (one 429), one at 10:01; metrics say 5 and 1.
    let line = |t: &str, status: u16, latency: u32| {
        format!(
            "{{\"requestId\":\"r{t}{status}\",\"requestTime\":\"24/Nov/2026:{t} +0000\",\"httpMethod\":\"GET\",\"resourcePath\":\"/a\",\"status\":\"{status}\",\"responseLatency\":\"{latency}\",\"stage\":\"prod\"}}\n"
        )
    };
    let logs = write(
        dir.path(),
        "access.log",
        &[
            line("10:00:01", 200, 10),
            line("10:00:02", 429, 2),
            line("10:00:03", 200, 30),
            line("10:01:05", 500, 40),
        ]
        .concat(),
    );
    let metrics = write(
        dir.path(),
        "m.csv",
        "timestamp,metric,dimensions,stat,value\n\
         2026-11-24T10:00:00Z,Count,ApiName=shop;Stage=prod,Sum,5\n\
         2026-11-24T10:00:00Z,4XXError,ApiName=shop;Stage=prod,Sum,3\n\
         2026-11-24T10:00:00Z,5XXError,ApiName=shop;Stage=prod,Sum,0\n\
         2026-11-24T10:00:00Z,CacheHitCount,ApiName=shop;Stage=prod,Sum,3\n\
         2026-11-24T10:00:00Z,CacheMissCount,ApiName=shop;Stage=prod,Sum,1\n\
         2026-11-24T10:01:00Z,Count,ApiName=shop;Stage=prod,Sum,1\n\
         2026-11-24T10:01:00Z,4XXError,ApiName=shop;Stage=prod,Sum,0\n\
         2026-11-24T10:01:00Z,5XXError,ApiName=shop;Stage=prod,Sum,1\n\
         2026-11-24T10:01:00Z,Latency,ApiName=shop;Stage=prod,Average,40\n",
    );
    let r = json(&["report", &logs, &metrics]);
    let s = &r["reconciliation"]["stages"][0];
    assert_eq!(s["stage"], "prod");
    let b0 = &s["bins"][0];
    assert_eq!(b0["log_requests"], 3);
    assert_eq!(b0["metric_requests"], 5.0);
    assert_eq!(b0["request_gap"], 2.0);
    assert_eq!(b0["log_4xx"], 1);
    assert_eq!(b0["metric_4xx"], 3.0);
    assert_eq!(b0["log_latency_avg_ms"], 14.0);
    assert!(b0["flag"]
        .as_str()
        .unwrap()
        .contains("requests missing from the logs"));
    let b1 = &s["bins"][1];
    assert_eq!(b1["request_gap"], 0.0);
    assert!(b1["flag"].is_null(), "{b1}");
    assert_eq!(s["flagged_bins"], 1);
    assert_eq!(s["totals"]["log_requests"], 4);
    assert_eq!(s["totals"]["metric_requests"], 6.0);
    assert_eq!(s["totals"]["request_gap"], 2.0);
    assert_eq!(r["cache"]["source"], "metrics");
    assert_eq!(r["cache"]["hit_ratio"], 0.75);
    // Metrics files are not counted as log lines.
    assert_eq!(r["inputs"]["skipped"], 0);
    assert_eq!(r["summary"]["requests"], 4);
    // The table shows the flagged bin and the totals.
    gwstat()
        .args(["report", &logs, &metrics, "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Logs vs CloudWatch metrics — shop / prod",
        ))
        .stdout(predicate::str::contains("+2"));
}

#[test]
fn sample_metrics_agree_with_themselves_and_the_logs() {
    let r = json(&["metrics", "sample-logs/metrics/", "--top", "0"]);
    let groups = r["groups"].as_array().unwrap();
    let prod = groups
        .iter()
        .find(|g| g["stage"] == "prod" && g["route"].is_null())
        .unwrap();
    // Detailed (per-route) Count sums to the stage Count.
    let routes: f64 = groups
        .iter()
        .filter(|g| g["stage"] == "prod" && !g["route"].is_null())
        .map(|g| g["totals"]["requests"].as_f64().unwrap())
        .sum();
    assert_eq!(routes, prod["totals"]["requests"].as_f64().unwrap());
    // Series named by the query files found beside the data.
    assert!(r["inputs"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["metadata"] != "naming"));
    // Against the logs: every bin that is not flagged agrees exactly, and the gap is the
    // 429s the logs never saw.
    let report = json(&["report", "sample-logs/"]);
    let stage = &report["reconciliation"]["stages"][0];
    for bin in stage["bins"].as_array().unwrap() {
        if bin["flag"].is_null() {
            assert_eq!(bin["request_gap"], 0.0, "{bin}");
        } else {
            assert_eq!(
                bin["metric_5xx"].as_f64(),
                Some(bin["log_5xx"].as_u64().unwrap() as f64)
            );
            assert_eq!(
                bin["request_gap"].as_f64().unwrap(),
                bin["metric_4xx"].as_f64().unwrap() - bin["log_4xx"].as_u64().unwrap() as f64
            );
        }
    }
}

#[test]
fn sample_traces_join_the_logs() {
    let r = json(&[
        "traces",
        "sample-logs/traces/",
        "sample-logs/rest-api-json-custom.log",
        "--top",
        "0",
    ]);
    let traces = r["inputs"]["traces"].as_u64().unwrap();
    assert!(traces > 100, "{traces}");
    assert_eq!(r["inputs"]["joined_to_logs"].as_u64(), Some(traces));
    assert_eq!(r["inputs"]["summaries"].as_u64(), Some(traces));
    let routes = r["routes"].as_array().unwrap();
    let sum: u64 = routes.iter().map(|x| x["traces"].as_u64().unwrap()).sum();
    assert_eq!(sum, traces);
    // Routes come from the logs' resource paths.
    assert!(routes
        .iter()
        .any(|x| x["route"] == "GET /products/{productId}"));
    let t = &r["totals"];
    assert!(t["throttles"].as_u64().unwrap() > 0);
    assert!(t["cold_starts"].as_u64().unwrap() > 0);
    // Gateway overhead is what the gateway adds around the integration: never negative.
    assert!(t["gateway_overhead_ms"]["min"].as_f64().unwrap() >= 0.0);
    // Without logs, routes are templated from the URLs.
    let r = json(&["traces", "sample-logs/traces/batch-get-traces.json"]);
    assert!(r["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["route"] == "GET /products/{id}"));
    assert!(r["inputs"]["joined_to_logs"].is_null());
    gwstat()
        .args(["traces", "sample-logs/traces/", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Where the time goes per route"))
        .stdout(predicate::str::contains("DynamoDB"));
}

#[test]
fn traces_join_by_xray_trace_id_too() {
    let dir = tempfile::tempdir().unwrap();
    // The log's requestId differs from the trace's; its xrayTraceId matches (Root= form).
    let log = write(
        dir.path(),
        "access.log",
        "{\"requestId\":\"other\",\"requestTime\":\"15/Apr/2023:16:00:29 +0000\",\"httpMethod\":\"POST\",\"resourcePath\":\"/tasks\",\"status\":\"201\",\"xrayTraceId\":\"Root=1-643aca1d-02e095f7341508e00b9b6d2b;Parent=66083ccfc311f302;Sampled=1\"}\n",
    );
    let r = json(&["traces", "src/traces/testdata/s20.json", &log]);
    assert_eq!(r["inputs"]["joined_to_logs"], 1);
    assert_eq!(r["routes"][0]["route"], "POST /tasks");
    // One document in the file is not JSON: counted, named, and --strict says so.
    assert_eq!(r["inputs"]["skipped"], 1);
    gwstat()
        .args(["traces", "src/traces/testdata/s20.json", "--strict", "-q"])
        .assert()
        .code(1);
}
