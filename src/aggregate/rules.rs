//! What access logs cannot say outright, inferred by one set of rules: whether the stage
//! cache answered a request, and whether a 504 (503 on HTTP APIs) was the integration
//! timeout. Every engine applies these (the Logs Insights queries spell the same rules in
//! their query language).

/// A 504 counts as a timeout when its integration latency is at least this share of the
/// timeout (logged integration latency on a timeout is the timeout plus a few ms; the 1 %
/// slack tolerates clock granularity).
pub const REACHED_SHARE: f64 = 0.99;

/// The statuses a gateway answers an integration timeout with: 504 (REST and WebSocket APIs)
/// and 503 (HTTP APIs, as users observe it: `crate::gateway::responses`).
pub const TIMEOUT_STATUSES: [u16; 2] = [504, 503];

/// Whether a request was a timeout answer ([`TIMEOUT_STATUSES`]) that reached the
/// integration timeout (`timeout_ms`): its integration latency reached [`REACHED_SHARE`] of
/// it, or the gateway said `INTEGRATION_TIMEOUT`.
pub fn timeout_reached(
    status: u16,
    integration_ms: Option<f64>,
    response_type: Option<&str>,
    timeout_ms: u64,
) -> bool {
    TIMEOUT_STATUSES.contains(&status)
        && (integration_ms.is_some_and(|i| i >= timeout_ms as f64 * REACHED_SHARE)
            || response_type == Some("INTEGRATION_TIMEOUT"))
}

/// The cache pattern AWS's own sample relies on: a GET answered 2xx whose line logs a
/// response latency but no (or zero) integration latency did not reach the backend, so it
/// was probably a cache hit (`Some(true)`); one with an integration latency was a miss
/// (`Some(false)`). Anything else says nothing (`None`). A route × stage counts only when it
/// shows both kinds (the cache is per stage; see `analyze::cache`).
pub fn cache_hit(
    method: Option<&str>,
    status: u16,
    latency_ms: Option<f64>,
    integration_ms: Option<f64>,
) -> Option<bool> {
    let get_2xx =
        (200..=299).contains(&status) && method.is_some_and(|m| m.eq_ignore_ascii_case("GET"));
    if !get_2xx {
        return None;
    }
    match integration_ms {
        Some(i) if i > 0.0 => Some(false),
        Some(i) if i == 0.0 && latency_ms.is_some() => Some(true),
        None if latency_ms.is_some() => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_pattern() {
        let get = Some("get");
        assert_eq!(cache_hit(get, 200, Some(3.0), None), Some(true));
        assert_eq!(cache_hit(get, 200, Some(3.0), Some(0.0)), Some(true));
        assert_eq!(cache_hit(get, 204, Some(9.0), Some(7.0)), Some(false));
        assert_eq!(cache_hit(get, 200, None, None), None);
        assert_eq!(cache_hit(get, 200, None, Some(0.0)), None);
        assert_eq!(cache_hit(get, 404, Some(3.0), None), None);
        assert_eq!(cache_hit(Some("POST"), 200, Some(3.0), None), None);
        assert_eq!(cache_hit(None, 200, Some(3.0), None), None);
    }

    #[test]
    fn timeouts() {
        assert!(timeout_reached(504, Some(28_710.0), None, 29_000));
        assert!(!timeout_reached(504, Some(28_709.0), None, 29_000));
        assert!(timeout_reached(
            504,
            None,
            Some("INTEGRATION_TIMEOUT"),
            29_000
        ));
        assert!(!timeout_reached(502, Some(29_001.0), None, 29_000));
        // HTTP APIs answer a timeout 503.
        assert!(timeout_reached(503, Some(30_002.0), None, 30_000));
        assert!(!timeout_reached(503, Some(12.0), None, 30_000));
    }
}
