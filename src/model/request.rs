//! One access-log event, normalized: the row type of the request table.

use std::borrow::Cow;
use std::fmt;

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
    /// `$context.apiId` (read when request IDs are: `replay` matches requests to APIs by it).
    pub api_id: Option<Cow<'a, str>>,
    /// Fields whose logged value was implausible and is left out (`None` above).
    pub invalid: InvalidFields,
    /// What a WebSocket API logged about the event (`None`: not a WebSocket event).
    pub websocket: Option<super::WebSocketEvent<'a>>,
}

/// A field whose logged value is outside the plausible bounds of [`crate::facts`] (a status
/// outside 100–599, a latency below 0 or above an hour). The value is dropped, the request
/// still counts. The names are what users see in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvalidField {
    /// `status` outside [`crate::facts::STATUS_RANGE`].
    Status,
    /// `responseLatency` outside [`crate::facts::LATENCY_RANGE_MS`].
    Latency,
    /// `integrationLatency` outside [`crate::facts::LATENCY_RANGE_MS`].
    IntegrationLatency,
}

impl InvalidField {
    /// Every field that can be invalid.
    pub const ALL: [InvalidField; 3] = [
        InvalidField::Status,
        InvalidField::Latency,
        InvalidField::IntegrationLatency,
    ];

    /// The reason as shown in reports and used as key in `inputs.invalid_fields_by_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidField::Status => "implausible status",
            InvalidField::Latency => "implausible latency",
            InvalidField::IntegrationLatency => "implausible integration latency",
        }
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of one request whose values were dropped as implausible: one bit per
/// [`InvalidField`], so a request carries them without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvalidFields(u8);

impl InvalidFields {
    /// Marks `field` as dropped.
    pub fn insert(&mut self, field: InvalidField) {
        self.0 |= 1 << field as u8;
    }

    /// Whether no field was dropped.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The dropped fields.
    pub fn iter(self) -> impl Iterator<Item = InvalidField> {
        InvalidField::ALL
            .into_iter()
            .filter(move |f| self.0 & (1 << *f as u8) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_fields_are_a_set() {
        let mut set = InvalidFields::default();
        assert!(set.is_empty());
        set.insert(InvalidField::IntegrationLatency);
        set.insert(InvalidField::Status);
        set.insert(InvalidField::Status);
        assert!(!set.is_empty());
        let fields: Vec<_> = set.iter().collect();
        assert_eq!(
            fields,
            [InvalidField::Status, InvalidField::IntegrationLatency]
        );
    }
}
