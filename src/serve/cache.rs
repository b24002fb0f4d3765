//! The bodies behind the core's cache verdicts. The core ([`crate::gateway::cache`]) decides
//! hit or miss and keeps only status and size; serve must also keep each response's
//! headers and body, so it holds them here, per stage, bounded the same way and more:
//! capacity in bytes (the stage's `size_gb`, capped by `--cache-memory`; each entry counted
//! with its headers and a fixed overhead, so empty bodies cannot fill memory either), least
//! recently used out first, and every entry dropped when its TTL passes (swept, not only
//! when touched). When the core says hit and the body is gone (this cap is the lower one),
//! serve asks the upstream again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};

/// Bytes counted for an entry besides its body and headers (maps, key, timestamps).
pub(crate) const ENTRY_OVERHEAD: u64 = 160;

/// A response as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Status.
    pub status: u16,
    /// End-to-end headers (hop-by-hop ones already removed).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body.
    pub body: Bytes,
}

impl Stored {
    /// Bytes counted for this response in a cache.
    pub(crate) fn size(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 16)
            .sum();
        self.body.len() as u64 + headers as u64 + ENTRY_OVERHEAD
    }
}

struct Entry {
    response: Stored,
    size: u64,
    expires_ns: u64,
    last_use: u64,
}

/// One stage's stored responses.
pub(crate) struct BodyCache {
    capacity: u64,
    used: u64,
    entries: HashMap<u64, Entry>,
    by_use: BTreeMap<u64, u64>,
    by_expiry: BTreeSet<(u64, u64)>,
    clock: u64,
}

impl BodyCache {
    /// A cache holding up to `capacity` bytes.
    pub(crate) fn new(capacity: u64) -> BodyCache {
        BodyCache {
            capacity,
            used: 0,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            clock: 0,
        }
    }

    /// The live response for `key`, marking it used.
    pub(crate) fn get(&mut self, key: u64, now_ns: u64) -> Option<Stored> {
        self.evict_expired(now_ns);
        let entry = self.entries.get_mut(&key)?;
        self.by_use.remove(&entry.last_use);
        self.clock += 1;
        entry.last_use = self.clock;
        self.by_use.insert(self.clock, key);
        Some(entry.response.clone())
    }

    /// Stores `response` for `ttl_ns`, evicting expired entries, then the least recently
    /// used, until it fits; a response larger than the whole capacity is not stored.
    pub(crate) fn put(&mut self, key: u64, response: Stored, now_ns: u64, ttl_ns: u64) {
        self.remove(key);
        self.evict_expired(now_ns);
        let size = response.size();
        if ttl_ns == 0 || size > self.capacity {
            return;
        }
        while self.used + size > self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.remove(oldest);
        }
        self.clock += 1;
        let expires_ns = now_ns.saturating_add(ttl_ns);
        self.entries.insert(
            key,
            Entry {
                response,
                size,
                expires_ns,
                last_use: self.clock,
            },
        );
        self.by_use.insert(self.clock, key);
        self.by_expiry.insert((expires_ns, key));
        self.used += size;
    }

    /// Drops every entry whose TTL has passed.
    pub(crate) fn evict_expired(&mut self, now_ns: u64) {
        while let Some(&(expires, key)) = self.by_expiry.first() {
            if expires > now_ns {
                break;
            }
            self.remove(key);
        }
    }

    /// Bytes held (bodies, headers and per-entry overhead).
    #[cfg(test)]
    pub(crate) fn used_bytes(&self) -> u64 {
        self.used
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn remove(&mut self, key: u64) {
        if let Some(e) = self.entries.remove(&key) {
            self.by_use.remove(&e.last_use);
            self.by_expiry.remove(&(e.expires_ns, key));
            self.used -= e.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn body(n: usize) -> Stored {
        Stored {
            status: 200,
            headers: vec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain"),
            )],
            body: Bytes::from(vec![b'x'; n]),
        }
    }

    #[test]
    fn bytes_never_exceed_the_capacity_and_the_least_recently_used_goes() {
        let one = body(1000).size();
        let mut c = BodyCache::new(3 * one);
        c.put(1, body(1000), 0, 100 * S);
        c.put(2, body(1000), 0, 100 * S);
        c.put(3, body(1000), 0, 100 * S);
        assert!(c.get(1, S).is_some());
        c.put(4, body(1000), S, 100 * S);
        assert_eq!(c.used_bytes(), 3 * one);
        assert!(c.get(2, S).is_none());
        assert!(c.get(1, S).is_some() && c.get(3, S).is_some() && c.get(4, S).is_some());
        for key in 10..1000 {
            c.put(key, body(1000), S, 100 * S);
            assert!(c.used_bytes() <= 3 * one);
        }
        c.put(5, body(10_000), S, 100 * S);
        assert!(c.get(5, S).is_none());
    }

    #[test]
    fn empty_bodies_still_count() {
        let mut c = BodyCache::new(100 * ENTRY_OVERHEAD);
        for key in 0..10_000 {
            c.put(key, body(0), 0, 100 * S);
        }
        assert!(c.len() < 100);
    }

    #[test]
    fn expired_entries_are_evicted_without_being_touched() {
        let mut c = BodyCache::new(1 << 20);
        c.put(1, body(10), 0, 5 * S);
        c.put(2, body(10), 0, 50 * S);
        assert_eq!(c.get(1, 5 * S - 1).map(|s| s.status), Some(200));
        c.evict_expired(5 * S);
        assert_eq!(c.len(), 1);
        assert_eq!(c.used_bytes(), body(10).size());
        c.evict_expired(50 * S);
        assert_eq!((c.len(), c.used_bytes()), (0, 0));
    }
}
