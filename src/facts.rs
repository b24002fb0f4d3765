//! API Gateway facts, one table each, referenced everywhere else: default limits, plausible
//! logged values, what each status means at the gateway, and the gateway response types.
//! Sources: `../shared/reference/formats.md` §6 and `gateway-semantics.md`.

/// REST integration timeout (ms): 29 s unless raised through Service Quotas.
pub const REST_INTEGRATION_TIMEOUT_MS: u64 = 29_000;
/// HTTP API integration timeout (ms): 30 s, not raisable; HTTP APIs answer 503 on timeout.
pub const HTTP_INTEGRATION_TIMEOUT_MS: u64 = 30_000;
/// Account-level steady-state rate per Region (requests per second).
pub const ACCOUNT_RATE_LIMIT: f64 = 10_000.0;
/// Account-level burst per Region.
pub const ACCOUNT_BURST_LIMIT: u64 = 5_000;
/// Default cache TTL (s).
pub const CACHE_TTL_DEFAULT_S: u64 = 300;

/// Plausible logged values, the one table of bounds: a request time outside them cannot be
/// placed (the line is skipped as `implausible request time`); a status or latency outside
/// them is not a measurement (the value is dropped and counted as an invalid field, the
/// request still counts).
///
/// Earliest request time taken as real: 2015-01-01T00:00:00Z (API Gateway access logging
/// came later). An earlier time is a duration or a counter read as a time (nginx's
/// `request_time`, an epoch of 0).
pub const EARLIEST_REQUEST_MS: i64 = 1_420_070_400_000;
/// How far ahead of the clock a request time may be (clock skew between hosts), ms.
pub const REQUEST_AHEAD_MS: i64 = 24 * 3_600_000;
/// Statuses an HTTP response can have.
pub const STATUS_RANGE: std::ops::RangeInclusive<u16> = 100..=599;
/// Latencies (`responseLatency`, `integrationLatency`) a request can have, ms: from 0 to an
/// hour (API Gateway itself gives up on an integration after 29 s, or 30 s on HTTP APIs; an
/// hour leaves room for raised quotas and WebSocket routes).
pub const LATENCY_RANGE_MS: std::ops::RangeInclusive<f64> = 0.0..=3_600_000.0;

/// What a status means when API Gateway returns it, for the errors section.
pub fn status_meaning(status: u16) -> &'static str {
    match status {
        200 => "200 OK",
        201 => "201 Created",
        204 => "204 No Content",
        301 | 302 | 303 | 307 | 308 => "3xx redirect from the integration",
        304 => "304 Not Modified",
        400 => "400 Bad Request: request validation failed (BAD_REQUEST_PARAMETERS/BODY) or the integration rejected it",
        401 => "401 Unauthorized: authorizer could not authenticate the caller (UNAUTHORIZED)",
        403 => "403 Forbidden: missing/invalid API key, authorizer or resource-policy deny, WAF block, or unknown path/method (Missing Authentication Token)",
        404 => "404 Not Found: resource not found (RESOURCE_NOT_FOUND) or returned by the integration",
        405 => "405 Method Not Allowed",
        409 => "409 Conflict (from the integration)",
        413 => "413 Request Entity Too Large: payload over 10 MB (often not logged at all)",
        415 => "415 Unsupported Media Type (UNSUPPORTED_MEDIA_TYPE)",
        422 => "422 Unprocessable Entity (from the integration)",
        429 => "429 Too Many Requests: throttled (THROTTLED) or usage-plan quota exceeded (QUOTA_EXCEEDED)",
        431 => "431 Request Header Fields Too Large (often not logged at all)",
        500 => "500 Internal Server Error: API/authorizer configuration error, Lambda permissions, or Lambda throttling",
        502 => "502 Bad Gateway: bad Lambda proxy output (malformed response) or function error",
        503 => "503 Service Unavailable: backend unavailable; on HTTP APIs also the 30 s integration timeout",
        504 => "504 Gateway Timeout: integration timed out after 29 s (INTEGRATION_TIMEOUT) or failed (INTEGRATION_FAILURE)",
        _ => match status / 100 {
            1 => "1xx informational",
            2 => "2xx success",
            3 => "3xx redirect",
            4 => "4xx client error",
            _ => "5xx server error",
        },
    }
}

