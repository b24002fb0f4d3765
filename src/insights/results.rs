//! Query results: rows of `field → value` text, from the SDK or from a recorded
//! `aws logs get-query-results` document, and typed readers for them.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::keys::Keys;
use crate::decode::fields::Field;
use crate::decode::record::is_missing;

/// One result row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(pub BTreeMap<String, String>);

impl Row {
    /// The text of `field`.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// A number (`None` when absent or not a number).
    pub fn number(&self, field: &str) -> Option<f64> {
        self.text(field)?
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
    }

    /// A count (0 when absent).
    pub fn count(&self, field: &str) -> u64 {
        self.number(field).map_or(0, |v| v.max(0.0).round() as u64)
    }

    /// The value of a log key the query grouped by (missing markers are `None`).
    pub fn key(&self, keys: &Keys, field: Field) -> Option<&str> {
        self.text(keys.get(field)?).filter(|v| !is_missing(v))
    }

    /// The status the row is for.
    pub fn status(&self, keys: &Keys) -> Option<u16> {
        self.key(keys, Field::Status)?.trim().parse().ok()
    }

    /// The route the row is for: the route key, else `METHOD resource`, else the resource —
    /// as the file decoders name routes.
    pub fn route(&self, keys: &Keys) -> Option<String> {
        let method = self.key(keys, Field::HttpMethod);
        match (
            self.key(keys, Field::RouteKey),
            self.key(keys, Field::ResourcePath),
        ) {
            (Some(key), _) => Some(key.to_string()),
            (None, Some(resource)) => Some(match method {
                Some(m) => format!("{m} {resource}"),
                None => resource.to_string(),
            }),
            (None, None) => None,
        }
    }

    /// The stage the row is for.
    pub fn stage(&self, keys: &Keys) -> Option<String> {
        self.key(keys, Field::Stage).map(str::to_string)
    }

    /// The start of the row's time bin (`bin(…)` field), epoch seconds.
    pub fn bin_start(&self) -> Option<i64> {
        let (_, text) = self.0.iter().find(|(k, _)| k.starts_with("bin("))?;
        parse_time_ms(text).map(|ms| ms.div_euclid(1000))
    }

    /// A time field (`min(@timestamp)` …), epoch ms.
    pub fn time_ms(&self, field: &str) -> Option<i64> {
        parse_time_ms(self.text(field)?)
    }
}

/// Parses Insights' time text (`2026-11-24 10:00:00.000`, UTC) or epoch ms.
pub fn parse_time_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    let formats = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ];
    formats.iter().find_map(|f| {
        chrono::NaiveDateTime::parse_from_str(text, f)
            .ok()
            .map(|t| t.and_utc().timestamp_millis())
    })
}

/// The rows of a recorded `aws logs get-query-results` document.
pub fn parse_recorded(text: &str) -> Result<Vec<Row>> {
    let value: Value = serde_json::from_str(text).context("not JSON")?;
    let status = value["status"].as_str().unwrap_or("Complete");
    if status != "Complete" {
        bail!("the query ended {status}, not Complete");
    }
    let Some(results) = value["results"].as_array() else {
        bail!("expected get-query-results JSON ({{\"results\": [[{{\"field\", \"value\"}}]]}})");
    };
    results
        .iter()
        .map(|row| {
            let cells = row.as_array().context("a result row is not a list")?;
            let mut out = BTreeMap::new();
            for cell in cells {
                let (Some(field), Some(value)) = (cell["field"].as_str(), cell["value"].as_str())
                else {
                    bail!("a result cell has no field or value: {cell}");
                };
                if !field.starts_with("@ptr") {
                    out.insert(field.to_string(), value.to_string());
                }
            }
            Ok(Row(out))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_results_parse() {
        let text = r#"{"results":[[{"field":"bin(60s)","value":"2026-11-24 10:01:00.000"},
            {"field":"stage","value":"prod"},{"field":"httpMethod","value":"GET"},
            {"field":"resourcePath","value":"/pets/{petId}"},{"field":"status","value":"429"},
            {"field":"requests","value":"17"}]],
            "statistics":{"recordsMatched":17.0,"recordsScanned":40.0,"bytesScanned":9000.0},
            "status":"Complete"}"#;
        let rows = parse_recorded(text).unwrap();
        let keys = Keys::defaults(&[]);
        let row = &rows[0];
        assert_eq!(row.count("requests"), 17);
        assert_eq!(row.status(&keys), Some(429));
        assert_eq!(row.route(&keys).as_deref(), Some("GET /pets/{petId}"));
        assert_eq!(row.stage(&keys).as_deref(), Some("prod"));
        assert_eq!(row.bin_start(), Some(1_795_514_460));
        assert!(parse_recorded(r#"{"results":[],"status":"Failed"}"#).is_err());
        assert!(parse_recorded(r#"{"x":1}"#).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time_ms("2026-11-24 10:00:00.250"),
            Some(1_795_514_400_250)
        );
        assert_eq!(parse_time_ms("1795514400250"), Some(1_795_514_400_250));
        assert_eq!(parse_time_ms("yesterday"), None);
    }
}
