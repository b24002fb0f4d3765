//! Property tests of the exact token bucket against two independent models: the `governor`
//! crate (GCRA) on a fake clock, and a naive floating-point token simulation; and of whole
//! multi-API accounts against the documented model of tests/it/account_model.rs.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};
use gwstat::gateway::{
    Backend, GatewayConfig, GatewayRequest, Level, Pipeline, Rate, Throttle, TokenBucket,
};
use proptest::prelude::*;

use crate::account_model::{three_apis, Model, Verdict, KEYS, TARGETS};

/// Rates whose token interval is a whole number of nanoseconds, where governor (which
/// truncates the interval to 1 ns) is exact.
const EXACT_RATES: [u64; 12] = [1, 2, 4, 5, 8, 10, 20, 25, 50, 100, 250, 1000];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn agrees_with_governor_on_every_decision(
        rate_index in 0..EXACT_RATES.len(),
        burst in 1u32..60,
        gaps in prop::collection::vec(0u64..3_000_000_000, 1..400),
    ) {
        let rate = EXACT_RATES[rate_index];
        let interval = 1_000_000_000 / rate;
        let quota = Quota::with_period(Duration::from_nanos(interval))
            .unwrap()
            .allow_burst(NonZeroU32::new(burst).unwrap());
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(quota, clock.clone());
        let mut bucket = TokenBucket::new(Throttle::new(Rate::per_second(rate), u64::from(burst)));
        let mut now = 0u64;
        for (i, gap) in gaps.iter().enumerate() {
            // Scale gaps to the interval so both busy and idle stretches occur.
            let step = gap % (interval * 3);
            now += step;
            clock.advance(Duration::from_nanos(step));
            let ours = bucket.try_admit(now);
            let theirs = limiter.check().is_ok();
            prop_assert_eq!(ours, theirs, "request {} at {} ns (rate {}, burst {})", i, now, rate, burst);
        }
    }

    #[test]
    fn agrees_with_a_float_simulation_away_from_exact_boundaries(
        rate_millis in 0u64..2_000_000,
        burst in 0u64..100,
        gaps in prop::collection::vec(0u64..500_000_000, 1..400),
    ) {
        let rate = rate_millis as f64 / 1000.0;
        let throttle = Throttle::new(format!("{}.{:03}", rate_millis / 1000, rate_millis % 1000).parse().unwrap(), burst);
        let mut bucket = TokenBucket::new(throttle);
        let mut tokens = burst as f64;
        let mut now = 0u64;
        for gap in gaps {
            now += gap;
            tokens = (tokens + gap as f64 / 1e9 * rate).min(burst as f64);
            let exact = bucket.try_admit(now);
            let ambiguous = (tokens - 1.0).abs() < 1e-6;
            if !ambiguous {
                prop_assert_eq!(exact, tokens >= 1.0, "at {} ns: float tokens {}", now, tokens);
            }
            if exact {
                tokens -= 1.0;
            }
        }
    }

    #[test]
    fn never_admits_more_than_burst_plus_rate_times_elapsed(
        rate in 0u64..500,
        burst in 0u64..50,
        gaps in prop::collection::vec(0u64..50_000_000, 1..500),
    ) {
        let mut bucket = TokenBucket::new(Throttle::new(Rate::per_second(rate), burst));
        let mut now = 0u64;
        let mut admitted = 0u64;
        for gap in gaps {
            now += gap;
            admitted += u64::from(bucket.try_admit(now));
            let bound = burst as u128 + (rate as u128 * now as u128) / 1_000_000_000;
            prop_assert!(admitted as u128 <= bound, "{} admitted by {} ns, bound {}", admitted, now, bound);
        }
    }
}

/// 2026-11-24T10:00:00Z in ms.
const T0_MS: u64 = 1_795_514_400_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Three APIs (two with a `prod` stage), plans over API stages with keys across APIs,
    /// random limits and traffic: every request's status agrees with the model written
    /// from AWS's documentation (tests/it/account_model.rs).
    #[test]
    fn multi_api_accounts_agree_with_the_documented_model(
        params in prop::array::uniform10(0u64..12),
        requests in prop::collection::vec((0u64..400, 0..TARGETS.len(), 0..KEYS.len()), 1..300),
    ) {
        let (model_config, toml) = three_apis(params);
        let mut model = Model::new(model_config);
        let mut gateway = Pipeline::new(GatewayConfig::from_toml(&toml).unwrap());
        let mut now_ms = T0_MS;
        for (i, (gap, target, key)) in requests.into_iter().enumerate() {
            now_ms += gap;
            let (api, stage, method, resource) = TARGETS[target];
            let key = KEYS[key];
            let expected = model.request(api, stage, method, resource, key, now_ms);
            let outcome = gateway.handle(
                &GatewayRequest {
                    api,
                    stage,
                    method,
                    resource,
                    api_key: key,
                    cache_key: "",
                    cache_control_max_age_0: false,
                    may_invalidate_cache: false,
                    payload_bytes: 0,
                    overhead_ms: Some(1),
                    backend: Backend::Response { status: 200, latency_ms: 5, bytes: 1 },
                },
                now_ms * 1_000_000,
            );
            prop_assert_eq!(outcome.status, expected.status(), "request {} {:?} {:?} at {}", i, TARGETS[target], key, now_ms);
            prop_assert_eq!(outcome.refused_by == Some(Level::Quota), expected == Verdict::Quota);
        }
    }
}
