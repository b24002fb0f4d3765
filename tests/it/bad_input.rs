//! The bad-input corpus (tests/bad-input/, plus files made here that cannot be committed):
//! every class gets a clear message naming file:line and reason, correct counts, and the
//! other lines still processed. Nothing crashes.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, interrupt, json_of, root};

fn report(path: &str) -> Value {
    json_of(gwstat().args(["report", path, "--format", "json", "-q"]))
}

/// Requests decoded, and `reason → [file:line]` of the skipped lines.
fn outcome(path: &str) -> (u64, Vec<(String, Vec<String>)>) {
    let r = report(path);
    let samples = r["inputs"]["skipped_samples"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    (r["summary"]["requests"].as_u64().unwrap(), samples)
}

fn places(path: &str, lines: &[u32]) -> Vec<String> {
    lines.iter().map(|l| format!("{path}:{l}")).collect()
}

#[test]
fn truncated_gzip_keeps_the_lines_before_the_cut() {
    let f = "tests/bad-input/truncated.log.gz";
    let (requests, skipped) = outcome(f);
    assert_eq!(requests, 193);
    assert_eq!(
        skipped,
        [(
            "truncated or unreadable input".to_string(),
            places(f, &[194])
        )]
    );
    // --strict turns it into exit 1.
    gwstat()
        .args(["report", f, "-q", "--strict"])
        .assert()
        .code(1);
}

#[test]
fn lines_of_nul_bytes_are_counted_as_holes_in_the_file() {
    // A hole: bytes never written (a file extended past its end) or cut from a file while
    // it was read (its mapped pages then read as zeros).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holes.log");
    let log = std::fs::read_to_string(root().join("sample-logs/rest-api-json-custom.log")).unwrap();
    let lines: Vec<&str> = log.lines().take(20).collect();
    let mut bytes = Vec::new();
    for line in &lines[..10] {
        bytes.extend(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend([0; 5000]);
    bytes.push(b'\n');
    for line in &lines[10..] {
        bytes.extend(line.as_bytes());
        bytes.push(b'\n');
    }
    std::fs::write(&path, &bytes).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(bytes.len() as u64 + 3 * 4096)
        .unwrap();
    let f = path.to_str().unwrap();
    assert_eq!(
        outcome(f),
        (
            20,
            vec![(
                "truncated or unreadable input".to_string(),
                places(f, &[11, 22])
            )]
        )
    );
}

#[test]
fn gzip_with_trailing_garbage() {
    let f = "tests/bad-input/trailing-garbage.log.gz";
    assert_eq!(
        outcome(f),
        (
            5,
            vec![("truncated or unreadable input".into(), places(f, &[6]))]
        )
    );
}

#[test]
fn a_gzip_cut_inside_its_first_line_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.log.gz");
    let bytes = std::fs::read(root().join("tests/bad-input/truncated.log.gz")).unwrap();
    std::fs::write(&path, &bytes[..200]).unwrap();
    gwstat()
        .arg("report")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cut.log.gz: truncated or unreadable after",
        ))
        .stderr(predicate::str::contains("no complete line before it"));
}

#[test]
fn invalid_utf8_line() {
    let f = "tests/bad-input/invalid-utf8.log";
    assert_eq!(
        outcome(f),
        (4, vec![("invalid UTF-8".into(), places(f, &[3]))])
    );
}

#[test]
fn a_10_mb_line_is_skipped_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    let good = std::fs::read_to_string(root().join("tests/bad-input/crlf.log")).unwrap();
    let good: Vec<&str> = good.lines().map(|l| l.trim_end_matches('\r')).collect();
    let huge = format!("{{\"padding\":\"{}\"}}", "x".repeat(10 << 20));
    std::fs::write(
        &path,
        format!("{}\n{}\n{}\n", good[0], huge, good[1..].join("\n")),
    )
    .unwrap();
    let name = path.display().to_string();
    let (requests, skipped) = outcome(&name);
    assert_eq!(requests, 5);
    assert_eq!(
        skipped,
        [("line too long".to_string(), places(&name, &[2]))]
    );
}

#[test]
fn skipped_lines_far_into_a_large_file_keep_their_line_numbers() {
    // Several chunks of lines, read by parallel workers: the numbers must still be exact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.log");
    let good = std::fs::read_to_string(root().join("tests/bad-input/crlf.log")).unwrap();
    let good = good.lines().next().unwrap().trim_end_matches('\r');
    let bad = [3, 4_000, 9_000, 11_999];
    let lines: Vec<&str> = (1..=12_000)
        .map(|n| {
            if bad.contains(&n) {
                "not a log line"
            } else {
                good
            }
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 2 << 20);
    let name = path.display().to_string();
    let (requests, skipped) = outcome(&name);
    assert_eq!(requests, 12_000 - bad.len() as u64);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].1, places(&name, &bad));
}

