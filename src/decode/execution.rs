//! REST API execution logs (`API-Gateway-Execution-Logs_{apiId}/{stage}`): one CloudWatch
//! event per line, each `(<requestId>) <message>`. Every line shape of
//! `../shared/reference/formats.md` §2.2 is classified; lines of many requests interleave and
//! are stitched per request ID. Unknown shapes are kept as "unclassified", never dropped.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::{LATENCY_RANGE_MS, STATUS_RANGE};
use crate::model::{InvalidField, InvalidFields, Request};

/// What one execution-log line says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecFact {
    /// `Extended Request Id: …`
    ExtendedRequestId {
        /// The ID.
        id: String,
    },
    /// `Starting authorizer: …`
    AuthorizerStarted,
    /// `Successfully completed authorizer execution`
    AuthorizerSucceeded,
    /// `Unauthorized request: …` (client gets 401).
    AuthorizerDenied,
    /// `Verifying Usage Plan for request: … API Key: <masked key> API Stage: <apiId>/<stage>`
    UsagePlanVerifying {
        /// `<apiId>/<stage>`.
        api_stage: String,
        /// The API key as logged (masked but for its last characters); `None` when empty.
        api_key: Option<String>,
    },
    /// `API Key … authorized because method '<METHOD> <resource>' does not require API Key`
    ApiKeyNotRequired {
        /// `METHOD resource`, from the quoted method.
        route: Option<String>,
    },
    /// `Usage Plan check succeeded …`
    UsagePlanSucceeded,
    /// `API Key … not authorized because method '<METHOD> <resource>' requires API Key and
    /// API Key is not associated with a Usage Plan …`
    ApiKeyRejected {
        /// `METHOD resource`, from the quoted method.
        route: Option<String>,
    },
    /// `Usage Plan check failed due to an internal error`
    UsagePlanInternalError,
    /// `Key throttle limit exceeded for …`
    KeyThrottled {
        /// The message.
        detail: String,
    },
    /// `… exceeded quota limit …` / `Key quota exhausted …`
    QuotaExhausted {
        /// The message.
        detail: String,
    },
    /// `Starting execution for request: …`
    ExecutionStarted,
    /// `HTTP Method: GET, Resource Path: /pets`
    MethodAndResource {
        /// Method.
        method: String,
        /// Resource path.
        resource: String,
    },
    /// `Endpoint request URI: …` or `Sending request to …`
    EndpointUri {
        /// The URI.
        uri: String,
    },
    /// `Received response. [Status: 200, ]Integration latency: 20 ms`
    ReceivedResponse {
        /// Status from the integration (newer form only).
        status: Option<u16>,
        /// Integration latency, ms, as logged (checked against the plausible bounds only when
        /// it becomes a request's value).
        latency_ms: Option<f64>,
    },
    /// `Execution failed due to a timeout error` (504).
    Timeout,
    /// `… Malformed Lambda proxy response` (502).
    MalformedProxyResponse,
    /// `Lambda execution failed with status 200 due to customer function error: …` (502).
    FunctionError {
        /// The error text.
        detail: String,
    },
    /// `Lambda invocation failed with status: 429 …` / `Rate Exceeded.` (500).
    LambdaThrottled,
    /// `… Invalid permissions on Lambda function` (500).
    LambdaPermissions,
    /// Other `Execution failed due to configuration error: …`.
    ConfigurationError {
        /// The error text.
        detail: String,
    },
    /// `Successfully completed execution`
    ExecutionSucceeded,
    /// `Method completed with status: N`
    MethodCompleted {
        /// Final status.
        status: u16,
    },
    /// `AWS Integration Endpoint RequestId : …`
    IntegrationRequestId {
        /// The ID.
        id: String,
    },
    /// `X-ray Tracing ID : 1-…` (or `Root=1-…`)
    XrayTraceId {
        /// The trace ID as logged.
        id: String,
    },
    /// Request/response headers, bodies, path and query parameters (data trace).
    DataTrace,
    /// A line no rule recognises.
    Unclassified,
}

/// Splits `(<requestId>) <message>`.
pub fn split_prefix(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('(')?;
    let close = rest.find(") ")?;
    let id = &rest[..close];
    if id.is_empty() || id.contains(' ') || id.len() > 100 {
        return None;
    }
    Some((id, &rest[close + 2..]))
}

