//! The report's aggregations (criterion): the request table of 200,000 generated REST
//! requests to every section, and the table build itself. Rows per second are the figure to
//! watch; the whole-process benchmark against DuckDB is `scripts/bench.sh`.
//! Run: `cargo bench --bench report`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::analyze::{build_report, AnalyzeOptions};
use gwstat::generate::{write_log, GenerateOptions, SampleFormat};
use gwstat::ingest::{ingest, IngestOptions};
use gwstat::model::RequestTable;
use gwstat::report::Inputs;
use gwstat::source::Input;

const REQUESTS: u64 = 200_000;

fn columns() -> gwstat::model::RequestColumns {
    let dir = tempfile::tempdir().unwrap();
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
    ingest(
        &[Input::File(path)],
        &IngestOptions {
            quiet: true,
            ..IngestOptions::default()
        },
    )
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
    }
}

fn aggregations(c: &mut Criterion) {
    let columns = columns();
    let rows = columns.len() as u64;
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows));
    group.bench_function("table build", |b| {
        b.iter(|| RequestTable::build(black_box(columns.clone()), None).unwrap())
    });
    let table = RequestTable::build(columns, None).unwrap();
    group.bench_function("all sections", |b| {
        b.iter(|| build_report(black_box(&table), inputs(), &AnalyzeOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, aggregations);
criterion_main!(benches);
