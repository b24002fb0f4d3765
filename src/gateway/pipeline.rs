//! The request pipeline: `handle(request, now) → Outcome`, in this order (docs/gateway.md):
//! payload size → route exists → API key → throttling levels (usage-plan method, usage plan,
//! stage method or stage default, account) → quota → cache lookup → integration (timeout,
//! errors) → cache store. Time comes only from the caller.
//!
//! [`Pipeline::prepare`] resolves a request's names to bucket, quota and cache indices once;
//! [`Pipeline::handle_prepared`] is the integer-only hot path.

use std::hash::{Hash, Hasher};

use super::bucket::{Throttle, TokenBucket};
use super::cache::{CachedResponse, StageCache};
use super::config::{
    method_key, parse_day, ApiKind, ConsumptionPolicy, GatewayConfig, MethodSettings,
    QuotaCounting, Stage, StageDefaultBuckets, TimeoutIntegrationLatency, UnauthorizedCacheControl,
};
use super::quota::{date_ns, period_index, QuotaCounter};
use super::responses::{self, GatewayError};
use super::routes::Router;
use crate::facts::{HTTP_INTEGRATION_TIMEOUT_MS, REST_INTEGRATION_TIMEOUT_MS};
use crate::FastMap as HashMap;

const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// How long the backend takes to answer or fail, ms.
fn backend_latency(backend: Backend) -> u64 {
    match backend {
        Backend::Response { latency_ms, .. }
        | Backend::FunctionError { latency_ms }
        | Backend::InvokeRejected { latency_ms } => latency_ms,
    }
}

/// Largest request payload (bytes).
pub const MAX_PAYLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// A throttling level, in the order requests meet them; plus the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Usage plan, per method, per API key.
    UsagePlanMethod,
    /// Usage plan, per API key.
    UsagePlan,
    /// Stage, per-method override.
    StageMethod,
    /// Stage default (`*/*`).
    StageDefault,
    /// Account, per Region.
    Account,
    /// Usage-plan quota (not a bucket).
    Quota,
}

impl Level {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::UsagePlanMethod => "usage-plan-method",
            Level::UsagePlan => "usage-plan",
            Level::StageMethod => "stage-method",
            Level::StageDefault => "stage-default",
            Level::Account => "account",
            Level::Quota => "quota",
        }
    }
}

/// What the integration (backend) does with a request that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// It answers with `status` after `latency_ms`.
    Response {
        /// Status returned.
        status: u16,
        /// Time to answer, ms (at or beyond the timeout means a timeout).
        latency_ms: u64,
        /// Response size.
        bytes: u64,
    },
    /// Lambda ran but failed or returned a malformed proxy response.
    FunctionError {
        /// Time until the failure, ms.
        latency_ms: u64,
    },
    /// Lambda refused the invocation (its own throttling, missing permission).
    InvokeRejected {
        /// Time until the refusal, ms.
        latency_ms: u64,
    },
}

/// One request as the gateway sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayRequest<'a> {
    /// API id; empty when unknown (the stage is then looked up by name: the implicit API's,
    /// or the only API's with a stage of that name).
    pub api: &'a str,
    /// Stage name.
    pub stage: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Resource path template (REST) or route path (HTTP API), e.g. `/pets/{id}`.
    pub resource: &'a str,
    /// API key presented (`x-api-key` value, or the key ID).
    pub api_key: Option<&'a str>,
    /// Values of the method's cache key parameters, joined (empty when none).
    pub cache_key: &'a str,
    /// `Cache-Control: max-age=0` was sent.
    pub cache_control_max_age_0: bool,
    /// The caller may invalidate the cache (`execute-api:InvalidateCache`).
    pub may_invalidate_cache: bool,
    /// Request payload size.
    pub payload_bytes: u64,
    /// Gateway overhead for this request (ms); `None` = the configured default.
    pub overhead_ms: Option<u64>,
    /// What the backend does.
    pub backend: Backend,
}

