//! Which JSON key holds each value: Logs Insights queries name the keys of the log group's
//! own access-log format, found by decoding a few of its events with the same key table the
//! file decoders use (`--field` overrides included).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde_json::Value;

use crate::decode::fields::{Field, KeyMap};

/// The key of each field found in the log group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    keys: BTreeMap<usize, String>,
}

impl Keys {
    /// The keys API Gateway's own `$context` names would have (for `--dry-run` without a
    /// log group to sample), with overrides applied.
    pub fn defaults(overrides: &[(Field, String)]) -> Keys {
        let mut keys = Keys::default();
        for field in [
            Field::RequestId,
            Field::HttpMethod,
            Field::ResourcePath,
            Field::Status,
            Field::ResponseLatency,
            Field::IntegrationLatency,
            Field::Stage,
            Field::ApiKeyId,
            Field::ErrorResponseType,
            Field::ErrorMessage,
        ] {
            keys.set(field, field.context_name());
        }
        for (field, key) in overrides {
            keys.set(*field, key);
        }
        keys
    }

    /// The keys found in sample events (JSON access-log lines); nested objects count as
    /// dotted keys, as Insights flattens them.
    pub fn discover<'a>(
        messages: impl IntoIterator<Item = &'a str>,
        overrides: &[(Field, String)],
    ) -> Result<Keys> {
        let mut map = KeyMap::new(overrides);
        let mut keys = Keys::default();
        let mut json_lines = 0;
        for message in messages {
            let Ok(Value::Object(object)) = serde_json::from_str::<Value>(message.trim()) else {
                continue;
            };
            json_lines += 1;
            let mut flat = Vec::new();
            flatten("", &Value::Object(object), &mut flat);
            for key in flat {
                if let Some(field) = map.resolve(&key) {
                    if keys.get(field).is_none() {
                        keys.set(field, &key);
                    }
                }
            }
        }
        if json_lines == 0 {
            bail!(
                "--engine insights needs JSON access logs (Insights finds JSON keys by itself; \
                 CLF or other formats would need a parse command): no JSON event was found in \
                 the sample of the log group"
            );
        }
        keys.check()?;
        Ok(keys)
    }

    /// The given keys.
    pub fn named(pairs: &[(Field, &str)]) -> Keys {
        let mut keys = Keys::default();
        for (field, key) in pairs {
            keys.set(*field, key);
        }
        keys
    }

    fn set(&mut self, field: Field, key: &str) {
        self.keys.insert(field as usize, key.to_string());
    }

    /// The key of `field`, if the logs have one.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.keys.get(&(field as usize)).map(String::as_str)
    }

    /// The key as a query names it (in backticks, so dots and dashes are safe).
    pub fn name(&self, field: Field) -> Option<String> {
        self.get(field).map(|k| format!("`{}`", k.replace('`', "")))
    }

    /// Whether the report can be built from these keys.
    pub fn check(&self) -> Result<()> {
        let mut missing = Vec::new();
        if self.get(Field::Status).is_none() {
            missing.push("status");
        }
        if self.get(Field::ResponseLatency).is_none() {
            missing.push("responseLatency");
        }
        if self.get(Field::ResourcePath).is_none() && self.get(Field::RouteKey).is_none() {
            missing.push("resourcePath or routeKey");
        }
        if !missing.is_empty() {
            bail!(
                "the log group's events have no key for {} (name it with --field, such as \
                 --field status=http_status)",
                missing.join(", ")
            );
        }
        Ok(())
    }

    /// The keys that name a route, in group-by order: stage, method, resource, route key.
    pub fn route_fields(&self) -> Vec<Field> {
        [
            Field::Stage,
            Field::HttpMethod,
            Field::ResourcePath,
            Field::RouteKey,
        ]
        .into_iter()
        .filter(|f| self.get(*f).is_some())
        .collect()
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_keys_of_the_log_format() {
        let line = r#"{"requestId":"a","http":{"method":"GET"},"resourcePath":"/pets","status":"200","responseLatency":"12","integration_latency":"9","stage":"prod"}"#;
        let keys = Keys::discover([line, "not json"], &[]).unwrap();
        assert_eq!(keys.get(Field::Status), Some("status"));
        assert_eq!(
            keys.get(Field::IntegrationLatency),
            Some("integration_latency")
        );
        assert_eq!(keys.name(Field::Stage).as_deref(), Some("`stage`"));
        assert_eq!(keys.get(Field::HttpMethod), Some("http.method"));
        assert_eq!(
            keys.route_fields(),
            [Field::Stage, Field::HttpMethod, Field::ResourcePath]
        );
    }

    #[test]
    fn overrides_and_errors() {
        let line = r#"{"code":"200","lat":"3","resourcePath":"/"}"#;
        assert!(Keys::discover([line], &[]).is_err());
        let keys = Keys::discover(
            [line],
            &[
                (Field::Status, "code".to_string()),
                (Field::ResponseLatency, "lat".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(keys.get(Field::Status), Some("code"));
        assert!(Keys::discover(["127.0.0.1 - - [x] \"GET / HTTP/1.1\" 200"], &[]).is_err());
    }
}
