//! A real HTTP gateway around the reference core: requests are admitted (API keys,
//! throttling, quotas, cache) by the same [`Pipeline`] replay uses, on a real clock, then
//! forwarded to an upstream with the stage's integration timeout; responses carry API
//! Gateway's bodies and headers; every request is written to an access log in any template
//! the report reads.

pub mod routing;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::decode::Template;
use crate::gateway::pipeline::MAX_PAYLOAD_BYTES;
use crate::gateway::responses::{self, error_type_header};
use crate::gateway::{
    Admission, Backend, CacheResult, GatewayConfig, GatewayRequest, Outcome, Pipeline,
};
use routing::Routes;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where admitted requests go (`http://host:port`, path prefix allowed).
    pub upstream: Uri,
    /// Gateway configuration.
    pub config: GatewayConfig,
    /// Access-log template.
    pub access_format: Template,
    /// Access-log file (none = no access log).
    pub access_log: Option<std::path::PathBuf>,
    /// Stop after this many requests.
    pub max_requests: Option<u64>,
}

/// What a serve run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeSummary {
    /// Requests answered.
    pub requests: u64,
    /// Requests by status.
    pub by_status: std::collections::BTreeMap<u16, u64>,
}

/// A response as the cache holds it: status, content type, body.
type StoredResponse = (u16, Option<HeaderValue>, Bytes);

struct State {
    pipeline: Mutex<Pipeline>,
    ids: Mutex<rand_pcg::Pcg64>,
    routes: Routes,
    upstream: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    template: Template,
    log: Option<mpsc::UnboundedSender<String>>,
    bodies: Mutex<HashMap<u64, StoredResponse>>,
    summary: Mutex<ServeSummary>,
    served: AtomicU64,
    done: tokio::sync::Notify,
    max_requests: Option<u64>,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Serves until `shutdown` completes (or `max_requests` were answered), then finishes
/// in-flight requests (up to 5 s), flushes the access log and returns a summary.
pub async fn serve(
    options: ServeOptions,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ServeSummary> {
    let (log_tx, log_task) = match &options.access_log {
        Some(path) => {
            let (tx, mut rx) = mpsc::unbounded_channel::<String>();
            let file = tokio::fs::File::create(path).await?;
            let task = tokio::spawn(async move {
                let mut out = tokio::io::BufWriter::new(file);
                while let Some(line) = rx.recv().await {
                    out.write_all(line.as_bytes()).await?;
                    out.write_all(b"\n").await?;
                }
                out.flush().await?;
                Ok::<(), std::io::Error>(())
            });
            (Some(tx), Some(task))
        }
        None => (None, None),
    };
    let state = Arc::new(State {
        routes: Routes::new(&options.config),
        pipeline: Mutex::new(Pipeline::new(options.config.clone())),
        ids: Mutex::new(rand_pcg::Pcg64::seed_from_u64(now_ns())),
        upstream: options.upstream.clone(),
        client: Client::builder(TokioExecutor::new()).build_http(),
        template: options.access_format.clone(),
        log: log_tx,
        bodies: Mutex::new(HashMap::new()),
        summary: Mutex::new(ServeSummary::default()),
        served: AtomicU64::new(0),
        done: tokio::sync::Notify::new(),
        max_requests: options.max_requests,
    });
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                let service = service_fn(move |request| handle(state.clone(), peer, request));
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            () = &mut shutdown => break,
            () = state.done.notified() => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    let summary = state.summary.lock().expect("summary lock").clone();
    drop(state);
    if let Some(task) = log_task {
        task.await??;
    }
    Ok(summary)
}

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let now = now_ns();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let presented_key = header("x-api-key");
    let max_age_0 =
        header(CACHE_CONTROL.as_str()).is_some_and(|v| v.replace(' ', "").contains("max-age=0"));
    let body = match Limited::new(body, MAX_PAYLOAD_BYTES as usize)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(()),
    };
    let payload_bytes = match &body {
        Ok(b) => b.len() as u64,
        Err(()) => MAX_PAYLOAD_BYTES + 1,
    };
    let (stage, resource) = state
        .routes
        .resolve(&path)
        .unwrap_or_else(|| (String::new(), path.clone()));
    let gateway_request = GatewayRequest {
        api: "",
        stage: &stage,
        method: &method,
        resource: &resource,
        api_key: presented_key.as_deref(),
        cache_key: &query,
        cache_control_max_age_0: max_age_0,
        may_invalidate_cache: false,
        payload_bytes,
        overhead_ms: Some(0),
        backend: Backend::Response {
            status: 200,
            latency_ms: 0,
            bytes: 0,
        },
    };
    let (prepared, admission, key_id) = {
        let mut pipeline = state.pipeline.lock().expect("pipeline lock");
        let prepared = pipeline.prepare(&gateway_request);
        let admission = if stage.is_empty() {
            Admission::Answered(missing_token())
        } else {
            pipeline.admit(&prepared, now)
        };
        let key_id = presented_key
            .as_deref()
            .and_then(|k| pipeline.api_key_id(k))
            .map(str::to_string);
        (prepared, admission, key_id)
    };

