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
        .stderr(predicate::str::contains("account throttle not known"))
        .stderr(predicate::str::contains("stage prod: routes not known"))
        .stderr(predicate::str::contains(
            "stage prod: integration timeouts not known: 29000 ms assumed",
        ))
        .stderr(predicate::str::contains(
            "stage prod: which methods require an API key not known: every method assumed",
        ))
        .stderr(predicate::str::contains("what keys used before not known").not())
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

/// Writes `files` (relative path, content) under `dir`.
fn write_tree(dir: &std::path::Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn import_takes_a_whole_account_recognising_each_output_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    write_tree(
        &account,
        &[
            (
                "rest-apis.json",
                r#"{"items":[{"id":"pets000001","name":"pets","apiKeySource":"HEADER"},{"id":"orders0002","name":"orders"}]}"#,
            ),
            (
                "apis.json",
                r#"{"Items":[{"ApiId":"web0000003","Name":"web","ProtocolType":"HTTP"}]}"#,
            ),
            (
                "pets000001/stages.json",
                r#"{"item":[{"stageName":"prod","methodSettings":{"*/*":{"throttlingRateLimit":10.0,"throttlingBurstLimit":5}}}]}"#,
            ),
            (
                "pets000001/resources.json",
                r#"{"items":[{"id":"r0","path":"/"},
                {"id":"r1","path":"/pets","resourceMethods":{"GET":{"httpMethod":"GET","apiKeyRequired":true,"methodIntegration":{"type":"AWS_PROXY","timeoutInMillis":5000}}}},
                {"id":"r2","path":"/{proxy+}","resourceMethods":{"ANY":{"httpMethod":"ANY","apiKeyRequired":false}}}]}"#,
            ),
            (
                "pets000001/r2/ANY.json",
                r#"{"type":"HTTP_PROXY","uri":"http://example.invalid","timeoutInMillis":2000}"#,
            ),
            (
                "orders0002/stages.json",
                r#"{"item":[{"stageName":"prod"}]}"#,
            ),
            (
                "orders0002/export.json",
                r#"{"openapi":"3.0.1","info":{"title":"orders"},"paths":{"/orders":{"post":{"security":[{"api_key":[]}],"x-amazon-apigateway-integration":{"timeoutInMillis":8000}}}}}"#,
            ),
            (
                "web0000003/stages.json",
                r#"{"Items":[{"StageName":"$default","DefaultRouteSettings":{"ThrottlingRateLimit":100.0,"ThrottlingBurstLimit":50}}]}"#,
            ),
            (
                "web0000003/routes.json",
                r#"{"Items":[{"RouteKey":"GET /items","Target":"integrations/int1"},{"RouteKey":"$default","Target":"integrations/int2"}]}"#,
            ),
            (
                "web0000003/integrations.json",
                r#"{"Items":[{"IntegrationId":"int1","TimeoutInMillis":3000},{"IntegrationId":"int2","TimeoutInMillis":30000}]}"#,
            ),
            (
                "plans.json",
                r#"{"items":[{"id":"gold01","apiStages":[{"apiId":"pets000001","stage":"prod"},{"apiId":"orders0002","stage":"prod","throttle":{"/orders/POST":{"rateLimit":1.0,"burstLimit":1}}}],"throttle":{"rateLimit":10.0,"burstLimit":20},"quota":{"limit":100,"offset":0,"period":"DAY"}}]}"#,
            ),
            (
                "gold01/keys.json",
                r#"{"items":[{"id":"key1","type":"API_KEY","value":"v4lue","name":"a"}]}"#,
            ),
            (
                "account.json",
                r#"{"throttleSettings":{"rateLimit":2500.0}}"#,
            ),
            (
                "usage.json",
                r#"{"usagePlanId":"gold01","startDate":"2026-11-01","endDate":"2026-11-01","items":{"key1":[[3,97]]}}"#,
            ),
            ("README.json", r#"{"hello":1}"#),
        ],
    );
    let out = dir.path().join("gateway.toml");
    gwstat()
        .args(["gateway", "import"])
        .arg(&account)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "README.json: not an AWS CLI output",
        ));
    let text = std::fs::read_to_string(&out).unwrap();
    for want in [
        "id = \"web0000003\"",
        "kind = \"http\"",
        "integration_timeout_ms = 5000",
        "integration_timeout_ms = 2000",
        "integration_timeout_ms = 8000",
        "integration_timeout_ms = 3000",
        "GET /items",
        "burst = 1250",
        "ANY /{proxy+}",
        "2026-11-01 = 3",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    gwstat()
        .args(["gateway", "check"])
        .arg(&out)
        .assert()
        .success()
        // What the account's outputs did not say is named, with the default assumed.
        .stderr(predicate::str::contains("stage web0000003:$default: routes not known").not())
        .stderr(predicate::str::contains("stage pets000001:prod: routes not known").not())
        .stderr(
            predicate::str::contains("stage orders0002:prod: integration timeouts not known").not(),
        )
        .stderr(predicate::str::contains("account throttle not known").not())
        .stdout(predicate::str::contains(
            "POST /orders: usage-plan-method → usage-plan → account",
        ))
        .stdout(predicate::str::contains(
            "GET /pets: usage-plan → stage-default → account",
        ));
    // Without its directory the stages cannot be placed, unless --api-id says.
    let loose = dir.path().join("loose");
    write_tree(
        &loose,
        &[("stages.json", r#"{"item":[{"stageName":"prod"}]}"#)],
    );
    gwstat()
        .args(["gateway", "import"])
        .arg(&loose)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--api-id"));
    let stages = loose.join("stages.json");
    gwstat()
        .args(["gateway", "import"])
        .arg(&stages)
        .arg("--api-id")
        .arg(format!("a1b2c3d4e5={}", stages.display()))
        .assert()
        .success()
        .stdout(predicate::str::contains("id = \"a1b2c3d4e5\""));
}

#[test]
fn check_lists_every_route_with_its_levels() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("routes.toml");
    std::fs::write(
        &config,
        r#"
[[apis]]
id = "ws44444444"
name = "chat"
kind = "websocket"
[[apis.stages]]
name = "prod"
routes = ["$connect", "sendMessage"]
[[apis]]
id = "rest111111"
[[apis.stages]]
name = "prod"
routes = ["ANY /{proxy+}", "GET /pets/{id}"]
throttle = { rate = 5, burst = 5 }
"#,
    )
    .unwrap();
    gwstat()
        .args(["gateway", "check"])
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "api ws44444444 (Websocket) chat\n",
        ))
        .stdout(predicate::str::contains(
            "stage ws44444444:prod (Websocket)",
        ))
        .stdout(predicate::str::contains("  $connect: account\n"))
        .stdout(predicate::str::contains("  sendMessage: account\n"))
        .stdout(predicate::str::contains(
            "  ANY /{proxy+}: stage-default → account\n",
        ));
}