/// Whether the cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    /// Caching does not apply to this method (or the request never got that far).
    NotCached,
    /// Served from the cache.
    Hit,
    /// Fetched from the backend (and stored).
    Miss,
    /// `Cache-Control: max-age=0` from an authorized client: fetched and replaced.
    Bypass,
}

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Status sent to the client.
    pub status: u16,
    /// Gateway response type, when the gateway produced the response.
    pub response_type: Option<&'static str>,
    /// Gateway error message (body `{"message": …}`).
    pub message: Option<&'static str>,
    /// The level that refused it (throttling or quota).
    pub refused_by: Option<Level>,
    /// Cache result.
    pub cache: CacheResult,
    /// `$context.responseLatency`, ms.
    pub latency_ms: u64,
    /// `$context.integrationLatency`, ms (`-1` if so configured for timeouts).
    pub integration_latency_ms: Option<i64>,
    /// Status the backend returned.
    pub integration_status: Option<u16>,
}

impl PreparedRequest {
    /// The integration timeout for this request, ms.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// The cache entry key, when caching applies.
    pub fn cache_key(&self) -> Option<u64> {
        self.cache.map(|c| c.key)
    }

    /// How long a response to this request stays cached, ns, when caching applies.
    pub fn cache_ttl_ns(&self) -> Option<u64> {
        self.cache.map(|c| c.ttl_ns)
    }

    /// The gateway overhead assumed, ms.
    pub fn overhead_ms(&self) -> u64 {
        self.overhead_ms
    }
}

impl Outcome {
    /// The outcome of a response the gateway sends itself.
    pub fn gateway(error: GatewayError, refused_by: Option<Level>, overhead_ms: u64) -> Outcome {
        Outcome {
            status: error.status,
            response_type: error.response_type,
            message: Some(error.message),
            refused_by,
            cache: CacheResult::NotCached,
            latency_ms: overhead_ms,
            integration_latency_ms: None,
            integration_status: None,
        }
    }

    /// The response body for gateway-generated responses.
    pub fn body(&self) -> Option<String> {
        self.message
            .map(|m| serde_json::json!({ "message": m }).to_string())
    }

    /// The access-log value of `$context.<name>` for this request, as API Gateway writes it
    /// (`-` for missing), for the variables the gateway decides; `None` for others.
    pub fn context_value(&self, request: &GatewayRequest<'_>, name: &str) -> Option<String> {
        let variable = ContextVariable::from_name(name)?;
        let mut number = String::new();
        Some(self.context_str(request, variable, &mut number).to_string())
    }

    /// The access-log value of `variable` for this request (`-` for missing); numbers are
    /// written into `buffer`, which is cleared first, and the rest borrowed.
    pub fn context_str<'a>(
        &'a self,
        request: &'a GatewayRequest<'a>,
        variable: ContextVariable,
        buffer: &'a mut String,
    ) -> &'a str {
        use std::fmt::Write;
        use ContextVariable as V;
        buffer.clear();
        fn number(buffer: &mut String, n: Option<i64>) -> &str {
            match n {
                Some(n) => {
                    let _ = write!(buffer, "{n}");
                    buffer
                }
                None => "-",
            }
        }
        match variable {
            V::Status => number(buffer, Some(i64::from(self.status))),
            V::ResponseLatency => number(buffer, Some(self.latency_ms as i64)),
            V::IntegrationLatency => number(buffer, self.integration_latency_ms),
            V::IntegrationStatus => number(buffer, self.integration_status.map(i64::from)),
            V::ResponseType => self.response_type.unwrap_or("-"),
            V::Message => self.message.unwrap_or("-"),
            V::MessageString => match self.message {
                Some(m) => {
                    let _ = write!(buffer, "\"{m}\"");
                    buffer
                }
                None => "-",
            },
            V::Stage => request.stage,
            V::HttpMethod => request.method,
            V::ResourcePath => request.resource,
            V::RouteKey => {
                let _ = write!(buffer, "{} {}", request.method, request.resource);
                buffer
            }
            V::ApiKeyId => request.api_key.unwrap_or("-"),
        }
    }
}

