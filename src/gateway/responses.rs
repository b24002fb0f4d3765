//! The responses the gateway itself sends: status, gateway response type, and message
//! (the body is `{"message":"<message>"}`). One table; sources in
//! `../shared/reference/gateway-semantics.md` §0, §1.5, §4.

/// A gateway-generated response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayError {
    /// HTTP status.
    pub status: u16,
    /// `$context.error.responseType`, when known.
    pub response_type: Option<&'static str>,
    /// `$context.error.message` and the body's `message`.
    pub message: &'static str,
}

impl GatewayError {
    /// The response body.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

/// Throttled at any level.
pub const THROTTLED: GatewayError = GatewayError {
    status: 429,
    response_type: Some("THROTTLED"),
    message: "Too Many Requests",
};
/// Usage-plan quota exhausted.
pub const QUOTA_EXCEEDED: GatewayError = GatewayError {
    status: 429,
    response_type: Some("QUOTA_EXCEEDED"),
    message: "Limit Exceeded",
};
/// Missing, unknown or disabled API key, or a key without a plan for the stage.
pub const INVALID_API_KEY: GatewayError = GatewayError {
    status: 403,
    response_type: Some("INVALID_API_KEY"),
    message: "Forbidden",
};
/// Unknown resource or method.
pub const MISSING_AUTHENTICATION_TOKEN: GatewayError = GatewayError {
    status: 403,
    response_type: Some("MISSING_AUTHENTICATION_TOKEN"),
    message: "Missing Authentication Token",
};
/// Payload above 10 MB. The message text is not documented (assumed).
pub const REQUEST_TOO_LARGE: GatewayError = GatewayError {
    status: 413,
    response_type: Some("REQUEST_TOO_LARGE"),
    message: "Request Too Large",
};
/// REST integration timeout.
pub const INTEGRATION_TIMEOUT: GatewayError = GatewayError {
    status: 504,
    response_type: Some("INTEGRATION_TIMEOUT"),
    message: "Endpoint request timed out",
};
/// HTTP API integration timeout (503, observed by users, not documented; the response type
/// is assumed).
pub const HTTP_INTEGRATION_TIMEOUT: GatewayError = GatewayError {
    status: 503,
    response_type: Some("INTEGRATION_TIMEOUT"),
    message: "Service Unavailable",
};
/// REST: Lambda function error or malformed proxy response (502, logged as
/// INTEGRATION_FAILURE although that type's documented default is 504).
pub const FUNCTION_ERROR: GatewayError = GatewayError {
    status: 502,
    response_type: Some("INTEGRATION_FAILURE"),
    message: "Internal server error",
};
/// REST: Lambda rejected the invocation (its throttling, permissions).
pub const INVOKE_REJECTED: GatewayError = GatewayError {
    status: 500,
    response_type: None,
    message: "Internal server error",
};
/// HTTP API: any Lambda failure.
pub const HTTP_INTERNAL_ERROR: GatewayError = GatewayError {
    status: 500,
    response_type: None,
    message: "Internal Server Error",
};
/// HTTP API: no route matches and there is no `$default` route.
pub const HTTP_NOT_FOUND: GatewayError = GatewayError {
    status: 404,
    response_type: None,
    message: "Not Found",
};
/// WebSocket API: no route matches the route key and there is no `$default` route
/// (assumed: the message is not documented).
pub const WEBSOCKET_NO_ROUTE: GatewayError = GatewayError {
    status: 403,
    response_type: None,
    message: "Forbidden",
};
/// Unauthorized `Cache-Control: max-age=0` with strategy FAIL_WITH_403 (message assumed).
pub const CACHE_INVALIDATION_DENIED: GatewayError = GatewayError {
    status: 403,
    response_type: None,
    message: "Unauthorized",
};

/// The `x-amzn-ErrorType` header API Gateway sends with a gateway response, where known.
pub fn error_type_header(status: u16, response_type: Option<&str>) -> Option<&'static str> {
    match (response_type, status) {
        (Some("THROTTLED"), _) => Some("TooManyRequestsException"),
        (Some("QUOTA_EXCEEDED"), _) => Some("LimitExceededException"),
        (Some("INVALID_API_KEY"), _) => Some("ForbiddenException"),
        (Some("MISSING_AUTHENTICATION_TOKEN"), _) => Some("MissingAuthenticationTokenException"),
        (_, 500..=599) => Some("InternalServerErrorException"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_message_objects() {
        assert_eq!(THROTTLED.body(), r#"{"message":"Too Many Requests"}"#);
        assert_eq!(QUOTA_EXCEEDED.body(), r#"{"message":"Limit Exceeded"}"#);
        assert_eq!(INVALID_API_KEY.body(), r#"{"message":"Forbidden"}"#);
        assert_eq!(HTTP_NOT_FOUND.body(), r#"{"message":"Not Found"}"#);
    }

    #[test]
    fn statuses_match_the_documented_response_types() {
        for e in [
            THROTTLED,
            QUOTA_EXCEEDED,
            INVALID_API_KEY,
            MISSING_AUTHENTICATION_TOKEN,
            REQUEST_TOO_LARGE,
            INTEGRATION_TIMEOUT,
        ] {
            let documented = crate::facts::gateway_response_type(e.response_type.unwrap()).unwrap();
            assert_eq!(documented.status, Some(e.status), "{:?}", e.response_type);
        }
    }
}
