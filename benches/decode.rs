//! Decoder and whole-ingest throughput on generated logs (criterion).
//! Run: `cargo bench --bench decode`. The whole-process benchmark is `scripts/bench.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::decode::{detect, DecodeOptions};
use gwstat::generate::{write_log, GenerateOptions, SampleFormat};
use gwstat::ingest::{ingest, IngestOptions};
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
    group.bench_function("rest-json", |b| {
        b.iter(|| {
            ingest(
                &inputs,
                &IngestOptions {
                    quiet: true,
                    ..IngestOptions::default()
                },
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, decoders, whole_ingest);
criterion_main!(benches);
