//! What-if settings: `--set PATH=VALUE` edits a gateway configuration, `--sweep
//! PATH=LO..HI:STEP` tries a range of values.
//!
//! Paths: `account.rate|burst`; `stage.NAME.rate|burst|timeout_ms|cache_ttl` (NAME is
//! `apiId:stage`, or the bare stage name when only one API has a stage of that name);
//! `stage.NAME.method.KEY.rate|burst` (KEY as in gateway.toml, e.g. `/orders/POST`);
//! `usage_plan.ID.rate|burst|quota`; `options.stage_default_buckets|consumption|quota_counts`.
//! Setting only one of rate/burst where none was configured takes the other from the account.

use serde::Deserialize;
use thiserror::Error;

use crate::gateway::config::{split_stage_label, GatewayConfig, MethodSettings, Options, Stage};
use crate::gateway::quota::{Period, QuotaSettings};
use crate::gateway::{Rate, Throttle};

/// A what-if setting that cannot be applied.
#[derive(Debug, Error, PartialEq)]
pub enum WhatIfError {
    /// Not `PATH=VALUE`.
    #[error("{0:?}: expected PATH=VALUE, e.g. stage.prod.rate=500")]
    Syntax(String),
    /// Unknown path.
    #[error("{0:?}: unknown setting; use account.rate, stage.NAME.burst, stage.NAME.method./res/GET.rate, usage_plan.ID.quota, options.consumption, …")]
    Path(String),
    /// The stage or plan does not exist.
    #[error("{0:?}: no such stage or usage plan in the configuration")]
    Missing(String),
    /// The value does not fit the setting.
    #[error("{path}: bad value {value:?}")]
    Value {
        /// The path.
        path: String,
        /// The value.
        value: String,
    },
    /// Not `PATH=LO..HI:STEP`.
    #[error("{0:?}: expected PATH=LO..HI:STEP, e.g. stage.prod.rate=100..1000:100")]
    Sweep(String),
}

/// Applies one `PATH=VALUE` to `config`.
pub fn apply(config: &mut GatewayConfig, setting: &str) -> Result<(), WhatIfError> {
    let (path, value) = setting
        .split_once('=')
        .ok_or_else(|| WhatIfError::Syntax(setting.to_string()))?;
    let (path, value) = (path.trim(), value.trim());
    let bad = || WhatIfError::Value {
        path: path.to_string(),
        value: value.to_string(),
    };
    let rate = || value.parse::<Rate>().map_err(|_| bad());
    let int = || value.parse::<u64>().map_err(|_| bad());
    let account = Throttle::new(config.account.rate, config.account.burst);
    let edit = |throttle: &mut Option<Throttle>, field: &str| -> Result<(), WhatIfError> {
        let t = throttle.get_or_insert(account);
        match field {
            "rate" => t.rate = rate()?,
            "burst" => t.burst = int()?,
            _ => return Err(WhatIfError::Path(path.to_string())),
        }
        Ok(())
    };
    let parts: Vec<&str> = path.splitn(3, '.').collect();
    match parts.as_slice() {
        ["account", "rate"] => config.account.rate = rate()?,
        ["account", "burst"] => config.account.burst = int()?,
        ["options", name] => {
            let mut current = toml::Value::try_from(config.options).map_err(|_| bad())?;
            let table = current.as_table_mut().ok_or_else(bad)?;
            if !table.contains_key(*name) {
                return Err(WhatIfError::Path(path.to_string()));
            }
            let parsed = value
                .parse::<u64>()
                .map(|n| toml::Value::Integer(n as i64))
                .unwrap_or_else(|_| toml::Value::String(value.to_string()));
            table.insert(name.to_string(), parsed);
            config.options = Options::deserialize(current).map_err(|_| bad())?;
        }
        ["stage", name, rest] => {
            let stage = find_stage(config, name)
                .ok_or_else(|| WhatIfError::Missing(setting.to_string()))?;
            match *rest {
                "rate" | "burst" => edit(&mut stage.throttle, rest)?,
                "timeout_ms" => stage.integration_timeout_ms = Some(int()?),
                "cache_ttl" => {
                    stage.cache.ttl_seconds = int()?.min(3600);
                    stage.cache.enabled = true;
                }
                method if method.starts_with("method.") => {
                    let inner = &method["method.".len()..];
                    let (key, field) = inner
                        .rsplit_once('.')
                        .ok_or_else(|| WhatIfError::Path(path.to_string()))?;
                    let settings: &mut MethodSettings =
                        stage.methods.entry(key.to_string()).or_default();
                    edit(&mut settings.throttle, field)?;
                }
                _ => return Err(WhatIfError::Path(path.to_string())),
            }
        }
        ["usage_plan", id, field] => {
            let plan = config
                .usage_plans
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or_else(|| WhatIfError::Missing(setting.to_string()))?;
            match *field {
                "rate" | "burst" => edit(&mut plan.throttle, field)?,
                "quota" => {
                    let limit = int()?;
                    let quota = plan.quota.get_or_insert(QuotaSettings {
                        limit,
                        period: Period::Day,
                        offset: 0,
                    });
                    quota.limit = limit;
                }
                _ => return Err(WhatIfError::Path(path.to_string())),
            }
        }
        _ => return Err(WhatIfError::Path(path.to_string())),
    }
    Ok(())
}