/// A `$context` variable of the access log whose value the gateway decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextVariable {
    /// `status`.
    Status,
    /// `responseLatency`.
    ResponseLatency,
    /// `integrationLatency` (`integration.latency`).
    IntegrationLatency,
    /// `integrationStatus` (`integration.status`).
    IntegrationStatus,
    /// `error.responseType`.
    ResponseType,
    /// `error.message`.
    Message,
    /// `error.messageString`: the message in double quotes.
    MessageString,
    /// `stage`.
    Stage,
    /// `httpMethod`.
    HttpMethod,
    /// `resourcePath`.
    ResourcePath,
    /// `routeKey`: method and resource.
    RouteKey,
    /// `identity.apiKeyId`.
    ApiKeyId,
}

impl ContextVariable {
    /// The variable `$context.<name>` names, if the gateway decides it.
    pub fn from_name(name: &str) -> Option<ContextVariable> {
        use ContextVariable as V;
        Some(match name {
            "status" => V::Status,
            "responseLatency" => V::ResponseLatency,
            "integrationLatency" | "integration.latency" => V::IntegrationLatency,
            "integrationStatus" | "integration.status" => V::IntegrationStatus,
            "error.responseType" => V::ResponseType,
            "error.message" => V::Message,
            "error.messageString" => V::MessageString,
            "stage" => V::Stage,
            "httpMethod" => V::HttpMethod,
            "resourcePath" => V::ResourcePath,
            "routeKey" => V::RouteKey,
            "identity.apiKeyId" => V::ApiKeyId,
            _ => return None,
        })
    }
}

/// What the gateway decided before the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The gateway answered itself (refusal, throttle, quota, cache hit).
    Answered(Outcome),
    /// Call the backend, then [`Pipeline::complete`].
    Forward(Forward),
}

/// A request the gateway lets through to the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    cache_result: CacheResult,
}

impl Forward {
    /// Whether the response will be a cache miss/bypass (stored after the call).
    pub fn cache_result(&self) -> CacheResult {
        self.cache_result
    }
}

/// A request resolved against the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreparedRequest {
    refusal: Option<GatewayError>,
    levels: [(Level, u32); 4],
    level_count: u8,
    quota: Option<u32>,
    cache: Option<CacheUse>,
    api: ApiKind,
    timeout_ms: u64,
    overhead_ms: u64,
    backend: Backend,
    invalidate: bool,
    may_invalidate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheUse {
    stage: u32,
    key: u64,
    ttl_ns: u64,
    require_authorization: bool,
    strategy: UnauthorizedCacheControl,
}

/// Which bucket: stages are API stages (an index per API id + stage name), so two APIs'
/// `prod` stages never share one; the account bucket is shared by every API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum BucketKey {
    Account,
    StageShared(u32),
    StageMethod(u32, u32),
    Plan(u32, u32),
    /// (plan, key, API stage, route): AWS keys method throttles `/resource/METHOD` under
    /// `apiId:stage`.
    PlanMethod(u32, u32, u32, u32),
}

/// Values by (resource, method), looked up without allocating; methods compare
/// case-insensitively.
#[derive(Debug, Clone)]
struct RouteMap<T> {
    by_resource: HashMap<String, Vec<(String, T)>>,
    len: usize,
}

impl<T> Default for RouteMap<T> {
    fn default() -> Self {
        RouteMap {
            by_resource: HashMap::default(),
            len: 0,
        }
    }
}

impl<T> RouteMap<T> {
    fn get(&self, resource: &str, method: &str) -> Option<&T> {
        self.by_resource
            .get(resource)?
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(method))
            .map(|(_, v)| v)
    }

    fn insert(&mut self, resource: &str, method: &str, value: T) {
        self.by_resource
            .entry(resource.to_string())
            .or_default()
            .push((method.to_ascii_uppercase(), value));
        self.len += 1;
    }
}

impl<T> FromIterator<((String, String), T)> for RouteMap<T> {
    fn from_iter<I: IntoIterator<Item = ((String, String), T)>>(iter: I) -> Self {
        let mut map = RouteMap::default();
        for ((resource, method), value) in iter {
            map.insert(&resource, &method, value);
        }
        map
    }
}

struct StageRuntime {
    config: Stage,
    methods: RouteMap<MethodSettings>,
    router: Router,
    cache: StageCache,
}

struct PlanRuntime {
    /// The plan's API stages with their method throttles.
    stages: Vec<(u32, RouteMap<Throttle>)>,
    throttle: Option<Throttle>,
}

