//! The stage's access-log format string, inferred from the first lines when the user gave
//! none and no preset fits: `key: value, key: value` lines (the keys name the variables) and
//! delimited lines (`|`, tab, `;`, `,` or space between values; each column's variable is told
//! from its values). Where a column's meaning cannot be told (two numeric columns: latency or
//! length?), the guess is returned as [`Inference::Ambiguous`], for an error that prints the
//! `--access-format` to check and use.

use super::fields::{normalize_key, KeyMap};
use super::time::{parse_clf_time, parse_epoch};

/// What the first lines say about their format.
#[derive(Debug, Clone, PartialEq)]
pub enum Inference {
    /// A format string that reads the sample.
    Template(String),
    /// The best guess, and which parts of it are guesses.
    Ambiguous {
        /// The format string to check.
        format: String,
        /// What could not be told.
        why: String,
    },
}

/// Variables for common key names that are not [`Field`]s (which name their own).
const VARIABLES: &[(&str, &str)] = &[
    ("ip", "identity.sourceIp"),
    ("sourceip", "identity.sourceIp"),
    ("identitysourceip", "identity.sourceIp"),
    ("clientip", "identity.sourceIp"),
    ("useragent", "identity.userAgent"),
    ("identityuseragent", "identity.userAgent"),
    ("caller", "identity.caller"),
    ("user", "identity.user"),
    ("protocol", "protocol"),
    ("responselength", "responseLength"),
    ("path", "path"),
    ("domainname", "domainName"),
    ("apiid", "apiId"),
    ("extendedrequestid", "extendedRequestId"),
    ("integrationstatus", "integrationStatus"),
    ("integrationerrormessage", "integrationErrorMessage"),
];

/// The `$context` variable a key stands for: the field it names, a common name, or the key
/// itself (users often name keys after their variables).
fn variable_for(key: &str, keys: &mut KeyMap) -> String {
    if let Some(field) = keys.resolve(key) {
        return field.context_name().to_string();
    }
    let normalized = normalize_key(key);
    VARIABLES
        .iter()
        .find(|(name, _)| *name == normalized)
        .map_or_else(|| key.to_string(), |(_, v)| v.to_string())
}

/// Infers the format of `sample` (lines without newlines); `None` when the lines are not
/// key-value pairs or consistently delimited values.
pub fn infer(sample: &[&str], keys: &mut KeyMap) -> Option<Inference> {
    let first = *sample.first()?;
    key_values(first, keys)
        .map(Inference::Template)
        .or_else(|| delimited(sample))
}

/// `key: value, key: value` (or `key=value key=value`): the format that writes `line`.
fn key_values(line: &str, keys: &mut KeyMap) -> Option<String> {
    for (assign, separator) in [(": ", ", "), ("=", " "), ("=", ", "), (": ", " ")] {
        let pairs = split_pairs(line, assign, separator);
        if pairs.len() < 3 {
            continue;
        }
        let format: Vec<String> = pairs
            .iter()
            .map(|key| format!("{key}{assign}$context.{}", variable_for(key, keys)))
            .collect();
        return Some(format.join(separator));
    }
    None
}

/// The keys of `line` when it is all `key<assign>value` pairs joined by `separator`.
fn split_pairs<'a>(line: &'a str, assign: &str, separator: &str) -> Vec<&'a str> {
    let is_key = |text: &str| {
        text.starts_with(|c: char| c.is_ascii_alphabetic())
            && text
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    };
    let Some((first, _)) = line.split_once(assign) else {
        return Vec::new();
    };
    if !is_key(first) {
        return Vec::new();
    }
    let mut keys = vec![first];
    let mut rest = &line[first.len() + assign.len()..];
    // A separator starts the next pair only where a key and `assign` follow it; elsewhere
    // it is part of a value (a User-Agent holds `, ` and spaces).
    while let Some(at) = rest.find(separator) {
        let after = &rest[at + separator.len()..];
        match after.split_once(assign) {
            Some((key, _)) if is_key(key) => {
                keys.push(key);
                rest = &after[key.len() + assign.len()..];
            }
            _ => rest = after,
        }
    }
    keys
}

/// What one column's values are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    Known(&'static str),
    /// Numbers that are not statuses or epochs: latency, length, … cannot be told.
    Number,
    /// Text that names nothing gwstat reads.
    Other,
}

fn column_of(values: &[&str]) -> Column {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim().trim_matches(['"', '[', ']']))
        .filter(|v| *v != "-" && !v.is_empty())
        .collect();
    if values.is_empty() {
        return Column::Other;
    }
    let all = |test: fn(&str) -> bool| values.iter().all(|v| test(v));
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    if all(|v| parse_clf_time(v).is_some()) {
        Column::Known("requestTime")
    } else if all(|v| v.len() == 13 && v.bytes().all(|b| b.is_ascii_digit()))
        && all(|v| parse_epoch(v).is_some())
    {
        Column::Known("requestTimeEpoch")
    } else if all(|v| METHODS.contains(&v)) {
        Column::Known("httpMethod")
    } else if all(|v| {
        v.split_once(' ')
            .is_some_and(|(m, p)| METHODS.contains(&m) && p.starts_with('/'))
            || v == "$default"
    }) {
        Column::Known("routeKey")
    } else if all(|v| v.starts_with('/')) {
        if values.iter().any(|v| v.contains('{')) {
            Column::Known("resourcePath")
        } else {
            Column::Known("path")
        }
    } else if all(|v| v.starts_with("HTTP/")) {
        Column::Known("protocol")
    } else if all(|v| v.len() == 36 && v.bytes().filter(|b| *b == b'-').count() == 4) {
        Column::Known("requestId")
    } else if all(|v| v.parse::<std::net::IpAddr>().is_ok()) {
        Column::Known("identity.sourceIp")
    } else if all(|v| v.len() == 3 && v.parse::<u16>().is_ok_and(|s| (100..=599).contains(&s))) {
        Column::Known("status")
    } else if all(|v| v.parse::<f64>().is_ok()) {
        Column::Number
    } else {
        Column::Other
    }
}

