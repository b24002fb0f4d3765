//! Gateway core throughput: prepared requests through three throttle levels (usage plan,
//! stage default, account), once with limits that admit everything (every request takes a
//! token at all three levels) and once overloaded (most are refused at the first level).
//! Run: `cargo bench --bench gateway`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::gateway::{Backend, GatewayConfig, GatewayRequest, Pipeline};

const CONFIG: &str = r#"
[account]
rate = ACCOUNT
burst = 500000

[[stages]]
name = "prod"
api_key_required = true
throttle = { rate = STAGE, burst = 100000 }

[[usage_plans]]
id = "gold"
stages = ["prod"]
throttle = { rate = PLAN, burst = 20000 }

[[api_keys]]
id = "k0"
usage_plans = ["gold"]
[[api_keys]]
id = "k1"
usage_plans = ["gold"]
[[api_keys]]
id = "k2"
usage_plans = ["gold"]
[[api_keys]]
id = "k3"
usage_plans = ["gold"]
"#;

const REQUESTS: u64 = 1_000_000;

fn pipeline_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("gateway");
    group.throughput(Throughput::Elements(REQUESTS));
    // Requests arrive 1 µs apart (1 M rps) over 4 keys and 8 methods.
    for (name, account, stage, plan, admitted) in [
        (
            "3 levels, all admitted",
            "100000000",
            "100000000",
            "100000000",
            true,
        ),
        ("3 levels, overloaded", "1000000", "200000", "50000", false),
    ] {
        let toml = CONFIG
            .replace("ACCOUNT", account)
            .replace("STAGE", stage)
            .replace("PLAN", plan);
        bench(
            &mut group,
            name,
            GatewayConfig::from_toml(&toml).unwrap(),
            admitted,
        );
    }
    group.finish();
}

fn bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    config: GatewayConfig,
    all_admitted: bool,
) {
    let keys = ["k0", "k1", "k2", "k3"];
    let routes = ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"];
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                let mut pipeline = Pipeline::new(config.clone());
                let prepared: Vec<_> = (0..64)
                    .map(|i| {
                        pipeline.prepare(&GatewayRequest {
                            api: "",
                            stage: "prod",
                            method: "GET",
                            resource: routes[i % routes.len()],
                            api_key: Some(keys[i % keys.len()]),
                            cache_key: "",
                            cache_control_max_age_0: false,
                            may_invalidate_cache: false,
                            payload_bytes: 0,
                            overhead_ms: None,
                            backend: Backend::Response {
                                status: 200,
                                latency_ms: 20,
                                bytes: 100,
                            },
                        })
                    })
                    .collect();
                assert_eq!(Pipeline::levels(&prepared[0]).len(), 3);
                (pipeline, prepared)
            },
            |(mut pipeline, prepared): (Pipeline, Vec<_>)| {
                let mut ok = 0u64;
                for i in 0..REQUESTS {
                    let p = &prepared[(i % 64) as usize];
                    ok +=
                        u64::from(pipeline.handle_prepared(p, black_box(i * 1_000)).status == 200);
                }
                assert!(!all_admitted || ok == REQUESTS);
                ok
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

/// `handle` with name resolution on every request (what replay does without caching
/// prepared requests).
fn handle_unprepared(c: &mut Criterion) {
    let toml = CONFIG
        .replace("ACCOUNT", "100000000")
        .replace("STAGE", "100000000")
        .replace("PLAN", "100000000");
    let config = GatewayConfig::from_toml(&toml).unwrap();
    let keys = ["k0", "k1", "k2", "k3"];
    let routes = ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"];
    let mut group = c.benchmark_group("gateway");
    const N: u64 = 100_000;
    group.throughput(Throughput::Elements(N));
    group.bench_function("handle with prepare, 3 levels", |b| {
        b.iter_batched(
            || Pipeline::new(config.clone()),
            |mut pipeline| {
                for i in 0..N {
                    let request = GatewayRequest {
                        api: "",
                        stage: "prod",
                        method: "GET",
                        resource: routes[(i % 8) as usize],
                        api_key: Some(keys[(i % 4) as usize]),
                        cache_key: "",
                        cache_control_max_age_0: false,
                        may_invalidate_cache: false,
                        payload_bytes: 0,
                        overhead_ms: None,
                        backend: Backend::Response {
                            status: 200,
                            latency_ms: 20,
                            bytes: 100,
                        },
                    };
                    black_box(pipeline.handle(&request, i * 1_000));
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, pipeline_throughput, handle_unprepared);
criterion_main!(benches);