struct QuotaState {
    plan: u32,
    key: u32,
    counter: Option<QuotaCounter>,
}

/// The gateway: configuration plus all bucket, quota and cache state.
pub struct Pipeline {
    config: GatewayConfig,
    stages: Vec<StageRuntime>,
    stage_index: HashMap<(String, String), u32>,
    plans: Vec<PlanRuntime>,
    key_index: HashMap<String, u32>,
    key_plans: Vec<Vec<u32>>,
    key_enabled: Vec<bool>,
    routes: RouteMap<u32>,
    buckets: Vec<TokenBucket>,
    bucket_index: HashMap<BucketKey, u32>,
    quotas: Vec<QuotaState>,
    quota_index: HashMap<(u32, u32), u32>,
}

impl Pipeline {
    /// A gateway with every bucket full, every quota unused and every cache empty.
    pub fn new(config: GatewayConfig) -> Pipeline {
        let mut pipeline = Pipeline {
            stages: Vec::new(),
            stage_index: HashMap::default(),
            plans: Vec::new(),
            key_index: HashMap::default(),
            key_plans: Vec::new(),
            key_enabled: Vec::new(),
            routes: RouteMap::default(),
            buckets: Vec::new(),
            bucket_index: HashMap::default(),
            quotas: Vec::new(),
            quota_index: HashMap::default(),
            config,
        };
        for stage in pipeline.config.stages.clone() {
            pipeline.add_stage(stage);
        }
        for plan in pipeline.config.usage_plans.clone() {
            let stages = plan
                .api_stages
                .iter()
                .map(|s| {
                    let methods = s
                        .methods
                        .iter()
                        .filter_map(|(k, t)| Some((method_key(k)?, *t)))
                        .collect();
                    (pipeline.stage_id(&s.api_id, &s.stage), methods)
                })
                .collect();
            pipeline.plans.push(PlanRuntime {
                stages,
                throttle: plan.throttle,
            });
        }
        for (i, key) in pipeline.config.api_keys.iter().enumerate() {
            pipeline.key_index.insert(key.id.clone(), i as u32);
            if let Some(value) = &key.value {
                pipeline.key_index.insert(value.clone(), i as u32);
            }
            let plans = key
                .usage_plans
                .iter()
                .filter_map(|p| pipeline.config.usage_plans.iter().position(|u| &u.id == p))
                .map(|p| p as u32)
                .collect();
            pipeline.key_plans.push(plans);
            pipeline.key_enabled.push(key.enabled);
        }
        pipeline
    }

    /// The ID of the API key a client presented (by value or by ID), if it is known.
    pub fn api_key_id(&self, presented: &str) -> Option<&str> {
        self.key_index
            .get(presented)
            .map(|i| self.config.api_keys[*i as usize].id.as_str())
    }

    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    fn add_stage(&mut self, stage: Stage) -> u32 {
        let id = self.stages.len() as u32;
        let methods = stage
            .methods
            .iter()
            .filter_map(|(k, s)| Some((method_key(k)?, s.clone())))
            .collect();
        let router = Router::new(stage.api, &stage.routes);
        let capacity = (stage.cache.size_gb * 1e9) as u64;
        self.stage_index
            .insert((stage.api_id.clone(), stage.name.clone()), id);
        self.stages.push(StageRuntime {
            config: stage,
            methods,
            router,
            cache: StageCache::new(capacity),
        });
        id
    }

    /// The API stage's index (see [`GatewayConfig::stage_index`] for an empty API id); a
    /// stage missing from the configuration gets the defaults (its API's kind, account
    /// throttle only, no cache).
    fn stage_id(&mut self, api: &str, name: &str) -> u32 {
        if let Some(id) = self.stage_index.get(&(api.to_string(), name.to_string())) {
            return *id;
        }
        if let Some(i) = self.config.stage_index(api, name) {
            return i as u32;
        }
        let kind = self.config.api_kind(api).unwrap_or_default();
        self.add_stage(Stage::new(api, name, kind))
    }

    fn route_id(&mut self, method: &str, resource: &str) -> u32 {
        if let Some(id) = self.routes.get(resource, method) {
            return *id;
        }
        let id = self.routes.len as u32;
        self.routes.insert(resource, method, id);
        id
    }

