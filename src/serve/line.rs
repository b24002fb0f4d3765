//! An access-log line: the template compiled once into its literal text and the variables
//! between, then rendered per request straight into a reused buffer, each value escaped
//! for the template's syntax ([`LogSyntax`]) as it is written. The gateway core answers
//! the variables it knows ([`Outcome::context_value`]); serve answers the rest (ids, peer,
//! time, the raw path and User-Agent, the response length); any other is missing (`-`).

use std::cell::RefCell;
use std::fmt::Write;
use std::net::IpAddr;

use super::escape::LogSyntax;
use crate::decode::Template;
use crate::gateway::{ContextVariable, GatewayRequest, Outcome};

/// A variable serve answers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Variable {
    /// Answered by the gateway core ([`Outcome::context_str`]).
    Core(ContextVariable),
    RequestId,
    ExtendedRequestId,
    SourceIp,
    RequestTime,
    RequestTimeEpoch,
    Protocol,
    ResponseLength,
    Path,
    UserAgent,
    ApiId,
    /// Nothing serve knows: `-`.
    Missing,
}

/// What one request's line is made of besides the template.
pub(crate) struct LineFacts<'a> {
    pub(crate) outcome: &'a Outcome,
    /// As the gateway saw it, with the API key's ID (not its value) as `api_key`.
    pub(crate) request: &'a GatewayRequest<'a>,
    pub(crate) request_id: &'a str,
    pub(crate) extended_id: &'a str,
    pub(crate) peer: IpAddr,
    pub(crate) now_ns: u64,
    pub(crate) response_length: u64,
    pub(crate) path: &'a str,
    pub(crate) user_agent: Option<&'a str>,
}

/// A compiled access-log template.
#[derive(Debug, Clone)]
pub(crate) struct LineFormat {
    syntax: LogSyntax,
    /// The text before each variable, then the text after the last (one more than
    /// `variables`).
    literals: Vec<String>,
    variables: Vec<Variable>,
}

/// Separates the variables in the rendered skeleton; no template text contains it.
const MARK: char = '\u{0}';

impl LineFormat {
    /// Compiles `template`.
    pub(crate) fn new(template: &Template) -> LineFormat {
        let syntax = LogSyntax::of_skeleton(&template.render(|_| String::new()));
        let mut variables = Vec::new();
        let skeleton = template.render(|name| {
            variables.push(match ContextVariable::from_name(name) {
                Some(core) => Variable::Core(core),
                None => match name {
                    "requestId" => Variable::RequestId,
                    "extendedRequestId" => Variable::ExtendedRequestId,
                    "identity.sourceIp" => Variable::SourceIp,
                    "requestTime" => Variable::RequestTime,
                    "requestTimeEpoch" => Variable::RequestTimeEpoch,
                    "protocol" => Variable::Protocol,
                    "responseLength" => Variable::ResponseLength,
                    "path" => Variable::Path,
                    "identity.userAgent" => Variable::UserAgent,
                    "apiId" => Variable::ApiId,
                    _ => Variable::Missing,
                },
            });
            MARK.to_string()
        });
        let literals: Vec<String> = skeleton.split(MARK).map(str::to_string).collect();
        debug_assert_eq!(literals.len(), variables.len() + 1);
        LineFormat {
            syntax,
            literals,
            variables,
        }
    }

    /// The syntax of the template's lines.
    #[cfg(test)]
    pub(crate) fn syntax(&self) -> LogSyntax {
        self.syntax
    }

    /// Appends the line for `facts` (without a newline) to `out`.
    pub(crate) fn render(&self, facts: &LineFacts<'_>, out: &mut String) {
        let escape = |out: &mut String, value: &str| self.syntax.escape_into(value, out);
        let mut buffer = String::new();
        for (literal, variable) in self.literals.iter().zip(&self.variables) {
            out.push_str(literal);
            match variable {
                // Already quoted, one of the gateway's fixed messages.
                Variable::Core(ContextVariable::MessageString) => {
                    out.push_str(facts.outcome.context_str(
                        facts.request,
                        ContextVariable::MessageString,
                        &mut buffer,
                    ))
                }
                Variable::Core(core) => {
                    escape(
                        out,
                        facts.outcome.context_str(facts.request, *core, &mut buffer),
                    );
                }
                Variable::RequestId => escape(out, facts.request_id),
                Variable::ExtendedRequestId => escape(out, facts.extended_id),
                Variable::SourceIp => {
                    let _ = write!(out, "{}", facts.peer);
                }
                Variable::RequestTime => clf_time(facts.now_ns, out),
                Variable::RequestTimeEpoch => {
                    let _ = write!(out, "{}", facts.now_ns / 1_000_000);
                }
                Variable::Protocol => out.push_str("HTTP/1.1"),
                Variable::ResponseLength => {
                    let _ = write!(out, "{}", facts.response_length);
                }
                Variable::Path => escape(out, facts.path),
                Variable::UserAgent => escape(out, facts.user_agent.unwrap_or("-")),
                // The implicit API (top-level stages) has no id: missing, as `-`.
                Variable::ApiId if facts.request.api.is_empty() => out.push('-'),
                Variable::ApiId => escape(out, facts.request.api),
                Variable::Missing => out.push('-'),
            }
        }
        if let Some(last) = self.literals.last() {
            out.push_str(last);
        }
    }
}

