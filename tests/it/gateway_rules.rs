//! One test per documented gateway rule (docs/gateway.md), through the public pipeline.

use gwstat::gateway::config::{
    ConsumptionPolicy, QuotaCounting, StageDefaultBuckets, TimeoutIntegrationLatency,
};
use gwstat::gateway::{
    Backend, CacheResult, GatewayConfig, GatewayRequest, Level, Outcome, Pipeline,
};

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
/// 2026-11-24T10:00:00Z.
const T0: u64 = 1_795_514_400 * S;

fn pipeline(toml: &str) -> Pipeline {
    Pipeline::new(GatewayConfig::from_toml(toml).unwrap())
}

fn ok(latency_ms: u64) -> Backend {
    Backend::Response {
        status: 200,
        latency_ms,
        bytes: 512,
    }
}

fn get<'a>(stage: &'a str, resource: &'a str) -> GatewayRequest<'a> {
    crate::common::gateway_request("", stage, "GET", resource)
}

fn statuses(
    p: &mut Pipeline,
    request: &GatewayRequest<'_>,
    times: impl IntoIterator<Item = u64>,
) -> Vec<u16> {
    times
        .into_iter()
        .map(|t| p.handle(request, t).status)
        .collect()
}

const STAGE_10_RPS: &str = r#"
[[stages]]
name = "prod"
throttle = { rate = 10, burst = 5 }
"#;

#[test]
fn throttled_requests_get_429_too_many_requests() {
    let mut p = pipeline(STAGE_10_RPS);
    let r = get("prod", "/pets");
    let outcomes: Vec<Outcome> = (0..6).map(|_| p.handle(&r, T0)).collect();
    assert!(outcomes[..5].iter().all(|o| o.status == 200));
    let refused = outcomes[5];
    assert_eq!(refused.status, 429);
    assert_eq!(refused.response_type, Some("THROTTLED"));
    assert_eq!(
        refused.body().unwrap(),
        r#"{"message":"Too Many Requests"}"#
    );
    assert_eq!(refused.refused_by, Some(Level::StageDefault));
    assert_eq!(refused.integration_latency_ms, None);
}

#[test]
fn buckets_refill_at_the_rate() {
    let mut p = pipeline(STAGE_10_RPS);
    let r = get("prod", "/pets");
    assert_eq!(statuses(&mut p, &r, [T0; 5]), [200; 5]);
    assert_eq!(p.handle(&r, T0 + 100 * MS - 1).status, 429);
    assert_eq!(p.handle(&r, T0 + 100 * MS).status, 200);
}

#[test]
fn stage_default_is_one_bucket_per_method_by_default() {
    let mut p = pipeline(STAGE_10_RPS);
    assert_eq!(statuses(&mut p, &get("prod", "/a"), [T0; 5]), [200; 5]);
    assert_eq!(p.handle(&get("prod", "/b"), T0).status, 200);
    assert_eq!(
        p.config().options.stage_default_buckets,
        StageDefaultBuckets::PerMethod
    );
}

#[test]
fn stage_default_can_be_one_shared_bucket() {
    let mut p = pipeline(&format!(
        "[options]\nstage_default_buckets = \"shared\"\n{STAGE_10_RPS}"
    ));
    assert_eq!(statuses(&mut p, &get("prod", "/a"), [T0; 5]), [200; 5]);
    assert_eq!(p.handle(&get("prod", "/b"), T0).status, 429);
}

#[test]
fn a_method_override_replaces_the_stage_default() {
    let mut p = pipeline(&format!(
        "{STAGE_10_RPS}\n[stages.methods.\"/slow/GET\"]\nthrottle = {{ rate = 1, burst = 1 }}\n"
    ));
    let slow = get("prod", "/slow");
    let outcomes: Vec<Outcome> = (0..2).map(|_| p.handle(&slow, T0)).collect();
    assert_eq!(outcomes[0].status, 200);
    assert_eq!(outcomes[1].refused_by, Some(Level::StageMethod));
    assert_eq!(statuses(&mut p, &get("prod", "/fast"), [T0; 5]), [200; 5]);
}

