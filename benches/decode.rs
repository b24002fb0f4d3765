//! Decoder and whole-ingest throughput on generated logs (criterion): bytes per second of
//! one core per decoder, and of a whole file into the table columns or the streaming
//! aggregates.
//! Run: `cargo bench --bench decode`. The whole-process benchmark is `scripts/bench.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::decode::{detect, DecodeOptions};
use gwstat::generate::{write_log, GenerateOptions, SampleFormat};
use std::sync::Arc;

use gwstat::aggregate::{Accumulator, AggregateOptions};
use gwstat::ingest::{ingest, ingest_into, IngestOptions};
use gwstat::source::Input;

fn sample(format: SampleFormat, requests: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_log(
        &GenerateOptions {
            format,
            requests,
            seconds: 3600,
            start_ms: 1_795_514_400_000,
            seed: 7,
            malformed: false,
            gateway: None,
        },
        &mut out,
    )
    .unwrap();
    out
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode line");
    for format in SampleFormat::ALL {
        let bytes = sample(format, 20_000);
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let mut detected = detect("bench", &lines[..50], &DecodeOptions::default()).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{format:?}"), |b| {
            b.iter(|| {
                let mut ok = 0u64;
                for line in &lines {
                    ok += u64::from(detected.decoder.decode(black_box(line)).is_ok());
                }
                ok
            })
        });
    }
    group.finish();
}

fn whole_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rest.log");
    let bytes = sample(SampleFormat::RestJson, 200_000);
    std::fs::write(&path, &bytes).unwrap();
    let inputs = vec![Input::File(path)];
    let mut group = c.benchmark_group("ingest file");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let options = IngestOptions {
        quiet: true,
        ..IngestOptions::default()
    };
    group.bench_function("rest-json into the table columns", |b| {
        b.iter(|| ingest(&inputs, &options).unwrap())
    });
    // The streaming engine: decoded and folded into the report's aggregates by one worker
    // per core.
    let aggregate = Arc::new(AggregateOptions {
        timeout_ms: 29_000,
        ..AggregateOptions::default()
    });
    group.bench_function("rest-json into the streaming aggregates", |b| {
        b.iter(|| ingest_into(&inputs, &options, Accumulator::new(aggregate.clone())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decoders, whole_ingest);
criterion_main!(benches);
