//! A deterministic model of one hour (or more) of API traffic: routes of skewed popularity,
//! API keys, lognormal latencies, a throttling burst from one API key, and an incident with
//! failing, slow and hanging backends. Every request goes through the reference gateway core
//! ([`crate::gateway`]) with [`SAMPLE_GATEWAY_TOML`], which decides the 429s (throttle and
//! quota), 403s (invalid keys), cache hits and integration timeouts.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::gateway::{Backend, GatewayConfig, GatewayRequest, Pipeline};

/// Which kind of API the traffic is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    /// REST API (v1): routes are `METHOD resourcePath`, API keys and a stage cache exist.
    Rest,
    /// HTTP API (v2): routes are route keys, `$default` stage, no keys, no cache.
    Http,
}

/// One generated request.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Epoch ms.
    pub time_ms: i64,
    /// Route index into [`ROUTES`].
    pub route: usize,
    /// Concrete path.
    pub path: String,
    /// Status.
    pub status: u16,
    /// Response latency, ms.
    pub latency_ms: u64,
    /// Integration latency, ms (`None` when the backend was not called).
    pub integration_latency_ms: Option<u64>,
    /// Stage.
    pub stage: &'static str,
    /// API key ID.
    pub api_key: Option<&'static str>,
    /// Gateway response type.
    pub error_type: Option<&'static str>,
    /// Gateway error message.
    pub error_message: Option<&'static str>,
    /// Integration status.
    pub integration_status: Option<u16>,
    /// Request ID (UUID for REST, 16-char ID for HTTP).
    pub request_id: String,
    /// Extended request ID.
    pub extended_request_id: String,
    /// Client IP.
    pub ip: String,
    /// Response bytes.
    pub response_length: u64,
    /// User agent.
    pub user_agent: &'static str,
    /// The gateway level that refused the request, if one did.
    pub refused_by: Option<crate::gateway::Level>,
    /// The cache's verdict (CacheHitCount / CacheMissCount in CloudWatch).
    pub cache: crate::gateway::CacheResult,
    /// The API's id (`$context.apiId`).
    pub api_id: &'static str,
}

/// A route of the modelled API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Method.
    pub method: &'static str,
    /// REST resource path / HTTP route path.
    pub resource: &'static str,
    /// Relative popularity.
    pub weight: u32,
    /// Median integration latency, ms.
    pub median_ms: f64,
}

/// The modelled API's routes.
pub const ROUTES: [Route; 9] = [
    Route {
        method: "GET",
        resource: "/products",
        weight: 300,
        median_ms: 85.0,
    },
    Route {
        method: "GET",
        resource: "/products/{productId}",
        weight: 200,
        median_ms: 45.0,
    },
    Route {
        method: "POST",
        resource: "/orders",
        weight: 120,
        median_ms: 180.0,
    },
    Route {
        method: "GET",
        resource: "/orders/{orderId}",
        weight: 100,
        median_ms: 60.0,
    },
    Route {
        method: "GET",
        resource: "/users/{userId}",
        weight: 80,
        median_ms: 35.0,
    },
    Route {
        method: "GET",
        resource: "/health",
        weight: 70,
        median_ms: 4.0,
    },
    Route {
        method: "POST",
        resource: "/auth/login",
        weight: 50,
        median_ms: 140.0,
    },
    Route {
        method: "PUT",
        resource: "/users/{userId}",
        weight: 50,
        median_ms: 90.0,
    },
    Route {
        method: "DELETE",
        resource: "/orders/{orderId}",
        weight: 30,
        median_ms: 75.0,
    },
];

const POST_ORDERS: usize = 2;
const GET_ORDER: usize = 3;

/// API keys with skewed use; the last one misbehaves (the throttling burst).
const API_KEYS: [(&str, u32); 5] = [
    ("k7dq2mx9pa", 40),
    ("b3ne8tr5wz", 25),
    ("p0lk4ju6hy", 15),
    ("x9cv2bn7ml", 10),
    ("burst4r8qz", 10),
];
const BURST_KEY: &str = "burst4r8qz";