    fn bucket(&mut self, key: BucketKey, throttle: Throttle) -> u32 {
        if let Some(id) = self.bucket_index.get(&key) {
            return *id;
        }
        let id = self.buckets.len() as u32;
        self.buckets.push(TokenBucket::new(throttle));
        self.bucket_index.insert(key, id);
        id
    }

    /// Resolves a request's stage, route, key, plan, buckets, quota and cache slot.
    pub fn prepare(&mut self, request: &GatewayRequest<'_>) -> PreparedRequest {
        let stage_id = self.stage_id(request.api, request.stage);
        let options = self.config.options;
        let stage = &self.stages[stage_id as usize];
        let api = stage.config.api;
        // The route AWS would select (resource template and method, `ANY` or `$default`);
        // without configured routes, the request's own.
        let route: Result<(String, String), GatewayError> =
            match stage.router.select(request.method, request.resource) {
                Some(m) => Ok((m.method.to_string(), m.resource.to_string())),
                None if stage.router.is_empty() => {
                    Ok((request.method.to_string(), request.resource.to_string()))
                }
                None => Err(match api {
                    ApiKind::Rest => responses::MISSING_AUTHENTICATION_TOKEN,
                    ApiKind::Http => responses::HTTP_NOT_FOUND,
                    ApiKind::Websocket => responses::WEBSOCKET_NO_ROUTE,
                }),
            };
        let (route_method, route_resource) = match &route {
            Ok((m, r)) => (m.as_str(), r.as_str()),
            Err(_) => (request.method, request.resource),
        };
        let max_timeout = match api {
            ApiKind::Rest | ApiKind::Websocket => u64::MAX,
            ApiKind::Http => HTTP_INTEGRATION_TIMEOUT_MS,
        };
        let default_timeout = match api {
            ApiKind::Rest | ApiKind::Websocket => REST_INTEGRATION_TIMEOUT_MS,
            ApiKind::Http => HTTP_INTEGRATION_TIMEOUT_MS,
        };
        // Settings of the method as requested on the matched resource, else of the route's
        // method (e.g. `ANY`).
        let settings = stage
            .methods
            .get(route_resource, request.method)
            .or_else(|| stage.methods.get(route_resource, route_method))
            .cloned()
            .unwrap_or_default();
        let mut prepared = PreparedRequest {
            refusal: None,
            levels: [(Level::Account, 0); 4],
            level_count: 0,
            quota: None,
            cache: None,
            api,
            timeout_ms: settings
                .integration_timeout_ms
                .or(stage.config.integration_timeout_ms)
                .unwrap_or(default_timeout)
                .min(max_timeout),
            overhead_ms: request.overhead_ms.unwrap_or(options.overhead_ms),
            backend: request.backend,
            invalidate: request.cache_control_max_age_0,
            may_invalidate: request.may_invalidate_cache,
        };
        if request.payload_bytes > MAX_PAYLOAD_BYTES {
            prepared.refusal = Some(responses::REQUEST_TOO_LARGE);
            return prepared;
        }
        let (route_method, route_resource) = match route {
            Ok(found) => found,
            Err(refusal) => {
                prepared.refusal = Some(refusal);
                return prepared;
            }
        };
        let key_required = api.has_api_keys()
            && settings
                .api_key_required
                .unwrap_or(stage.config.api_key_required);
        let route_id = self.route_id(&route_method, &route_resource);
        let mut plan_key = None;
        if key_required {
            let key = request.api_key.and_then(|k| self.key_index.get(k)).copied();
            let plan = key.filter(|k| self.key_enabled[*k as usize]).and_then(|k| {
                self.key_plans[k as usize]
                    .iter()
                    .find(|p| {
                        self.plans[**p as usize]
                            .stages
                            .iter()
                            .any(|(s, _)| *s == stage_id)
                    })
                    .map(|p| (*p, k))
            });
            match plan {
                Some(found) => plan_key = Some(found),
                None => {
                    prepared.refusal = Some(responses::INVALID_API_KEY);
                    return prepared;
                }
            }
        }

        let mut levels: [Option<(Level, BucketKey, Throttle)>; 4] = [None; 4];
        let mut count = 0;
        let mut push = |level| {
            levels[count] = Some(level);
            count += 1;
        };
        if let Some((plan, key)) = plan_key {
            let p = &self.plans[plan as usize];
            let methods = p
                .stages
                .iter()
                .find(|(s, _)| *s == stage_id)
                .map(|(_, m)| m);
            if let Some(t) = methods.and_then(|m| {
                m.get(&route_resource, request.method)
                    .or_else(|| m.get(&route_resource, &route_method))
            }) {
                push((
                    Level::UsagePlanMethod,
                    BucketKey::PlanMethod(plan, key, stage_id, route_id),
                    *t,
                ));
            }
            if let Some(t) = p.throttle {
                push((Level::UsagePlan, BucketKey::Plan(plan, key), t));
            }
        }
        let stage = &self.stages[stage_id as usize];
        if let Some(t) = settings.throttle {
            push((
                Level::StageMethod,
                BucketKey::StageMethod(stage_id, route_id),
                t,
            ));
        } else if let Some(t) = stage.config.throttle {
            let key = match options.stage_default_buckets {
                StageDefaultBuckets::PerMethod => BucketKey::StageMethod(stage_id, route_id),
                StageDefaultBuckets::Shared => BucketKey::StageShared(stage_id),
            };
            push((Level::StageDefault, key, t));
        }
        let account = Throttle::new(self.config.account.rate, self.config.account.burst);
        push((Level::Account, BucketKey::Account, account));
        for (i, (level, key, throttle)) in levels.into_iter().flatten().enumerate() {
            prepared.levels[i] = (level, self.bucket(key, throttle));
            prepared.level_count = i as u8 + 1;
        }

        if let Some((plan, key)) = plan_key {
            if self.config.usage_plans[plan as usize].quota.is_some() {
                let next = self.quotas.len() as u32;
                let id = *self.quota_index.entry((plan, key)).or_insert(next);
                if id == next {
                    self.quotas.push(QuotaState {
                        plan,
                        key,
                        counter: None,
                    });
                }
                prepared.quota = Some(id);
            }
        }

        let stage = &self.stages[stage_id as usize];
        let cache = stage.config.cache;
        let caching = settings
            .caching
            .unwrap_or(cache.default_caching && request.method.eq_ignore_ascii_case("GET"));
        let ttl_seconds = settings.cache_ttl_seconds.unwrap_or(cache.ttl_seconds);
        if api == ApiKind::Rest && cache.enabled && caching && ttl_seconds > 0 {
            let mut hasher = std::hash::DefaultHasher::new();
            (route_id, request.cache_key).hash(&mut hasher);
            prepared.cache = Some(CacheUse {
                stage: stage_id,
                key: hasher.finish(),
                ttl_ns: ttl_seconds * 1_000_000_000,
                require_authorization: cache.require_authorization,
                strategy: cache.unauthorized_strategy,
            });
        }
        prepared
    }

