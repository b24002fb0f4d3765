//! Limit advice: a rate and burst per stage, per method and per API key from the recorded
//! traffic, each proven by replay.
//!
//! Rate = the chosen percentile of the scope's per-second request counts, plus headroom.
//! Burst = the smallest bucket that, at that rate, would have admitted every recorded request
//! of the scope (found by binary search with the exact token bucket), plus headroom.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::limits::{current_limits, with_logged_stages, Limits};
use super::{replay, Recorded, ReplayOptions};
use crate::gateway::config::stage_label;
use crate::gateway::{GatewayConfig, Rate, Throttle, TokenBucket};

/// A method scope: stage (`apiId:stage` when the API is known), method, resource.
type MethodScope = (Arc<str>, Arc<str>, Arc<str>);

/// How to size limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuggestOptions {
    /// Percentile of per-second counts the rate covers (0–100).
    pub percentile: f64,
    /// Extra share on top (0.2 = 20 %).
    pub headroom: f64,
    /// Scopes to report per kind (0 = all).
    pub top: usize,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// `stage`, `method` or `api_key`.
    pub scope: &'static str,
    /// Stage name, `stage METHOD /resource`, or key ID.
    pub name: String,
    /// Requests in the scope.
    pub requests: u64,
    /// Median per-second count (over seconds with traffic).
    pub p50_rps: f64,
    /// The chosen percentile of per-second counts.
    pub percentile_rps: f64,
    /// Busiest second.
    pub max_rps: u64,
    /// The limit that applies to the scope now, and the level it is set at (`stage`,
    /// `method`, `usage_plan:ID`, or `account` when nothing closer is set).
    pub current: Limits,
    /// Where [`Suggestion::current`] is set.
    pub current_level: String,
    /// Suggested rate.
    pub rate: u64,
    /// Suggested burst.
    pub burst: u64,
    /// 429s when the scope's own requests go through a bucket with these limits.
    pub bucket_429: u64,
    /// 429s predicted by replaying all requests with the configuration plus this one setting
    /// (stage and method scopes; null for API keys, whose limits live in usage plans).
    pub replay_429: Option<u64>,
    /// The `--set` that applies it.
    pub set: Option<String>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * (rank - lo as f64)
}

fn refused(times_ms: &[i64], rate: u64, burst: u64) -> u64 {
    let mut bucket = TokenBucket::new(Throttle::new(Rate::per_second(rate), burst));
    times_ms
        .iter()
        .filter(|t| !bucket.try_admit(u64::try_from(**t).unwrap_or(0) * 1_000_000))
        .count() as u64
}

