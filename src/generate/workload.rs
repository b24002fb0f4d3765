//! Benchmark workloads at a chosen cardinality: how many routes, stages, API keys and
//! statuses an access log holds, over what time span, and whether paths carry their ids
//! (`--raw-paths`: no resource templates, as logs that record `$context.path` have).
//!
//! Unlike [`super::traffic`], nothing here goes through the gateway core: statuses are drawn
//! from a fixed mix, so the workload's shape (not its gateway verdicts) is what it models.
//! It is what `scripts/bench.sh` measures the report on at low, realistic and high
//! cardinality.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::{clf_time, SampleFormat, Written};
use crate::decode::Template;

/// The cardinality of a benchmark workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cardinality {
    /// Distinct `METHOD resource` routes (at least 1).
    pub routes: usize,
    /// Distinct stages (at least 1).
    pub stages: usize,
    /// Distinct API keys (0: no keys).
    pub api_keys: usize,
    /// Distinct statuses, from [`STATUS_MIX`] in order (1 to its length).
    pub statuses: usize,
    /// Write each request's concrete path (with its ids) where the resource template goes.
    pub raw_paths: bool,
}

/// Statuses a workload draws from, most common first, with their relative weights.
pub const STATUS_MIX: [(u16, u32); 20] = [
    (200, 8000),
    (201, 500),
    (204, 300),
    (304, 250),
    (404, 200),
    (400, 120),
    (429, 100),
    (403, 80),
    (401, 60),
    (500, 40),
    (502, 30),
    (504, 20),
    (503, 15),
    (409, 12),
    (301, 10),
    (302, 10),
    (413, 5),
    (415, 4),
    (422, 4),
    (412, 2),
];

const NOUNS: [&str; 20] = [
    "users",
    "orders",
    "products",
    "carts",
    "payments",
    "invoices",
    "sessions",
    "items",
    "reviews",
    "shipments",
    "accounts",
    "devices",
    "events",
    "files",
    "messages",
    "teams",
    "projects",
    "tickets",
    "reports",
    "subscriptions",
];

const STAGES: [&str; 8] = ["prod", "staging", "dev", "qa", "canary", "beta", "v1", "v2"];

const METHODS: [&str; 8] = ["GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "GET"];

/// How an id in a path is written: the shapes real APIs use.
#[derive(Debug, Clone, Copy)]
enum IdShape {
    Number,
    Uuid,
    Hex24,
}

/// One route of the workload.
#[derive(Debug, Clone)]
struct WorkloadRoute {
    method: &'static str,
    /// Segments; `None` is a path parameter.
    segments: Vec<Option<String>>,
    template: String,
    id_shape: IdShape,
    median_ms: f64,
}

impl WorkloadRoute {
    fn path(&self, rng: &mut Pcg64) -> String {
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            match segment {
                Some(name) => path.push_str(name),
                None => match self.id_shape {
                    IdShape::Number => {
                        path.push_str(&rng.random_range(1..1_000_000u32).to_string())
                    }
                    IdShape::Uuid => {
                        let (a, b): (u64, u64) = (rng.random(), rng.random());
                        let hex = format!("{a:016x}{b:016x}");
                        path.push_str(&format!(
                            "{}-{}-{}-{}-{}",
                            &hex[..8],
                            &hex[8..12],
                            &hex[12..16],
                            &hex[16..20],
                            &hex[20..]
                        ));
                    }
                    IdShape::Hex24 => {
                        let (a, b): (u64, u32) = (rng.random(), rng.random());
                        path.push_str(&format!("{a:016x}{b:08x}"));
                    }
                },
            }
        }
        path
    }
}

/// `count` distinct routes: resources one to four segments deep under a noun (every fourth
/// route without an id), with ids between nouns, spread over the methods; past what the nouns
/// give, versioned prefixes.
fn routes(count: usize, rng: &mut Pcg64) -> Vec<WorkloadRoute> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(count);
    let mut i = 0usize;
    while out.len() < count {
        let depth = i % 4;
        let first = NOUNS[(i / 4) % NOUNS.len()];
        let second = NOUNS[(i / 4 + 7) % NOUNS.len()];
        let version = i / (NOUNS.len() * 4);
        let mut segments: Vec<Option<String>> = Vec::new();
        if version > 0 {
            segments.push(Some(format!("v{}", version + 1)));
        }
        segments.push(Some(first.to_string()));
        if depth >= 1 {
            segments.push(None);
        }
        if depth >= 2 {
            segments.push(Some(second.to_string()));
        }
        if depth >= 3 {
            segments.push(None);
        }
        let method = METHODS[(i / 4 + depth * 3) % METHODS.len()];
        let mut template = String::new();
        let mut param = 0;
        for segment in &segments {
            template.push('/');
            match segment {
                Some(name) => template.push_str(name),
                None => {
                    param += 1;
                    template.push_str(&format!("{{id{param}}}"));
                }
            }
        }
        i += 1;
        if !seen.insert(format!("{method} {template}")) {
            continue;
        }
        let id_shape = match i % 3 {
            0 => IdShape::Number,
            1 => IdShape::Uuid,
            _ => IdShape::Hex24,
        };
        out.push(WorkloadRoute {
            method,
            segments,
            template,
            id_shape,
            median_ms: rng.random_range(5.0..400.0),
        });
    }
    out
}

