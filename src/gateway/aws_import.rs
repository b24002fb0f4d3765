//! Builds a [`GatewayConfig`] from the JSON the AWS CLI prints: `aws apigateway get-stage`,
//! `get-usage-plans`, `get-usage-plan-keys`, `get-account`, and `aws apigatewayv2
//! get-stage`. Unset AWS values (absent or negative) stay unset.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::bucket::{Rate, Throttle};
use super::config::{
    method_key, ApiKey, ApiKind, ApiStage, CacheConfig, ConfigError, GatewayConfig, MethodSettings,
    Stage, UnauthorizedCacheControl, UsagePlan,
};
use super::quota::QuotaSettings;

/// The AWS CLI outputs to import (each a parsed JSON document).
#[derive(Debug, Default)]
pub struct AwsSources {
    /// `aws apigateway get-stage` outputs (REST stages).
    pub rest_stages: Vec<String>,
    /// `aws apigatewayv2 get-stage` outputs (HTTP API stages).
    pub http_stages: Vec<String>,
    /// `aws apigateway get-usage-plans` output.
    pub usage_plans: Option<String>,
    /// `aws apigateway get-usage-plan-keys --usage-plan-id ID` outputs, with their plan ID.
    pub usage_plan_keys: Vec<(String, String)>,
    /// `aws apigateway get-account` output.
    pub account: Option<String>,
    /// `aws apigateway get-usage --usage-plan-id ID --start-date … --end-date …` outputs.
    pub usage: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsUsage {
    usage_plan_id: String,
    start_date: String,
    #[serde(default)]
    items: BTreeMap<String, Vec<Vec<i64>>>,
}

/// Adds a `get-usage` output to its plan: each key's `[used, remaining]` per day from
/// `startDate` becomes the plan's `usage` (requests used per UTC day).
pub fn apply_usage(config: &mut GatewayConfig, text: &str) -> Result<(), ConfigError> {
    let usage: AwsUsage = parse("get-usage", text)?;
    let start = super::config::parse_day(&usage.start_date).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "get-usage: startDate {:?} is not YYYY-MM-DD",
            usage.start_date
        ))
    })?;
    let Some(plan) = config
        .usage_plans
        .iter_mut()
        .find(|p| p.id == usage.usage_plan_id)
    else {
        return Err(ConfigError::Invalid(format!(
            "get-usage: usage plan {:?} is not in the configuration",
            usage.usage_plan_id
        )));
    };
    for (key, days) in usage.items {
        let per_day = plan.usage.entry(key.clone()).or_default();
        for (i, pair) in days.iter().enumerate() {
            let used = pair.first().copied().filter(|u| *u >= 0).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "get-usage: key {key:?} day {i}: expected [used, remaining]"
                ))
            })?;
            let day = start
                .checked_add_days(chrono::Days::new(i as u64))
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "get-usage: key {key:?} day {i}: date out of range"
                    ))
                })?;
            per_day.insert(day.format("%Y-%m-%d").to_string(), used as u64);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestStage {
    stage_name: String,
    #[serde(default)]
    cache_cluster_enabled: bool,
    cache_cluster_size: Option<String>,
    #[serde(default)]
    method_settings: BTreeMap<String, RestMethodSetting>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RestMethodSetting {
    throttling_rate_limit: Option<f64>,
    throttling_burst_limit: Option<i64>,
    caching_enabled: Option<bool>,
    cache_ttl_in_seconds: Option<i64>,
    require_authorization_for_cache_control: Option<bool>,
    unauthorized_cache_control_header_strategy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HttpStage {
    stage_name: String,
    default_route_settings: Option<HttpRouteSettings>,
    #[serde(default)]
    route_settings: BTreeMap<String, HttpRouteSettings>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HttpRouteSettings {
    throttling_rate_limit: Option<f64>,
    throttling_burst_limit: Option<i64>,
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsUsagePlan {
    id: String,
    #[serde(default)]
    api_stages: Vec<AwsApiStage>,
    throttle: Option<AwsThrottle>,
    quota: Option<AwsQuota>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsApiStage {
    #[serde(default)]
    api_id: String,
    stage: String,
    #[serde(default)]
    throttle: BTreeMap<String, AwsThrottle>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsThrottle {
    rate_limit: Option<f64>,
    burst_limit: Option<i64>,
}

#[derive(Deserialize)]
struct AwsQuota {
    limit: u64,
    #[serde(default)]
    offset: u64,
    period: super::quota::Period,
}

#[derive(Deserialize)]
struct AwsKey {
    id: String,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsAccount {
    throttle_settings: Option<AwsThrottle>,
}

fn throttle(rate: Option<f64>, burst: Option<i64>) -> Result<Option<Throttle>, ConfigError> {
    match (rate, burst) {
        (Some(r), Some(b)) if r >= 0.0 && b >= 0 => {
            let rate = Rate::from_f64(r).map_err(|e| ConfigError::Invalid(e.to_string()))?;
            Ok(Some(Throttle::new(rate, b as u64)))
        }
        _ => Ok(None),
    }
}

/// The gateway.toml key of a method's settings: `/resource/METHOD`, or a `$`-route key.
fn settings_key(resource: &str, method: &str) -> String {
    if resource.starts_with('$') {
        resource.to_string()
    } else {
        format!("{resource}/{method}")
    }
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, text: &str) -> Result<T, ConfigError> {
    serde_json::from_str(text).map_err(|e| ConfigError::Invalid(format!("{what}: {e}")))
}

fn strategy(name: Option<&str>) -> UnauthorizedCacheControl {
    match name {
        Some("FAIL_WITH_403") => UnauthorizedCacheControl::FailWith403,
        Some("SUCCEED_WITHOUT_RESPONSE_HEADER") => {
            UnauthorizedCacheControl::SucceedWithoutResponseHeader
        }
        _ => UnauthorizedCacheControl::SucceedWithResponseHeader,
    }
}

pub(super) fn rest_stage(text: &str) -> Result<Stage, ConfigError> {
    let aws: RestStage = parse("get-stage", text)?;
    let all = aws.method_settings.get("*/*");
    let mut stage = Stage {
        throttle: match all {
            Some(s) => throttle(s.throttling_rate_limit, s.throttling_burst_limit)?,
            None => None,
        },
        cache: CacheConfig {
            enabled: aws.cache_cluster_enabled,
            size_gb: aws
                .cache_cluster_size
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.5),
            ttl_seconds: all
                .and_then(|s| s.cache_ttl_in_seconds)
                .map_or(300, |t| t.clamp(0, 3600) as u64),
            require_authorization: all
                .and_then(|s| s.require_authorization_for_cache_control)
                .unwrap_or(false),
            unauthorized_strategy: strategy(
                all.and_then(|s| s.unauthorized_cache_control_header_strategy.as_deref()),
            ),
            default_caching: all.and_then(|s| s.caching_enabled).unwrap_or(true),
        },
        ..Stage::new("", &aws.stage_name, ApiKind::Rest)
    };
    for (key, s) in &aws.method_settings {
        if key == "*/*" {
            continue;
        }
        let Some((resource, method)) = method_key(key) else {
            return Err(ConfigError::Invalid(format!(
                "get-stage: method key {key:?}"
            )));
        };
        let settings = MethodSettings {
            throttle: throttle(s.throttling_rate_limit, s.throttling_burst_limit)?,
            api_key_required: None,
            caching: s.caching_enabled,
            cache_ttl_seconds: s.cache_ttl_in_seconds.map(|t| t.clamp(0, 3600) as u64),
            integration_timeout_ms: None,
        };
        stage
            .methods
            .insert(settings_key(&resource, &method), settings);
    }
    Ok(stage)
}

pub(super) fn http_stage(text: &str) -> Result<Stage, ConfigError> {
    let aws: HttpStage = parse("apigatewayv2 get-stage", text)?;
    let mut methods = BTreeMap::new();
    for (route, s) in &aws.route_settings {
        let Some((resource, method)) = method_key(route) else {
            return Err(ConfigError::Invalid(format!(
                "apigatewayv2 get-stage: route key {route:?}"
            )));
        };
        methods.insert(
            settings_key(&resource, &method),
            MethodSettings {
                throttle: throttle(s.throttling_rate_limit, s.throttling_burst_limit)?,
                ..MethodSettings::default()
            },
        );
    }
    Ok(Stage {
        throttle: match &aws.default_route_settings {
            Some(s) => throttle(s.throttling_rate_limit, s.throttling_burst_limit)?,
            None => None,
        },
        methods,
        ..Stage::new("", &aws.stage_name, ApiKind::Http)
    })
}

/// Builds a configuration from AWS CLI outputs. Stages named by usage plans but not given
/// are added with defaults. REST methods that a usage plan covers are marked as requiring
/// an API key (get-stage does not say which do; edit `api_key_required` if needed).
pub fn import(sources: &AwsSources) -> Result<GatewayConfig, ConfigError> {
    let config = assemble(GatewayConfig::default(), sources)?;
    config.validate()?;
    Ok(config)
}

/// Adds `sources` to `config` (which may already hold APIs and stages), unvalidated.
pub(super) fn assemble(
    mut config: GatewayConfig,
    sources: &AwsSources,
) -> Result<GatewayConfig, ConfigError> {
    if let Some(text) = &sources.account {
        let account: AwsAccount = parse("get-account", text)?;
        if let Some(t) = account.throttle_settings {
            // A rate without a burst: AWS sets the burst from the rate; every documented
            // default is burst = rate / 2 [inf].
            let burst = t
                .burst_limit
                .or_else(|| t.rate_limit.map(|r| (r / 2.0).round() as i64));
            if let Some(t) = throttle(t.rate_limit, burst)? {
                config.account.rate = t.rate;
                config.account.burst = t.burst;
            }
        }
    }
    for text in &sources.rest_stages {
        config.stages.push(rest_stage(text)?);
    }
    for text in &sources.http_stages {
        config.stages.push(http_stage(text)?);
    }
    if let Some(text) = &sources.usage_plans {
        let plans: Items<AwsUsagePlan> = parse("get-usage-plans", text)?;
        for plan in plans.items {
            let mut api_stages = Vec::new();
            for aws in &plan.api_stages {
                // An API that was not imported: the stage of that name in the implicit API.
                let api_id = if config.apis.iter().any(|a| a.id == aws.api_id) {
                    aws.api_id.clone()
                } else {
                    String::new()
                };
                let mut methods = BTreeMap::new();
                for (key, t) in &aws.throttle {
                    if let Some(t) = throttle(t.rate_limit, t.burst_limit)? {
                        methods.insert(key.clone(), t);
                    }
                }
                match config
                    .stages
                    .iter_mut()
                    .find(|s| s.api_id == api_id && s.name == aws.stage)
                {
                    Some(stage) => stage.api_key_required = true,
                    None => config.stages.push(Stage {
                        api_key_required: true,
                        ..Stage::new(&api_id, &aws.stage, ApiKind::Rest)
                    }),
                }
                api_stages.push(ApiStage {
                    api_id,
                    stage: aws.stage.clone(),
                    methods,
                });
            }
            config.usage_plans.push(UsagePlan {
                id: plan.id,
                api_stages,
                throttle: match plan.throttle {
                    Some(t) => throttle(t.rate_limit, t.burst_limit)?,
                    None => None,
                },
                quota: plan.quota.map(|q| QuotaSettings {
                    limit: q.limit,
                    period: q.period,
                    offset: q.offset,
                }),
                quota_start: None,
                usage: BTreeMap::new(),
            });
        }
    }
    for (plan, text) in &sources.usage_plan_keys {
        let keys: Items<AwsKey> = parse("get-usage-plan-keys", text)?;
        for key in keys.items {
            match config.api_keys.iter_mut().find(|k| k.id == key.id) {
                Some(existing) => existing.usage_plans.push(plan.clone()),
                None => config.api_keys.push(ApiKey {
                    id: key.id,
                    value: key.value,
                    enabled: true,
                    usage_plans: vec![plan.clone()],
                }),
            }
        }
    }
    for text in &sources.usage {
        apply_usage(&mut config, text)?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_STAGE: &str = r#"{
        "stageName": "dev", "cacheClusterSize": "1.6", "cacheClusterEnabled": true,
        "methodSettings": {
            "*/*": {"cacheTtlInSeconds": 120, "throttlingRateLimit": 500.0,
                    "throttlingBurstLimit": 1000, "cachingEnabled": true,
                    "requireAuthorizationForCacheControl": true,
                    "unauthorizedCacheControlHeaderStrategy": "FAIL_WITH_403"},
            "~1pets~1{petId}/GET": {"throttlingRateLimit": 0.5, "throttlingBurstLimit": 2,
                                    "cachingEnabled": false}
        }
    }"#;

    #[test]
    fn rest_stage_method_settings() {
        let stage = rest_stage(GET_STAGE).unwrap();
        assert_eq!(
            stage.throttle,
            Some(Throttle::new(Rate::per_second(500), 1000))
        );
        assert!(stage.cache.enabled);
        assert_eq!(stage.cache.size_gb, 1.6);
        assert_eq!(stage.cache.ttl_seconds, 120);
        assert!(stage.cache.require_authorization);
        assert_eq!(
            stage.cache.unauthorized_strategy,
            UnauthorizedCacheControl::FailWith403
        );
        let pet = &stage.methods["/pets/{petId}/GET"];
        assert_eq!(pet.throttle, Some(Throttle::new("0.5".parse().unwrap(), 2)));
        assert_eq!(pet.caching, Some(false));
    }

    #[test]
    fn http_stage_route_settings() {
        let stage = http_stage(r#"{"StageName": "$default",
            "DefaultRouteSettings": {"DetailedMetricsEnabled": false, "ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0},
            "RouteSettings": {"GET /pets": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 2000.0},
                              "$default": {"ThrottlingBurstLimit": 7, "ThrottlingRateLimit": 3.0}}}"#).unwrap();
        assert_eq!(stage.api, ApiKind::Http);
        assert_eq!(
            stage.throttle,
            Some(Throttle::new(Rate::per_second(50), 100))
        );
        assert_eq!(
            stage.methods["/pets/GET"].throttle,
            Some(Throttle::new(Rate::per_second(2000), 100))
        );
        assert_eq!(
            stage.methods["$default"].throttle,
            Some(Throttle::new(Rate::per_second(3), 7))
        );
    }

    #[test]
    fn usage_plans_keys_and_account() {
        let config = import(&AwsSources {
            rest_stages: vec![GET_STAGE.to_string()],
            usage_plans: Some(r#"{"items": [{"id": "plan1", "name": "gold",
                "apiStages": [{"apiId": "a1", "stage": "dev", "throttle": {"/pets/GET": {"burstLimit": 5, "rateLimit": 2.0}}}],
                "throttle": {"burstLimit": 20, "rateLimit": 10.0},
                "quota": {"limit": 1000, "offset": 10, "period": "WEEK"}}]}"#.to_string()),
            usage_plan_keys: vec![("plan1".into(), r#"{"items": [{"id": "k1", "type": "API_KEY", "value": "secretvalue", "name": "alice"}]}"#.into())],
            account: Some(r#"{"throttleSettings": {"burstLimit": 1250, "rateLimit": 2500.0}}"#.into()),
            ..AwsSources::default()
        })
        .unwrap();
        assert_eq!(config.account.burst, 1250);
        let plan = &config.usage_plans[0];
        assert_eq!(plan.throttle, Some(Throttle::new(Rate::per_second(10), 20)));
        assert_eq!(plan.quota.unwrap().offset, 10);
        assert!(plan.api_stages[0].methods.contains_key("/pets/GET"));
        assert_eq!(config.api_keys[0].value.as_deref(), Some("secretvalue"));
        assert!(config.stages[0].api_key_required);
    }
}
