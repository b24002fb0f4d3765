//! Route templates for logs that name only a raw path (tests/fixtures/routes/, written for
//! these tests in the shapes AWS documents): HTTP API JSON logs with `$context.path` and no
//! `routeKey`, a REST custom key-value format with only `path` (stage prefix included),
//! and templates given with `--route-template`, `--gateway` and `--openapi`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{gwstat, json_of};

const DIR: &str = "tests/fixtures/routes";

fn report(input: &str, args: &[&str]) -> Value {
    json_of(
        gwstat()
            .args([
                "report", input, "--format", "json", "-q", "--strict", "--top", "0",
            ])
            .args(args),
    )
}

/// Requests and template source per route (`-` when the log named the route).
fn routes(r: &Value) -> BTreeMap<String, (u64, String)> {
    r["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["route"].as_str().unwrap().to_string(),
                (
                    row["count"].as_u64().unwrap(),
                    row["template_source"].as_str().unwrap_or("-").to_string(),
                ),
            )
        })
        .collect()
}

fn expect(pairs: &[(&str, u64, &str)]) -> BTreeMap<String, (u64, String)> {
    pairs
        .iter()
        .map(|(route, n, source)| (route.to_string(), (*n, source.to_string())))
        .collect()
}

#[test]
fn http_api_paths_become_templates_with_their_methods() {
    let r = report(&format!("{DIR}/http-api-path.log"), &[]);
    assert_eq!(r["summary"]["requests"], 8);
    assert_eq!(
        routes(&r),
        expect(&[
            ("GET /users/{id}/orders/{id}", 2, "inferred"),
            ("DELETE /users/{id}", 2, "inferred"),
            ("GET /orders/{id}", 1, "inferred"),
            ("GET /files/{id}", 1, "inferred"),
            ("GET /health", 1, "-"),
            ("POST /orders", 1, "-"),
        ])
    );
    assert_eq!(r["summary"]["inferred_routes"], 4);
    // Percentiles of the joined paths: 35 and 45 ms.
    let users = r["latency"]["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["route"] == "GET /users/{id}/orders/{id}")
        .unwrap();
    assert_eq!(users["latency_ms"]["min"].as_f64(), Some(35.0));
    assert_eq!(users["latency_ms"]["max"].as_f64(), Some(45.0));
}

#[test]
fn a_custom_format_with_only_the_path_loses_its_stage_prefix() {
    let r = report(&format!("{DIR}/rest-custom-path.log"), &[]);
    assert_eq!(r["summary"]["requests"], 4);
    assert_eq!(
        routes(&r),
        expect(&[
            ("GET /pets/{id}", 2, "inferred"),
            ("POST /pets", 1, "-"),
            ("GET /pets/{id}/photos/{id}", 1, "inferred"),
        ])
    );
}

#[test]
fn explicit_templates_win_over_inference() {
    let log = format!("{DIR}/http-api-path.log");
    let openapi = report(&log, &["--openapi", &format!("{DIR}/openapi-export.json")]);
    assert_eq!(
        routes(&openapi),
        expect(&[
            ("GET /users/{userId}/orders/{orderId}", 2, "explicit"),
            ("DELETE /users/{userId}", 2, "explicit"),
            ("GET /files/{proxy+}", 1, "explicit"),
            // Not in the export: the token rules.
            ("GET /orders/{id}", 1, "inferred"),
            ("GET /health", 1, "-"),
            ("POST /orders", 1, "-"),
        ])
    );
    assert_eq!(openapi["summary"]["inferred_routes"], 1);

    let gateway = report(&log, &["--gateway", &format!("{DIR}/gateway.toml")]);
    let mut routes_of = routes(&gateway);
    assert_eq!(
        routes_of.remove("GET /orders/{orderId}"),
        Some((1, "explicit".into()))
    );
    assert_eq!(
        routes_of.remove("GET /files/{proxy+}"),
        Some((1, "explicit".into()))
    );
    assert_eq!(routes_of.remove("GET /health"), Some((1, "-".into())));

    // --route-template: repeatable, with or without a method; the most specific wins.
    let given = report(
        &log,
        &[
            "--route-template",
            "/users/{user}",
            "--route-template",
            "GET /users/{user}/orders/{order}",
        ],
    );
    let given = routes(&given);
    assert_eq!(
        given["GET /users/{user}/orders/{order}"],
        (2, "explicit".into())
    );
    assert_eq!(given["DELETE /users/{user}"], (2, "explicit".into()));
}

#[test]
fn bad_template_sources_are_refused_with_the_reason() {
    let log = format!("{DIR}/http-api-path.log");
    let out = gwstat()
        .args(["report", &log, "--route-template", "users/{id}"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("METHOD /path"));
    let out = gwstat()
        .args(["report", &log, "--openapi", &format!("{DIR}/gateway.toml")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("get-export"));
    // Logs Insights groups by the logged keys: templates would be silently ignored there.
    let out = gwstat()
        .args([
            "report",
            "--engine",
            "insights",
            "--log-group",
            "/aws/apigw/x",
        ])
        .args(["--route-template", "GET /users/{id}", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--engine stream or table"));
}

/// `n` GETs of `/teams/<slug>/members` with `n` distinct word slugs, and one `/teams/mine`.
fn team_log(dir: &std::path::Path, n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        let slug: String = (0..6)
            .map(|k| (b'a' + ((i * 7 + k * 3 + i / 26) % 26) as u8) as char)
            .collect();
        text.push_str(&format!(
            "{{\"requestTimeEpoch\":\"{}\",\"httpMethod\":\"GET\",\"path\":\"/teams/{slug}x{i:03}y/members\",\"status\":\"200\",\"responseLatency\":\"{}\"}}\n",
            1_795_575_364_000u64 + i as u64 * 1000,
            10 + i % 7
        ));
    }
    text.push_str("{\"requestTimeEpoch\":\"1795575364500\",\"httpMethod\":\"GET\",\"path\":\"/teams/mine\",\"status\":\"200\",\"responseLatency\":\"5\"}\n");
    let path = dir.join("teams.log");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_segment_with_too_many_values_under_one_parent_becomes_a_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let log = team_log(dir.path(), 30);
    for engine in ["stream", "table"] {
        // 31 distinct values under /teams: above 20, one template.
        let r = report(&log, &["--segment-cardinality", "20", "--engine", engine]);
        assert_eq!(
            routes(&r),
            expect(&[
                ("GET /teams/{id}/members", 30, "inferred"),
                ("GET /teams/{id}", 1, "inferred"),
            ]),
            "{engine}"
        );
        // The default threshold (100) keeps them apart.
        let r = report(&log, &["--engine", engine]);
        assert_eq!(r["latency"]["by_route"].as_array().unwrap().len(), 31);
        assert!(r["summary"].get("inferred_routes").is_none(), "{engine}");
    }
}

#[test]
fn both_engines_give_the_same_templates() {
    for (file, args) in [
        ("http-api-path.log", vec![]),
        ("rest-custom-path.log", vec![]),
        (
            "http-api-path.log",
            vec!["--openapi", "tests/fixtures/routes/openapi-export.json"],
        ),
        ("http-api-path.log", vec!["--route", "GET /users/{id}/*"]),
    ] {
        let input = format!("{DIR}/{file}");
        let run = |engine: &str| {
            let mut args = args.clone();
            args.extend(["--engine", engine]);
            report(&input, &args)
        };
        let (stream, table) = (run("stream"), run("table"));
        assert_eq!(stream["summary"], table["summary"], "{file} {args:?}");
        assert_eq!(stream["latency"], table["latency"], "{file} {args:?}");
        assert_eq!(stream["errors"], table["errors"], "{file} {args:?}");
    }
}

#[test]
fn the_table_marks_inferred_routes() {
    let out = gwstat()
        .args([
            "report",
            &format!("{DIR}/http-api-path.log"),
            "--color",
            "never",
            "--width",
            "200",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GET /users/{id}/orders/{id} ~"), "{text}");
    assert!(text.contains("inferred routes"), "{text}");
    assert!(!text.contains("POST /orders ~"), "{text}");
}
