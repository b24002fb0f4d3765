//! A real HTTP gateway around the reference core: requests are admitted (API keys,
//! throttling, quotas, cache) by the same [`Pipeline`] replay uses, on a real clock, then
//! forwarded to an upstream with the stage's integration timeout; responses carry API
//! Gateway's bodies and headers; every request is written to an access log in any template
//! the report reads.
//!
//! Everything a client can make the server hold is bounded ([`Limits`]); the modules:
//! [`connection`] (accept loop, connection cap and shedding, header and idle timeouts,
//! shutdown phases), [`handler`] (one request, start to log line), [`body`] (payload limit,
//! body timeout and memory budget), [`proxy`] (upstream target and hop-by-hop headers),
//! [`cache`] (stored responses), [`line`] (the access-log template, compiled),
//! [`access_log`] (the writer), [`escape`] (log values), [`routing`] (stage and resource),
//! [`workers`] (a thread per core, each serving the connections handed to it).

pub(crate) mod access_log;
pub(crate) mod body;
pub(crate) mod cache;
pub(crate) mod connection;
pub(crate) mod escape;
pub(crate) mod handler;
pub(crate) mod line;
pub(crate) mod proxy;
pub mod routing;
pub(crate) mod workers;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::Uri;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::decode::Template;
use crate::gateway::{GatewayConfig, Pipeline};
use access_log::AccessLog;
use body::BodyBudget;
use cache::BodyCache;
use connection::Tracker;
use line::LineFormat;
use routing::Routes;
use workers::Workers;

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
    /// Connection, time and memory bounds.
    pub limits: Limits,
}

/// What a client can make the server hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open client connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// From a request's first byte to the end of its headers.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body.
    pub body_timeout: Duration,
    /// A keep-alive connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// After a stop signal, in-flight requests get this long before connections are cut.
    pub shutdown_timeout: Duration,
    /// Request bodies held in memory at once (all connections together), bytes.
    pub body_memory: u64,
    /// Stored responses per cached stage, bytes (the stage's `size_gb` if smaller).
    pub cache_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
            body_memory: 64 << 20,
            cache_memory: 64 << 20,
        }
    }
}

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepting and answering.
    Serve,
    /// Not accepting; finishing requests in flight, closing idle connections.
    Drain,
    /// Past the shutdown deadline: everything still open is cut.
    Stop,
}

/// What a serve run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeSummary {
    /// Requests answered.
    pub requests: u64,
    /// Requests by status.
    pub by_status: std::collections::BTreeMap<u16, u64>,
    /// Connections refused with 503 because `max_connections` were open.
    pub shed: u64,
    /// Connections cut at the shutdown deadline.
    pub cut: u64,
}

/// Shared by every connection and request.
pub(crate) struct State {
    pub(crate) pipeline: Mutex<Pipeline>,
    pub(crate) routes: Routes,
    /// The upstream URL without its trailing `/` (see [`proxy::base`]).
    pub(crate) upstream: String,
    pub(crate) line: LineFormat,
    pub(crate) log: Option<AccessLog>,
    pub(crate) caches: Mutex<HashMap<String, BodyCache>>,
    pub(crate) bodies: Arc<BodyBudget>,
    pub(crate) limits: Limits,
    pub(crate) counts: Counts,
    pub(crate) served: AtomicU64,
    pub(crate) done: tokio::sync::Notify,
    pub(crate) max_requests: Option<u64>,
    pub(crate) phase: watch::Receiver<Phase>,
    pub(crate) inflight: Tracker,
    pub(crate) connections: Tracker,
}