/// `$context.requestTime` (`03/Dec/2026:10:11:04 +0000`), formatted once per second per
/// thread.
fn clf_time(now_ns: u64, out: &mut String) {
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let second = now_ns / 1_000_000_000;
    LAST.with_borrow_mut(|(at, text)| {
        if *at != second {
            *at = second;
            text.clear();
            match chrono::DateTime::from_timestamp(second as i64, 0) {
                Some(t) => {
                    let _ = write!(text, "{}", t.format("%d/%b/%Y:%H:%M:%S +0000"));
                }
                None => text.push('-'),
            }
        }
        out.push_str(text);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::presets::{preset, PresetName};
    use crate::gateway::{Backend, CacheResult};

    fn facts_line(format: &LineFormat, path: &str, user_agent: &str, api: &str) -> String {
        let outcome = Outcome {
            status: 200,
            response_type: None,
            message: None,
            refused_by: None,
            cache: CacheResult::Miss,
            latency_ms: 12,
            integration_latency_ms: Some(10),
            integration_status: Some(200),
        };
        let request = GatewayRequest {
            api,
            stage: "prod",
            method: "GET",
            resource: "/{proxy+}",
            api_key: Some("key1"),
            cache_key: "",
            cache_control_max_age_0: false,
            may_invalidate_cache: false,
            payload_bytes: 0,
            overhead_ms: Some(0),
            backend: Backend::Response {
                status: 200,
                latency_ms: 0,
                bytes: 0,
            },
        };
        let mut out = String::new();
        format.render(
            &LineFacts {
                outcome: &outcome,
                request: &request,
                request_id: "11111111-2222-4333-8444-555555555555",
                extended_id: "AbCdEfGhIjKlMnO=",
                peer: "127.0.0.1".parse().unwrap(),
                now_ns: 1_764_756_664_123_000_000,
                response_length: 11,
                path,
                user_agent: Some(user_agent),
            },
            &mut out,
        );
        out
    }

    #[test]
    fn the_default_format_renders_every_field() {
        let template = Template::parse(crate::generate::REST_JSON_CUSTOM).unwrap();
        let format = LineFormat::new(&template);
        assert_eq!(format.syntax(), LogSyntax::Json);
        let line = facts_line(&format, "/prod/items", "wrk", "l0adtest01");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["requestId"], "11111111-2222-4333-8444-555555555555");
        assert_eq!(v["extendedRequestId"], "AbCdEfGhIjKlMnO=");
        assert_eq!(v["ip"], "127.0.0.1");
        assert_eq!(v["requestTime"], "03/Dec/2025:10:11:04 +0000");
        assert_eq!(v["requestTimeEpoch"], "1764756664123");
        assert_eq!(v["httpMethod"], "GET");
        assert_eq!(v["resourcePath"], "/{proxy+}");
        assert_eq!(v["path"], "/prod/items");
        assert_eq!(v["status"], "200");
        assert_eq!(v["protocol"], "HTTP/1.1");
        assert_eq!(v["responseLength"], "11");
        assert_eq!(v["responseLatency"], "12");
        assert_eq!(v["integrationLatency"], "10");
        assert_eq!(v["integrationStatus"], "200");
        assert_eq!(v["error.message"], "-");
        assert_eq!(v["identity.apiKeyId"], "key1");
        assert_eq!(v["identity.userAgent"], "wrk");
        assert_eq!(v["stage"], "prod");
        assert_eq!(v["apiId"], "l0adtest01");
        // The implicit API has no id.
        let line = facts_line(&format, "/prod/items", "wrk", "");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["apiId"], "-");
    }

    #[test]
    fn the_same_line_as_the_template_renders_it() {
        // Every preset: the compiled format writes what Template::render writes.
        for name in PresetName::ALL {
            let template = Template::parse(preset(name)).unwrap();
            let format = LineFormat::new(&template);
            let line = facts_line(&format, "/prod/a b", "curl/8", "abc");
            let expected = template.render(|n| match n {
                "requestId" => "11111111-2222-4333-8444-555555555555".into(),
                "extendedRequestId" => "AbCdEfGhIjKlMnO=".into(),
                "identity.sourceIp" => "127.0.0.1".into(),
                "requestTime" => "03/Dec/2025:10:11:04 +0000".into(),
                "requestTimeEpoch" => "1764756664123".into(),
                "httpMethod" => "GET".into(),
                "resourcePath" => "/{proxy+}".into(),
                "routeKey" => "GET /{proxy+}".into(),
                "path" => "/prod/a b".into(),
                "status" | "integrationStatus" | "integration.status" => "200".into(),
                "protocol" => "HTTP/1.1".into(),
                "responseLength" => "11".into(),
                "responseLatency" => "12".into(),
                "integrationLatency" | "integration.latency" => "10".into(),
                "identity.apiKeyId" => "key1".into(),
                "identity.userAgent" => "curl/8".into(),
                "stage" => "prod".into(),
                "apiId" => "abc".into(),
                _ => "-".into(),
            });
            assert_eq!(line, expected, "{name:?}");
        }
    }

    #[test]
    fn client_values_are_escaped_and_cannot_add_fields() {
        let template = Template::parse(crate::generate::REST_JSON_CUSTOM).unwrap();
        let format = LineFormat::new(&template);
        let hostile = "/a\",\"status\":\"500\"}\n{\"x\":\"";
        let line = facts_line(&format, hostile, hostile, "abc");
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["path"], hostile);
        assert_eq!(v["identity.userAgent"], hostile);
        assert_eq!(v["status"], "200");
    }
}
