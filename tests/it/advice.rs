//! Advice that can be pasted (`limits suggest`, `replay`): current → proposed values, the
//! 429s after each change as a real replay with it gives them, `--set` echoes, a sweep's
//! one-sentence conclusion, and the gateway.toml lines and AWS CLI commands that apply it.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

const SAMPLE: &str = "sample-logs/rest-api-json-custom.log";
const CONFIG: &str = "sample-logs/gateway.toml";

/// Splits a command line as a POSIX shell would (single quotes and plain words only, which
/// is all the advice uses).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            c => {
                assert!(!"\"$`*?{}[]|&;<>()".contains(c), "unquoted {c:?} in {line}");
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Checks an `aws apigateway …` command's shape: the command, its required options, and
/// each patch operation `op=replace,path=…,value=N` with a path of the right form.
fn assert_aws_shape(line: &str) {
    let words = shell_words(line);
    assert_eq!(words[0], "aws", "{line}");
    let patch_ops: Vec<&String> = words
        .iter()
        .skip_while(|w| *w != "--patch-operations")
        .skip(1)
        .collect();
    let path_ok = |path: &str| match words[2].as_str() {
        "update-usage-plan" => [
            "/throttle/rateLimit",
            "/throttle/burstLimit",
            "/quota/limit",
        ]
        .contains(&path),
        "update-stage" => {
            let parts: Vec<&str> = path.split('/').collect();
            parts.len() == 5
                && parts[0].is_empty()
                && (parts[1] == "*" || parts[1].starts_with("~1"))
                && !parts[1].contains('/')
                && (parts[2] == "*" || parts[2].chars().all(|c| c.is_ascii_uppercase()))
                && parts[3] == "throttling"
                && ["rateLimit", "burstLimit"].contains(&parts[4])
        }
        _ => false,
    };
    match (words[1].as_str(), words[2].as_str()) {
        ("apigateway", "update-usage-plan") => {
            assert_eq!(words[3], "--usage-plan-id", "{line}");
        }
        ("apigateway", "update-stage") => {
            assert_eq!(words[3], "--rest-api-id", "{line}");
            assert_eq!(words[5], "--stage-name", "{line}");
        }
        _ => panic!("unexpected command {line}"),
    }
    assert!(!patch_ops.is_empty(), "{line}");
    for op in patch_ops {
        let fields: Vec<&str> = op.split(',').collect();
        assert_eq!(fields.len(), 3, "{op}");
        assert_eq!(fields[0], "op=replace", "{op}");
        let path = fields[1].strip_prefix("path=").unwrap();
        assert!(path_ok(path), "bad path {path} in {line}");
        let value = fields[2].strip_prefix("value=").unwrap();
        assert!(value.parse::<f64>().is_ok(), "{op}");
    }
}

/// The toml lines load as a gateway configuration of their own.
fn assert_toml_loads(lines: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, lines).unwrap();
    gwstat()
        .args(["gateway", "check"])
        .arg(&file)
        .assert()
        .success();
}

/// Predicted 429s of `gwstat replay` on `log` with `sets` applied.
fn replayed_429(log: &str, config: &str, extra: &[&str], sets: &[Value]) -> u64 {
    let mut cmd = gwstat();
    cmd.args(["replay", log, "--gateway", config, "--format", "json", "-q"])
        .args(extra);
    for set in sets {
        cmd.args(["--set", set.as_str().unwrap()]);
    }
    json_of(&mut cmd)["totals"]["predicted_429"]
        .as_u64()
        .unwrap()
}

