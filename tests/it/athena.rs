//! `--engine athena`: the SQL gwstat generates, run by DuckDB over the same files, gives
//! rows from which gwstat assembles exactly the stream engine's report; those rows, served by
//! moto's Athena (StartQueryExecution, GetQueryExecution, GetQueryResults page by page),
//! make the same report through the AWS path — also through a proxy that throttles, fails
//! and drops requests; a FAILED query and the bytes-scanned limit end with a clear message.

use std::path::Path;
use std::process::Command as Process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use assert_cmd::Command;
use serde_json::Value;

use crate::aws_moto::{aws_gwstat, fault_proxy, start_moto};
use crate::common::{gwstat, json_of, root};

/// Runs the statements of a `--dry-run --athena-dialect duckdb` output on DuckDB and queues
/// the rows of each SELECT, as Athena returns them (a header row first), as moto's Athena
/// results for the next queries.
const RUN_ON_DUCKDB: &str = r#"
import duckdb, json, sys, urllib.request
text = open(sys.argv[1]).read()
# No progress bar: on a loaded machine a query passes its 2 s wait and DuckDB draws one on
# stdout, where the row count is read.
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
results = []
for statement in text.split(";\n"):
    body = "\n".join(l for l in statement.splitlines() if not l.startswith("--")).strip()
    if not body:
        continue
    cursor = con.execute(body)
    if body.upper().startswith("CREATE"):
        continue
    columns = [d[0] for d in cursor.description]
    cell = lambda v: {} if v is None else {"VarCharValue": str(v)}
    rows = [{"Data": [{"VarCharValue": c} for c in columns]}]
    rows += [{"Data": [cell(v) for v in row]} for row in cursor.fetchall()]
    info = [{"Name": c, "Label": c, "Type": "varchar", "CatalogName": "hive",
             "SchemaName": "", "TableName": "", "Precision": 0, "Scale": 0,
             "Nullable": "UNKNOWN", "CaseSensitive": True} for c in columns]
    results.append({"rows": rows, "column_info": info})
request = urllib.request.Request(sys.argv[2] + "/moto-api/static/athena/query-results",
    data=json.dumps({"results": results}).encode(), headers={"Content-Type": "application/json"})
assert urllib.request.urlopen(request).status == 201
print(sum(len(r["rows"]) - 1 for r in results))
"#;

/// The python of the venv scripts/test.sh makes (moto and duckdb).
fn python() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let python = std::env::var_os("GWSTAT_MOTO_SERVER")
        .map(|p| std::path::PathBuf::from(p).with_file_name("python"))
        .unwrap_or_else(|| target.join("moto-venv/bin/python"));
    assert!(
        python.exists(),
        "duckdb is needed: run scripts/test.sh (it installs duckdb into the moto venv)"
    );
    python
}

/// Runs gwstat's DuckDB statements over `log` and queues their rows in moto; returns how
/// many rows.
fn queue_duckdb_rows(moto: &str, log: &Path, bin: &str, window: &[&str], dir: &Path) -> u64 {
    let out = gwstat()
        .args(["report", "--engine", "athena", "--athena-table", "api"])
        .args(["--athena-dialect", "duckdb", "--dry-run", "--bin"])
        .arg(bin.strip_prefix("auto:").unwrap_or(bin))
        .args(window)
        .arg("--athena-create")
        .arg(log)
        .assert()
        .success();
    let sql = dir.join("duckdb.sql");
    std::fs::write(&sql, &out.get_output().stdout).unwrap();
    let run = Process::new(python())
        .args(["-c", RUN_ON_DUCKDB])
        .arg(&sql)
        .arg(moto)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let count = stdout.lines().last().unwrap_or("").trim();
    count
        .parse()
        .unwrap_or_else(|_| panic!("no row count on DuckDB's stdout: {stdout:?}"))
}

/// `gwstat report --engine athena` against `endpoint`.
fn athena_report(endpoint: &str, table: &str, bin: &str, home: &Path) -> Command {
    let mut cmd = aws_gwstat(home);
    cmd.args(["report", "--engine", "athena", "--athena-table", table])
        .args(["--athena-output", "s3://results/gwstat/"])
        .args(bin_flag(bin))
        .args(["--endpoint-url", endpoint, "--format", "json"]);
    cmd
}

/// `--bin WIDTH`; none for `auto:WIDTH` (the report then picks the width itself, which the
/// test expects to be WIDTH).
fn bin_flag(bin: &str) -> Vec<&str> {
    match bin.strip_prefix("auto:") {
        Some(_) => vec![],
        None => vec!["--bin", bin],
    }
}

/// The report without what names the engine and its inputs (the finding about lines not
/// decoded names their file and line; the next commands name the input).
fn sections(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("inputs");
    if let Some(findings) = report["findings"].as_array_mut() {
        findings.retain(|f| !f["text"].as_str().unwrap_or("").starts_with("Input:"));
        for finding in findings {
            // The command to run next names the input.
            finding.as_object_mut().unwrap().remove("next_command");
        }
    }
    report
}

fn stream_report(log: &Path, bin: &str, window: &[&str]) -> Value {
    json_of(
        gwstat()
            .args(["report", "--engine", "stream", "--format", "json", "-q"])
            .args(bin_flag(bin))
            .args(window)
            .arg(log),
    )
}