#[test]
fn the_account_bucket_is_shared_by_every_stage() {
    let mut p = pipeline(
        "[account]\nrate = 1\nburst = 2\n[[stages]]\nname = \"a\"\n[[stages]]\nname = \"b\"\n",
    );
    assert_eq!(p.handle(&get("a", "/x"), T0).status, 200);
    assert_eq!(p.handle(&get("b", "/y"), T0).status, 200);
    let third = p.handle(&get("a", "/z"), T0);
    assert_eq!(
        (third.status, third.refused_by),
        (429, Some(Level::Account))
    );
}

#[test]
fn default_account_limit_is_10000_rps_with_5000_burst() {
    let mut p = pipeline("");
    let r = get("any", "/x");
    let admitted = (0..6000).filter(|_| p.handle(&r, T0).status == 200).count();
    assert_eq!(admitted, 5000);
    // One second later 10,000 more tokens, capped at the 5,000 burst.
    let admitted = (0..6000)
        .filter(|_| p.handle(&r, T0 + S).status == 200)
        .count();
    assert_eq!(admitted, 5000);
}

#[test]
fn rate_zero_and_burst_zero_refuse_everything() {
    let mut p = pipeline("[[stages]]\nname = \"prod\"\nthrottle = { rate = 0, burst = 0 }\n");
    assert_eq!(
        statuses(&mut p, &get("prod", "/x"), [T0, T0 + S, T0 + 100 * S]),
        [429; 3]
    );
}

const PLANS: &str = r#"
[[stages]]
name = "prod"
api_key_required = true

[[usage_plans]]
id = "gold"
stages = ["prod"]
throttle = { rate = 10, burst = 3 }
methods = { "/orders/POST" = { rate = 1, burst = 1 } }
quota = { limit = 5, period = "DAY" }

[[api_keys]]
id = "k1"
value = "value-of-key-one-0000"
usage_plans = ["gold"]

[[api_keys]]
id = "k2"
usage_plans = ["gold"]

[[api_keys]]
id = "off"
enabled = false
usage_plans = ["gold"]

[[api_keys]]
id = "nokey-plan"
"#;

fn keyed<'a>(key: Option<&'a str>, method: &'a str, resource: &'a str) -> GatewayRequest<'a> {
    GatewayRequest {
        api_key: key,
        method,
        ..get("prod", resource)
    }
}

