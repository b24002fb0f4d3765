//! One request, from its head to its access-log line: local answers for targets that are
//! not a path (`OPTIONS *`, absolute-form), routing, the gateway core's admission (API key,
//! throttling, quota, cache), only then the body (payload limit, timeout, memory budget),
//! the upstream call, the cache, the response headers, the log line.
//!
//! Each request runs in its own task, so a client that goes away does not cancel it: the
//! gateway finishes and logs the request with the status it decided (API Gateway logs such
//! requests too). Past the shutdown deadline a request still waiting for its body or the
//! upstream is cut and logged as a 503.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Response, StatusCode};
use rand::Rng;

use super::body::{self, BodyError};
use super::cache::Stored;
use super::connection::Phase;
use super::proxy::{self, UpstreamError};
use super::routing::{Route, METHODS};
use super::{now_ns, State};
use crate::gateway::config::stage_label;
use crate::gateway::responses::{self, error_type_header, GatewayError};
use crate::gateway::{Admission, Backend, CacheResult, GatewayRequest, Outcome, PreparedRequest};

/// The body did not arrive within the body timeout.
const BODY_TIMEOUT: GatewayError = GatewayError {
    status: 408,
    response_type: Some("DEFAULT_4XX"),
    message: "Request Timeout",
};
/// The client broke off or garbled its body.
const BAD_BODY: GatewayError = GatewayError {
    status: 400,
    response_type: Some("DEFAULT_4XX"),
    message: "Bad Request",
};
/// All request bodies in memory would exceed the budget, or the server is shutting down.
const UNAVAILABLE: GatewayError = GatewayError {
    status: 503,
    response_type: Some("DEFAULT_5XX"),
    message: "Service Unavailable",
};

type Reply = Response<Full<Bytes>>;

/// What the client sent that the gateway and the log use.
struct Seen {
    method: String,
    path: String,
    query: String,
    api_key: Option<String>,
    user_agent: Option<String>,
    host: Option<String>,
    max_age_0: bool,
    content_length: Option<u64>,
    /// Not a path (`*`, or absolute-form with a scheme or host).
    not_a_path: bool,
}

impl Seen {
    fn of(parts: &hyper::http::request::Parts) -> Seen {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Seen {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            api_key: header("x-api-key"),
            user_agent: header(USER_AGENT.as_str()),
            host: header(HOST.as_str()),
            max_age_0: header(CACHE_CONTROL.as_str())
                .is_some_and(|v| v.replace(' ', "").contains("max-age=0")),
            content_length: header(CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok()),
            not_a_path: parts.uri.scheme().is_some()
                || parts.uri.authority().is_some()
                || !parts.uri.path().starts_with('/'),
        }
    }
}

/// Handles one request in its own task (see the module doc).
pub(crate) async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let task = tokio::spawn(process(state, peer, request));
    Ok(task
        .await
        .unwrap_or_else(|_| gateway_response(&Outcome::gateway(UNAVAILABLE, None, 0))))
}

async fn process(state: Arc<State>, peer: SocketAddr, request: Request<Incoming>) -> Reply {
    let _inflight = state.inflight.enter();
    let started = Instant::now();
    let now = now_ns();
    let (parts, body) = request.into_parts();
    let seen = Seen::of(&parts);
    // Requests whose clients left keep running (and holding memory) until they finish:
    // their number is bounded too.
    let overloaded = state.inflight.count() > max_in_flight(&state.limits);
    let route = if overloaded || seen.not_a_path || !METHODS.contains(&seen.method.as_str()) {
        None
    } else {
        state.routes.resolve_host(seen.host.as_deref(), &seen.path)
    };
    let Some(route) = route else {
        // Answered here: overloaded, or no stage has this route (nothing reaches the upstream).
        let error = if overloaded {
            UNAVAILABLE
        } else {
            responses::MISSING_AUTHENTICATION_TOKEN
        };
        let outcome = Outcome::gateway(error, None, 0);
        let logged = GatewayRequest {
            stage: "-",
            resource: &seen.path,
            ..request_for(&seen, "", "-", "")
        };
        let reply = gateway_response(&outcome);
        return finish(
            &state, peer, &seen, &logged, None, outcome, reply, started, now,
        );
    };
    let gateway_request = request_for(&seen, &route.api, &route.stage, &route.resource);
    let (prepared, admission, key_id) = {
        let mut pipeline = state.pipeline.lock().expect("pipeline lock");
        let prepared = pipeline.prepare(&gateway_request);
        let admission = pipeline.admit(&prepared, now);
        let key_id = seen
            .api_key
            .as_deref()
            .and_then(|k| pipeline.api_key_id(k))
            .map(str::to_string);
        (prepared, admission, key_id)
    };
    let work = decide(&state, &parts, body, &seen, &route, &prepared, admission);
    let (outcome, reply) = tokio::select! {
        // Cut connections also break bodies: the cut, not the broken body, is logged.
        biased;
        () = stopped(&state) => {
            let outcome = Outcome::gateway(UNAVAILABLE, None, 0);
            (outcome, gateway_response(&outcome))
        }
        decided = work => decided,
    };
    finish(
        &state,
        peer,
        &seen,
        &gateway_request,
        key_id.as_deref(),
        outcome,
        reply,
        started,
        now,
    )
}