#[test]
fn limits_suggest_advises_the_noisy_keys_usage_plan_not_a_stage_raise() {
    let out = json_of(gwstat().args([
        "limits",
        "suggest",
        SAMPLE,
        "--gateway",
        CONFIG,
        "--format",
        "json",
        "-q",
    ]));
    let advice = &out["advice"];
    assert_eq!(advice["predicted_429_now"], 2464);
    assert_eq!(advice["predicted_429_after_all"], 0);
    let items = advice["advice"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:#?}");
    // Every refusal is key burst4r8qz's, in usage plan partner: no stage or method raise.
    assert!(items.iter().all(|a| a["target"] == "partner"), "{items:#?}");
    let throttle = &items[0];
    assert_eq!(throttle["level"], "usage_plan");
    assert_eq!(throttle["api_key"], "burst4r8qz");
    assert_eq!(throttle["refused_now"], 2157);
    assert_eq!(throttle["current"]["rate"], 10);
    assert_eq!(throttle["current"]["burst"], 20);
    assert_eq!(throttle["proposed"]["rate"], 50);
    assert_eq!(throttle["proposed"]["burst"], 20);
    // Alone, the raise moves the refusals to the quota.
    assert_eq!(throttle["predicted_429_after"], 2464);
    assert_eq!(throttle["after_by_level"]["quota"], 2464);
    let quota = &items[1];
    assert_eq!(quota["level"], "quota");
    assert_eq!(quota["current"]["quota"], 850);
    assert_eq!(quota["proposed"]["quota"], 3977);
    assert_eq!(quota["predicted_429_after"], 2157);
    for a in items {
        // The expected 429s are what a replay with the change gives.
        assert_eq!(
            replayed_429(SAMPLE, CONFIG, &[], a["set"].as_array().unwrap()),
            a["predicted_429_after"].as_u64().unwrap()
        );
        assert_aws_shape(a["aws_cli"].as_str().unwrap());
        assert_toml_loads(a["gateway_toml"].as_str().unwrap());
    }
    let all: Vec<Value> = items
        .iter()
        .flat_map(|a| a["set"].as_array().unwrap().clone())
        .collect();
    assert_eq!(replayed_429(SAMPLE, CONFIG, &[], &all), 0);
    // The suggestion table names the limit in force.
    let key = out["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "burst4r8qz")
        .unwrap();
    assert_eq!(key["current_level"], "usage_plan:partner");
    assert_eq!(key["current"]["rate"], 10);
}

#[test]
fn limits_suggest_prints_the_advice_ready_to_paste() {
    gwstat()
        .args(["limits", "suggest", SAMPLE, "--gateway", CONFIG, "-q", "--top", "2"])
        // No width limit: each command on one line, as compared below.
        .args(["--width", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1. usage plan partner: rate 10, burst 20 → rate 50, burst 20",
        ))
        .stdout(predicate::str::contains(
            "429s: 2464 now → 2464 after this change (quota 307 → 2464, usage-plan 2157 → 0)",
        ))
        .stdout(predicate::str::contains(
            "aws apigateway update-usage-plan --usage-plan-id partner --patch-operations op=replace,path=/quota/limit,value=3977",
        ))
        .stdout(predicate::str::contains(
            "Applying the 2 changes takes the predicted 429s from 2464 to 0.",
        ));
}

/// One REST access-log line (custom JSON) of a GET that succeeded.
fn line(n: u32, epoch_ms: u64, resource: &str, key: &str) -> String {
    format!(
        r#"{{"requestId":"r{n}","requestTime":"24/Nov/2026:10:00:00 +0000","requestTimeEpoch":"{epoch_ms}","httpMethod":"GET","resourcePath":"{resource}","path":"/prod{resource}","status":"200","protocol":"HTTP/1.1","responseLength":"10","responseLatency":"20","integrationLatency":"15","integrationStatus":"200","error.message":"-","error.responseType":"-","identity.apiKeyId":"{key}","stage":"prod"}}"#
    ) + "\n"
}

const ONE_API: &str = r#"
[[apis]]
id = "a1b2c3d4e5"
[[apis.stages]]
name = "prod"
throttle = { rate = 5, burst = 5 }
[apis.stages.methods."/pets/{id}/GET"]
throttle = { rate = 2, burst = 2 }
"#;

#[test]
fn stage_and_method_advice_names_the_api_stage_and_the_escaped_resource_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, ONE_API).unwrap();
    let log = dir.path().join("access.log");
    // 3 seconds of 10 GET /pets and 4 GET /pets/{id} each, spread over the second.
    let mut text = String::new();
    let mut n = 0;
    for second in 0..3u64 {
        for i in 0..10u64 {
            n += 1;
            text += &line(n, 1_795_000_000_000 + second * 1000 + i * 100, "/pets", "-");
        }
        for i in 0..4u64 {
            n += 1;
            text += &line(
                n,
                1_795_000_000_000 + second * 1000 + i * 250,
                "/pets/{id}",
                "-",
            );
        }
    }
    std::fs::write(&log, text).unwrap();
    let (log, config) = (log.to_str().unwrap(), config.to_str().unwrap());
    let out = json_of(gwstat().args([
        "limits",
        "suggest",
        log,
        "--gateway",
        config,
        "--api",
        "a1b2c3d4e5",
        "--format",
        "json",
        "-q",
        "--percentile",
        "100",
        "--headroom",
        "0",
    ]));
    let items = out["advice"]["advice"].as_array().unwrap();
    let stage = items.iter().find(|a| a["level"] == "stage").unwrap();
    assert_eq!(stage["target"], "a1b2c3d4e5:prod");
    assert_eq!(stage["proposed"]["rate"], 10);
    assert_eq!(
        stage["aws_cli"],
        "aws apigateway update-stage --rest-api-id a1b2c3d4e5 --stage-name prod --patch-operations 'op=replace,path=/*/*/throttling/rateLimit,value=10' 'op=replace,path=/*/*/throttling/burstLimit,value=5'"
    );
    let method = items.iter().find(|a| a["level"] == "method").unwrap();
    assert_eq!(method["target"], "a1b2c3d4e5:prod GET /pets/{id}");
    assert_eq!(method["current"]["rate"], 2);
    assert_eq!(method["proposed"]["rate"], 4);
    assert!(method["aws_cli"]
        .as_str()
        .unwrap()
        .contains("'op=replace,path=/~1pets~1{id}/GET/throttling/rateLimit,value=4'"));
    assert!(method["gateway_toml"]
        .as_str()
        .unwrap()
        .contains("[apis.stages.methods.\"/pets/{id}/GET\"]\nthrottle = { rate = 4, burst = 2 }"));
    for a in items {
        assert_eq!(a["note"], Value::Null, "the API id is known: {a:#}");
        assert_aws_shape(a["aws_cli"].as_str().unwrap());
        assert_toml_loads(a["gateway_toml"].as_str().unwrap());
        assert_eq!(
            replayed_429(
                log,
                config,
                &["--api", "a1b2c3d4e5"],
                a["set"].as_array().unwrap()
            ),
            a["predicted_429_after"].as_u64().unwrap()
        );
    }
    assert_eq!(out["advice"]["predicted_429_after_all"], 0);
}

