//! The streaming engine (aggregates folded while reading) and the table engine (every request
//! decoded and kept, filtered by a row mask, then folded) give the same report, to the last bit, on every sample log and
//! under every option that changes what is counted; options the stream cannot serve fall
//! back (auto) or are refused (stream).

use serde_json::Value;

use crate::common::{gwstat, json_of};

fn report(engine: &str, args: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("report")
            .args(args)
            .args(["--format", "json", "--quiet", "--engine", engine]),
    )
}

fn assert_same(args: &[&str]) {
    let table = report("table", args);
    let stream = report("stream", args);
    assert!(
        table["summary"]["requests"].as_u64().unwrap() > 0,
        "{args:?}"
    );
    assert!(table == stream, "{args:?}: the engines differ");
    assert!(report("auto", args) == stream, "{args:?}: auto");
}

#[test]
fn same_report_on_every_sample_log() {
    for input in [
        "sample-logs/rest-api-json-custom.log",
        "sample-logs/http-api-json.log",
        "sample-logs/rest-api-clf.log",
        "sample-logs/cloudwatch",
    ] {
        assert_same(&[input]);
    }
}

#[test]
fn same_report_under_filters_bins_and_limits() {
    let input = "sample-logs/rest-api-json-custom.log";
    for extra in [
        &["--bin", "5m", "--top", "0"][..],
        &["--top", "3", "--bin", "1s"],
        &["--stage", "prod", "--status", "4xx,!404"],
        &["--route", "GET /orders*", "--method", "GET"],
        &["--since", "2026-11-24T10:10:00Z", "--until", "+25m"],
        &["--integration-timeout-ms", "5000"],
        &["--redact"],
    ] {
        let mut args = vec![input];
        args.extend_from_slice(extra);
        assert_same(&args);
    }
}

/// The stream engine reads a plain file's last lines ahead to size its time bins for the
/// whole span from the start; whatever those lines are, the report is the table engine's.
#[test]
fn same_report_whatever_the_last_lines_read_ahead_say() {
    let dir = tempfile::tempdir().unwrap();
    let out = gwstat()
        .args(["generate", "--format", "rest-json", "--requests", "6000"])
        .args(["--seconds", "86400", "--seed", "5", "--no-malformed"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, rest) = lines.split_first().unwrap();
    let variants = [
        ("in-order.log", text.clone()),
        // The earliest request last.
        (
            "earliest-last.log",
            format!("{}\n{first}\n", rest.join("\n")),
        ),
        // A line still being written: no newline yet, cut in the middle.
        ("cut.log", format!("{text}{}", &first[..40])),
        // Lines the read-ahead cannot use at its end.
        (
            "junk-end.log",
            format!("{text}not a request\n{{\"status\":\"200\"}}\n"),
        ),
    ];
    for (name, content) in variants {
        let log = dir.path().join(name);
        std::fs::write(&log, content).unwrap();
        assert_same(&[log.to_str().unwrap()]);
        let report = report("stream", &[log.to_str().unwrap()]);
        assert_eq!(report["timeline"]["bin_seconds"], 900, "{name}");
    }
}

#[test]
fn same_report_on_generated_logs_and_with_route_settings() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("generated.log");
    let out = gwstat()
        .args(["generate", "--format", "rest-json", "--requests", "30000"])
        .args(["--seconds", "7200", "--seed", "9"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&log, &out.stdout).unwrap();
    assert_same(&[log.to_str().unwrap()]);

    let config = dir.path().join("gwstat.toml");
    std::fs::write(
        &config,
        "[routes]\naliases = { \"GET /products/{productId}\" = \"GET /products/:id\" }\n\
         groups = { \"* /orders*\" = \"orders\" }\n",
    )
    .unwrap();
    let with_config = |engine: &str| -> Value {
        json_of(
            gwstat()
                .env("GWSTAT_CONFIG", &config)
                .args(["report", log.to_str().unwrap(), "--format", "json", "-q"])
                .args(["--engine", engine]),
        )
    };
    let stream = with_config("stream");
    assert!(with_config("table") == stream);
    let routes: Vec<&str> = stream["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["route"].as_str())
        .collect();
    assert!(routes.contains(&"orders"), "{routes:?}");
}

#[test]
fn what_the_stream_cannot_do_falls_back_or_is_refused() {
    // Metrics among the inputs: auto builds the table (and reconciles); stream refuses.
    let auto = report("auto", &["sample-logs/"]);
    assert!(auto["reconciliation"].is_object());
    let refused = gwstat()
        .args(["report", "sample-logs/", "--engine", "stream", "-q"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reconcile"));

    // A lone relative bound depends on the data's range.
    let input = "sample-logs/rest-api-json-custom.log";
    let relative = report("auto", &[input, "--since", "-15m"]);
    assert_eq!(relative, report("table", &[input, "--since", "-15m"]));
    let refused = gwstat()
        .args(["report", input, "--since", "-15m", "--engine", "stream"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("relative"));

    // Execution logs are joined by request ID: auto builds the table, read once with the IDs;
    // stream refuses before reading.
    let both = [input, "sample-logs/execution-logs/"];
    let auto = report("auto", &both);
    assert!(auto["execution"]["joined"].as_u64().unwrap() > 0);
    assert_eq!(auto, report("table", &both));
    let refused = gwstat()
        .args(["report", "--engine", "stream"])
        .args(both)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("execution logs"));
}
