//! WebSocket API access logs (tests/fixtures/real/websocket-cloudwatch-export.log: a JSON
//! format with AWS's WebSocket `$context` variables, exported from CloudWatch Logs to S3, so
//! every line starts with its event time). Its 15 events, by connection:
//!
//! | connection | events | outcome |
//! |---|---|---|
//! | A | CONNECT, `$default`, `sendmessage` ×2 (one 500), DISCONNECT at 60 s | 60 000 ms, 3 messages |
//! | B | CONNECT at 0.5 s, `sendmessage`, DISCONNECT at 120.5 s | 120 000 ms, 1 message |
//! | C | CONNECT refused with 403 | refused |
//! | D | CONNECT at 5 s, `$default` ×2, no DISCONNECT | open at the end, 2 messages |
//! | E | connected 30 s before the log: `sendmessage`, DISCONNECT at 9 s | 39 000 ms (`connectedAt`) |
//! | F | DISCONNECT only, `connectedAt` `-` | duration unknown |

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{gwstat, json_of};

const EXPORT: &str = "tests/fixtures/real/websocket-cloudwatch-export.log";
const ELASTIC: &str = "tests/fixtures/real-logs/websocket-json.log";

fn report(args: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("report")
            .args(args)
            .args(["--format", "json", "-q", "--strict"]),
    )
}

fn stats(v: &Value) -> [Option<f64>; 7] {
    ["min", "p50", "p90", "p99", "max", "mean", "count"].map(|k| v[k].as_f64())
}

#[test]
fn connections_durations_and_messages_per_connection() {
    let r = report(&[EXPORT]);
    assert_eq!(r["inputs"]["records"], 15);
    assert_eq!(r["inputs"]["files"][0]["format"], "cloudwatch-export/json");
    let ws = &r["websocket"];
    assert_eq!(ws["events"], 15);
    assert_eq!(ws["start"], "2026-11-24T10:00:00Z");
    assert_eq!(ws["end"], "2026-11-24T10:02:00.500Z");
    let e = &ws["events_by_type"];
    assert_eq!(
        [&e["connect"], &e["message"], &e["disconnect"], &e["other"]],
        [4, 7, 4, 0].map(Value::from).each_ref()
    );
    let c = &ws["connections"];
    assert_eq!(
        [&c["opened"], &c["refused"], &c["closed"], &c["open_at_end"]],
        [3, 1, 4, 1].map(Value::from).each_ref()
    );
    assert_eq!(c["tracked"], 5);
    assert_eq!(c["untracked_events"], 0);
    // A 60 s, B 120 s, E 39 s; F's start is unknown.
    assert_eq!(
        stats(&ws["duration_ms"]),
        [
            Some(39_000.0),
            Some(60_000.0),
            Some(108_000.0),
            Some(118_800.0),
            Some(120_000.0),
            Some(73_000.0),
            Some(3.0)
        ]
    );
    assert_eq!(ws["durations_unknown"], 1);
    // Connections opened in the log: A 3, B 1, D 2 (E's CONNECT came before it).
    assert_eq!(
        stats(&ws["messages_per_connection"]),
        [
            Some(1.0),
            Some(2.0),
            Some(2.8),
            Some(2.98),
            Some(3.0),
            Some(2.0),
            Some(3.0)
        ]
    );
}