fn after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    message
        .find(marker)
        .map(|i| message[i + marker.len()..].trim())
}

/// Classifies one message (the text after the request-ID prefix).
pub fn classify(message: &str) -> ExecFact {
    let m = message.trim_end();
    let m = m.strip_suffix("[TRUNCATED]").map_or(m, str::trim_end);
    let owned = |s: &str| s.to_string();
    if let Some(id) = m.strip_prefix("Extended Request Id: ") {
        return ExecFact::ExtendedRequestId {
            id: owned(id.trim()),
        };
    }
    if m.starts_with("Starting authorizer") {
        return ExecFact::AuthorizerStarted;
    }
    if m.starts_with("Successfully completed authorizer execution") {
        return ExecFact::AuthorizerSucceeded;
    }
    if m.starts_with("Unauthorized request") {
        return ExecFact::AuthorizerDenied;
    }
    if m.starts_with("Verifying Usage Plan for request") {
        let api_key = after(m, "API Key:")
            .and_then(|k| k.split("API Stage:").next())
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(owned);
        return ExecFact::UsagePlanVerifying {
            api_stage: after(m, "API Stage:").map(owned).unwrap_or_default(),
            api_key,
        };
    }
    if m.starts_with("API Key") && m.contains("does not require API Key") {
        return ExecFact::ApiKeyNotRequired {
            route: quoted_route(m),
        };
    }
    if m.starts_with("API Key") && m.contains("not authorized") {
        return ExecFact::ApiKeyRejected {
            route: quoted_route(m),
        };
    }
    if m.starts_with("Usage Plan check succeeded") {
        return ExecFact::UsagePlanSucceeded;
    }
    if m.starts_with("Usage Plan check failed") {
        return ExecFact::UsagePlanInternalError;
    }
    if m.contains("Key throttle limit exceeded") || m.contains("exceeded throttle limit") {
        return ExecFact::KeyThrottled { detail: owned(m) };
    }
    if m.contains("exceeded quota limit") || m.contains("Key quota exhausted") {
        return ExecFact::QuotaExhausted { detail: owned(m) };
    }
    if m.starts_with("Starting execution for request") {
        return ExecFact::ExecutionStarted;
    }
    if let Some(rest) = m.strip_prefix("HTTP Method: ") {
        if let Some((method, resource)) = rest.split_once(", Resource Path: ") {
            return ExecFact::MethodAndResource {
                method: owned(method.trim()),
                resource: owned(resource.trim()),
            };
        }
    }
    if let Some(uri) = m
        .strip_prefix("Endpoint request URI: ")
        .or_else(|| m.strip_prefix("Sending request to "))
    {
        return ExecFact::EndpointUri {
            uri: owned(uri.trim()),
        };
    }
    if m.starts_with("Received response.") {
        let status = after(m, "Status:")
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok());
        let latency = after(m, "Integration latency:").map(|s| {
            let number = s.split_whitespace().next().unwrap_or("");
            crate::decode::number::parse_number(number)
        });
        return match latency {
            // A latency that is not a number: the line says something no rule knows.
            Some(None) => ExecFact::Unclassified,
            Some(latency_ms) => ExecFact::ReceivedResponse { status, latency_ms },
            None => ExecFact::ReceivedResponse {
                status,
                latency_ms: None,
            },
        };
    }
    if m.starts_with("Execution failed due to a timeout error") {
        return ExecFact::Timeout;
    }
    if m.contains("Malformed Lambda proxy response") {
        return ExecFact::MalformedProxyResponse;
    }
    if m.contains("due to customer function error") {
        return ExecFact::FunctionError {
            detail: after(m, "customer function error:")
                .map(owned)
                .unwrap_or_default(),
        };
    }
    if m.starts_with("Lambda invocation failed with status: 429") || m.contains("Rate Exceeded") {
        return ExecFact::LambdaThrottled;
    }
    if m.contains("Invalid permissions on Lambda function") {
        return ExecFact::LambdaPermissions;
    }
    if let Some(detail) = m.strip_prefix("Execution failed due to configuration error:") {
        return ExecFact::ConfigurationError {
            detail: owned(detail.trim()),
        };
    }
    if m.starts_with("Successfully completed execution") {
        return ExecFact::ExecutionSucceeded;
    }
    if let Some(status) = m.strip_prefix("Method completed with status: ") {
        if let Ok(status) = status.trim().parse() {
            return ExecFact::MethodCompleted { status };
        }
    }
    if let Some(id) = m.strip_prefix("AWS Integration Endpoint RequestId :") {
        return ExecFact::IntegrationRequestId {
            id: owned(id.trim()),
        };
    }
    if let Some(id) = m.strip_prefix("X-ray Tracing ID :") {
        return ExecFact::XrayTraceId {
            id: owned(id.trim()),
        };
    }
    const DATA: [&str; 11] = [
        "Method request path:",
        "Method request query string:",
        "Method request headers:",
        "Method request body before transformations:",
        "Endpoint request headers:",
        "Endpoint request body after transformations:",
        "Endpoint response headers:",
        "Endpoint response body before transformations:",
        "Method response body after transformations:",
        "Method response headers:",
        "Request validation succeeded",
    ];
    const AUTH_DATA: [&str; 3] = [
        "Incoming identity:",
        "Authorizer result body before parsing:",
        "Using valid authorizer policy",
    ];
    if DATA
        .iter()
        .chain(AUTH_DATA.iter())
        .any(|p| m.starts_with(p))
    {
        return ExecFact::DataTrace;
    }
    ExecFact::Unclassified
}

