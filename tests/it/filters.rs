//! Filters mean the same everywhere: the reconciliation compares like with like under
//! filters metrics cannot take, execution records follow the filtered requests, and a filter
//! that matches nothing says why, with the nearest values that exist.

use predicates::prelude::*;

use crate::common::{gwstat, json_of};

const SAMPLE: &str = "sample-logs/rest-api-json-custom.log";

#[test]
fn the_readme_filter_example_reconciles_like_with_like() {
    let filtered = json_of(gwstat().args([
        "report",
        "sample-logs/",
        "--since",
        "2026-11-24T10:00Z",
        "--until",
        "+2h",
        "--stage",
        "prod",
        "--status",
        "5xx,!504",
        "-q",
        "-f",
        "json",
    ]));
    let unfiltered = json_of(gwstat().args(["report", "sample-logs/", "-q", "-f", "json"]));
    let rec = &filtered["reconciliation"];
    let stages = rec["stages"].as_array().unwrap();
    // Only the filtered stage is compared, and on all its requests (the metrics cannot be
    // split by status): the bins that differ are the unfiltered report's, not 43.
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0]["stage"], "prod");
    assert_eq!(stages[0]["flagged_bins"], 2);
    let prod = unfiltered["reconciliation"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "prod")
        .unwrap();
    assert_eq!(stages[0]["totals"], prod["totals"]);
    assert!(rec["notes"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .starts_with("--status cannot apply to CloudWatch metrics")));
    assert_eq!(filtered["summary"]["requests"], 44);
    // Execution records: only the filtered requests'.
    assert_eq!(unfiltered["execution"]["requests"], 7777);
    assert_eq!(filtered["execution"]["requests"], 37);
    let note = filtered["cache"]["note"].as_str().unwrap();
    assert!(note.contains("stage(s) prod"), "{note}");
    assert!(
        note.contains("not filtered by --since/--until, --status"),
        "{note}"
    );
}

#[test]
fn a_route_filter_on_raw_paths_is_explained_with_the_templated_routes() {
    // Raw paths (`$context.path`) are templated before any filter sees them: the hint says so
    // in both engines, naming templated routes and never blaming a route that matches.
    let raw = "tests/fixtures/routes/http-api-path.log";
    for engine in ["stream", "table"] {
        gwstat()
            .args([
                "report",
                raw,
                "--engine",
                engine,
                "--route",
                "GET /orders/{id}",
                "--stage",
                "prdo",
                "-f",
                "json",
            ])
            .assert()
            .code(0)
            .stderr(predicate::str::contains(
                "--stage prdo matches no stage in the inputs; the inputs have $default\n",
            ))
            .stderr(predicate::str::contains("--route").not());
        gwstat()
            .args([
                "report", raw, "--engine", engine, "--route", "GET /order/{id}", "-f", "json",
            ])
            .assert()
            .code(0)
            .stderr(predicate::str::contains(
                "--route GET /order/{id} matches no route in the inputs; nearest: GET /orders/{id}, GET /files/{id}\n",
            ));
    }
}

#[test]
fn a_filter_that_matches_nothing_names_the_nearest_values_and_exits_0() {
    for engine in ["stream", "table"] {
        gwstat()
            .args([
                "report", SAMPLE, "--engine", engine, "--stage", "prdo", "--api-key",
                "burst4r8q", "--route", "POST /order", "-f", "json",
            ])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("\"requests\": 0"))
            .stderr(predicate::str::contains(
                "gwstat: no request matches the filters: --stage prdo matches no stage in the inputs; nearest: prod\n",
            ))
            .stderr(predicate::str::contains(
                "--api-key burst4r8q matches no API key in the inputs; nearest: burst4r8qz\n",
            ))
            .stderr(predicate::str::contains(
                "--route POST /order matches no route in the inputs; nearest: POST /orders\n",
            ));
    }
    gwstat()
        .args(["report", SAMPLE, "--since", "2027-01-01", "-f", "json"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "--since/--until select 2027-01-01T00:00:00Z – the end; the inputs span 2026-11-24T10:00:01.760Z – 2026-11-24T10:59:59.940Z",
        ));
    // Each filter matches something, together nothing: said as such.
    gwstat()
        .args([
            "report", SAMPLE, "--method", "POST", "--route", "GET*", "-f", "json",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "each filter matches some requests, but no request matches them all together",
        ));
    // -q keeps stderr quiet; a filter that matches is not commented.
    gwstat()
        .args(["report", SAMPLE, "--stage", "prdo", "-q", "-f", "json"])
        .assert()
        .code(0)
        .stderr(predicate::str::is_empty());
    gwstat()
        .args(["report", SAMPLE, "--stage", "prod", "-f", "json"])
        .assert()
        .stderr(predicate::str::contains("no request matches").not());
}
