//! Advice that can be pasted: for every limit that refused requests when the recorded traffic
//! is replayed, the current value and a proposed one, why, the 429s predicted after the change
//! (by replaying every request again with it — never a formula), and what applies it: the
//! `--set` for `gwstat replay`, the `gateway.toml` lines and the AWS CLI command.
//!
//! When one API key sends most of the traffic a stage or method limit refused, raising that
//! limit would only give the key more room: the advice is then per key, in its usage plan.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use super::limits::Limits;
use super::limits::{plan_of, with_logged_stages};
use super::suggest::{sized, SuggestOptions};
use super::{replay, Recorded, ReplayOptions};
use crate::gateway::config::{method_key, ApiKind, GatewayConfig, Stage};
use crate::gateway::quota::{period_index, Period};
use crate::gateway::Throttle;

/// Share of a scope's traffic, in the seconds where it refused requests, above which one API
/// key counts as the cause (advice per key instead of a stage or method raise).
pub const CONCENTRATED_SHARE: f64 = 0.5;

/// One proposed change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    /// `stage`, `method`, `usage_plan`, `quota` or `account`: where the change is made.
    pub level: &'static str,
    /// What changes: stage (`apiId:stage` when the API is known), `stage METHOD /resource`,
    /// usage plan id, or `account`.
    pub target: String,
    /// The limit that refused the requests, as the replay names it (`stage-default`,
    /// `stage-method`, `usage-plan`, `quota`, `account`).
    pub refused_at: &'static str,
    /// The API key the refused traffic concentrates on, when one key has most of it.
    pub api_key: Option<String>,
    /// Values now.
    pub current: Limits,
    /// Values proposed.
    pub proposed: Limits,
    /// Why, with the numbers.
    pub reason: String,
    /// Requests this limit refused in the replay with the current configuration.
    pub refused_now: u64,
    /// 429s of the whole replay with the current configuration.
    pub predicted_429_now: u64,
    /// 429s of the whole replay with this change alone.
    pub predicted_429_after: u64,
    /// Refusals per level with this change alone (levels: as `refused_at`).
    pub after_by_level: BTreeMap<String, u64>,
    /// `PATH=VALUE` settings that make the change in `gwstat replay --set`.
    pub set: Vec<String>,
    /// The `gateway.toml` lines with the new values.
    pub gateway_toml: String,
    /// The AWS CLI command that makes the change (none for the account limit, which AWS
    /// raises on request).
    pub aws_cli: Option<String>,
    /// What to know before applying it.
    pub note: Option<String>,
}

/// Every change the replay supports, and what they do together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdviceReport {
    /// Requests replayed.
    pub requests: u64,
    /// 429s predicted with the current configuration.
    pub predicted_429_now: u64,
    /// Refusals per level with the current configuration.
    pub now_by_level: BTreeMap<String, u64>,
    /// 429s predicted with every change applied.
    pub predicted_429_after_all: u64,
    /// The changes, most refusals first.
    pub advice: Vec<Advice>,
    /// Refusals at levels no advice covers (e.g. `usage-plan-method`), per level.
    pub not_covered: BTreeMap<&'static str, u64>,
    /// The outcome in one sentence.
    pub conclusion: String,
}

/// Where a replay refused requests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Stage(usize),
    Method(usize, Arc<str>, Arc<str>),
    Plan(usize),
    Quota(usize),
    Account,
    Other(&'static str),
}

/// Predicted 429s, in all and per refusing level, with `sets` applied to `base` (`None` when
/// a setting does not apply).
fn predicted_429(
    requests: &[Recorded],
    base: &GatewayConfig,
    options: &ReplayOptions,
    sets: &[String],
) -> Option<(u64, BTreeMap<String, u64>)> {
    let mut variant = base.clone();
    for set in sets {
        super::whatif::apply(&mut variant, set).ok()?;
    }
    let report = replay(requests, &variant, options, 0, |_| {});
    Some((
        report.totals.predicted_429,
        report
            .by_level
            .into_iter()
            .map(|l| (l.level, l.refused))
            .collect(),
    ))
}