    /// Handles one request at `now_ns` (nanoseconds on the caller's clock).
    pub fn handle(&mut self, request: &GatewayRequest<'_>, now_ns: u64) -> Outcome {
        let prepared = self.prepare(request);
        self.handle_prepared(&prepared, now_ns)
    }

    /// Handles a prepared request at `now_ns`.
    pub fn handle_prepared(&mut self, p: &PreparedRequest, now_ns: u64) -> Outcome {
        match self.admit(p, now_ns) {
            Admission::Answered(outcome) => outcome,
            Admission::Forward(forward) => self.complete(p, forward, p.backend, now_ns),
        }
    }

    /// The gateway's part before the integration: refusals, throttling, quota, cache
    /// lookup. A live gateway calls the backend after [`Admission::Forward`] and then
    /// [`complete`](Self::complete).
    pub fn admit(&mut self, p: &PreparedRequest, now_ns: u64) -> Admission {
        match self.admit_inner(p, now_ns) {
            Ok(forward) => Admission::Forward(forward),
            Err(outcome) => Admission::Answered(outcome),
        }
    }

    fn admit_inner(&mut self, p: &PreparedRequest, now_ns: u64) -> Result<Forward, Outcome> {
        if let Some(refusal) = p.refusal {
            return Err(Outcome::gateway(refusal, None, p.overhead_ms));
        }
        let levels = &p.levels[..p.level_count as usize];
        match self.config.options.consumption {
            ConsumptionPolicy::Sequential => {
                for &(level, bucket) in levels {
                    if !self.buckets[bucket as usize].try_admit(now_ns) {
                        return Err(Outcome::gateway(
                            responses::THROTTLED,
                            Some(level),
                            p.overhead_ms,
                        ));
                    }
                }
            }
            ConsumptionPolicy::AllOrNothing => {
                if let Some(&(level, _)) = levels
                    .iter()
                    .find(|(_, b)| !self.buckets[*b as usize].would_admit(now_ns))
                {
                    return Err(Outcome::gateway(
                        responses::THROTTLED,
                        Some(level),
                        p.overhead_ms,
                    ));
                }
            }
        }

        // The quota comes after every throttle level. Sequential: the tokens are already
        // taken, a quota refusal keeps them. All-or-nothing: the quota is one more check
        // before anything is taken, so a quota refusal takes no token.
        if let Some(q) = p.quota {
            if !self.quota_has_room(q, now_ns) {
                return Err(Outcome::gateway(
                    responses::QUOTA_EXCEEDED,
                    Some(Level::Quota),
                    p.overhead_ms,
                ));
            }
            if self.config.options.quota_counts == QuotaCounting::Admitted {
                self.quota_count(q);
            }
        }
        if self.config.options.consumption == ConsumptionPolicy::AllOrNothing {
            for &(_, bucket) in levels {
                self.buckets[bucket as usize].commit(now_ns);
            }
        }

        let mut cache_result = CacheResult::NotCached;
        if let Some(c) = p.cache {
            let authorized = !c.require_authorization || p.may_invalidate;
            if p.invalidate && authorized {
                cache_result = CacheResult::Bypass;
            } else if p.invalidate && c.strategy == UnauthorizedCacheControl::FailWith403 {
                return Err(Outcome::gateway(
                    responses::CACHE_INVALIDATION_DENIED,
                    None,
                    p.overhead_ms,
                ));
            } else if let Some(hit) = self.stages[c.stage as usize].cache.get(c.key, now_ns) {
                let outcome = Outcome {
                    status: hit.status,
                    response_type: None,
                    message: None,
                    refused_by: None,
                    cache: CacheResult::Hit,
                    latency_ms: p.overhead_ms,
                    integration_latency_ms: None,
                    integration_status: None,
                };
                self.count_successful(p, &outcome);
                return Err(outcome);
            } else {
                cache_result = CacheResult::Miss;
            }
        }
        Ok(Forward { cache_result })
    }