fn min_burst(times_ms: &[i64], rate: u64) -> u64 {
    let (mut lo, mut hi) = (1u64, times_ms.len().max(1) as u64);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if refused(times_ms, rate, mid) == 0 {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

pub(super) fn sized(
    scope: &'static str,
    name: String,
    times_ms: &[i64],
    options: &SuggestOptions,
) -> Suggestion {
    let mut per_second: BTreeMap<i64, u64> = BTreeMap::new();
    for t in times_ms {
        *per_second.entry(t.div_euclid(1000)).or_default() += 1;
    }
    let mut counts: Vec<u64> = per_second.into_values().collect();
    counts.sort_unstable();
    let p = percentile(&counts, options.percentile);
    let rate = ((p * (1.0 + options.headroom)).ceil() as u64).max(1);
    let burst =
        ((min_burst(times_ms, rate) as f64 * (1.0 + options.headroom)).ceil() as u64).max(1);
    Suggestion {
        scope,
        name,
        requests: times_ms.len() as u64,
        p50_rps: percentile(&counts, 50.0),
        percentile_rps: p,
        max_rps: counts.last().copied().unwrap_or(0),
        current: Limits::default(),
        current_level: String::new(),
        rate,
        burst,
        bucket_429: refused(times_ms, rate, burst),
        replay_429: None,
        set: None,
    }
}

/// Suggests limits for every stage, the busiest methods and API keys of `requests`
/// (time-ordered), proving stage and method suggestions by replay through `config`.
pub fn suggest(
    requests: &[Recorded],
    config: &GatewayConfig,
    options: &SuggestOptions,
) -> Vec<Suggestion> {
    let mut stages: BTreeMap<Arc<str>, Vec<i64>> = BTreeMap::new();
    let mut methods: BTreeMap<MethodScope, Vec<i64>> = BTreeMap::new();
    let mut keys: BTreeMap<Arc<str>, Vec<i64>> = BTreeMap::new();
    // The stage each key is first seen on (its usage plan is looked up there).
    let mut key_stage: BTreeMap<Arc<str>, (Arc<str>, Arc<str>)> = BTreeMap::new();
    for r in requests {
        // `apiId:stage` when the log's API is known: two APIs' `prod` are two stages.
        let stage: Arc<str> = if r.api.is_empty() {
            r.stage.clone()
        } else {
            Arc::from(stage_label(&r.api, &r.stage))
        };
        stages.entry(stage.clone()).or_default().push(r.time_ms);
        methods
            .entry((stage, r.method.clone(), r.resource.clone()))
            .or_default()
            .push(r.time_ms);
        if let Some(key) = &r.api_key {
            key_stage
                .entry(key.clone())
                .or_insert_with(|| (r.api.clone(), r.stage.clone()));
            keys.entry(key.clone()).or_default().push(r.time_ms);
        }
    }
    let base = with_logged_stages(config, requests);
    let prove = |sets: [String; 2]| -> Option<u64> {
        let mut variant = base.clone();
        for set in &sets {
            super::whatif::apply(&mut variant, set).ok()?;
        }
        Some(
            replay(requests, &variant, &ReplayOptions::default(), 0, |_| {})
                .totals
                .predicted_429,
        )
    };
    let busiest =
        |a: &Suggestion, b: &Suggestion| b.requests.cmp(&a.requests).then(a.name.cmp(&b.name));
    let mut out = Vec::new();
    for (stage, times) in &stages {
        let mut s = sized("stage", stage.to_string(), times, options);
        let (api, name) = crate::gateway::config::split_stage_label(stage);
        if let Some(i) = base.stage_index(api, name) {
            (s.current, s.current_level) = current_limits(&base, i, None, None);
        }
        let path = format!("stage.{stage}");
        s.replay_429 = prove([
            format!("{path}.rate={}", s.rate),
            format!("{path}.burst={}", s.burst),
        ]);
        s.set = Some(format!(
            "--set {path}.rate={} --set {path}.burst={}",
            s.rate, s.burst
        ));
        out.push(s);
    }
    let mut by_method: Vec<Suggestion> = methods
        .iter()
        .map(|((stage, method, resource), times)| {
            sized(
                "method",
                format!("{stage} {method} {resource}"),
                times,
                options,
            )
        })
        .collect();
    by_method.sort_by(busiest);
    if options.top > 0 {
        by_method.truncate(options.top);
    }
    for s in &mut by_method {
        let mut parts = s.name.splitn(3, ' ');
        let (stage, method, resource) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let (api, name) = crate::gateway::config::split_stage_label(stage);
        if let Some(i) = base.stage_index(api, name) {
            (s.current, s.current_level) = current_limits(&base, i, Some((method, resource)), None);
        }
        let path = format!("stage.{stage}.method.{resource}/{method}");
        s.replay_429 = prove([
            format!("{path}.rate={}", s.rate),
            format!("{path}.burst={}", s.burst),
        ]);
        s.set = Some(format!(
            "--set {path}.rate={} --set {path}.burst={}",
            s.rate, s.burst
        ));
    }
    out.extend(by_method);
    let mut by_key: Vec<Suggestion> = keys
        .iter()
        .map(|(key, times)| sized("api_key", key.to_string(), times, options))
        .collect();
    by_key.sort_by(busiest);
    if options.top > 0 {
        by_key.truncate(options.top);
    }
    for s in &mut by_key {
        let stage = key_stage
            .get(s.name.as_str())
            .and_then(|(api, stage)| base.stage_index(api, stage));
        if let Some(i) = stage {
            (s.current, s.current_level) = current_limits(&base, i, None, Some(&s.name));
        }
    }
    out.extend(by_key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_the_smallest_bucket_that_admits_everything() {
        // 5 requests at once, then one every 100 ms: at 10 rps a bucket of 5 admits all.
        let mut times = vec![0, 0, 0, 0, 0];
        times.extend((1..20).map(|i| i * 100));
        assert_eq!(min_burst(&times, 10), 5);
        assert_eq!(refused(&times, 10, 4), 1);
        assert_eq!(refused(&times, 10, 5), 0);
    }

    #[test]
    fn rates_cover_the_percentile_with_headroom() {
        let times: Vec<i64> = (0..100).map(|i| i * 100).collect(); // 10 per second
        let s = sized(
            "stage",
            "prod".into(),
            &times,
            &SuggestOptions {
                percentile: 99.0,
                headroom: 0.2,
                top: 0,
            },
        );
        assert_eq!(s.percentile_rps, 10.0);
        assert_eq!(s.rate, 12);
        assert_eq!(s.bucket_429, 0);
    }
}