/// `METHOD resource` from the quoted `method 'GET /pets'` of the API-key lines.
fn quoted_route(message: &str) -> Option<String> {
    let quoted = after(message, "method '")?;
    let route = &quoted[..quoted.find('\'')?];
    route.contains(' ').then(|| route.to_string())
}

/// One request's execution, stitched from its lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Execution {
    /// Request ID.
    pub request_id: String,
    /// Method from `HTTP Method: …`.
    pub method: Option<String>,
    /// Resource path.
    pub resource: Option<String>,
    /// Stage, from `API Stage: <apiId>/<stage>`.
    pub stage: Option<String>,
    /// Whether the integration was called (endpoint request or response lines).
    pub integration_called: bool,
    /// Final status (`Method completed with status`).
    pub status: Option<u16>,
    /// Integration latency as logged (`Received response. … Integration latency: N ms`).
    pub integration_latency_ms: Option<f64>,
    /// Status the integration returned.
    pub integration_status: Option<u16>,
    /// Endpoint URI.
    pub endpoint: Option<String>,
    /// Why it failed, in one phrase (`integration timeout`, `malformed Lambda proxy response`,
    /// `key throttle limit`, …), when a line says.
    pub cause: Option<String>,
    /// Every line in order: (event time in ms when known, message).
    pub lines: Vec<(Option<i64>, String)>,
    /// Lines no rule recognises.
    pub unclassified: u64,
    /// `Extended Request Id: …`.
    pub extended_request_id: Option<String>,
    /// The API key as logged by the usage-plan lines (masked but for its last characters).
    pub api_key: Option<String>,
    /// `X-ray Tracing ID : …`.
    pub xray_trace_id: Option<String>,
    /// The status the failure line implies (`Execution failed due to a timeout error`: 504,
    /// `Key throttle limit exceeded`: 429, …), for requests whose `Method completed` line is
    /// missing.
    pub implied_status: Option<u16>,
    /// The gateway response type the failure line implies (`INTEGRATION_TIMEOUT`,
    /// `THROTTLED`, `QUOTA_EXCEEDED`, …).
    pub response_type: Option<&'static str>,
    /// Event time of the first endpoint request line (`Endpoint request URI` / `Sending
    /// request to`), ms.
    pub sent_at_ms: Option<i64>,
    /// Event time of `Execution failed due to a timeout error`, ms.
    pub timed_out_at_ms: Option<i64>,
    /// Event time of `Method completed with status`, ms.
    pub completed_at_ms: Option<i64>,
    /// Where its first line was read (`file:line`), when the reader said.
    pub place: Option<String>,
    /// Whether a line of the request's beginning was read (`Extended Request Id`, the
    /// usage-plan check, `Starting authorizer`, `Starting execution for request`): only then
    /// does its first line's time stand for its arrival.
    pub start_logged: bool,
}

impl Execution {
    /// The earliest event time among its lines, ms.
    pub fn first_line_ms(&self) -> Option<i64> {
        self.lines.iter().filter_map(|(t, _)| *t).min()
    }

