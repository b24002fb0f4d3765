//! The gateway core on a whole account: several APIs (two with a `prod` stage), usage plans
//! over API stages, one account bucket for every API, and the order and accounting of the
//! quota after the throttle levels.

use gwstat::gateway::config::ConsumptionPolicy;
use gwstat::gateway::{Backend, GatewayConfig, GatewayRequest, Level, Pipeline};

const S: u64 = 1_000_000_000;
/// 2026-11-24T10:00:00Z.
const T0: u64 = 1_795_514_400 * S;

/// Three APIs: two REST APIs both with a `prod` stage, one HTTP API; one plan over both
/// REST `prod` stages with a method throttle on one of them.
const ACCOUNT: &str = r#"
[account]
rate = 1000
burst = 1000

[[apis]]
id = "aaaa111111"
name = "pets"
kind = "rest"

[[apis.stages]]
name = "prod"
throttle = { rate = 1, burst = 2 }
api_key_required = true

[[apis]]
id = "bbbb222222"
name = "orders"
kind = "rest"

[[apis.stages]]
name = "prod"
throttle = { rate = 100, burst = 100 }
api_key_required = true

[[apis.stages]]
name = "beta"

[[apis]]
id = "cccc333333"
name = "web"
kind = "http"

[[apis.stages]]
name = "$default"

[[usage_plans]]
id = "gold"
throttle = { rate = 1, burst = 5 }
api_stages = [
    { api_id = "aaaa111111", stage = "prod", methods = { "/pets/GET" = { rate = 1, burst = 1 } } },
    { api_id = "bbbb222222", stage = "prod", methods = { "/pets/GET" = { rate = 1, burst = 3 } } },
]

[[api_keys]]
id = "k1"
usage_plans = ["gold"]
"#;

fn request<'a>(api: &'a str, stage: &'a str, key: Option<&'a str>) -> GatewayRequest<'a> {
    GatewayRequest {
        api_key: key,
        ..crate::common::gateway_request(api, stage, "GET", "/pets")
    }
}

fn statuses(p: &mut Pipeline, r: &GatewayRequest<'_>, n: usize, at: u64) -> Vec<u16> {
    (0..n).map(|_| p.handle(r, at).status).collect()
}

#[test]
fn two_apis_with_a_prod_stage_have_their_own_stage_buckets() {
    let config = GatewayConfig::from_toml(&ACCOUNT.replace("api_key_required = true", ""))
        .expect("account config");
    let mut p = Pipeline::new(config);
    let pets = request("aaaa111111", "prod", None);
    let orders = request("bbbb222222", "prod", None);
    assert_eq!(statuses(&mut p, &pets, 3, T0), [200, 200, 429]);
    // The other API's `prod` is untouched by the first one's refusals.
    assert_eq!(statuses(&mut p, &orders, 3, T0), [200, 200, 200]);
}

#[test]
fn a_bare_stage_name_finds_its_api_only_when_one_api_has_it() {
    let config = GatewayConfig::from_toml(ACCOUNT).unwrap();
    assert_eq!(config.stage_index("", "beta"), Some(2));
    assert_eq!(config.stage_index("", "prod"), None);
    assert_eq!(config.stage_index("bbbb222222", "prod"), Some(1));
    assert_eq!(config.shared_stage_names(), ["prod"]);
}

#[test]
fn usage_plan_method_throttles_are_keyed_per_api_stage() {
    let mut p = Pipeline::new(GatewayConfig::from_toml(ACCOUNT).unwrap());
    let pets = request("aaaa111111", "prod", Some("k1"));
    let orders = request("bbbb222222", "prod", Some("k1"));
    // aaaa111111:prod /pets/GET has burst 1; bbbb222222:prod /pets/GET its own burst 3.
    let first = p.handle(&pets, T0);
    assert_eq!(first.status, 200);
    let second = p.handle(&pets, T0);
    assert_eq!(second.refused_by, Some(Level::UsagePlanMethod));
    assert_eq!(statuses(&mut p, &orders, 3, T0), [200, 200, 200]);
    let prepared = p.prepare(&orders);
    assert_eq!(
        Pipeline::levels(&prepared),
        [
            Level::UsagePlanMethod,
            Level::UsagePlan,
            Level::StageDefault,
            Level::Account
        ]
    );
}