#[test]
fn errors_and_integration_latency_by_route_key() {
    let r = report(&[EXPORT]);
    // (route key, events, errors, 4xx, 5xx, integration p50, integration p99)
    type Row<'a> = (&'a str, u64, u64, u64, u64, Option<f64>, Option<f64>);
    let keys: Vec<Row> = r["websocket"]["by_route_key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let l = &k["integration_latency_ms"];
            (
                k["route_key"].as_str().unwrap(),
                k["events"].as_u64().unwrap(),
                k["errors"].as_u64().unwrap(),
                k["status_4xx"].as_u64().unwrap(),
                k["status_5xx"].as_u64().unwrap(),
                l["p50"].as_f64(),
                l["p99"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("$connect", 4, 1, 1, 0, Some(36.5), Some(39.94)),
            ("$disconnect", 4, 0, 0, 0, Some(8.0), Some(8.98)),
            ("sendmessage", 4, 1, 0, 1, Some(21.0), Some(28.79)),
            ("$default", 3, 0, 0, 0, Some(14.0), Some(15.96)),
        ]
    );
    let top = report(&[EXPORT, "--top", "1"]);
    assert_eq!(
        top["websocket"]["by_route_key"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn websocket_events_are_not_http_requests() {
    let r = report(&[EXPORT]);
    assert_eq!(r["summary"]["requests"], 0);
    assert_eq!(r["errors"]["by_status"], Value::Array(vec![]));
    assert_eq!(r["latency"]["by_route"], Value::Array(vec![]));
    // Elastic's real WebSocket lines: three refused CONNECTs and one 403 that logged no
    // event type or connection (`-`), which stays an HTTP-style request.
    let r = report(&[ELASTIC]);
    assert_eq!(r["summary"]["requests"], 1);
    assert_eq!(r["summary"]["status_classes"]["4xx"], 1);
    let ws = &r["websocket"];
    assert_eq!(ws["events"], 3);
    assert_eq!(ws["connections"]["refused"], 3);
    assert_eq!(ws["connections"]["opened"], 0);
    assert_eq!(ws["by_route_key"][0]["route_key"], "$connect");
    assert_eq!(ws["by_route_key"][0]["status_5xx"], 3);
}

#[test]
fn no_websocket_section_without_websocket_events() {
    let r = report(&["tests/fixtures/real-logs/rest-json-preset.log"]);
    assert!(r.get("websocket").is_none(), "{}", r["websocket"]);
}

#[test]
fn both_engines_and_time_filters_agree() {
    let stream = report(&[EXPORT, "--engine", "stream"]);
    let table = report(&[EXPORT, "--engine", "table"]);
    assert_eq!(stream["websocket"], table["websocket"]);
    // Before 10 s (`--until` is exclusive): A, B and D are open at the end, E closed.
    let early = report(&[EXPORT, "--until", "2026-11-24T10:00:10Z"]);
    let c = &early["websocket"]["connections"];
    assert_eq!(early["websocket"]["events"], 12);
    assert_eq!(early["inputs"]["filtered_out"], 3);
    assert_eq!(
        [&c["opened"], &c["closed"], &c["open_at_end"]],
        [3, 1, 3].map(Value::from).each_ref()
    );
}

#[test]
fn every_output_format_shows_the_section() {
    for (format, expected) in [
        ("table", "WebSocket route keys"),
        ("markdown", "## WebSocket route keys"),
        ("csv", "websocket_route_key,sendmessage,,status_5xx,1\n"),
        ("html", "WebSocket route keys"),
    ] {
        gwstat()
            .args(["report", EXPORT, "--format", format])
            .assert()
            .success()
            .stdout(predicate::str::contains(expected));
    }
    gwstat()
        .args(["report", EXPORT, "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "websocket,duration_ms,,p99,118800\n",
        ))
        .stdout(predicate::str::contains(
            "websocket,connections,,open_at_end,1\n",
        ));
}

#[test]
fn section_websocket_shows_only_the_websocket_tables() {
    gwstat()
        .args(["report", EXPORT, "--section", "websocket", "-q"])
        .env("NO_COLOR", "1")
        .assert()
        .success()
        .stdout(predicate::str::contains("WebSocket route keys"))
        .stdout(predicate::str::contains("WebSocket connections"))
        .stdout(predicate::str::contains("Latency").not());
}

#[test]
fn connections_spread_over_many_chunks_join_in_both_engines() {
    // 3000 connections, one opening every 100 ms, each lasting 1–7 s with 0–4 messages and
    // no `connectedAt`: durations need each DISCONNECT joined with a CONNECT that a file of
    // ~2 MB puts in another decode chunk.
    const BASE_MS: i64 = 1_795_514_400_000;
    let mut events: Vec<(i64, String)> = Vec::new();
    for i in 0..3000i64 {
        let id = format!("c{i:06}AMCJ9Q=");
        let start = BASE_MS + i * 100;
        let line = |t: i64, kind: &str, route: &str| {
            format!(
                r#"{{"requestId":"r{t}{kind}","requestTimeEpoch":"{t}","eventType":"{kind}","routeKey":"{route}","status":"200","connectionId":"{id}","connectedAt":"-","integrationLatency":"{}","stage":"production"}}"#,
                i % 50
            )
        };
        events.push((start, line(start, "CONNECT", "$connect")));
        for j in 0..i % 5 {
            let t = start + 100 * (j + 1);
            events.push((t, line(t, "MESSAGE", "$default")));
        }
        let end = start + 1000 * (i % 7 + 1);
        events.push((end, line(end, "DISCONNECT", "$disconnect")));
    }
    events.sort();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ws.log");
    let text: String = events.iter().map(|(_, l)| format!("{l}\n")).collect();
    assert!(text.len() > 1 << 20, "{} bytes", text.len());
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let stream = report(&[path, "--engine", "stream"]);
    let table = report(&[path, "--engine", "table"]);
    assert_eq!(stream["websocket"], table["websocket"]);
    let ws = &stream["websocket"];
    assert_eq!(ws["events"], 3000 * 2 + 6000);
    let c = &ws["connections"];
    assert_eq!(
        [&c["opened"], &c["closed"], &c["open_at_end"], &c["tracked"]],
        [3000, 3000, 0, 3000].map(Value::from).each_ref()
    );
    assert_eq!(c["untracked_events"], 0);
    assert_eq!(ws["durations_unknown"], 0);
    let d = &ws["duration_ms"];
    assert_eq!(
        [
            d["count"].as_f64(),
            d["min"].as_f64(),
            d["p50"].as_f64(),
            d["max"].as_f64()
        ],
        [Some(3000.0), Some(1000.0), Some(4000.0), Some(7000.0)]
    );
    let m = &ws["messages_per_connection"];
    assert_eq!(
        [
            m["count"].as_f64(),
            m["p50"].as_f64(),
            m["mean"].as_f64(),
            m["max"].as_f64()
        ],
        [Some(3000.0), Some(2.0), Some(2.0), Some(4.0)]
    );
}

#[test]
fn a_baseline_comparison_has_no_websocket_routes() {
    let r = report(&[ELASTIC, "--compare", EXPORT]);
    let routes: Vec<&Value> = r["comparison"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    // Only the Elastic log's one HTTP-style request (no route logged) is compared.
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0]["route"], Value::Null);
    assert_eq!(routes[0]["requests_before"], 0);
    assert_eq!(r["comparison"]["baseline_requests"], 0);
}