/// The exact comparison on one log: DuckDB's rows through moto's Athena give the stream
/// engine's report.
fn equals_the_stream_report(log: &Path, bin: &str, window: &[&str]) -> u64 {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let rows = queue_duckdb_rows(&moto.url, log, bin, window, dir.path());
    let out = athena_report(&moto.url, "logs.api", bin, dir.path())
        .args(window)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Two queries of 12,345,678 bytes each (moto, patched), billed by the megabyte.
    assert!(
        stderr.contains("Athena ran 2 queries, scanned 24691356 bytes (24.7 MB; billed 26 MB"),
        "{stderr}"
    );
    let athena: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(athena["inputs"]["files"][0]["format"], "athena");
    let stream = stream_report(log, bin, window);
    assert_eq!(
        athena["inputs"]["skipped"], stream["inputs"]["skipped"],
        "lines that could not be placed are counted"
    );
    let differences = differences(&sections(athena), &sections(stream), "");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    rows
}

/// Where two JSON documents differ (at most 20 places), as `path: left != right`.
fn differences(left: &Value, right: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for key in l.keys().chain(r.keys().filter(|k| !l.contains_key(*k))) {
                let (a, b) = (
                    &l.get(key).cloned().unwrap_or(Value::Null),
                    &r.get(key).cloned().unwrap_or(Value::Null),
                );
                out.extend(differences(a, b, &format!("{path}.{key}")));
            }
        }
        (Value::Array(l), Value::Array(r)) if l.len() == r.len() => {
            for (i, (a, b)) in l.iter().zip(r).enumerate() {
                out.extend(differences(a, b, &format!("{path}[{i}]")));
            }
        }
        (l, r) if l != r => out.push(format!("{path}: {l} != {r}")),
        _ => {}
    }
    out.truncate(20);
    out
}

#[test]
fn sql_on_duckdb_gives_the_stream_report_on_the_sample_json_log() {
    let log = root().join("sample-logs/rest-api-json-custom.log");
    let rows = equals_the_stream_report(&log, "5m", &[]);
    // More rows than one GetQueryResults page: the results were read page by page.
    assert!(rows > 5_000, "{rows}");
    // --since/--until go into the WHERE clause.
    let window = ["--since", "2026-11-24T10:20:00Z", "--until", "+25m"];
    let rows = equals_the_stream_report(&log, "1m", &window);
    assert!(rows > 1_000, "{rows}");
    // Without --bin, the width comes from the first query's range (an hour: 30 s), as the
    // stream engine picks it.
    equals_the_stream_report(&log, "auto:30s", &[]);
}

#[test]
fn sql_on_duckdb_gives_the_stream_report_at_high_cardinality() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("high.log");
    gwstat()
        .args(["generate", "--format", "rest-json", "--requests", "10000"])
        .args(["--seconds", "7200", "--routes", "1500", "--stages", "3"])
        .args(["--api-keys", "60", "--statuses", "14", "-o"])
        .arg(&log)
        .assert()
        .success();
    let rows = equals_the_stream_report(&log, "10m", &[]);
    assert!(rows > 10_000, "{rows}");
}

#[test]
fn throttling_and_errors_from_athena_are_retried() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let log = root().join("sample-logs/rest-api-json-custom.log");
    queue_duckdb_rows(&moto.url, &log, "5m", &[], dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let proxy = runtime.block_on(fault_proxy(moto.url.clone(), counter.clone()));
    let athena = json_of(&mut athena_report(&proxy, "logs.api", "5m", dir.path()));
    // A delay, a throttle, a 500 and a dropped connection, then every fifth call throttled.
    assert!(counter.load(Ordering::SeqCst) >= 8, "{counter:?}");
    let differences = differences(
        &sections(athena),
        &sections(stream_report(&log, "5m", &[])),
        "",
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn a_failed_query_says_why_and_fails() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let out = athena_report(&moto.url, "logs.gwstat_failing", "5m", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(overview) ended FAILED: TABLE_NOT_FOUND: line 3:8: Table"),
        "{stderr}"
    );
    assert_eq!(out.stdout, b"");
}

#[test]
fn the_bytes_limit_stops_the_query() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let out = athena_report(&moto.url, "logs.gwstat_huge", "5m", dir.path())
        .args(["--athena-max-bytes", "1GB"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "(overview) stopped: it had scanned 50000000000 bytes, more than \
             --athena-max-bytes 1000000000"
        ),
        "{stderr}"
    );
}

#[test]
fn dry_run_prints_the_table_and_partition_predicates() {
    let out = gwstat()
        .args(["report", "--engine", "athena", "--athena-table", "logs.api"])
        .args(["--athena-create", "s3://archive/api/", "--dry-run"])
        .args(["--since", "2026-11-24T10:00Z", "--until", "+2h"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let sql = String::from_utf8_lossy(&out.stdout);
    assert!(
        sql.contains("CREATE EXTERNAL TABLE IF NOT EXISTS logs.api ("),
        "{sql}"
    );
    assert!(sql.contains("'projection.dt.format' = 'yyyy/MM/dd/HH'"));
    assert!(sql.contains("WHERE dt BETWEEN '2026/11/24/10' AND '2026/11/24/13'"));
    assert!(sql.contains("t >= 1795514400000 AND t < 1795521600000"));
    assert!(sql.contains("in 60-second bins"));
    let refused = gwstat()
        .args(["report", "--engine", "athena", "--athena-table", "logs.api"])
        .args(["--stage", "prod"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("--stage is not available with --engine athena"));
    let local = gwstat()
        .args(["report", "--engine", "athena", "--athena-table", "logs.api"])
        .args(["--athena-create", "logs/", "--dry-run"])
        .output()
        .unwrap();
    assert!(!local.status.success());
    assert!(String::from_utf8_lossy(&local.stderr).contains("expected the archive's s3://"));
}