#[test]
fn the_plan_throttle_is_one_bucket_per_key_across_the_plans_api_stages() {
    let mut p = Pipeline::new(GatewayConfig::from_toml(ACCOUNT).unwrap());
    let orders = request("bbbb222222", "prod", Some("k1"));
    let pets_other = GatewayRequest {
        resource: "/other",
        ..request("aaaa111111", "prod", Some("k1"))
    };
    // Plan burst 5: two on one API, three on the other, the sixth is refused by the plan.
    assert_eq!(statuses(&mut p, &pets_other, 2, T0), [200, 200]);
    assert_eq!(statuses(&mut p, &orders, 3, T0), [200, 200, 200]);
    let refused = GatewayRequest {
        resource: "/third",
        ..orders
    };
    assert_eq!(p.handle(&refused, T0).refused_by, Some(Level::UsagePlan));
}

#[test]
fn the_account_bucket_is_shared_by_every_api_and_by_traffic_not_replayed() {
    let config = GatewayConfig::from_toml(
        &ACCOUNT
            .replace("rate = 1000\nburst = 1000", "rate = 1\nburst = 4")
            .replace("api_key_required = true", ""),
    )
    .unwrap();
    let mut p = Pipeline::new(config);
    assert_eq!(
        p.handle(&request("bbbb222222", "prod", None), T0).status,
        200
    );
    assert_eq!(
        p.handle(&request("bbbb222222", "beta", None), T0).status,
        200
    );
    assert_eq!(
        p.handle(&request("cccc333333", "$default", None), T0)
            .status,
        200
    );
    // Another API's request (not modelled) takes the last token.
    assert!(p.take_account_token(T0));
    let refused = p.handle(&request("aaaa111111", "prod", None), T0);
    assert_eq!(refused.refused_by, Some(Level::Account));
    assert!(!p.take_account_token(T0));
}

#[test]
fn http_api_stages_cannot_be_in_usage_plans() {
    let bad = format!(
        "{ACCOUNT}\n[[usage_plans]]\nid = \"web\"\napi_stages = [{{ api_id = \"cccc333333\", stage = \"$default\" }}]\n"
    );
    let error = GatewayConfig::from_toml(&bad).unwrap_err().to_string();
    assert!(error.contains("HTTP APIs have no usage plans"), "{error}");
}

#[test]
fn a_key_may_have_one_plan_per_api_stage_but_plans_on_other_api_stages() {
    let two_plans_other_stages = format!(
        "{ACCOUNT}\n[[usage_plans]]\nid = \"beta\"\napi_stages = [{{ api_id = \"bbbb222222\", stage = \"beta\" }}]\n"
    )
    .replace("usage_plans = [\"gold\"]", "usage_plans = [\"gold\", \"beta\"]");
    GatewayConfig::from_toml(&two_plans_other_stages).unwrap();
    let same_stage = two_plans_other_stages.replace(
        "api_stages = [{ api_id = \"bbbb222222\", stage = \"beta\" }]",
        "api_stages = [{ api_id = \"bbbb222222\", stage = \"prod\" }]",
    );
    let error = GatewayConfig::from_toml(&same_stage)
        .unwrap_err()
        .to_string();
    assert!(error.contains("same API stage"), "{error}");
}

#[test]
fn apis_survive_a_toml_round_trip() {
    let config = GatewayConfig::from_toml(ACCOUNT).unwrap();
    let text = toml::to_string_pretty(&config).unwrap();
    assert!(text.contains("[[apis.stages]]"), "{text}");
    assert_eq!(GatewayConfig::from_toml(&text).unwrap(), config);
}

