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
        let report = json(&[file, "--gateway", CONFIG]);
        let t = &report["totals"];
        assert_eq!(t["observed_429"], t["predicted_429"], "{file}");
        assert_eq!(t["observed_quota"], t["predicted_quota"], "{file}");
        assert_eq!(t["observed_timeouts"], t["predicted_timeouts"], "{file}");
        assert_eq!(t["agreement_429"], 1.0, "{file}");
        assert_eq!(report["confusion_429"]["fp"], 0);
        assert_eq!(report["confusion_429"]["fn"], 0);
    }
    let report = json(&[SAMPLE, "--gateway", CONFIG]);
    assert!(report["totals"]["observed_429"].as_u64().unwrap() > 1000);
    assert!(report["worst_seconds"].as_array().unwrap().is_empty());
}

#[test]
fn verdicts_are_one_json_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let verdicts = dir.path().join("v.ndjson");
    let report = json(&[
        SAMPLE,
        "--gateway",
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
    assert_eq!(json(&[l, "--gateway", c])["totals"]["predicted_429"], 0);
    // Burst 2, rate 2: the third request at 0 ms is refused; at 400 ms 0.8 tokens: refused.
    let tight = json(&[
        l,
        "--gateway",
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
        "--gateway",
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
        "--gateway",
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
    let report = json(&[SAMPLE, "--gateway", stage.to_str().unwrap()]);
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
            "--gateway",
            CONFIG,
            "--set",
            "stage.nowhere.rate=5",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no such stage"));
    let dropped = json(&[SAMPLE, "--gateway", CONFIG, "--drop-retries"]);
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

#[test]
fn limits_suggest_names_api_stages_when_the_api_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, TWO_APIS).unwrap();
    let t0 = 1_795_514_400_000u64;
    let log = dir.path().join("a.log");
    let lines: String = (0..20)
        .map(|i| access_line(t0 + i * 100, i as u32))
        .collect();
    std::fs::write(&log, lines).unwrap();
    let report: Value = json_of(
        gwstat()
            .args([
                "limits",
                "suggest",
                log.to_str().unwrap(),
                "--format",
                "json",
                "-q",
            ])
            .args(["--gateway", config.to_str().unwrap(), "--api", "bbbb222222"]),
    );
    let stage = report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "stage")
        .unwrap();
    assert_eq!(stage["name"], "bbbb222222:prod");
    // The suggestion was proven on that API's stage (the --set applied).
    assert!(stage["replay_429"].is_u64(), "{stage}");
    assert!(stage["set"]
        .as_str()
        .unwrap()
        .contains("stage.bbbb222222:prod.rate="));
}

/// Two REST APIs with a `prod` stage each, in an account of 1 rps with a burst of 3.
const TWO_APIS: &str = r#"
[account]
rate = 1
burst = 3
[[apis]]
id = "aaaa111111"
[[apis.stages]]
name = "prod"
[[apis]]
id = "bbbb222222"
[[apis.stages]]
name = "prod"
"#;

fn access_line(epoch_ms: u64, n: u32) -> String {
    format!(
        r#"{{"requestId":"r-{epoch_ms}-{n}","requestTime":"24/Nov/2026:10:00:00 +0000","requestTimeEpoch":"{epoch_ms}","httpMethod":"GET","resourcePath":"/pets","path":"/prod/pets","status":"200","protocol":"HTTP/1.1","responseLength":"10","responseLatency":"20","integrationLatency":"15","integrationStatus":"200","error.message":"-","error.responseType":"-","identity.apiKeyId":"-","stage":"prod"}}"#
    ) + "\n"
}

#[test]
fn several_apis_logs_share_the_account_bucket_and_background_traffic_takes_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, TWO_APIS).unwrap();
    let t0 = 1_795_514_400_000u64;
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    std::fs::write(&a, access_line(t0 + 10, 1) + &access_line(t0 + 10, 2)).unwrap();
    std::fs::write(&b, access_line(t0, 1) + &access_line(t0, 2)).unwrap();
    let (a, b, config) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        config.to_str().unwrap(),
    );
    let alone = json(&[a, "--gateway", config, "--api", "aaaa111111"]);
    assert_eq!(alone["totals"]["predicted_429"], 0);
    // B's two requests come first and share the account's burst of 3 with A's two.
    let api_log = format!("bbbb222222={b}");
    let together = json(&[
        a,
        "--gateway",
        config,
        "--api",
        "aaaa111111",
        "--api-log",
        &api_log,
    ]);
    assert_eq!(together["totals"]["requests"], 4);
    assert_eq!(together["totals"]["predicted_429"], 1);
    // 1,000 rps of other traffic from A's first request on: 11 requests by +10 ms drain it.
    let background = json(&[
        a,
        "--gateway",
        config,
        "--api",
        "aaaa111111",
        "--account-background",
        "1000",
    ]);
    assert_eq!(background["totals"]["predicted_429"], 0);
    // Starting with A's own first request, the background cannot pre-empt it: use B's log
    // (10 ms earlier) as the replayed input and A's as the other API's.
    let a_log = format!("aaaa111111={a}");
    let drained = json(&[
        b,
        "--gateway",
        config,
        "--api",
        "bbbb222222",
        "--api-log",
        &a_log,
        "--account-background",
        "1000",
    ]);
    assert_eq!(drained["totals"]["background_requests"], 11);
    assert_eq!(drained["totals"]["predicted_429"], 2);
    gwstat()
        .args(["replay", a, "--gateway", config, "-q"])
        .args(["--api-log", "zzzz=x.log"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not in the configuration"));
}

/// One access-log line (REST custom JSON) of a request.
fn line_of(
    id: &str,
    epoch_ms: u64,
    method: &str,
    resource: &str,
    stage: &str,
    key: Option<&str>,
) -> String {
    format!(
        r#"{{"requestId":"{id}","requestTime":"24/Nov/2026:10:00:00 +0000","requestTimeEpoch":"{epoch_ms}","httpMethod":"{method}","resourcePath":"{resource}","path":"/{stage}{resource}","status":"200","protocol":"HTTP/1.1","responseLength":"10","responseLatency":"20","integrationLatency":"15","integrationStatus":"200","error.message":"-","error.responseType":"-","identity.apiKeyId":"{}","stage":"{stage}"}}"#,
        key.unwrap_or("-")
    ) + "\n"
}

#[test]
fn replay_verdicts_on_a_three_api_account_agree_with_the_documented_model() {
    use crate::account_model::{three_apis, Model, KEYS, TARGETS};
    let dir = tempfile::tempdir().unwrap();
    // An account of 5 rps / burst 4 under ~10 rps of traffic: every level binds somewhere.
    let (model_config, toml) = three_apis([5, 4, 5, 4, 3, 2, 8, 6, 4, 6]);
    let config = dir.path().join("account.toml");
    std::fs::write(&config, toml).unwrap();
    // 3,000 requests over ~5 minutes, from a fixed linear congruential sequence.
    let apis = ["pets000001", "orders0002", "web0000003"];
    let mut logs = vec![String::new(); 3];
    let mut requests = Vec::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let mut now = 1_795_514_400_000u64;
    for i in 0..3000 {
        now += next(200);
        let target = TARGETS[next(TARGETS.len() as u64) as usize];
        let key = KEYS[next(KEYS.len() as u64) as usize];
        let (api, stage, method, resource) = target;
        let file = apis.iter().position(|a| *a == api).unwrap();
        let id = format!("r{i}");
        logs[file].push_str(&line_of(&id, now, method, resource, stage, key));
        requests.push((file, now, id, target, key));
    }
    // Replay order: by time, ties in input order (the positional log, then each --api-log).
    requests.sort_by_key(|(file, now, ..)| (*now, *file));
    let mut model = Model::new(model_config);
    let expected: std::collections::HashMap<String, u16> = requests
        .iter()
        .map(|(_, now, id, (api, stage, method, resource), key)| {
            let verdict = model.request(api, stage, method, resource, *key, *now);
            (id.clone(), verdict.status())
        })
        .collect();
    let paths: Vec<_> = (0..3)
        .map(|i| {
            let path = dir.path().join(format!("{}.log", apis[i]));
            std::fs::write(&path, &logs[i]).unwrap();
            path
        })
        .collect();
    let verdicts = dir.path().join("v.ndjson");
    let report = json(&[
        paths[0].to_str().unwrap(),
        "--gateway",
        config.to_str().unwrap(),
        "--api",
        apis[0],
        "--api-log",
        &format!("{}={}", apis[1], paths[1].display()),
        "--api-log",
        &format!("{}={}", apis[2], paths[2].display()),
        "--verdicts",
        verdicts.to_str().unwrap(),
    ]);
    assert_eq!(report["totals"]["requests"], 3000);
    let text = std::fs::read_to_string(&verdicts).unwrap();
    let mut statuses = std::collections::BTreeMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["requestId"].as_str().unwrap();
        let predicted = v["predicted_status"].as_u64().unwrap() as u16;
        assert_eq!(predicted, expected[id], "{id}: {v}");
        *statuses.entry(predicted).or_insert(0) += 1;
    }
    // The test means something: every kind of verdict occurs.
    for status in [200, 403, 429] {
        assert!(
            statuses.get(&status).copied().unwrap_or(0) > 20,
            "{statuses:?}"
        );
    }
    assert!(
        report["totals"]["predicted_quota"].as_u64().unwrap() > 0,
        "{report}"
    );
    // The shared account bucket binds (a per-API account bucket would disagree).
    let account = report["by_level"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "account")
        .map_or(0, |l| l["refused"].as_u64().unwrap());
    assert!(account > 20, "{report}");
}

