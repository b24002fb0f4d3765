//! `gwstat export`: the request table as Parquet (read back with polars' own reader) and CSV.

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

#[test]
fn csv_follows_the_extension_and_matches_the_parquet_export() {
    let dir = tempfile::tempdir().unwrap();
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample-logs/rest-api-json-custom.log"
    );
    let (csv_path, parquet_path) = (dir.path().join("r.csv"), dir.path().join("r.parquet"));
    for path in [&csv_path, &parquet_path] {
        gwstat()
            .args(["export", sample, "-q", "-o"])
            .arg(path)
            .assert()
            .success();
    }
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(!bytes.starts_with(b"PAR1"), "-o r.csv wrote Parquet");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "RFC 4180 line ends");
    let parquet = ParquetReader::new(std::fs::File::open(&parquet_path).unwrap())
        .finish()
        .unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, gwstat::cli::export::EXPORT_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), parquet.height());
    // Every cell equals the Parquet one: the same rows in the same order, missing values
    // empty, milliseconds to at most 3 decimals.
    for (index, name) in header.iter().enumerate() {
        let column = parquet
            .column(name)
            .unwrap()
            .as_materialized_series()
            .clone();
        for (row, record) in records.iter().enumerate() {
            let text = &record[index];
            let value = column.get(row).unwrap();
            match value {
                polars::prelude::AnyValue::Null => assert_eq!(text, "", "{name} row {row}"),
                polars::prelude::AnyValue::Float64(v) => {
                    let decimals = text.split('.').nth(1).map_or(0, str::len);
                    assert!(decimals <= 3, "{name} row {row}: {text}");
                    let parsed: f64 = text.parse().unwrap();
                    assert!(
                        (parsed - v).abs() < 0.0005,
                        "{name} row {row}: {text} vs {v}"
                    );
                }
                polars::prelude::AnyValue::String(v) => assert_eq!(text, v),
                other => assert_eq!(text, other.to_string(), "{name} row {row}"),
            }
        }
    }
}

#[test]
fn a_format_that_contradicts_the_extension_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    gwstat()
        .args(["export", "sample-logs/", "--format", "parquet", "-o"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "ends in .csv but --format is parquet",
        ));
    assert!(!out.exists());
    gwstat()
        .args(["export", "sample-logs/", "-o"])
        .arg(dir.path().join("out.dat"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "end the name in .parquet or .csv, or give --format parquet|csv",
        ));
    // --format decides for a name without an extension of its own.
    let out = dir.path().join("requests");
    gwstat()
        .args([
            "export",
            "sample-logs/rest-api-clf.log",
            "-q",
            "--format",
            "csv",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("time_ms,second,"));
}
