//! The report's numbers computed a second, naive way: parse every line with
//! `serde_json::Value`, sort, interpolate by hand, count with hash maps.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{gwstat, json_of, root};

const FILE: &str = "sample-logs/rest-api-json-custom.log";

/// Linear interpolation between closest ranks (numpy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = q * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

struct Naive {
    requests: u64,
    statuses: HashMap<u64, u64>,
    per_second: HashMap<i64, u64>,
    latency_by_route: HashMap<(String, String), Vec<f64>>,
    latency: Vec<f64>,
    integration: Vec<f64>,
    overhead: Vec<f64>,
}

fn number(v: &Value) -> Option<f64> {
    v.as_str()?.parse().ok()
}

fn naive() -> Naive {
    let text = std::fs::read_to_string(root().join(FILE)).unwrap();
    let mut n = Naive {
        requests: 0,
        statuses: HashMap::new(),
        per_second: HashMap::new(),
        latency_by_route: HashMap::new(),
        latency: Vec::new(),
        integration: Vec::new(),
        overhead: Vec::new(),
    };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(epoch), Some(status)) = (number(&v["requestTimeEpoch"]), number(&v["status"]))
        else {
            continue;
        };
        n.requests += 1;
        *n.statuses.entry(status as u64).or_default() += 1;
        *n.per_second.entry((epoch as i64) / 1000).or_default() += 1;
        let route = format!(
            "{} {}",
            v["httpMethod"].as_str().unwrap(),
            v["resourcePath"].as_str().unwrap()
        );
        let stage = v["stage"].as_str().unwrap().to_string();
        let latency = number(&v["responseLatency"]);
        let integration = number(&v["integrationLatency"]);
        if let Some(l) = latency {
            n.latency.push(l);
            n.latency_by_route
                .entry((route, stage))
                .or_default()
                .push(l);
        }
        if let Some(i) = integration {
            n.integration.push(i);
        }
        if let (Some(l), Some(i)) = (latency, integration) {
            n.overhead.push(l - i);
        }
    }
    for values in [&mut n.latency, &mut n.integration, &mut n.overhead] {
        values.sort_by(f64::total_cmp);
    }
    for values in n.latency_by_route.values_mut() {
        values.sort_by(f64::total_cmp);
    }
    n
}

fn report() -> Value {
    json_of(gwstat().args(["report", FILE, "--format", "json", "--top", "0", "--quiet"]))
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    // The JSON keeps 3 decimals of milliseconds (6 of anything else): half the last digit.
    assert!(
        (actual - expected).abs() <= 5e-4 + 1e-9 * expected.abs(),
        "{what}: report {actual}, naive {expected}"
    );
}

#[test]
fn counts_and_percentiles_match_a_naive_computation() {
    let n = naive();
    let r = report();
    assert_eq!(r["summary"]["requests"], n.requests);
    for s in r["errors"]["by_status"].as_array().unwrap() {
        let status = s["status"].as_u64().unwrap();
        assert_eq!(s["count"], n.statuses[&status], "status {status}");
    }
    let peak = n.per_second.values().max().unwrap();
    assert_eq!(r["summary"]["peak_rps"]["value"], *peak);

    for (key, values) in [
        ("latency_ms", &n.latency),
        ("integration_latency_ms", &n.integration),
        ("overhead_ms", &n.overhead),
    ] {
        let stats = &r["latency"]["overall"][key];
        assert_eq!(stats["count"], values.len(), "{key} count");
        assert_close(&stats["min"], values[0], key);
        assert_close(&stats["max"], *values.last().unwrap(), key);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert_close(&stats["mean"], mean, key);
        for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
            assert_close(
                &stats[name],
                percentile(values, q),
                &format!("{key}.{name}"),
            );
        }
    }

    let by_route = r["latency"]["by_route"].as_array().unwrap();
    assert_eq!(by_route.len(), n.latency_by_route.len());
    for row in by_route {
        let key = (
            row["route"].as_str().unwrap().to_string(),
            row["stage"].as_str().unwrap().to_string(),
        );
        let values = &n.latency_by_route[&key];
        assert_eq!(row["latency_ms"]["count"], values.len(), "{key:?}");
        assert_close(
            &row["latency_ms"]["p99"],
            percentile(values, 0.99),
            "route p99",
        );
        assert_close(
            &row["latency_ms"]["p50"],
            percentile(values, 0.5),
            "route p50",
        );
    }
}
