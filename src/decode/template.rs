//! API Gateway access-log format strings (`$context` templates), as parsers and renderers.
//!
//! A template is literal text and `$context.*` variables. Parsing a line walks the template:
//! literals must match exactly, and each variable takes text up to the next literal. Values
//! are not escaped by API Gateway, so a value may contain the next literal (a User-Agent with
//! a space); the matcher then backtracks to a later occurrence, and per-variable shape checks
//! (numbers, CLF time, tokens without spaces) keep it from choosing a wrong split.

use memchr::memmem;
use thiserror::Error;

use super::fields::{Field, KeyMap};
use super::record::{RawRecord, SkipReason};
use std::borrow::Cow;

/// A template that cannot be used.
#[derive(Debug, Error, PartialEq)]
pub enum TemplateError {
    /// No `$context` variable in it.
    #[error("the access-log format has no $context variables: {0:?}")]
    NoVariables(String),
}

/// What text a variable can hold, used to choose between possible splits of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Digits with an optional fraction, or `-`.
    Number,
    /// `dd/Mon/yyyy:HH:MM:SS +hhmm`, or `-`.
    ClfTime,
    /// Text without whitespace.
    Token,
    /// Anything.
    Text,
}

impl Shape {
    fn of(variable: &str) -> Shape {
        const TOKENS: &[&str] = &[
            "requestId",
            "extendedRequestId",
            "identity.sourceIp",
            "identity.caller",
            "identity.user",
            "identity.userArn",
            "identity.accountId",
            "identity.apiKeyId",
            "identity.apiKey",
            "httpMethod",
            "resourcePath",
            "path",
            "protocol",
            "stage",
            "apiId",
            "accountId",
            "domainName",
            "domainPrefix",
            "error.responseType",
            "awsEndpointRequestId",
            "integration.requestId",
            "xrayTraceId",
            "resourceId",
            "wafResponseCode",
        ];
        if variable == "requestTime" {
            Shape::ClfTime
        } else if variable.ends_with("atency")
            || variable.ends_with("tatus")
            || variable.ends_with("Length")
            || variable.ends_with("Epoch")
            || variable == "dataProcessed"
        {
            Shape::Number
        } else if TOKENS.contains(&variable) {
            Shape::Token
        } else {
            Shape::Text
        }
    }

    /// The longest prefix of `rest` this shape could take.
    fn max_extent(self, rest: &str) -> usize {
        let b = rest.as_bytes();
        match self {
            Shape::Number => b
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b'-'))
                .unwrap_or(b.len()),
            Shape::Token => b
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(b.len()),
            Shape::ClfTime => b.len().min(26),
            Shape::Text => b.len(),
        }
    }

    fn accepts(self, value: &str) -> bool {
        match self {
            Shape::Number => {
                value == "-"
                    || (!value.is_empty()
                        && value.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                        && value.bytes().next().is_some_and(|c| c.is_ascii_digit()))
            }
            Shape::ClfTime => value == "-" || super::time::parse_clf_time(value).is_some(),
            Shape::Token => !value.is_empty() && !value.bytes().any(|c| c.is_ascii_whitespace()),
            Shape::Text => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Variable {
        name: String,
        field: Option<Field>,
        shape: Shape,
    },
}

/// A parsed access-log format string.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// Upper bound on backtracking steps for one line, so a pathological line costs little.
const MATCH_BUDGET: u32 = 4096;

impl Template {
    /// Parses a format string as API Gateway takes it (a trailing newline is ignored).
    pub fn parse(format: &str) -> Result<Template, TemplateError> {
        let format = format.trim_end_matches(['\n', '\r']);
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = format;
        let mut keys = KeyMap::default();
        while let Some(start) = rest.find("$context.") {
            let after = &rest[start + "$context.".len()..];
            let len = after
                .bytes()
                .position(|c| !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_'))
                .unwrap_or(after.len());
            let name = after[..len].trim_end_matches('.');
            if name.is_empty() {
                literal.push_str(&rest[..start + "$context.".len()]);
                rest = after;
                continue;
            }
            literal.push_str(&rest[..start]);
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Variable {
                name: name.to_string(),
                field: keys.resolve(name),
                shape: Shape::of(name),
            });
            rest = &after[name.len()..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        if !segments
            .iter()
            .any(|s| matches!(s, Segment::Variable { .. }))
        {
            return Err(TemplateError::NoVariables(format.to_string()));
        }
        Ok(Template { segments })
    }

    /// The template's variables, without the `$context.` prefix, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Writes a line the way API Gateway would, asking `value` for each variable
    /// (by name without `$context.`).
    pub fn render(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut line = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => line.push_str(text),
                Segment::Variable { name, .. } => line.push_str(&value(name)),
            }
        }
        line
    }

    /// For a JSON-shaped template (`{"status":"$context.status", …}`), the JSON key that
    /// holds each understood variable; `None` for other templates.
    pub fn json_keys(&self) -> Option<Vec<(Field, String)>> {
        let Some(Segment::Literal(first)) = self.segments.first() else {
            return None;
        };
        if !first.trim_start().starts_with('{') {
            return None;
        }
        let mut keys = Vec::new();
        for pair in self.segments.windows(2) {
            if let [Segment::Literal(before), Segment::Variable {
                field: Some(field), ..
            }] = pair
            {
                if let Some(key) = json_key_before(before) {
                    keys.push((*field, key));
                }
            }
        }
        Some(keys)
    }

    /// Decodes one line.
    pub fn decode<'a>(&self, line: &'a [u8]) -> Result<RawRecord<'a>, SkipReason> {
        let text = std::str::from_utf8(line).map_err(|_| SkipReason::InvalidUtf8)?;
        let text = text.trim_end_matches(['\r', ' ']);
        let mut captures = vec![(0usize, 0usize); self.segments.len()];
        let mut budget = MATCH_BUDGET;
        if !self.match_from(0, 0, text, &mut captures, &mut budget) {
            return Err(SkipReason::FormatMismatch);
        }
        let mut record = RawRecord::default();
        for (segment, (start, end)) in self.segments.iter().zip(&captures) {
            if let Segment::Variable {
                field: Some(field), ..
            } = segment
            {
                record.set(*field, Cow::Borrowed(&text[*start..*end]));
            }
        }
        Ok(record)
    }

    fn match_from(
        &self,
        index: usize,
        pos: usize,
        text: &str,
        captures: &mut [(usize, usize)],
        budget: &mut u32,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some(segment) = self.segments.get(index) else {
            return pos == text.len();
        };
        let rest = &text[pos..];
        match segment {
            Segment::Literal(literal) => {
                rest.starts_with(literal.as_str())
                    && self.match_from(index + 1, pos + literal.len(), text, captures, budget)
            }
            Segment::Variable { shape, .. } => {
                let extent = shape.max_extent(rest);
                let mut try_end = |end: usize, captures: &mut [(usize, usize)]| {
                    if !rest.is_char_boundary(end) || !shape.accepts(&rest[..end]) {
                        return false;
                    }
                    captures[index] = (pos, pos + end);
                    self.match_from(index + 1, pos + end, text, captures, budget)
                };
                match self.segments.get(index + 1) {
                    None => extent == rest.len() && try_end(rest.len(), captures),
                    Some(Segment::Literal(next)) => {
                        for end in memmem::find_iter(rest.as_bytes(), next.as_bytes()) {
                            if end > extent {
                                break;
                            }
                            if try_end(end, captures) {
                                return true;
                            }
                        }
                        false
                    }
                    Some(Segment::Variable { .. }) => {
                        (0..=extent).any(|end| try_end(end, captures))
                    }
                }
            }
        }
    }
}

