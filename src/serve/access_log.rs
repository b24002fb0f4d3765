//! The access-log writer. Request handlers append finished lines to one shared block of
//! bytes (a short lock, a copy, no allocation once the block has grown, no wake-up); one
//! thread owns the file and takes the whole block at once, swapping in an empty one, and
//! writes it with one call: when [`HAND_OVER`] bytes are pending, at least every
//! [`FLUSH_EVERY`], on request (SIGHUP) and when closed. A block of [`MAX_PENDING`] bytes
//! makes handlers wait (a slow disk slows the gateway down instead of growing memory or
//! dropping lines).
//!
//! Lines go out in the order handlers appended them; nothing is buffered past the block,
//! so what the writer took is in the file (the kernel's page cache) when it writes the
//! next.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Pending bytes at which the writer is woken to take them.
pub(crate) const HAND_OVER: usize = 64 * 1024;
/// Pending bytes at which handlers wait for the writer.
pub(crate) const MAX_PENDING: usize = 4 << 20;
/// Longest time a line stays pending.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often the writer looks at the block when nobody woke it.
const TICK: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    /// When the oldest pending line was appended.
    since: Option<Instant>,
    flush: bool,
    /// Closed, or the writer failed: lines are no longer taken.
    closed: bool,
}

struct Shared {
    block: Mutex<Block>,
    /// Wakes the writer.
    wake: Condvar,
    /// Wakes handlers waiting for room.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Block> {
        // A panic elsewhere while holding the lock leaves bytes that are still whole lines.
        self.block.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_for_room<'a>(&'a self, mut block: MutexGuard<'a, Block>) -> MutexGuard<'a, Block> {
        while block.bytes.len() >= MAX_PENDING && !block.closed {
            block = self.room.wait(block).unwrap_or_else(|e| e.into_inner());
        }
        block
    }
}

/// The sending side, shared by request handlers.
#[derive(Clone)]
pub(crate) struct AccessLog {
    shared: Arc<Shared>,
}

/// The writer thread, to close at shutdown.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    thread: JoinHandle<std::io::Result<()>>,
}

impl AccessLog {
    /// Creates (truncates) `path` and starts the writer thread.
    pub(crate) fn create(path: &Path) -> std::io::Result<(AccessLog, Writer)> {
        let file = File::create(path)?;
        let shared = Arc::new(Shared {
            block: Mutex::new(Block::default()),
            wake: Condvar::new(),
            room: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gwstat-access-log".into())
                .spawn(move || {
                    let written = write_blocks(file, &shared);
                    // Whatever ended the writer, handlers must not wait for it.
                    shared.lock().closed = true;
                    shared.room.notify_all();
                    written
                })?
        };
        Ok((
            AccessLog {
                shared: shared.clone(),
            },
            Writer { shared, thread },
        ))
    }

    /// Appends `line` and a newline; waits, off the async workers, while the block is full.
    pub(crate) fn send(&self, line: &str) {
        let mut block = self.shared.lock();
        if block.bytes.len() >= MAX_PENDING && !block.closed {
            block = match tokio::runtime::Handle::try_current() {
                Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(|| self.shared.wait_for_room(block))
                }
                _ => self.shared.wait_for_room(block),
            };
        }
        if block.closed {
            return;
        }
        let before = block.bytes.len();
        block.bytes.extend_from_slice(line.as_bytes());
        block.bytes.push(b'\n');
        block.since.get_or_insert_with(Instant::now);
        if before < HAND_OVER && block.bytes.len() >= HAND_OVER {
            self.shared.wake.notify_one();
        }
    }

    /// Asks the writer to write what is pending now.
    pub(crate) fn flush(&self) {
        self.shared.lock().flush = true;
        self.shared.wake.notify_one();
    }
}

impl Writer {
    /// Writes every line appended so far and stops the thread.
    pub(crate) fn close(self) -> std::io::Result<()> {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        self.thread
            .join()
            .map_err(|_| std::io::Error::other("the access-log writer panicked"))?
    }
}

fn write_blocks(mut file: File, shared: &Shared) -> std::io::Result<()> {
    let mut taken = Vec::new();
    loop {
        let closed = {
            let mut block = shared.lock();
            loop {
                let due = block
                    .since
                    .is_some_and(|t| t.elapsed() + TICK >= FLUSH_EVERY);
                if block.closed || block.flush || due || block.bytes.len() >= HAND_OVER {
                    break;
                }
                block = shared
                    .wake
                    .wait_timeout(block, TICK)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            // The emptied block keeps the capacity of the one taken before it.
            std::mem::swap(&mut block.bytes, &mut taken);
            block.since = None;
            block.flush = false;
            block.closed
        };
        shared.room.notify_all();
        file.write_all(&taken)?;
        taken.clear();
        if closed {
            return file.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_the_file_within_a_second_without_a_flush_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let (log, writer) = AccessLog::create(&path).unwrap();
        log.send("one");
        log.send("two");
        let deadline = Instant::now() + FLUSH_EVERY + Duration::from_millis(100);
        while std::fs::read_to_string(&path).unwrap() != "one\ntwo\n" {
            assert!(Instant::now() < deadline, "not written within a second");
            std::thread::sleep(Duration::from_millis(20));
        }
        writer.close().unwrap();
    }

    #[test]
    fn a_flush_request_writes_at_once_and_close_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let (log, writer) = AccessLog::create(&path).unwrap();
        log.send("first");
        log.flush();
        let deadline = Instant::now() + Duration::from_millis(500);
        while std::fs::read_to_string(&path).unwrap() != "first\n" {
            assert!(Instant::now() < deadline, "flush request not honoured");
            std::thread::sleep(Duration::from_millis(5));
        }
        // Several times what the block holds, from two threads: senders wait, nothing is
        // dropped, each thread's lines stay in order.
        let line = "x".repeat(999);
        let lines = 2 * MAX_PENDING / 1000;
        let producers: Vec<_> = (0..2)
            .map(|t| {
                let (sender, line) = (log.clone(), line.clone());
                std::thread::spawn(move || {
                    for i in 0..lines {
                        sender.send(&format!("{t} {i:08} {line}"));
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        writer.close().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1 + 2 * lines);
        for t in ["0", "1"] {
            let numbers: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(t)?.strip_prefix(' '))
                .map(|l| l[..8].parse().unwrap())
                .collect();
            assert_eq!(numbers, (0..lines).collect::<Vec<_>>());
        }
    }

    #[test]
    fn pending_bytes_stay_bounded_while_the_writer_is_slow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let (log, writer) = AccessLog::create(&path).unwrap();
        let line = "y".repeat(4095);
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sender = {
            let (log, peak) = (log.clone(), peak.clone());
            std::thread::spawn(move || {
                for _ in 0..3 * MAX_PENDING / 4096 {
                    log.send(&line);
                    let pending = log.shared.lock().bytes.len();
                    peak.fetch_max(pending, std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        sender.join().unwrap();
        writer.close().unwrap();
        // At most one line past the bound.
        assert!(peak.load(std::sync::atomic::Ordering::Relaxed) <= MAX_PENDING + 4096);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().len(),
            3 * MAX_PENDING / 4096 * 4096
        );
    }
}
