//! The access-log writer: one thread owns the file, takes lines from a bounded queue,
//! writes them in batches through a 64 KiB buffer, and flushes at least every second, on
//! request (SIGHUP) and when closed. A full queue makes request handlers wait (a slow disk
//! slows the gateway down instead of growing memory or dropping lines).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lines queued before handlers wait.
pub(crate) const QUEUE_LINES: usize = 16_384;
/// Longest time a written line stays in the buffer.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

enum Message {
    Line(String),
    Flush,
    Close,
}

/// The sending side, shared by request handlers.
#[derive(Clone)]
pub(crate) struct AccessLog {
    queue: SyncSender<Message>,
}

/// The writer thread, to close at shutdown.
pub(crate) struct Writer {
    queue: SyncSender<Message>,
    thread: JoinHandle<std::io::Result<()>>,
}

impl AccessLog {
    /// Creates (truncates) `path` and starts the writer thread.
    pub(crate) fn create(path: &Path) -> std::io::Result<(AccessLog, Writer)> {
        let file = File::create(path)?;
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let thread = std::thread::Builder::new()
            .name("gwstat-access-log".into())
            .spawn(move || write_lines(file, lines))?;
        Ok((
            AccessLog {
                queue: queue.clone(),
            },
            Writer { queue, thread },
        ))
    }

    /// Queues a line (without its newline); waits, off the async workers, while the queue
    /// is full.
    pub(crate) fn send(&self, line: String) {
        match self.queue.try_send(Message::Line(line)) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(message)) => {
                let queue = &self.queue;
                let wait = || {
                    let _ = queue.send(message);
                };
                match tokio::runtime::Handle::try_current() {
                    Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                        tokio::task::block_in_place(wait)
                    }
                    _ => wait(),
                }
            }
        }
    }

    /// Asks the writer to flush what it has.
    pub(crate) fn flush(&self) {
        let _ = self.queue.try_send(Message::Flush);
    }
}

impl Writer {
    /// Writes every line queued so far, flushes, and stops the thread.
    pub(crate) fn close(self) -> std::io::Result<()> {
        let _ = self.queue.send(Message::Close);
        self.thread
            .join()
            .map_err(|_| std::io::Error::other("the access-log writer panicked"))?
    }
}

fn write_lines(file: File, lines: mpsc::Receiver<Message>) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut dirty_since: Option<Instant> = None;
    loop {
        let message = match dirty_since {
            None => lines.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(since) => lines.recv_timeout(FLUSH_EVERY.saturating_sub(since.elapsed())),
        };
        match message {
            Ok(Message::Line(line)) => {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
                dirty_since.get_or_insert_with(Instant::now);
                if dirty_since.is_some_and(|t| t.elapsed() >= FLUSH_EVERY) {
                    out.flush()?;
                    dirty_since = None;
                }
            }
            Ok(Message::Flush) | Err(RecvTimeoutError::Timeout) => {
                out.flush()?;
                dirty_since = None;
            }
            Ok(Message::Close) | Err(RecvTimeoutError::Disconnected) => {
                // Lines queued before Close are in order ahead of it; take any stragglers.
                while let Ok(Message::Line(line)) = lines.try_recv() {
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                return out.flush();
            }
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
        log.send("one".into());
        log.send("two".into());
        let deadline = Instant::now() + FLUSH_EVERY + Duration::from_millis(900);
        while std::fs::read_to_string(&path).unwrap() != "one\ntwo\n" {
            assert!(Instant::now() < deadline, "not flushed within a second");
            std::thread::sleep(Duration::from_millis(20));
        }
        writer.close().unwrap();
    }

    #[test]
    fn a_flush_request_writes_at_once_and_close_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let (log, writer) = AccessLog::create(&path).unwrap();
        log.send("first".into());
        log.flush();
        let deadline = Instant::now() + Duration::from_millis(500);
        while std::fs::read_to_string(&path).unwrap() != "first\n" {
            assert!(Instant::now() < deadline, "flush request not honoured");
            std::thread::sleep(Duration::from_millis(5));
        }
        // More lines than the queue holds: senders wait, nothing is dropped.
        let sender = log.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..QUEUE_LINES * 2 {
                sender.send(i.to_string());
            }
        });
        producer.join().unwrap();
        writer.close().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1 + QUEUE_LINES * 2);
    }
}
