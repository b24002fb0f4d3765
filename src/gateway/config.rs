//! The gateway's configuration: account limits, APIs and their stages (throttling, method
//! settings, cache, timeout), usage plans (throttles, quotas per API stage), API keys, and the
//! options that choose between readings of undocumented behaviour. Read from `gateway.toml`
//! (docs/gateway.md) or imported from AWS CLI JSON ([`super::aws_import`]).
//!
//! Every stage belongs to an API: `[[apis]]` entries hold their `[[apis.stages]]`; stages
//! written at the top level (`[[stages]]`, the format before APIs existed) belong to the
//! implicit API whose id is empty. In memory the stages are one flat list, each carrying its
//! API's id ([`Stage::api_id`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::bucket::{Rate, Throttle};
use super::quota::QuotaSettings;
pub use super::quota::WeekStart;
use crate::facts::{ACCOUNT_BURST_LIMIT, ACCOUNT_RATE_LIMIT, CACHE_TTL_DEFAULT_S};

/// A configuration that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The TOML does not parse or has unknown keys.
    #[error("gateway config: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range or inconsistent.
    #[error("gateway config: {0}")]
    Invalid(String),
}

/// Whether the stage default (`*/*`) throttle is one bucket per method or one for the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageDefaultBuckets {
    /// One bucket per method carrying the default values ("applied at the API method level").
    #[default]
    PerMethod,
    /// One bucket shared by every method of the stage.
    Shared,
}

/// How tokens are taken across the levels a request passes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumptionPolicy {
    /// Each level, in order, takes a token when it admits; the first refusal ends the
    /// request and earlier levels keep the token they took.
    #[default]
    Sequential,
    /// Every level is checked first; tokens are taken only if all admit (nginx, Envoy).
    AllOrNothing,
}

/// Which requests count toward a usage-plan quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaCounting {
    /// Every request that passed throttling, whatever its final status.
    #[default]
    Admitted,
    /// Only requests answered 2xx.
    Successful,
}

/// What a timed-out request logs as integration latency (unverified at AWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeoutIntegrationLatency {
    /// The timeout itself (e.g. 29000).
    #[default]
    Timeout,
    /// `-` (no value).
    Missing,
    /// `-1`, as one log vendor reports.
    MinusOne,
}

/// Choices between readings of behaviour AWS does not document; each has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct Options {
    /// Stage default throttle scope.
    pub stage_default_buckets: StageDefaultBuckets,
    /// Token consumption across levels.
    pub consumption: ConsumptionPolicy,
    /// Which requests count toward quotas.
    pub quota_counts: QuotaCounting,
    /// First day of WEEK quota periods.
    pub week_start: WeekStart,
    /// Integration latency logged on a timeout.
    pub timeout_integration_latency: TimeoutIntegrationLatency,
    /// Gateway overhead (ms) added to every response when the request does not carry its own.
    pub overhead_ms: u64,
}

/// Account-level throttle per Region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Steady rate (rps).
    pub rate: Rate,
    /// Burst.
    pub burst: u64,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            rate: Rate::from_f64(ACCOUNT_RATE_LIMIT).expect("valid default"),
            burst: ACCOUNT_BURST_LIMIT,
        }
    }
}

/// REST (v1), HTTP (v2) or WebSocket (v2) API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiKind {
    /// REST API: usage plans, API keys, cache, 29 s timeout → 504.
    #[default]
    Rest,
    /// HTTP API: route throttling only, no API keys, 30 s timeout → 503.
    Http,
    /// WebSocket API: routes selected by route key, API keys per route, 29 s timeout.
    Websocket,
}

impl ApiKind {
    /// Whether methods of this kind of API can require an API key (HTTP APIs cannot).
    pub fn has_api_keys(self) -> bool {
        self != ApiKind::Http
    }
}

/// One API of the account (`get-rest-apis` / `get-apis` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// API id (the `apiId` in access logs and usage plans).
    pub id: String,
    /// API name (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// REST, HTTP or WebSocket.
    #[serde(default)]
    pub kind: ApiKind,
}

