//! A stage's response cache: entries live for their TTL, the capacity is the provisioned
//! size in bytes, and when it is full the least recently used entries go first (AWS does not
//! document eviction; LRU is the assumption, see docs/gateway.md). Responses above
//! 1,048,576 bytes are not cached.

use std::collections::{BTreeMap, HashMap};

/// Largest cacheable response.
pub const MAX_CACHEABLE_BYTES: u64 = 1_048_576;

/// A cached response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedResponse {
    /// Status to answer with.
    pub status: u16,
    /// Response size.
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    response: CachedResponse,
    expires_ns: u64,
    last_use: u64,
}

/// One stage's cache.
#[derive(Debug, Clone, Default)]
pub struct StageCache {
    capacity_bytes: u64,
    used_bytes: u64,
    entries: HashMap<u64, Entry>,
    by_use: BTreeMap<u64, u64>,
    clock: u64,
}

impl StageCache {
    /// A cache holding up to `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        StageCache {
            capacity_bytes,
            ..StageCache::default()
        }
    }

    /// The live entry for `key` at `now_ns`, marking it used.
    pub fn get(&mut self, key: u64, now_ns: u64) -> Option<CachedResponse> {
        let entry = self.entries.get(&key).copied()?;
        if entry.expires_ns <= now_ns {
            self.remove(key);
            return None;
        }
        self.touch(key, entry.last_use);
        Some(entry.response)
    }

    /// Stores a response for `ttl_ns`; too-large responses and zero TTLs are not stored.
    pub fn put(&mut self, key: u64, response: CachedResponse, now_ns: u64, ttl_ns: u64) {
        if ttl_ns == 0
            || response.bytes > MAX_CACHEABLE_BYTES
            || response.bytes > self.capacity_bytes
        {
            return;
        }
        self.remove(key);
        while self.used_bytes + response.bytes > self.capacity_bytes {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.used_bytes -= e.response.bytes;
            }
        }
        self.clock += 1;
        self.entries.insert(
            key,
            Entry {
                response,
                expires_ns: now_ns.saturating_add(ttl_ns),
                last_use: self.clock,
            },
        );
        self.by_use.insert(self.clock, key);
        self.used_bytes += response.bytes;
    }

    /// Whether the cache holds nothing.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn touch(&mut self, key: u64, last_use: u64) {
        self.by_use.remove(&last_use);
        self.clock += 1;
        self.by_use.insert(self.clock, key);
        if let Some(e) = self.entries.get_mut(&key) {
            e.last_use = self.clock;
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some(e) = self.entries.remove(&key) {
            self.by_use.remove(&e.last_use);
            self.used_bytes -= e.response.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    const OK: CachedResponse = CachedResponse {
        status: 200,
        bytes: 100,
    };

    #[test]
    fn entries_expire_after_their_ttl() {
        let mut c = StageCache::new(1 << 30);
        c.put(1, OK, 0, 300 * S);
        assert_eq!(c.get(1, 300 * S - 1), Some(OK));
        assert_eq!(c.get(1, 300 * S), None);
    }

    #[test]
    fn zero_ttl_and_oversized_responses_are_not_stored() {
        let mut c = StageCache::new(1 << 30);
        c.put(1, OK, 0, 0);
        c.put(
            2,
            CachedResponse {
                status: 200,
                bytes: MAX_CACHEABLE_BYTES + 1,
            },
            0,
            S,
        );
        assert!(c.is_empty());
    }

    #[test]
    fn least_recently_used_goes_first_when_full() {
        let mut c = StageCache::new(300);
        c.put(1, OK, 0, 100 * S);
        c.put(2, OK, 0, 100 * S);
        c.put(3, OK, 0, 100 * S);
        assert!(c.get(1, S).is_some());
        c.put(4, OK, 2 * S, 100 * S);
        assert!(c.get(2, 3 * S).is_none());
        assert!(c.get(1, 3 * S).is_some());
        assert!(c.get(3, 3 * S).is_some());
        assert!(c.get(4, 3 * S).is_some());
    }
}
