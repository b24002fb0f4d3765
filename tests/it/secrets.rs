//! Secrets: API keys, Authorization headers and client IPs never leak through `--redact`
//! outputs or gwstat's own messages.

use crate::common::gwstat;

/// The API key ids of the sample gateway.toml.
fn key_ids() -> Vec<String> {
    let toml =
        std::fs::read_to_string(crate::common::root().join("sample-logs/gateway.toml")).unwrap();
    toml.lines()
        .filter(|l| {
            l.trim_start().starts_with("id = ") && !l.contains("standard") && !l.contains("partner")
        })
        .map(|l| l.split('"').nth(1).unwrap().to_string())
        .collect()
}

fn stdout(args: &[&str]) -> String {
    let out = gwstat().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn redacted_reports_name_no_key_in_any_format() {
    let keys = key_ids();
    assert!(keys.len() >= 4, "{keys:?}");
    let log = "sample-logs/rest-api-json-custom.log";
    // Without --redact the keys are there (so the check below means something).
    let plain = stdout(&["report", log, "-q", "--format", "json"]);
    assert!(keys.iter().any(|k| plain.contains(k.as_str())));
    for format in ["table", "json", "csv", "markdown", "html"] {
        let text = stdout(&["report", log, "-q", "--redact", "--format", format]);
        for k in &keys {
            assert!(
                !text.contains(k.as_str()),
                "{k} in --redact --format {format}"
            );
        }
        assert!(text.contains("key-"), "no pseudonym in {format}");
    }
    let gateway = "sample-logs/gateway.toml";
    for args in [
        vec![
            "replay",
            log,
            "--gateway",
            gateway,
            "-q",
            "--redact",
            "--format",
            "json",
        ],
        vec!["limits", "suggest", log, "-q", "--redact"],
    ] {
        let text = stdout(&args);
        for k in &keys {
            assert!(!text.contains(k.as_str()), "{k} in {args:?}");
        }
    }
}

#[test]
fn redacted_explain_masks_ips_and_keys() {
    let log =
        std::fs::read_to_string(crate::common::root().join("sample-logs/rest-api-json-custom.log"))
            .unwrap();
    let line = log
        .lines()
        .find(|l| {
            l.contains("\"status\":\"504\"") && l.contains("identity.apiKeyId\":\"p0lk4ju6hy")
        })
        .or_else(|| log.lines().find(|l| l.contains("\"status\":\"504\"")))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let id = v["requestId"].as_str().unwrap();
    let key = v["identity.apiKeyId"].as_str().unwrap();
    let plain = stdout(&["explain", id, "sample-logs/", "-q"]);
    assert!(plain.contains(key));
    let text = stdout(&["explain", id, "sample-logs/", "-q", "--redact"]);
    assert!(!text.contains(key), "{text}");
    // The execution log's own masking keeps the key's last characters: masked too.
    assert!(!text.contains(&key[key.len() - 6..]), "{text}");
    assert!(text.contains("api key: key-"), "{text}");
}

#[test]
fn header_values_are_never_echoed_in_errors() {
    let out = gwstat()
        .args([
            "replay",
            "sample-logs/rest-api-json-custom.log",
            "--target",
            "http://127.0.0.1:9",
            "--header",
            "authorization Bearer sekrit-token-123",
            "--max-requests",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("--header: expected NAME: VALUE"), "{all}");
    assert!(!all.contains("sekrit"), "{all}");
}