/// A `--set` as applied: the setting's value before and after.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// The setting's path.
    pub path: String,
    /// Its value before (`none` when not set; a throttle not set falls back to the account's).
    pub before: String,
    /// Its value after.
    pub after: String,
}

/// The value `PATH` (as in `--set PATH=VALUE`) has in `config`, as text; `None` when the
/// path names nothing.
pub fn value_of(config: &GatewayConfig, path: &str) -> Option<String> {
    let throttle = |t: Option<Throttle>, field: &str| -> Option<String> {
        match (t, field) {
            (Some(t), "rate") => Some(t.rate.to_string()),
            (Some(t), "burst") => Some(t.burst.to_string()),
            (None, "rate" | "burst") => Some("none".to_string()),
            _ => None,
        }
    };
    let parts: Vec<&str> = path.trim().splitn(3, '.').collect();
    match parts.as_slice() {
        ["account", "rate"] => Some(config.account.rate.to_string()),
        ["account", "burst"] => Some(config.account.burst.to_string()),
        ["options", name] => toml::Value::try_from(config.options)
            .ok()?
            .get(*name)
            .map(|v| v.to_string().trim_matches('"').to_string()),
        ["stage", label, rest] => {
            let (api, name) = split_stage_label(label);
            let stage = &config.stages[config.stage_index(api, name)?];
            match *rest {
                "rate" | "burst" => throttle(stage.throttle, rest),
                "timeout_ms" => Some(
                    stage
                        .integration_timeout_ms
                        .map_or("none".to_string(), |t| t.to_string()),
                ),
                "cache_ttl" => Some(if stage.cache.enabled {
                    stage.cache.ttl_seconds.to_string()
                } else {
                    "none (cache off)".to_string()
                }),
                method => {
                    let (key, field) = method.strip_prefix("method.")?.rsplit_once('.')?;
                    throttle(stage.methods.get(key).and_then(|m| m.throttle), field)
                }
            }
        }
        ["usage_plan", id, field] => {
            let plan = config.usage_plans.iter().find(|p| p.id == *id)?;
            match *field {
                "quota" => Some(
                    plan.quota
                        .map_or("none".to_string(), |q| q.limit.to_string()),
                ),
                _ => throttle(plan.throttle, field),
            }
        }
        _ => None,
    }
}

/// Applies one `PATH=VALUE` to `config` and says what it changed.
pub fn apply_change(config: &mut GatewayConfig, setting: &str) -> Result<Change, WhatIfError> {
    let path = setting.split_once('=').map_or(setting, |(p, _)| p).trim();
    let before = value_of(config, path).unwrap_or_else(|| "none".to_string());
    apply(config, setting)?;
    Ok(Change {
        path: path.to_string(),
        before,
        after: value_of(config, path).unwrap_or_else(|| "none".to_string()),
    })
}

/// What a sweep shows, in one sentence: `(value, predicted 429s)` in sweep order.
pub fn sweep_conclusion(path: &str, rows: &[(String, u64)], observed_429: u64) -> String {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return format!("The sweep over {path} tried no value.");
    };
    let best = rows.iter().map(|r| r.1).min().unwrap_or(0);
    let worst = rows.iter().map(|r| r.1).max().unwrap_or(0);
    if best == worst {
        return format!(
            "Every value of {path} from {} to {} predicts the same {best} 429s (log: {observed_429}): on its own, changing it does not reduce the 429s (another limit refuses what it would admit, or it is not the limit these requests meet).",
            first.0, last.0
        );
    }
    // The first value that reaches the fewest 429s.
    let reach = rows
        .iter()
        .find(|r| r.1 == best)
        .map_or("", |r| r.0.as_str());
    if reach == last.0 && rows.len() > 1 && rows[rows.len() - 2].1 > best {
        format!(
            "{path} = {reach}, the last value tried, predicts the fewest 429s ({best}; log: {observed_429}, {} at {}): they still fall at the end of the range, so extend the sweep.",
            first.1, first.0
        )
    } else {
        format!(
            "{path} = {reach} is the smallest value with the fewest predicted 429s ({best}; log: {observed_429}, {} at {}); larger values change nothing more.",
            first.1, first.0
        )
    }
}

/// The stage `apiId:stage`, or a bare stage name when one API has it (or the implicit API).
fn find_stage<'a>(config: &'a mut GatewayConfig, label: &str) -> Option<&'a mut Stage> {
    let (api, name) = split_stage_label(label);
    let index = config.stage_index(api, name)?;
    config.stages.get_mut(index)
}

/// A parsed `--sweep`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The setting's path.
    pub path: String,
    /// The values to try, as text.
    pub values: Vec<String>,
}