/// Requests answered by status, and connections shed: counted by every request without a
/// lock.
pub(crate) struct Counts {
    /// Index: the status (statuses are 100–599).
    by_status: Box<[AtomicU64]>,
    pub(crate) shed: AtomicU64,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            by_status: (0..600).map(|_| AtomicU64::new(0)).collect(),
            shed: AtomicU64::new(0),
        }
    }

    pub(crate) fn count(&self, status: u16) {
        // hyper sends only 100–999; the gateway only 100–599.
        let slot = (status as usize).min(self.by_status.len() - 1);
        self.by_status[slot].fetch_add(1, Ordering::Relaxed);
    }

    fn summary(&self) -> ServeSummary {
        let by_status: std::collections::BTreeMap<u16, u64> = self
            .by_status
            .iter()
            .enumerate()
            .map(|(status, n)| (status as u16, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        ServeSummary {
            requests: by_status.values().sum(),
            by_status,
            shed: self.shed.load(Ordering::Relaxed),
            cut: 0,
        }
    }
}

pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Serves until `shutdown` completes (or `max_requests` were answered); then closes the
/// listener, lets in-flight requests finish for up to `shutdown_timeout`, cuts the
/// connections still open, writes and flushes the access log, and returns a summary.
/// SIGHUP flushes the access log.
pub async fn serve(
    options: ServeOptions,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ServeSummary> {
    let (log, writer) = match &options.access_log {
        Some(path) => {
            let (log, writer) = AccessLog::create(path)?;
            (Some(log), Some(writer))
        }
        None => (None, None),
    };
    let limits = options.limits;
    let caches = options
        .config
        .stages
        .iter()
        .filter(|s| s.cache.enabled)
        .map(|s| {
            let stage_bytes = (s.cache.size_gb * 1e9) as u64;
            (
                // Keyed as the API stage: two APIs' `prod` stages have two caches.
                s.label(),
                BodyCache::new(stage_bytes.min(limits.cache_memory)),
            )
        })
        .collect();
    let (phase_tx, phase) = watch::channel(Phase::Serve);
    let state = Arc::new(State {
        routes: Routes::new(&options.config),
        pipeline: Mutex::new(Pipeline::new(options.config.clone())),
        upstream: proxy::base(&options.upstream),
        line: LineFormat::new(&options.access_format),
        log,
        caches: Mutex::new(caches),
        bodies: BodyBudget::new(limits.body_memory),
        limits,
        counts: Counts::new(),
        served: AtomicU64::new(0),
        done: tokio::sync::Notify::new(),
        max_requests: options.max_requests,
        phase,
        inflight: Tracker::default(),
        connections: Tracker::default(),
    });
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = Workers::start(threads, &state)?;
    connection::accept_until(
        &state,
        listener,
        |s, p, open| workers.hand(s, p, open),
        shutdown,
    )
    .await;

    // The listener is closed. Let requests in flight finish, then cut what is left.
    let _ = phase_tx.send(Phase::Drain);
    let deadline = tokio::time::Instant::now() + limits.shutdown_timeout;
    state.connections.wait_idle(deadline).await;
    state.inflight.wait_idle(deadline).await;
    let cut = state.connections.count() as u64;
    let _ = phase_tx.send(Phase::Stop);
    // Cut requests log themselves (503) as they stop; give them a moment to do so.
    let grace = tokio::time::Instant::now() + Duration::from_secs(2);
    state.inflight.wait_idle(grace).await;
    tokio::task::spawn_blocking(move || workers.join()).await?;
    housekeeping.abort();
    let mut summary = state.counts.summary();
    summary.cut = cut;
    if let Some(writer) = writer {
        tokio::task::spawn_blocking(move || writer.close()).await??;
    }
    Ok(summary)
}

/// Once a second: expired cache entries out; on SIGHUP: the access log flushed.
async fn housekeeping(state: Arc<State>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<()>();
        tokio::select! {
            _ = tick.tick() => {
                let now = now_ns();
                for cache in state.caches.lock().expect("cache lock").values_mut() {
                    cache.evict_expired(now);
                }
            }
            () = hup => {
                if let Some(log) = &state.log {
                    log.flush();
                }
            }
        }
    }
}
