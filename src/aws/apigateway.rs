//! API Gateway: a whole account's description read with the SDK — REST APIs (`GetRestApis`,
//! then per API `GetStages`, `GetResources` with `embed=methods`, and `GetIntegration` for a
//! method whose integration the embedding left out), HTTP and WebSocket APIs (`GetApis`, then
//! per API `GetStages`, `GetRoutes`, `GetIntegrations`), `GetUsagePlans`, `GetUsagePlanKeys`
//! per plan, `GetAccount`, and optionally `GetUsage` — every list followed page by page.
//!
//! What comes back is written as the AWS CLI writes it, laid out as `gwstat gateway import`
//! reads a saved account (outputs without their API's or plan's id sit in a directory named
//! after it), so reading from AWS and importing saved files are one import path.
//!
//! A call AWS refuses (no permission for it, an operation the endpoint does not offer) is
//! warned about and the rest is read; no credentials, an unreachable endpoint or a timeout
//! stop the read.

use std::collections::BTreeMap;
use std::error::Error as StdError;

use anyhow::Result;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Map, Value};

use super::{describe_error, Document, Progress};

/// What to read besides the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRequest {
    /// Items per list call (`limit` / `MaxResults`); `None` leaves AWS's default.
    pub page_size: Option<u32>,
    /// Read each usage plan's `GetUsage` for this many UTC days up to today.
    pub usage_days: Option<u32>,
    /// Today (UTC), the last day `GetUsage` asks for.
    pub today: Option<chrono::NaiveDate>,
}

/// The documents read, and the calls AWS refused.
#[derive(Debug, Default)]
pub struct AccountRead {
    /// AWS CLI outputs, named by their path relative to the account's directory.
    pub documents: Vec<Document>,
    /// One sentence per refused call (see [`describe_error`]).
    pub warnings: Vec<String>,
}

/// Drops `null` members (what the CLI leaves out) recursively.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

impl AccountRead {
    fn add(&mut self, name: String, value: Value) {
        self.documents.push(Document::json(name, &compact(value)));
    }

    /// The answer of one call: `Some` when it succeeded; `None` (with a warning) when AWS
    /// refused it; an error when AWS could not be asked at all.
    fn settle<T, E, R>(
        &mut self,
        operation: &str,
        result: Result<T, SdkError<E, R>>,
    ) -> Result<Option<T>>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e @ SdkError::ServiceError(_)) => {
                self.warnings.push(format!(
                    "{} Skipped; the rest is read.",
                    describe_error(operation, e)
                ));
                Ok(None)
            }
            Err(e) => Err(describe_error(operation, e)),
        }
    }
}

fn throttle_json(t: &aws_sdk_apigateway::types::ThrottleSettings) -> Value {
    json!({"burstLimit": t.burst_limit(), "rateLimit": t.rate_limit()})
}

fn rest_stage_json(s: &aws_sdk_apigateway::types::Stage) -> Value {
    let settings: BTreeMap<&String, Value> = s
        .method_settings()
        .into_iter()
        .flatten()
        .map(|(key, m)| {
            (
                key,
                json!({
                    "metricsEnabled": m.metrics_enabled(),
                    "throttlingBurstLimit": m.throttling_burst_limit(),
                    "throttlingRateLimit": m.throttling_rate_limit(),
                    "cachingEnabled": m.caching_enabled(),
                    "cacheTtlInSeconds": m.cache_ttl_in_seconds(),
                    "cacheDataEncrypted": m.cache_data_encrypted(),
                    "requireAuthorizationForCacheControl": m.require_authorization_for_cache_control(),
                    "unauthorizedCacheControlHeaderStrategy":
                        m.unauthorized_cache_control_header_strategy().map(|x| x.as_str()),
                }),
            )
        })
        .collect();
    json!({
        "deploymentId": s.deployment_id(),
        "stageName": s.stage_name(),
        "cacheClusterEnabled": s.cache_cluster_enabled(),
        "cacheClusterSize": s.cache_cluster_size().map(|x| x.as_str()),
        "methodSettings": settings,
        "tracingEnabled": s.tracing_enabled(),
    })
}

/// An integration as `get-integration` prints it (from the embedded `Integration` or a
/// `GetIntegrationOutput`, which have the same fields but no common type).
macro_rules! integration_json {
    ($i:expr) => {{
        let i = $i;
        json!({
            "type": i.r#type().map(|t| t.as_str()),
            "httpMethod": i.http_method(),
            "uri": i.uri(),
            "passthroughBehavior": i.passthrough_behavior(),
            "timeoutInMillis": i.timeout_in_millis(),
        })
    }};
}

