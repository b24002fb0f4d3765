//! `gwstat replay` as a user runs it.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

fn json(args: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("replay")
            .args(args)
            .args(["--format", "json", "-q"]),
    )
}

const SAMPLE: &str = "sample-logs/rest-api-json-custom.log";
const CONFIG: &str = "sample-logs/gateway.toml";

#[test]
fn replaying_the_generators_own_logs_agrees_completely() {
    for file in [SAMPLE, "sample-logs/http-api-json.log"] {
        let report = json(&[file, "--config", CONFIG]);
        let t = &report["totals"];
        assert_eq!(t["observed_429"], t["predicted_429"], "{file}");
        assert_eq!(t["observed_quota"], t["predicted_quota"], "{file}");
        assert_eq!(t["observed_timeouts"], t["predicted_timeouts"], "{file}");
        assert_eq!(t["agreement_429"], 1.0, "{file}");
        assert_eq!(report["confusion_429"]["fp"], 0);
        assert_eq!(report["confusion_429"]["fn"], 0);
    }
    let report = json(&[SAMPLE, "--config", CONFIG]);
    assert!(report["totals"]["observed_429"].as_u64().unwrap() > 1000);
    assert!(report["worst_seconds"].as_array().unwrap().is_empty());
}

#[test]
fn verdicts_are_one_json_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let verdicts = dir.path().join("v.ndjson");
    let report = json(&[
        SAMPLE,
        "--config",
        CONFIG,
        "--verdicts",
        verdicts.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&verdicts).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as u64,
        report["totals"]["requests"].as_u64().unwrap()
    );
    let throttled = lines.iter().find(|v| v["predicted_status"] == 429).unwrap();
    assert!(throttled["requestId"].is_string());
    assert!(throttled["level"].is_string());
    assert!(lines.iter().any(|v| v["cache"] == "hit"));
}

#[test]
fn what_if_matches_a_hand_computed_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    // Four requests at t = 0, 0, 0, 400 ms; all were answered 200.
    let line = |ms: u64| {
        format!("{{\"requestTimeEpoch\":\"{}\",\"httpMethod\":\"GET\",\"resourcePath\":\"/x\",\"stage\":\"prod\",\"status\":\"200\",\"requestId\":\"r{ms}\"}}\n", 1_795_514_400_000 + ms)
    };
    std::fs::write(&log, [line(0), line(0), line(0), line(400)].concat()).unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "[[stages]]\nname = \"prod\"\nthrottle = { rate = 10, burst = 10 }\n",
    )
    .unwrap();
    let l = log.to_str().unwrap();
    let c = config.to_str().unwrap();
    assert_eq!(json(&[l, "--config", c])["totals"]["predicted_429"], 0);
    // Burst 2, rate 2: the third request at 0 ms is refused; at 400 ms 0.8 tokens: refused.
    let tight = json(&[
        l,
        "--config",
        c,
        "--set",
        "stage.prod.burst=2",
        "--set",
        "stage.prod.rate=2",
    ]);
    assert_eq!(tight["totals"]["predicted_429"], 2);
    assert_eq!(tight["confusion_429"]["fp"], 2);
    // Rate 2.5: 1 token by 400 ms, so only the third request is refused.
    let looser = json(&[
        l,
        "--config",
        c,
        "--set",
        "stage.prod.burst=2",
        "--set",
        "stage.prod.rate=2.5",
    ]);
    assert_eq!(looser["totals"]["predicted_429"], 1);

    let sweep = json_of(gwstat().args([
        "replay",
        l,
        "--config",
        c,
        "--sweep",
        "stage.prod.burst=1..4:1",
        "--format",
        "json",
        "-q",
    ]));
    let predicted: Vec<u64> = sweep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["predicted_429"].as_u64().unwrap())
        .collect();
    // Rate 10 refills the bucket by 400 ms: only the requests at 0 ms beyond the burst fail.
    assert_eq!(predicted, [2, 1, 0, 0]);
}

#[test]
fn aws_cli_json_works_as_config() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage.json");
    std::fs::write(&stage, r#"{"stageName": "prod", "methodSettings": {"*/*": {"throttlingRateLimit": 1.0, "throttlingBurstLimit": 1}}}"#).unwrap();
    let report = json(&[SAMPLE, "--config", stage.to_str().unwrap()]);
    assert!(
        report["totals"]["predicted_429"].as_u64().unwrap()
            > report["totals"]["observed_429"].as_u64().unwrap()
    );
}

#[test]
fn bad_settings_and_retries() {
    gwstat()
        .args([
            "replay",
            SAMPLE,
            "--config",
            CONFIG,
            "--set",
            "stage.nowhere.rate=5",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no such stage"));
    let dropped = json(&[SAMPLE, "--config", CONFIG, "--drop-retries"]);
    assert!(dropped["dropped_retries"].as_u64().unwrap() > 0);
}

#[test]
fn limits_suggest_proves_its_suggestions_by_replay() {
    let report: Value = json_of(gwstat().args([
        "limits", "suggest", SAMPLE, "--format", "json", "-q", "--top", "3",
    ]));
    let suggestions = report["suggestions"].as_array().unwrap();
    let prod = suggestions
        .iter()
        .find(|s| s["scope"] == "stage" && s["name"] == "prod")
        .unwrap();
    assert_eq!(prod["bucket_429"], 0);
    // Without a configuration, the suggested stage limit alone throttles nothing.
    assert_eq!(prod["replay_429"], 0);
    assert!(prod["rate"].as_u64().unwrap() as f64 >= prod["percentile_rps"].as_f64().unwrap());
    assert_eq!(
        suggestions
            .iter()
            .filter(|s| s["scope"] == "method")
            .count(),
        3
    );
    assert!(suggestions
        .iter()
        .any(|s| s["scope"] == "api_key" && s["name"] == "burst4r8qz"));
}
