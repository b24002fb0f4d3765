//! Where decoded requests go: request columns (the table engine) or an accumulator (the
//! stream engine); the decoders push into either.

use super::{Request, RequestColumns};

/// Where decoded requests go.
pub trait RequestSink: Send + Sync + Sized {
    /// An empty sink with the same settings, for one chunk.
    fn fresh(&self) -> Self;
    /// Adds one request.
    fn push(&mut self, request: &Request<'_>);
    /// Appends a chunk's sink (chunks come in input order).
    fn append(&mut self, other: Self);
    /// Requests pushed so far.
    fn requests(&self) -> usize;
    /// Makes room for about `additional` more requests.
    fn reserve(&mut self, _additional: usize) {}
    /// Says that the requests to come span at least `first_ms` to `last_ms` (epoch ms): two
    /// of them were read ahead. Sinks that bin by time may size their bins for it.
    fn expect_span(&mut self, _first_ms: i64, _last_ms: i64) {}
    /// Whether requests must arrive in input order. Sinks that fold them in any order are
    /// filled by independent workers, a sink each; ordered ones are too where the input is
    /// a mapped file (a sink per run of chunks that follow one another, appended in input
    /// order), else in batches appended one after another.
    const ORDERED: bool = true;
}

impl RequestSink for RequestColumns {
    fn fresh(&self) -> Self {
        RequestColumns::new(self.keep_request_ids)
    }

    fn push(&mut self, request: &Request<'_>) {
        RequestColumns::push(self, request);
    }

    fn append(&mut self, other: Self) {
        RequestColumns::append(self, other);
    }

    fn requests(&self) -> usize {
        self.len()
    }

    fn reserve(&mut self, additional: usize) {
        RequestColumns::reserve(self, additional);
    }
}
