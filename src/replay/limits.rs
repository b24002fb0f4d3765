//! The limits that apply now: for a stage, a method or an API key (its usage plan), the
//! throttle and quota configured at each level, as advice and `limits suggest` compare them
//! with what the traffic needs.

use serde::Serialize;

use super::Recorded;
use crate::gateway::config::{method_key, GatewayConfig, Stage};
use crate::gateway::{Rate, Throttle};

/// Throttle and quota values of one level (absent: not configured there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Limits {
    /// Steady rate, requests per second.
    pub rate: Option<Rate>,
    /// Burst (bucket capacity).
    pub burst: Option<u64>,
    /// Requests per quota period.
    pub quota: Option<u64>,
}

impl From<Throttle> for Limits {
    fn from(t: Throttle) -> Limits {
        Limits {
            rate: Some(t.rate),
            burst: Some(t.burst),
            quota: None,
        }
    }
}

impl Limits {
    /// A throttle of `rate` requests per second and `burst`.
    pub(crate) fn throttle(rate: u64, burst: u64) -> Limits {
        Limits::from(Throttle {
            rate: Rate::per_second(rate),
            burst,
        })
    }

    /// The values as `rate R, burst B, quota Q` (`none`).
    pub(crate) fn text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.rate {
            parts.push(format!("rate {r}"));
        }
        if let Some(b) = self.burst {
            parts.push(format!("burst {b}"));
        }
        if let Some(q) = self.quota {
            parts.push(format!("quota {q}"));
        }
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The configuration with a stage for every stage the requests name (a stage the
/// configuration does not list has no limits of its own).
pub(crate) fn with_logged_stages(config: &GatewayConfig, requests: &[Recorded]) -> GatewayConfig {
    let mut base = config.clone();
    for r in requests {
        if base.stage_index(&r.api, &r.stage).is_none() {
            let kind = base.api_kind(&r.api).unwrap_or_default();
            base.stages.push(Stage::new(&r.api, &r.stage, kind));
        }
    }
    base
}

/// The usage plan (index) that meters `key` on stage `stage` (index), as the gateway picks it.
/// `None` when the stage requires no API key (its requests meet no usage plan).
pub(crate) fn plan_of(config: &GatewayConfig, key: &str, stage: usize) -> Option<usize> {
    let s = &config.stages[stage];
    let keys_required = s.api.has_api_keys()
        && (s.api_key_required || s.methods.values().any(|m| m.api_key_required == Some(true)));
    if !keys_required {
        return None;
    }
    let k = config.api_keys.iter().find(|k| k.id == key)?;
    k.usage_plans.iter().find_map(|id| {
        config.usage_plans.iter().position(|p| {
            &p.id == id
                && p.api_stages
                    .iter()
                    .any(|s| config.stage_index(&s.api_id, &s.stage) == Some(stage))
        })
    })
}

/// The throttle that applies now on stage `stage` (index): for an API key its usage plan's,
/// for a method (`route` = (METHOD, resource)) its own or the stage's, else the stage's, else
/// the account's; with the level it is set at.
pub(crate) fn current_limits(
    config: &GatewayConfig,
    stage: usize,
    route: Option<(&str, &str)>,
    key: Option<&str>,
) -> (Limits, String) {
    if let Some(key) = key {
        return match plan_of(config, key, stage).map(|p| &config.usage_plans[p]) {
            Some(p) => (
                Limits {
                    quota: p.quota.map(|q| q.limit),
                    ..p.throttle.map(Limits::from).unwrap_or_default()
                },
                format!("usage_plan:{}", p.id),
            ),
            None => (Limits::default(), "no usage plan".to_string()),
        };
    }
    let s = &config.stages[stage];
    let method = route.and_then(|(method, resource)| {
        s.methods.iter().find_map(|(k, m)| {
            m.throttle
                .filter(|_| method_key(k).is_some_and(|(r, m)| r == resource && m == method))
        })
    });
    match (method, s.throttle) {
        (Some(t), _) => (Limits::from(t), "method".to_string()),
        (None, Some(t)) => (Limits::from(t), "stage".to_string()),
        (None, None) => (
            Limits::from(Throttle::new(config.account.rate, config.account.burst)),
            "account".to_string(),
        ),
    }
}