#[test]
fn a_config_without_apis_is_one_implicit_api_and_old_plans_still_work() {
    let config = GatewayConfig::from_toml(
        r#"
        [[stages]]
        name = "prod"
        api_key_required = true
        [[usage_plans]]
        id = "p"
        stages = ["prod"]
        throttle = { rate = 1, burst = 5 }
        methods = { "/pets/GET" = { rate = 1, burst = 1 } }
        [[api_keys]]
        id = "k"
        usage_plans = ["p"]
        "#,
    )
    .unwrap();
    assert!(config.apis.is_empty());
    assert_eq!(config.usage_plans[0].api_stages[0].stage, "prod");
    let mut p = Pipeline::new(config);
    let r = request("", "prod", Some("k"));
    assert_eq!(statuses(&mut p, &r, 2, T0), [200, 429]);
    assert_eq!(p.handle(&r, T0).refused_by, Some(Level::UsagePlanMethod));
}

/// A plan with a quota of 1 per day over a stage with a method throttle: the second request
/// passes every bucket and is refused by the quota.
fn quota_refusal(consumption: ConsumptionPolicy) -> Vec<u64> {
    let mut config = GatewayConfig::from_toml(
        r#"
        [account]
        rate = 1
        burst = 10
        [[apis]]
        id = "aaaa111111"
        [[apis.stages]]
        name = "prod"
        api_key_required = true
        throttle = { rate = 1, burst = 10 }
        [[usage_plans]]
        id = "p"
        throttle = { rate = 1, burst = 10 }
        quota = { limit = 1, period = "DAY" }
        api_stages = [{ api_id = "aaaa111111", stage = "prod", methods = { "/pets/GET" = { rate = 1, burst = 10 } } }]
        [[api_keys]]
        id = "k"
        usage_plans = ["p"]
        "#,
    )
    .unwrap();
    config.options.consumption = consumption;
    let mut p = Pipeline::new(config);
    let r = request("aaaa111111", "prod", Some("k"));
    assert_eq!(p.handle(&r, T0).status, 200);
    let refused = p.handle(&r, T0);
    assert_eq!(refused.refused_by, Some(Level::Quota));
    assert_eq!(refused.body().unwrap(), r#"{"message":"Limit Exceeded"}"#);
    let prepared = p.prepare(&r);
    [
        Level::UsagePlanMethod,
        Level::UsagePlan,
        Level::StageDefault,
        Level::Account,
    ]
    .into_iter()
    .map(|level| p.tokens(&prepared, level, T0).unwrap())
    .collect()
}

#[test]
fn sequential_a_quota_refused_request_keeps_a_token_of_every_level() {
    // 10 tokens each: the admitted request took one, the quota-refused one another.
    assert_eq!(quota_refusal(ConsumptionPolicy::Sequential), [8, 8, 8, 8]);
}

#[test]
fn all_or_nothing_a_quota_refused_request_takes_no_token() {
    assert_eq!(quota_refusal(ConsumptionPolicy::AllOrNothing), [9, 9, 9, 9]);
}

#[test]
fn each_method_and_each_stage_has_its_own_integration_timeout() {
    let config = GatewayConfig::from_toml(
        r#"
        [[apis]]
        id = "aaaa111111"
        [[apis.stages]]
        name = "prod"
        integration_timeout_ms = 10000
        [apis.stages.methods."/pets/GET"]
        integration_timeout_ms = 5000
        [[apis]]
        id = "bbbb222222"
        [[apis.stages]]
        name = "prod"
        "#,
    )
    .unwrap();
    let mut p = Pipeline::new(config);
    let slow = |api, resource| GatewayRequest {
        resource,
        backend: Backend::Response {
            status: 200,
            latency_ms: 6_000,
            bytes: 10,
        },
        ..request(api, "prod", None)
    };
    let pets = p.handle(&slow("aaaa111111", "/pets"), T0);
    assert_eq!(
        (pets.status, pets.integration_latency_ms),
        (504, Some(5000))
    );
    assert_eq!(p.handle(&slow("aaaa111111", "/toys"), T0).status, 200);
    assert_eq!(p.prepare(&slow("aaaa111111", "/toys")).timeout_ms(), 10_000);
    // The other API's `prod` keeps the REST default of 29 s.
    assert_eq!(p.prepare(&slow("bbbb222222", "/pets")).timeout_ms(), 29_000);
}

#[test]
fn get_usage_seeds_what_each_key_used_earlier_in_the_period() {
    let mut config = GatewayConfig::from_toml(
        r#"
        [[apis]]
        id = "aaaa111111"
        [[apis.stages]]
        name = "prod"
        api_key_required = true
        [[usage_plans]]
        id = "p1"
        quota = { limit = 10, period = "WEEK" }
        api_stages = [{ api_id = "aaaa111111", stage = "prod" }]
        [[api_keys]]
        id = "k1"
        usage_plans = ["p1"]
        [[api_keys]]
        id = "k2"
        usage_plans = ["p1"]
        "#,
    )
    .unwrap();
    // 2026-11-22 is a Sunday: the week of T0 (Tuesday 24th) started then. The 21st is in
    // the previous week; the 24th itself is the log's own day.
    gwstat::gateway::aws_import::apply_usage(
        &mut config,
        r#"{"usagePlanId": "p1", "startDate": "2026-11-21", "endDate": "2026-11-24",
            "items": {"k1": [[5, 5], [4, 6], [3, 3], [100, 0]]}}"#,
    )
    .unwrap();
    assert_eq!(config.usage_plans[0].usage["k1"]["2026-11-23"], 3);
    let mut p = Pipeline::new(config);
    let k1 = request("aaaa111111", "prod", Some("k1"));
    // Used 4 + 3 this week: 3 left.
    assert_eq!(statuses(&mut p, &k1, 4, T0), [200, 200, 200, 429]);
    let k2 = request("aaaa111111", "prod", Some("k2"));
    assert_eq!(statuses(&mut p, &k2, 10, T0), [200; 10]);
    let error = gwstat::gateway::aws_import::apply_usage(
        &mut GatewayConfig::default(),
        r#"{"usagePlanId": "nope", "startDate": "2026-11-21", "endDate": "2026-11-21", "items": {}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("not in the configuration"), "{error}");
}

#[test]
fn a_lambda_error_after_the_timeout_is_a_504_not_a_502() {
    let mut p = Pipeline::new(GatewayConfig::from_toml("[[stages]]\nname = \"prod\"\n").unwrap());
    let late = GatewayRequest {
        backend: Backend::FunctionError { latency_ms: 30_000 },
        ..request("", "prod", None)
    };
    let outcome = p.handle(&late, T0);
    assert_eq!(outcome.status, 504);
    assert_eq!(outcome.response_type, Some("INTEGRATION_TIMEOUT"));
    let early = GatewayRequest {
        backend: Backend::FunctionError { latency_ms: 300 },
        ..late
    };
    assert_eq!(p.handle(&early, T0).status, 502);
    let rejected_late = GatewayRequest {
        backend: Backend::InvokeRejected { latency_ms: 29_000 },
        ..late
    };
    assert_eq!(p.handle(&rejected_late, T0).status, 504);
}

#[test]
fn an_account_with_only_a_rate_gets_half_of_it_as_burst() {
    let config = gwstat::gateway::aws_import::import(&gwstat::gateway::aws_import::AwsSources {
        account: Some(r#"{"throttleSettings": {"rateLimit": 2500.0}}"#.into()),
        rest_stages: vec![r#"{"stageName": "prod"}"#.into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(config.account.burst, 1250);
}

#[test]
fn get_usage_far_out_of_range_is_an_error_not_a_panic() {
    let mut config = GatewayConfig::from_toml(
        "[[stages]]\nname = \"prod\"\n[[usage_plans]]\nid = \"p\"\nstages = [\"prod\"]\n",
    )
    .unwrap();
    let error = gwstat::gateway::aws_import::apply_usage(
        &mut config,
        r#"{"usagePlanId": "p", "startDate": "+262142-12-31", "endDate": "+262142-12-31",
            "items": {"k": [[1, 1], [1, 1]]}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("out of range"), "{error}");
}
