//! One thread per core, each with its own single-threaded runtime, its own event loop and
//! its own pool of upstream connections: the accept loop hands every accepted connection
//! to the next thread in turn, and the connection (its requests, their upstream calls,
//! their timers) stays on that thread until it closes. Nothing a request does wakes another
//! thread, which a work-stealing runtime on a machine this small does for most I/O events.
//!
//! A connection counts against the connection cap from its accept, so the hand-over queues
//! never hold more than the cap between them; a connection that finds its thread's queue
//! full (or the thread gone) is shed like one over the cap.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::connection::{serve_connection, OpenConnection};
use super::State;

/// A connection handed to a worker thread.
type Handed = (std::net::TcpStream, SocketAddr, OpenConnection);

/// The worker threads.
pub(crate) struct Workers {
    queues: Vec<mpsc::Sender<Handed>>,
    next: AtomicUsize,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `count` threads (at least one) serving the connections handed to them.
    pub(crate) fn start(count: usize, state: &Arc<State>) -> std::io::Result<Workers> {
        let mut workers = Workers {
            queues: Vec::new(),
            next: AtomicUsize::new(0),
            threads: Vec::new(),
        };
        for i in 0..count.max(1) {
            let (queue, mut handed) = mpsc::channel::<Handed>(state.limits.max_connections);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let state = state.clone();
            let thread = std::thread::Builder::new()
                .name(format!("serve-{i}"))
                .spawn(move || {
                    // Until the server is done (its queue closed): connections and requests
                    // still open after the listener closed run their drain and stop phases
                    // here meanwhile.
                    runtime.block_on(async move {
                        while let Some((stream, peer, open)) = handed.recv().await {
                            // Registered with this thread's event loop from here on.
                            if let Ok(stream) = TcpStream::from_std(stream) {
                                tokio::spawn(serve_connection(state.clone(), stream, peer, open));
                            }
                        }
                    });
                    // Dropping the runtime ends whatever was cut and never finished.
                    drop(runtime);
                })?;
            workers.queues.push(queue);
            workers.threads.push(thread);
        }
        Ok(workers)
    }

    /// Hands a connection to the next thread in turn; gives it back when that thread's
    /// queue is full (or the thread is gone).
    pub(crate) fn hand(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        open: OpenConnection,
    ) -> Result<(), TcpStream> {
        // At least one queue, from `start` until `join` consumes the workers.
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        let queue = &self.queues[i];
        let permit = match queue.try_reserve() {
            Ok(permit) => permit,
            Err(_) => return Err(stream),
        };
        match stream.into_std() {
            Ok(stream) => {
                permit.send((stream, peer, open));
                Ok(())
            }
            // Not registered any more and not handed: dropping it closes it.
            Err(_) => Ok(()),
        }
    }

    /// Ends the threads (what is still running on them is dropped) and waits for them.
    pub(crate) fn join(mut self) {
        // Closing the queues ends each thread's loop.
        self.queues.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
