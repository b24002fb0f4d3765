//! A small model of an API Gateway account written from AWS's documentation alone (not from
//! gwstat's code), used to check the gateway core on multi-API accounts:
//!
//! - "API Gateway throttles requests to your API using the token bucket algorithm, where a
//!   token counts for a request"; rate = tokens added per second, burst = bucket capacity.
//!   Here a bucket counts milli-tokens in integers (integer rates, whole milliseconds), so it
//!   is exact without sharing any arithmetic with the core's GCRA.
//! - Order (AWS FAQ): per-client per-method limits of a usage plan for an API stage, then
//!   per-client limits of the plan, then the stage's per-method limits (a method override,
//!   else the stage default, one bucket per method), then the account level, which is shared
//!   by every API of the account. Each refusing level answers 429; earlier levels keep the
//!   token they took (gwstat's default `sequential` reading).
//! - Usage plans cover API stages (API id + stage name); "a given API key can only be
//!   associated with one usage plan for each stage of your API"; a method that requires a
//!   key answers 403 to a missing key or one without a plan for the stage.
//! - Quota per key and plan, per UTC day, checked after throttling (429 "Limit Exceeded").

use std::collections::HashMap;

/// One token bucket in milli-tokens.
#[derive(Debug, Clone)]
struct Bucket {
    rate: u64,
    burst: u64,
    milli_tokens: u64,
    last_ms: u64,
}

impl Bucket {
    fn new(rate: u64, burst: u64, now_ms: u64) -> Bucket {
        Bucket {
            rate,
            burst,
            milli_tokens: burst * 1000,
            last_ms: now_ms,
        }
    }

    fn take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.milli_tokens = (self.milli_tokens + elapsed * self.rate).min(self.burst * 1000);
        self.last_ms = now_ms.max(self.last_ms);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// Per-method throttles: ((METHOD, resource), (rate, burst)).
pub type MethodThrottles = Vec<((&'static str, &'static str), (u64, u64))>;

/// An API stage of the model account.
#[derive(Debug, Clone)]
pub struct ModelStage {
    /// API id.
    pub api: &'static str,
    /// Stage name.
    pub stage: &'static str,
    /// Stage default (rate, burst), per method.
    pub default: Option<(u64, u64)>,
    /// Method overrides: (METHOD, resource) → (rate, burst).
    pub overrides: MethodThrottles,
    /// Methods need an API key.
    pub key_required: bool,
}

/// A usage plan of the model account.
#[derive(Debug, Clone)]
pub struct ModelPlan {
    /// (API id, stage) it covers, with per-method (METHOD, resource) throttles.
    pub stages: Vec<(&'static str, &'static str, MethodThrottles)>,
    /// Plan throttle per key.
    pub throttle: (u64, u64),
    /// Requests per UTC day per key.
    pub quota_per_day: Option<u64>,
    /// Keys in the plan.
    pub keys: Vec<&'static str>,
}

/// The model account.
#[derive(Debug, Clone)]
pub struct ModelAccount {
    /// Account (rate, burst).
    pub account: (u64, u64),
    /// Stages.
    pub stages: Vec<ModelStage>,
    /// Plans.
    pub plans: Vec<ModelPlan>,
}

/// What the model says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through.
    Ok,
    /// 403: no valid key with a plan for the stage.
    Forbidden,
    /// 429 by a throttle level.
    Throttled,
    /// 429 by the quota.
    Quota,
}

impl Verdict {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Verdict::Ok => 200,
            Verdict::Forbidden => 403,
            Verdict::Throttled | Verdict::Quota => 429,
        }
    }
}

/// The model's state.
pub struct Model {
    config: ModelAccount,
    buckets: HashMap<String, Bucket>,
    quota_used: HashMap<(usize, String, u64), u64>,
}

impl Model {
    /// Every bucket full, every quota unused.
    pub fn new(config: ModelAccount) -> Model {
        Model {
            config,
            buckets: HashMap::new(),
            quota_used: HashMap::new(),
        }
    }

    fn take(&mut self, name: String, (rate, burst): (u64, u64), now_ms: u64) -> bool {
        self.buckets
            .entry(name)
            .or_insert_with(|| Bucket::new(rate, burst, now_ms))
            .take(now_ms)
    }

