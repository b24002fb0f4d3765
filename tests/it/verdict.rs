//! The verdict: the screen `report` opens with fits 20 lines of 80 columns, its findings
//! carry the numbers the sections show and a next command that runs, `--section` chooses the
//! parts, and every key number in the HTML is the JSON's.

use std::path::Path;

use serde_json::Value;

use crate::common::{gwstat, json_of};

/// The lines before the first table's title (`Summary`): the verdict screen, at 80 columns.
fn screen(args: &[&str]) -> Vec<String> {
    let out = gwstat()
        .args(args)
        .args(["-q", "--width", "80"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<String> = text
        .lines()
        .take_while(|l| *l != "Summary")
        .map(str::to_string)
        .collect();
    assert!(
        text.contains("\nSummary\n"),
        "the tables follow the verdict"
    );
    lines
}

fn assert_fits(lines: &[String]) {
    // The screen, then one blank line before the tables.
    assert_eq!(lines.last().map(String::as_str), Some(""));
    let screen = &lines[..lines.len() - 1];
    assert!(
        screen.len() <= 20,
        "{} lines:\n{}",
        screen.len(),
        screen.join("\n")
    );
    for line in screen {
        assert!(line.chars().count() <= 80, "wider than 80: {line}");
    }
    assert!(screen[0].starts_with("Verdict: "), "{}", screen[0]);
}

/// A log of an incident unlike the samples: ten times the traffic, another seed.
fn incident(dir: &Path) -> String {
    let path = dir.join("incident.log");
    gwstat()
        .args(["generate", "--format", "rest-json", "--requests", "8000"])
        .args(["--seed", "7", "-o"])
        .arg(&path)
        .assert()
        .success();
    path.display().to_string()
}

/// Splits a next command into words (single quotes only, as findings write them).
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn the_verdict_screen_fits_20_lines_of_80_columns_on_the_samples() {
    let lines = screen(&["report", "sample-logs/"]);
    assert_fits(&lines);
    let text = lines.join("\n");
    // Requests, error and 5xx rates, the p99 split, then the worst finding first.
    assert!(
        text.contains("24062 requests · errors 31.41% (5xx 0.63%"),
        "{text}"
    );
    assert!(text.contains("p99 589 ms: integration p99 868 ms, gateway overhead p99 25 ms"));
    assert!(lines[4].starts_with("✖ 429s: 29.72% of requests (7152), 65% from key burst4r8qz"));
    assert!(
        text.contains("→ gwstat report sample-logs/ --api-key burst4r8qz --route 'POST /orders'")
    );
}

#[test]
fn the_verdict_screen_fits_on_a_generated_incident() {
    let dir = tempfile::tempdir().unwrap();
    let log = incident(dir.path());
    let lines = screen(&["report", &log]);
    assert_fits(&lines);
    assert!(lines.iter().any(|l| l.starts_with("✖ 429s")), "{lines:#?}");
}

#[test]
fn findings_carry_the_numbers_the_sections_show_and_commands_that_run() {
    let report = json_of(gwstat().args(["report", "sample-logs/", "--format", "json", "-q"]));
    let findings = report["findings"].as_array().unwrap();
    let kind = |k: &str| -> &Value {
        findings
            .iter()
            .find(|f| f["kind"] == k)
            .unwrap_or_else(|| panic!("no {k} finding"))
    };
    let throttling = &kind("throttling")["numbers"];
    assert_eq!(throttling["throttled"], report["throttling"]["throttled"]);
    assert_eq!(throttling["requests"], report["summary"]["requests"]);
    assert_eq!(
        throttling["top_key_throttled"],
        report["throttling"]["by_api_key"][0]["throttled"]
    );
    assert_eq!(
        throttling["top_route_throttled"],
        report["throttling"]["by_route"][0]["throttled"]
    );
    assert_eq!(
        throttling["throttle_rate"],
        report["throttling"]["throttle_rate"]
    );
    let errors = &kind("server_errors")["numbers"];
    assert_eq!(errors["5xx"], report["summary"]["status_classes"]["5xx"]);
    assert_eq!(errors["5xx_rate"], report["summary"]["error_rate"]["5xx"]);
    let timeouts = &kind("integration_timeouts")["numbers"];
    assert_eq!(timeouts["timeouts"], report["timeouts"]["count"]);
    let inputs = &kind("input_problems")["numbers"];
    assert_eq!(inputs["skipped"], report["inputs"]["skipped"]);

    // Ranked by severity, then impact; each with a window inside the report's range.
    let rank = |s: &Value| match s.as_str().unwrap() {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    };
    for pair in findings.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            (rank(&a["severity"]), a["impact"].as_u64())
                >= (rank(&b["severity"]), b["impact"].as_u64()),
            "{a} before {b}"
        );
    }
    let window = &kind("throttling")["window"];
    assert_eq!(window["start"], "2026-11-24T10:18:00Z");
    assert_eq!(window["end"], "2026-11-24T10:19:30Z");

    // The next command runs, and narrows the report to what the finding names.
    let command = words(kind("throttling")["next_command"].as_str().unwrap());
    assert_eq!(&command[..3], ["gwstat", "report", "sample-logs/"]);
    let narrowed = json_of(
        gwstat()
            .args(&command[1..])
            .args(["--format", "json", "-q"]),
    );
    assert!(
        narrowed["summary"]["requests"].as_u64().unwrap()
            <= report["throttling"]["by_api_key"][0]["requests"]
                .as_u64()
                .unwrap()
    );
    assert_eq!(
        narrowed["throttling"]["by_api_key"][0]["api_key"],
        "burst4r8qz"
    );
    assert_eq!(
        narrowed["throttling"]["by_route"][0]["route"],
        "POST /orders"
    );
    // Every next command's flags and values are ones `report` takes (run on one file).
    for f in findings {
        let mut command = words(f["next_command"].as_str().unwrap());
        command[2] = "sample-logs/rest-api-json-custom.log".into();
        gwstat()
            .args(&command[1..])
            .args(["--format", "json", "-q", "--top", "1"])
            .assert()
            .success();
    }
}

