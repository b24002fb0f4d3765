//! Numbers in JSON and CSV carry what the data does: milliseconds at most 3 decimals, every
//! other number at most 6 (docs/report-schema.md), for every command's outputs on
//! sample-logs. No `472.71000000000004`.

use serde_json::Value;

use crate::common::gwstat;

fn is_ms(name: &str) -> bool {
    name.split('.').any(|p| p.ends_with("_ms") || p == "ms")
}

fn decimals(text: &str) -> usize {
    assert!(!text.contains(['e', 'E']), "exponent in {text}");
    text.split_once('.').map_or(0, |(_, d)| d.len())
}

fn check_value(value: &Value, path: &mut Vec<String>, checked: &mut usize) {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            let ms = path.iter().any(|k| is_ms(k));
            let most = if ms { 3 } else { 6 };
            assert!(
                decimals(&text) <= most,
                "{} = {text}: more than {most} decimals",
                path.join(".")
            );
            *checked += 1;
        }
        Value::Array(items) => items.iter().for_each(|v| check_value(v, path, checked)),
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                check_value(v, path, checked);
                path.pop();
            }
        }
        _ => {}
    }
}

fn stdout(args: &[&str]) -> String {
    let out = gwstat().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "gwstat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check_json(args: &[&str]) -> usize {
    let value: Value = serde_json::from_str(&stdout(args)).unwrap();
    let mut checked = 0;
    check_value(&value, &mut Vec::new(), &mut checked);
    checked
}

fn check_csv(args: &[&str]) -> usize {
    let text = stdout(args);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let metric = headers.iter().position(|h| h == "metric").unwrap();
    let value = headers.iter().position(|h| h == "value").unwrap();
    let mut checked = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let text = &record[value];
        if text.parse::<f64>().is_ok() {
            let most = if is_ms(&record[metric]) { 3 } else { 6 };
            assert!(
                decimals(text) <= most,
                "{}: {text} has more than {most} decimals",
                &record[metric]
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn json_and_csv_numbers_carry_no_float_noise() {
    let log = "sample-logs/rest-api-json-custom.log";
    let gateway = "sample-logs/gateway.toml";
    let mut checked = 0;
    for args in [
        &["report", "sample-logs/", "-q", "--top", "0"][..],
        &["metrics", "sample-logs/metrics/", "-q"],
        &["traces", "sample-logs/traces/", "-q"],
    ] {
        let mut json = args.to_vec();
        json.extend(["--format", "json"]);
        checked += check_json(&json);
        let mut csv = args.to_vec();
        csv.extend(["--format", "csv"]);
        checked += check_csv(&csv);
    }
    checked += check_json(&[
        "replay",
        log,
        "--gateway",
        gateway,
        "--format",
        "json",
        "-q",
    ]);
    checked += check_json(&[
        "limits",
        "suggest",
        log,
        "--gateway",
        gateway,
        "--format",
        "json",
        "-q",
    ]);
    assert!(checked > 1000, "only {checked} numbers checked");
}
