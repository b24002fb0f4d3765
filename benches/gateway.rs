//! Gateway core throughput: prepared requests through three throttle levels (usage plan,
//! stage default, account). Run: `cargo bench --bench gateway`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwstat::gateway::{Backend, GatewayConfig, GatewayRequest, Pipeline};

const CONFIG: &str = r#"
[account]
rate = 1000000
burst = 500000

[[stages]]
name = "prod"
api_key_required = true
throttle = { rate = 200000, burst = 100000 }

[[usage_plans]]
id = "gold"
stages = ["prod"]
throttle = { rate = 50000, burst = 20000 }

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
    let config = GatewayConfig::from_toml(CONFIG).unwrap();
    let keys = ["k0", "k1", "k2", "k3"];
    let routes = ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"];
    let mut group = c.benchmark_group("gateway");
    group.throughput(Throughput::Elements(REQUESTS));
    group.bench_function("handle_prepared, 3 levels", |b| {
        b.iter_batched(
            || {
                let mut pipeline = Pipeline::new(config.clone());
                let prepared: Vec<_> = (0..64)
                    .map(|i| {
                        pipeline.prepare(&GatewayRequest {
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
            |(mut pipeline, prepared)| {
                let mut ok = 0u64;
                for i in 0..REQUESTS {
                    let p = &prepared[(i % 64) as usize];
                    ok +=
                        u64::from(pipeline.handle_prepared(p, black_box(i * 1_000)).status == 200);
                }
                ok
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, pipeline_throughput);
criterion_main!(benches);