/// What the cache does with `Cache-Control: max-age=0` from a client not authorized to
/// invalidate (`unauthorizedCacheControlHeaderStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnauthorizedCacheControl {
    /// Answer 403.
    #[serde(rename = "FAIL_WITH_403")]
    FailWith403,
    /// Ignore the header (serve from cache) and add a warning header.
    #[default]
    SucceedWithResponseHeader,
    /// Ignore the header silently.
    SucceedWithoutResponseHeader,
}

/// A stage's cache.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Cache cluster provisioned.
    pub enabled: bool,
    /// Capacity in GB (0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237).
    pub size_gb: f64,
    /// Default TTL in seconds (0–3600; 0 disables).
    pub ttl_seconds: u64,
    /// Only clients authorized for `execute-api:InvalidateCache` may invalidate.
    pub require_authorization: bool,
    /// What happens to unauthorized invalidation attempts.
    pub unauthorized_strategy: UnauthorizedCacheControl,
    /// GET methods are cached unless a method setting says otherwise (AWS: "only GET
    /// methods have caching enabled by default").
    pub default_caching: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: false,
            size_gb: 0.5,
            ttl_seconds: CACHE_TTL_DEFAULT_S,
            require_authorization: false,
            unauthorized_strategy: UnauthorizedCacheControl::default(),
            default_caching: true,
        }
    }
}

/// Settings of one method in a stage (`methodSettings["/path/METHOD"]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MethodSettings {
    /// Per-method throttle override.
    pub throttle: Option<Throttle>,
    /// The method requires an API key (overrides the stage's `api_key_required`).
    pub api_key_required: Option<bool>,
    /// Cache this method (default: GET only, when the stage cache is enabled).
    pub caching: Option<bool>,
    /// TTL override.
    pub cache_ttl_seconds: Option<u64>,
    /// This method's integration timeout (its integration's `timeoutInMillis`), ms;
    /// none = the stage's.
    pub integration_timeout_ms: Option<u64>,
}

/// One stage of one API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The id of the API the stage belongs to (empty: the implicit API). Not written in
    /// `gateway.toml`: a stage sits inside its `[[apis]]` entry.
    #[serde(skip)]
    pub api_id: String,
    /// Stage name.
    pub name: String,
    /// The kind of API (inside `[[apis]]` the API's `kind`; for top-level stages their own).
    #[serde(default)]
    pub api: ApiKind,
    /// Integration timeout, ms (REST default 29000; HTTP APIs max 30000).
    #[serde(default)]
    pub integration_timeout_ms: Option<u64>,
    /// Default for methods without their own `api_key_required`.
    #[serde(default)]
    pub api_key_required: bool,
    /// Stage default throttle (`*/*`, HTTP `DefaultRouteSettings`); none = account only.
    #[serde(default)]
    pub throttle: Option<Throttle>,
    /// Per-method settings keyed `/resource/METHOD` (HTTP: `METHOD /route` also accepted).
    #[serde(default)]
    pub methods: BTreeMap<String, MethodSettings>,
    /// The routes that exist (`METHOD /resource`); empty = every route exists. Others get
    /// 403 MISSING_AUTHENTICATION_TOKEN.
    #[serde(default)]
    pub routes: Vec<String>,
    /// The stage cache.
    #[serde(default)]
    pub cache: CacheConfig,
}

impl Stage {
    /// A stage with no settings of its own (account throttle only, no cache, no key).
    pub fn new(api_id: &str, name: &str, api: ApiKind) -> Stage {
        Stage {
            api_id: api_id.to_string(),
            name: name.to_string(),
            api,
            integration_timeout_ms: None,
            api_key_required: false,
            throttle: None,
            methods: BTreeMap::new(),
            routes: Vec::new(),
            cache: CacheConfig::default(),
        }
    }

    /// `apiId:stage` (AWS's spelling of an API stage), or the bare name in the implicit API.
    pub fn label(&self) -> String {
        stage_label(&self.api_id, &self.name)
    }
}