    /// The gateway's part after the integration answered (or hung): timeout, errors, cache
    /// store, quota counting.
    pub fn complete(
        &mut self,
        p: &PreparedRequest,
        forward: Forward,
        backend: Backend,
        now_ns: u64,
    ) -> Outcome {
        let mut outcome = self.integrate(p, backend);
        outcome.cache = forward.cache_result;
        if let (Some(c), Backend::Response { bytes, .. }) = (p.cache, backend) {
            if outcome.response_type.is_none() {
                let response = CachedResponse {
                    status: outcome.status,
                    bytes,
                };
                self.stages[c.stage as usize]
                    .cache
                    .put(c.key, response, now_ns, c.ttl_ns);
            }
        }
        self.count_successful(p, &outcome);
        outcome
    }

    fn count_successful(&mut self, p: &PreparedRequest, outcome: &Outcome) {
        if let Some(q) = p.quota {
            if self.config.options.quota_counts == QuotaCounting::Successful
                && (200..300).contains(&outcome.status)
            {
                self.quota_count(q);
            }
        }
    }

    fn quota_has_room(&mut self, id: u32, now_ns: u64) -> bool {
        let week_start = self.config.options.week_start;
        let state = &mut self.quotas[id as usize];
        let plan = &self.config.usage_plans[state.plan as usize];
        let settings = plan
            .quota
            .expect("quota slots exist only for plans with a quota");
        let counter = state.counter.get_or_insert_with(|| {
            let period = period_index(settings.period, now_ns, week_start);
            let first_period = plan
                .quota_start
                .as_deref()
                .and_then(parse_day)
                .and_then(date_ns)
                .map(|ns| period_index(settings.period, ns, week_start));
            // Use the key had before: the days of this period before today (get-usage
            // counts whole days, so today's earlier use is not known).
            let key = &self.config.api_keys[state.key as usize].id;
            let today = now_ns / NANOS_PER_DAY;
            let used = plan.usage.get(key).map_or(0, |days| {
                days.iter()
                    .filter_map(|(day, used)| Some((date_ns(parse_day(day)?)?, *used)))
                    .filter(|(ns, _)| {
                        ns / NANOS_PER_DAY < today
                            && period_index(settings.period, *ns, week_start) == period
                    })
                    .fold(0u64, |sum, (_, used)| sum.saturating_add(used))
            });
            QuotaCounter::new(&settings, now_ns, used, first_period, week_start)
        });
        counter.has_room(&settings, now_ns, week_start)
    }

