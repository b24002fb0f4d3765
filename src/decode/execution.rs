//! REST API execution logs (`API-Gateway-Execution-Logs_{apiId}/{stage}`): one CloudWatch
//! event per line, each `(<requestId>) <message>`. Every line shape of
//! `../shared/reference/formats.md` §2.2 is classified; lines of many requests interleave and
//! are stitched per request ID. Unknown shapes are kept as "unclassified", never dropped.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one execution-log line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// `Verifying Usage Plan for request: … API Stage: <apiId>/<stage>`
    UsagePlanVerifying {
        /// `<apiId>/<stage>`.
        api_stage: String,
    },
    /// `API Key … authorized because method '…' does not require API Key`
    ApiKeyNotRequired,
    /// `Usage Plan check succeeded …`
    UsagePlanSucceeded,
    /// `API Key … not authorized because method … requires API Key and API Key is not
    /// associated with a Usage Plan …`
    ApiKeyRejected,
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
        /// Integration latency, ms.
        latency_ms: u64,
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
        return ExecFact::UsagePlanVerifying {
            api_stage: after(m, "API Stage:").map(owned).unwrap_or_default(),
        };
    }
    if m.starts_with("API Key") && m.contains("does not require API Key") {
        return ExecFact::ApiKeyNotRequired;
    }
    if m.starts_with("API Key") && m.contains("not authorized") {
        return ExecFact::ApiKeyRejected;
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
        let latency = after(m, "Integration latency:")
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        return ExecFact::ReceivedResponse {
            status,
            latency_ms: latency,
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
    const DATA: [&str; 12] = [
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
        "X-ray Tracing ID",
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
    /// Integration latency.
    pub integration_latency_ms: Option<u64>,
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
        self.add_in(None, line, time_ms);
    }

    /// Adds one line of log stream `stream`. Lines from before the `(requestId)` prefix are
    /// stitched by order within their stream: every line belongs to the request the latest
    /// line naming one named (`Verifying Usage Plan for request: …`, `Starting execution for
    /// request: …`); lines before the first such line belong to none and are counted.
    pub fn add_in(&mut self, stream: Option<&str>, line: &str, time_ms: Option<i64>) {
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
                ..Execution::default()
            });
        record.lines.push((time_ms, message.to_string()));
        let cause = |r: &mut Execution, c: &str| {
            r.cause.get_or_insert_with(|| c.to_string());
        };
        match fact {
            ExecFact::MethodAndResource { method, resource } => {
                record.method = Some(method);
                record.resource = Some(resource);
            }
            ExecFact::UsagePlanVerifying { api_stage } => {
                if let Some((_, stage)) = api_stage.split_once('/') {
                    record.stage = Some(stage.trim().to_string());
                }
            }
            ExecFact::EndpointUri { uri } => {
                record.integration_called = true;
                record.endpoint.get_or_insert(uri);
            }
            ExecFact::Timeout => {
                record.integration_called = true;
                cause(record, "integration timeout");
            }
            ExecFact::ReceivedResponse { status, latency_ms } => {
                record.integration_called = true;
                record.integration_status = status.or(record.integration_status);
                record.integration_latency_ms = Some(latency_ms);
            }
            ExecFact::MethodCompleted { status } => record.status = Some(status),
            ExecFact::MalformedProxyResponse => cause(record, "malformed Lambda proxy response"),
            ExecFact::FunctionError { .. } => cause(record, "Lambda function error"),
            ExecFact::LambdaThrottled => cause(record, "Lambda throttled the invocation"),
            ExecFact::LambdaPermissions => {
                cause(record, "no permission to invoke the Lambda function")
            }
            ExecFact::ConfigurationError { .. } => cause(record, "integration configuration error"),
            ExecFact::KeyThrottled { .. } => cause(record, "API key throttle limit"),
            ExecFact::QuotaExhausted { .. } => cause(record, "API key quota exhausted"),
            ExecFact::ApiKeyRejected => cause(record, "API key has no usage plan for the stage"),
            ExecFact::AuthorizerDenied => cause(record, "authorizer denied the request"),
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
            (Some(201), Some(200), Some(123))
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
        plain.add_in(Some("s1"), "Method request path: {}", None);
        for line in SEQUENCE.lines().skip(1) {
            prefixed.add(line, Some(1));
            let (_, message) = split_prefix(line).unwrap();
            assert!(looks_like_execution_line(message.as_bytes()), "{message}");
            plain.add_in(Some("s1"), message, Some(1));
        }
        assert_eq!(plain.without_id, 1);
        assert_eq!(plain.by_request, prefixed.by_request);
        plain.add_in(Some("s1"), "Starting execution for request: r-2", None);
        plain.add_in(Some("s2"), "Method completed with status: 200", None);
        plain.add_in(Some("s1"), "Execution failed due to a timeout error", None);
        plain.add_in(Some("s1"), "Method completed with status: 504", None);
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
        assert_eq!(e.by_request["a"].integration_latency_ms, Some(40));
        assert_eq!(e.by_request["a"].lines.len(), 2);
        assert_eq!(e.by_request["b"].unclassified, 1);
        assert_eq!(e.without_id, 1);
    }
}