/// `apiId:stage`, or `stage` when the API id is empty (the implicit API).
pub fn stage_label(api_id: &str, stage: &str) -> String {
    if api_id.is_empty() {
        stage.to_string()
    } else {
        format!("{api_id}:{stage}")
    }
}

/// Splits `apiId:stage` (or a bare `stage`, API id empty).
pub fn split_stage_label(label: &str) -> (&str, &str) {
    label.split_once(':').unwrap_or(("", label))
}

/// One API stage a usage plan covers (AWS `ApiStage`), with its per-method throttles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiStage {
    /// The API's id (empty: the implicit API).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_id: String,
    /// Stage name.
    pub stage: String,
    /// Per-method throttles per API key for this API stage, keyed `/resource/METHOD`
    /// (AWS `apiStages[].throttle`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub methods: BTreeMap<String, Throttle>,
}

/// A usage plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsagePlan {
    /// Plan ID.
    pub id: String,
    /// The API stages the plan covers.
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    /// Plan-wide throttle per API key, across all its API stages.
    #[serde(default)]
    pub throttle: Option<Throttle>,
    /// Quota per API key, across all its API stages.
    #[serde(default)]
    pub quota: Option<QuotaSettings>,
    /// The UTC day in the plan's initial quota period (`YYYY-MM-DD`), whose limit the
    /// quota's `offset` reduces; without it `offset` is not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_start: Option<String>,
    /// Requests each API key had already used, per UTC day (`get-usage`): key ID →
    /// `YYYY-MM-DD` → requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub usage: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A usage plan as written in `gateway.toml`: `api_stages`, or the older `stages` (names in
/// the implicit API) with `methods` applied to each of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsagePlanFile {
    id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    api_stages: Vec<ApiStage>,
    #[serde(default)]
    throttle: Option<Throttle>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    methods: BTreeMap<String, Throttle>,
    #[serde(default)]
    quota: Option<QuotaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quota_start: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    usage: BTreeMap<String, BTreeMap<String, u64>>,
}

/// An API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Key ID (what access logs show as `identity.apiKeyId`).
    pub id: String,
    /// Key value (what clients send in `x-api-key`); optional.
    #[serde(default)]
    pub value: Option<String>,
    /// Disabled keys are refused like invalid ones.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// Plans the key belongs to.
    #[serde(default)]
    pub usage_plans: Vec<String>,
}

fn enabled_default() -> bool {
    true
}

/// The whole gateway: one account in one Region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConfigFile", into = "ConfigFile")]
pub struct GatewayConfig {
    /// Account throttle (default 10,000 rps / 5,000 burst).
    pub account: Account,
    /// Readings of undocumented behaviour.
    pub options: Options,
    /// The account's APIs (the implicit API, id empty, is not listed).
    pub apis: Vec<Api>,
    /// Every stage of every API.
    pub stages: Vec<Stage>,
    /// Usage plans.
    pub usage_plans: Vec<UsagePlan>,
    /// API keys.
    pub api_keys: Vec<ApiKey>,
}

/// `[[apis]]` as written: the API and its stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiFile {
    id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(default)]
    kind: ApiKind,
    #[serde(default)]
    stages: Vec<Stage>,
}

/// `gateway.toml` as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    account: Account,
    options: Options,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    apis: Vec<ApiFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stages: Vec<Stage>,
    usage_plans: Vec<UsagePlanFile>,
    api_keys: Vec<ApiKey>,
}

impl TryFrom<ConfigFile> for GatewayConfig {
    type Error = String;

