//! Random stage limits (and a method override) and request sequences through the gateway core.
//! Invariant, per method (the stage's limits are default *method* throttling, one bucket per
//! method, unless the method has its own): in any window [t_i, t_j] the requests of a method
//! admitted never exceed burst + rate × (t_j − t_i) (+1 for the request at t_i).
#![no_main]

use arbitrary::Arbitrary;
use gwstat::gateway::{Backend, GatewayConfig, GatewayRequest, Pipeline};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Step {
    /// Microseconds since the previous request.
    gap_us: u32,
    route: u8,
    with_key: bool,
    latency_ms: u16,
}

#[derive(Debug, Arbitrary)]
struct Input {
    rate: u16,
    burst: u16,
    method_rate: Option<u16>,
    steps: Vec<Step>,
}

const ROUTES: [(&str, &str); 3] = [("GET", "/a"), ("POST", "/a"), ("GET", "/b")];

fuzz_target!(|input: Input| {
    let rate = f64::from(input.rate % 2000) + 0.5;
    let burst = u32::from(input.burst % 2000) + 1;
    let mut toml =
        format!("[[stages]]\nname = \"prod\"\nthrottle = {{ rate = {rate}, burst = {burst} }}\n");
    // Each route's own limit: GET /a may override the stage default.
    let mut limits = [(rate, burst); 3];
    if let Some(m) = input.method_rate {
        let (m_rate, m_burst) = (f64::from(m % 500) + 0.5, u32::from(m % 300) + 1);
        toml.push_str(&format!(
            "[stages.methods.\"/a/GET\"]\nthrottle = {{ rate = {m_rate}, burst = {m_burst} }}\n"
        ));
        limits[0] = (m_rate, m_burst);
    }
    let Ok(config) = GatewayConfig::from_toml(&toml) else {
        return;
    };
    if config.validate().is_err() {
        return;
    }
    let mut pipeline = Pipeline::new(config);
    let mut now: u64 = 1_795_514_400_000_000_000;
    let mut admitted: [Vec<u64>; 3] = Default::default();
    for step in input.steps.iter().take(600) {
        now += u64::from(step.gap_us) * 1000;
        let route = usize::from(step.route) % ROUTES.len();
        let (method, resource) = ROUTES[route];
        let request = GatewayRequest {
            api: "",
            stage: "prod",
            method,
            resource,
            api_key: step.with_key.then_some("k"),
            cache_key: "",
            cache_control_max_age_0: false,
            may_invalidate_cache: false,
            payload_bytes: 0,
            overhead_ms: Some(5),
            backend: Backend::Response {
                status: 200,
                latency_ms: u64::from(step.latency_ms),
                bytes: 10,
            },
        };
        let outcome = pipeline.handle(&request, now);
        if outcome.status != 429 {
            admitted[route].push(now);
        }
    }
    for (route, times) in admitted.iter().enumerate() {
        let (rate, burst) = limits[route];
        for i in 0..times.len() {
            for j in i..times.len() {
                let window_s = (times[j] - times[i]) as f64 / 1e9;
                let allowed = f64::from(burst) + rate * window_s + 1.0;
                let count = (j - i + 1) as f64;
                assert!(
                    count <= allowed,
                    "{:?}: {count} admitted in {window_s} s with rate {rate}, burst {burst}",
                    ROUTES[route]
                );
            }
        }
    }
});