#[test]
fn replay_echoes_its_set_changes_and_advises() {
    gwstat()
        .args([
            "replay", SAMPLE, "--gateway", CONFIG, "-q", "--top", "2", "--set",
            "usage_plan.partner.rate=50", "--set", "stage.prod.burst=300",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "Changed by --set before replaying:\n  usage_plan.partner.rate: 10 → 50\n  stage.prod.burst: 200 → 300\n",
        ))
        .stdout(predicate::str::contains("1. quota partner: quota 850 → quota 3977"));
    let out = json_of(gwstat().args([
        "replay",
        SAMPLE,
        "--gateway",
        CONFIG,
        "-q",
        "--format",
        "json",
        "--set",
        "usage_plan.partner.rate=50",
    ]));
    assert_eq!(
        out["settings_changed"][0]["path"],
        "usage_plan.partner.rate"
    );
    assert_eq!(out["settings_changed"][0]["before"], "10");
    assert_eq!(out["settings_changed"][0]["after"], "50");
    assert_eq!(out["advice"]["predicted_429_now"], 2464);
    assert_eq!(out["advice"]["advice"][0]["predicted_429_after"], 0);
}

#[test]
fn a_sweep_ends_with_its_conclusion() {
    let out = json_of(gwstat().args([
        "replay",
        SAMPLE,
        "--gateway",
        CONFIG,
        "-q",
        "--format",
        "json",
        "--sweep",
        "usage_plan.partner.quota=1000..5000:1000",
    ]));
    assert_eq!(
        out["conclusion"],
        "usage_plan.partner.quota = 2000 is the smallest value with the fewest predicted 429s (2157; log: 2464, 2314 at 1000); larger values change nothing more."
    );
    gwstat()
        .args([
            "replay", SAMPLE, "--gateway", CONFIG, "-q", "--sweep",
            "usage_plan.partner.rate=10..30:10", "--width", "0",
        ])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "Every value of usage_plan.partner.rate from 10 to 30 predicts the same 2464 429s (log: 2464): on its own, changing it does not reduce the 429s (another limit refuses what it would admit, or it is not the limit these requests meet).\n",
        ));
}
