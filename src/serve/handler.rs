//! One request, from its head to its access-log line: local answers for targets that are
//! not a path (`OPTIONS *`, absolute-form), routing, the gateway core's admission (API key,
//! throttling, quota, cache), only then the body (payload limit, timeout, memory budget),
//! the upstream call, the cache, the response headers, the log line.
//!
//! A client that goes away does not cancel its request: the rest of the work moves to a
//! task of its own ([`Detach`]), and the gateway finishes and logs the request with the
//! status it decided (API Gateway logs such requests too). Past the shutdown deadline a request still waiting for its body or the
//! upstream is cut and logged as a 503.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Response, StatusCode};
use rand::Rng;

use super::body::{self, BodyError};
use super::cache::Stored;
use super::line::LineFacts;
use super::proxy::{self, UpstreamError};
use super::routing::{Route, METHODS};
use super::{now_ns, Phase, State};
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
struct Seen<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    api_key: Option<&'a str>,
    user_agent: Option<&'a str>,
    host: Option<&'a str>,
    max_age_0: bool,
    content_length: Option<u64>,
    /// Not a path (`*`, or absolute-form with a scheme or host).
    not_a_path: bool,
}

impl Seen<'_> {
    fn of(parts: &hyper::http::request::Parts) -> Seen<'_> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Seen {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
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

/// Handles one request (see the module doc).
pub(crate) async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    Ok(Detach(Some(Box::pin(process(state, peer, request)))).await)
}

/// A request's work: polled on its connection's task while the client waits; dropped
/// before it completes (the client went away, the connection was cut), it finishes in a
/// task of its own. A panic answers 503 instead of taking the connection down.
struct Detach<F: Future<Output = Reply> + Send + 'static>(Option<Pin<Box<F>>>);

impl<F: Future<Output = Reply> + Send + 'static> Future for Detach<F> {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let Some(work) = self.0.as_mut() else {
            return Poll::Pending; // polled again after completing: never
        };
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx)));
        let reply = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(reply)) => reply,
            Err(_) => gateway_response(&Outcome::gateway(UNAVAILABLE, None, 0)),
        };
        self.0 = None;
        Poll::Ready(reply)
    }
}

impl<F: Future<Output = Reply> + Send + 'static> Drop for Detach<F> {
    fn drop(&mut self) {
        if let (Some(work), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(work);
        }
    }
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
    let route = if overloaded || seen.not_a_path || !METHODS.contains(&seen.method) {
        None
    } else {
        state.routes.resolve_host(seen.host, seen.path)
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
            resource: seen.path,
            ..request_for(&seen, "", "-", "")
        };
        let reply = gateway_response(&outcome);
        return finish(
            &state, peer, &seen, &logged, None, outcome, reply, started, now,
        );
    };
    let gateway_request = request_for(&seen, route.api, route.stage, route.resource);
    let (prepared, admission, key_id) = {
        let mut pipeline = state.pipeline.lock().expect("pipeline lock");
        let prepared = pipeline.prepare(&gateway_request);
        let admission = pipeline.admit(&prepared, now);
        let key_id = seen
            .api_key
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
    seen: &Seen<'a>,
    api: &'a str,
    stage: &'a str,
    resource: &'a str,
) -> GatewayRequest<'a> {
    GatewayRequest {
        // The API the Host header names, else the first with the stage (see `routing`).
        api,
        stage,
        method: seen.method,
        resource,
        api_key: seen.api_key,
        cache_key: seen.query,
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
    seen: &Seen<'_>,
    route: &Route<'_>,
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
                    .get_mut(&stage_label(route.api, route.stage))?
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
    let Some(target) = proxy::target(&state.upstream, route.rest, parts.uri.query()) else {
        let outcome = Outcome::gateway(BAD_BODY, None, 0);
        return (outcome, gateway_response(&outcome));
    };
    let timeout = Duration::from_millis(prepared.timeout_ms());
    let call_started = Instant::now();
    let upstream = proxy::forward(parts, target, bytes, timeout).await;
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
                    .get_mut(&stage_label(route.api, route.stage))
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
    seen: &Seen<'_>,
    request: &GatewayRequest<'_>,
    key_id: Option<&str>,
    mut outcome: Outcome,
    mut reply: Reply,
    started: Instant,
    now: u64,
) -> Reply {
    outcome.latency_ms = started.elapsed().as_millis() as u64;
    let ids = RequestIds::new();
    let headers = reply.headers_mut();
    headers.insert("x-amzn-requestid", ids.header(&ids.request));
    headers.insert("x-amz-apigw-id", ids.header(&ids.extended));
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
        let facts = LineFacts {
            outcome: &outcome,
            request: &logged,
            request_id: ids.text(&ids.request),
            extended_id: ids.text(&ids.extended),
            peer: peer.ip(),
            now_ns: now,
            response_length: hyper::body::Body::size_hint(reply.body())
                .exact()
                .unwrap_or(0),
            path: seen.path,
            user_agent: seen.user_agent,
        };
        thread_local! {
            static LINE: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LINE.with_borrow_mut(|line| {
            line.clear();
            state.line.render(&facts, line);
            log.send(line);
        });
    }
    state.counts.count(outcome.status);
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

/// A request's `x-amzn-RequestId` (a random UUID) and `x-amz-apigw-id` (15 random
/// letters and digits and `=`), written without allocating.
struct RequestIds {
    request: [u8; 36],
    extended: [u8; 16],
}

impl RequestIds {
    fn new() -> RequestIds {
        thread_local! {
            static RNG: RefCell<rand_pcg::Pcg64> = RefCell::new({
                // Threads started in the same nanosecond still get different streams.
                static THREADS: AtomicU64 = AtomicU64::new(0);
                let thread = THREADS.fetch_add(1, Ordering::Relaxed);
                rand_pcg::Pcg64::new(now_ns() as u128, thread as u128)
            });
        }
        RNG.with_borrow_mut(|rng| {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            // Version 4, variant 10: the digits a random UUID has.
            let bits: u128 =
                rng.random::<u128>() & !(0xf << 76) & !(0x3 << 62) | (0x4 << 76) | (0x2 << 62);
            let mut request = [b'-'; 36];
            let mut digit = 0;
            for (i, slot) in request.iter_mut().enumerate() {
                if !matches!(i, 8 | 13 | 18 | 23) {
                    *slot = HEX[(bits >> (124 - 4 * digit)) as usize & 15];
                    digit += 1;
                }
            }
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let mut extended = [b'='; 16];
            for slot in &mut extended[..15] {
                *slot = ALPHABET[rng.random_range(0..ALPHABET.len())];
            }
            RequestIds { request, extended }
        })
    }

    fn text<'a>(&self, id: &'a [u8]) -> &'a str {
        // Only ASCII letters, digits, `-` and `=` were written.
        std::str::from_utf8(id).unwrap_or("-")
    }

    fn header(&self, id: &[u8]) -> HeaderValue {
        HeaderValue::from_bytes(id).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}
