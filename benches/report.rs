//! The report's aggregations (criterion) on 200,000 generated REST requests: the table
//! engine's fold of the request columns into aggregates, every section from the streaming
//! engine's aggregates, and the streaming engine end to end (decode, aggregate, sections) at
//! the three cardinalities of `scripts/bench.sh` (low: the sample API; realistic: 120 routes ×
//! 3 stages, 14 statuses, 60 keys; high: raw paths, tens of thousands distinct). Rows per
//! second are the figure to watch; the whole-process benchmark against DuckDB is
//! `scripts/bench.sh`. Run: `cargo bench --bench report`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::aggregate::{fold_columns, Accumulator, AggregateOptions};
use gwstat::analyze::{build_report, AnalyzeOptions};
use gwstat::generate::workload::{write_workload, Cardinality, WorkloadOptions};
use gwstat::generate::{write_log, GenerateOptions, SampleFormat};
use gwstat::ingest::{ingest, ingest_into, IngestOptions};
use gwstat::report::Inputs;
use gwstat::source::Input;

const REQUESTS: u64 = 200_000;

/// The generated log, as a file.
fn log_file(dir: &tempfile::TempDir) -> Input {
    let path = dir.path().join("rest.log");
    let mut bytes = Vec::new();
    write_log(
        &GenerateOptions {
            format: SampleFormat::RestJson,
            requests: REQUESTS,
            seconds: 3600,
            start_ms: 1_795_514_400_000,
            seed: 7,
            malformed: false,
            gateway: None,
        },
        &mut bytes,
    )
    .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    Input::File(path)
}

/// A benchmark workload of [`REQUESTS`] lines over 24 h, as a file.
fn workload_file(dir: &tempfile::TempDir, name: &str, cardinality: Cardinality) -> Input {
    let path = dir.path().join(name);
    let mut bytes = Vec::new();
    write_workload(
        &WorkloadOptions {
            format: SampleFormat::RestJson,
            requests: REQUESTS,
            seconds: 86_400,
            start_ms: 1_795_514_400_000,
            seed: 7,
            cardinality,
        },
        &mut bytes,
    )
    .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    Input::File(path)
}

fn options() -> IngestOptions {
    IngestOptions {
        quiet: true,
        ..IngestOptions::default()
    }
}

fn columns() -> gwstat::model::RequestColumns {
    let dir = tempfile::tempdir().unwrap();
    ingest(&[log_file(&dir)], &options()).unwrap().columns
}

fn aggregate_options() -> AggregateOptions {
    AggregateOptions {
        timeout_ms: 29_000,
        ..AggregateOptions::default()
    }
}

fn accumulated() -> Accumulator {
    let dir = tempfile::tempdir().unwrap();
    let sink = Accumulator::new(std::sync::Arc::new(aggregate_options()));
    ingest_into(&[log_file(&dir)], &options(), sink)
        .unwrap()
        .columns
}

fn inputs() -> Inputs {
    Inputs {
        files: Vec::new(),
        records: REQUESTS,
        filtered_out: 0,
        skipped: 0,
        skipped_by_reason: BTreeMap::new(),
        skipped_samples: BTreeMap::new(),
        invalid_fields: 0,
        invalid_fields_by_reason: BTreeMap::new(),
        invalid_field_samples: BTreeMap::new(),
        request_source: Default::default(),
        objects_skipped: BTreeMap::new(),
    }
}

fn aggregations(c: &mut Criterion) {
    let columns = columns();
    let rows = columns.len() as u64;
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows));
    group.bench_function("request columns folded into aggregates", |b| {
        b.iter(|| fold_columns(black_box(&columns), None, aggregate_options()).kept)
    });
    // The streaming engine's end: every section from the folded aggregates.
    let aggregates = accumulated().into_aggregates();
    group.bench_function("all sections from the aggregates", |b| {
        b.iter(|| {
            build_report(
                black_box(aggregates.clone()),
                inputs(),
                &AnalyzeOptions::default(),
            )
        })
    });
    group.finish();
}

/// The streaming engine end to end (read, decode, aggregate, every section) at three
/// cardinalities.
fn stream_engine(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cardinality = |routes, stages, raw_paths| Cardinality {
        routes,
        stages,
        api_keys: 60,
        statuses: 14,
        raw_paths,
    };
    let workloads = [
        ("low", log_file(&dir)),
        (
            "realistic",
            workload_file(&dir, "realistic.log", cardinality(120, 3, false)),
        ),
        (
            "high",
            workload_file(&dir, "high.log", cardinality(60, 2, true)),
        ),
    ];
    let mut group = c.benchmark_group("stream engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REQUESTS));
    for (name, input) in &workloads {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let sink = Accumulator::new(std::sync::Arc::new(aggregate_options()));
                let ingested = ingest_into(std::slice::from_ref(input), &options(), sink).unwrap();
                build_report(
                    ingested.columns.into_aggregates(),
                    inputs(),
                    &AnalyzeOptions::default(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, aggregations, stream_engine);
criterion_main!(benches);