/// Ten-character key ids, as API Gateway's are.
fn api_keys(count: usize, rng: &mut Pcg64) -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..count)
        .map(|_| {
            (0..10)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect()
        })
        .collect()
}

fn stages(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| match STAGES.get(i) {
            Some(name) => name.to_string(),
            None => format!("stage{i}"),
        })
        .collect()
}

/// Index drawn from Zipf-like weights `1 / (i + 1)^0.9` (a few hot routes, a long tail).
struct Skewed {
    cumulative: Vec<f64>,
}

impl Skewed {
    fn zipf(n: usize) -> Self {
        Self::from_weights((0..n).map(|i| 1.0 / ((i + 1) as f64).powf(0.9)))
    }

    fn from_weights(weights: impl Iterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Skewed { cumulative }
    }

    fn draw(&self, rng: &mut Pcg64) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = rng.random_range(0.0..total);
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len() - 1)
    }
}

/// One generated request of a workload.
struct Request<'a> {
    time_ms: i64,
    route: &'a WorkloadRoute,
    path: String,
    stage: &'a str,
    api_key: Option<&'a str>,
    status: u16,
    latency_ms: u64,
    integration_ms: Option<u64>,
    request_id: String,
}

/// What a workload is and how it is written.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    /// Access-log format (the template of a sample format).
    pub format: SampleFormat,
    /// Requests to write.
    pub requests: u64,
    /// Time span, seconds.
    pub seconds: u64,
    /// First second, epoch ms.
    pub start_ms: i64,
    /// RNG seed.
    pub seed: u64,
    /// The cardinality.
    pub cardinality: Cardinality,
}

/// Writes exactly `options.requests` request lines in time order.
pub fn write_workload(options: &WorkloadOptions, out: &mut dyn Write) -> io::Result<Written> {
    let card = options.cardinality;
    let mut rng = Pcg64::seed_from_u64(options.seed);
    let routes = routes(card.routes.max(1), &mut rng);
    let stages = stages(card.stages.max(1));
    let keys = api_keys(card.api_keys, &mut rng);
    let statuses = &STATUS_MIX[..card.statuses.clamp(1, STATUS_MIX.len())];
    let route_pick = Skewed::zipf(routes.len());
    let stage_pick = Skewed::zipf(stages.len());
    let key_pick = Skewed::zipf(keys.len().max(1));
    let status_pick = Skewed::from_weights(statuses.iter().map(|(_, w)| *w as f64));
    let template = Template::parse(options.format.template()).expect("built-in templates parse");

    let seconds = options.seconds.max(1);
    let mut written = Written::default();
    let mut carry = 0.0;
    let mut offsets = Vec::new();
    let mut line = String::new();
    for second in 0..seconds {
        // Even spread with a daily swell, and exactly `requests` in all.
        let phase = second as f64 / seconds as f64;
        let swell = 1.0 + 0.5 * (phase * std::f64::consts::TAU).sin();
        let remaining = options.requests - written.requests;
        let count = if second + 1 == seconds {
            remaining
        } else {
            let expected = options.requests as f64 / seconds as f64 * swell + carry;
            let count = (expected.floor() as u64).min(remaining);
            carry = expected - count as f64;
            count
        };
        offsets.clear();
        offsets.extend((0..count).map(|_| rng.random_range(0..1000i64)));
        offsets.sort_unstable();
        for &offset in &offsets {
            let route = &routes[route_pick.draw(&mut rng)];
            let status = statuses[status_pick.draw(&mut rng)].0;
            let (latency_ms, integration_ms) = latencies(status, route.median_ms, &mut rng);
            let request = Request {
                time_ms: options.start_ms + second as i64 * 1000 + offset,
                route,
                path: route.path(&mut rng),
                stage: &stages[stage_pick.draw(&mut rng)],
                api_key: (!keys.is_empty()).then(|| keys[key_pick.draw(&mut rng)].as_str()),
                status,
                latency_ms,
                integration_ms,
                request_id: {
                    let (a, b): (u64, u64) = (rng.random(), rng.random());
                    format!("{a:016x}{b:016x}")
                },
            };
            line.clear();
            line.push_str(&template.render(|name| value(&request, card.raw_paths, name)));
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written.requests += 1;
        }
    }
    Ok(written)
}