    fn try_from(file: ConfigFile) -> Result<GatewayConfig, String> {
        if let Some(plan) = file
            .usage_plans
            .iter()
            .find(|p| !p.methods.is_empty() && p.stages.is_empty())
        {
            return Err(format!(
                "usage plan {:?}: `methods` goes with `stages`; with `api_stages` put each API stage's method throttles in its `methods`",
                plan.id
            ));
        }
        let mut apis = Vec::new();
        let mut stages = file.stages;
        for api in file.apis {
            for mut stage in api.stages {
                stage.api_id = api.id.clone();
                stage.api = api.kind;
                stages.push(stage);
            }
            apis.push(Api {
                id: api.id,
                name: api.name,
                kind: api.kind,
            });
        }
        let usage_plans = file
            .usage_plans
            .into_iter()
            .map(|plan| {
                let mut api_stages = plan.api_stages;
                api_stages.extend(plan.stages.iter().map(|stage| ApiStage {
                    api_id: String::new(),
                    stage: stage.clone(),
                    methods: plan.methods.clone(),
                }));
                UsagePlan {
                    id: plan.id,
                    api_stages,
                    throttle: plan.throttle,
                    quota: plan.quota,
                    quota_start: plan.quota_start,
                    usage: plan.usage,
                }
            })
            .collect();
        Ok(GatewayConfig {
            account: file.account,
            options: file.options,
            apis,
            stages,
            usage_plans,
            api_keys: file.api_keys,
        })
    }
}

impl From<GatewayConfig> for ConfigFile {
    fn from(config: GatewayConfig) -> ConfigFile {
        let mut apis: Vec<ApiFile> = config
            .apis
            .into_iter()
            .map(|api| ApiFile {
                id: api.id,
                name: api.name,
                kind: api.kind,
                stages: Vec::new(),
            })
            .collect();
        let mut stages = Vec::new();
        for stage in config.stages {
            match apis.iter_mut().find(|a| a.id == stage.api_id) {
                Some(api) if !stage.api_id.is_empty() => api.stages.push(stage),
                _ if stage.api_id.is_empty() => stages.push(stage),
                _ => apis.push(ApiFile {
                    id: stage.api_id.clone(),
                    name: String::new(),
                    kind: stage.api,
                    stages: vec![stage],
                }),
            }
        }
        ConfigFile {
            account: config.account,
            options: config.options,
            apis,
            stages,
            usage_plans: config
                .usage_plans
                .into_iter()
                .map(|plan| UsagePlanFile {
                    id: plan.id,
                    stages: Vec::new(),
                    api_stages: plan.api_stages,
                    throttle: plan.throttle,
                    methods: BTreeMap::new(),
                    quota: plan.quota,
                    quota_start: plan.quota_start,
                    usage: plan.usage,
                })
                .collect(),
            api_keys: config.api_keys,
        }
    }
}

/// Splits a method-settings key into `(resource, METHOD)`: `/pets/{id}/GET`,
/// `~1pets~1{id}/GET` (as `get-stage` escapes it), `pets/GET`, or `GET /pets` (HTTP). A
/// `$`-route key (`$default`, `$connect`) is its own resource and method.
pub fn method_key(key: &str) -> Option<(String, String)> {
    let key = key.trim();
    if key.starts_with('$') && !key.contains(['/', ' ']) {
        return Some((key.to_string(), key.to_string()));
    }
    if let Some((method, route)) = key.split_once(' ') {
        if method.chars().all(|c| c.is_ascii_uppercase()) {
            return Some((route.trim().to_string(), method.to_string()));
        }
    }
    let key = key.replace("~1", "/");
    let (resource, method) = key.rsplit_once('/')?;
    if method.is_empty() {
        return None;
    }
    let resource = if resource.starts_with('/') || resource == "*" {
        resource.to_string()
    } else {
        format!("/{resource}")
    };
    Some((resource, method.to_ascii_uppercase()))
}

impl GatewayConfig {
    /// Parses `gateway.toml` text and checks it.
    pub fn from_toml(text: &str) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// The kind of the API with this id (the implicit API, id empty, is REST).
    pub fn api_kind(&self, api_id: &str) -> Option<ApiKind> {
        if api_id.is_empty() {
            return Some(ApiKind::Rest);
        }
        self.apis.iter().find(|a| a.id == api_id).map(|a| a.kind)
    }