/// Parses `PATH=LO..HI:STEP` (decimals allowed; at most 1,000 values).
pub fn parse_sweep(text: &str) -> Result<Sweep, WhatIfError> {
    let bad = || WhatIfError::Sweep(text.to_string());
    let (path, range) = text.split_once('=').ok_or_else(bad)?;
    let (span, step) = range.split_once(':').ok_or_else(bad)?;
    let (lo, hi) = span.split_once("..").ok_or_else(bad)?;
    let (lo, hi, step): (f64, f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
        step.trim().parse().map_err(|_| bad())?,
    );
    if !step.is_finite() || step <= 0.0 || hi < lo || (hi - lo) / step > 1000.0 {
        return Err(bad());
    }
    let count = ((hi - lo) / step + 1e-9).floor() as u64 + 1;
    let values = (0..count)
        .map(|i| {
            let v = lo + step * i as f64;
            let text = format!("{v:.6}");
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        })
        .collect();
    Ok(Sweep {
        path: path.trim().to_string(),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::config::ConsumptionPolicy;

    fn config() -> GatewayConfig {
        GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\n[[usage_plans]]\nid = \"gold\"\nstages = [\"prod\"]\nthrottle = { rate = 10, burst = 20 }\n",
        )
        .unwrap()
    }

    #[test]
    fn settings_edit_the_configuration() {
        let mut c = config();
        apply(&mut c, "stage.prod.rate=500").unwrap();
        assert_eq!(
            c.stages[0].throttle,
            Some(Throttle::new(Rate::per_second(500), 5000))
        );
        apply(&mut c, "stage.prod.burst=50").unwrap();
        assert_eq!(c.stages[0].throttle.unwrap().burst, 50);
        apply(&mut c, "usage_plan.gold.burst=5").unwrap();
        assert_eq!(c.usage_plans[0].throttle.unwrap().burst, 5);
        apply(&mut c, "usage_plan.gold.quota=1000").unwrap();
        assert_eq!(c.usage_plans[0].quota.unwrap().limit, 1000);
        apply(&mut c, "stage.prod.method./orders/POST.rate=0.5").unwrap();
        assert_eq!(
            c.stages[0].methods["/orders/POST"].throttle.unwrap().rate,
            "0.5".parse().unwrap()
        );
        apply(&mut c, "account.rate=2500").unwrap();
        assert_eq!(c.account.rate, Rate::per_second(2500));
        apply(&mut c, "options.consumption=all-or-nothing").unwrap();
        assert_eq!(c.options.consumption, ConsumptionPolicy::AllOrNothing);
    }

    #[test]
    fn bad_settings_say_why() {
        let mut c = config();
        assert!(matches!(
            apply(&mut c, "stage.prod.rate"),
            Err(WhatIfError::Syntax(_))
        ));
        assert!(matches!(
            apply(&mut c, "stage.nope.rate=1"),
            Err(WhatIfError::Missing(_))
        ));
        assert!(matches!(
            apply(&mut c, "stage.prod.colour=1"),
            Err(WhatIfError::Path(_))
        ));
        assert!(matches!(
            apply(&mut c, "stage.prod.rate=fast"),
            Err(WhatIfError::Value { .. })
        ));
    }

    #[test]
    fn changes_are_echoed_with_their_values_before_and_after() {
        let mut c = config();
        let change = apply_change(&mut c, "usage_plan.gold.rate=50").unwrap();
        assert_eq!(
            (change.before.as_str(), change.after.as_str()),
            ("10", "50")
        );
        let change = apply_change(&mut c, "stage.prod.burst=7").unwrap();
        assert_eq!(
            (change.before.as_str(), change.after.as_str()),
            ("none", "7")
        );
        let change = apply_change(&mut c, "options.consumption=all-or-nothing").unwrap();
        assert_eq!(
            (change.before.as_str(), change.after.as_str()),
            ("sequential", "all-or-nothing")
        );
    }

    #[test]
    fn a_sweep_concludes_in_one_sentence() {
        let rows = |v: &[(u64, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
        };
        let flat = sweep_conclusion("x", &rows(&[(1, 5), (2, 5)]), 5);
        assert!(flat.contains("does not reduce the 429s"), "{flat}");
        let found = sweep_conclusion("x", &rows(&[(1, 9), (2, 3), (3, 0), (4, 0)]), 9);
        assert!(found.starts_with("x = 3 is the smallest value"), "{found}");
        let short = sweep_conclusion("x", &rows(&[(1, 9), (2, 3)]), 9);
        assert!(short.contains("extend the sweep"), "{short}");
    }

    #[test]
    fn sweeps_expand_ranges() {
        let s = parse_sweep("stage.prod.rate=100..300:100").unwrap();
        assert_eq!(s.values, ["100", "200", "300"]);
        assert_eq!(
            parse_sweep("x=0.5..1:0.25").unwrap().values,
            ["0.5", "0.75", "1"]
        );
        assert!(parse_sweep("x=1..0:1").is_err());
        assert!(parse_sweep("x=0..1:0").is_err());
    }
}