const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
    "curl/8.5.0",
];

/// The gateway the sample traffic goes through (written to `sample-logs/gateway.toml`).
/// The quota of the partner plan is set per run so that it runs out right after the burst.
pub const SAMPLE_GATEWAY_TOML: &str = r#"# The gateway configuration sample-logs/ was generated with (gwstat generate).
# Every 429, 403 INVALID_API_KEY, cache hit and 504/503 timeout in the samples is this
# configuration's verdict, computed by the reference gateway core (docs/gateway.md).

[options]
overhead_ms = 9

# The REST API of the REST samples (apiId k1k7gu3ct7 in their lines).
[[apis]]
id = "k1k7gu3ct7"
name = "shop-api"
kind = "rest"

[[apis.stages]]
name = "prod"
api_key_required = true
throttle = { rate = 100, burst = 200 }
cache = { enabled = true, size_gb = 0.5, ttl_seconds = 300, default_caching = false }

# GET /products is cached for 120 s, keyed by its `category` query string
# (cacheKeyParameters = method.request.querystring.category; the generator sends
# the value as the request's cache key).
[apis.stages.methods."/products/GET"]
caching = true
cache_ttl_seconds = 120

[apis.stages.methods."/health/GET"]
api_key_required = false

[[apis.stages]]
name = "staging"
api_key_required = true
throttle = { rate = 20, burst = 40 }

[apis.stages.methods."/health/GET"]
api_key_required = false

# The HTTP API of the HTTP sample (apiId h7tp4q2x9z).
[[apis]]
id = "h7tp4q2x9z"
name = "shop-http-api"
kind = "http"

[[apis.stages]]
name = "$default"
throttle = { rate = 100, burst = 200 }

[[usage_plans]]
id = "standard"
api_stages = [{ api_id = "k1k7gu3ct7", stage = "prod" }, { api_id = "k1k7gu3ct7", stage = "staging" }]
throttle = { rate = 25, burst = 50 }

[[usage_plans]]
id = "partner"
api_stages = [{ api_id = "k1k7gu3ct7", stage = "prod" }, { api_id = "k1k7gu3ct7", stage = "staging" }]
throttle = { rate = 10, burst = 20 }
quota = { limit = QUOTA_LIMIT, period = "DAY" }

[[api_keys]]
id = "k7dq2mx9pa"
usage_plans = ["standard"]

[[api_keys]]
id = "b3ne8tr5wz"
usage_plans = ["standard"]

[[api_keys]]
id = "p0lk4ju6hy"
usage_plans = ["standard"]

[[api_keys]]
id = "x9cv2bn7ml"
usage_plans = ["standard"]

[[api_keys]]
id = "burst4r8qz"
usage_plans = ["partner"]
"#;

/// The shape of the generated window.
#[derive(Debug, Clone, Copy)]
pub struct TrafficPlan {
    /// REST or HTTP.
    pub kind: ApiKind,
    /// First second, epoch ms.
    pub start_ms: i64,
    /// Baseline requests to spread over the window (the burst adds more).
    pub requests: u64,
    /// Window length, seconds.
    pub seconds: u64,
    /// RNG seed.
    pub seed: u64,
}

/// The id of the sample REST API (`$context.apiId` of the REST samples).
pub const REST_API_ID: &str = "k1k7gu3ct7";
/// The id of the sample HTTP API.
pub const HTTP_API_ID: &str = "h7tp4q2x9z";

impl ApiKind {
    /// The id of the sample API of this kind in [`SAMPLE_GATEWAY_TOML`].
    pub fn sample_api_id(self) -> &'static str {
        match self {
            ApiKind::Rest => REST_API_ID,
            ApiKind::Http => HTTP_API_ID,
        }
    }
}

