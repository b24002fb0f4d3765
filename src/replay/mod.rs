//! Replay: recorded requests through the gateway core in virtual time, predicted against
//! observed. Requests are ordered by time (ties keep log order); each becomes a
//! [`GatewayRequest`] whose backend behaviour is read from what the log shows (status,
//! integration latency, Lambda error) or, where the gateway stopped it, assumed to be the
//! route's typical answer.

pub mod advice;
pub mod http;
mod limits;
pub mod report;
pub mod suggest;
pub mod whatif;

use crate::aggregate::rules::{cache_hit, timeout_reached};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::gateway::{Backend, CacheResult, GatewayConfig, GatewayRequest, Level, Pipeline};
use crate::model::RequestColumns;
use report::{
    Confusion, KeyRow, LevelRow, ReplayReport, ReplayTimeline, RouteRow, SecondRow, Totals,
    UnknownApiRow, Verdict,
};

/// One recorded request, ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Epoch ms.
    pub time_ms: i64,
    /// API id: the log's `$context.apiId`, else the one given for the log (`--api`); empty
    /// when neither says (the stage is then found by name).
    pub api: Arc<str>,
    /// Stage (empty when not logged).
    pub stage: Arc<str>,
    /// Method.
    pub method: Arc<str>,
    /// Resource path or route path.
    pub resource: Arc<str>,
    /// Route as reported (`METHOD /resource`).
    pub route: Arc<str>,
    /// API key ID.
    pub api_key: Option<Arc<str>>,
    /// Request ID.
    pub request_id: Option<Box<str>>,
    /// Observed status.
    pub status: Option<u16>,
    /// Observed gateway response type.
    pub error_type: Option<Arc<str>>,
    /// Observed response latency.
    pub latency_ms: Option<f64>,
    /// Observed integration latency.
    pub integration_latency_ms: Option<f64>,
}

/// A route and, when it has the form `METHOD /resource`, its two parts.
type RouteParts = (Arc<str>, Option<(Arc<str>, Arc<str>)>);

/// What the log says happened, in the gateway's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// 429 for any reason.
    pub throttled: bool,
    /// 429 QUOTA_EXCEEDED.
    pub quota: bool,
    /// Looks like a cache hit (2xx GET, response latency but no integration latency).
    pub cache_hit: bool,
    /// 504/503 at the integration timeout.
    pub timeout: bool,
}

impl Recorded {
    /// Reads the rows of decoded columns, in log order. Names are shared (`Arc<str>`) per
    /// distinct value, so a row costs a few words, not a few strings.
    pub fn from_columns(columns: &RequestColumns) -> Vec<Recorded> {
        let shared = |c: &crate::model::CodedColumn| -> Vec<Arc<str>> {
            c.dictionary
                .names()
                .iter()
                .map(|n| Arc::from(&**n))
                .collect()
        };
        let pick = |names: &[Arc<str>], code: Option<u32>| code.map(|c| names[c as usize].clone());
        let stages = shared(&columns.stage);
        let api_ids = shared(&columns.api_id);
        let keys = shared(&columns.api_key);
        let error_types = shared(&columns.error_type);
        let methods = shared(&columns.method);
        let routes: Vec<RouteParts> = columns
            .route
            .dictionary
            .names()
            .iter()
            .map(|route| {
                let split = route
                    .split_once(' ')
                    .map(|(m, r)| (Arc::from(m), Arc::from(r)));
                (Arc::from(&**route), split)
            })
            .collect();
        let unknown: Arc<str> = Arc::from("-");
        let get: Arc<str> = Arc::from("GET");
        let empty: Arc<str> = Arc::from("");
        (0..columns.len())
            .map(|row| {
                let (route, split) = match columns.route.code(row) {
                    Some(code) => routes[code as usize].clone(),
                    None => (unknown.clone(), None),
                };
                let (method, resource) = split.unwrap_or_else(|| {
                    let method =
                        pick(&methods, columns.method.code(row)).unwrap_or_else(|| get.clone());
                    (method, route.clone())
                });
                Recorded {
                    time_ms: columns.time_ms[row],
                    api: pick(&api_ids, columns.api_id.code(row)).unwrap_or_else(|| empty.clone()),
                    stage: pick(&stages, columns.stage.code(row)).unwrap_or_else(|| empty.clone()),
                    method,
                    resource,
                    route,
                    api_key: pick(&keys, columns.api_key.code(row)),
                    request_id: columns.request_id.get(row).cloned().flatten(),
                    status: columns.status(row),
                    error_type: pick(&error_types, columns.error_type.code(row)),
                    latency_ms: columns.latency(row),
                    integration_latency_ms: columns.integration_latency(row),
                }
            })
            .collect()
    }

