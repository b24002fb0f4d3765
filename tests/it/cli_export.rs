//! `gwstat export`: the request table as Parquet, read back with polars' own reader.

use polars_io::parquet::read::ParquetReader;
use polars_io::SerReader;

use crate::common::gwstat;

#[test]
fn parquet_holds_every_request_with_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.parquet");
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample-logs/rest-api-json-custom.log"
    );
    gwstat()
        .args(["export", sample, "-o"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicates::str::contains("wrote"));
    let report: serde_json::Value = serde_json::from_slice(
        &gwstat()
            .args(["report", sample, "--format", "json", "-q"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    assert_eq!(
        frame.height() as u64,
        report["summary"]["requests"].as_u64().unwrap()
    );
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, gwstat::cli::export::EXPORT_COLUMNS);
    // Routes are names, and the busiest route has the report's count.
    let busiest = &report["latency"]["by_route"][0];
    let route = busiest["route"].as_str().unwrap();
    let stage = busiest["stage"].as_str().unwrap();
    let routes = frame.column("route").unwrap().str().unwrap().clone();
    let stages = frame.column("stage").unwrap().str().unwrap().clone();
    let n = routes
        .iter()
        .zip(stages.iter())
        .filter(|(r, s)| *r == Some(route) && *s == Some(stage))
        .count();
    assert_eq!(n as u64, busiest["count"].as_u64().unwrap());
    let status = frame.column("status").unwrap().u32().unwrap().clone();
    let n504 = status.iter().filter(|s| *s == Some(504)).count() as u64;
    let by_status = report["errors"]["by_status"].as_array().unwrap();
    let expected = by_status
        .iter()
        .find(|s| s["status"] == 504)
        .map_or(0, |s| s["count"].as_u64().unwrap());
    assert_eq!(n504, expected);
}

#[test]
fn unwritable_output_is_a_clear_error() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs/rest-api-clf.log");
    gwstat()
        .args(["export", sample, "-q", "-o", "/nonexistent-dir/x.parquet"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "cannot create /nonexistent-dir/x.parquet",
        ));
}