    /// The request as a request record arriving at `time_ms`, for the same aggregation as
    /// access-log records. What the lines state is taken as stated: status (`Method
    /// completed with status`, else the one the failure line implies), method and resource
    /// (`HTTP Method: …, Resource Path: …`, else the API-key lines' `method '…'`), stage,
    /// API key (masked as logged), integration latency (`Received response. …`), the
    /// gateway response type a failure line implies. Two values are event-time spans: the
    /// latency, from the first line to `Method completed` when the request's beginning is
    /// logged, and on a timeout without a `Received response` line, the integration latency
    /// from the first endpoint request line to `Execution failed due to a timeout error`.
    /// Values outside the plausible bounds of [`crate::facts`] are left out and named in
    /// [`Request::invalid`], as for access logs.
    pub fn to_request(&self, time_ms: i64) -> Request<'_> {
        let mut invalid = InvalidFields::default();
        let status = match self.status.or(self.implied_status) {
            Some(s) if STATUS_RANGE.contains(&s) => Some(s),
            Some(_) => {
                invalid.insert(InvalidField::Status);
                None
            }
            None => None,
        };
        let mut checked = |value: Option<f64>, field: InvalidField| match value {
            Some(v) if LATENCY_RANGE_MS.contains(&v) => Some(v),
            Some(_) => {
                invalid.insert(field);
                None
            }
            None => None,
        };
        let span = |from: Option<i64>, to: Option<i64>| Some((to? - from?) as f64);
        let integration = self
            .integration_latency_ms
            .or_else(|| span(self.sent_at_ms, self.timed_out_at_ms));
        let integration_latency_ms = checked(integration, InvalidField::IntegrationLatency);
        let first = self.start_logged.then(|| self.first_line_ms()).flatten();
        let latency_ms = checked(span(first, self.completed_at_ms), InvalidField::Latency);
        fn borrowed(v: &Option<String>) -> Option<Cow<'_, str>> {
            v.as_deref().map(Cow::Borrowed)
        }
        let route = self.resource.as_deref().map(|resource| match &self.method {
            Some(method) => Cow::Owned(format!("{method} {resource}")),
            None => Cow::Borrowed(resource),
        });
        Request {
            time_ms,
            status,
            method: borrowed(&self.method),
            route,
            stage: borrowed(&self.stage),
            api_key: borrowed(&self.api_key),
            error_type: self.response_type.map(Cow::Borrowed),
            error_message: None,
            latency_ms,
            integration_latency_ms,
            request_id: Some(Cow::Borrowed(&self.request_id)),
            xray_trace_id: borrowed(&self.xray_trace_id),
            invalid,
            ..Request::default()
        }
    }
}

/// What a failure line implies: the client status and the gateway response type
/// (`../shared/reference/formats.md` §6.2, "How execution-log failures map to client
/// status"), and the cause in one phrase.
struct Failure {
    cause: &'static str,
    status: Option<u16>,
    response_type: Option<&'static str>,
}

const fn failure(
    cause: &'static str,
    status: Option<u16>,
    response_type: Option<&'static str>,
) -> Failure {
    Failure {
        cause,
        status,
        response_type,
    }
}

/// The failure a fact reports, if it reports one.
fn failure_of(fact: &ExecFact) -> Option<Failure> {
    Some(match fact {
        ExecFact::Timeout => failure(
            "integration timeout",
            Some(504),
            Some("INTEGRATION_TIMEOUT"),
        ),
        ExecFact::MalformedProxyResponse => {
            failure("malformed Lambda proxy response", Some(502), None)
        }
        ExecFact::FunctionError { .. } => failure("Lambda function error", Some(502), None),
        ExecFact::LambdaThrottled => failure("Lambda throttled the invocation", Some(500), None),
        ExecFact::LambdaPermissions => failure(
            "no permission to invoke the Lambda function",
            Some(500),
            None,
        ),
        ExecFact::ConfigurationError { .. } => {
            failure("integration configuration error", None, None)
        }
        ExecFact::KeyThrottled { .. } => {
            failure("API key throttle limit", Some(429), Some("THROTTLED"))
        }
        ExecFact::QuotaExhausted { .. } => {
            failure("API key quota exhausted", Some(429), Some("QUOTA_EXCEEDED"))
        }
        ExecFact::ApiKeyRejected { .. } => failure(
            "API key has no usage plan for the stage",
            Some(403),
            Some("INVALID_API_KEY"),
        ),
        ExecFact::AuthorizerDenied => failure(
            "authorizer denied the request",
            Some(401),
            Some("UNAUTHORIZED"),
        ),
        _ => return None,
    })
}

