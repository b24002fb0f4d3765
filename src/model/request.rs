//! One access-log event, normalized: the row type of the request table.

use std::borrow::Cow;

/// One request as an access log recorded it. Everything but the time is optional: a value
/// the log did not carry (or wrote as `-`) is `None`, never 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request<'a> {
    /// Request arrival, epoch milliseconds (UTC).
    pub time_ms: i64,
    /// Method response status.
    pub status: Option<u16>,
    /// HTTP method.
    pub method: Option<Cow<'a, str>>,
    /// `METHOD resource` for REST, the route key for HTTP APIs.
    pub route: Option<Cow<'a, str>>,
    /// Stage name.
    pub stage: Option<Cow<'a, str>>,
    /// API key ID (or the key itself when only that was logged).
    pub api_key: Option<Cow<'a, str>>,
    /// Gateway response type (`$context.error.responseType`).
    pub error_type: Option<Cow<'a, str>>,
    /// Gateway error message (`$context.error.message`).
    pub error_message: Option<Cow<'a, str>>,
    /// `$context.responseLatency`, milliseconds.
    pub latency_ms: Option<f64>,
    /// `$context.integrationLatency`, milliseconds.
    pub integration_latency_ms: Option<f64>,
    /// `$context.requestId`.
    pub request_id: Option<Cow<'a, str>>,
    /// `$context.xrayTraceId`.
    pub xray_trace_id: Option<Cow<'a, str>>,
}
