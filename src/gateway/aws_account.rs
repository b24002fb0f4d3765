//! A whole account from AWS CLI JSON outputs, each file recognised by its content:
//! `get-rest-apis`, `apigatewayv2 get-apis`, `get-stages`/`get-stage` (both APIs),
//! `get-resources --embed methods`, `get-integration`, `get-export` (OpenAPI/Swagger),
//! `get-usage-plans`, `get-usage-plan-keys`, `get-account`, `get-usage`, and for HTTP and
//! WebSocket APIs `apigatewayv2 get-routes` and `get-integrations`.
//!
//! Outputs that do not carry their API's id (stages, resources, integrations) take it from
//! the file's own `--api-id ID=FILE`, else from the nearest directory named after a known API
//! id (`<apiId>/stages.json`), else from a parent directory shaped like one (ten lower-case
//! letters and digits). `get-usage-plan-keys` takes its plan's id the same way (`<planId>/…`).
//! A `get-integration` output names neither its resource nor its method: it is read from
//! `<apiId>/<resourceId>/<METHOD>.json`, the resource id resolved through `get-resources`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::aws_import::{assemble, http_stage, rest_stage, AwsSources};
use super::config::{method_key, Api, ApiKind, ConfigError, GatewayConfig, MethodSettings};

/// One AWS CLI output.
#[derive(Debug, Clone)]
pub struct AccountFile {
    /// Where it was read (for messages and the directory-named ids).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The API (or usage plan) id given for it with `--api-id ID=FILE`.
    pub id: Option<String>,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    RestApis,
    V2Apis,
    RestStages,
    RestStage,
    V2Stages,
    V2Stage,
    Resources,
    Integration,
    Export,
    UsagePlans,
    UsagePlanKeys,
    Account,
    Usage,
    V2Routes,
    V2Integrations,
}

fn first_item<'a>(json: &'a Value, key: &str) -> Option<&'a Value> {
    json.get(key)?.as_array()?.first()
}

/// Recognises an output by its keys; `None` for anything else (or an empty list, which
/// could be any of them).
fn classify(json: &Value) -> Option<Kind> {
    let has = |k: &str| json.get(k).is_some();
    if has("usagePlanId") && json.get("items").is_some_and(Value::is_object) {
        return Some(Kind::Usage);
    }
    if has("throttleSettings") || has("cloudwatchRoleArn") || has("apiKeyVersion") {
        return Some(Kind::Account);
    }
    if (has("openapi") || has("swagger")) && has("paths") {
        return Some(Kind::Export);
    }
    if has("stageName") {
        return Some(Kind::RestStage);
    }
    if has("StageName") {
        return Some(Kind::V2Stage);
    }
    if let Some(item) = first_item(json, "item") {
        return item.get("stageName").map(|_| Kind::RestStages);
    }
    if let Some(item) = first_item(json, "Items") {
        return if item.get("ProtocolType").is_some() {
            Some(Kind::V2Apis)
        } else if item.get("RouteKey").is_some() {
            Some(Kind::V2Routes)
        } else if item.get("IntegrationId").is_some() {
            Some(Kind::V2Integrations)
        } else {
            item.get("StageName").map(|_| Kind::V2Stages)
        };
    }
    if let Some(item) = first_item(json, "items") {
        let item_has = |k: &str| item.get(k).is_some();
        return if item_has("apiStages") || item_has("quota") || item_has("throttle") {
            Some(Kind::UsagePlans)
        } else if item.get("type").and_then(Value::as_str) == Some("API_KEY") {
            Some(Kind::UsagePlanKeys)
        } else if item_has("path") {
            Some(Kind::Resources)
        } else if item_has("name") && item_has("id") {
            Some(Kind::RestApis)
        } else {
            None
        };
    }
    if has("timeoutInMillis") || (has("type") && (has("uri") || has("passthroughBehavior"))) {
        return Some(Kind::Integration);
    }
    None
}