fn resource_json(r: &aws_sdk_apigateway::types::Resource) -> Value {
    let methods: BTreeMap<&String, Value> = r
        .resource_methods()
        .into_iter()
        .flatten()
        .map(|(name, m)| {
            (
                name,
                json!({
                    "httpMethod": m.http_method(),
                    "authorizationType": m.authorization_type(),
                    "apiKeyRequired": m.api_key_required(),
                    "methodIntegration": m.method_integration().map(|i| integration_json!(i)),
                }),
            )
        })
        .collect();
    json!({
        "id": r.id(),
        "parentId": r.parent_id(),
        "pathPart": r.path_part(),
        "path": r.path(),
        "resourceMethods": (!methods.is_empty()).then_some(methods),
    })
}

fn usage_plan_json(p: &aws_sdk_apigateway::types::UsagePlan) -> Value {
    let stages: Vec<Value> = p
        .api_stages()
        .iter()
        .map(|s| {
            let throttle: Option<BTreeMap<&String, Value>> = s
                .throttle()
                .map(|t| t.iter().map(|(k, v)| (k, throttle_json(v))).collect());
            json!({"apiId": s.api_id(), "stage": s.stage(), "throttle": throttle})
        })
        .collect();
    json!({
        "id": p.id(),
        "name": p.name(),
        "apiStages": stages,
        "throttle": p.throttle().map(throttle_json),
        // A quota without a period cannot be modelled; the CLI would print it, the import
        // would refuse it.
        "quota": p.quota().and_then(|q| {
            q.period().map(|period| {
                json!({"limit": q.limit(), "offset": q.offset(), "period": period.as_str()})
            })
        }),
    })
}

fn v2_route_settings_json(s: &aws_sdk_apigatewayv2::types::RouteSettings) -> Value {
    json!({
        "ThrottlingBurstLimit": s.throttling_burst_limit(),
        "ThrottlingRateLimit": s.throttling_rate_limit(),
        "DetailedMetricsEnabled": s.detailed_metrics_enabled(),
    })
}

fn v2_stage_json(s: &aws_sdk_apigatewayv2::types::Stage) -> Value {
    let routes: Option<BTreeMap<&String, Value>> = s.route_settings().map(|r| {
        r.iter()
            .map(|(k, v)| (k, v2_route_settings_json(v)))
            .collect()
    });
    json!({
        "StageName": s.stage_name(),
        "AutoDeploy": s.auto_deploy(),
        "DefaultRouteSettings": s.default_route_settings().map(v2_route_settings_json),
        "RouteSettings": routes,
    })
}

