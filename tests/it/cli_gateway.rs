//! `gwstat gateway` and `gwstat generate --gateway` as a user runs them.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

#[test]
fn check_validates_and_shows_levels() {
    gwstat()
        .args(["gateway", "check", "sample-logs/gateway.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "GET /products: usage-plan → stage-default → account",
        ))
        .stdout(predicate::str::contains("quota"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[usage_plans]]\nid = \"p\"\nstages = [\"missing\"]\n",
    )
    .unwrap();
    gwstat()
        .args(["gateway", "check"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown stage"));
}

#[test]
fn import_turns_aws_cli_json_into_a_working_gateway_toml() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage.json");
    std::fs::write(&stage, r#"{"stageName": "prod", "cacheClusterEnabled": false,
        "methodSettings": {"*/*": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 50},
                           "~1orders/POST": {"throttlingRateLimit": 0.5, "throttlingBurstLimit": 1}}}"#).unwrap();
    let plans = dir.path().join("plans.json");
    std::fs::write(&plans, r#"{"items": [{"id": "abc123", "apiStages": [{"apiId": "x", "stage": "prod"}],
        "throttle": {"rateLimit": 10.0, "burstLimit": 20}, "quota": {"limit": 100, "offset": 0, "period": "MONTH"}}]}"#).unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(
        &keys,
        r#"{"items": [{"id": "key1", "type": "API_KEY", "value": "v4lue", "name": "a"}]}"#,
    )
    .unwrap();
    let usage = dir.path().join("usage.json");
    std::fs::write(
        &usage,
        r#"{"usagePlanId": "abc123", "startDate": "2026-11-01", "endDate": "2026-11-02",
            "items": {"key1": [[40, 60], [2, 58]]}}"#,
    )
    .unwrap();
    let out = dir.path().join("gateway.toml");
    gwstat()
        .args(["gateway", "import", "--stage"])
        .arg(&stage)
        .arg("--usage-plans")
        .arg(&plans)
        .arg("--usage-plan-keys")
        .arg(format!("abc123={}", keys.display()))
        .arg("--usage")
        .arg(&usage)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("rate = 0.5"), "{text}");
    assert!(text.contains("2026-11-02 = 2"), "{text}");
    gwstat()
        .args(["gateway", "check"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "POST /orders: usage-plan → stage-method → account",
        ))
        .stdout(predicate::str::contains(
            "usage already counted for 1 key(s), 2 day(s)",
        ));
}

#[test]
fn generate_sends_traffic_through_the_given_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let permissive = dir.path().join("open.toml");
    std::fs::write(
        &permissive,
        "[[stages]]\nname = \"prod\"\n[[stages]]\nname = \"staging\"\n",
    )
    .unwrap();
    let report = |extra: &[&str]| -> Value {
        let log = gwstat()
            .args([
                "generate",
                "--format",
                "rest-json",
                "--requests",
                "3000",
                "--seconds",
                "600",
                "--no-malformed",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(log.status.success());
        json_of(
            gwstat()
                .args(["report", "-", "--format", "json", "-q"])
                .write_stdin(log.stdout),
        )
    };
    let sample = report(&[]);
    assert!(sample["throttling"]["throttled"].as_u64().unwrap() > 100);
    let open = report(&["--gateway", permissive.to_str().unwrap()]);
    assert_eq!(open["throttling"]["throttled"], 0);
    assert_eq!(open["summary"]["requests"], sample["summary"]["requests"]);
}