/// Quotes `text` for a POSIX shell when it holds anything but plain characters.
fn shell(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The `gateway.toml` header lines that open `stage` (in its `[[apis]]` entry when it has
/// an API id) and the table prefix its method settings use.
fn stage_toml(stage: &Stage) -> (String, &'static str) {
    let kind = match stage.api {
        ApiKind::Rest => None,
        ApiKind::Http => Some("\"http\""),
        ApiKind::Websocket => Some("\"websocket\""),
    };
    if stage.api_id.is_empty() {
        let mut out = format!("[[stages]]\nname = {}\n", toml_string(&stage.name));
        if let Some(kind) = kind {
            out.push_str(&format!("api = {kind}\n"));
        }
        (out, "stages")
    } else {
        let mut out = format!("[[apis]]\nid = {}\n", toml_string(&stage.api_id));
        if let Some(kind) = kind {
            out.push_str(&format!("kind = {kind}\n"));
        }
        out.push_str(&format!(
            "[[apis.stages]]\nname = {}\n",
            toml_string(&stage.name)
        ));
        (out, "apis.stages")
    }
}

fn throttle_toml(rate: u64, burst: u64) -> String {
    format!("throttle = {{ rate = {rate}, burst = {burst} }}\n")
}

/// The API id to put in an AWS CLI command, and a note when the logs did not carry it.
fn api_id(stage: &Stage) -> (String, Option<String>) {
    if stage.api_id.is_empty() {
        (
            "API_ID".to_string(),
            Some(
                "the logs do not name the API: put its id for API_ID (or give --api to gwstat)"
                    .to_string(),
            ),
        )
    } else {
        (stage.api_id.clone(), None)
    }
}

/// `aws apigateway update-stage` (REST) or `aws apigatewayv2 update-stage` (HTTP,
/// WebSocket) setting the stage default throttle, or one method's (`route` = (METHOD,
/// resource)).
fn stage_cli(stage: &Stage, route: Option<(&str, &str)>, rate: u64, burst: u64) -> String {
    let (id, _) = api_id(stage);
    match stage.api {
        ApiKind::Rest => {
            // JSON Pointer: a `/` inside the resource path is written `~1`.
            let prefix = match route {
                None => "/*/*".to_string(),
                Some((method, resource)) => format!("/{}/{method}", resource.replace('/', "~1")),
            };
            format!(
                "aws apigateway update-stage --rest-api-id {} --stage-name {} --patch-operations {} {}",
                shell(&id),
                shell(&stage.name),
                shell(&format!("op=replace,path={prefix}/throttling/rateLimit,value={rate}")),
                shell(&format!("op=replace,path={prefix}/throttling/burstLimit,value={burst}")),
            )
        }
        ApiKind::Http | ApiKind::Websocket => {
            let settings = match route {
                None => format!(
                    "--default-route-settings {}",
                    shell(&format!(
                        "ThrottlingBurstLimit={burst},ThrottlingRateLimit={rate}"
                    ))
                ),
                Some((method, resource)) => {
                    let key = if resource.starts_with('$') {
                        resource.to_string()
                    } else {
                        format!("{method} {resource}")
                    };
                    let json = serde_json::json!({
                        key: { "ThrottlingBurstLimit": burst, "ThrottlingRateLimit": rate }
                    });
                    format!("--route-settings {}", shell(&json.to_string()))
                }
            };
            format!(
                "aws apigatewayv2 update-stage --api-id {} --stage-name {} {settings}",
                shell(&id),
                shell(&stage.name),
            )
        }
    }
}

fn plan_cli(plan: &str, ops: &[(&str, u64)]) -> String {
    let ops: Vec<String> = ops
        .iter()
        .map(|(path, value)| shell(&format!("op=replace,path={path},value={value}")))
        .collect();
    format!(
        "aws apigateway update-usage-plan --usage-plan-id {} --patch-operations {}",
        shell(plan),
        ops.join(" ")
    )
}

/// The API key with the largest share of `requests` (indices) and that share.
fn top_key(requests: &[Recorded], indices: &[usize]) -> Option<(Arc<str>, f64)> {
    let mut by_key: BTreeMap<&Arc<str>, u64> = BTreeMap::new();
    for &i in indices {
        if let Some(k) = &requests[i].api_key {
            *by_key.entry(k).or_default() += 1;
        }
    }
    let (key, n) = by_key
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
    Some((key.clone(), n as f64 / indices.len().max(1) as f64))
}

/// The requests of `members` that fall in a second where one of `refused` was refused.
fn in_refused_seconds(requests: &[Recorded], members: &[usize], refused: &[usize]) -> Vec<usize> {
    let seconds: std::collections::BTreeSet<i64> = refused
        .iter()
        .map(|&i| requests[i].time_ms.div_euclid(1000))
        .collect();
    members
        .iter()
        .copied()
        .filter(|&i| seconds.contains(&requests[i].time_ms.div_euclid(1000)))
        .collect()
}

fn times(requests: &[Recorded], indices: &[usize]) -> Vec<i64> {
    indices.iter().map(|&i| requests[i].time_ms).collect()
}

fn pct(part: f64) -> String {
    format!("{:.0} %", part * 100.0)
}

/// What refused each request, and which requests belong to which stage, method, plan.
struct Attribution {
    refused: BTreeMap<Scope, Vec<usize>>,
    stage_members: BTreeMap<usize, Vec<usize>>,
    method_members: BTreeMap<(usize, Arc<str>, Arc<str>), Vec<usize>>,
    plan_members: BTreeMap<usize, Vec<usize>>,
}

fn attribute(requests: &[Recorded], base: &GatewayConfig, levels: &[Option<&str>]) -> Attribution {
    let mut a = Attribution {
        refused: BTreeMap::new(),
        stage_members: BTreeMap::new(),
        method_members: BTreeMap::new(),
        plan_members: BTreeMap::new(),
    };
    for (i, (r, level)) in requests.iter().zip(levels).enumerate() {
        let Some(stage) = base.stage_index(&r.api, &r.stage) else {
            continue;
        };
        let plan = r.api_key.as_deref().and_then(|k| plan_of(base, k, stage));
        a.stage_members.entry(stage).or_default().push(i);
        a.method_members
            .entry((stage, r.method.clone(), r.resource.clone()))
            .or_default()
            .push(i);
        if let Some(p) = plan {
            a.plan_members.entry(p).or_default().push(i);
        }
        let scope = match *level {
            None => continue,
            Some("stage-default") => Scope::Stage(stage),
            Some("stage-method") => Scope::Method(stage, r.method.clone(), r.resource.clone()),
            Some("usage-plan") => plan.map_or(Scope::Other("usage-plan"), Scope::Plan),
            Some("quota") => plan.map_or(Scope::Other("quota"), Scope::Quota),
            Some("account") => Scope::Account,
            Some("usage-plan-method") => Scope::Other("usage-plan-method"),
            Some(_) => Scope::Other("other"),
        };
        a.refused.entry(scope).or_default().push(i);
    }
    a
}

/// Advice for every limit that refused requests when `requests` (time-ordered) are replayed
/// through `config`. Rates and bursts are sized as `limits suggest` sizes them; each change
/// is then proven by replaying all requests with it.
pub fn advise(
    requests: &[Recorded],
    config: &GatewayConfig,
    replay_options: &ReplayOptions,
    sizing: &SuggestOptions,
) -> AdviceReport {
    let base = with_logged_stages(config, requests);
    let mut levels: Vec<Option<&str>> = Vec::with_capacity(requests.len());
    let baseline = replay(requests, &base, replay_options, 0, |v| levels.push(v.level));
    let now = baseline.totals.predicted_429;
    let now_by_level: BTreeMap<String, u64> = baseline
        .by_level
        .into_iter()
        .map(|l| (l.level, l.refused))
        .collect();
    let attribution = attribute(requests, &base, &levels);
    let account_rate = base.account.rate.as_f64().floor() as u64;
    let account_burst = base.account.burst;
    let mut advice: Vec<Advice> = Vec::new();
    let mut not_covered: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (scope, refused) in &attribution.refused {
        let made = match scope {
            Scope::Stage(stage) => bucket_advice(
                requests,
                &base,
                &attribution,
                sizing,
                *stage,
                None,
                refused,
                (account_rate, account_burst),
            ),
            Scope::Method(stage, method, resource) => bucket_advice(
                requests,
                &base,
                &attribution,
                sizing,
                *stage,
                Some((method, resource)),
                refused,
                (account_rate, account_burst),
            ),
            Scope::Plan(plan) => Some(plan_advice(
                requests,
                &base,
                &attribution,
                sizing,
                *plan,
                refused,
                (account_rate, account_burst),
            )),
            Scope::Quota(plan) => {
                quota_advice(requests, &base, &attribution, sizing, *plan, refused)
            }
            Scope::Account => Some(account_advice(requests, &base, sizing, refused)),
            Scope::Other(level) => {
                *not_covered.entry(level).or_default() += refused.len() as u64;
                None
            }
        };
        if let Some(mut a) = made {
            // Two stages concentrated on one key propose the same plan: keep the first.
            if advice
                .iter()
                .any(|b| b.level == a.level && b.target == a.target)
            {
                continue;
            }
            a.refused_now = refused.len() as u64;
            a.predicted_429_now = now;
            (a.predicted_429_after, a.after_by_level) =
                predicted_429(requests, &base, replay_options, &a.set)
                    .unwrap_or_else(|| (now, now_by_level.clone()));
            advice.push(a);
        }
    }
    advice.sort_by(|a, b| {
        b.refused_now
            .cmp(&a.refused_now)
            .then(a.target.cmp(&b.target))
    });
    let all: Vec<String> = advice.iter().flat_map(|a| a.set.clone()).collect();
    let after_all = if advice.is_empty() {
        now
    } else {
        predicted_429(requests, &base, replay_options, &all).map_or(now, |(n, _)| n)
    };
    let conclusion = conclusion(requests.len() as u64, now, after_all, &advice, &not_covered);
    AdviceReport {
        requests: requests.len() as u64,
        predicted_429_now: now,
        now_by_level,
        predicted_429_after_all: after_all,
        advice,
        not_covered,
        conclusion,
    }
}

fn conclusion(
    requests: u64,
    now: u64,
    after: u64,
    advice: &[Advice],
    not_covered: &BTreeMap<&'static str, u64>,
) -> String {
    let uncovered: u64 = not_covered.values().sum();
    if now == 0 {
        return format!("No limit refused any of the {requests} requests: nothing to raise.");
    }
    if advice.is_empty() {
        return format!(
            "{now} predicted 429s, all at levels this advice does not cover ({}).",
            not_covered.keys().copied().collect::<Vec<_>>().join(", ")
        );
    }
    let mut text = format!(
        "Applying the {} change{} takes the predicted 429s from {now} to {after}",
        advice.len(),
        if advice.len() == 1 { "" } else { "s" }
    );
    if uncovered > 0 {
        text.push_str(&format!(
            "; {uncovered} refusals are at levels without advice ({})",
            not_covered.keys().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    text.push('.');
    text
}

/// A stage default or stage method limit: raise it, or — when one key sends most of the
/// traffic in the seconds it refused — cap that key in its usage plan instead.
#[allow(clippy::too_many_arguments)]
fn bucket_advice(
    requests: &[Recorded],
    base: &GatewayConfig,
    attribution: &Attribution,
    sizing: &SuggestOptions,
    stage_index: usize,
    route: Option<(&Arc<str>, &Arc<str>)>,
    refused: &[usize],
    (account_rate, account_burst): (u64, u64),
) -> Option<Advice> {
    let stage = &base.stages[stage_index];
    let label = stage.label();
    let empty = Vec::new();
    let (members, current, target, set_prefix, level, refused_at) = match route {
        None => (
            attribution
                .stage_members
                .get(&stage_index)
                .unwrap_or(&empty),
            stage.throttle?,
            label.clone(),
            format!("stage.{label}"),
            "stage",
            "stage-default",
        ),
        Some((method, resource)) => {
            let key = stage
                .methods
                .iter()
                .find(|(k, m)| {
                    m.throttle.is_some()
                        && method_key(k).is_some_and(|(r, m)| *r == **resource && *m == **method)
                })
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| format!("{resource}/{method}"));
            (
                attribution
                    .method_members
                    .get(&(stage_index, method.clone(), resource.clone()))
                    .unwrap_or(&empty),
                stage
                    .methods
                    .get(&key)
                    .and_then(|m| m.throttle)
                    .or(stage.throttle)?,
                format!("{label} {method} {resource}"),
                format!("stage.{label}.method.{key}"),
                "method",
                "stage-method",
            )
        }
    };
    let peak = in_refused_seconds(requests, members, refused);
    let concentrated = top_key(requests, &peak).filter(|(_, share)| *share >= CONCENTRATED_SHARE);
    if let Some((key, share)) = &concentrated {
        if let Some(plan) = plan_of(base, key, stage_index) {
            // Cap the key so the others' traffic fits under the limit as it is.
            let others: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| requests[i].api_key.as_ref() != Some(key))
                .collect();
            let other = sized("", String::new(), &times(requests, &others), sizing);
            let current_rate = current.rate.as_f64().floor() as u64;
            let (cap_rate, cap_burst) = if others.is_empty() {
                (current_rate.max(1), current.burst.max(1))
            } else {
                (
                    current_rate.saturating_sub(other.rate).max(1),
                    current.burst.saturating_sub(other.burst).max(1),
                )
            };
            let p = &base.usage_plans[plan];
            let already = p
                .throttle
                .is_some_and(|t| t.rate.as_f64() <= cap_rate as f64 && t.burst <= cap_burst);
            if !already {
                let mut a = plan_throttle_advice(base, plan, cap_rate, cap_burst);
                a.refused_at = refused_at;
                a.api_key = Some(key.to_string());
                a.reason = format!(
                    "{} of {target}'s requests in the seconds its limit ({}/{}) refused {} come from key {key}: raising {target} would give that key more room; capped at {cap_rate} rps / {cap_burst} burst in its usage plan {}, the other keys' traffic (p{} {:.1} rps, sized {} / {}) fits under {target}'s limit",
                    pct(*share),
                    current.rate,
                    current.burst,
                    refused.len(),
                    p.id,
                    sizing.percentile,
                    other.percentile_rps,
                    other.rate,
                    other.burst
                );
                return Some(a);
            }
        }
    }
    // A stage default is one bucket per method unless configured as shared: size it for the
    // busiest method then.
    let per_method = route.is_none()
        && base.options.stage_default_buckets
            == crate::gateway::config::StageDefaultBuckets::PerMethod;
    let s = if per_method {
        let mut groups: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
        for &i in members {
            groups
                .entry((&requests[i].method, &requests[i].resource))
                .or_default()
                .push(requests[i].time_ms);
        }
        groups
            .values()
            .map(|t| sized("", String::new(), t, sizing))
            .max_by(|a, b| (a.rate, a.burst).cmp(&(b.rate, b.burst)))
            .unwrap_or_else(|| sized("", String::new(), &[], sizing))
    } else {
        sized("", String::new(), &times(requests, members), sizing)
    };
    let rate = (current.rate.as_f64().ceil() as u64)
        .max(s.rate)
        .min(account_rate.max(1));
    let burst = current.burst.max(s.burst).min(account_burst.max(1));
    let mut toml = stage_toml(stage).0;
    let (cli_route, note) = match route {
        None => {
            toml.push_str(&throttle_toml(rate, burst));
            (None, None)
        }
        Some((method, resource)) => {
            let (_, table) = stage_toml(stage);
            let key = set_prefix.rsplit_once(".method.").map_or("", |(_, k)| k);
            toml.push_str(&format!("[{table}.methods.{}]\n", toml_string(key)));
            toml.push_str(&throttle_toml(rate, burst));
            (Some((&**method, &**resource)), None::<String>)
        }
    };
    let mut reason = format!(
        "{} requests refused by {target}'s limit {} rps / {} burst; {}'s p{} second holds {:.1} requests (busiest {}), and a burst of {} admits every request at {} rps (sizes include {:.0} % headroom)",
        refused.len(),
        current.rate,
        current.burst,
        if per_method { "its busiest method" } else { "its traffic" },
        sizing.percentile,
        s.percentile_rps,
        s.max_rps,
        s.burst,
        s.rate,
        sizing.headroom * 100.0
    );
    if let Some((key, share)) = &concentrated {
        reason.push_str(&format!(
            "; {} of the traffic in the refused seconds is key {key}, which no usage plan on this stage caps: a plan of its own would limit it alone",
            pct(*share)
        ));
    }
    if rate == account_rate || burst == account_burst {
        reason.push_str("; held at the account limit, which no stage may exceed");
    }
    Some(Advice {
        level,
        target,
        refused_at,
        api_key: concentrated.map(|(k, _)| k.to_string()),
        current: Limits::from(current),
        proposed: Limits::throttle(rate, burst),
        reason,
        refused_now: 0,
        predicted_429_now: 0,
        predicted_429_after: 0,
        after_by_level: BTreeMap::new(),
        set: vec![
            format!("{set_prefix}.rate={rate}"),
            format!("{set_prefix}.burst={burst}"),
        ],
        gateway_toml: toml,
        aws_cli: Some(stage_cli(stage, cli_route, rate, burst)),
        note: note.or_else(|| api_id(stage).1),
    })
}

/// A change to usage plan `plan`'s per-key throttle (reason and counts filled by the caller).
fn plan_throttle_advice(base: &GatewayConfig, plan: usize, rate: u64, burst: u64) -> Advice {
    let p = &base.usage_plans[plan];
    let keys = base
        .api_keys
        .iter()
        .filter(|k| k.usage_plans.contains(&p.id))
        .count();
    Advice {
        level: "usage_plan",
        target: p.id.clone(),
        refused_at: "usage-plan",
        api_key: None,
        current: p.throttle.map(Limits::from).unwrap_or_default(),
        proposed: Limits::throttle(rate, burst),
        reason: String::new(),
        refused_now: 0,
        predicted_429_now: 0,
        predicted_429_after: 0,
        after_by_level: BTreeMap::new(),
        set: vec![
            format!("usage_plan.{}.rate={rate}", p.id),
            format!("usage_plan.{}.burst={burst}", p.id),
        ],
        gateway_toml: format!(
            "[[usage_plans]]\nid = {}\n{}",
            toml_string(&p.id),
            throttle_toml(rate, burst)
        ),
        aws_cli: Some(plan_cli(
            &p.id,
            &[("/throttle/rateLimit", rate), ("/throttle/burstLimit", burst)],
        )),
        note: (keys > 1).then(|| {
            format!(
                "the limit is per key: each of the plan's {keys} keys gets it; to change one key alone, give it a usage plan of its own"
            )
        }),
    }
}

fn plan_advice(
    requests: &[Recorded],
    base: &GatewayConfig,
    attribution: &Attribution,
    sizing: &SuggestOptions,
    plan: usize,
    refused: &[usize],
    (account_rate, account_burst): (u64, u64),
) -> Advice {
    let p = &base.usage_plans[plan];
    let members = attribution
        .plan_members
        .get(&plan)
        .cloned()
        .unwrap_or_default();
    // The limit is per key: size it for the busiest refused key.
    let mut per_key: BTreeMap<Arc<str>, Vec<i64>> = BTreeMap::new();
    for &i in &members {
        if let Some(k) = &requests[i].api_key {
            per_key
                .entry(k.clone())
                .or_default()
                .push(requests[i].time_ms);
        }
    }
    let (key, share) = top_key(requests, refused).unwrap_or((Arc::from(""), 0.0));
    let s = sized(
        "",
        String::new(),
        per_key.get(&key).map_or(&[][..], |v| v),
        sizing,
    );
    let current = p.throttle;
    let rate = current
        .map_or(0, |t| t.rate.as_f64().ceil() as u64)
        .max(s.rate)
        .min(account_rate.max(1));
    let burst = current
        .map_or(0, |t| t.burst)
        .max(s.burst)
        .min(account_burst.max(1));
    let mut a = plan_throttle_advice(base, plan, rate, burst);
    a.api_key = (share >= CONCENTRATED_SHARE).then(|| key.to_string());
    a.reason = format!(
        "{} requests refused by usage plan {}'s per-key limit {}; {} of them from key {key}, whose p{} second holds {:.1} requests (busiest {}), and a burst of {} admits all its requests at {} rps (sizes include {:.0} % headroom)",
        refused.len(),
        p.id,
        current.map_or("(none)".to_string(), |t| format!("{} rps / {} burst", t.rate, t.burst)),
        pct(share),
        sizing.percentile,
        s.percentile_rps,
        s.max_rps,
        s.burst,
        s.rate,
        sizing.headroom * 100.0
    );
    a
}

fn quota_advice(
    requests: &[Recorded],
    base: &GatewayConfig,
    attribution: &Attribution,
    sizing: &SuggestOptions,
    plan: usize,
    refused: &[usize],
) -> Option<Advice> {
    let p = &base.usage_plans[plan];
    let quota = p.quota?;
    let members = attribution
        .plan_members
        .get(&plan)
        .cloned()
        .unwrap_or_default();
    // Requests per key per quota period: the quota must hold the busiest.
    let mut counts: BTreeMap<(Arc<str>, i64), u64> = BTreeMap::new();
    for &i in &members {
        if let Some(k) = &requests[i].api_key {
            let ns = u64::try_from(requests[i].time_ms).unwrap_or(0) * 1_000_000;
            let period = period_index(quota.period, ns, base.options.week_start);
            *counts.entry((k.clone(), period)).or_default() += 1;
        }
    }
    let ((key, _), busiest) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, n)| (k.clone(), *n))?;
    let limit = ((busiest as f64 * (1.0 + sizing.headroom)).ceil() as u64).max(quota.limit);
    let period = match quota.period {
        Period::Day => "DAY",
        Period::Week => "WEEK",
        Period::Month => "MONTH",
    };
    let mut toml = format!(
        "[[usage_plans]]\nid = {}\nquota = {{ limit = {limit}, period = \"{period}\"",
        toml_string(&p.id)
    );
    if quota.offset > 0 {
        toml.push_str(&format!(", offset = {}", quota.offset));
    }
    toml.push_str(" }\n");
    let share = refused
        .iter()
        .filter(|&&i| requests[i].api_key.as_ref() == Some(&key))
        .count() as f64
        / refused.len().max(1) as f64;
    Some(Advice {
        level: "quota",
        target: p.id.clone(),
        refused_at: "quota",
        api_key: (share >= CONCENTRATED_SHARE).then(|| key.to_string()),
        current: Limits {
            quota: Some(quota.limit),
            ..Limits::default()
        },
        proposed: Limits {
            quota: Some(limit),
            ..Limits::default()
        },
        reason: format!(
            "{} requests refused by usage plan {}'s quota of {} per {period}; key {key} sent {busiest} in its busiest period ({} of the refusals); the proposal holds that with {:.0} % headroom{}",
            refused.len(),
            p.id,
            quota.limit,
            pct(share),
            sizing.headroom * 100.0,
            if p.usage.is_empty() { "" } else { ", on top of what get-usage says was used before" }
        ),
        refused_now: 0,
        predicted_429_now: 0,
        predicted_429_after: 0,
        after_by_level: BTreeMap::new(),
        set: vec![format!("usage_plan.{}.quota={limit}", p.id)],
        gateway_toml: toml,
        aws_cli: Some(plan_cli(&p.id, &[("/quota/limit", limit)])),
        note: None,
    })
}

fn account_advice(
    requests: &[Recorded],
    base: &GatewayConfig,
    sizing: &SuggestOptions,
    refused: &[usize],
) -> Advice {
    let all: Vec<i64> = requests.iter().map(|r| r.time_ms).collect();
    let s = sized("", String::new(), &all, sizing);
    let current = base.account;
    let rate = (current.rate.as_f64().ceil() as u64).max(s.rate);
    let burst = current.burst.max(s.burst);
    Advice {
        level: "account",
        target: "account".to_string(),
        refused_at: "account",
        api_key: None,
        current: Limits::from(Throttle {
            rate: current.rate,
            burst: current.burst,
        }),
        proposed: Limits::throttle(rate, burst),
        reason: format!(
            "{} requests refused by the account limit {} rps / {} burst; all replayed traffic's p{} second holds {:.1} requests (busiest {})",
            refused.len(),
            current.rate,
            current.burst,
            sizing.percentile,
            s.percentile_rps,
            s.max_rps
        ),
        refused_now: 0,
        predicted_429_now: 0,
        predicted_429_after: 0,
        after_by_level: BTreeMap::new(),
        set: vec![format!("account.rate={rate}"), format!("account.burst={burst}")],
        gateway_toml: format!("[account]\nrate = {rate}\nburst = {burst}\n"),
        aws_cli: None,
        note: Some(
            "AWS raises the account throttle on request (Service Quotas or AWS Support); no CLI command sets it"
                .to_string(),
        ),
    }
}

impl AdviceReport {
    /// Replaces API key ids with their stable pseudonyms.
    pub fn redact(&mut self) {
        for a in &mut self.advice {
            if let Some(key) = &a.api_key {
                let masked = crate::redact::api_key(key);
                a.reason = a.reason.replace(key.as_str(), &masked);
                a.api_key = Some(masked);
            }
        }
    }

    /// The advice as a table (HTML), with the commands in the note.
    pub fn block(&self) -> crate::report::layout::Block {
        let mut block = crate::report::layout::Block::new(
            "Advice",
            vec![
                "change",
                "now",
                "proposed",
                "429s now → after",
                "why",
                "apply",
            ],
        );
        for a in &self.advice {
            block.row(vec![
                format!("{} {}", a.level.replace('_', " "), a.target),
                a.current.text(),
                a.proposed.text(),
                format!("{} → {}", a.predicted_429_now, a.predicted_429_after),
                a.reason.clone(),
                a.aws_cli
                    .clone()
                    .unwrap_or_else(|| a.note.clone().unwrap_or_default()),
            ]);
        }
        block.note = Some(self.conclusion.clone());
        block
    }

    /// The advice as text lines, ready to paste, fitted to `width` columns (0: no limit):
    /// prose is word-wrapped, commands are continued with ` \` so they still paste as one.
    pub fn text_within(&self, width: usize) -> String {
        let text = self.unwrapped_text();
        if width == 0 {
            return text;
        }
        let mut out = String::new();
        for line in text.lines() {
            let body = line.trim_start();
            let lines = if body.starts_with("gwstat ") || body.starts_with("aws ") {
                continue_command(line, width)
            } else {
                crate::report::width::wrap(line, width, 2)
            };
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
        out
    }

    fn unwrapped_text(&self) -> String {
        let mut out = format!(
            "Advice (each change proven by replaying the {} requests with it)\n",
            self.requests
        );
        for (n, a) in self.advice.iter().enumerate() {
            out.push_str(&format!(
                "{}. {} {}: {} → {}\n",
                n + 1,
                a.level.replace('_', " "),
                a.target,
                a.current.text(),
                a.proposed.text()
            ));
            out.push_str(&format!("   why: {}\n", a.reason));
            let levels: std::collections::BTreeSet<&String> = self
                .now_by_level
                .keys()
                .chain(a.after_by_level.keys())
                .collect();
            let moved: Vec<String> = levels
                .into_iter()
                .filter_map(|l| {
                    let before = self.now_by_level.get(l).copied().unwrap_or(0);
                    let after = a.after_by_level.get(l).copied().unwrap_or(0);
                    (before != after).then(|| format!("{l} {before} → {after}"))
                })
                .collect();
            out.push_str(&format!(
                "   429s: {} now → {} after this change{}\n",
                a.predicted_429_now,
                a.predicted_429_after,
                if moved.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", moved.join(", "))
                }
            ));
            if let Some(note) = &a.note {
                out.push_str(&format!("   note: {note}\n"));
            }
            let sets: Vec<String> = a.set.iter().map(|s| format!("--set {s}")).collect();
            out.push_str(&format!("   gwstat replay … {}\n", sets.join(" ")));
            out.push_str("   gateway.toml:\n");
            for line in a.gateway_toml.lines() {
                out.push_str(&format!("     {line}\n"));
            }
            if let Some(cli) = &a.aws_cli {
                out.push_str(&format!("   {cli}\n"));
            }
        }
        out.push_str(&self.conclusion);
        out.push('\n');
        out
    }
}

/// A shell command wrapped at `width` with ` \` continuations (indented two more spaces);
/// a single word wider than a line stays whole.
fn continue_command(line: &str, width: usize) -> Vec<String> {
    let indent = line.len() - line.trim_start().len();
    let mut lines = Vec::new();
    let mut current = line[..indent].to_string();
    let mut fresh = true;
    for word in line[indent..].split(' ') {
        if !fresh && current.chars().count() + 1 + word.chars().count() + 2 > width {
            lines.push(format!("{current} \\"));
            current = " ".repeat(indent + 2);
            fresh = true;
        }
        if !fresh {
            current.push(' ');
        }
        current.push_str(word);
        fresh = false;
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Rate;

    #[test]
    fn commands_continue_and_prose_wraps_within_the_width() {
        let cmd = "   aws apigateway update-usage-plan --usage-plan-id partner --patch-operations op=replace,path=/throttle/rateLimit,value=98";
        let lines = continue_command(cmd, 60);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{lines:?}");
        assert!(lines[..lines.len() - 1].iter().all(|l| l.ends_with(" \\")));
        let joined: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.trim_end_matches(" \\").split_whitespace())
            .collect();
        assert_eq!(joined, cmd.split_whitespace().collect::<Vec<_>>());
    }

    fn rec(time_ms: i64, stage: &str, key: &str) -> Recorded {
        Recorded {
            time_ms,
            api: "".into(),
            stage: stage.into(),
            method: "POST".into(),
            resource: "/orders".into(),
            route: "POST /orders".into(),
            api_key: Some(key.into()),
            request_id: None,
            status: Some(200),
            error_type: None,
            latency_ms: Some(10.0),
            integration_latency_ms: Some(5.0),
        }
    }

    fn sizing() -> SuggestOptions {
        SuggestOptions {
            percentile: 100.0,
            headroom: 0.0,
            top: 0,
        }
    }

    #[test]
    fn shell_quoting_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(shell("prod"), "prod");
        assert_eq!(shell("$default"), "'$default'");
        assert_eq!(
            shell("op=replace,path=/*/*/throttling/rateLimit,value=5"),
            "'op=replace,path=/*/*/throttling/rateLimit,value=5'"
        );
        assert_eq!(shell("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_stage_limit_that_refuses_is_raised_until_the_replay_has_no_429() {
        // 10 requests in each of 3 seconds through a stage of 5 rps / 5 burst.
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\nthrottle = { rate = 5, burst = 5 }\n",
        )
        .unwrap();
        let requests: Vec<Recorded> = (0..30)
            .map(|i| {
                rec(
                    (i / 10) * 1000 + (i % 10) * 100,
                    "prod",
                    &format!("k{}", i % 3),
                )
            })
            .collect();
        let report = advise(&requests, &config, &ReplayOptions::default(), &sizing());
        assert!(report.predicted_429_now > 0);
        let a = &report.advice[0];
        assert_eq!((a.level, a.target.as_str()), ("stage", "prod"));
        assert_eq!(a.proposed.rate, Some(Rate::per_second(10)));
        assert_eq!(a.predicted_429_after, 0);
        assert_eq!(report.predicted_429_after_all, 0);
        assert!(a
            .aws_cli
            .as_deref()
            .unwrap()
            .contains("'op=replace,path=/*/*/throttling/rateLimit,value=10'"));
        assert!(a.gateway_toml.starts_with("[[stages]]\nname = \"prod\"\n"));
    }

    #[test]
    fn one_noisy_key_gets_a_usage_plan_cap_not_a_stage_raise() {
        // Key "noisy" sends 20 requests a second, "quiet" 2: the stage (10 rps) refuses.
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\napi_key_required = true\nthrottle = { rate = 10, burst = 10 }\n\
             [[usage_plans]]\nid = \"basic\"\nstages = [\"prod\"]\n\
             [[api_keys]]\nid = \"noisy\"\nusage_plans = [\"basic\"]\n\
             [[api_keys]]\nid = \"quiet\"\nusage_plans = [\"basic\"]\n",
        )
        .unwrap();
        let mut requests = Vec::new();
        for s in 0..5 {
            for i in 0..20 {
                requests.push(rec(s * 1000 + i * 50, "prod", "noisy"));
            }
            requests.push(rec(s * 1000 + 10, "prod", "quiet"));
            requests.push(rec(s * 1000 + 510, "prod", "quiet"));
        }
        let requests = super::super::order(requests);
        let sizing = SuggestOptions {
            headroom: 0.2,
            ..sizing()
        };
        let report = advise(&requests, &config, &ReplayOptions::default(), &sizing);
        let a = &report.advice[0];
        assert_eq!((a.level, a.target.as_str()), ("usage_plan", "basic"));
        assert_eq!(a.refused_at, "stage-default");
        assert_eq!(a.api_key.as_deref(), Some("noisy"));
        // The others need 2 rps / burst 1, with 20 % headroom 3 / 2: the key is capped at 7 / 8.
        assert_eq!(a.proposed.rate, Some(Rate::per_second(7)));
        assert_eq!(a.proposed.burst, Some(8));
        assert!(a.set.contains(&"usage_plan.basic.rate=7".to_string()));
        assert!(a.aws_cli.as_deref().unwrap().starts_with(
            "aws apigateway update-usage-plan --usage-plan-id basic --patch-operations op=replace,path=/throttle/rateLimit,value=7"
        ));
        // The refusals move from the stage (where they hit the quiet key too) to the key.
        assert_eq!(a.after_by_level.get("stage-default"), None);
        assert!(a.after_by_level["usage-plan"] > 0);
    }
}