#[test]
fn the_old_config_spelling_still_names_the_gateway_file_with_a_warning() {
    let warning = "`replay --config FILE` is deprecated and stops working in the next release: \
                   give the gateway file with --gateway FILE";
    let new = gwstat()
        .args(["replay", SAMPLE, "--gateway", CONFIG, "--format", "json"])
        .output()
        .unwrap();
    assert!(new.status.success());
    assert!(!String::from_utf8_lossy(&new.stderr).contains("deprecated"));
    let old = gwstat()
        .args(["replay", SAMPLE, "--config", CONFIG, "--format", "json"])
        .output()
        .unwrap();
    assert!(old.status.success(), "{old:?}");
    assert!(String::from_utf8_lossy(&old.stderr).contains(warning));
    let totals = |out: &std::process::Output| {
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["totals"].clone()
    };
    assert_eq!(totals(&old), totals(&new));
    // limits suggest takes it too; the help shows only --gateway.
    gwstat()
        .args([
            "limits", "suggest", SAMPLE, "--config", CONFIG, "--top", "1",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "`limits suggest --config FILE` is deprecated",
        ));
    for command in [&["replay"][..], &["limits", "suggest"], &["serve"]] {
        gwstat()
            .args(command)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("--gateway <FILE>"))
            .stdout(predicate::str::contains("--config").not());
    }
}