    let (outcome, response) = match admission {
        Admission::Answered(outcome) if outcome.cache == CacheResult::Hit => {
            let cached = prepared
                .cache_key()
                .and_then(|k| state.bodies.lock().expect("bodies lock").get(&k).cloned());
            let (status, content_type, bytes) =
                cached.unwrap_or((outcome.status, None, Bytes::new()));
            (outcome, plain_response(status, content_type, bytes))
        }
        Admission::Answered(outcome) => (outcome, gateway_response(&outcome)),
        Admission::Forward(forward) => {
            let timeout = Duration::from_millis(prepared.timeout_ms());
            let call_started = Instant::now();
            let upstream = forward_to(
                &state,
                &parts,
                &path,
                &stage,
                &query,
                body.unwrap_or_default(),
                timeout,
            )
            .await;
            let latency_ms = call_started.elapsed().as_millis() as u64;
            let (backend, reply) = match upstream {
                Ok((status, content_type, bytes)) => (
                    Backend::Response {
                        status,
                        latency_ms,
                        bytes: bytes.len() as u64,
                    },
                    Some((status, content_type, bytes)),
                ),
                Err(UpstreamError::Timeout) => (
                    Backend::Response {
                        status: 200,
                        latency_ms: prepared.timeout_ms(),
                        bytes: 0,
                    },
                    None,
                ),
                Err(UpstreamError::Failed) => (Backend::InvokeRejected { latency_ms }, None),
            };
            let outcome = state.pipeline.lock().expect("pipeline lock").complete(
                &prepared,
                forward,
                backend,
                now_ns(),
            );
            match (outcome.message, reply) {
                (None, Some((status, content_type, bytes))) => {
                    if let (Some(key), CacheResult::Miss | CacheResult::Bypass) =
                        (prepared.cache_key(), outcome.cache)
                    {
                        state
                            .bodies
                            .lock()
                            .expect("bodies lock")
                            .insert(key, (status, content_type.clone(), bytes.clone()));
                    }
                    (outcome, plain_response(status, content_type, bytes))
                }
                _ => (outcome, gateway_response(&outcome)),
            }
        }
    };
    let mut outcome = outcome;
    outcome.latency_ms = started.elapsed().as_millis() as u64;
    let (request_id, extended_id) = ids(&state);
    let mut response = response;
    let headers = response.headers_mut();
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
            api_key: key_id.as_deref(),
            ..gateway_request
        };
        let length = response.body().size_hint().exact().unwrap_or(0);
        let user_agent = header(USER_AGENT.as_str());
        let line = state.template.render(|name| {
            outcome
                .context_value(&logged, name)
                .unwrap_or_else(|| match name {
                    "requestId" => request_id.clone(),
                    "extendedRequestId" => extended_id.clone(),
                    "identity.sourceIp" => peer.ip().to_string(),
                    "requestTime" => clf_time(now),
                    "requestTimeEpoch" => (now / 1_000_000).to_string(),
                    "protocol" => "HTTP/1.1".to_string(),
                    "responseLength" => length.to_string(),
                    "path" => path.clone(),
                    "identity.userAgent" => user_agent.clone().unwrap_or_else(|| "-".into()),
                    "apiId" => "gwstat".to_string(),
                    _ => "-".to_string(),
                })
        });
        let _ = log.send(line);
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
    Ok(response)
}

fn missing_token() -> Outcome {
    Outcome::gateway(responses::MISSING_AUTHENTICATION_TOKEN, None, 0)
}

enum UpstreamError {
    Timeout,
    Failed,
}

async fn forward_to(
    state: &State,
    parts: &hyper::http::request::Parts,
    path: &str,
    stage: &str,
    query: &str,
    body: Bytes,
    timeout: Duration,
) -> Result<StoredResponse, UpstreamError> {
    let rest = path
        .strip_prefix(&format!("/{stage}"))
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .unwrap_or(path);
    let base = state.upstream.to_string();
    let mut target = format!(
        "{}{}",
        base.trim_end_matches('/'),
        if rest.is_empty() { "/" } else { rest }
    );
    if !query.is_empty() {
        target.push('?');
        target.push_str(query);
    }
    let mut builder = Request::builder().method(parts.method.clone()).uri(target);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != "x-api-key" {
            builder = builder.header(name, value);
        }
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|_| UpstreamError::Failed)?;
    let call = async {
        let response = state
            .client
            .request(request)
            .await
            .map_err(|_| UpstreamError::Failed)?;
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|_| UpstreamError::Failed)?
            .to_bytes();
        Ok((status, content_type, bytes))
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(UpstreamError::Timeout),
    }
}

fn gateway_response(outcome: &Outcome) -> Response<Full<Bytes>> {
    let body = outcome.body().unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(outcome.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn plain_response(
    status: u16,
    content_type: Option<HeaderValue>,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    if let Some(ct) = content_type {
        response.headers_mut().insert(CONTENT_TYPE, ct);
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