#[test]
fn missing_or_invalid_api_keys_get_403_forbidden() {
    let mut p = pipeline(PLANS);
    for key in [None, Some("unknown"), Some("off"), Some("nokey-plan")] {
        let o = p.handle(&keyed(key, "GET", "/x"), T0);
        assert_eq!(o.status, 403, "{key:?}");
        assert_eq!(o.response_type, Some("INVALID_API_KEY"));
        assert_eq!(o.body().unwrap(), r#"{"message":"Forbidden"}"#);
    }
    assert_eq!(p.handle(&keyed(Some("k1"), "GET", "/x"), T0).status, 200);
    assert_eq!(
        p.handle(&keyed(Some("value-of-key-one-0000"), "GET", "/x"), T0)
            .status,
        200
    );
}

#[test]
fn usage_plan_throttles_are_per_api_key() {
    let mut p = pipeline(PLANS);
    let k1 = keyed(Some("k1"), "GET", "/x");
    assert_eq!(statuses(&mut p, &k1, [T0; 4]), [200, 200, 200, 429]);
    assert_eq!(p.handle(&k1, T0).refused_by, Some(Level::UsagePlan));
    assert_eq!(p.handle(&keyed(Some("k2"), "GET", "/x"), T0).status, 200);
}

#[test]
fn usage_plan_method_throttle_applies_first_and_the_plan_throttle_still_counts() {
    let mut p = pipeline(PLANS);
    let post = keyed(Some("k1"), "POST", "/orders");
    assert_eq!(p.handle(&post, T0).status, 200);
    let o = p.handle(&post, T0);
    assert_eq!(
        (o.status, o.refused_by),
        (429, Some(Level::UsagePlanMethod))
    );
    // The POST took one of the plan's 3 tokens: two GETs remain.
    let k1 = keyed(Some("k1"), "GET", "/x");
    assert_eq!(statuses(&mut p, &k1, [T0; 3]), [200, 200, 429]);
}

#[test]
fn methods_without_api_keys_skip_usage_plan_levels() {
    let mut p = pipeline(&PLANS.replace("api_key_required = true", "api_key_required = false"));
    let anonymous = keyed(None, "GET", "/x");
    assert_eq!(statuses(&mut p, &anonymous, [T0; 10]), [200; 10]);
}

#[test]
fn quota_exhaustion_gets_429_limit_exceeded_until_the_next_utc_day() {
    let mut p = pipeline(PLANS);
    let k1 = keyed(Some("k1"), "GET", "/x");
    let outcomes: Vec<Outcome> = (0..6).map(|i| p.handle(&k1, T0 + i * S)).collect();
    assert!(outcomes[..5].iter().all(|o| o.status == 200));
    assert_eq!(outcomes[5].status, 429);
    assert_eq!(outcomes[5].response_type, Some("QUOTA_EXCEEDED"));
    assert_eq!(outcomes[5].refused_by, Some(Level::Quota));
    assert_eq!(
        outcomes[5].body().unwrap(),
        r#"{"message":"Limit Exceeded"}"#
    );
    // The quota is per key.
    assert_eq!(
        p.handle(&keyed(Some("k2"), "GET", "/x"), T0 + 10 * S)
            .status,
        200
    );
    // 2026-11-25T00:00:00Z starts a new day.
    let midnight = T0 + 14 * 3600 * S;
    assert_eq!(p.handle(&k1, midnight - S).status, 429);
    assert_eq!(p.handle(&k1, midnight).status, 200);
}

#[test]
fn quota_offset_reduces_the_plans_initial_period_only() {
    let offset = PLANS.replace(
        "period = \"DAY\" }",
        "period = \"DAY\", offset = 3 }\nquota_start = \"2026-11-24\"",
    );
    let mut p = pipeline(&offset);
    let k1 = keyed(Some("k1"), "GET", "/x");
    assert_eq!(
        statuses(&mut p, &k1, (0..3).map(|i| T0 + i * S)),
        [200, 200, 429]
    );
    // A replay on a later day: the initial period is over, the whole limit applies (it is
    // not the period of the first request seen).
    let mut later = pipeline(&offset);
    let next_day = T0 + 86_400 * S;
    assert_eq!(
        statuses(&mut later, &k1, (0..6).map(|i| next_day + i * S)),
        [200, 200, 200, 200, 200, 429]
    );
    // Without quota_start the initial period is unknown: a warning, no offset.
    let unknown = GatewayConfig::from_toml(
        &PLANS.replace("period = \"DAY\" }", "period = \"DAY\", offset = 3 }"),
    )
    .unwrap();
    assert!(unknown.validate().unwrap()[0].contains("offset 3 is not applied"));
}

#[test]
fn quota_can_count_only_successful_requests() {
    let toml = format!("[options]\nquota_counts = \"successful\"\n{PLANS}");
    let mut p = pipeline(&toml);
    assert_eq!(p.config().options.quota_counts, QuotaCounting::Successful);
    let failing = GatewayRequest {
        backend: Backend::Response {
            status: 500,
            latency_ms: 5,
            bytes: 10,
        },
        ..keyed(Some("k1"), "GET", "/x")
    };
    assert_eq!(
        statuses(&mut p, &failing, (0..8).map(|i| T0 + i * S)),
        [500; 8]
    );
    let k1 = keyed(Some("k1"), "GET", "/x");
    assert_eq!(
        statuses(&mut p, &k1, (10..16).map(|i| T0 + i * S)),
        [200, 200, 200, 200, 200, 429]
    );
}

#[test]
fn sequential_consumption_keeps_tokens_taken_before_a_refusal() {
    // Stage bucket (burst 3) is checked before the account bucket (burst 2).
    let toml = "[account]\nrate = 1\nburst = 2\n[[stages]]\nname = \"prod\"\nthrottle = { rate = 1, burst = 3 }\n";
    let mut p = pipeline(toml);
    assert_eq!(
        p.config().options.consumption,
        ConsumptionPolicy::Sequential
    );
    let r = get("prod", "/x");
    let prepared = p.prepare(&r);
    assert_eq!(statuses(&mut p, &r, [T0; 3]), [200, 200, 429]);
    // The refused third request still took the stage's last token.
    assert_eq!(p.tokens(&prepared, Level::StageDefault, T0), Some(0));
}

#[test]
fn all_or_nothing_consumption_takes_no_token_on_refusal() {
    let toml = "[options]\nconsumption = \"all-or-nothing\"\n[account]\nrate = 1\nburst = 2\n[[stages]]\nname = \"prod\"\nthrottle = { rate = 1, burst = 3 }\n";
    let mut p = pipeline(toml);
    let r = get("prod", "/x");
    let prepared = p.prepare(&r);
    assert_eq!(statuses(&mut p, &r, [T0; 3]), [200, 200, 429]);
    assert_eq!(p.tokens(&prepared, Level::StageDefault, T0), Some(1));
}

const CACHED: &str = r#"
[[stages]]
name = "prod"
cache = { enabled = true, ttl_seconds = 300 }
"#;

#[test]
fn cached_gets_are_served_without_the_backend() {
    let mut p = pipeline(CACHED);
    let r = get("prod", "/products");
    let miss = p.handle(&r, T0);
    assert_eq!(
        (miss.cache, miss.integration_latency_ms, miss.latency_ms),
        (CacheResult::Miss, Some(40), 45)
    );
    let hit = p.handle(&r, T0 + S);
    assert_eq!((hit.status, hit.cache), (200, CacheResult::Hit));
    assert_eq!(hit.integration_latency_ms, None);
    assert_eq!(hit.latency_ms, 5);
}

#[test]
fn cache_entries_expire_after_the_ttl() {
    let mut p = pipeline(CACHED);
    let r = get("prod", "/products");
    p.handle(&r, T0);
    assert_eq!(p.handle(&r, T0 + 300 * S - 1).cache, CacheResult::Hit);
    assert_eq!(p.handle(&r, T0 + 300 * S).cache, CacheResult::Miss);
}

#[test]
fn only_get_is_cached_by_default() {
    let mut p = pipeline(CACHED);
    let post = GatewayRequest {
        method: "POST",
        ..get("prod", "/orders")
    };
    assert_eq!(p.handle(&post, T0).cache, CacheResult::NotCached);
    assert_eq!(p.handle(&post, T0).cache, CacheResult::NotCached);
}

#[test]
fn method_settings_override_caching_and_ttl() {
    let toml = format!(
        "{CACHED}\n[stages.methods.\"/orders/POST\"]\ncaching = true\ncache_ttl_seconds = 10\n[stages.methods.\"/live/GET\"]\ncaching = false\n"
    );
    let mut p = pipeline(&toml);
    let post = GatewayRequest {
        method: "POST",
        ..get("prod", "/orders")
    };
    p.handle(&post, T0);
    assert_eq!(p.handle(&post, T0 + 9 * S).cache, CacheResult::Hit);
    assert_eq!(p.handle(&post, T0 + 10 * S).cache, CacheResult::Miss);
    let live = get("prod", "/live");
    p.handle(&live, T0);
    assert_eq!(p.handle(&live, T0).cache, CacheResult::NotCached);
}

#[test]
fn ttl_zero_disables_caching() {
    let mut p = pipeline(&CACHED.replace("ttl_seconds = 300", "ttl_seconds = 0"));
    let r = get("prod", "/products");
    p.handle(&r, T0);
    assert_eq!(p.handle(&r, T0).cache, CacheResult::NotCached);
}

#[test]
fn cache_keys_include_the_key_parameters() {
    let mut p = pipeline(CACHED);
    let a = GatewayRequest {
        cache_key: "type=admin",
        ..get("prod", "/users")
    };
    let b = GatewayRequest {
        cache_key: "type=guest",
        ..get("prod", "/users")
    };
    p.handle(&a, T0);
    assert_eq!(p.handle(&b, T0).cache, CacheResult::Miss);
    assert_eq!(p.handle(&a, T0).cache, CacheResult::Hit);
}

#[test]
fn max_age_zero_refetches_when_invalidation_is_not_restricted() {
    let mut p = pipeline(CACHED);
    let r = get("prod", "/products");
    p.handle(&r, T0);
    let refresh = GatewayRequest {
        cache_control_max_age_0: true,
        ..r
    };
    assert_eq!(p.handle(&refresh, T0 + S).cache, CacheResult::Bypass);
    assert_eq!(p.handle(&r, T0 + 2 * S).cache, CacheResult::Hit);
}

#[test]
fn unauthorized_invalidation_follows_the_configured_strategy() {
    let fail = CACHED.replace("ttl_seconds = 300", "ttl_seconds = 300, require_authorization = true, unauthorized_strategy = \"FAIL_WITH_403\"");
    let mut p = pipeline(&fail);
    let r = get("prod", "/products");
    p.handle(&r, T0);
    let refresh = GatewayRequest {
        cache_control_max_age_0: true,
        ..r
    };
    assert_eq!(p.handle(&refresh, T0).status, 403);
    let allowed = GatewayRequest {
        may_invalidate_cache: true,
        ..refresh
    };
    assert_eq!(p.handle(&allowed, T0).cache, CacheResult::Bypass);

    let ignore = CACHED.replace(
        "ttl_seconds = 300",
        "ttl_seconds = 300, require_authorization = true",
    );
    let mut p = pipeline(&ignore);
    p.handle(&r, T0);
    assert_eq!(p.handle(&refresh, T0).cache, CacheResult::Hit);
}

#[test]
fn throttling_comes_before_the_cache_so_hits_use_tokens() {
    let toml = format!("{CACHED}throttle = {{ rate = 1, burst = 2 }}\n");
    let mut p = pipeline(&toml);
    let r = get("prod", "/products");
    let outcomes: Vec<Outcome> = (0..3).map(|_| p.handle(&r, T0)).collect();
    assert_eq!(outcomes[1].cache, CacheResult::Hit);
    assert_eq!(outcomes[2].status, 429);
    assert_eq!(outcomes[2].cache, CacheResult::NotCached);
}

#[test]
fn http_apis_have_no_cache() {
    let mut p =
        pipeline("[[stages]]\nname = \"$default\"\napi = \"http\"\ncache = { enabled = true }\n");
    let r = get("$default", "/pets");
    p.handle(&r, T0);
    assert_eq!(p.handle(&r, T0).cache, CacheResult::NotCached);
}

#[test]
fn rest_integration_timeout_is_504_after_29_seconds() {
    let mut p = pipeline("[[stages]]\nname = \"prod\"\n");
    let slow = GatewayRequest {
        backend: ok(29_000),
        ..get("prod", "/slow")
    };
    let o = p.handle(&slow, T0);
    assert_eq!(
        (o.status, o.response_type),
        (504, Some("INTEGRATION_TIMEOUT"))
    );
    assert_eq!(
        o.body().unwrap(),
        r#"{"message":"Endpoint request timed out"}"#
    );
    assert_eq!(o.integration_latency_ms, Some(29_000));
    assert_eq!(o.latency_ms, 29_005);
    let fast = GatewayRequest {
        backend: ok(28_999),
        ..get("prod", "/slow")
    };
    assert_eq!(p.handle(&fast, T0).status, 200);
}

#[test]
fn the_integration_timeout_is_configurable() {
    let mut p = pipeline("[[stages]]\nname = \"prod\"\nintegration_timeout_ms = 5000\n");
    let r = GatewayRequest {
        backend: ok(6_000),
        ..get("prod", "/x")
    };
    assert_eq!(p.handle(&r, T0).status, 504);
    let mut p = pipeline(
        "[options]\ntimeout_integration_latency = \"minus-one\"\n[[stages]]\nname = \"prod\"\n",
    );
    assert_eq!(
        p.config().options.timeout_integration_latency,
        TimeoutIntegrationLatency::MinusOne
    );
    let r = GatewayRequest {
        backend: ok(40_000),
        ..get("prod", "/x")
    };
    assert_eq!(p.handle(&r, T0).integration_latency_ms, Some(-1));
}

#[test]
fn http_api_timeout_is_503_after_30_seconds() {
    let mut p = pipeline("[[stages]]\nname = \"$default\"\napi = \"http\"\n");
    let r = GatewayRequest {
        backend: ok(29_500),
        ..get("$default", "/x")
    };
    assert_eq!(p.handle(&r, T0).status, 200);
    let r = GatewayRequest {
        backend: ok(30_000),
        ..get("$default", "/x")
    };
    let o = p.handle(&r, T0);
    assert_eq!(o.status, 503);
    assert_eq!(o.body().unwrap(), r#"{"message":"Service Unavailable"}"#);
    assert!(GatewayConfig::from_toml(
        "[[stages]]\nname = \"x\"\napi = \"http\"\nintegration_timeout_ms = 31000\n"
    )
    .is_err());
}

#[test]
fn payloads_over_10_mb_get_413() {
    let mut p = pipeline("");
    let big = GatewayRequest {
        payload_bytes: 10 * 1024 * 1024 + 1,
        ..get("prod", "/upload")
    };
    let o = p.handle(&big, T0);
    assert_eq!(
        (o.status, o.response_type),
        (413, Some("REQUEST_TOO_LARGE"))
    );
    let fits = GatewayRequest {
        payload_bytes: 10 * 1024 * 1024,
        ..big
    };
    assert_eq!(p.handle(&fits, T0).status, 200);
}

#[test]
fn lambda_errors_are_502_and_rejected_invocations_500() {
    let mut p = pipeline("");
    let error = GatewayRequest {
        backend: Backend::FunctionError { latency_ms: 30 },
        ..get("prod", "/x")
    };
    let o = p.handle(&error, T0);
    assert_eq!(
        (o.status, o.response_type, o.message),
        (
            502,
            Some("INTEGRATION_FAILURE"),
            Some("Internal server error")
        )
    );
    assert_eq!(o.integration_latency_ms, Some(30));
    let rejected = GatewayRequest {
        backend: Backend::InvokeRejected { latency_ms: 3 },
        ..get("prod", "/x")
    };
    assert_eq!(p.handle(&rejected, T0).status, 500);
}

#[test]
fn unknown_routes_get_403_missing_authentication_token() {
    let mut p = pipeline("[[stages]]\nname = \"prod\"\nroutes = [\"GET /pets\", \"POST /pets\"]\n");
    assert_eq!(p.handle(&get("prod", "/pets"), T0).status, 200);
    let o = p.handle(&get("prod", "/cats"), T0);
    assert_eq!(
        (o.status, o.message),
        (403, Some("Missing Authentication Token"))
    );
}

#[test]
fn unconfigured_stages_get_the_defaults() {
    let mut p = pipeline("");
    let o = p.handle(&get("somewhere", "/x"), T0);
    assert_eq!((o.status, o.cache), (200, CacheResult::NotCached));
    assert_eq!(
        Pipeline::levels(&p.prepare(&get("somewhere", "/x"))),
        [Level::Account]
    );
}

#[test]
fn outcomes_render_access_log_values() {
    let mut p = pipeline(STAGE_10_RPS);
    let r = GatewayRequest {
        api_key: Some("k9"),
        ..get("prod", "/pets")
    };
    let ok = p.handle(&r, T0);
    assert_eq!(ok.context_value(&r, "status").as_deref(), Some("200"));
    assert_eq!(
        ok.context_value(&r, "integrationLatency").as_deref(),
        Some("40")
    );
    assert_eq!(
        ok.context_value(&r, "error.responseType").as_deref(),
        Some("-")
    );
    assert_eq!(
        ok.context_value(&r, "routeKey").as_deref(),
        Some("GET /pets")
    );
    assert_eq!(
        ok.context_value(&r, "identity.apiKeyId").as_deref(),
        Some("k9")
    );
    for _ in 0..5 {
        p.handle(&r, T0);
    }
    let throttled = p.handle(&r, T0);
    assert_eq!(
        throttled
            .context_value(&r, "error.messageString")
            .as_deref(),
        Some("\"Too Many Requests\"")
    );
    assert_eq!(
        throttled.context_value(&r, "integrationLatency").as_deref(),
        Some("-")
    );
    assert_eq!(throttled.context_value(&r, "userAgent"), None);
}

#[test]
fn same_config_and_requests_give_identical_outcomes() {
    let run = || {
        let mut p = pipeline(PLANS);
        let keys = [Some("k1"), Some("k2"), None, Some("off")];
        let methods = ["GET", "POST"];
        (0..5000u64)
            .map(|i| {
                let r = keyed(
                    keys[(i % 4) as usize],
                    methods[(i % 3 % 2) as usize],
                    "/orders",
                );
                p.handle(&r, T0 + i * 37 * MS)
            })
            .collect::<Vec<Outcome>>()
    };
    let first = run();
    let threads: Vec<Vec<Outcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(run)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(threads.iter().all(|t| *t == first));
    assert!(first.iter().any(|o| o.status == 429));
}