    /// The gateway facts the log shows.
    pub fn observed(&self, timeout_ms: u64) -> Observed {
        let status = self.status.unwrap_or(0);
        let integration = self.integration_latency_ms;
        Observed {
            throttled: status == 429,
            quota: status == 429 && self.error_type.as_deref() == Some("QUOTA_EXCEEDED"),
            cache_hit: cache_hit(Some(&self.method), status, self.latency_ms, integration)
                == Some(true),
            timeout: timeout_reached(status, integration, self.error_type.as_deref(), timeout_ms),
        }
    }
}

/// Replay choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// Requests per second of the account's other traffic (APIs not replayed), arriving
    /// evenly from the first replayed request on; each takes an account token.
    pub account_background_rps: f64,
    /// Drop requests that look like client retries of an earlier 429.
    pub drop_retries: bool,
    /// How soon after a 429 a request with the same key and route counts as its retry (ms).
    pub retry_window_ms: i64,
    /// List lengths (0 = all).
    pub top: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            account_background_rps: 0.0,
            drop_retries: false,
            retry_window_ms: 1000,
            top: 20,
        }
    }
}

/// Marks the requests that do not carry their API id (`$context.apiId`) as API `api`'s;
/// a request's own `apiId` wins.
pub fn assign_api(requests: &mut [Recorded], api: &str) {
    let api: Arc<str> = Arc::from(api);
    for r in requests.iter_mut().filter(|r| r.api.is_empty()) {
        r.api = api.clone();
    }
}

/// How requests meet the configuration's APIs: by id when the configuration names APIs
/// (`[[apis]]`); a configuration of top-level stages only (the implicit API) has no ids to
/// match, so its stages are found by name whatever the log says.
fn api_of<'r>(r: &'r Recorded, config: &GatewayConfig) -> Result<&'r str, ()> {
    if config.apis.is_empty() {
        Ok("")
    } else if r.api.is_empty() || config.api_kind(&r.api).is_some() {
        Ok(&r.api)
    } else {
        Err(())
    }
}

/// Orders requests by time, keeping log order for ties.
pub fn order(mut requests: Vec<Recorded>) -> Vec<Recorded> {
    requests.sort_by_key(|r| r.time_ms);
    requests
}

/// Removes requests that look like client retries of a 429: same API key and route within
/// `window_ms` after an observed 429. Returns the kept requests and how many were dropped.
pub fn drop_retries(requests: Vec<Recorded>, window_ms: i64) -> (Vec<Recorded>, u64) {
    let mut last_429: BTreeMap<(Option<Arc<str>>, Arc<str>), i64> = BTreeMap::new();
    let mut kept = Vec::with_capacity(requests.len());
    let mut dropped = 0;
    for r in requests {
        let key = (r.api_key.clone(), r.route.clone());
        let is_retry = last_429
            .get(&key)
            .is_some_and(|t| r.time_ms - t <= window_ms);
        if r.status == Some(429) {
            last_429.insert(key, r.time_ms);
        }
        if is_retry {
            dropped += 1;
        } else {
            kept.push(r);
        }
    }
    (kept, dropped)
}

/// Backend latency assumed for requests that timed out (longer than any timeout).
const HANG_MS: u64 = 1_000_000_000;

/// The backend behaviour a recorded request implies. Requests the gateway answered itself
/// (429, 403, cache hits) get the route's median integration latency and a 200.
fn backend(r: &Recorded, typical_ms: &BTreeMap<Arc<str>, u64>) -> Backend {
    let typical = typical_ms.get(&r.route).copied().unwrap_or(50);
    let integration = r.integration_latency_ms.map(|v| v.max(0.0).round() as u64);
    match (r.status, r.error_type.as_deref()) {
        (Some(502), _) => Backend::FunctionError {
            latency_ms: integration.unwrap_or(typical),
        },
        // A backend that timed out is assumed to hang past any timeout.
        (Some(504 | 503), Some("INTEGRATION_TIMEOUT")) => Backend::Response {
            status: 200,
            latency_ms: HANG_MS,
            bytes: 0,
        },
        (Some(status), None) if status != 429 && integration.is_some() => Backend::Response {
            status,
            latency_ms: integration.unwrap_or(typical),
            bytes: 0,
        },
        (Some(status), None) if status != 429 && status != 403 => Backend::Response {
            status,
            latency_ms: typical,
            bytes: 0,
        },
        _ => Backend::Response {
            status: 200,
            latency_ms: typical,
            bytes: 0,
        },
    }
}

/// The account's other traffic: evenly spaced requests that each take an account token.
struct Background {
    interval_ns: f64,
    start_ns: u64,
    sent: u64,
}