/// Follows an apigatewayv2 list (`NextToken`), which has no SDK paginator.
macro_rules! v2_pages {
    ($read:expr, $operation:expr, $progress:expr, $call:expr, $item:expr) => {{
        let mut items = Some(Vec::new());
        let mut token: Option<String> = None;
        loop {
            let answer = $call.set_next_token(token.take()).send().await;
            let Some(page) = $read.settle($operation, answer)? else {
                items = None;
                break;
            };
            $progress.page(page.items().len());
            if let Some(items) = items.as_mut() {
                items.extend(page.items().iter().map($item));
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        items
    }};
}

/// Follows an apigateway list through its SDK paginator (`position`).
macro_rules! rest_pages {
    ($read:expr, $operation:expr, $progress:expr, $call:expr, $item:expr) => {{
        let mut items = Some(Vec::new());
        let mut pages = $call.into_paginator().send();
        while let Some(page) = pages.next().await {
            let Some(page) = $read.settle($operation, page)? else {
                items = None;
                break;
            };
            $progress.page(page.items().len());
            if let Some(items) = items.as_mut() {
                items.extend(page.items().iter().map($item));
            }
        }
        items
    }};
}

/// Reads the account; see the module documentation for the calls and the layout.
pub async fn fetch_account(
    rest: &aws_sdk_apigateway::Client,
    v2: &aws_sdk_apigatewayv2::Client,
    request: &AccountRequest,
    progress: &Progress,
) -> Result<AccountRead> {
    let mut read = AccountRead::default();
    let limit = request.page_size.map(|n| n.clamp(1, 500) as i32);
    let max_results = request.page_size.map(|n| n.max(1).to_string());

    // REST APIs.
    let apis = rest_pages!(
        read,
        "GetRestApis",
        progress,
        rest.get_rest_apis().set_limit(limit),
        |a: &aws_sdk_apigateway::types::RestApi| json!({
            "id": a.id(),
            "name": a.name(),
            "description": a.description(),
            "apiKeySource": a.api_key_source().map(|s| s.as_str()),
        })
    )
    .unwrap_or_default();
    for api in &apis {
        let Some(id) = api["id"].as_str() else {
            continue;
        };
        let operation = format!("GetStages for REST API {id}");
        let answer = rest.get_stages().rest_api_id(id).send().await;
        if let Some(stages) = read.settle(&operation, answer)? {
            progress.page(stages.item().len());
            let items: Vec<Value> = stages.item().iter().map(rest_stage_json).collect();
            if !items.is_empty() {
                read.add(format!("{id}/stages.json"), json!({ "item": items }));
            }
        }
        let resources = rest_pages!(
            read,
            &format!("GetResources for REST API {id}"),
            progress,
            rest.get_resources()
                .rest_api_id(id)
                .embed("methods")
                .set_limit(limit),
            |r: &aws_sdk_apigateway::types::Resource| (
                resource_json(r),
                r.resource_methods()
                    .into_iter()
                    .flatten()
                    .filter(|(_, m)| m.method_integration().is_none())
                    .map(|(name, _)| name.clone())
                    .collect::<Vec<String>>()
            )
        );
        let Some(resources) = resources else { continue };
        let mut items = Vec::new();
        for (resource, unembedded) in resources {
            // The embedding normally carries each method's integration; ask for the ones
            // it left out.
            let resource_id = resource["id"].as_str().unwrap_or_default().to_string();
            for method in unembedded {
                let operation = format!(
                    "GetIntegration for {method} {} of REST API {id}",
                    resource["path"].as_str().unwrap_or_default()
                );
                let answer = rest
                    .get_integration()
                    .rest_api_id(id)
                    .resource_id(&resource_id)
                    .http_method(&method)
                    .send()
                    .await;
                match answer {
                    // A method without an integration has nothing to import.
                    Err(SdkError::ServiceError(e)) if e.err().is_not_found_exception() => {}
                    answer => {
                        if let Some(i) = read.settle(&operation, answer)? {
                            progress.page(1);
                            let value = integration_json!(i);
                            read.add(format!("{id}/{resource_id}/{method}.json"), value);
                        }
                    }
                }
            }
            items.push(resource);
        }
        if !items.is_empty() {
            read.add(format!("{id}/resources.json"), json!({ "items": items }));
        }
    }
    if !apis.is_empty() {
        read.add("rest-apis.json".into(), json!({ "items": apis }));
    }

    // HTTP and WebSocket APIs.
    let apis = v2_pages!(
        read,
        "GetApis",
        progress,
        v2.get_apis().set_max_results(max_results.clone()),
        |a: &aws_sdk_apigatewayv2::types::Api| json!({
            "ApiId": a.api_id(),
            "Name": a.name(),
            "ProtocolType": a.protocol_type().map(|p| p.as_str()),
            "RouteSelectionExpression": a.route_selection_expression(),
        })
    )
    .unwrap_or_default();
    for api in &apis {
        let Some(id) = api["ApiId"].as_str() else {
            continue;
        };
        let stages = v2_pages!(
            read,
            &format!("GetStages for API {id}"),
            progress,
            v2.get_stages()
                .api_id(id)
                .set_max_results(max_results.clone()),
            v2_stage_json
        );
        let routes = v2_pages!(
            read,
            &format!("GetRoutes for API {id}"),
            progress,
            v2.get_routes()
                .api_id(id)
                .set_max_results(max_results.clone()),
            |r: &aws_sdk_apigatewayv2::types::Route| json!({
                "RouteId": r.route_id(),
                "RouteKey": r.route_key(),
                "ApiKeyRequired": r.api_key_required(),
                "AuthorizationType": r.authorization_type().map(|t| t.as_str()),
                "Target": r.target(),
            })
        );
        let integrations = v2_pages!(
            read,
            &format!("GetIntegrations for API {id}"),
            progress,
            v2.get_integrations()
                .api_id(id)
                .set_max_results(max_results.clone()),
            |i: &aws_sdk_apigatewayv2::types::Integration| json!({
                "IntegrationId": i.integration_id(),
                "IntegrationType": i.integration_type().map(|t| t.as_str()),
                "IntegrationUri": i.integration_uri(),
                "TimeoutInMillis": i.timeout_in_millis(),
            })
        );
        for (name, items) in [
            ("stages", stages),
            ("routes", routes),
            ("integrations", integrations),
        ] {
            if let Some(items) = items.filter(|i| !i.is_empty()) {
                read.add(format!("{id}/{name}.json"), json!({ "Items": items }));
            }
        }
    }
    if !apis.is_empty() {
        read.add("apis.json".into(), json!({ "Items": apis }));
    }

    // Usage plans and their keys.
    let plans = rest_pages!(
        read,
        "GetUsagePlans",
        progress,
        rest.get_usage_plans().set_limit(limit),
        usage_plan_json
    )
    .unwrap_or_default();
    for plan in &plans {
        let Some(id) = plan["id"].as_str() else {
            continue;
        };
        let keys = rest_pages!(
            read,
            &format!("GetUsagePlanKeys for usage plan {id}"),
            progress,
            rest.get_usage_plan_keys()
                .usage_plan_id(id)
                .set_limit(limit),
            |k: &aws_sdk_apigateway::types::UsagePlanKey| json!({
                "id": k.id(),
                "type": k.r#type(),
                "value": k.value(),
                "name": k.name(),
            })
        );
        if let Some(keys) = keys.filter(|k| !k.is_empty()) {
            read.add(
                format!("usage-plans/{id}/keys.json"),
                json!({ "items": keys }),
            );
        }
        if let (Some(days), Some(today)) = (request.usage_days, request.today) {
            let start = today - chrono::Days::new(u64::from(days.max(1) - 1));
            let (start, end) = (
                start.format("%Y-%m-%d").to_string(),
                today.format("%Y-%m-%d").to_string(),
            );
            let mut used: BTreeMap<String, Value> = BTreeMap::new();
            let mut pages = rest
                .get_usage()
                .usage_plan_id(id)
                .start_date(&start)
                .end_date(&end)
                .set_limit(limit)
                .into_paginator()
                .send();
            let mut complete = true;
            while let Some(page) = pages.next().await {
                let Some(page) = read.settle(&format!("GetUsage for usage plan {id}"), page)?
                else {
                    complete = false;
                    break;
                };
                let items = page.items().cloned().unwrap_or_default();
                progress.page(items.len());
                used.extend(items.into_iter().map(|(k, v)| (k, json!(v))));
            }
            if complete {
                read.add(
                    format!("usage/{id}.json"),
                    json!({"usagePlanId": id, "startDate": start, "endDate": end, "items": used}),
                );
            }
        }
    }
    if !plans.is_empty() {
        read.add("usage-plans.json".into(), json!({ "items": plans }));
    }

    // The account's throttle.
    let answer = rest.get_account().send().await;
    if let Some(account) = read.settle("GetAccount", answer)? {
        progress.page(1);
        read.add(
            "account.json".into(),
            json!({
                "cloudwatchRoleArn": account.cloudwatch_role_arn(),
                "throttleSettings": account.throttle_settings().map(throttle_json),
                "features": account.features(),
                "apiKeyVersion": account.api_key_version(),
            }),
        );
    }
    progress.part_done();
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_members_are_left_out_as_the_cli_does() {
        let v = compact(json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]}));
        assert_eq!(v, json!({"b": {"d": 1}, "e": [{}]}));
    }

    #[test]
    fn a_plan_becomes_what_get_usage_plans_prints() {
        use aws_sdk_apigateway::types::{
            ApiStage, QuotaPeriodType, QuotaSettings, ThrottleSettings, UsagePlan,
        };
        let plan = UsagePlan::builder()
            .id("p1")
            .api_stages(
                ApiStage::builder()
                    .api_id("a1b2c3d4e5")
                    .stage("prod")
                    .throttle(
                        "/pets/GET",
                        ThrottleSettings::builder()
                            .rate_limit(5.0)
                            .burst_limit(10)
                            .build(),
                    )
                    .build(),
            )
            .quota(
                QuotaSettings::builder()
                    .limit(100)
                    .period(QuotaPeriodType::Day)
                    .build(),
            )
            .build();
        assert_eq!(
            compact(usage_plan_json(&plan)),
            json!({
                "id": "p1",
                "apiStages": [{"apiId": "a1b2c3d4e5", "stage": "prod",
                               "throttle": {"/pets/GET": {"burstLimit": 10, "rateLimit": 5.0}}}],
                "quota": {"limit": 100, "offset": 0, "period": "DAY"},
            })
        );
    }
}