    /// The index of the stage `name` of API `api_id`. An empty `api_id` (a log that does not
    /// say which API it belongs to) means the implicit API's stage, or else the one stage of
    /// that name in any API; `None` when there is none or several.
    pub fn stage_index(&self, api_id: &str, name: &str) -> Option<usize> {
        let exact = self
            .stages
            .iter()
            .position(|s| s.api_id == api_id && s.name == name);
        if exact.is_some() || !api_id.is_empty() {
            return exact;
        }
        let mut named = self
            .stages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name);
        match (named.next(), named.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// Stage names that several APIs use (a log without API ids cannot tell them apart).
    pub fn shared_stage_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .stages
            .iter()
            .filter(|s| self.stages.iter().filter(|t| t.name == s.name).count() > 1)
            .map(|s| s.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The settings the configuration does not know, each with the default the core then
    /// assumes and the AWS CLI output that would tell (what `gateway import` could not fill).
    pub fn unknowns(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.account == Account::default() {
            out.push(format!(
                "account throttle not known: the default {} rps / {} burst assumed (get-account)",
                self.account.rate, self.account.burst
            ));
        }
        for stage in &self.stages {
            let label = stage.label();
            if stage.routes.is_empty() {
                out.push(format!(
                    "stage {label}: routes not known: every method and path taken to exist (get-resources --embed methods, get-export; HTTP: routes)"
                ));
            }
            let timeouts = stage.integration_timeout_ms.is_some()
                || stage
                    .methods
                    .values()
                    .any(|m| m.integration_timeout_ms.is_some());
            if !timeouts {
                let default = match stage.api {
                    ApiKind::Http => crate::facts::HTTP_INTEGRATION_TIMEOUT_MS,
                    ApiKind::Rest | ApiKind::Websocket => crate::facts::REST_INTEGRATION_TIMEOUT_MS,
                };
                out.push(format!(
                    "stage {label}: integration timeouts not known: {default} ms assumed for every method (get-integration, get-resources --embed methods)"
                ));
            }
            let key_per_method = stage.methods.values().any(|m| m.api_key_required.is_some());
            let in_plan = self.usage_plans.iter().any(|p| {
                p.api_stages.iter().any(|s| {
                    self.stage_index(&s.api_id, &s.stage)
                        .is_some_and(|i| self.stages[i].label() == label)
                })
            });
            if stage.api.has_api_keys() && in_plan && !key_per_method {
                out.push(format!(
                    "stage {label}: which methods require an API key not known: {} assumed (get-resources --embed methods)",
                    if stage.api_key_required { "every method" } else { "none" }
                ));
            }
            if stage.cache.enabled && !stage.methods.values().any(|m| m.caching.is_some()) {
                out.push(format!(
                    "stage {label}: per-method caching not known: GET methods assumed cached (get-stage methodSettings)"
                ));
            }
        }
        for plan in &self.usage_plans {
            if plan.quota.is_some() && plan.usage.is_empty() {
                out.push(format!(
                    "usage plan {}: what keys used before not known: quotas start at zero (get-usage)",
                    plan.id
                ));
            }
            if plan.quota.is_some_and(|q| q.offset > 0) && plan.quota_start.is_none() {
                out.push(format!(
                    "usage plan {}: the initial quota period not known: offset not applied (quota_start)",
                    plan.id
                ));
            }
        }
        out
    }

    /// Checks ranges and references; returns warnings for legal but suspicious settings.
    pub fn validate(&self) -> Result<Vec<String>, ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut warnings = Vec::new();
        let account = Throttle::new(self.account.rate, self.account.burst);
        for api in &self.apis {
            if api.id.is_empty() || api.id.contains(':') {
                return invalid(format!("API id {:?} must be non-empty without ':'", api.id));
            }
            if self.apis.iter().filter(|a| a.id == api.id).count() > 1 {
                return invalid(format!("API {:?} is defined twice", api.id));
            }
        }
        for stage in &self.stages {
            let label = stage.label();
            match self.api_kind(&stage.api_id) {
                None => {
                    return invalid(format!(
                        "stage {label:?} belongs to API {:?}, which is not in [[apis]]",
                        stage.api_id
                    ))
                }
                Some(kind) if !stage.api_id.is_empty() && kind != stage.api => {
                    return invalid(format!(
                        "stage {label:?} says {:?} but its API is {kind:?}",
                        stage.api
                    ))
                }
                Some(_) => {}
            }
            if self
                .stages
                .iter()
                .filter(|s| s.name == stage.name && s.api_id == stage.api_id)
                .count()
                > 1
            {
                return invalid(format!("stage {label:?} is defined twice"));
            }
            if stage.cache.ttl_seconds > 3600 {
                return invalid(format!("stage {label:?}: cache ttl_seconds must be 0–3600"));
            }
            if let Some(t) = stage.integration_timeout_ms {
                if t < 50 {
                    return invalid(format!(
                        "stage {label:?}: integration_timeout_ms must be at least 50"
                    ));
                }
                if stage.api == ApiKind::Http && t > 30_000 {
                    return invalid(format!("stage {label:?}: HTTP APIs allow at most 30000 ms"));
                }
            }
            for (key, settings) in &stage.methods {
                if method_key(key).is_none() {
                    return invalid(format!(
                        "stage {label:?}: method key {key:?} is not /resource/METHOD"
                    ));
                }
                if settings.cache_ttl_seconds.is_some_and(|t| t > 3600) {
                    return invalid(format!(
                        "stage {label:?} {key}: cache_ttl_seconds must be 0–3600"
                    ));
                }
                if let Some(t) = settings.integration_timeout_ms {
                    if t < 50 || (stage.api == ApiKind::Http && t > 30_000) {
                        return invalid(format!(
                            "stage {label:?} {key}: integration_timeout_ms must be 50–{}",
                            if stage.api == ApiKind::Http {
                                "30000"
                            } else {
                                "…"
                            }
                        ));
                    }
                }
                warn_above(
                    &mut warnings,
                    &format!("stage {label} {key}"),
                    settings.throttle,
                    account,
                );
            }
            warn_above(
                &mut warnings,
                &format!("stage {label}"),
                stage.throttle,
                account,
            );
        }
        for plan in &self.usage_plans {
            for api_stage in &plan.api_stages {
                let label = stage_label(&api_stage.api_id, &api_stage.stage);
                let Some(index) = self.stage_index(&api_stage.api_id, &api_stage.stage) else {
                    if api_stage.api_id.is_empty()
                        && self.stages.iter().any(|s| s.name == api_stage.stage)
                    {
                        return invalid(format!(
                            "usage plan {:?} names stage {label:?}, which several APIs have: give its api_id",
                            plan.id
                        ));
                    }
                    return invalid(format!(
                        "usage plan {:?} names unknown stage {label:?}",
                        plan.id
                    ));
                };
                if !self.stages[index].api.has_api_keys() {
                    return invalid(format!(
                        "usage plan {:?}: stage {label:?} is an HTTP API stage; HTTP APIs have no usage plans or API keys",
                        plan.id
                    ));
                }
                if !api_stage.methods.is_empty() && plan.throttle.is_none() {
                    return invalid(format!(
                        "usage plan {:?}: method throttles need a plan throttle (AWS: \"Can not define fine grain throttling if usage plan throttle is not defined\")",
                        plan.id
                    ));
                }
                for key in api_stage.methods.keys() {
                    if method_key(key).is_none() {
                        return invalid(format!(
                            "usage plan {:?} {label}: method key {key:?} is not /resource/METHOD",
                            plan.id
                        ));
                    }
                }
            }
            for day in plan
                .quota_start
                .iter()
                .chain(plan.usage.values().flat_map(|days| days.keys()))
            {
                if parse_day(day).is_none() {
                    return invalid(format!(
                        "usage plan {:?}: {day:?} is not a YYYY-MM-DD date",
                        plan.id
                    ));
                }
            }
            if plan.quota.is_some_and(|q| q.offset > 0) && plan.quota_start.is_none() {
                warnings.push(format!(
                    "usage plan {}: quota offset {} is not applied: quota_start (a day of the plan's initial period) is not given",
                    plan.id,
                    plan.quota.map_or(0, |q| q.offset)
                ));
            }
            warn_above(
                &mut warnings,
                &format!("usage plan {}", plan.id),
                plan.throttle,
                account,
            );
        }
        for key in &self.api_keys {
            for plan in &key.usage_plans {
                if !self.usage_plans.iter().any(|p| &p.id == plan) {
                    return invalid(format!(
                        "API key {:?} names unknown usage plan {plan:?}",
                        key.id
                    ));
                }
            }
            let mut stages: Vec<usize> = key
                .usage_plans
                .iter()
                .filter_map(|id| self.usage_plans.iter().find(|p| &p.id == id))
                .flat_map(|p| &p.api_stages)
                .filter_map(|s| self.stage_index(&s.api_id, &s.stage))
                .collect();
            stages.sort();
            if stages.windows(2).any(|w| w[0] == w[1]) {
                return invalid(format!(
                    "API key {:?} is in two usage plans for the same API stage (AWS allows one plan per key and API stage)",
                    key.id
                ));
            }
        }
        Ok(warnings)
    }
}

/// A `YYYY-MM-DD` day.
pub fn parse_day(day: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

fn warn_above(
    warnings: &mut Vec<String>,
    what: &str,
    throttle: Option<Throttle>,
    account: Throttle,
) {
    if let Some(t) = throttle {
        if t.rate.as_f64() > account.rate.as_f64() || t.burst > account.burst {
            warnings.push(format!(
                "{what}: throttle {} rps / {} burst is above the account's {} / {}; the account bucket still limits it",
                t.rate, t.burst, account.rate, account.burst
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_keys_in_every_spelling() {
        let want = Some(("/pets/{id}".to_string(), "GET".to_string()));
        assert_eq!(method_key("/pets/{id}/GET"), want);
        assert_eq!(method_key("~1pets~1{id}/GET"), want);
        assert_eq!(method_key("pets/{id}/GET"), want);
        assert_eq!(method_key("GET /pets/{id}"), want);
        assert_eq!(method_key("*/*"), Some(("*".into(), "*".into())));
        assert_eq!(method_key("GET"), None);
        assert_eq!(
            method_key("$default"),
            Some(("$default".into(), "$default".into()))
        );
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = GatewayConfig::from_toml("").unwrap();
        assert_eq!(config.account.rate, Rate::per_second(10_000));
        assert_eq!(config.account.burst, 5_000);
        assert_eq!(
            config.options.stage_default_buckets,
            StageDefaultBuckets::PerMethod
        );
        assert_eq!(config.options.consumption, ConsumptionPolicy::Sequential);
        assert_eq!(CacheConfig::default().ttl_seconds, 300);
    }

    #[test]
    fn bad_configs_are_rejected_with_reasons() {
        let unknown_stage = r#"
            [[usage_plans]]
            id = "p"
            stages = ["nope"]
        "#;
        assert!(GatewayConfig::from_toml(unknown_stage)
            .unwrap_err()
            .to_string()
            .contains("unknown stage"));
        let fine_grain = r#"
            [[stages]]
            name = "prod"
            [[usage_plans]]
            id = "p"
            stages = ["prod"]
            methods = { "/a/GET" = { rate = 1, burst = 1 } }
        "#;
        assert!(GatewayConfig::from_toml(fine_grain)
            .unwrap_err()
            .to_string()
            .contains("fine grain"));
        let ttl = "[[stages]]\nname = \"p\"\ncache = { ttl_seconds = 4000 }\n";
        assert!(GatewayConfig::from_toml(ttl).is_err());
        assert!(GatewayConfig::from_toml("typo = 1").is_err());
    }

    #[test]
    fn a_level_above_the_account_is_a_warning_not_an_error() {
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\nthrottle = { rate = 20000, burst = 100 }\n",
        )
        .unwrap();
        let warnings = config.validate().unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("above the account"));
    }
}