/// The JSON key at the end of `text` (`…, "status":"` → `status`).
fn json_key_before(text: &str) -> Option<String> {
    let text = text.trim_end();
    let text = text.strip_suffix('"').unwrap_or(text).trim_end();
    let text = text.strip_suffix(':')?.trim_end();
    let text = text.strip_suffix('"')?;
    let start = text.rfind('"')?;
    Some(text[start + 1..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::presets::{preset, PresetName};

    #[test]
    fn rest_clf_preset_line() {
        let t = Template::parse(preset(PresetName::RestClf)).unwrap();
        let line = r#"203.0.113.17 - - [25/Nov/2026:02:56:04 +0000] "GET /pets/{petId} HTTP/1.1" 200 49 c5a56ba0-fd42-4425-b7d2-5e8836563270 Vts2FFmArPEFh8g="#;
        let r = t.decode(line.as_bytes()).unwrap();
        assert_eq!(r.get(Field::Status), Some("200"));
        assert_eq!(r.get(Field::HttpMethod), Some("GET"));
        assert_eq!(r.get(Field::ResourcePath), Some("/pets/{petId}"));
        assert_eq!(
            r.get(Field::RequestTime),
            Some("25/Nov/2026:02:56:04 +0000")
        );
    }

    #[test]
    fn http_clf_route_key_with_space() {
        let t = Template::parse(preset(PresetName::HttpClf)).unwrap();
        let line = r#"198.51.100.23 - - [25/Nov/2026:02:56:04 +0000] "GET GET /pets/{petId} HTTP/1.1" 200 49 Jx2bFhRqoAMEVQA= Jx2bFhRqoAMEVQA="#;
        let r = t.decode(line.as_bytes()).unwrap();
        assert_eq!(r.get(Field::RouteKey), Some("GET /pets/{petId}"));
    }

    #[test]
    fn csv_preset_line() {
        let t = Template::parse(preset(PresetName::RestCsv)).unwrap();
        let line = "203.0.113.17,-,-,25/Nov/2026:02:56:04 +0000,GET,/pets/{petId},HTTP/1.1,200,49,c5a56ba0-fd42-4425-b7d2-5e8836563270,Vts2FFmArPEFh8g=";
        let r = t.decode(line.as_bytes()).unwrap();
        assert_eq!(r.get(Field::Status), Some("200"));
        assert_eq!(r.get(Field::ResourcePath), Some("/pets/{petId}"));
    }

    #[test]
    fn backtracks_over_a_value_containing_the_next_literal() {
        let t = Template::parse(
            r#"$context.requestId "$context.identity.userAgent" $context.status $context.responseLatency"#,
        )
        .unwrap();
        let line = r#"abc "curl/8 "quoted" x" 200 15"#;
        let r = t.decode(line.as_bytes()).unwrap();
        assert_eq!(r.get(Field::Status), Some("200"));
        assert_eq!(r.get(Field::ResponseLatency), Some("15"));
    }

    #[test]
    fn mismatching_line_is_rejected() {
        let t = Template::parse(preset(PresetName::RestClf)).unwrap();
        assert_eq!(
            t.decode(b"not a log line").unwrap_err(),
            SkipReason::FormatMismatch
        );
    }

    #[test]
    fn json_template_gives_keys() {
        let t = Template::parse(r#"{"s":"$context.status", "lat": $context.responseLatency, "err":"$context.error.message"}"#).unwrap();
        let keys = t.json_keys().unwrap();
        assert!(keys.contains(&(Field::Status, "s".into())));
        assert!(keys.contains(&(Field::ResponseLatency, "lat".into())));
        assert!(keys.contains(&(Field::ErrorMessage, "err".into())));
    }

    #[test]
    fn templates_need_variables() {
        assert!(Template::parse("plain text").is_err());
    }
}