#[test]
fn redacted_findings_name_no_key() {
    let out = gwstat()
        .args([
            "report",
            "sample-logs/",
            "--format",
            "json",
            "-q",
            "--redact",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("burst4r8qz"));
    let report: Value = serde_json::from_str(&text).unwrap();
    let first = &report["findings"][0];
    let key = first["api_key"].as_str().unwrap();
    assert!(key.starts_with("key-"));
    assert!(first["text"].as_str().unwrap().contains(key));
    assert!(first["next_command"].as_str().unwrap().contains(key));
}

#[test]
fn sections_choose_what_follows() {
    let run = |sections: &str| {
        let out = gwstat()
            .args([
                "report",
                "sample-logs/rest-api-json-custom.log",
                "-q",
                "--section",
                sections,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let verdict = run("verdict");
    assert!(verdict.starts_with("Verdict: "));
    assert!(!verdict.contains('┌'), "no tables:\n{verdict}");
    let keys = run("throttling,keys");
    assert!(!keys.contains("Verdict:") && !keys.contains("Summary"));
    for title in [
        "Throttling (429)",
        "Throttled routes",
        "Throttled API keys",
        "Busiest seconds",
    ] {
        assert!(
            keys.contains(&format!("{title}\n")),
            "{title} missing:\n{keys}"
        );
    }
    let only_keys = run("keys");
    assert!(only_keys.starts_with("Throttled API keys\n"), "{only_keys}");
    let findings = run("findings");
    assert!(findings.starts_with("Findings ("), "{findings}");
    assert!(findings.contains("--api-key burst4r8qz"));
    let markdown = gwstat()
        .args([
            "report",
            "sample-logs/rest-api-json-custom.log",
            "-q",
            "--format",
            "markdown",
        ])
        .args(["--section", "verdict,cache"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(markdown.contains("## Verdict\n") && markdown.contains("## Cache (source: inferred)"));
    assert!(!markdown.contains("## Summary"));
    gwstat()
        .args(["report", "sample-logs/", "--section", "nonsense"])
        .assert()
        .code(2);
}

/// The text between `from` and the next `to` after it.
fn between<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text.find(from).unwrap_or_else(|| panic!("{from} missing")) + from.len();
    &text[start..start + text[start..].find(to).unwrap()]
}

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn html_and_json(args: &[&str]) -> (String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    gwstat()
        .args(args)
        .args(["--format", "html", "-q", "-o"])
        .arg(&path)
        .assert()
        .success();
    let json = json_of(gwstat().args(args).args(["--format", "json", "-q"]));
    (std::fs::read_to_string(path).unwrap(), json)
}

/// Every tile's number is its JSON value as the tables show it; the findings are the
/// JSON's; the cache section's numbers are the JSON's whatever their source.
fn assert_html_numbers_are_the_jsons(html: &str, json: &Value) {
    let lead = between(html, "<section id=\"verdict\">", "</section>");
    let tiles: Vec<&str> = lead.split(" data-json=\"").skip(1).collect();
    assert!(tiles.len() >= 8, "{lead}");
    for tile in tiles {
        let pointer = &tile[..tile.find('"').unwrap()];
        let unit = between(tile, "data-unit=\"", "\"");
        let shown = between(tile, "<span class=\"value\">", "</span>");
        let value = json
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer} not in the JSON"));
        let expected = match (unit, value.as_f64()) {
            (_, None) => "-".to_string(),
            ("count", Some(_)) => value.to_string(),
            ("percent", Some(v)) => format!("{:.2}%", v * 100.0),
            ("ms", Some(v)) => {
                let v = (v * 100.0).round() / 100.0;
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            }
            other => panic!("unit {other:?}"),
        };
        assert_eq!(shown, expected, "{pointer}");
    }
    let items: Vec<&str> = lead.split("<li ").skip(1).collect();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(items.len(), findings.len());
    for (item, f) in items.iter().zip(findings) {
        assert_eq!(between(item, "data-kind=\"", "\""), f["kind"]);
        assert!(
            unescape(item).contains(f["text"].as_str().unwrap()),
            "{item}"
        );
        assert_eq!(
            unescape(between(item, "<code>", "</code>")),
            f["next_command"]
        );
    }
    let cache = &json["cache"];
    if let (Some(hits), Some(misses)) = (cache["hits"].as_u64(), cache["misses"].as_u64()) {
        let section = between(html, "<h2>Cache (source: ", "</section>");
        assert!(
            section.contains(&format!("<td>{hits} / {misses}</td>")),
            "{section}"
        );
        let ratio = format!("{:.2}%", cache["hit_ratio"].as_f64().unwrap() * 100.0);
        assert!(section.contains(&ratio), "{ratio} not in {section}");
    }
}

#[test]
fn html_tiles_and_findings_are_the_jsons_numbers() {
    // Cache from CloudWatch metrics: no chart of the access-log inference beside it.
    let (html, json) = html_and_json(&["report", "sample-logs/"]);
    assert_eq!(json["cache"]["source"], "metrics");
    assert_html_numbers_are_the_jsons(&html, &json);
    assert!(!html.contains("<h2>Cache hit ratio"));
    assert!(html.find("id=\"verdict\"").unwrap() < html.find("data-chart=\"0\"").unwrap());
    // Cache inferred from the access logs: the chart and the section tell the same story.
    let (html, json) = html_and_json(&["report", "sample-logs/rest-api-json-custom.log"]);
    assert_eq!(json["cache"]["source"], "inferred");
    assert_html_numbers_are_the_jsons(&html, &json);
    assert!(html.contains("<h2>Cache hit ratio"));
    let bins = json["timeline"]["bins"].as_array().unwrap();
    let hits: u64 = bins.iter().map(|b| b["cache_hits"].as_u64().unwrap()).sum();
    assert_eq!(Some(hits), json["cache"]["hits"].as_u64());
}