/// Runs `gwstat report ARGS --format json -q` with `stdin`: (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = gwstat()
        .args(["report", "--format", "json", "-q"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn empty_inputs_are_one_line_errors_not_reports() {
    let (code, out, err) = run(&["tests/bad-input/empty.log"], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "gwstat: error: tests/bad-input/empty.log: empty input; nothing to report\n"
    );
    let (code, out, err) = run(&["-"], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "gwstat: error: <stdin>: empty input; nothing to report\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().display().to_string();
    let (code, out, err) = run(&[&name], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!("gwstat: error: {name}: no log files (empty directory); nothing to report\n")
    );
    // Beside a log, an empty file is listed and harmless.
    let r = json_of(gwstat().args([
        "report",
        "tests/bad-input/empty.log",
        "tests/bad-input/crlf.log",
        "--format",
        "json",
        "-q",
        "--strict",
    ]));
    assert_eq!(r["summary"]["requests"], 5);
    assert_eq!(r["inputs"]["files"][0]["format"], "empty");
}

const NOT_APIGW: &str = "tests/fixtures/real/not-api-gateway";

#[test]
fn logs_that_are_not_api_gateway_are_refused_with_their_keys() {
    for (file, expected) in [
        (
            "nginx-json.log",
            "not an API Gateway access log: its records have the keys time_local, remote_addr, \
             request, status, body_bytes_sent, request_time, http_user_agent, and none is a \
             request with a plausible time (2015 to a day from now)",
        ),
        (
            "app.json",
            "not an API Gateway access log: its records have the keys level, ts, msg, port",
        ),
        (
            "alb.log",
            "not an API Gateway access log (unknown log format)",
        ),
    ] {
        let path = format!("{NOT_APIGW}/{file}");
        let (code, out, err) = run(&[&path, "--strict"], "");
        assert_eq!((code, out.as_str()), (1, ""), "{file}");
        assert!(
            err.starts_with(&format!("gwstat: error: {path}: {expected}")),
            "{file}: {err}"
        );
        assert!(
            err.contains("gwstat expects") || err.contains("gwstat reads"),
            "{err}"
        );
    }
}

#[test]
fn with_several_inputs_the_refused_are_listed_and_the_rest_reported() {
    let nginx = format!("{NOT_APIGW}/nginx-json.log");
    let (code, out, err) = run(&["tests/bad-input/crlf.log", &nginx], "");
    assert_eq!(code, 1);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["summary"]["requests"], 5);
    let files = r["inputs"]["files"].as_array().unwrap();
    assert_eq!(files[1]["name"], nginx.as_str());
    let format = files[1]["format"].as_str().unwrap();
    assert!(
        format.starts_with("refused: not an API Gateway access log"),
        "{format}"
    );
    assert!(
        err.starts_with(&format!("gwstat: {nginx}: not an API Gateway access log")),
        "{err}"
    );
    assert!(err.contains("1 input(s) refused"), "{err}");
}

#[test]
fn the_same_file_reached_twice_is_read_once() {
    let f = "tests/bad-input/crlf.log";
    let (code, out, err) = run(&[f, f, "tests/bad-input"], "");
    // The directory holds crlf.log too, and files that are not logs (refused: exit 1).
    assert_eq!(code, 1, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = r["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.iter().filter(|n| n.ends_with("crlf.log")).count(), 1);
    assert!(
        err.contains(&format!(
            "gwstat: warning: {f}: the same input as {f}; read once"
        )),
        "{err}"
    );
    assert!(
        err.contains("gwstat: warning: tests/bad-input/crlf.log: the same input as"),
        "{err}"
    );
    let plain = json_of(gwstat().args(["report", f, "--format", "json", "-q"]));
    let twice = json_of(gwstat().args(["report", f, f, "--format", "json", "-q"]));
    assert_eq!(plain["summary"]["requests"], twice["summary"]["requests"]);
}

#[test]
fn byte_order_mark_and_crlf_are_transparent() {
    assert_eq!(outcome("tests/bad-input/bom.log"), (5, vec![]));
    assert_eq!(outcome("tests/bad-input/crlf.log"), (5, vec![]));
}

#[test]
fn mixed_formats_keep_the_majority_format() {
    let f = "tests/bad-input/mixed-formats.log";
    assert_eq!(
        outcome(f),
        (
            5,
            vec![("does not match the format".into(), places(f, &[4, 5]))]
        )
    );
}

#[test]
fn duplicate_json_keys_take_the_first_value() {
    let r = report("tests/bad-input/duplicate-keys.log");
    // Line 1 says "status":"200" and later "status":"503": the first counts (as in the
    // serde fallback path), documented in docs/report-schema.md.
    assert_eq!(r["summary"]["status_classes"]["2xx"], 5);
    assert_eq!(r["summary"]["status_classes"]["5xx"], 0);
}

#[test]
fn wrong_types_overflows_and_impossible_dates_are_named() {
    let f = "tests/bad-input/wrong-types.log";
    assert_eq!(
        outcome(f),
        (
            3,
            vec![
                ("invalid latency".into(), places(f, &[3])),
                ("invalid status".into(), places(f, &[2]))
            ]
        )
    );
    // A latency too large for an f64 is a number out of range: the value is dropped as an
    // invalid field, the request counts.
    let f = "tests/bad-input/number-overflow.log";
    assert_eq!(
        outcome(f),
        (4, vec![("invalid request time".into(), places(f, &[2]))])
    );
    let r = report(f);
    assert_eq!(r["inputs"]["invalid_fields"], 1);
    assert_eq!(
        r["inputs"]["invalid_field_samples"]["implausible latency"],
        serde_json::json!([format!("{f}:3")])
    );
    let f = "tests/bad-input/dates-out-of-range.log";
    assert_eq!(
        outcome(f),
        (3, vec![("invalid request time".into(), places(f, &[2, 3]))])
    );
}

#[test]
fn binary_junk_is_called_binary() {
    gwstat()
        .args(["report", "tests/bad-input/binary-junk.bin"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "binary-junk.bin: binary data, not a text log (NUL bytes",
        ));
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn unreadable_entries_and_symlink_loops_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(root().join("tests/bad-input/crlf.log"), logs.join("a.log")).unwrap();
    symlink(Path::new("/nonexistent/gwstat"), &logs.join("dangling.log"));
    symlink(&logs, &logs.join("loop"));
    let locked = logs.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::copy(
        root().join("tests/bad-input/crlf.log"),
        locked.join("b.log"),
    )
    .unwrap();
    let root_user = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root_user {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let out = gwstat()
        .args(["report", "--format", "json"])
        .arg(&logs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dangling.log: No such file or directory"),
        "{stderr}"
    );
    assert!(stderr.contains("symlink loop"), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = if root_user { 10 } else { 5 };
    if !root_user {
        assert!(stderr.contains("locked"), "{stderr}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(r["summary"]["requests"], expected);
}

#[test]
fn ctrl_c_stops_cleanly_and_leaves_no_half_report() {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("report.json");
    // Reading a pipe that stays open: the report is still being made when Ctrl-C comes.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gwstat"))
        .args(["report", "-", "--format", "json", "-o"])
        .arg(&output)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let line = std::fs::read_to_string(root().join("tests/bad-input/crlf.log")).unwrap();
    stdin.write_all(line.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let status = interrupt(&mut child);
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Neither the report nor a temporary file is left.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn request_times_that_cannot_be_placed_are_skipped_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("times.log");
    let line = |epoch: &str| {
        format!(
            "{{\"requestTimeEpoch\":\"{epoch}\",\"status\":\"200\",\"resourcePath\":\"/pets\"}}\n"
        )
    };
    // 2026, 1970 (an epoch of 1 s), 2090, 2026.
    let text = [
        line("1795575364112"),
        line("1000"),
        line("3786912000000"),
        line("1795575365112"),
    ]
    .concat();
    std::fs::write(&path, text).unwrap();
    let name = path.display().to_string();
    let (requests, skipped) = outcome(&name);
    assert_eq!(requests, 2);
    assert_eq!(
        skipped,
        [(
            "implausible request time".to_string(),
            places(&name, &[2, 3])
        )]
    );
    gwstat()
        .args(["report", &name, "-q", "--strict"])
        .assert()
        .code(1);
}

/// `reason → [file:line]` of an `inputs` map of samples.
fn sample_map(samples: &Value) -> Vec<(String, Vec<String>)> {
    samples
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let places = v.as_array().unwrap().iter();
            (
                k.clone(),
                places.map(|s| s.as_str().unwrap().into()).collect(),
            )
        })
        .collect()
}

#[test]
fn implausible_values_are_invalid_fields_left_out_of_every_figure() {
    let f = "tests/fixtures/real/implausible-values.log";
    for engine in ["table", "stream"] {
        let r = json_of(gwstat().args(["report", f, "--format", "json", "-q", "--engine", engine]));
        let inputs = &r["inputs"];
        // Non-numbers and unplaceable times still skip their line (8 and 9)…
        assert_eq!(inputs["skipped"], 2, "{engine}");
        assert_eq!(
            sample_map(&inputs["skipped_samples"]),
            [
                ("implausible request time".to_string(), places(f, &[9])),
                ("invalid status".to_string(), places(f, &[8])),
            ]
        );
        // …numbers out of range drop the value and keep the request.
        assert_eq!(r["summary"]["requests"], 10, "{engine}");
        assert_eq!(inputs["records"], 10, "{engine}");
        assert_eq!(inputs["invalid_fields"], 7, "{engine}");
        assert_eq!(
            inputs["invalid_fields_by_reason"],
            serde_json::json!({
                "implausible status": 2,
                "implausible latency": 3,
                "implausible integration latency": 2,
            }),
            "{engine}"
        );
        assert_eq!(
            sample_map(&inputs["invalid_field_samples"]),
            [
                (
                    "implausible integration latency".to_string(),
                    places(f, &[5, 6])
                ),
                ("implausible latency".to_string(), places(f, &[2, 5, 6])),
                ("implausible status".to_string(), places(f, &[3, 4])),
            ],
            "{engine}"
        );
        // Statuses 0 and 999 count as requests without a status.
        let classes = &r["summary"]["status_classes"];
        assert_eq!(
            (&classes["2xx"], &classes["5xx"], &classes["unknown"]),
            (&6.into(), &1.into(), &3.into()),
            "{engine}"
        );
        // 1e23, -5 and two hours are in no statistic; exactly one hour is plausible.
        let overall = &r["latency"]["overall"];
        assert_eq!(overall["latency_ms"]["count"], 7, "{engine}");
        assert_eq!(overall["latency_ms"]["min"], 12.0, "{engine}");
        assert_eq!(overall["latency_ms"]["max"], 3_600_000.0, "{engine}");
        assert_eq!(overall["integration_latency_ms"]["count"], 7, "{engine}");
        assert_eq!(overall["integration_latency_ms"]["min"], 10.0, "{engine}");
        assert_eq!(
            overall["integration_latency_ms"]["max"], 29_001.0,
            "{engine}"
        );
    }

    // Listed under the table report (unwrapped: --width 0), and in CSV.
    gwstat()
        .args(["report", f, "-q", "--color", "never", "--width", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Invalid fields (7)"))
        .stdout(predicate::str::contains("implausible latency"))
        .stdout(predicate::str::contains(format!("{f}:2, {f}:5, {f}:6")))
        .stdout(predicate::str::contains("7 invalid field(s)"));
    gwstat()
        .args(["report", f, "-q", "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("inputs,,,invalid_fields,7"))
        .stdout(predicate::str::contains(
            "inputs,implausible status,,invalid_fields,2",
        ));
    gwstat()
        .args(["report", f, "--format", "json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("7 implausible value(s) left out"));
}

#[test]
fn strict_fails_on_invalid_fields_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-latency.log");
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/real/implausible-values.log")).unwrap();
    // Lines 1 (plausible) and 2 (responseLatency 1e23): nothing skipped, one invalid field.
    let lines: Vec<&str> = fixture.lines().take(2).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let r = json_of(
        gwstat()
            .arg("report")
            .arg(&path)
            .args(["--format", "json", "-q"]),
    );
    assert_eq!(r["inputs"]["skipped"], 0);
    assert_eq!(r["inputs"]["invalid_fields"], 1);
    assert_eq!(r["latency"]["overall"]["latency_ms"]["max"], 45.0);
    assert_eq!(r["latency"]["overall"]["latency_ms"]["mean"], 45.0);
    gwstat()
        .arg("report")
        .arg(&path)
        .args(["--strict", "--format", "json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--strict: 0 line(s) skipped, 1 invalid field(s)",
        ));
    // Inside a CloudWatch envelope, the place is the event's position.
    let envelope = dir.path().join("filter-log-events.json");
    let events: Vec<Value> = lines
        .iter()
        .map(|line| {
            serde_json::json!({
                "timestamp": 1_795_575_364_000u64,
                "logStreamName": "072b030ba126b2f4b2374f342be9ed44",
                "message": line,
            })
        })
        .collect();
    std::fs::write(
        &envelope,
        serde_json::json!({ "events": events }).to_string(),
    )
    .unwrap();
    let r = json_of(
        gwstat()
            .arg("report")
            .arg(&envelope)
            .args(["--format", "json", "-q"]),
    );
    assert_eq!(r["inputs"]["files"][0]["format"], "cloudwatch-json/json");
    assert_eq!(r["summary"]["requests"], 2);
    assert_eq!(
        r["inputs"]["invalid_field_samples"]["implausible latency"],
        serde_json::json!([format!("{}:2", envelope.display())])
    );
    // export --strict too.
    let parquet = dir.path().join("out.parquet");
    gwstat()
        .arg("export")
        .arg(&path)
        .arg("-o")
        .arg(&parquet)
        .args(["--strict", "-q"])
        .assert()
        .code(1);
}