/// A gateway response type and its default status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayResponseType {
    /// The `$context.error.responseType` value.
    pub name: &'static str,
    /// Default status; `None` for DEFAULT_4XX/DEFAULT_5XX.
    pub status: Option<u16>,
    /// When API Gateway sends it.
    pub when: &'static str,
}

/// All 21 gateway response types.
pub const GATEWAY_RESPONSE_TYPES: [GatewayResponseType; 21] = [
    GatewayResponseType {
        name: "ACCESS_DENIED",
        status: Some(403),
        when: "authorizer denied",
    },
    GatewayResponseType {
        name: "API_CONFIGURATION_ERROR",
        status: Some(500),
        when: "bad endpoint, base64 failure, or no matching integration-response template",
    },
    GatewayResponseType {
        name: "AUTHORIZER_CONFIGURATION_ERROR",
        status: Some(500),
        when: "cannot connect to the authorizer",
    },
    GatewayResponseType {
        name: "AUTHORIZER_FAILURE",
        status: Some(500),
        when: "authorizer failed to authenticate the caller",
    },
    GatewayResponseType {
        name: "BAD_REQUEST_PARAMETERS",
        status: Some(400),
        when: "request validator: parameters",
    },
    GatewayResponseType {
        name: "BAD_REQUEST_BODY",
        status: Some(400),
        when: "request validator: body",
    },
    GatewayResponseType {
        name: "DEFAULT_4XX",
        status: None,
        when: "fallback for unspecified 4xx",
    },
    GatewayResponseType {
        name: "DEFAULT_5XX",
        status: None,
        when: "fallback for unspecified 5xx",
    },
    GatewayResponseType {
        name: "EXPIRED_TOKEN",
        status: Some(403),
        when: "AWS auth token expired",
    },
    GatewayResponseType {
        name: "INTEGRATION_FAILURE",
        status: Some(504),
        when: "integration failed",
    },
    GatewayResponseType {
        name: "INTEGRATION_TIMEOUT",
        status: Some(504),
        when: "integration timed out",
    },
    GatewayResponseType {
        name: "INVALID_API_KEY",
        status: Some(403),
        when: "invalid key on a key-required method",
    },
    GatewayResponseType {
        name: "INVALID_SIGNATURE",
        status: Some(403),
        when: "bad SigV4 signature",
    },
    GatewayResponseType {
        name: "MISSING_AUTHENTICATION_TOKEN",
        status: Some(403),
        when: "missing token, including unknown method/path",
    },
    GatewayResponseType {
        name: "QUOTA_EXCEEDED",
        status: Some(429),
        when: "usage-plan quota exceeded",
    },
    GatewayResponseType {
        name: "REQUEST_TOO_LARGE",
        status: Some(413),
        when: "request too large",
    },
    GatewayResponseType {
        name: "RESOURCE_NOT_FOUND",
        status: Some(404),
        when: "resource not found after auth",
    },
    GatewayResponseType {
        name: "THROTTLED",
        status: Some(429),
        when: "usage-plan, method, stage or account throttling",
    },
    GatewayResponseType {
        name: "UNAUTHORIZED",
        status: Some(401),
        when: "custom/Cognito authorizer failed to authenticate",
    },
    GatewayResponseType {
        name: "UNSUPPORTED_MEDIA_TYPE",
        status: Some(415),
        when: "unsupported payload type under strict passthrough",
    },
    GatewayResponseType {
        name: "WAF_FILTERED",
        status: Some(403),
        when: "blocked by AWS WAF",
    },
];

/// Looks up a gateway response type by name.
pub fn gateway_response_type(name: &str) -> Option<&'static GatewayResponseType> {
    GATEWAY_RESPONSE_TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_statuses_are_explained() {
        assert!(status_meaning(502).contains("Lambda proxy"));
        assert!(status_meaning(503).contains("unavailable"));
        assert!(status_meaning(504).contains("29 s"));
        assert!(status_meaning(429).contains("quota"));
        assert!(status_meaning(418).starts_with("4xx"));
    }

    #[test]
    fn response_types_have_their_default_status() {
        assert_eq!(
            gateway_response_type("QUOTA_EXCEEDED").unwrap().status,
            Some(429)
        );
        assert_eq!(gateway_response_type("DEFAULT_5XX").unwrap().status, None);
        assert!(gateway_response_type("NOPE").is_none());
    }
}