/// Response and integration latency for a status: refusals at the gateway never reach the
/// backend; 504s wait out the 29 s timeout; others are lognormal around the route's median.
fn latencies(status: u16, median_ms: f64, rng: &mut Pcg64) -> (u64, Option<u64>) {
    match status {
        401 | 403 | 413 | 415 | 429 => (rng.random_range(1..8), None),
        504 => (29_000 + rng.random_range(0..40), Some(29_000)),
        _ => {
            // Box–Muller normal, sigma 0.6 around ln(median).
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let integration = (median_ms * (0.6 * z).exp()).round().max(1.0) as u64;
            let overhead = rng.random_range(2..30);
            (integration + overhead, Some(integration))
        }
    }
}

fn value(r: &Request, raw_paths: bool, name: &str) -> String {
    let dash = || "-".to_string();
    let resource = || match raw_paths {
        true => r.path.clone(),
        false => r.route.template.clone(),
    };
    match name {
        "requestId" | "extendedRequestId" => r.request_id.clone(),
        "identity.sourceIp" => format!("198.51.100.{}", r.request_id.as_bytes()[0] % 200),
        "requestTime" => clf_time(r.time_ms),
        "requestTimeEpoch" => r.time_ms.to_string(),
        "httpMethod" => r.route.method.to_string(),
        "resourcePath" => resource(),
        "routeKey" => format!("{} {}", r.route.method, resource()),
        "path" => format!("/{}{}", r.stage, r.path),
        "status" => r.status.to_string(),
        "protocol" => "HTTP/1.1".to_string(),
        "responseLength" => (r.latency_ms % 4096 + 64).to_string(),
        "responseLatency" => r.latency_ms.to_string(),
        "integrationLatency" => r.integration_ms.map_or_else(dash, |v| v.to_string()),
        "integrationStatus" => match r.integration_ms {
            Some(_) if r.status == 504 => dash(),
            Some(_) => r.status.to_string(),
            None => dash(),
        },
        "error.responseType" => match r.status {
            429 => "THROTTLED".to_string(),
            403 => "ACCESS_DENIED".to_string(),
            401 => "UNAUTHORIZED".to_string(),
            413 => "REQUEST_TOO_LARGE".to_string(),
            415 => "UNSUPPORTED_MEDIA_TYPE".to_string(),
            504 => "INTEGRATION_TIMEOUT".to_string(),
            _ => dash(),
        },
        "error.message" => match r.status {
            429 => "Too Many Requests".to_string(),
            403 => "Forbidden".to_string(),
            401 => "Unauthorized".to_string(),
            413 => "Request Too Long".to_string(),
            415 => "Unsupported Media Type".to_string(),
            504 => "Endpoint request timed out".to_string(),
            _ => dash(),
        },
        "identity.apiKeyId" => r.api_key.map_or_else(dash, str::to_string),
        "identity.userAgent" => "okhttp/4.12.0".to_string(),
        "stage" => r.stage.to_string(),
        "apiId" => "w0rk1oad42".to_string(),
        _ => dash(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn workload(card: Cardinality, requests: u64) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let written = write_workload(
            &WorkloadOptions {
                format: SampleFormat::RestJson,
                requests,
                seconds: 3600,
                start_ms: 1_795_514_400_000,
                seed: 7,
                cardinality: card,
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(written.requests, requests);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn distinct(lines: &[serde_json::Value], f: impl Fn(&serde_json::Value) -> String) -> usize {
        lines.iter().map(f).collect::<HashSet<_>>().len()
    }

    #[test]
    fn a_workload_has_the_cardinality_asked_for() {
        let card = Cardinality {
            routes: 120,
            stages: 3,
            api_keys: 55,
            statuses: 14,
            raw_paths: false,
        };
        let lines = workload(card, 60_000);
        let route = |v: &serde_json::Value| format!("{} {}", v["httpMethod"], v["resourcePath"]);
        assert_eq!(distinct(&lines, route), 120);
        assert_eq!(distinct(&lines, |v| v["stage"].to_string()), 3);
        assert_eq!(distinct(&lines, |v| v["identity.apiKeyId"].to_string()), 55);
        assert_eq!(distinct(&lines, |v| v["status"].to_string()), 14);
        let times: Vec<i64> = lines
            .iter()
            .map(|v| v["requestTimeEpoch"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    }

    #[test]
    fn raw_paths_put_ids_where_templates_were() {
        let card = Cardinality {
            routes: 40,
            stages: 1,
            api_keys: 0,
            statuses: 1,
            raw_paths: true,
        };
        let lines = workload(card, 20_000);
        let paths = distinct(&lines, |v| v["resourcePath"].to_string());
        assert!(paths > 10_000, "{paths} distinct paths");
        assert!(lines
            .iter()
            .all(|v| !v["resourcePath"].as_str().unwrap().contains('{')));
        assert!(lines.iter().all(|v| v["identity.apiKeyId"] == "-"));
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let card = Cardinality {
            routes: 10,
            stages: 2,
            api_keys: 5,
            statuses: 6,
            raw_paths: true,
        };
        assert_eq!(workload(card, 500), workload(card, 500));
    }
}
