//! Request bodies, read only after the gateway admitted the request: refused at once from
//! `Content-Length` when it is over API Gateway's 10 MB payload limit, otherwise read with
//! the limit counted while streaming (chunked bodies too), a deadline for the whole body,
//! and a budget for all bodies held in memory at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::gateway::pipeline::MAX_PAYLOAD_BYTES;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the payload limit (from `Content-Length` or counted).
    TooLarge,
    /// Not complete within the body timeout.
    Timeout,
    /// All bodies in memory would exceed the budget.
    OverBudget,
    /// The client closed the connection or sent a malformed body.
    Broken,
}

/// Bytes of request bodies held in memory, shared by all requests.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    limit: u64,
    held: AtomicU64,
}

/// Bytes taken from a [`BodyBudget`], given back when dropped.
pub(crate) struct Held {
    budget: Arc<BodyBudget>,
    bytes: u64,
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            limit,
            held: AtomicU64::new(0),
        })
    }

    fn take(self: &Arc<Self>, held: &mut Held, more: u64) -> bool {
        let mut current = self.held.load(Ordering::Relaxed);
        loop {
            if current + more > self.limit {
                return false;
            }
            match self.held.compare_exchange_weak(
                current,
                current + more,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    held.bytes += more;
                    return true;
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Reads a whole body of at most [`MAX_PAYLOAD_BYTES`] within `timeout`, holding its bytes
/// in `budget` until the returned [`Held`] is dropped.
pub(crate) async fn read(
    body: Incoming,
    content_length: Option<u64>,
    timeout: Duration,
    budget: &Arc<BodyBudget>,
) -> Result<(Bytes, Held), BodyError> {
    let mut held = Held {
        budget: budget.clone(),
        bytes: 0,
    };
    if content_length.is_some_and(|n| n > MAX_PAYLOAD_BYTES) {
        return Err(BodyError::TooLarge);
    }
    if let Some(n) = content_length {
        if !budget.take(&mut held, n) {
            return Err(BodyError::OverBudget);
        }
    }
    let read = async move {
        let mut body = body;
        let mut buffer = BytesMut::with_capacity(content_length.unwrap_or(0) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            let total = buffer.len() as u64 + data.len() as u64;
            if total > MAX_PAYLOAD_BYTES {
                return Err(BodyError::TooLarge);
            }
            let more = total.saturating_sub(held.bytes);
            if more > 0 && !budget.take(&mut held, more) {
                return Err(BodyError::OverBudget);
            }
            buffer.extend_from_slice(&data);
        }
        // A body that ends short of its `Content-Length` was cut, never complete: it is
        // not forwarded as if it were.
        if content_length.is_some_and(|n| n != buffer.len() as u64) {
            return Err(BodyError::Broken);
        }
        Ok((buffer.freeze(), held))
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_never_exceeded_and_comes_back() {
        let budget = BodyBudget::new(100);
        let mut a = Held {
            budget: budget.clone(),
            bytes: 0,
        };
        assert!(budget.take(&mut a, 60));
        let mut b = Held {
            budget: budget.clone(),
            bytes: 0,
        };
        assert!(!budget.take(&mut b, 41));
        assert!(budget.take(&mut b, 40));
        assert_eq!(budget.held(), 100);
        drop(a);
        assert_eq!(budget.held(), 40);
        drop(b);
        assert_eq!(budget.held(), 0);
    }
}