impl Background {
    fn new(rps: f64, first: Option<&Recorded>) -> Background {
        Background {
            interval_ns: if rps > 0.0 && rps.is_finite() {
                1e9 / rps
            } else {
                f64::INFINITY
            },
            start_ns: first.map_or(0, |r| u64::try_from(r.time_ms).unwrap_or(0) * 1_000_000),
            sent: 0,
        }
    }

    /// Sends every background request due at or before `now_ns`.
    fn run_until(&mut self, gateway: &mut Pipeline, now_ns: u64, totals: &mut Totals) {
        loop {
            let at = self.start_ns as f64 + self.sent as f64 * self.interval_ns;
            if !at.is_finite() || at > now_ns as f64 {
                return;
            }
            self.sent += 1;
            totals.background_requests += 1;
            if !gateway.take_account_token(at as u64) {
                totals.background_refused += 1;
            }
        }
    }
}

fn typical_latencies(requests: &[Recorded]) -> BTreeMap<Arc<str>, u64> {
    let mut by_route: BTreeMap<Arc<str>, Vec<f64>> = BTreeMap::new();
    for r in requests {
        if let Some(i) = r.integration_latency_ms.filter(|i| *i > 0.0) {
            by_route.entry(r.route.clone()).or_default().push(i);
        }
    }
    by_route
        .into_iter()
        .map(|(route, mut v)| {
            v.sort_by(f64::total_cmp);
            (route, v[v.len() / 2].round() as u64)
        })
        .collect()
}

