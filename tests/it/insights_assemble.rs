//! `--engine insights` without AWS: Logs Insights does not run in the local emulator, so the
//! generated queries are checked as text (unit tests) and the report is assembled here from
//! recorded `get-query-results` documents (tests/insights/*.json) for the six requests of
//! tests/insights/access.log. Every count must equal the local engine's report on the same
//! lines; statistics and percentiles are CloudWatch's, carried through unchanged.

use std::collections::BTreeMap;
use std::path::Path;

use gwstat::analyze::AnalyzeOptions;
use gwstat::insights::assemble::{assemble, Results};
use gwstat::insights::keys::Keys;
use gwstat::insights::queries::{queries, QueryOptions};
use gwstat::insights::results::parse_recorded;
use gwstat::report::Inputs;
use serde_json::Value;

use crate::common::{gwstat, json_of};

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/insights"))
}

fn insights_report() -> Value {
    let log = std::fs::read_to_string(dir().join("access.log")).unwrap();
    let keys = Keys::discover(log.lines(), &[]).unwrap();
    let list = queries(
        &keys,
        &QueryOptions {
            bin_seconds: 60,
            top: 20,
            timeout_ms: 29_000,
        },
    );
    let mut results = Results::new();
    for q in &list {
        let path = dir().join(format!("{}.json", q.kind.name()));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("no recorded result for {}", q.kind.name()));
        results.insert(q.kind, parse_recorded(&text).unwrap());
    }
    let inputs = Inputs {
        files: Vec::new(),
        records: 6,
        filtered_out: 0,
        skipped: 0,
        skipped_by_reason: BTreeMap::new(),
        skipped_samples: BTreeMap::new(),
        invalid_fields: 0,
        invalid_fields_by_reason: BTreeMap::new(),
        invalid_field_samples: BTreeMap::new(),
        request_source: Default::default(),
        objects_skipped: BTreeMap::new(),
    };
    let report = assemble(
        &results,
        &keys,
        inputs,
        60,
        &AnalyzeOptions {
            top: 20,
            timeout_ms: 29_000,
            bin_seconds: Some(60),
        },
    );
    // Through text, written as the CLI writes it (numbers rounded), so floats parse the same way.
    let mut text = Vec::new();
    gwstat::report::rounding::write_json_pretty(&mut text, &report).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn local_report() -> Value {
    json_of(
        gwstat()
            .arg("report")
            .arg(dir().join("access.log"))
            .args(["--format", "json", "--bin", "60s", "-q"]),
    )
}

/// Drops the statistics Insights computes its own way, keeping counts, min, max and mean.
fn exact_parts(stats: &Value) -> Value {
    let mut v = serde_json::json!({});
    for measure in ["latency_ms", "integration_latency_ms", "overhead_ms"] {
        v[measure] = stats[measure].clone();
    }
    for measure in ["latency_ms", "integration_latency_ms", "overhead_ms"] {
        for p in ["p50", "p90", "p95", "p99"] {
            v[measure].as_object_mut().unwrap().remove(p);
        }
    }
    v
}

#[test]
fn counts_equal_the_local_engines() {
    let remote = insights_report();
    let local = local_report();
    for section in ["summary", "errors", "throttling", "cache"] {
        assert_eq!(remote[section], local[section], "section {section}");
    }
    assert_eq!(remote["timeouts"]["count"], local["timeouts"]["count"]);
    assert_eq!(
        remote["timeouts"]["by_route"],
        local["timeouts"]["by_route"]
    );
    assert_eq!(
        exact_parts(&remote["latency"]["overall"]),
        exact_parts(&local["latency"]["overall"])
    );
    let routes = |r: &Value| -> Vec<Value> {
        r["latency"]["by_route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| serde_json::json!([x["route"], x["stage"], x["count"], exact_parts(x)]))
            .collect()
    };
    assert_eq!(routes(&remote), routes(&local));
    let bins = |r: &Value| -> Vec<Value> {
        r["timeline"]["bins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                serde_json::json!([
                    b["start"],
                    b["requests"],
                    b["c2xx"],
                    b["c4xx"],
                    b["c5xx"],
                    b["throttled"],
                    b["cache_hits"],
                    b["cache_misses"]
                ])
            })
            .collect()
    };
    assert_eq!(bins(&remote), bins(&local));
    let series = |r: &Value| -> Vec<Value> {
        r["timeline"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| serde_json::json!([s["route"], s["requests"]]))
            .collect()
    };
    assert_eq!(series(&remote), series(&local));
    assert_eq!(
        remote["timeline"]["throttled_by_route"],
        local["timeline"]["throttled_by_route"]
    );
}

#[test]
fn percentiles_are_cloudwatchs() {
    let remote = insights_report();
    let overall = &remote["latency"]["overall"];
    assert_eq!(overall["latency_ms"]["p90"], 50.0);
    assert_eq!(overall["integration_latency_ms"]["p50"], 8.0);
    assert_eq!(remote["timeline"]["bins"][1]["latency_p99_ms"], 29010.0);
    assert_eq!(remote["timeline"]["bins"][0]["overhead_p50_ms"], 2.0);
    assert_eq!(remote["timeline"]["routes"][0]["latency_p99_ms"][0], 10.0);
    // The near-timeout rule reads the (full) per-route integration p99.
    assert_eq!(
        remote["timeouts"]["near_timeout_routes"][0]["route"],
        "GET /pets/{id}"
    );
}