impl TrafficPlan {
    /// The partner plan's daily quota: what the burst key uses by the end of its burst.
    pub fn partner_quota(&self) -> u64 {
        let base = self.requests as f64 / self.seconds.max(1) as f64;
        let keyed_share = 0.93 * 0.99 * 0.10;
        let before_burst = base * keyed_share * 0.30 * self.seconds as f64;
        let burst_admitted = BURST_KEY_RATE * 0.02 * self.seconds as f64 + BURST_KEY_BURST;
        (before_burst + burst_admitted).round() as u64
    }

    /// The sample gateway configuration for this plan.
    pub fn gateway_toml(&self) -> String {
        SAMPLE_GATEWAY_TOML.replace("QUOTA_LIMIT", &self.partner_quota().to_string())
    }
}

/// Generates events second by second, in time order, without holding them all; every
/// request goes through the reference gateway core, which decides throttling, quota, API-key,
/// cache and timeout outcomes.
pub struct Traffic {
    plan: TrafficPlan,
    rng: Pcg64,
    second: u64,
    carry: f64,
    route_total: u32,
    key_total: u32,
    gateway: Pipeline,
    /// The API id the core is asked about: the sample API's, or empty when the gateway
    /// configuration has no such API (top-level stages: found by name).
    api: &'static str,
}

/// Usage-plan limits of the burst key (partner plan): 10 rps, burst 20.
const BURST_KEY_RATE: f64 = 10.0;
const BURST_KEY_BURST: f64 = 20.0;

impl Traffic {
    /// A generator for `plan` through the sample gateway configuration.
    pub fn new(plan: TrafficPlan) -> Self {
        let config =
            GatewayConfig::from_toml(&plan.gateway_toml()).expect("sample config is valid");
        Traffic::with_gateway(plan, config)
    }

    /// A generator for `plan` through another gateway configuration (what-if samples).
    pub fn with_gateway(plan: TrafficPlan, config: GatewayConfig) -> Self {
        let id = plan.kind.sample_api_id();
        let api = if config.apis.iter().any(|a| a.id == id) {
            id
        } else {
            ""
        };
        Traffic {
            api,
            plan,
            rng: Pcg64::seed_from_u64(plan.seed),
            second: 0,
            carry: 0.0,
            route_total: ROUTES.iter().map(|r| r.weight).sum(),
            key_total: API_KEYS.iter().map(|k| k.1).sum(),
            gateway: Pipeline::new(config),
        }
    }

    /// Fraction of the window elapsed at the current second.
    fn phase(&self) -> f64 {
        self.second as f64 / self.plan.seconds.max(1) as f64
    }

    fn in_burst(&self) -> bool {
        (0.30..0.32).contains(&self.phase())
    }

    fn in_incident(&self) -> bool {
        (0.60..0.68).contains(&self.phase())
    }

    /// The events of the next second, or `None` after the window.
    pub fn next_second(&mut self) -> Option<Vec<Event>> {
        if self.second >= self.plan.seconds {
            return None;
        }
        let base = self.plan.requests as f64 / self.plan.seconds.max(1) as f64;
        // A gentle swell over the window plus noise.
        let swell = 1.0 + 0.35 * (self.phase() * std::f64::consts::PI).sin();
        let expected = base * swell * self.rng.random_range(0.7..1.3) + self.carry;
        let count = expected.floor() as u64;
        self.carry = expected - count as f64;
        let second_ms = self.plan.start_ms + self.second as i64 * 1000;
        let burst = if self.in_burst() && self.plan.kind == ApiKind::Rest {
            (base * 12.0).max(40.0) as u64
        } else {
            0
        };
        let rng = &mut self.rng;
        let mut arrivals: Vec<(i64, bool)> = (0..count + burst)
            .map(|i| (rng.random_range(0..1000), i >= count))
            .collect();
        arrivals.sort_unstable();
        let events = arrivals
            .into_iter()
            .map(|(offset, burst)| self.event(second_ms + offset, burst))
            .collect();
        self.second += 1;
        Some(events)
    }