/// Values joined by one delimiter, the same number on every line.
fn delimited(sample: &[&str]) -> Option<Inference> {
    let delimiter = [" | ", "|", "\t", ";", ",", " "].into_iter().find(|d| {
        let count = sample[0].split(d).count();
        count >= 4 && sample.iter().all(|line| line.split(d).count() == count)
    })?;
    let rows: Vec<Vec<&str>> = sample
        .iter()
        .map(|l| l.split(delimiter).collect())
        .collect();
    let columns: Vec<Column> = (0..rows[0].len())
        .map(|i| column_of(&rows.iter().map(|r| r[i]).collect::<Vec<_>>()))
        .collect();
    let has = |name: &'static str| columns.contains(&Column::Known(name));
    if !(has("requestTime") || has("requestTimeEpoch")) {
        return None;
    }
    // A guess for each unknown column: numbers in the order custom formats usually have them.
    let mut guesses = ["responseLatency", "integrationLatency", "responseLength"].into_iter();
    let mut unsure = Vec::new();
    let mut seen = Vec::new();
    let parts: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let variable = match column {
                Column::Known(name) if !seen.contains(name) => {
                    seen.push(*name);
                    name.to_string()
                }
                Column::Known(name) => {
                    unsure.push(format!("column {} (another {name}?)", i + 1));
                    format!("column{}", i + 1)
                }
                Column::Number => {
                    let guess = guesses.next().unwrap_or("responseLength");
                    unsure.push(format!("column {} (a number: {guess}?)", i + 1));
                    guess.to_string()
                }
                Column::Other => format!("column{}", i + 1),
            };
            let quoted = rows[0][i].trim().starts_with('"');
            let bracketed = rows[0][i].trim().starts_with('[');
            let (open, close) = match (quoted, bracketed) {
                (true, _) => ("\"", "\""),
                (_, true) => ("[", "]"),
                _ => ("", ""),
            };
            format!("{open}$context.{variable}{close}")
        })
        .collect();
    let format = parts.join(delimiter);
    if unsure.is_empty() {
        return Some(Inference::Template(format));
    }
    Some(Inference::Ambiguous {
        format,
        why: format!("cannot tell {}", unsure.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Field, Template};

    fn infer_lines(lines: &[&str]) -> Option<Inference> {
        infer(lines, &mut KeyMap::default())
    }

    #[test]
    fn key_value_lines_name_their_variables() {
        let line = "requestId: c5a56ba0-fd42-4425-b7d2-5e8836563270, ip: 203.0.113.17, requestTime: 25/Nov/2026:02:56:04 +0000, httpMethod: GET, resourcePath: /pets/{petId}, status: 200, userAgent: Mozilla/5.0 (X11, Linux x86_64), responseLatency: 30";
        let Some(Inference::Template(format)) = infer_lines(&[line]) else {
            panic!("not inferred");
        };
        assert_eq!(
            format,
            "requestId: $context.requestId, ip: $context.identity.sourceIp, requestTime: $context.requestTime, httpMethod: $context.httpMethod, resourcePath: $context.resourcePath, status: $context.status, userAgent: $context.identity.userAgent, responseLatency: $context.responseLatency"
        );
        let raw = Template::parse(&format)
            .unwrap()
            .decode(line.as_bytes())
            .unwrap()
            .into_owned();
        assert_eq!(raw.get(Field::Status), Some("200"));
        assert_eq!(raw.get(Field::ResponseLatency), Some("30"));
    }

    #[test]
    fn delimited_columns_are_told_by_their_values() {
        let lines = [
            "25/Nov/2026:02:56:04 +0000 | GET | /pets/{petId} | 200 | c5a56ba0-fd42-4425-b7d2-5e8836563270",
            "25/Nov/2026:02:56:05 +0000 | POST | /orders | 504 | 6d5f8fb5-9330-48b7-a3d7-7291dd488abb",
        ];
        assert_eq!(
            infer_lines(&lines),
            Some(Inference::Template(
                "$context.requestTime | $context.httpMethod | $context.resourcePath | $context.status | $context.requestId".into()
            ))
        );
    }

    #[test]
    fn unknown_numbers_are_ambiguous() {
        let lines = [
            "1795575364112\tGET /pets\t200\t45\t184",
            "1795575365112\tPOST /orders\t504\t29012\t41",
        ];
        match infer_lines(&lines) {
            Some(Inference::Ambiguous { format, why }) => {
                assert_eq!(format, "$context.requestTimeEpoch\t$context.routeKey\t$context.status\t$context.responseLatency\t$context.integrationLatency");
                assert!(why.contains("column 4"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prose_is_not_a_format() {
        assert_eq!(infer_lines(&["hello world, this is text"]), None);
        assert_eq!(infer_lines(&[""]), None);
    }
}
