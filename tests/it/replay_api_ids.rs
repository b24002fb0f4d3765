//! `gwstat replay` matching access logs to APIs by the `apiId` they carry
//! (`$context.apiId`), by `--api` / `--api-log` when they do not.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::account_model::{three_apis, Model, KEYS, TARGETS};
use crate::common::{gwstat, json_of};

const APIS: [&str; 3] = ["pets000001", "orders0002", "web0000003"];

fn replay(args: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("replay")
            .args(args)
            .args(["--format", "json", "-q"]),
    )
}

/// One REST custom-JSON access-log line, with `"apiId"` when `api` is given.
fn line(
    id: &str,
    epoch_ms: u64,
    target: (&str, &str, &str, &str),
    key: Option<&str>,
    api: Option<&str>,
) -> String {
    let (_, stage, method, resource) = target;
    let api = api.map_or(String::new(), |a| format!(r#","apiId":"{a}""#));
    format!(
        r#"{{"requestId":"{id}","requestTimeEpoch":"{epoch_ms}","httpMethod":"{method}","resourcePath":"{resource}","status":"200","responseLatency":"20","integrationLatency":"15","identity.apiKeyId":"{}","stage":"{stage}"{api}}}"#,
        key.unwrap_or("-")
    ) + "\n"
}

/// 2,000 requests of the three APIs (two share the stage name `prod`), from a fixed linear
/// congruential sequence: `(api index, time, request id, target, key)`, in time order.
type Planned = (
    usize,
    u64,
    String,
    (&'static str, &'static str, &'static str, &'static str),
    Option<&'static str>,
);

fn traffic() -> Vec<Planned> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let mut now = 1_795_514_400_000u64;
    (0..2000)
        .map(|i| {
            // Distinct times: the replay order is then the same however the logs are split.
            now += 1 + next(150);
            let target = TARGETS[next(TARGETS.len() as u64) as usize];
            let key = KEYS[next(KEYS.len() as u64) as usize];
            let api = APIS.iter().position(|a| *a == target.0).unwrap();
            (api, now, format!("r{i}"), target, key)
        })
        .collect()
}

/// Predicted status per request id, from a `--verdicts` file.
fn verdicts(path: &std::path::Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["requestId"].as_str().unwrap().to_string(),
                v["predicted_status"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_mixed_log_with_api_ids_replays_as_the_per_api_logs_do() {
    let dir = tempfile::tempdir().unwrap();
    let (model_config, toml) = three_apis([5, 4, 5, 4, 3, 2, 8, 6, 4, 6]);
    let config = dir.path().join("account.toml");
    std::fs::write(&config, toml).unwrap();
    let config = config.to_str().unwrap();
    let planned = traffic();

    // One log of every API's requests, each line carrying its apiId.
    let mixed = dir.path().join("mixed.log");
    let text: String = planned
        .iter()
        .map(|(api, now, id, target, key)| line(id, *now, *target, *key, Some(APIS[*api])))
        .collect();
    std::fs::write(&mixed, text).unwrap();
    // The same requests as one log per API without apiId, named by --api / --api-log.
    let per_api: Vec<String> = (0..3)
        .map(|i| {
            let path = dir.path().join(format!("{}.log", APIS[i]));
            let text: String = planned
                .iter()
                .filter(|p| p.0 == i)
                .map(|(_, now, id, target, key)| line(id, *now, *target, *key, None))
                .collect();
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();

    let mixed_verdicts = dir.path().join("mixed.ndjson");
    let by_id = replay(&[
        mixed.to_str().unwrap(),
        "--gateway",
        config,
        "--verdicts",
        mixed_verdicts.to_str().unwrap(),
    ]);
    let split_verdicts = dir.path().join("split.ndjson");
    let by_flag = replay(&[
        &per_api[0],
        "--gateway",
        config,
        "--api",
        APIS[0],
        "--api-log",
        &format!("{}={}", APIS[1], per_api[1]),
        "--api-log",
        &format!("{}={}", APIS[2], per_api[2]),
        "--verdicts",
        split_verdicts.to_str().unwrap(),
    ]);
    assert_eq!(by_id["totals"]["requests"], 2000);
    assert_eq!(by_id["totals"], by_flag["totals"]);
    assert_eq!(by_id["by_level"], by_flag["by_level"]);
    let (by_line, split) = (verdicts(&mixed_verdicts), verdicts(&split_verdicts));
    assert_eq!(by_line.len(), 2000);
    assert_eq!(by_line, split);
    // And both are the independent model's verdicts.
    let mut model = Model::new(model_config);
    let mut statuses = BTreeMap::<u64, u64>::new();
    for (_, now, id, (api, stage, method, resource), key) in &planned {
        let expected = model
            .request(api, stage, method, resource, *key, *now)
            .status();
        assert_eq!(by_line[id], u64::from(expected), "{id}");
        *statuses.entry(by_line[id]).or_default() += 1;
    }
    // The test means something: requests of every kind of verdict.
    for status in [200, 403, 429] {
        assert!(
            statuses.get(&status).copied().unwrap_or(0) > 20,
            "{statuses:?}"
        );
    }

    // A line's own apiId wins over --api (which is for logs that do not carry one).
    let overridden = replay(&[
        mixed.to_str().unwrap(),
        "--gateway",
        config,
        "--api",
        APIS[2],
    ]);
    assert_eq!(overridden["totals"], by_id["totals"]);
}

#[test]
fn requests_of_an_api_not_in_the_configuration_are_counted_and_take_account_tokens() {
    let dir = tempfile::tempdir().unwrap();
    // Account: 5 rps, burst 4.
    let (_, toml) = three_apis([5, 4, 5, 4, 3, 2, 8, 6, 4, 6]);
    let config = dir.path().join("account.toml");
    std::fs::write(&config, toml).unwrap();
    let t0 = 1_795_514_400_000u64;
    let pets = ("pets000001", "prod", "GET", "/pets");
    // Three requests of an API the file does not have, then two of pets at the same
    // millisecond: the account's burst of 4 leaves one of them refused.
    let mut text = String::new();
    for i in 0..3 {
        text += &line(&format!("x{i}"), t0, pets, Some("key1"), Some("zzzz999999"));
    }
    for i in 0..2 {
        text += &line(
            &format!("p{i}"),
            t0 + 1,
            pets,
            Some("key1"),
            Some("pets000001"),
        );
    }
    let log = dir.path().join("mixed.log");
    std::fs::write(&log, text).unwrap();
    let report = replay(&[log.to_str().unwrap(), "--gateway", config.to_str().unwrap()]);
    assert_eq!(report["totals"]["requests"], 2, "{report}");
    assert_eq!(report["totals"]["unknown_api_requests"], 3);
    assert_eq!(report["totals"]["unknown_api_refused"], 0);
    assert_eq!(report["unknown_apis"][0]["api_id"], "zzzz999999");
    assert_eq!(report["unknown_apis"][0]["requests"], 3);
    assert_eq!(report["totals"]["predicted_429"], 1, "{report}");
    // The table says so too.
    let table = gwstat()
        .args([
            "replay",
            log.to_str().unwrap(),
            "--gateway",
            config.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("3 requests of APIs not in the configuration")
            && table.contains("zzzz999999 (3)"),
        "{table}"
    );
}
