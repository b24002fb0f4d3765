//! The documented exit codes, one test per case: 0 ok; 1 failure (a runtime error, an input
//! refused as not an API Gateway log, input that could not be used with `--strict`); 2 usage
//! error (clap's). AWS errors (exit 1) are covered against moto's server in `aws_errors`.

use predicates::prelude::*;

use crate::common::{gwstat, root};

/// The sentence `gwstat --help` and the README state.
const HELP_LINE: &str = "Exit codes: 0 ok; 1 failure";

/// A log with one good JSON line and one line that is not a record.
fn log_with_a_malformed_line(dir: &std::path::Path) -> String {
    let sample =
        std::fs::read_to_string(root().join("sample-logs/rest-api-json-custom.log")).unwrap();
    let first = sample.lines().next().unwrap();
    let path = dir.join("access.log");
    std::fs::write(&path, format!("{first}\nthis is not a log line\n")).unwrap();
    path.display().to_string()
}

#[test]
fn success_exits_0() {
    gwstat()
        .args([
            "report",
            "sample-logs/rest-api-json-custom.log",
            "-q",
            "--top",
            "1",
        ])
        .assert()
        .code(0);
}

#[test]
fn usage_errors_exit_2() {
    // An unknown flag, a bad value, a missing required argument: clap's usage errors.
    for args in [
        &["report", "--no-such-flag"][..],
        &["report", "sample-logs/", "--top", "many"],
        &["export", "sample-logs/"],
    ] {
        gwstat()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--help"));
    }
}

#[test]
fn a_missing_file_exits_1() {
    gwstat()
        .args(["report", "no/such/access.log", "-q"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no/such/access.log"));
}

#[test]
fn strict_with_a_malformed_line_exits_1_and_still_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_a_malformed_line(dir.path());
    // Without --strict the line is counted and the run succeeds.
    gwstat()
        .args(["report", &log, "-q", "--format", "json"])
        .assert()
        .code(0);
    let out = gwstat()
        .args(["report", &log, "--strict", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"]["skipped"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));
    // The same code from the other commands that take --strict.
    let parquet = dir.path().join("out.parquet");
    gwstat()
        .args(["export", &log, "--strict", "-o"])
        .arg(&parquet)
        .assert()
        .code(1);
    assert!(parquet.exists());
}

#[test]
fn an_input_refused_as_not_api_gateway_exits_1() {
    let nginx = "tests/fixtures/real/not-api-gateway/nginx-json.log";
    gwstat()
        .args(["report", nginx, "-q"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an API Gateway access log"));
    // Beside a good input: the good one is reported, the run still exits 1.
    let out = gwstat()
        .args([
            "report",
            nginx,
            "sample-logs/rest-api-json-custom.log",
            "-q",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["summary"]["requests"].as_u64().unwrap() > 0);
}

#[test]
fn help_and_readme_state_the_codes() {
    gwstat()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(HELP_LINE));
    for command in ["report", "export", "metrics", "traces"] {
        gwstat()
            .args([command, "--help"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("2 usage error"))
            .stdout(
                predicate::str::contains("--strict")
                    .and(predicate::str::contains("Exit with status 1")),
            );
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("**0** ok; **1** failure"));
    assert!(!readme.contains("exit 2"));
}