/// Requests in progress at most (those of departed clients included): twice the
/// connection cap.
pub(crate) fn max_in_flight(limits: &super::Limits) -> usize {
    limits.max_connections.saturating_mul(2)
}

fn request_for<'a>(
    seen: &'a Seen,
    api: &'a str,
    stage: &'a str,
    resource: &'a str,
) -> GatewayRequest<'a> {
    GatewayRequest {
        // The API the Host header names, else the first with the stage (see `routing`).
        api,
        stage,
        method: &seen.method,
        resource,
        api_key: seen.api_key.as_deref(),
        cache_key: &seen.query,
        cache_control_max_age_0: seen.max_age_0,
        may_invalidate_cache: false,
        // The payload is checked after admission, while it is read.
        payload_bytes: 0,
        overhead_ms: Some(0),
        backend: Backend::Response {
            status: 200,
            latency_ms: 0,
            bytes: 0,
        },
    }
}

/// Completes when the server passes its shutdown deadline.
async fn stopped(state: &State) {
    let mut phase = state.phase.clone();
    let _ = phase.wait_for(|p| *p == Phase::Stop).await;
}

/// Everything after admission: the answer and the response.
async fn decide(
    state: &State,
    parts: &hyper::http::request::Parts,
    body: Incoming,
    seen: &Seen,
    route: &Route,
    prepared: &PreparedRequest,
    admission: Admission,
) -> (Outcome, Reply) {
    let forward = match admission {
        Admission::Answered(outcome) if outcome.cache == CacheResult::Hit => {
            let stored = prepared.cache_key().and_then(|key| {
                state
                    .caches
                    .lock()
                    .expect("cache lock")
                    .get_mut(&stage_label(&route.api, &route.stage))?
                    .get(key, now_ns())
            });
            match stored {
                Some(stored) => return (outcome, stored_response(stored)),
                // The core still counts it cached; serve's own bound dropped the body.
                None => None,
            }
        }
        Admission::Answered(outcome) => return (outcome, gateway_response(&outcome)),
        Admission::Forward(forward) => Some(forward),
    };
    let (bytes, _held) = match body::read(
        body,
        seen.content_length,
        state.limits.body_timeout,
        &state.bodies,
    )
    .await
    {
        Ok(read) => read,
        Err(e) => {
            let error = match e {
                BodyError::TooLarge => responses::REQUEST_TOO_LARGE,
                BodyError::Timeout => BODY_TIMEOUT,
                BodyError::OverBudget => UNAVAILABLE,
                // Cutting a connection at the shutdown deadline breaks its body too; whichever
                // of the two this task sees first, the cut (503) is what is logged.
                BodyError::Broken if *state.phase.borrow() == Phase::Stop => UNAVAILABLE,
                BodyError::Broken => BAD_BODY,
            };
            let outcome = Outcome::gateway(error, None, 0);
            return (outcome, gateway_response(&outcome));
        }
    };
    let Some(target) = proxy::target(&state.upstream, &route.rest, parts.uri.query()) else {
        let outcome = Outcome::gateway(BAD_BODY, None, 0);
        return (outcome, gateway_response(&outcome));
    };
    let timeout = Duration::from_millis(prepared.timeout_ms());
    let call_started = Instant::now();
    let upstream = proxy::forward(&state.client, parts, target, bytes, timeout).await;
    let latency_ms = call_started.elapsed().as_millis() as u64;
    let outcome = match forward {
        Some(forward) => {
            let backend = match &upstream {
                Ok(stored) => Backend::Response {
                    status: stored.status,
                    latency_ms,
                    // Counted as serve's cache counts it, so both caches hold the same.
                    bytes: stored.size(),
                },
                Err(UpstreamError::Timeout) => Backend::Response {
                    status: 200,
                    latency_ms: prepared.timeout_ms(),
                    bytes: 0,
                },
                Err(UpstreamError::Failed) => Backend::InvokeRejected { latency_ms },
            };
            state.pipeline.lock().expect("pipeline lock").complete(
                prepared,
                forward,
                backend,
                now_ns(),
            )
        }
        None => match &upstream {
            Ok(stored) => Outcome {
                status: stored.status,
                response_type: None,
                message: None,
                refused_by: None,
                cache: CacheResult::Miss,
                latency_ms,
                integration_latency_ms: Some(latency_ms as i64),
                integration_status: Some(stored.status),
            },
            Err(UpstreamError::Timeout) => {
                Outcome::gateway(responses::INTEGRATION_TIMEOUT, None, latency_ms)
            }
            Err(UpstreamError::Failed) => {
                Outcome::gateway(responses::INVOKE_REJECTED, None, latency_ms)
            }
        },
    };
    match (outcome.message, upstream) {
        (None, Ok(stored)) => {
            if let (Some(key), Some(ttl), CacheResult::Miss | CacheResult::Bypass) =
                (prepared.cache_key(), prepared.cache_ttl_ns(), outcome.cache)
            {
                if let Some(cache) = state
                    .caches
                    .lock()
                    .expect("cache lock")
                    .get_mut(&stage_label(&route.api, &route.stage))
                {
                    cache.put(key, stored.clone(), now_ns(), ttl);
                }
            }
            (outcome, stored_response(stored))
        }
        _ => (outcome, gateway_response(&outcome)),
    }
}