/// What a `Key throttle limit exceeded for RestApi <apiId>, Stage <stage>, Resource
/// <resource>, HttpMethod <METHOD>. …` line names: stage, method, and the resource when it is
/// a path (AWS writes the resource ID there, e.g. `q7xz0e`, which names no route).
#[derive(Debug, Default, PartialEq)]
struct Throttled<'a> {
    stage: Option<&'a str>,
    resource: Option<&'a str>,
    method: Option<&'a str>,
}

fn throttled(detail: &str) -> Throttled<'_> {
    // `API Key … exceeded throttle limit for API Stage <apiId>/<stage>: Key throttle limit
    // exceeded for RestApi …`: the names follow `RestApi`.
    let Some(named) = after(detail, "for RestApi ") else {
        let stage = after(detail, "API Stage ")
            .and_then(|v| v.split([':', ' ']).next())
            .and_then(|v| v.split_once('/'))
            .map(|(_, stage)| stage)
            .filter(|v| !v.is_empty());
        return Throttled {
            stage,
            ..Throttled::default()
        };
    };
    let part = |marker: &str, ends: &[char]| {
        after(named, marker)
            .and_then(|v| v.split(ends).next())
            .filter(|v| !v.is_empty())
    };
    Throttled {
        stage: part("Stage ", &[',', ' ']),
        resource: part("Resource ", &[',', ' ']).filter(|r| r.starts_with('/')),
        method: part("HttpMethod ", &[',', '.', ' ']),
    }
}

/// Execution records by request ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Executions {
    /// Records.
    pub by_request: BTreeMap<String, Execution>,
    /// Lines that belong to no request: no `(requestId)` prefix, and (in logs from before the
    /// prefix) none of the lines before them named a request.
    pub without_id: u64,
    /// For logs from before the `(requestId)` prefix: the request the lines read so far belong
    /// to, per log stream: the one the latest naming line named.
    open: BTreeMap<Option<String>, String>,
}

/// The request ID a line from before the `(requestId)` prefix names: `Starting execution for
/// request: <id>`, `Verifying Usage Plan for request: <id>. …`, `Starting authorizer: <a> for
/// request: <id>`, `Unauthorized request: <id>`.
fn named_request(message: &str) -> Option<&str> {
    let id =
        after(message, "for request: ").or_else(|| after(message, "Unauthorized request: "))?;
    let id = id.split([' ', '.']).next()?;
    (!id.is_empty() && id.len() <= 100).then_some(id)
}

impl Executions {
    /// Adds one line (a CloudWatch event's message) with its event time.
    pub fn add(&mut self, line: &str, time_ms: Option<i64>) {
        self.add_in(None, line, time_ms, || None);
    }