    /// One request at `now_ms` (epoch ms).
    pub fn request(
        &mut self,
        api: &str,
        stage: &str,
        method: &str,
        resource: &str,
        key: Option<&str>,
        now_ms: u64,
    ) -> Verdict {
        let Some(s) = self
            .config
            .stages
            .iter()
            .find(|s| s.api == api && s.stage == stage)
            .cloned()
        else {
            panic!("model: no stage {api}:{stage}");
        };
        let mut levels: Vec<(String, (u64, u64))> = Vec::new();
        let mut plan_of_key = None;
        if s.key_required {
            let found = key.and_then(|k| {
                self.config.plans.iter().enumerate().find(|(_, p)| {
                    p.keys.contains(&k)
                        && p.stages.iter().any(|(a, st, _)| *a == api && *st == stage)
                })
            });
            let Some((index, plan)) = found else {
                return Verdict::Forbidden;
            };
            let key = key.unwrap_or_default();
            let (_, _, methods) = plan
                .stages
                .iter()
                .find(|(a, st, _)| *a == api && *st == stage)
                .unwrap();
            if let Some((_, t)) = methods.iter().find(|(m, _)| *m == (method, resource)) {
                levels.push((
                    format!("pm/{index}/{key}/{api}/{stage}/{method}{resource}"),
                    *t,
                ));
            }
            levels.push((format!("p/{index}/{key}"), plan.throttle));
            plan_of_key = Some((index, key.to_string(), plan.quota_per_day));
        }
        if let Some((_, t)) = s.overrides.iter().find(|(m, _)| *m == (method, resource)) {
            levels.push((format!("sm/{api}/{stage}/{method}{resource}"), *t));
        } else if let Some(t) = s.default {
            levels.push((format!("sm/{api}/{stage}/{method}{resource}"), t));
        }
        levels.push(("account".to_string(), self.config.account));
        for (name, throttle) in levels {
            if !self.take(name, throttle, now_ms) {
                return Verdict::Throttled;
            }
        }
        if let Some((plan, key, Some(limit))) = plan_of_key {
            let day = now_ms / 86_400_000;
            let used = self.quota_used.entry((plan, key, day)).or_default();
            if *used >= limit {
                return Verdict::Quota;
            }
            *used += 1;
        }
        Verdict::Ok
    }
}

/// Three APIs: two REST APIs with a `prod` stage each, one of them also `beta`, and an HTTP
/// API; keys in plans across the REST APIs. Rates and bursts are the parameters.
pub fn three_apis(p: [u64; 10]) -> (ModelAccount, String) {
    let model = ModelAccount {
        account: (p[0], p[1]),
        stages: vec![
            ModelStage {
                api: "pets000001",
                stage: "prod",
                default: Some((p[2], p[3])),
                overrides: vec![],
                key_required: true,
            },
            ModelStage {
                api: "orders0002",
                stage: "prod",
                default: None,
                overrides: vec![(("POST", "/orders"), (p[4], p[5]))],
                key_required: true,
            },
            ModelStage {
                api: "orders0002",
                stage: "beta",
                default: None,
                overrides: vec![],
                key_required: true,
            },
            ModelStage {
                api: "web0000003",
                stage: "$default",
                default: Some((p[6], p[7])),
                overrides: vec![],
                key_required: false,
            },
        ],
        plans: vec![
            ModelPlan {
                stages: vec![
                    ("pets000001", "prod", vec![]),
                    (
                        "orders0002",
                        "prod",
                        vec![(("GET", "/orders"), (1, p[9].min(3)))],
                    ),
                ],
                throttle: (p[8], p[9]),
                quota_per_day: Some(40),
                keys: vec!["key1", "key2"],
            },
            ModelPlan {
                stages: vec![("orders0002", "beta", vec![])],
                throttle: (p[8] + 1, p[9] + 1),
                quota_per_day: None,
                keys: vec!["key1"],
            },
        ],
    };
    let toml = format!(
        r#"
[account]
rate = {a_rate}
burst = {a_burst}

[[apis]]
id = "pets000001"
kind = "rest"
[[apis.stages]]
name = "prod"
api_key_required = true
throttle = {{ rate = {p2}, burst = {p3} }}

[[apis]]
id = "orders0002"
kind = "rest"
[[apis.stages]]
name = "prod"
api_key_required = true
[apis.stages.methods."/orders/POST"]
throttle = {{ rate = {p4}, burst = {p5} }}
[[apis.stages]]
name = "beta"
api_key_required = true

[[apis]]
id = "web0000003"
kind = "http"
[[apis.stages]]
name = "$default"
throttle = {{ rate = {p6}, burst = {p7} }}

[[usage_plans]]
id = "gold"
throttle = {{ rate = {p8}, burst = {p9} }}
quota = {{ limit = 40, period = "DAY" }}
api_stages = [
  {{ api_id = "pets000001", stage = "prod" }},
  {{ api_id = "orders0002", stage = "prod", methods = {{ "/orders/GET" = {{ rate = 1, burst = {pm} }} }} }},
]

[[usage_plans]]
id = "beta"
throttle = {{ rate = {q8}, burst = {q9} }}
api_stages = [{{ api_id = "orders0002", stage = "beta" }}]

[[api_keys]]
id = "key1"
usage_plans = ["gold", "beta"]
[[api_keys]]
id = "key2"
usage_plans = ["gold"]
"#,
        a_rate = p[0],
        a_burst = p[1],
        p2 = p[2],
        p3 = p[3],
        p4 = p[4],
        p5 = p[5],
        p6 = p[6],
        p7 = p[7],
        p8 = p[8],
        p9 = p[9],
        pm = p[9].min(3),
        q8 = p[8] + 1,
        q9 = p[9] + 1,
    );
    (model, toml)
}

/// The request targets the tests draw from: (API id, stage, METHOD, resource).
pub const TARGETS: [(&str, &str, &str, &str); 7] = [
    ("pets000001", "prod", "GET", "/pets"),
    ("pets000001", "prod", "POST", "/pets"),
    ("orders0002", "prod", "GET", "/orders"),
    ("orders0002", "prod", "POST", "/orders"),
    ("orders0002", "beta", "GET", "/orders"),
    ("web0000003", "$default", "GET", "/"),
    ("web0000003", "$default", "POST", "/items"),
];

/// The keys the tests draw from.
pub const KEYS: [Option<&str>; 4] = [Some("key1"), Some("key2"), None, Some("unknown")];
