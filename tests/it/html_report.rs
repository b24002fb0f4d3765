//! The HTML report: structure and numbers against the JSON report, and a real headless
//! Chromium (installed by scripts/test.sh) that loads it without console errors and saves a
//! screenshot under target/test-output/.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{gwstat, root};

fn html_report(dir: &Path, args: &[&str]) -> String {
    let path = dir.join("report.html");
    gwstat()
        .args(args)
        .args(["--format", "html", "-q", "--output"])
        .arg(&path)
        .assert()
        .success();
    std::fs::read_to_string(path).unwrap()
}

/// The `<td>` texts of each body row of the `n`-th chart's number table.
fn chart_rows(html: &str, n: usize) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("data-chart=\"{n}\""))
        .expect("chart present");
    let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
    let body = &figure[figure.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let open = cell.find('>').unwrap() + 1;
                    cell[open..cell.find("</td>").unwrap()].to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn html_report_is_self_contained_and_matches_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let html = html_report(dir.path(), &["report", "sample-logs/"]);
    let json: Value = serde_json::from_slice(
        &gwstat()
            .args(["report", "sample-logs/", "--format", "json", "-q"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing from the network: no scripts, styles, images or fonts from elsewhere.
    for forbidden in ["<link", " src=", "@import", "url("] {
        assert!(!html.contains(forbidden), "{forbidden} in the HTML");
    }
    let outside: Vec<&str> = html
        .match_indices("://")
        .map(|(i, _)| &html[i.saturating_sub(5)..])
        .filter(|s| !s[..s.len().min(40)].contains("http://www.w3.org/2000/svg"))
        .map(|s| &s[..s.len().min(40)])
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    for title in [
        "Requests by status class",
        "Error rate",
        "Latency percentiles",
        "Latency per route",
        "429s by route",
        "Most throttled API keys",
    ] {
        assert!(
            html.contains(&format!("<h2>{title}")),
            "{title} chart missing"
        );
    }
    // The cache section's numbers come from the metrics here: no chart of the access-log
    // inference beside them (it disagreed with the table).
    assert_eq!(json["cache"]["source"], "metrics");
    assert!(!html.contains("<h2>Cache hit ratio"));
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 6);
    // The stacked chart's table adds up to the JSON's status classes.
    let rows = chart_rows(&html, 0);
    let sum = |col: usize| -> u64 { rows.iter().map(|r| r[col].parse::<u64>().unwrap()).sum() };
    let classes = &json["summary"]["status_classes"];
    assert_eq!(sum(1), classes["2xx"].as_u64().unwrap());
    assert_eq!(sum(3), classes["4xx"].as_u64().unwrap());
    assert_eq!(sum(4), classes["5xx"].as_u64().unwrap());
    assert_eq!(
        rows.len(),
        json["timeline"]["bins"].as_array().unwrap().len()
    );
    // The per-route chart shows the JSON's p99s; every section is there as a table.
    let first_route = &json["latency"]["by_route"][0];
    let p99 = first_route["latency_ms"]["p99"].as_f64().unwrap();
    let route_rows = chart_rows(&html, 3);
    assert!(route_rows[0][0].starts_with(first_route["route"].as_str().unwrap()));
    let shown: f64 = route_rows[0][3].parse().unwrap();
    assert!((shown - p99).abs() < 0.1, "{shown} vs {p99}");
    for section in [
        "Summary",
        "Errors by status",
        "Throttling",
        "Routes over time",
        "Latency distribution",
    ] {
        assert!(
            html.contains(&format!("<h2>{section}")),
            "{section} missing"
        );
    }
    // Hover values on the marks.
    assert!(html.contains("<title>"));
}

#[test]
fn metrics_traces_and_replay_have_html_too() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = html_report(dir.path(), &["metrics", "sample-logs/metrics/"]);
    assert!(metrics.contains("<h2>Requests and errors — shop-api / prod"));
    assert!(metrics.contains("<h2>Latency — shop-api / prod"));
    let traces = html_report(dir.path(), &["traces", "sample-logs/traces/"]);
    assert!(traces.contains("<h2>Where the time goes per route (mean ms)"));
    let replay = html_report(
        dir.path(),
        &[
            "replay",
            "sample-logs/rest-api-json-custom.log",
            "--gateway",
            "sample-logs/gateway.toml",
        ],
    );
    assert!(replay.contains("429s observed in the log vs predicted by the gateway core"));
    assert!(replay.contains("<h2>By route"));
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Process::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!("headless Chromium is needed for this test: run scripts/test.sh (it installs the Debian chromium package)");
}

/// Runs Chromium with a deadline; returns (stdout, stderr). Output goes to files, so a large
/// DOM dump cannot fill a pipe and stall the browser.
fn run_browser(dir: &Path, args: &[String]) -> (String, String) {
    let (out_path, err_path) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let mut child = Process::new(chromium())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        String::from_utf8_lossy(&std::fs::read(out_path).unwrap()).into_owned(),
        String::from_utf8_lossy(&std::fs::read(err_path).unwrap()).into_owned(),
    )
}

#[test]
fn html_report_opens_in_headless_chromium_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    html_report(dir.path(), &["report", "sample-logs/"]);
    let url = format!("file://{}", dir.path().join("report.html").display());
    let profile = dir.path().join("profile");
    let common = [
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--disable-extensions".into(),
        format!("--user-data-dir={}", profile.display()),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
    ];
    // The DOM after scripts ran: the page's script marks the body when it finished.
    let mut args = common.to_vec();
    args.extend([
        "--virtual-time-budget=3000".into(),
        "--dump-dom".into(),
        url.clone(),
    ]);
    let (dom, log) = run_browser(dir.path(), &args);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script did not finish:\n{log}"
    );
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:#?}"
    );
    // A screenshot for people to look at.
    let shots = root().join("target/test-output");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    let _ = std::fs::remove_file(&png);
    let mut args = common.to_vec();
    args.extend([
        "--hide-scrollbars".into(),
        "--window-size=1200,3000".into(),
        format!("--screenshot={}", png.display()),
        url,
    ]);
    run_browser(dir.path(), &args);
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        bytes.len() > 50_000,
        "suspiciously small screenshot: {} bytes",
        bytes.len()
    );
}