    /// Adds one line of log stream `stream`. Lines from before the `(requestId)` prefix are
    /// stitched by order within their stream: every line belongs to the request the latest
    /// line naming one named (`Verifying Usage Plan for request: …`, `Starting execution for
    /// request: …`); lines before the first such line belong to none and are counted.
    /// `place` says where the line was read (`file:line`); it is asked for once per request,
    /// for its first line.
    pub fn add_in(
        &mut self,
        stream: Option<&str>,
        line: &str,
        time_ms: Option<i64>,
        place: impl FnOnce() -> Option<String>,
    ) {
        let line = line.trim_end();
        let (id, message) = match split_prefix(line) {
            Some((id, message)) => (id.to_string(), message),
            None => {
                let stream = stream.map(str::to_string);
                if let Some(named) = named_request(line) {
                    self.open.insert(stream.clone(), named.to_string());
                }
                match self.open.get(&stream) {
                    Some(id) => (id.clone(), line),
                    None => {
                        self.without_id += 1;
                        return;
                    }
                }
            }
        };
        let fact = classify(message);
        let record = self
            .by_request
            .entry(id.clone())
            .or_insert_with(|| Execution {
                request_id: id,
                place: place(),
                ..Execution::default()
            });
        record.lines.push((time_ms, message.to_string()));
        if let Some(failure) = failure_of(&fact) {
            if record.cause.is_none() {
                record.cause = Some(failure.cause.to_string());
                record.implied_status = failure.status;
                record.response_type = failure.response_type;
            }
        }
        let set_route = |r: &mut Execution, route: Option<String>| {
            if let (None, Some((method, resource))) =
                (&r.resource, route.as_ref().and_then(|x| x.split_once(' ')))
            {
                r.method = Some(method.to_string());
                r.resource = Some(resource.to_string());
            }
        };
        if matches!(
            fact,
            ExecFact::ExtendedRequestId { .. }
                | ExecFact::UsagePlanVerifying { .. }
                | ExecFact::AuthorizerStarted
                | ExecFact::ExecutionStarted
        ) {
            record.start_logged = true;
        }
        match fact {
            ExecFact::ExtendedRequestId { id } => record.extended_request_id = Some(id),
            ExecFact::MethodAndResource { method, resource } => {
                record.method = Some(method);
                record.resource = Some(resource);
            }
            ExecFact::UsagePlanVerifying { api_stage, api_key } => {
                if let Some((_, stage)) = api_stage.split_once('/') {
                    record.stage = Some(stage.trim().to_string());
                }
                record.api_key = api_key.or(record.api_key.take());
            }
            ExecFact::ApiKeyNotRequired { route } | ExecFact::ApiKeyRejected { route } => {
                set_route(record, route);
            }
            ExecFact::KeyThrottled { detail } => {
                let named = throttled(&detail);
                if record.stage.is_none() {
                    record.stage = named.stage.map(str::to_string);
                }
                if record.method.is_none() {
                    record.method = named.method.map(str::to_string);
                    if record.resource.is_none() {
                        record.resource = named.resource.map(str::to_string);
                    }
                }
            }
            ExecFact::EndpointUri { uri } => {
                record.integration_called = true;
                record.endpoint.get_or_insert(uri);
                if record.sent_at_ms.is_none() {
                    record.sent_at_ms = time_ms;
                }
            }
            ExecFact::Timeout => {
                record.integration_called = true;
                record.timed_out_at_ms = time_ms.or(record.timed_out_at_ms);
            }
            ExecFact::ReceivedResponse { status, latency_ms } => {
                record.integration_called = true;
                record.integration_status = status.or(record.integration_status);
                record.integration_latency_ms = latency_ms.or(record.integration_latency_ms);
            }
            ExecFact::MethodCompleted { status } => {
                record.status = Some(status);
                record.completed_at_ms = time_ms.or(record.completed_at_ms);
            }
            ExecFact::XrayTraceId { id } => record.xray_trace_id = Some(id),
            ExecFact::Unclassified => record.unclassified += 1,
            _ => {}
        }
    }

    /// Ends an input: lines of the next one do not continue its open requests.
    pub fn end_input(&mut self) {
        self.open.clear();
    }

    /// Lines no rule recognised, over all requests.
    pub fn unclassified(&self) -> u64 {
        self.by_request.values().map(|r| r.unclassified).sum()
    }
}