/// Adds the gateway's headers, writes the log line, counts the request.
#[allow(clippy::too_many_arguments)]
fn finish(
    state: &State,
    peer: SocketAddr,
    seen: &Seen,
    request: &GatewayRequest<'_>,
    key_id: Option<&str>,
    mut outcome: Outcome,
    mut reply: Reply,
    started: Instant,
    now: u64,
) -> Reply {
    outcome.latency_ms = started.elapsed().as_millis() as u64;
    let (request_id, extended_id) = ids(state);
    let headers = reply.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&extended_id) {
        headers.insert("x-amz-apigw-id", v);
    }
    if outcome.message.is_some() {
        if let Some(kind) = error_type_header(outcome.status, outcome.response_type) {
            headers.insert("x-amzn-errortype", HeaderValue::from_static(kind));
        }
    }
    if let Some(log) = &state.log {
        let logged = GatewayRequest {
            api_key: key_id,
            ..*request
        };
        let length = hyper::body::Body::size_hint(reply.body())
            .exact()
            .unwrap_or(0);
        let line = state.template.render(|name| {
            let value = outcome
                .context_value(&logged, name)
                .unwrap_or_else(|| match name {
                    "requestId" => request_id.clone(),
                    "extendedRequestId" => extended_id.clone(),
                    "identity.sourceIp" => peer.ip().to_string(),
                    "requestTime" => clf_time(now),
                    "requestTimeEpoch" => (now / 1_000_000).to_string(),
                    "protocol" => "HTTP/1.1".to_string(),
                    "responseLength" => length.to_string(),
                    "path" => seen.path.clone(),
                    "identity.userAgent" => seen.user_agent.clone().unwrap_or_else(|| "-".into()),
                    // The implicit API (top-level stages) has no id: missing, as `-`.
                    "apiId" if logged.api.is_empty() => "-".to_string(),
                    "apiId" => logged.api.to_string(),
                    _ => "-".to_string(),
                });
            // The one value meant to be quoted by the template's author, not by us (its
            // text is always one of the gateway's fixed messages).
            if name == "error.messageString" {
                value
            } else {
                state.syntax.escape(value)
            }
        });
        log.send(line);
    }
    {
        let mut summary = state.summary.lock().expect("summary lock");
        summary.requests += 1;
        *summary.by_status.entry(outcome.status).or_default() += 1;
    }
    let served = state.served.fetch_add(1, Ordering::Relaxed) + 1;
    if state.max_requests.is_some_and(|max| served >= max) {
        state.done.notify_one();
    }
    reply
}

fn gateway_response(outcome: &Outcome) -> Reply {
    let body = outcome.body().unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn stored_response(stored: Stored) -> Reply {
    let mut response = Response::new(Full::new(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        headers.append(name, value);
    }
    response
}

fn ids(state: &State) -> (String, String) {
    let mut rng = state.ids.lock().expect("ids lock");
    let a: u64 = rng.random();
    let b: u64 = rng.random();
    let request_id = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    );
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut extended: String = (0..15)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    extended.push('=');
    (request_id, extended)
}

fn clf_time(now_ns: u64) -> String {
    chrono::DateTime::from_timestamp((now_ns / 1_000_000_000) as i64, 0)
        .map(|t| t.format("%d/%b/%Y:%H:%M:%S +0000").to_string())
        .unwrap_or_else(|| "-".into())
}
