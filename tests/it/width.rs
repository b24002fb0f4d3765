//! Output fits the width: `--width N`, else `COLUMNS`, else the terminal, else 100 when piped.
//! Every command that prints tables or prose is run at 60, 80 and 200 columns: no line is
//! longer (colour codes stripped), the key columns survive, long routes lose their middle.

use std::time::Duration;

use crate::common::gwstat;

const WIDTHS: [usize; 3] = [60, 80, 200];

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs gwstat with `args`, asserts success, returns stdout without colour codes.
fn output(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = gwstat();
    cmd.args(args).env_remove("COLUMNS").env_remove("LINES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "gwstat {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    strip_ansi(&String::from_utf8(out.stdout).unwrap())
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn assert_fits(text: &str, width: usize, what: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= width,
            "{what} at {width} columns: a line of {} characters:\n{line}\n\n{text}",
            line.chars().count()
        );
    }
}

/// The header row of the table under `title`.
fn header_after<'a>(text: &'a str, title: &str) -> &'a str {
    let start = text
        .find(&format!("\n{title}\n"))
        .unwrap_or_else(|| panic!("no {title:?} in\n{text}"));
    text[start..].lines().nth(3).unwrap()
}

fn fits_at_every_width(what: &str, args: &[&str]) -> Vec<String> {
    WIDTHS
        .iter()
        .map(|width| {
            let w = width.to_string();
            let mut all = vec!["--width", w.as_str()];
            all.extend_from_slice(args);
            let text = output(&all, &[]);
            assert!(!text.trim().is_empty(), "{what}: no output");
            assert_fits(&text, *width, what);
            text
        })
        .collect()
}

#[test]
fn report_tables_fit_and_keep_their_key_columns() {
    let texts = fits_at_every_width("report", &["report", "sample-logs/", "-q"]);
    for text in &texts {
        let by_route = header_after(text, "Latency by route");
        for key in ["route", "stage", "requests", "p99"] {
            assert!(by_route.contains(key), "{key} missing: {by_route}");
        }
        let by_status = header_after(text, "Errors by status");
        assert!(by_status.contains("status") && by_status.contains("count"));
    }
    // At 200 columns nothing is left out; at 60 the least valuable columns are, and said so.
    assert!(!texts[2].contains("hidden to fit"));
    assert!(texts[0].contains("hidden to fit 60 columns: "));
    assert!(header_after(&texts[2], "Latency by route").contains("overhead p50"));
    assert!(!header_after(&texts[0], "Latency by route").contains("overhead p50"));
    // Colour codes are not counted against the width.
    let coloured = output(
        &[
            "report",
            "sample-logs/",
            "-q",
            "--color",
            "always",
            "--width",
            "80",
        ],
        &[],
    );
    assert_fits(&coloured, 80, "report --color always");
}

#[test]
fn long_routes_lose_their_middle() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let route = "/accounts/{accountId}/orders/{orderId}/items/{itemId}/history";
    let lines: Vec<String> = (0..20)
        .map(|i| {
            format!(
                "{{\"requestId\":\"r{i}\",\"requestTime\":\"24/Nov/2026:10:00:{:02} +0000\",\
                 \"httpMethod\":\"GET\",\"resourcePath\":\"{route}\",\"status\":\"{}\",\
                 \"responseLatency\":\"{}\",\"integrationLatency\":\"{}\",\"stage\":\"prod\"}}",
                i,
                if i % 5 == 0 { 429 } else { 200 },
                40 + i,
                30 + i
            )
        })
        .collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let path = log.to_str().unwrap();
    let narrow = output(&["--width", "60", "report", path, "-q"], &[]);
    assert_fits(&narrow, 60, "report with a long route");
    let shortened: Vec<&str> = narrow
        .lines()
        .filter(|l| l.contains("GET /accounts") && l.contains('…'))
        .collect();
    assert!(!shortened.is_empty(), "no shortened route in\n{narrow}");
    assert!(shortened.iter().all(|l| l.contains("history")));
    let wide = output(&["--width", "200", "report", path, "-q"], &[]);
    assert!(wide.contains(&format!("GET {route}")));
}

