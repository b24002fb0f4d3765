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
