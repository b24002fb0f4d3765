//! A deterministic model of one hour (or more) of API traffic: routes of skewed popularity,
//! API keys, lognormal latencies, a cached GET route, a throttling burst from one API key
//! (with its usage-plan quota running out afterwards), and an incident with 502/503/504.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::facts::REST_INTEGRATION_TIMEOUT_MS;

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
    /// Stage cache enabled for this route (REST GETs only).
    pub cached: bool,
}

/// The modelled API's routes.
pub const ROUTES: [Route; 9] = [
    Route {
        method: "GET",
        resource: "/products",
        weight: 300,
        median_ms: 85.0,
        cached: true,
    },
    Route {
        method: "GET",
        resource: "/products/{productId}",
        weight: 200,
        median_ms: 45.0,
        cached: false,
    },
    Route {
        method: "POST",
        resource: "/orders",
        weight: 120,
        median_ms: 180.0,
        cached: false,
    },
    Route {
        method: "GET",
        resource: "/orders/{orderId}",
        weight: 100,
        median_ms: 60.0,
        cached: false,
    },
    Route {
        method: "GET",
        resource: "/users/{userId}",
        weight: 80,
        median_ms: 35.0,
        cached: false,
    },
    Route {
        method: "GET",
        resource: "/health",
        weight: 70,
        median_ms: 4.0,
        cached: false,
    },
    Route {
        method: "POST",
        resource: "/auth/login",
        weight: 50,
        median_ms: 140.0,
        cached: false,
    },
    Route {
        method: "PUT",
        resource: "/users/{userId}",
        weight: 50,
        median_ms: 90.0,
        cached: false,
    },
    Route {
        method: "DELETE",
        resource: "/orders/{orderId}",
        weight: 30,
        median_ms: 75.0,
        cached: false,
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

/// The shape of the generated hour.
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

/// Generates events second by second, in time order, without holding them all.
pub struct Traffic {
    plan: TrafficPlan,
    rng: Pcg64,
    second: u64,
    carry: f64,
    bucket: f64,
    route_total: u32,
    key_total: u32,
}

/// Usage-plan limits of the burst key: 10 rps, burst 20.
const BURST_KEY_RATE: f64 = 10.0;
const BURST_KEY_BURST: f64 = 20.0;

impl Traffic {
    /// A generator for `plan`.
    pub fn new(plan: TrafficPlan) -> Self {
        Traffic {
            plan,
            rng: Pcg64::seed_from_u64(plan.seed),
            second: 0,
            carry: 0.0,
            bucket: BURST_KEY_BURST,
            route_total: ROUTES.iter().map(|r| r.weight).sum(),
            key_total: API_KEYS.iter().map(|k| k.1).sum(),
        }
    }

    /// Fraction of the window elapsed at the current second.
    fn phase(&self) -> f64 {
        self.second as f64 / self.plan.seconds.max(1) as f64
    }

    fn in_burst(&self) -> bool {
        (0.30..0.32).contains(&self.phase())
    }

    fn quota_exhausted(&self) -> bool {
        (0.32..0.40).contains(&self.phase())
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
        let mut offsets: Vec<i64> = (0..count).map(|_| self.rng.random_range(0..1000)).collect();
        let burst = if self.in_burst() && self.plan.kind == ApiKind::Rest {
            (base * 12.0).max(40.0) as u64
        } else {
            0
        };
        offsets.extend((0..burst).map(|_| -1 - self.rng.random_range(0..1000)));
        // Order by time; burst requests are marked with negative offsets until placed.
        let mut marked: Vec<(i64, bool)> = offsets
            .into_iter()
            .map(|o| if o < 0 { (-1 - o, true) } else { (o, false) })
            .collect();
        marked.sort_unstable();
        self.bucket = (self.bucket + BURST_KEY_RATE).min(BURST_KEY_BURST);
        let events = marked
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

    fn event(&mut self, time_ms: i64, burst: bool) -> Event {
        let kind = self.plan.kind;
        let route = if burst {
            POST_ORDERS
        } else {
            self.pick_route()
        };
        let r = ROUTES[route];
        let api_key = match kind {
            ApiKind::Http => None,
            ApiKind::Rest if burst => Some(BURST_KEY),
            ApiKind::Rest if self.rng.random_range(0..100) < 8 => None,
            ApiKind::Rest => Some(self.pick_key()),
        };
        let stage = match kind {
            ApiKind::Http => "$default",
            ApiKind::Rest if self.rng.random_range(0..100) < 7 => "staging",
            ApiKind::Rest => "prod",
        };
        let path = concrete_path(r.resource, self.rng.random_range(1000..99999));
        let overhead = self.lognormal(9.0, 0.45).max(1.0);
        let mut e = Event {
            time_ms,
            route,
            path,
            status: 200,
            latency_ms: 0,
            integration_latency_ms: None,
            stage,
            api_key,
            error_type: None,
            error_message: None,
            integration_status: None,
            request_id: self.request_id(kind),
            extended_request_id: self.short_id(),
            ip: format!(
                "{}.{}",
                ["198.51.100", "203.0.113", "192.0.2"][self.rng.random_range(0..3)],
                self.rng.random_range(1..255)
            ),
            response_length: 0,
            user_agent: USER_AGENTS[self.rng.random_range(0..USER_AGENTS.len())],
        };
        let gateway_error = |e: &mut Event, status, kind, message, latency: f64| {
            e.status = status;
            e.error_type = Some(kind);
            e.error_message = Some(message);
            e.latency_ms = latency.round() as u64;
            e.response_length = message.len() as u64 + 14;
        };

        if e.api_key == Some(BURST_KEY) {
            if burst || self.in_burst() {
                if self.bucket >= 1.0 {
                    self.bucket -= 1.0;
                } else {
                    gateway_error(&mut e, 429, "THROTTLED", "Too Many Requests", overhead);
                    return e;
                }
            } else if self.quota_exhausted() {
                gateway_error(&mut e, 429, "QUOTA_EXCEEDED", "Limit Exceeded", overhead);
                return e;
            }
        }
        if kind == ApiKind::Rest && self.rng.random_range(0..1000) < 4 {
            gateway_error(&mut e, 403, "INVALID_API_KEY", "Forbidden", overhead);
            e.api_key = None;
            return e;
        }
        let cached = kind == ApiKind::Rest && r.cached && e.stage == "prod";
        if cached && self.rng.random_range(0..100) < 72 {
            // Served from the stage cache: the backend is not called.
            e.latency_ms = (overhead * 0.6).round().max(1.0) as u64;
            e.response_length = self.rng.random_range(2000..9000);
            return e;
        }

        let mut integration = self.lognormal(r.median_ms, 0.55).max(1.0);
        let mut status = 200;
        let mut integration_status = 200;
        if r.method == "POST" {
            status = 201;
            integration_status = 201;
        }
        if self.in_incident() && (route == POST_ORDERS || route == GET_ORDER) {
            let roll = self.rng.random_range(0..100);
            if route == GET_ORDER && roll < 35 {
                let timeout = REST_INTEGRATION_TIMEOUT_MS as f64;
                match kind {
                    ApiKind::Rest => gateway_error(
                        &mut e,
                        504,
                        "INTEGRATION_TIMEOUT",
                        "Endpoint request timed out",
                        timeout + overhead,
                    ),
                    ApiKind::Http => gateway_error(
                        &mut e,
                        503,
                        "INTEGRATION_TIMEOUT",
                        "Service Unavailable",
                        30_000.0 + overhead,
                    ),
                }
                let limit = match kind {
                    ApiKind::Rest => timeout,
                    ApiKind::Http => 30_000.0,
                };
                e.integration_latency_ms = Some(limit as u64 + self.rng.random_range(0..5));
                return e;
            }
            if route == GET_ORDER {
                integration = self.rng.random_range(18_000.0..28_500.0);
            } else if roll < 30 {
                e.integration_latency_ms = Some(integration.round() as u64);
                gateway_error(
                    &mut e,
                    502,
                    "-",
                    "Internal server error",
                    integration + overhead,
                );
                e.error_type = None;
                e.integration_status = Some(200);
                return e;
            } else if roll < 50 {
                status = 503;
                integration_status = 503;
                integration = self.lognormal(12.0, 0.3);
            }
        } else {
            let roll = self.rng.random_range(0..1000);
            if route == 1 && roll < 25 {
                status = 404;
                integration_status = 404;
            } else if route == POST_ORDERS && roll < 20 {
                gateway_error(
                    &mut e,
                    400,
                    "BAD_REQUEST_BODY",
                    "Invalid request body",
                    overhead,
                );
                return e;
            } else if roll < 3 {
                status = 500;
                integration_status = 500;
            }
        }
        e.status = status;
        e.integration_status = Some(integration_status);
        e.integration_latency_ms = Some(integration.round() as u64);
        e.latency_ms = (integration + overhead).round() as u64;
        e.response_length = self.rng.random_range(40..4000);
        e
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