/// `gwstat replay ARGS --format FORMAT -q` on stdout.
fn replay_output(args: &[&str], format: &str) -> String {
    let out = gwstat()
        .arg("replay")
        .args(args)
        .args(["--format", format, "-q"])
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// CSV rows `section,key,group,metric,value` of a replay, as `(section, key, metric) → value`
/// (the group column is checked separately where it matters).
fn csv_rows(text: &str) -> Vec<[String; 5]> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["section", "key", "group", "metric", "value"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            std::array::from_fn(|i| r[i].to_string())
        })
        .collect()
}

fn csv_value<'a>(rows: &'a [[String; 5]], section: &str, key: &str, metric: &str) -> &'a str {
    let found: Vec<&[String; 5]> = rows
        .iter()
        .filter(|r| r[0] == section && r[1] == key && r[3] == metric)
        .collect();
    assert_eq!(found.len(), 1, "{section},{key},{metric}: {found:?}");
    &found[0][4]
}

/// A JSON number as the CSV writes it (integers without a fraction).
fn number_text(v: &Value) -> String {
    match v.as_u64() {
        Some(n) => n.to_string(),
        None => v.as_f64().map_or(String::new(), |f| f.to_string()),
    }
}

#[test]
fn replay_csv_has_every_number_of_the_json() {
    let args = [
        SAMPLE,
        "--gateway",
        CONFIG,
        "--top",
        "3",
        "--set",
        "stage.prod.burst=300",
    ];
    let report = json(&args);
    let rows = csv_rows(&replay_output(&args, "csv"));
    for (metric, value) in report["totals"].as_object().unwrap() {
        assert_eq!(
            csv_value(&rows, "totals", "", metric),
            number_text(value),
            "totals.{metric}"
        );
    }
    for (metric, value) in report["confusion_429"].as_object().unwrap() {
        assert_eq!(
            csv_value(&rows, "confusion_429", "", metric),
            number_text(value),
            "confusion_429.{metric}"
        );
    }
    let routes = report["by_route"].as_array().unwrap();
    assert_eq!(routes.len(), 3);
    for r in routes {
        let route = r["route"].as_str().unwrap();
        for metric in ["requests", "observed_429", "predicted_429"] {
            assert_eq!(
                csv_value(&rows, "by_route", route, metric),
                number_text(&r[metric]),
                "{route} {metric}"
            );
        }
    }
    for k in report["by_api_key"].as_array().unwrap() {
        let key = k["api_key"].as_str().unwrap_or("");
        assert_eq!(
            csv_value(&rows, "by_api_key", key, "predicted_429"),
            number_text(&k["predicted_429"])
        );
    }
    for l in report["by_level"].as_array().unwrap() {
        let level = l["level"].as_str().unwrap();
        assert_eq!(
            csv_value(&rows, "by_level", level, "refused"),
            number_text(&l["refused"])
        );
    }
    let bins = report["timeline"]["bins"].as_array().unwrap();
    let observed: u64 = bins
        .iter()
        .map(|b| b["observed_429"].as_u64().unwrap())
        .sum();
    let csv_observed: u64 = rows
        .iter()
        .filter(|r| r[0] == "timeline" && r[3] == "observed_429")
        .map(|r| r[4].parse::<u64>().unwrap())
        .sum();
    assert_eq!(csv_observed, observed);
    assert_eq!(observed, report["totals"]["observed_429"].as_u64().unwrap());
    assert_eq!(
        csv_value(&rows, "settings_changed", "stage.prod.burst", "after"),
        "300"
    );
    let advice = &report["advice"];
    assert_eq!(
        csv_value(&rows, "advice", "", "predicted_429_after_all"),
        number_text(&advice["predicted_429_after_all"])
    );
    for a in advice["advice"].as_array().unwrap() {
        let key = format!(
            "{} {}",
            a["level"].as_str().unwrap(),
            a["target"].as_str().unwrap()
        );
        assert_eq!(
            csv_value(&rows, "advice", &key, "predicted_429_after"),
            number_text(&a["predicted_429_after"])
        );
    }
}