/// Replays `requests` (already ordered) through a fresh gateway with `config`.
/// `on_verdict` sees every request's verdict in order.
pub fn replay(
    requests: &[Recorded],
    config: &GatewayConfig,
    options: &ReplayOptions,
    dropped_retries: u64,
    mut on_verdict: impl FnMut(&Verdict<'_>),
) -> ReplayReport {
    let typical = typical_latencies(requests);
    let mut gateway = Pipeline::new(config.clone());
    let mut totals = Totals::default();
    let mut confusion = Confusion::default();
    let mut routes: BTreeMap<Arc<str>, RouteRow> = BTreeMap::new();
    let mut keys: BTreeMap<Option<Arc<str>>, KeyRow> = BTreeMap::new();
    let mut levels: BTreeMap<Level, u64> = BTreeMap::new();
    let mut seconds: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let mut background = Background::new(options.account_background_rps, requests.first());
    let mut unknown: BTreeMap<Arc<str>, u64> = BTreeMap::new();
    for r in requests {
        let now_ns = u64::try_from(r.time_ms)
            .unwrap_or(0)
            .saturating_mul(1_000_000);
        let Ok(api) = api_of(r, config) else {
            // An API the configuration does not have: nothing to predict with, but AWS's
            // account bucket served it, so it takes an account token as other traffic does.
            background.run_until(&mut gateway, now_ns, &mut totals);
            totals.unknown_api_requests += 1;
            if !gateway.take_account_token(now_ns) {
                totals.unknown_api_refused += 1;
            }
            *unknown.entry(r.api.clone()).or_default() += 1;
            continue;
        };
        let request = GatewayRequest {
            api,
            stage: &r.stage,
            method: &r.method,
            resource: &r.resource,
            api_key: r.api_key.as_deref(),
            cache_key: "",
            cache_control_max_age_0: false,
            may_invalidate_cache: false,
            payload_bytes: 0,
            overhead_ms: match (r.latency_ms, r.integration_latency_ms) {
                (Some(l), Some(i)) if l >= i => Some((l - i).round() as u64),
                (Some(l), None) => Some(l.round() as u64),
                _ => None,
            },
            backend: backend(r, &typical),
        };
        background.run_until(&mut gateway, now_ns, &mut totals);
        let prepared = gateway.prepare(&request);
        let outcome = gateway.handle_prepared(&prepared, now_ns);
        // Each method's own timeout (its integration's, else its stage's).
        let observed = r.observed(prepared.timeout_ms());
        let predicted_throttled = outcome.status == 429;
        let predicted_quota = outcome.refused_by == Some(Level::Quota);
        let predicted_hit = outcome.cache == CacheResult::Hit;
        let predicted_timeout = outcome.response_type == Some("INTEGRATION_TIMEOUT");

        totals.requests += 1;
        totals.observed_429 += u64::from(observed.throttled);
        totals.predicted_429 += u64::from(predicted_throttled);
        totals.observed_quota += u64::from(observed.quota);
        totals.predicted_quota += u64::from(predicted_quota);
        totals.observed_cache_hits += u64::from(observed.cache_hit);
        totals.predicted_cache_hits += u64::from(predicted_hit);
        totals.observed_timeouts += u64::from(observed.timeout);
        totals.predicted_timeouts += u64::from(predicted_timeout);
        confusion.add(predicted_throttled, observed.throttled);
        let row = routes.entry(r.route.clone()).or_insert_with(|| RouteRow {
            route: r.route.to_string(),
            ..RouteRow::default()
        });
        row.requests += 1;
        row.observed_429 += u64::from(observed.throttled);
        row.predicted_429 += u64::from(predicted_throttled);
        let key = keys.entry(r.api_key.clone()).or_insert_with(|| KeyRow {
            api_key: r.api_key.as_deref().map(String::from),
            ..KeyRow::default()
        });
        key.requests += 1;
        key.observed_429 += u64::from(observed.throttled);
        key.predicted_429 += u64::from(predicted_throttled);
        if let Some(level) = outcome.refused_by {
            *levels.entry(level).or_default() += 1;
        }
        let second = seconds.entry(r.time_ms.div_euclid(1000)).or_default();
        second.0 += u64::from(observed.throttled);
        second.1 += u64::from(predicted_throttled);
        on_verdict(&Verdict {
            request_id: r.request_id.as_deref(),
            time_ms: r.time_ms,
            observed_status: r.status,
            predicted_status: outcome.status,
            level: outcome.refused_by.map(Level::as_str),
            cache: match outcome.cache {
                CacheResult::Hit => Some("hit"),
                CacheResult::Miss => Some("miss"),
                CacheResult::Bypass => Some("bypass"),
                CacheResult::NotCached => None,
            },
        });
    }
    totals.agreement_429 = (totals.requests > 0)
        .then(|| (confusion.tp + confusion.tn) as f64 / totals.requests as f64);
    let per_second: Vec<(i64, u64, u64)> = seconds
        .iter()
        .map(|(s, (observed, predicted))| (*s, *observed, *predicted))
        .collect();
    let mut report = ReplayReport::assemble(
        totals,
        confusion,
        routes.into_values().collect(),
        keys.into_values().collect(),
        levels
            .into_iter()
            .map(|(level, refused)| LevelRow {
                level: level.as_str().to_string(),
                refused,
            })
            .collect(),
        seconds
            .into_iter()
            .map(|(s, (observed, predicted))| SecondRow {
                second: crate::filter::rfc3339(s * 1000),
                observed_429: observed,
                predicted_429: predicted,
            })
            .collect(),
        dropped_retries,
        options.top,
    );
    report.timeline = ReplayTimeline::from_seconds(&per_second);
    let mut unknown: Vec<UnknownApiRow> = unknown
        .into_iter()
        .map(|(api_id, requests)| UnknownApiRow {
            api_id: api_id.to_string(),
            requests,
        })
        .collect();
    unknown.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.api_id.cmp(&b.api_id)));
    report.unknown_apis = unknown;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time_ms: i64, key: &str, status: u16) -> Recorded {
        Recorded {
            time_ms,
            api: "".into(),
            stage: "prod".into(),
            method: "GET".into(),
            resource: "/x".into(),
            route: "GET /x".into(),
            api_key: Some(key.into()),
            request_id: None,
            status: Some(status),
            error_type: None,
            latency_ms: Some(10.0),
            integration_latency_ms: Some(5.0),
        }
    }

    #[test]
    fn retries_of_a_429_within_the_window_are_dropped() {
        let requests = vec![
            rec(0, "a", 429),
            rec(500, "a", 200),
            rec(600, "b", 200),
            rec(3000, "a", 200),
        ];
        let (kept, dropped) = drop_retries(requests, 1000);
        assert_eq!(dropped, 1);
        assert_eq!(
            kept.iter().map(|r| r.time_ms).collect::<Vec<_>>(),
            [0, 600, 3000]
        );
    }

    #[test]
    fn ordering_is_by_time_then_log_order() {
        let ordered = order(vec![rec(5, "b", 200), rec(1, "a", 200), rec(5, "a", 200)]);
        let keys: Vec<_> = ordered
            .iter()
            .map(|r| r.api_key.as_deref().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["a", "b", "a"]);
    }

    #[test]
    fn a_hand_computed_bucket_sequence() {
        // Stage limit 2 rps, burst 2: at t = 0 ms three requests (third refused), at 500 ms
        // one token is back, at 600 ms none.
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\nthrottle = { rate = 2, burst = 2 }\n",
        )
        .unwrap();
        let requests = vec![
            rec(0, "a", 200),
            rec(0, "a", 200),
            rec(0, "a", 429),
            rec(500, "a", 200),
            rec(600, "a", 429),
        ];
        let mut predicted = Vec::new();
        let report = replay(&requests, &config, &ReplayOptions::default(), 0, |v| {
            predicted.push(v.predicted_status)
        });
        assert_eq!(predicted, [200, 200, 429, 200, 429]);
        assert_eq!(report.confusion_429.tp, 2);
        assert_eq!(report.confusion_429.fp, 0);
        assert_eq!(report.totals.agreement_429, Some(1.0));
    }
}