/// Whether a directory name looks like an API id (ten lower-case letters and digits).
fn api_id_shaped(name: &str) -> bool {
    name.len() == 10
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The id a file belongs to: its `--api-id`, else the nearest ancestor directory named after
/// a known id, else (when `shaped`) the parent directory if it looks like an API id.
fn owner(file: &AccountFile, known: &[String], shaped: bool) -> Option<String> {
    if let Some(id) = &file.id {
        return Some(id.clone());
    }
    let ancestors: Vec<&str> = file
        .path
        .ancestors()
        .skip(1)
        .filter_map(|p| p.file_name()?.to_str())
        .collect();
    if let Some(found) = ancestors.iter().find(|a| known.iter().any(|k| k == *a)) {
        return Some(found.to_string());
    }
    ancestors
        .first()
        .filter(|a| shaped && api_id_shaped(a))
        .map(|a| a.to_string())
}

fn add_api(config: &mut GatewayConfig, id: &str, name: &str, kind: ApiKind) {
    if !config.apis.iter().any(|a| a.id == id) {
        config.apis.push(Api {
            id: id.to_string(),
            name: name.to_string(),
            kind,
        });
    }
}

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid(format!("{}: {message}", path.display()))
}

/// Routes, key requirements and integration timeouts of one API's methods.
#[derive(Debug, Default)]
struct ApiMethods {
    /// `(resource, METHOD)` → (API key required, integration timeout ms).
    methods: BTreeMap<(String, String), (Option<bool>, Option<u64>)>,
    /// Resource id → path.
    resource_paths: BTreeMap<String, String>,
    /// HTTP/WebSocket routes: (route key, API key required, integration id).
    routes: Vec<(String, Option<bool>, Option<String>)>,
    /// HTTP/WebSocket integration id → `TimeoutInMillis`.
    integration_timeouts: BTreeMap<String, u64>,
}

fn timeout(value: Option<&Value>) -> Option<u64> {
    value?.as_u64().filter(|t| *t > 0)
}

/// `get-resources --embed methods`: every resource's methods, with `apiKeyRequired` and the
/// embedded integration's `timeoutInMillis`.
fn read_resources(json: &Value, into: &mut ApiMethods) {
    for resource in json["items"].as_array().into_iter().flatten() {
        let Some(path) = resource["path"].as_str() else {
            continue;
        };
        if let Some(id) = resource["id"].as_str() {
            into.resource_paths.insert(id.to_string(), path.to_string());
        }
        for (method, m) in resource["resourceMethods"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let entry = into
                .methods
                .entry((path.to_string(), method.to_ascii_uppercase()))
                .or_default();
            entry.0 = m["apiKeyRequired"].as_bool().or(entry.0);
            entry.1 = timeout(m["methodIntegration"].get("timeoutInMillis")).or(entry.1);
        }
    }
}

/// `get-export` (OpenAPI 3 or Swagger 2): paths, methods (`x-amazon-apigateway-any-method`
/// is ANY), an `api_key` security requirement, the integration's `timeoutInMillis`.
fn read_export(json: &Value, into: &mut ApiMethods) {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    for (path, item) in json["paths"].as_object().into_iter().flatten() {
        for (name, op) in item.as_object().into_iter().flatten() {
            let method = if name == "x-amazon-apigateway-any-method" {
                "ANY".to_string()
            } else if METHODS.contains(&name.as_str()) {
                name.to_ascii_uppercase()
            } else {
                continue;
            };
            let key_required = op["security"].as_array().map(|requirements| {
                requirements
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.contains_key("api_key")))
            });
            let integration = op.get("x-amazon-apigateway-integration");
            let entry = into.methods.entry((path.clone(), method)).or_default();
            entry.0 = key_required.or(entry.0);
            entry.1 = timeout(integration.and_then(|i| i.get("timeoutInMillis"))).or(entry.1);
        }
    }
}

/// The API id an export names in its server URL (`https://{id}.execute-api…`).
fn export_api_id(json: &Value) -> Option<String> {
    let url = json["servers"][0]["url"]
        .as_str()
        .or_else(|| json["host"].as_str())?;
    let host = url.split("://").last()?;
    let (id, rest) = host.split_once('.')?;
    (rest.starts_with("execute-api.") && api_id_shaped(id)).then(|| id.to_string())
}