/// The rows of the Markdown table under `## title`: cells trimmed, header first.
fn markdown_table(text: &str, title: &str) -> Vec<Vec<String>> {
    let start = text
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title:?} in\n{text}"));
    text[start..]
        .lines()
        .skip(3)
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("|-"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn replay_markdown_tables_carry_the_jsons_numbers() {
    let args = [
        SAMPLE,
        "--gateway",
        CONFIG,
        "--top",
        "3",
        "--set",
        "stage.prod.burst=300",
    ];
    let report = json(&args);
    let text = replay_output(&args, "markdown");
    assert!(text.starts_with("# gwstat replay\n"), "{text}");
    let changes = markdown_table(&text, "Changed by --set before replaying");
    assert_eq!(changes[1], vec!["stage.prod.burst", "200", "300"]);
    let totals = markdown_table(&text, "Replay");
    let t = &report["totals"];
    for (label, observed, predicted) in [
        ("requests", "requests", "requests"),
        ("429 (all causes)", "observed_429", "predicted_429"),
        ("429 quota exceeded", "observed_quota", "predicted_quota"),
        ("cache hits", "observed_cache_hits", "predicted_cache_hits"),
        (
            "integration timeouts",
            "observed_timeouts",
            "predicted_timeouts",
        ),
    ] {
        let row = totals.iter().find(|r| r[0] == label).unwrap();
        assert_eq!(row[1], number_text(&t[observed]), "{label}");
        assert_eq!(row[2], number_text(&t[predicted]), "{label}");
    }
    let routes = markdown_table(&text, "By route");
    assert_eq!(
        routes[0],
        vec!["route", "requests", "observed 429", "predicted 429"]
    );
    let json_routes = report["by_route"].as_array().unwrap();
    assert_eq!(routes.len() - 1, json_routes.len());
    for (row, r) in routes[1..].iter().zip(json_routes) {
        assert_eq!(row[0], r["route"].as_str().unwrap());
        assert_eq!(row[1], number_text(&r["requests"]));
        assert_eq!(row[2], number_text(&r["observed_429"]));
        assert_eq!(row[3], number_text(&r["predicted_429"]));
    }
    let advice = markdown_table(&text, "Advice");
    assert_eq!(
        advice.len() - 1,
        report["advice"]["advice"].as_array().unwrap().len()
    );
}

#[test]
fn a_sweep_in_csv_markdown_and_html_has_the_jsons_rows() {
    let args = [
        SAMPLE,
        "--gateway",
        CONFIG,
        "--sweep",
        "usage_plan.partner.rate=5..20:5",
    ];
    let sweep = json(&args);
    let json_rows = sweep["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), 4);
    let rows = csv_rows(&replay_output(&args, "csv"));
    for r in json_rows {
        let value = r["value"].as_str().unwrap();
        for metric in [
            "predicted_429",
            "predicted_quota",
            "predicted_cache_hits",
            "observed_429",
            "agreement_429",
        ] {
            assert_eq!(
                csv_value(&rows, "sweep", value, metric),
                number_text(&r[metric]),
                "{value} {metric}"
            );
        }
    }
    assert!(rows
        .iter()
        .filter(|r| r[0] == "sweep")
        .all(|r| r[2] == "usage_plan.partner.rate"));
    assert_eq!(
        csv_value(&rows, "conclusion", "", "text"),
        sweep["conclusion"].as_str().unwrap()
    );

    let text = replay_output(&args, "markdown");
    let table = markdown_table(&text, "What-if sweep over usage_plan.partner.rate");
    for (row, r) in table[1..].iter().zip(json_rows) {
        assert_eq!(row[0], r["value"].as_str().unwrap());
        assert_eq!(row[1], number_text(&r["predicted_429"]));
        assert_eq!(row[2], number_text(&r["predicted_quota"]));
    }
    assert!(
        text.contains(sweep["conclusion"].as_str().unwrap()),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("sweep.html");
    gwstat()
        .arg("replay")
        .args(args)
        .args(["--format", "html", "-q", "-o"])
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("429s predicted per value of usage_plan.partner.rate"));
    assert!(html.contains("<h2>What-if sweep over usage_plan.partner.rate"));
}

#[test]
fn strict_replay_fails_on_lines_it_could_not_decode_but_writes_the_report() {
    // The sample log holds 4 lines that are not requests, on purpose.
    let out = gwstat()
        .args(["replay", SAMPLE, "--gateway", CONFIG, "--strict"])
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--strict: 4 log line(s) unusable"),
        "{stderr}"
    );
    let rows = csv_rows(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(csv_value(&rows, "totals", "", "requests"), "7777");
    gwstat()
        .args([
            "replay",
            SAMPLE,
            "--gateway",
            CONFIG,
            "-q",
            "--format",
            "csv",
        ])
        .assert()
        .success();
}

#[test]
fn limits_suggest_csv_has_the_jsons_suggestions() {
    let run = |format: &str| {
        let out = gwstat()
            .args([
                "limits",
                "suggest",
                SAMPLE,
                "--gateway",
                CONFIG,
                "-q",
                "--top",
                "3",
            ])
            .args(["--format", format])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let report: Value = serde_json::from_str(&run("json")).unwrap();
    let rows = csv_rows(&run("csv"));
    let suggestions = report["suggestions"].as_array().unwrap();
    assert!(!suggestions.is_empty());
    for s in suggestions {
        let name = s["name"].as_str().unwrap();
        for metric in ["requests", "rate", "burst", "bucket_429"] {
            let row = rows
                .iter()
                .find(|r| {
                    r[0] == "suggestions"
                        && r[1] == name
                        && r[2] == s["scope"].as_str().unwrap()
                        && r[3] == metric
                })
                .unwrap_or_else(|| panic!("{name} {metric}"));
            assert_eq!(row[4], number_text(&s[metric]), "{name} {metric}");
        }
    }
    assert_eq!(
        csv_value(&rows, "advice", "", "predicted_429_after_all"),
        number_text(&report["advice"]["predicted_429_after_all"])
    );
    assert!(run("markdown").starts_with("# gwstat limits suggest\n"));
}

#[test]
fn an_http_replay_has_csv_and_markdown_too() {
    // Nothing listens on the discard port of this machine: each request fails at once.
    let run = |format: &str| {
        let out = gwstat()
            .args(["replay", SAMPLE, "--target", "http://127.0.0.1:9"])
            .args([
                "--max-requests",
                "3",
                "--speed",
                "100",
                "-q",
                "--format",
                format,
            ])
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let rows = csv_rows(&run("csv"));
    assert_eq!(csv_value(&rows, "http_replay", "", "sent"), "3");
    assert_eq!(csv_value(&rows, "http_replay", "", "failed"), "3");
    let recorded: u64 = rows
        .iter()
        .filter(|r| r[0] == "status" && r[3] == "recorded")
        .map(|r| r[4].parse::<u64>().unwrap())
        .sum();
    assert_eq!(recorded, 3);
    let text = run("markdown");
    assert!(text.starts_with("# gwstat replay --target\n"), "{text}");
    let title = text.lines().find(|l| l.starts_with("## ")).unwrap();
    assert!(
        title.starts_with("## HTTP replay to http://127.0.0.1:9: 3 sent"),
        "{title}"
    );
}
