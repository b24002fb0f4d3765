//! Connections: the accept loop (a cap on open connections, beyond which clients get a
//! 503 and are closed, and a back-off when the process runs out of file descriptors instead
//! of retrying at full speed), each connection's header and idle timeouts, and the
//! shutdown phases every connection and request watches.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::{Phase, State};

/// Largest request line plus headers (API Gateway allows 10,240 bytes of headers); a
/// larger head gets 431 from hyper.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Connections being answered 503 at once; beyond this, excess connections are closed
/// without an answer.
const MAX_SHEDDING: usize = 256;
/// Longest pause between accept attempts while the process is out of descriptors.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

const SHED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 33\r\nretry-after: 1\r\nconnection: close\r\n\r\n{\"message\":\"Service Unavailable\"}";

/// Counts things in flight and wakes a waiter when none are left.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    count: AtomicUsize,
    idle: Notify,
}

/// One thing counted by a [`Tracker`], until dropped.
pub(crate) struct Tracked<'a>(&'a Tracker);

impl Tracker {
    pub(crate) fn enter(&self) -> Tracked<'_> {
        self.arrive();
        Tracked(self)
    }

    fn arrive(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    fn leave(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until nothing is counted, or `deadline`.
    pub(crate) async fn wait_idle(&self, deadline: tokio::time::Instant) {
        loop {
            let notified = self.idle.notified();
            if self.count() == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// An open client connection, counted in [`State::connections`] from its accept (so
/// connections waiting to be handed to a thread count against the cap too) until dropped.
pub(crate) struct OpenConnection(Arc<State>);

impl OpenConnection {
    fn new(state: &Arc<State>) -> OpenConnection {
        state.connections.arrive();
        OpenConnection(state.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connections.leave();
    }
}

/// Milliseconds since the process started serving (0 means "not set").
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// What a connection is doing, for its timeouts.
#[derive(Debug)]
struct Activity {
    /// Requests being handled.
    active: AtomicU32,
    /// First byte of a request head not yet complete (0: none).
    head_started: AtomicU64,
    /// When the last request finished (or the connection opened).
    idle_since: AtomicU64,
}

impl Activity {
    /// When this connection times out if nothing changes, and whether that is now.
    fn deadline(&self, limits: &super::Limits) -> Option<u64> {
        if self.active.load(Ordering::Acquire) > 0 {
            return None;
        }
        let head = self.head_started.load(Ordering::Acquire);
        Some(if head != 0 {
            head + limits.header_timeout.as_millis() as u64
        } else {
            self.idle_since.load(Ordering::Acquire) + limits.idle_timeout.as_millis() as u64
        })
    }
}

/// A client socket that notes when a new request head starts arriving.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before
            && self.activity.active.load(Ordering::Acquire) == 0
            && self.activity.head_started.load(Ordering::Acquire) == 0
        {
            self.activity
                .head_started
                .store(now_ms(), Ordering::Release);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Accepts connections until `shutdown` completes or the request limit is reached, and
/// gives each to `hand` (which gives back those it has no room for: they are shed); the
/// listener is closed on return.
pub(crate) async fn accept_until(
    state: &Arc<State>,
    listener: TcpListener,
    hand: impl Fn(TcpStream, SocketAddr, OpenConnection) -> Result<(), TcpStream>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let shedding = Arc::new(AtomicUsize::new(0));
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
            () = state.done.notified() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::ZERO;
                if state.connections.count() >= state.limits.max_connections {
                    shed(state, stream, &shedding);
                } else {
                    let _ = stream.set_nodelay(true);
                    if let Err(stream) = hand(stream, peer, OpenConnection::new(state)) {
                        shed(state, stream, &shedding);
                    }
                }
            }
            Err(e) => {
                use std::io::ErrorKind::*;
                if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted) {
                    continue;
                }
                // Out of descriptors or memory: accepting again at once fails again at
                // once. Wait (longer each time) for connections to close.
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_BACKOFF);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = &mut shutdown => return,
                }
            }
        }
    }
}

/// Answers 503 and closes, without reading the request.
fn shed(state: &State, mut stream: TcpStream, shedding: &Arc<AtomicUsize>) {
    state.counts.shed.fetch_add(1, Ordering::Relaxed);
    if shedding.fetch_add(1, Ordering::AcqRel) >= MAX_SHEDDING {
        shedding.fetch_sub(1, Ordering::AcqRel);
        return; // dropped: closed at once
    }
    let shedding = shedding.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(SHED_RESPONSE).await?;
            stream.shutdown().await
        })
        .await;
        shedding.fetch_sub(1, Ordering::AcqRel);
    });
}

pub(crate) async fn serve_connection(
    state: Arc<State>,
    stream: TcpStream,
    peer: SocketAddr,
    _open: OpenConnection,
) {
    let activity = Arc::new(Activity {
        active: AtomicU32::new(0),
        head_started: AtomicU64::new(0),
        idle_since: AtomicU64::new(now_ms()),
    });
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = {
        let state = state.clone();
        let activity = activity.clone();
        service_fn(move |request| {
            activity.active.fetch_add(1, Ordering::AcqRel);
            activity.head_started.store(0, Ordering::Release);
            let state = state.clone();
            let activity = activity.clone();
            async move {
                let response = super::handler::handle(state, peer, request).await;
                activity.idle_since.store(now_ms(), Ordering::Release);
                activity.active.fetch_sub(1, Ordering::AcqRel);
                response
            }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Our own header timeout (below) starts at a head's first byte; hyper's would start
        // when the connection goes idle and so cut idle keep-alive connections early.
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut phase = state.phase.clone();
    let mut draining = false;
    loop {
        if !draining && *phase.borrow_and_update() != Phase::Serve {
            draining = true;
            connection.as_mut().graceful_shutdown();
        }
        if *phase.borrow() == Phase::Stop {
            return;
        }
        // Looked at again at least every second: a head may start arriving meanwhile.
        let soon = tokio::time::Instant::now() + Duration::from_secs(1);
        let wake = match activity.deadline(&state.limits) {
            Some(at) if at <= now_ms() => return, // timed out: dropping closes the socket
            Some(at) => soon.min(
                tokio::time::Instant::now() + Duration::from_millis(at.saturating_sub(now_ms())),
            ),
            // A request is being handled: its own timeouts apply.
            None => soon,
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            changed = phase.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}
