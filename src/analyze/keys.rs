//! API keys: requests and 429s per key (the throttling section's `by_api_key`).

use std::collections::BTreeMap;

use super::sort_name;
use super::stats::sort_top;
use crate::aggregate::{name, Aggregates};
use crate::report::KeyThrottling;

/// Keys with 429s, most throttled first (`top`: list length, 0 = all).
pub(crate) fn by_api_key(agg: &Aggregates, top: usize) -> Vec<KeyThrottling> {
    let mut keys: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for (&(key, status), &n) in &agg.api_keys {
        let entry = keys.entry(key).or_default();
        entry.0 += n;
        if status == 429 {
            entry.1 += n;
        }
    }
    let mut list: Vec<KeyThrottling> = keys
        .into_iter()
        .filter(|(_, (_, t))| *t > 0)
        .map(|(key, (requests, throttled))| KeyThrottling {
            api_key: name(&agg.names.api_keys, key),
            requests,
            throttled,
        })
        .collect();
    sort_top(&mut list, top, |k| (k.throttled, sort_name(&k.api_key)));
    list
}
