//! `gwstat report` as a user runs it: the binary on real and sample logs.

use std::io::Write;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of, root};

fn json_report(args: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("report")
            .args(args)
            .args(["--format", "json", "--quiet"]),
    )
}

fn real(name: &str) -> String {
    format!("tests/fixtures/real-logs/{name}")
}

#[test]
fn real_logs_decode_completely_with_the_right_counts() {
    for (file, requests, classes) in [
        ("rest-json-preset.log", 5, [5, 0, 0]),
        ("http-api-json.log", 5, [5, 0, 0]),
        // Three of its four lines are WebSocket CONNECTs: they count in `websocket` only.
        ("websocket-json.log", 1, [0, 1, 0]),
        ("mixed-rest-and-http.log", 2, [2, 0, 0]),
    ] {
        let report = json_report(&[&real(file), "--strict"]);
        assert_eq!(report["inputs"]["skipped"], 0, "{file}");
        assert_eq!(report["summary"]["requests"], requests, "{file}");
        let c = &report["summary"]["status_classes"];
        assert_eq!(
            [&c["2xx"], &c["4xx"], &c["5xx"]],
            classes.map(Value::from).each_ref(),
            "{file}"
        );
    }
    let ws = json_report(&[&real("websocket-json.log")]);
    let statuses: Vec<(u64, u64)> = ws["errors"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_u64().unwrap(), s["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(statuses, [(403, 1)]);
    assert_eq!(ws["websocket"]["by_route_key"][0]["status_5xx"], 3);
}

#[test]
fn real_http_routes_are_route_keys_and_rest_routes_are_method_and_resource() {
    let report = json_report(&[&real("mixed-rest-and-http.log"), "--top", "0"]);
    let mut routes: Vec<&str> = report["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    routes.sort();
    assert_eq!(routes, ["GET /", "GET /pets"]);
}

#[test]
fn sample_logs_report_every_section() {
    let report = json_report(&["sample-logs/"]);
    assert_eq!(report["schema_version"], 1);
    // Three access logs, the REST execution log, and one file per CloudWatch delivery form.
    let formats: Vec<&str> = report["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    for format in [
        "json",
        "rest-clf",
        "cloudwatch-export/execution",
        "cloudwatch-json/json",
        "cloudwatch-export/json",
        "logs-tail/json",
        "subscription/json",
        "insights-csv/json",
    ] {
        assert!(
            formats.contains(&format),
            "{format} missing from {formats:?}"
        );
    }
    assert_eq!(report["inputs"]["skipped"], 12);
    let reasons = report["inputs"]["skipped_by_reason"].as_object().unwrap();
    assert!(reasons.contains_key("invalid JSON"));
    assert!(reasons.contains_key("invalid status"));
    let samples = &report["inputs"]["skipped_samples"]["invalid JSON"][0];
    assert!(samples.as_str().unwrap().contains(".log:"), "{samples}");
    assert!(report["throttling"]["throttled"].as_u64().unwrap() > 100);
    assert!(
        report["throttling"]["by_kind"]["quota_exceeded"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(report["timeouts"]["count"].as_u64().unwrap() > 0);
    // CacheHitCount/CacheMissCount in sample-logs/metrics/ win over what the execution logs
    // say (tests/it/cli_execution.rs covers those without metrics).
    assert_eq!(report["cache"]["source"], "metrics");
    // The metrics count the 429s AWS left out of the logs: flagged, in the burst.
    let prod = &report["reconciliation"]["stages"][0];
    assert_eq!(prod["stage"], "prod");
    assert!(prod["totals"]["request_gap"].as_f64().unwrap() > 0.0);
    assert!(prod["flagged_bins"].as_u64().unwrap() > 0);
    let by_status: Vec<u64> = report["errors"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_u64().unwrap())
        .collect();
    for status in [429, 502, 503, 504] {
        assert!(by_status.contains(&status), "{status} missing");
    }
    let meaning = report["errors"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == 504)
        .unwrap()["meaning"]
        .as_str()
        .unwrap();
    assert!(meaning.contains("29 s"), "{meaning}");
}

#[test]
fn strict_exits_1_when_lines_are_skipped() {
    gwstat()
        .args(["report", "sample-logs/", "--strict", "--format", "json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--strict"));
}

#[test]
fn unknown_format_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello\nworld\n").unwrap();
    gwstat()
        .args(["report", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("notes.txt"))
        .stderr(predicate::str::contains("unknown log format"))
        .stderr(predicate::str::contains("rest-clf"));
}

#[test]
fn missing_input_is_an_error() {
    gwstat()
        .args(["report", "no/such/file.log"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no/such/file.log"));
}

#[test]
fn filters_select_requests() {
    let all = json_report(&["sample-logs/"]);
    let total = all["summary"]["requests"].as_u64().unwrap();

    let errors = json_report(&["sample-logs/", "--status", "5xx,!504"]);
    let statuses: Vec<u64> = errors["errors"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_u64().unwrap())
        .collect();
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|s| (500..600).contains(s) && *s != 504));
    assert_eq!(
        errors["inputs"]["filtered_out"].as_u64().unwrap()
            + errors["summary"]["requests"].as_u64().unwrap(),
        total
    );

    let prod = json_report(&["sample-logs/", "--stage", "prod", "--top", "0"]);
    assert!(prod["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["stage"] == "prod"));

    let window = json_report(&[
        "sample-logs/",
        "--since",
        "2026-11-24T10:10Z",
        "--until",
        "+5m",
    ]);
    assert!(window["summary"]["start"].as_str().unwrap() >= "2026-11-24T10:10:00Z");
    assert!(window["summary"]["end"].as_str().unwrap() < "2026-11-24T10:15:00Z");

    let orders = json_report(&[
        "sample-logs/",
        "--route",
        "/orders*",
        "--method",
        "get",
        "--top",
        "0",
    ]);
    let routes: Vec<&str> = orders["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    assert!(!routes.is_empty());
    assert!(
        routes.iter().all(|r| *r == "GET /orders/{orderId}"),
        "{routes:?}"
    );

    let key = json_report(&["sample-logs/", "--api-key", "burst4r8qz"]);
    assert!(key["throttling"]["by_api_key"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["api_key"] == "burst4r8qz"));
}

#[test]
fn bad_filters_are_rejected_with_help() {
    gwstat()
        .args(["report", "sample-logs/", "--status", "6xx"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("status filter"));
    gwstat()
        .args(["report", "sample-logs/", "--since", "yesterday"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("RFC 3339"));
}

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for part in parts {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(part).unwrap();
        bytes.extend(enc.finish().unwrap());
    }
    bytes
}

fn first_lines(path: &str, n: usize) -> String {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    text.lines().take(n).map(|l| format!("{l}\n")).collect()
}

#[test]
fn stdin_globs_and_multi_member_gzip() {
    let lines = first_lines("sample-logs/rest-api-json-custom.log", 100);
    let (a, b) = lines.split_at(lines.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("part.log.gz"),
        gzip(&[a.as_bytes(), b.as_bytes()]),
    )
    .unwrap();
    let gz = json_report(&[dir.path().join("*.gz").to_str().unwrap()]);
    assert_eq!(gz["summary"]["requests"], 100);

    let piped = json_of(
        gwstat()
            .args(["report", "-", "--format", "json"])
            .write_stdin(lines),
    );
    assert_eq!(piped["summary"]["requests"], 100);
    assert_eq!(piped["inputs"]["files"][0]["name"], "<stdin>");
}

#[test]
fn truncated_gzip_invalid_utf8_and_huge_lines_are_counted() {
    let lines = first_lines("sample-logs/rest-api-json-custom.log", 200);
    let dir = tempfile::tempdir().unwrap();
    let full = gzip(&[lines.as_bytes()]);
    let cut = &full[..full.len() * 2 / 3];
    let truncated = dir.path().join("cut.log.gz");
    std::fs::write(&truncated, cut).unwrap();
    let report = json_report(&[truncated.to_str().unwrap()]);
    assert_eq!(
        report["inputs"]["skipped_by_reason"]["truncated or unreadable input"],
        1
    );
    assert!(report["summary"]["requests"].as_u64().unwrap() > 50);

    let mut bytes = first_lines("sample-logs/rest-api-json-custom.log", 10).into_bytes();
    bytes.extend(b"{\"status\":\"200\",\"requestTime\":\"\xff\xfe\"}\n");
    bytes.extend(vec![b'{'; 3 << 20]);
    bytes.extend(b"\n");
    bytes.extend(first_lines("sample-logs/rest-api-json-custom.log", 3).into_bytes());
    let odd = dir.path().join("odd.log");
    std::fs::write(&odd, bytes).unwrap();
    let report = json_report(&[odd.to_str().unwrap()]);
    assert_eq!(report["summary"]["requests"], 13);
    assert_eq!(report["inputs"]["skipped_by_reason"]["invalid UTF-8"], 1);
    assert_eq!(report["inputs"]["skipped_by_reason"]["line too long"], 1);
    assert_eq!(
        report["inputs"]["skipped_samples"]["line too long"][0],
        format!("{}:12", odd.display())
    );
}

#[test]
fn access_format_and_field_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let format = r#"$context.requestTimeEpoch | $context.httpMethod $context.resourcePath | $context.status | $context.responseLatency ms | "$context.identity.userAgent""#;
    std::fs::write(dir.path().join("format.txt"), format).unwrap();
    let log = dir.path().join("custom.log");
    std::fs::write(
        &log,
        "1795575364112 | GET /pets | 200 | 12 ms | \"curl/8 | weird\"\n\
         1795575365112 | POST /pets | 502 | 30 ms | \"x\"\n",
    )
    .unwrap();
    let at_file = format!("@{}", dir.path().join("format.txt").display());
    let report = json_report(&[
        log.to_str().unwrap(),
        "--access-format",
        &at_file,
        "--strict",
    ]);
    assert_eq!(report["summary"]["requests"], 2);
    assert_eq!(report["latency"]["overall"]["latency_ms"]["max"], 30.0);
    let verbatim = json_report(&[log.to_str().unwrap(), "--access-format", format]);
    assert_eq!(verbatim["summary"]["requests"], 2);

    let renamed = dir.path().join("renamed.log");
    std::fs::write(
        &renamed,
        r#"{"ts":"2026-11-25T02:56:04Z","code":429,"ms":7}"#.to_string() + "\n",
    )
    .unwrap();
    let report = json_report(&[
        renamed.to_str().unwrap(),
        "--field",
        "requestTime=ts",
        "--field",
        "status=code",
        "--field",
        "responseLatency=ms",
        "--strict",
    ]);
    assert_eq!(report["throttling"]["throttled"], 1);
    gwstat()
        .args([
            "report",
            renamed.to_str().unwrap(),
            "--field",
            "colour=code",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown meaning"));
}

#[test]
fn forced_input_format_and_presets_by_name() {
    let clf = "sample-logs/rest-api-clf.log";
    let forced = json_report(&[clf, "--input-format", "clf"]);
    assert_eq!(forced["inputs"]["files"][0]["format"], "rest-clf");
    let named = json_report(&[clf, "--access-format", "rest-clf"]);
    assert_eq!(named["summary"]["requests"], forced["summary"]["requests"]);
    gwstat()
        .args(["report", clf, "--input-format", "json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown log format"));
}

#[test]
fn every_output_format_renders() {
    let real = real("websocket-json.log");
    gwstat()
        .args(["report", &real, "--format", "table"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Summary"))
        .stdout(predicate::str::contains("Errors by status"))
        .stdout(predicate::str::contains("\u{1b}[").not());
    gwstat()
        .args(["report", &real, "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::contains("## Summary"))
        .stdout(predicate::str::contains("| status"));
    gwstat()
        .args(["report", &real, "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "section,key,stage,metric,value\n",
        ))
        .stdout(predicate::str::contains("summary,,,requests,1\n"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    gwstat()
        .args(["report", &real, "--format", "json", "--output"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["summary"]["requests"], 1);
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let real = real("websocket-json.log");
    gwstat()
        .args(["report", &real, "--color", "always"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}["));
    gwstat()
        .args(["report", &real, "--color", "always"])
        .env("NO_COLOR", "1")
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn json_report_snapshot() {
    let report = json_report(&["sample-logs/", "--top", "3"]);
    insta::assert_json_snapshot!("sample_logs_top3", report);
}

#[test]
fn directories_are_read_recursively() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    for (i, name) in ["rest-json-preset.log", "http-api-json.log"]
        .iter()
        .enumerate()
    {
        let target: &Path = if i == 0 { dir.path() } else { &nested };
        std::fs::copy(root().join(real(name)), target.join(name)).unwrap();
    }
    let report = json_report(&[dir.path().to_str().unwrap()]);
    assert_eq!(report["summary"]["requests"], 10);
}

#[test]
fn compare_shows_regressions_first() {
    let dir = tempfile::tempdir().unwrap();
    let yesterday = dir.path().join("yesterday.log");
    gwstat()
        .args([
            "generate",
            "--format",
            "rest-json",
            "--seed",
            "7",
            "--start",
            "2026-11-23T10:00Z",
            "--output",
        ])
        .arg(&yesterday)
        .assert()
        .success();
    let report = json_report(&[
        "sample-logs/rest-api-json-custom.log",
        "--compare",
        yesterday.to_str().unwrap(),
        "--top",
        "0",
    ]);
    let c = &report["comparison"];
    assert_eq!(c["baseline_requests"].as_u64(), Some(7763));
    let routes = c["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 9);
    let scores: Vec<f64> = routes
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Each route's numbers are the two periods' own: the requests now add up to this report.
    let now: u64 = routes
        .iter()
        .map(|r| r["requests_now"].as_u64().unwrap())
        .sum();
    assert_eq!(now, report["summary"]["requests"].as_u64().unwrap());
    let before: u64 = routes
        .iter()
        .map(|r| r["requests_before"].as_u64().unwrap())
        .sum();
    assert_eq!(before, 7763);
    // A score is p99 growth + 10 × error-rate growth.
    let r = &routes[0];
    let p99 = r["p99_change"].as_f64().unwrap().max(0.0);
    let errors =
        (r["error_rate_now"].as_f64().unwrap() - r["error_rate_before"].as_f64().unwrap()).max(0.0);
    // Each number is written with 6 decimals.
    assert!((r["score"].as_f64().unwrap() - (p99 + 10.0 * errors)).abs() < 1e-5);
    // A time filter applies to the main inputs only.
    let filtered = json_report(&[
        "sample-logs/rest-api-json-custom.log",
        "--since",
        "2026-11-24T10:30Z",
        "--compare",
        yesterday.to_str().unwrap(),
    ]);
    assert_eq!(
        filtered["comparison"]["baseline_requests"].as_u64(),
        Some(7763)
    );
}

/// Execution logs on stdin cannot be sniffed ahead, and stdin cannot be read twice: the table
/// engine keeps the request IDs of its one read and joins them; auto (which streams first)
/// says so instead of reporting without them.
#[test]
fn execution_logs_on_stdin_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.log");
    std::fs::write(
        &access,
        "{\"requestId\":\"r-1\",\"requestTimeEpoch\":\"1795575364000\",\"httpMethod\":\"GET\",\
         \"resourcePath\":\"/a\",\"stage\":\"prod\",\"status\":\"502\",\"responseLatency\":\"40\",\
         \"integrationLatency\":\"31\"}\n",
    )
    .unwrap();
    let export = "\
2026-11-25T02:56:04.000Z (r-1) HTTP Method: GET, Resource Path: /a
2026-11-25T02:56:04.031Z (r-1) Execution failed due to configuration error: Malformed Lambda proxy response
2026-11-25T02:56:04.033Z (r-1) Method completed with status: 502
";
    let r = json_of(
        gwstat()
            .args(["report", "--format", "json", "-q", "--engine", "table", "-"])
            .arg(&access)
            .write_stdin(export),
    );
    assert_eq!(r["execution"]["joined"], 1, "{}", r["execution"]);
    assert_eq!(r["summary"]["requests"], 1);
    gwstat()
        .args(["report", "--format", "json", "-q", "-"])
        .arg(&access)
        .write_stdin(export)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--engine table"));
}

/// A named pipe (as `<(zcat …)` gives) can be read once: it is read as stdin is, never
/// opened ahead to sniff its kind or its last lines, and every line counts.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("access.log");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let log = root().join("sample-logs/rest-api-json-custom.log");
    let from_file = json_report(&[log.to_str().unwrap()]);
    let (sender, written) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        // Opening a pipe to write waits for its reader: gwstat below.
        std::thread::spawn(move || {
            let write = || -> std::io::Result<()> {
                let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo)?;
                pipe.write_all(&std::fs::read(log)?)
            };
            sender.send(write().map_err(|e| e.to_string()))
        });
    }
    let from_pipe = json_of(
        gwstat()
            .args([
                "report",
                fifo.to_str().unwrap(),
                "--format",
                "json",
                "--quiet",
            ])
            .timeout(std::time::Duration::from_secs(60)),
    );
    let written = written.recv_timeout(std::time::Duration::from_secs(10));
    assert_eq!(written, Ok(Ok(())), "the whole log went through the pipe");
    let records = |v: &Value| v["inputs"]["files"][0]["records"].clone();
    assert_eq!(records(&from_pipe), records(&from_file));
    assert_eq!(from_pipe["summary"], from_file["summary"]);
}

/// A plain file is read through a memory map (stdin through reads): both give the same report
/// of the same bytes, a byte order mark, CRLF line ends, a line over the 1 MiB limit and a
/// last line without a newline included.
#[test]
fn a_mapped_file_reports_as_the_same_bytes_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let log = std::fs::read(root().join("sample-logs/rest-api-json-custom.log")).unwrap();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    let mut lines = log.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    for (i, line) in lines.by_ref().take(3000).enumerate() {
        bytes.extend(line);
        bytes.extend(if i % 2 == 0 { &b"\r\n"[..] } else { b"\n" });
    }
    bytes.extend(vec![b'x'; (1 << 20) + 10]);
    bytes.push(b'\n');
    for line in lines {
        bytes.extend(line);
        bytes.push(b'\n');
    }
    bytes.pop();
    std::fs::write(&path, &bytes).unwrap();
    let from_file = json_report(&[path.to_str().unwrap()]);
    let from_stdin = json_of(
        gwstat()
            .args(["report", "-", "--format", "json", "--quiet"])
            .write_stdin(bytes),
    );
    let file = &from_file["inputs"]["files"][0];
    let stdin = &from_stdin["inputs"]["files"][0];
    assert_eq!(file["records"], stdin["records"]);
    let too_long = &from_file["inputs"]["skipped_samples"]["line too long"];
    assert!(
        too_long[0].as_str().unwrap().ends_with("access.log:3001"),
        "{too_long}"
    );
    assert_eq!(file["skipped"], stdin["skipped"]);
    for key in ["skipped_by_reason", "invalid_fields_by_reason"] {
        assert_eq!(from_file["inputs"][key], from_stdin["inputs"][key], "{key}");
    }
    // The same places, named after the file or stdin.
    let places = |v: &Value| {
        v["inputs"]["skipped_samples"]
            .to_string()
            .replace(path.to_str().unwrap(), "-")
    };
    assert_eq!(
        places(&from_file),
        places(&from_stdin).replace("<stdin>", "-")
    );
    assert_eq!(from_file["summary"], from_stdin["summary"]);
    assert_eq!(from_file["routes"], from_stdin["routes"]);
}