#[test]
fn other_commands_fit() {
    let gateway = "sample-logs/gateway.toml";
    let log = "sample-logs/rest-api-json-custom.log";
    fits_at_every_width("metrics", &["metrics", "sample-logs/metrics/", "-q"]);
    for text in fits_at_every_width("traces", &["traces", "sample-logs/traces/", "-q"]) {
        let header = header_after(&text, "Where the time goes per route, ms (mean / p99)");
        assert!(header.contains("route") && header.contains("gateway"));
    }
    for text in fits_at_every_width(
        "limits suggest",
        &["limits", "suggest", log, "--gateway", gateway, "-q"],
    ) {
        let header = text.lines().find(|l| l.contains("scope")).unwrap();
        for key in ["name", "rate", "burst"] {
            assert!(header.contains(key), "{key} missing: {header}");
        }
    }
    fits_at_every_width("replay", &["replay", log, "--gateway", gateway, "-q"]);
    fits_at_every_width(
        "replay --sweep",
        &[
            "replay",
            log,
            "--gateway",
            gateway,
            "--sweep",
            "stage.prod.rate=10..50:40",
            "-q",
        ],
    );
    fits_at_every_width("gateway check", &["gateway", "check", gateway]);
    fits_at_every_width("config show", &["config", "show"]);
    fits_at_every_width(
        "explain",
        &[
            "explain",
            "8e88a4e6-4d75-4b0a-b5f6-c23517e60f35",
            log,
            "sample-logs/execution-logs/",
            "-q",
        ],
    );
}

#[test]
fn width_comes_from_the_flag_then_columns_then_100() {
    let args = ["report", "sample-logs/", "-q"];
    // Piped, nothing said: 100 columns.
    let piped = output(&args, &[]);
    assert!(
        widest(&piped) <= 100 && widest(&piped) > 80,
        "{}",
        widest(&piped)
    );
    // COLUMNS is honoured when piped.
    let columns = output(&args, &[("COLUMNS", "70")]);
    assert_fits(&columns, 70, "COLUMNS=70");
    // --width wins over COLUMNS; 0 is no limit.
    let flag = output(
        &["--width", "150", "report", "sample-logs/", "-q"],
        &[("COLUMNS", "70")],
    );
    assert!(widest(&flag) > 100 && widest(&flag) <= 150);
    let unlimited = output(&["report", "sample-logs/", "-q", "--width", "0"], &[]);
    assert!(widest(&unlimited) > 150, "{}", widest(&unlimited));
    gwstat()
        .args(["report", "sample-logs/", "--width", "10"])
        .assert()
        .code(2);
}

#[test]
fn follow_fits_the_height() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::copy(
        crate::common::root().join("sample-logs/rest-api-json-custom.log"),
        &log,
    )
    .unwrap();
    let mut cmd = gwstat();
    cmd.args(["report", "--follow"])
        .arg(&log)
        .args([
            "--window",
            "1h",
            "--interval",
            "300ms",
            "--stop-after",
            "2s",
            "-q",
        ])
        .args(["--width", "80"])
        .env("LINES", "30")
        .timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let reports: Vec<&str> = text
        .split("gwstat report --follow ")
        .filter(|r| !r.is_empty())
        .collect();
    assert!(reports.len() >= 2, "{text}");
    let (last, refreshed) = reports.split_last().unwrap();
    for report in refreshed {
        assert!(report.lines().count() <= 30, "{report}");
        assert!(report.contains("Summary"), "{report}");
        assert!(report.contains("… fitted to 28 lines"), "{report}");
        assert_fits(report, 80, "follow");
    }
    // The final report is whole.
    assert!(last.contains("(final)") && last.lines().count() > 100);
}