/// Whether a line looks like an execution-log line, with or without the `(requestId)` prefix
/// (logs from before it).
pub fn looks_like_execution_line(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    match split_prefix(line) {
        Some((_, message)) => classify(message) != ExecFact::Unclassified,
        // Every execution message starts with a capital (`Starting execution …`, `HTTP
        // Method: …`); access-log lines that merely quote one (an error message in JSON) do not.
        None => {
            line.starts_with(|c: char| c.is_ascii_uppercase())
                && classify(line) != ExecFact::Unclassified
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQUENCE: &str = include_str!("../../tests/fixtures/execution/sequence.log");

    #[test]
    fn every_line_of_the_reference_sequence_is_classified() {
        for line in SEQUENCE.lines() {
            let (id, message) = split_prefix(line).unwrap();
            assert_eq!(id, "6d5f8fb5-9330-48b7-a3d7-7291dd488abb");
            assert_ne!(classify(message), ExecFact::Unclassified, "{message}");
        }
        let mut e = Executions::default();
        for line in SEQUENCE.lines() {
            e.add(line, None);
        }
        let r = &e.by_request["6d5f8fb5-9330-48b7-a3d7-7291dd488abb"];
        assert_eq!(
            (r.method.as_deref(), r.resource.as_deref()),
            (Some("POST"), Some("/orders"))
        );
        assert_eq!(
            (r.status, r.integration_status, r.integration_latency_ms),
            (Some(201), Some(200), Some(123.0))
        );
        assert!(r.endpoint.as_deref().unwrap().contains("orders-api"));
        assert_eq!(r.cause, None);
        assert_eq!(e.unclassified(), 0);
    }

    #[test]
    fn lines_from_before_the_prefix_give_the_same_facts_stitched_by_order() {
        let mut prefixed = Executions::default();
        let mut plain = Executions::default();
        // A line before any request is named, then the reference sequence without its
        // prefixes (less its `Extended Request Id` line, which logs from before the prefix
        // do not have), then a second request in the same stream.
        plain.add_in(Some("s1"), "Method request path: {}", None, || None);
        for line in SEQUENCE.lines().skip(1) {
            prefixed.add(line, Some(1));
            let (_, message) = split_prefix(line).unwrap();
            assert!(looks_like_execution_line(message.as_bytes()), "{message}");
            plain.add_in(Some("s1"), message, Some(1), || None);
        }
        assert_eq!(plain.without_id, 1);
        assert_eq!(plain.by_request, prefixed.by_request);
        plain.add_in(
            Some("s1"),
            "Starting execution for request: r-2",
            None,
            || None,
        );
        plain.add_in(
            Some("s2"),
            "Method completed with status: 200",
            None,
            || None,
        );
        plain.add_in(
            Some("s1"),
            "Execution failed due to a timeout error",
            None,
            || None,
        );
        plain.add_in(
            Some("s1"),
            "Method completed with status: 504",
            None,
            || None,
        );
        let r2 = &plain.by_request["r-2"];
        assert_eq!(r2.status, Some(504));
        assert_eq!(r2.cause.as_deref(), Some("integration timeout"));
        assert_eq!(plain.without_id, 2);
        // An access-log line quoting an execution message is not one.
        let access = br#"{"status":"502","integrationErrorMessage":"Execution failed due to configuration error: Malformed Lambda proxy response"}"#;
        assert!(!looks_like_execution_line(access));
    }

    #[test]
    fn failure_shapes_have_causes() {
        let cases = [
            ("Execution failed due to a timeout error", "integration timeout"),
            ("Execution failed due to configuration error: Malformed Lambda proxy response", "malformed Lambda proxy response"),
            ("Lambda execution failed with status 200 due to customer function error: boom. Lambda request id: x", "Lambda function error"),
            ("Lambda invocation failed with status: 429. Lambda request id: x", "Lambda throttled the invocation"),
            ("Execution failed due to configuration error: Invalid permissions on Lambda function", "no permission to invoke the Lambda function"),
            ("Execution failed due to configuration error: Unable to transform request", "integration configuration error"),
            ("Key throttle limit exceeded for RestApi abc, Stage dev, Resource r1, HttpMethod GET. Limit: 1.00 Burst: 1", "API key throttle limit"),
            ("API Key **** not authorized because method 'GET /x' requires API Key and API Key is not associated with a Usage Plan for API Stage abc/dev: No Usage Plan found for key and API Stage", "API key has no usage plan for the stage"),
        ];
        for (message, cause) in cases {
            let mut e = Executions::default();
            e.add(&format!("(r1) {message}"), None);
            assert_eq!(
                e.by_request["r1"].cause.as_deref(),
                Some(cause),
                "{message}"
            );
        }
    }

    #[test]
    fn throttle_lines_name_stage_method_and_a_resource_path() {
        let real = "Key throttle limit exceeded for RestApi abc, Stage dev, Resource q7xz0e, HttpMethod GET. Limit: 1.00 Burst: 1";
        assert_eq!(
            throttled(real),
            Throttled {
                stage: Some("dev"),
                resource: None,
                method: Some("GET")
            }
        );
        let with_key = "API Key ****8tr5wz exceeded throttle limit for API Stage k1/prod: Key throttle limit exceeded for RestApi k1, Stage prod, Resource /orders, HttpMethod POST. Limit: 10.00 Burst: 20";
        assert_eq!(
            throttled(with_key),
            Throttled {
                stage: Some("prod"),
                resource: Some("/orders"),
                method: Some("POST")
            }
        );
        assert_eq!(
            throttled("API Key ****8tr5wz exceeded throttle limit for API Stage k1/prod").stage,
            Some("prod")
        );
    }

    #[test]
    fn an_execution_becomes_a_request_with_stated_values_and_spans() {
        let mut e = Executions::default();
        for (i, line) in SEQUENCE.lines().enumerate() {
            e.add(line, Some(1_795_575_364_000 + i as i64));
        }
        let r = &e.by_request["6d5f8fb5-9330-48b7-a3d7-7291dd488abb"];
        let q = r.to_request(7);
        assert_eq!(q.time_ms, 7);
        assert_eq!(q.status, Some(201));
        assert_eq!(q.route.as_deref(), Some("POST /orders"));
        assert_eq!(q.stage.as_deref(), Some("prod"));
        assert_eq!(q.api_key, None);
        assert_eq!(q.integration_latency_ms, Some(123.0));
        // From the first line to `Method completed` (its 21st).
        assert_eq!(q.latency_ms, Some(20.0));
        assert_eq!(
            q.xray_trace_id.as_deref(),
            Some("1-6b064e44-0a1b2c3d4e5f60718293a4b5")
        );
        assert!(q.invalid.is_empty());

        // A throttled request: route from the API-key line, status and type implied.
        let mut e = Executions::default();
        e.add(
            "(t) Verifying Usage Plan for request: t. API Key: ****8tr5wz API Stage: k1/prod",
            Some(10),
        );
        e.add("(t) API Key ****8tr5wz authorized because method 'GET /pets' does not require API Key. Request will not contribute to throttle or quota limits", Some(10));
        e.add("(t) Key throttle limit exceeded for RestApi k1, Stage prod, Resource q7xz0e, HttpMethod GET. Limit: 1.00 Burst: 1", Some(11));
        let q = e.by_request["t"].to_request(10);
        assert_eq!(q.status, Some(429));
        assert_eq!(q.error_type.as_deref(), Some("THROTTLED"));
        assert_eq!(q.route.as_deref(), Some("GET /pets"));
        assert_eq!(q.api_key.as_deref(), Some("****8tr5wz"));
        // No `Method completed` line: no latency.
        assert_eq!(q.latency_ms, None);

        // A timeout without `Received response`: integration latency is the span.
        let mut e = Executions::default();
        e.add("(o) Starting execution for request: o", Some(1_000));
        e.add("(o) Sending request to https://lambda", Some(1_002));
        e.add("(o) Execution failed due to a timeout error", Some(30_003));
        let q = e.by_request["o"].to_request(1_000);
        assert_eq!(q.status, Some(504));
        assert_eq!(q.integration_latency_ms, Some(29_001.0));
        assert_eq!(q.error_type.as_deref(), Some("INTEGRATION_TIMEOUT"));

        // Implausible values are left out and named.
        let mut e = Executions::default();
        e.add(
            "(x) Received response. Status: 200, Integration latency: -5 ms",
            Some(1),
        );
        e.add("(x) Method completed with status: 999", Some(2));
        let q = e.by_request["x"].to_request(1);
        assert_eq!((q.status, q.integration_latency_ms), (None, None));
        let invalid: Vec<_> = q.invalid.iter().collect();
        assert_eq!(
            invalid,
            [InvalidField::Status, InvalidField::IntegrationLatency]
        );
        // Only a late line: no arrival to measure the latency from.
        assert_eq!(q.latency_ms, None);
    }

    #[test]
    fn old_received_response_form_truncation_and_interleaving() {
        let mut e = Executions::default();
        e.add("(a) Received response. Integration latency: 40 ms", Some(1));
        e.add("(b) HTTP Method: GET, Resource Path: /pets", Some(2));
        e.add(
            "(a) Endpoint request body after transformations: {\"x\": [TRUNCATED]",
            Some(3),
        );
        e.add("(b) Something new from AWS", Some(4));
        e.add("no prefix here", None);
        assert_eq!(e.by_request["a"].integration_latency_ms, Some(40.0));
        assert_eq!(e.by_request["a"].lines.len(), 2);
        assert_eq!(e.by_request["b"].unclassified, 1);
        assert_eq!(e.without_id, 1);
    }
}