    fn pick_route(&mut self) -> usize {
        let mut roll = self.rng.random_range(0..self.route_total);
        for (i, route) in ROUTES.iter().enumerate() {
            if roll < route.weight {
                return i;
            }
            roll -= route.weight;
        }
        0
    }

    fn pick_key(&mut self) -> &'static str {
        let mut roll = self.rng.random_range(0..self.key_total);
        for (key, weight) in API_KEYS {
            if roll < weight {
                return key;
            }
            roll -= weight;
        }
        API_KEYS[0].0
    }

    /// A lognormal value with the given median and spread.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let u1: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = self.rng.random_range(0.0..1.0);
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }

    /// What the backend would do with this request.
    fn backend(&mut self, route: usize) -> (Backend, bool) {
        let r = ROUTES[route];
        let mut integration = self.lognormal(r.median_ms, 0.55).max(1.0);
        let mut status = if r.method == "POST" { 201 } else { 200 };
        let mut invalid_body = false;
        if self.in_incident() && (route == POST_ORDERS || route == GET_ORDER) {
            let roll = self.rng.random_range(0..100);
            if route == GET_ORDER {
                integration = if roll < 35 {
                    // The backend hangs past any integration timeout.
                    self.rng.random_range(31_000.0..45_000.0)
                } else {
                    self.rng.random_range(18_000.0..28_500.0)
                };
            } else if roll < 30 {
                let latency_ms = integration.round() as u64;
                return (Backend::FunctionError { latency_ms }, false);
            } else if roll < 50 {
                status = 503;
                integration = self.lognormal(12.0, 0.3);
            }
        } else {
            let roll = self.rng.random_range(0..1000);
            if route == 1 && roll < 25 {
                status = 404;
            } else if route == POST_ORDERS && roll < 20 {
                invalid_body = true;
            } else if roll < 3 {
                status = 500;
            }
        }
        let backend = Backend::Response {
            status,
            latency_ms: integration.round() as u64,
            bytes: self.rng.random_range(40..9000),
        };
        (backend, invalid_body)
    }

    fn event(&mut self, time_ms: i64, burst: bool) -> Event {
        let kind = self.plan.kind;
        let route = if burst {
            POST_ORDERS
        } else {
            self.pick_route()
        };
        let r = ROUTES[route];
        let key_roll = self.rng.random_range(0..1000);
        let api_key = match kind {
            ApiKind::Http => None,
            ApiKind::Rest if burst => Some(BURST_KEY),
            // Health checks need no key (method setting in the sample gateway.toml).
            ApiKind::Rest if r.resource == "/health" => None,
            ApiKind::Rest if key_roll < 4 => Some("not-a-valid-key"),
            ApiKind::Rest if key_roll < 10 => None,
            ApiKind::Rest => Some(self.pick_key()),
        };
        let stage = match kind {
            ApiKind::Http => "$default",
            ApiKind::Rest if self.rng.random_range(0..100) < 7 => "staging",
            ApiKind::Rest => "prod",
        };
        let path = concrete_path(r.resource, self.rng.random_range(1000..99999));
        let overhead = self.lognormal(9.0, 0.45).max(1.0).round() as u64;
        let (backend, invalid_body) = self.backend(route);
        // GET /products?category=N: the category query string is the cache key parameter.
        let category = self
            .rng
            .random_range(0..30u32)
            .min(self.rng.random_range(0..30u32));
        let cache_key = format!("category={category}");
        let request = GatewayRequest {
            api: self.api,
            stage,
            method: r.method,
            resource: r.resource,
            api_key,
            cache_key: &cache_key,
            cache_control_max_age_0: false,
            may_invalidate_cache: false,
            payload_bytes: 0,
            overhead_ms: Some(overhead),
            backend,
        };
        let time_ns = u64::try_from(time_ms).unwrap_or(0) * 1_000_000;
        let mut outcome = self.gateway.handle(&request, time_ns);
        if invalid_body && outcome.response_type.is_none() {
            // Request validation runs after throttling and quota, before the integration.
            outcome.status = 400;
            outcome.response_type = Some("BAD_REQUEST_BODY");
            outcome.message = Some("Invalid request body");
            outcome.latency_ms = overhead;
            outcome.integration_latency_ms = None;
            outcome.integration_status = None;
            outcome.cache = crate::gateway::CacheResult::NotCached;
        }
        let identity_key = api_key.filter(|k| API_KEYS.iter().any(|(id, _)| id == k));
        let response_length = match (outcome.message, backend) {
            (Some(m), _) => m.len() as u64 + 14,
            (None, Backend::Response { bytes, .. }) => bytes,
            (None, _) => 0,
        };
        Event {
            api_id: kind.sample_api_id(),
            time_ms,
            route,
            path,
            status: outcome.status,
            latency_ms: outcome.latency_ms,
            integration_latency_ms: outcome
                .integration_latency_ms
                .and_then(|v| u64::try_from(v).ok()),
            stage,
            api_key: identity_key,
            error_type: outcome.response_type,
            error_message: outcome.message,
            refused_by: outcome.refused_by,
            cache: outcome.cache,
            integration_status: outcome.integration_status,
            request_id: self.request_id(kind),
            extended_request_id: self.short_id(),
            ip: format!(
                "{}.{}",
                ["198.51.100", "203.0.113", "192.0.2"][self.rng.random_range(0..3)],
                self.rng.random_range(1..255)
            ),
            response_length,
            user_agent: USER_AGENTS[self.rng.random_range(0..USER_AGENTS.len())],
        }
    }

    fn request_id(&mut self, kind: ApiKind) -> String {
        match kind {
            ApiKind::Rest => {
                let a: u64 = self.rng.random();
                let b: u64 = self.rng.random();
                format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    0x8000 | (b >> 48) & 0x3fff,
                    b & 0xffff_ffff_ffff
                )
            }
            ApiKind::Http => self.short_id(),
        }
    }

    fn short_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
        let mut id: String = (0..15)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        id.push('=');
        id
    }
}