/// Builds one configuration from a whole account's outputs. Returns it with notes on the
/// files that were not used (not JSON, not recognised, empty lists).
pub fn import_account(files: &[AccountFile]) -> Result<(GatewayConfig, Vec<String>), ConfigError> {
    let mut notes = Vec::new();
    let mut docs: Vec<(&AccountFile, Value, Kind)> = Vec::new();
    for file in files {
        let Ok(json) = serde_json::from_str::<Value>(&file.text) else {
            notes.push(format!("{}: not JSON, skipped", file.path.display()));
            continue;
        };
        match classify(&json) {
            Some(kind) => docs.push((file, json, kind)),
            None => notes.push(format!(
                "{}: not an AWS CLI output gwstat imports (or an empty list), skipped",
                file.path.display()
            )),
        }
    }
    let mut config = GatewayConfig::default();
    for (file, json, kind) in &docs {
        match kind {
            Kind::RestApis => {
                for api in json["items"].as_array().into_iter().flatten() {
                    let id = api["id"].as_str().unwrap_or_default();
                    let name = api["name"].as_str().unwrap_or_default();
                    add_api(&mut config, id, name, ApiKind::Rest);
                }
            }
            Kind::V2Apis => {
                for api in json["Items"].as_array().into_iter().flatten() {
                    let id = api["ApiId"].as_str().unwrap_or_default();
                    let name = api["Name"].as_str().unwrap_or_default();
                    let kind = match api["ProtocolType"].as_str() {
                        Some("WEBSOCKET") => ApiKind::Websocket,
                        _ => ApiKind::Http,
                    };
                    add_api(&mut config, id, name, kind);
                }
            }
            Kind::Export => {
                if let Some(id) = file.id.clone().or_else(|| export_api_id(json)) {
                    let name = json["info"]["title"].as_str().unwrap_or_default();
                    add_api(&mut config, &id, name, ApiKind::Rest);
                }
            }
            _ => {}
        }
    }
    let known_apis: Vec<String> = config.apis.iter().map(|a| a.id.clone()).collect();
    let api_of = |file: &AccountFile, what: &str| -> Result<String, ConfigError> {
        owner(file, &known_apis, true).ok_or_else(|| {
            invalid(
                &file.path,
                format!("{what} output does not say which API it belongs to: put it under a directory named after the API id, or give --api-id ID={}", file.path.display()),
            )
        })
    };

    let mut sources = AwsSources::default();
    let mut methods: BTreeMap<String, ApiMethods> = BTreeMap::new();
    for (file, json, kind) in &docs {
        match kind {
            Kind::RestStages | Kind::RestStage | Kind::V2Stages | Kind::V2Stage => {
                let api = api_of(file, "get-stages")?;
                let (list, v2) = match kind {
                    Kind::RestStages => {
                        (json["item"].as_array().cloned().unwrap_or_default(), false)
                    }
                    Kind::V2Stages => (json["Items"].as_array().cloned().unwrap_or_default(), true),
                    _ => (vec![json.clone()], *kind == Kind::V2Stage),
                };
                let api_kind = config
                    .apis
                    .iter()
                    .find(|a| a.id == api)
                    .map(|a| a.kind)
                    .unwrap_or(if v2 { ApiKind::Http } else { ApiKind::Rest });
                add_api(&mut config, &api, "", api_kind);
                for item in list {
                    let text = item.to_string();
                    let mut stage = if v2 {
                        http_stage(&text)
                    } else {
                        rest_stage(&text)
                    }
                    .map_err(|e| invalid(&file.path, e.to_string()))?;
                    stage.api_id = api.clone();
                    stage.api = api_kind;
                    if config
                        .stages
                        .iter()
                        .any(|s| s.api_id == stage.api_id && s.name == stage.name)
                    {
                        notes.push(format!(
                            "{}: stage {} given again, the first one kept",
                            file.path.display(),
                            stage.label()
                        ));
                        continue;
                    }
                    config.stages.push(stage);
                }
            }
            Kind::Resources => {
                let api = api_of(file, "get-resources")?;
                read_resources(json, methods.entry(api).or_default());
            }
            Kind::Export => {
                let api = match file.id.clone().or_else(|| export_api_id(json)) {
                    Some(id) => id,
                    None => api_of(file, "get-export")?,
                };
                read_export(json, methods.entry(api).or_default());
            }
            Kind::UsagePlans => sources.usage_plans = Some(file.text.clone()),
            Kind::Account => sources.account = Some(file.text.clone()),
            Kind::Usage => sources.usage.push(file.text.clone()),
            Kind::V2Routes => {
                let api = api_of(file, "apigatewayv2 get-routes")?;
                let found = methods.entry(api).or_default();
                for route in json["Items"].as_array().into_iter().flatten() {
                    let Some(key) = route["RouteKey"].as_str() else {
                        continue;
                    };
                    let target = route["Target"]
                        .as_str()
                        .and_then(|t| t.strip_prefix("integrations/"));
                    found.routes.push((
                        key.to_string(),
                        route["ApiKeyRequired"].as_bool(),
                        target.map(String::from),
                    ));
                }
            }
            Kind::V2Integrations => {
                let api = api_of(file, "apigatewayv2 get-integrations")?;
                let found = methods.entry(api).or_default();
                for integration in json["Items"].as_array().into_iter().flatten() {
                    if let (Some(id), Some(ms)) = (
                        integration["IntegrationId"].as_str(),
                        timeout(integration.get("TimeoutInMillis")),
                    ) {
                        found.integration_timeouts.insert(id.to_string(), ms);
                    }
                }
            }
            Kind::UsagePlanKeys | Kind::Integration | Kind::RestApis | Kind::V2Apis => {}
        }
    }
    let plan_ids: Vec<String> = sources
        .usage_plans
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|plans| {
            plans["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for (file, _, kind) in &docs {
        if *kind == Kind::UsagePlanKeys {
            let plan = owner(file, &plan_ids, false).ok_or_else(|| {
                invalid(
                    &file.path,
                    "get-usage-plan-keys output does not say its usage plan: put it under a directory named after the plan id (with get-usage-plans), or give --api-id PLAN_ID=FILE".into(),
                )
            })?;
            sources.usage_plan_keys.push((plan, file.text.clone()));
        }
    }
    // Integrations: `<apiId>/<resourceId>/<METHOD>.json`.
    for (file, json, kind) in &docs {
        if *kind != Kind::Integration {
            continue;
        }
        let method = file
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_ascii_uppercase);
        let resource_id = file
            .path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str());
        let api = owner(file, &known_apis, false);
        let found = match (api, resource_id, method) {
            (Some(api), Some(resource_id), Some(method)) => methods.get_mut(&api).and_then(|m| {
                let path = m.resource_paths.get(resource_id)?.clone();
                Some(m.methods.entry((path, method)).or_default())
            }),
            _ => None,
        };
        match found {
            Some(entry) => entry.1 = timeout(json.get("timeoutInMillis")).or(entry.1),
            None => notes.push(format!(
                "{}: get-integration output not placed as <apiId>/<resourceId>/<METHOD>.json with that API's get-resources, skipped",
                file.path.display()
            )),
        }
    }

    let mut config = assemble(config, &sources)?;
    // Methods, key requirements and timeouts apply to every stage of their API.
    for (api, found) in &methods {
        for stage in config.stages.iter_mut().filter(|s| &s.api_id == api) {
            if !found.methods.is_empty() || !found.routes.is_empty() {
                stage.api_key_required = false;
            }
            for (route, key_required, target) in &found.routes {
                stage.routes.push(route.clone());
                let timeout_ms = target
                    .as_ref()
                    .and_then(|t| found.integration_timeouts.get(t).copied());
                // Settings are keyed `/resource/METHOD` or `$route`; a custom WebSocket route
                // key has no such spelling and keeps the stage's.
                if let Some((resource, method)) = method_key(route) {
                    let key = if resource.starts_with('$') {
                        resource
                    } else {
                        format!("{resource}/{method}")
                    };
                    let settings: &mut MethodSettings = stage.methods.entry(key).or_default();
                    settings.api_key_required = key_required.or(Some(false));
                    settings.integration_timeout_ms =
                        timeout_ms.or(settings.integration_timeout_ms);
                }
            }
            for ((resource, method), (key_required, timeout_ms)) in &found.methods {
                stage.routes.push(format!("{method} {resource}"));
                let key = format!("{resource}/{method}");
                let settings: &mut MethodSettings = stage.methods.entry(key).or_default();
                settings.api_key_required = key_required.or(Some(false));
                settings.integration_timeout_ms = *timeout_ms;
            }
        }
    }
    config.validate()?;
    Ok((config, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_recognised_by_their_content() {
        let kind = |text: &str| classify(&serde_json::from_str(text).unwrap());
        assert_eq!(
            kind(r#"{"items":[{"id":"a1b2c3d4e5","name":"pets","apiKeySource":"HEADER"}]}"#),
            Some(Kind::RestApis)
        );
        assert_eq!(
            kind(r#"{"Items":[{"ApiId":"x","Name":"n","ProtocolType":"HTTP"}]}"#),
            Some(Kind::V2Apis)
        );
        assert_eq!(
            kind(r#"{"item":[{"stageName":"prod"}]}"#),
            Some(Kind::RestStages)
        );
        assert_eq!(
            kind(r#"{"Items":[{"StageName":"$default"}]}"#),
            Some(Kind::V2Stages)
        );
        assert_eq!(
            kind(r#"{"items":[{"id":"r1","path":"/"}]}"#),
            Some(Kind::Resources)
        );
        assert_eq!(
            kind(r#"{"type":"AWS_PROXY","timeoutInMillis":5000}"#),
            Some(Kind::Integration)
        );
        assert_eq!(
            kind(r#"{"items":[{"id":"k","type":"API_KEY"}]}"#),
            Some(Kind::UsagePlanKeys)
        );
        assert_eq!(
            kind(r#"{"items":[{"id":"p","apiStages":[]}]}"#),
            Some(Kind::UsagePlans)
        );
        assert_eq!(kind(r#"{"usagePlanId":"p","items":{}}"#), Some(Kind::Usage));
        assert_eq!(
            kind(r#"{"openapi":"3.0.1","paths":{}}"#),
            Some(Kind::Export)
        );
        assert_eq!(
            kind(r#"{"Items":[{"RouteKey":"GET /pets","Target":"integrations/i1"}]}"#),
            Some(Kind::V2Routes)
        );
        assert_eq!(
            kind(r#"{"Items":[{"IntegrationId":"i1","TimeoutInMillis":3000}]}"#),
            Some(Kind::V2Integrations)
        );
        assert_eq!(kind(r#"{"items":[]}"#), None);
        assert_eq!(kind(r#"{"hello":1}"#), None);
    }

    #[test]
    fn the_api_id_comes_from_the_flag_then_the_directory() {
        let file = |path: &str, id: Option<&str>| AccountFile {
            path: PathBuf::from(path),
            text: String::new(),
            id: id.map(String::from),
        };
        let known = vec!["a1b2c3d4e5".to_string()];
        assert_eq!(
            owner(&file("acct/a1b2c3d4e5/stages.json", None), &known, true).as_deref(),
            Some("a1b2c3d4e5")
        );
        assert_eq!(
            owner(&file("acct/a1b2c3d4e5/r1/GET.json", None), &known, true).as_deref(),
            Some("a1b2c3d4e5")
        );
        assert_eq!(
            owner(&file("acct/zzzzzzzzz9/s.json", None), &known, true).as_deref(),
            Some("zzzzzzzzz9")
        );
        assert_eq!(owner(&file("acct/stages.json", None), &known, true), None);
        assert_eq!(
            owner(&file("x.json", Some("q")), &known, true).as_deref(),
            Some("q")
        );
    }
}