    fn quota_count(&mut self, id: u32) {
        if let Some(counter) = &mut self.quotas[id as usize].counter {
            counter.count();
        }
    }

    fn integrate(&self, p: &PreparedRequest, backend: Backend) -> Outcome {
        let timeout_error = match p.api {
            ApiKind::Rest | ApiKind::Websocket => responses::INTEGRATION_TIMEOUT,
            ApiKind::Http => responses::HTTP_INTEGRATION_TIMEOUT,
        };
        // A failure that would arrive at or after the timeout is never seen: the gateway has
        // already answered with the timeout (504 before 502/500).
        if backend_latency(backend) >= p.timeout_ms {
            let logged = match self.config.options.timeout_integration_latency {
                TimeoutIntegrationLatency::Timeout => Some(p.timeout_ms as i64),
                TimeoutIntegrationLatency::Missing => None,
                TimeoutIntegrationLatency::MinusOne => Some(-1),
            };
            let mut outcome = Outcome::gateway(timeout_error, None, p.overhead_ms + p.timeout_ms);
            outcome.integration_latency_ms = logged;
            return outcome;
        }
        let (error, latency) = match backend {
            Backend::Response {
                status, latency_ms, ..
            } => {
                return Outcome {
                    status,
                    response_type: None,
                    message: None,
                    refused_by: None,
                    cache: CacheResult::NotCached,
                    latency_ms: p.overhead_ms + latency_ms,
                    integration_latency_ms: Some(latency_ms as i64),
                    integration_status: Some(status),
                };
            }
            Backend::FunctionError { latency_ms } => (
                match p.api {
                    ApiKind::Rest | ApiKind::Websocket => responses::FUNCTION_ERROR,
                    ApiKind::Http => responses::HTTP_INTERNAL_ERROR,
                },
                latency_ms,
            ),
            Backend::InvokeRejected { latency_ms } => (
                match p.api {
                    ApiKind::Rest | ApiKind::Websocket => responses::INVOKE_REJECTED,
                    ApiKind::Http => responses::HTTP_INTERNAL_ERROR,
                },
                latency_ms,
            ),
        };
        let mut outcome = Outcome::gateway(error, None, p.overhead_ms + latency);
        outcome.integration_latency_ms = Some(latency as i64);
        outcome.integration_status = Some(200);
        outcome
    }

    /// Takes one token from the account bucket at `now_ns` for a request of an API that is
    /// not replayed (the account bucket is shared by every API of the account); `false`
    /// when the bucket refused it.
    pub fn take_account_token(&mut self, now_ns: u64) -> bool {
        let account = Throttle::new(self.config.account.rate, self.config.account.burst);
        let id = self.bucket(BucketKey::Account, account);
        self.buckets[id as usize].try_admit(now_ns)
    }

    /// Whole tokens left in a level's bucket for a request, at `now_ns` (diagnostics).
    pub fn tokens(&self, p: &PreparedRequest, level: Level, now_ns: u64) -> Option<u64> {
        p.levels[..p.level_count as usize]
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, b)| self.buckets[*b as usize].tokens(now_ns))
    }

    /// The levels a prepared request passes through, in order.
    pub fn levels(p: &PreparedRequest) -> Vec<Level> {
        p.levels[..p.level_count as usize]
            .iter()
            .map(|(l, _)| *l)
            .collect()
    }
}