fn concrete_path(resource: &str, id: u32) -> String {
    match resource.find('{') {
        Some(start) => {
            let end = resource[start..]
                .find('}')
                .map_or(resource.len(), |e| start + e + 1);
            format!("{}{}{}", &resource[..start], id, &resource[end..])
        }
        None => resource.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(kind: ApiKind, seed: u64) -> Vec<Event> {
        let mut traffic = Traffic::new(TrafficPlan {
            kind,
            start_ms: 1_795_514_400_000,
            requests: 3600,
            seconds: 600,
            seed,
        });
        std::iter::from_fn(|| traffic.next_second())
            .flatten()
            .collect()
    }

    #[test]
    fn same_seed_same_traffic() {
        assert_eq!(hour(ApiKind::Rest, 7), hour(ApiKind::Rest, 7));
        assert_ne!(hour(ApiKind::Rest, 7), hour(ApiKind::Rest, 8));
    }

    #[test]
    fn traffic_has_the_documented_episodes() {
        let events = hour(ApiKind::Rest, 42);
        assert!(events.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        let count = |f: &dyn Fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
        assert!(count(&|e| e.error_type == Some("THROTTLED")) > 50);
        assert!(count(&|e| e.error_type == Some("QUOTA_EXCEEDED")) > 0);
        assert!(count(&|e| e.status == 504) > 0);
        assert!(count(&|e| e.status == 502) > 0);
        assert!(count(&|e| e.status == 503) > 0);
        assert!(count(&|e| e.integration_latency_ms.is_none() && e.status == 200) > 100);
    }

    #[test]
    fn paths_fill_in_parameters() {
        assert_eq!(concrete_path("/orders/{orderId}", 7), "/orders/7");
        assert_eq!(concrete_path("/health", 7), "/health");
    }
}
