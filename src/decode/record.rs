//! The raw values a decoder found in one line, and their conversion into a typed
//! [`Request`]; plus the reasons a line can fail to become one.

use std::borrow::Cow;
use std::fmt;
use std::mem::ManuallyDrop;

use super::fields::Field;
use super::number::{parse_number, trimmed, whole_number};
use super::time::{parse_any_time, parse_epoch};
use crate::facts::{LATENCY_RANGE_MS, STATUS_RANGE};
use crate::model::{EventType, InvalidField, InvalidFields, Request, WebSocketEvent};

/// Why a line did not become a request. The names are what users see in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// A JSON-looking line that does not parse.
    InvalidJson,
    /// The line does not fit the file's format.
    FormatMismatch,
    /// The line has no request time.
    MissingTime,
    /// The request time is not a time.
    InvalidTime,
    /// The request time is before 2015 or more than a day ahead of the clock: the request
    /// cannot be placed in time.
    ImplausibleTime,
    /// The status is not a whole number (a number out of range is an invalid field instead:
    /// the request still counts, without its status).
    InvalidStatus,
    /// A latency is not a number (a number out of range is an invalid field instead).
    InvalidLatency,
    /// The line is longer than the limit.
    LineTooLong,
    /// The input ended in the middle of compressed data or could not be read further, or a
    /// line is all NUL bytes (a hole: bytes cut from a file while it was read).
    TruncatedInput,
    /// A part of a CloudWatch envelope (JSON document, base64 payload, CSV row) is broken.
    InvalidEnvelope,
}

impl SkipReason {
    /// The reason as shown in reports and used as key in `inputs.skipped_by_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidUtf8 => "invalid UTF-8",
            SkipReason::InvalidJson => "invalid JSON",
            SkipReason::FormatMismatch => "does not match the format",
            SkipReason::MissingTime => "no request time",
            SkipReason::InvalidTime => "invalid request time",
            SkipReason::ImplausibleTime => "implausible request time",
            SkipReason::InvalidStatus => "invalid status",
            SkipReason::InvalidLatency => "invalid latency",
            SkipReason::LineTooLong => "line too long",
            SkipReason::TruncatedInput => "truncated or unreadable input",
            SkipReason::InvalidEnvelope => "invalid CloudWatch envelope",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text values of one line, by meaning; missing values are never stored.
#[derive(Default, Clone)]
pub struct RawRecord<'a> {
    /// Dropped only when `owned` (see [`Drop`]).
    values: ManuallyDrop<[Option<Cow<'a, str>>; Field::ALL.len()]>,
    /// Whether some value was stored owned rather than borrowed from the line.
    owned: bool,
}

impl Drop for RawRecord<'_> {
    fn drop(&mut self) {
        // Most records only borrow from their line (every value the key-selective decoder
        // reads): checking each of the slots for something to free costs every line.
        if self.owned {
            // SAFETY: dropped once, here; `values` is not used again.
            unsafe { ManuallyDrop::drop(&mut self.values) }
        }
    }
}

impl fmt::Debug for RawRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRecord")
            .field("values", &*self.values)
            .finish()
    }
}

/// Whether a logged value means "no value": API Gateway writes `-` for missing values,
/// `(none)` for an unmatched base path; empty and `null` text come from user templates.
#[inline(always)]
pub fn is_missing(value: &str) -> bool {
    // By length first: most values are longer than any marker, and comparing small arrays
    // is cheaper than a call to compare strings.
    let bytes = trimmed(value).as_bytes();
    match bytes.len() {
        0 => true,
        1 => bytes[0] == b'-',
        4 => <[u8; 4]>::try_from(bytes).is_ok_and(|b| b == *b"null"),
        6 => <[u8; 6]>::try_from(bytes).is_ok_and(|b| b == *b"(none)"),
        _ => false,
    }
}

impl<'a> RawRecord<'a> {
    /// Stores a value unless it is a missing marker or the field already has a value
    /// (the first non-missing spelling of a field wins).
    #[inline(always)]
    pub fn set(&mut self, field: Field, value: Cow<'a, str>) {
        let slot = &mut self.values[field as usize];
        if slot.is_none() && !is_missing(&value) {
            self.owned |= matches!(value, Cow::Owned(_));
            *slot = Some(value);
        }
    }

    /// The value of a field, if the line had one.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }

    /// Whether no value was found at all.
    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }

    /// Copies every value so the record no longer borrows from its line.
    pub fn into_owned(mut self) -> RawRecord<'static> {
        // SAFETY: the values are moved out once; `owned` false keeps `drop` off them.
        let values = unsafe { ManuallyDrop::take(&mut self.values) };
        self.owned = false;
        RawRecord {
            values: ManuallyDrop::new(
                values.map(|v| v.map(|value| Cow::Owned(value.into_owned()))),
            ),
            owned: true,
        }
    }

    fn take(&mut self, field: Field) -> Option<Cow<'a, str>> {
        self.values[field as usize].take()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        *self = RawRecord::default();
    }

    /// Converts the text values into a typed request.
    pub fn into_request(mut self) -> Result<Request<'a>, SkipReason> {
        self.convert(|method, resource| Cow::Owned(format!("{method} {resource}")))
    }

    /// Takes the text values into a typed request, writing a REST route
    /// (`METHOD resource`) into `scratch` instead of allocating it.
    pub fn take_request_in(&mut self, scratch: &'a mut String) -> Result<Request<'a>, SkipReason> {
        self.convert(move |method, resource| {
            crate::bytes::join_spaced(scratch, method, resource);
            let route: &'a String = scratch;
            Cow::Borrowed(route.as_str())
        })
    }

    fn convert(
        &mut self,
        join: impl FnOnce(&str, &str) -> Cow<'a, str>,
    ) -> Result<Request<'a>, SkipReason> {
        let time_ms = match (
            self.get(Field::RequestTimeEpoch),
            self.get(Field::RequestTime),
        ) {
            (Some(epoch), _) => parse_epoch(epoch).ok_or(SkipReason::InvalidTime)?,
            (None, Some(time)) => parse_any_time(time).ok_or(SkipReason::InvalidTime)?,
            (None, None) => return Err(SkipReason::MissingTime),
        };
        if !super::time::plausible(time_ms) {
            return Err(SkipReason::ImplausibleTime);
        }
        let mut invalid = InvalidFields::default();
        let status = match self.get(Field::Status) {
            Some(s) => parse_status(s, &mut invalid)?,
            None => None,
        };
        let latency_ms = parse_latency(
            self.get(Field::ResponseLatency),
            InvalidField::Latency,
            &mut invalid,
        )?;
        let integration_latency_ms = parse_latency(
            self.get(Field::IntegrationLatency),
            InvalidField::IntegrationLatency,
            &mut invalid,
        )?;

        let route_key = self.take(Field::RouteKey);
        let resource = self.take(Field::ResourcePath);
        let path = self.take(Field::Path);
        let stage = self.take(Field::Stage);
        let mut method = self.take(Field::HttpMethod);
        if method.is_none() {
            // An HTTP API route key carries its method: `GET /pets`.
            method = match &route_key {
                Some(Cow::Borrowed(key)) => key.split_once(' ').map(|(m, _)| Cow::Borrowed(m)),
                Some(Cow::Owned(key)) => {
                    key.split_once(' ').map(|(m, _)| Cow::Owned(m.to_string()))
                }
                None => None,
            };
        }
        // Without a route the raw path stands in, less the stage prefix the default
        // endpoint adds (`/prod/pets/1`); `crate::aggregate::templates` makes it a template.
        let resource = resource.or_else(|| path.map(|p| without_stage(p, stage.as_deref())));
        let route = match (route_key, resource, &method) {
            (Some(key), _, _) => Some(key),
            (None, Some(resource), Some(m)) => Some(join(m, &resource)),
            (None, Some(resource), None) => Some(resource),
            (None, None, _) => None,
        };
        let api_key = self
            .take(Field::ApiKeyId)
            .or_else(|| self.take(Field::ApiKey));
        let error_message = self.take(Field::ErrorMessage).map(strip_quotes);
        // Most lines have no WebSocket facts: looked at only when one of the keys was there.
        let websocket =
            match self.get(Field::EventType).is_some() || self.get(Field::ConnectionId).is_some() {
                true => self.take_websocket(method.is_some()),
                false => None,
            };
        Ok(Request {
            time_ms,
            status,
            method,
            route,
            stage,
            api_key,
            error_type: self.take(Field::ErrorResponseType),
            error_message,
            latency_ms,
            integration_latency_ms,
            request_id: self.take(Field::RequestId),
            xray_trace_id: self.take(Field::XrayTraceId),
            api_id: self.take(Field::ApiId),
            invalid,
            websocket,
        })
    }

    /// The WebSocket facts, when the line gave an event type, or a connection ID and no
    /// HTTP method (WebSocket APIs log none; a `connectionId` key beside one is some other
    /// connection's). A `connectedAt` that is not an epoch is left out (a duration then
    /// starts at the connection's CONNECT event, if seen).
    fn take_websocket(&mut self, http_method: bool) -> Option<WebSocketEvent<'a>> {
        let event = self.take(Field::EventType);
        let connection_id = self.take(Field::ConnectionId);
        let connected_at = self.take(Field::ConnectedAt);
        if event.is_none() && (connection_id.is_none() || http_method) {
            return None;
        }
        Some(WebSocketEvent {
            event: event.as_deref().and_then(EventType::parse),
            connection_id,
            connected_at_ms: connected_at.as_deref().and_then(parse_epoch),
        })
    }
}

/// A request path without its leading `/{stage}` (as `$context.path` has it on the
/// default endpoint; a custom domain's path has none, and stays whole).
fn without_stage<'a>(path: Cow<'a, str>, stage: Option<&str>) -> Cow<'a, str> {
    let Some(stage) = stage.filter(|s| !s.is_empty() && !s.starts_with('$')) else {
        return path;
    };
    let rest = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    match rest {
        Some("") => Cow::Owned("/".to_string()),
        Some(rest) => match path {
            Cow::Borrowed(p) => Cow::Borrowed(&p[p.len() - rest.len()..]),
            Cow::Owned(ref p) => Cow::Owned(p[p.len() - rest.len()..].to_string()),
        },
        None => path,
    }
}

/// A status in [`STATUS_RANGE`]; a whole number outside it is dropped as an invalid field,
/// anything else is not a status.
#[inline]
fn parse_status(s: &str, invalid: &mut InvalidFields) -> Result<Option<u16>, SkipReason> {
    // Three digits (every status API Gateway logs) without trimming or looping, inlined
    // into every line's path; anything else out of line.
    if let &[a, b, c] = s.as_bytes() {
        let digits = [a, b, c].map(|d| d.wrapping_sub(b'0'));
        if digits.iter().all(|d| *d <= 9) {
            let status =
                u16::from(digits[0]) * 100 + u16::from(digits[1]) * 10 + u16::from(digits[2]);
            if STATUS_RANGE.contains(&status) {
                return Ok(Some(status));
            }
        }
    }
    parse_other_status(s, invalid)
}

/// [`parse_status`] of a value that is not three digits of a plausible status.
#[inline(never)]
fn parse_other_status(s: &str, invalid: &mut InvalidFields) -> Result<Option<u16>, SkipReason> {
    let text = trimmed(s);
    // Plain digits (what API Gateway logs) without the general integer parser: the same
    // value as `parse::<u16>` wherever that succeeds.
    let parsed = match whole_number(text) {
        Some(n) => u16::try_from(n).ok(),
        None => text.parse::<u16>().ok(),
    };
    match parsed {
        Some(status) if STATUS_RANGE.contains(&status) => Ok(Some(status)),
        _ if is_integer(text) => {
            invalid.insert(InvalidField::Status);
            Ok(None)
        }
        _ => Err(SkipReason::InvalidStatus),
    }
}

/// Whether `text` is a whole number of any size, signed or not.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A latency in [`LATENCY_RANGE_MS`]; a number outside it (negative, over an hour, too large
/// for an f64) is dropped as an invalid `field`, anything else is not a latency.
fn parse_latency(
    value: Option<&str>,
    field: InvalidField,
    invalid: &mut InvalidFields,
) -> Result<Option<f64>, SkipReason> {
    let Some(text) = value else {
        return Ok(None);
    };
    match parse_number(text) {
        Some(v) if LATENCY_RANGE_MS.contains(&v) => Ok(Some(v)),
        Some(v) if !v.is_nan() => {
            invalid.insert(field);
            Ok(None)
        }
        _ => Err(SkipReason::InvalidLatency),
    }
}

/// `$context.error.messageString` is the message wrapped in double quotes.
fn strip_quotes(message: Cow<'_, str>) -> Cow<'_, str> {
    let quoted = message.len() >= 2 && message.starts_with('"') && message.ends_with('"');
    if !quoted {
        return message;
    }
    match message {
        Cow::Borrowed(s) => Cow::Borrowed(&s[1..s.len() - 1]),
        Cow::Owned(s) => Cow::Owned(s[1..s.len() - 1].to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(Field, &'static str)]) -> RawRecord<'static> {
        let mut r = RawRecord::default();
        for (field, value) in pairs {
            r.set(*field, Cow::Borrowed(value));
        }
        r
    }

    #[test]
    fn statuses_parse_as_the_integer_parser_reads_them() {
        let reference = |s: &str| {
            let mut invalid = InvalidFields::default();
            let text = trimmed(s);
            let status = match text.parse::<u16>() {
                Ok(status) if STATUS_RANGE.contains(&status) => Ok(Some(status)),
                _ if is_integer(text) => {
                    invalid.insert(InvalidField::Status);
                    Ok(None)
                }
                _ => Err(SkipReason::InvalidStatus),
            };
            (status, invalid)
        };
        for text in [
            "200",
            "0200",
            "+200",
            "-1",
            "-0",
            "0",
            "99",
            "100",
            "599",
            "600",
            "65535",
            "65536",
            "999999999999999",
            "9999999999999999",
            "2 00",
            " 200 ",
            "200\t",
            "abc",
            "",
            "20a",
            "٢٠٠",
        ] {
            let mut invalid = InvalidFields::default();
            let status = parse_status(text, &mut invalid);
            assert_eq!((status, invalid), reference(text), "{text:?}");
        }
    }

    #[test]
    fn dash_is_missing_never_zero() {
        let req = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::Status, "200"),
            (Field::IntegrationLatency, "-"),
            (Field::ResponseLatency, "12"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(req.integration_latency_ms, None);
        assert_eq!(req.latency_ms, Some(12.0));
    }

    #[test]
    fn websocket_events_carry_type_connection_and_connect_time() {
        let req = record(&[
            (Field::RequestTimeEpoch, "1795514401000"),
            (Field::EventType, "DISCONNECT"),
            (Field::RouteKey, "$disconnect"),
            (Field::ConnectionId, "Iq8gj1UmIAMCKpA="),
            (Field::ConnectedAt, "1795514400000"),
        ])
        .into_request()
        .unwrap();
        let ws = req.websocket.unwrap();
        assert_eq!(ws.event, Some(EventType::Disconnect));
        assert_eq!(ws.connection_id.as_deref(), Some("Iq8gj1UmIAMCKpA="));
        assert_eq!(ws.connected_at_ms, Some(1_795_514_400_000));
        assert_eq!(req.route.as_deref(), Some("$disconnect"));
        // `-` everywhere (a handshake refused before routing) is no WebSocket fact.
        let plain = record(&[
            (Field::RequestTime, "19/Jul/2023:16:17:17 +0000"),
            (Field::EventType, "-"),
            (Field::ConnectionId, "-"),
            (Field::Status, "403"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(plain.websocket, None);
        // A connection ID beside an HTTP method belongs to something else.
        let rest = record(&[
            (Field::RequestTime, "19/Jul/2023:16:17:17 +0000"),
            (Field::HttpMethod, "GET"),
            (Field::ResourcePath, "/pets"),
            (Field::ConnectionId, "vpc-link-conn"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(rest.websocket, None);
    }

    #[test]
    fn a_raw_path_stands_in_for_a_missing_route_without_its_stage_prefix() {
        let time = (Field::RequestTime, "25/Nov/2026:02:56:04 +0000");
        let route = |pairs: &[(Field, &'static str)]| {
            let mut all = vec![time];
            all.extend_from_slice(pairs);
            record(&all)
                .into_request()
                .unwrap()
                .route
                .map(|r| r.into_owned())
        };
        let get = (Field::HttpMethod, "GET");
        let path = |p| (Field::Path, p);
        assert_eq!(
            route(&[get, path("/prod/pets/1"), (Field::Stage, "prod")]).as_deref(),
            Some("GET /pets/1")
        );
        assert_eq!(
            route(&[get, path("/prod"), (Field::Stage, "prod")]).as_deref(),
            Some("GET /")
        );
        // A custom domain's path has no stage; `$default` adds none; neither does a prefix
        // that only starts like the stage.
        for (p, stage) in [
            ("/pets/1", "prod"),
            ("/pets/1", "$default"),
            ("/production/x", "prod"),
        ] {
            assert_eq!(
                route(&[get, path(p), (Field::Stage, stage)]).as_deref(),
                Some(format!("GET {p}").as_str())
            );
        }
        assert_eq!(route(&[path("/pets/1")]).as_deref(), Some("/pets/1"));
        // A logged route wins over the path.
        assert_eq!(
            route(&[
                get,
                (Field::ResourcePath, "/pets/{id}"),
                path("/prod/pets/1")
            ])
            .as_deref(),
            Some("GET /pets/{id}")
        );
    }

    #[test]
    fn rest_route_is_method_and_resource_http_route_is_route_key() {
        let rest = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::HttpMethod, "GET"),
            (Field::ResourcePath, "/pets/{petId}"),
            (Field::RouteKey, "-"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(rest.route.as_deref(), Some("GET /pets/{petId}"));
        let http = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::RouteKey, "POST /orders"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(http.route.as_deref(), Some("POST /orders"));
        assert_eq!(http.method.as_deref(), Some("POST"));
    }

    #[test]
    fn epoch_wins_over_clf_time() {
        let req = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::RequestTimeEpoch, "1795575364112"),
        ])
        .into_request()
        .unwrap();
        assert_eq!(req.time_ms, 1_795_575_364_112);
    }

    #[test]
    fn bad_values_have_reasons() {
        let no_time = record(&[(Field::Status, "200")]).into_request();
        assert_eq!(no_time.unwrap_err(), SkipReason::MissingTime);
        let bad_status = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::Status, "abc"),
        ])
        .into_request();
        assert_eq!(bad_status.unwrap_err(), SkipReason::InvalidStatus);
    }

    #[test]
    fn implausible_numbers_are_dropped_and_flagged_not_skipped() {
        let time = (Field::RequestTime, "25/Nov/2026:02:56:04 +0000");
        type Case = (&'static [(Field, &'static str)], &'static [InvalidField]);
        let cases: [Case; 9] = [
            (&[(Field::Status, "0")], &[InvalidField::Status]),
            (&[(Field::Status, "999")], &[InvalidField::Status]),
            (&[(Field::Status, "-1")], &[InvalidField::Status]),
            (
                &[(Field::Status, "99999999999999999999")],
                &[InvalidField::Status],
            ),
            (
                &[(Field::ResponseLatency, "1e23")],
                &[InvalidField::Latency],
            ),
            (&[(Field::ResponseLatency, "-3")], &[InvalidField::Latency]),
            (
                &[(Field::ResponseLatency, "1e400")],
                &[InvalidField::Latency],
            ),
            (
                &[
                    (Field::IntegrationLatency, "3600001"),
                    (Field::Status, "200"),
                ],
                &[InvalidField::IntegrationLatency],
            ),
            (
                &[
                    (Field::Status, "600"),
                    (Field::ResponseLatency, "-0.5"),
                    (Field::IntegrationLatency, "7200000"),
                ],
                &InvalidField::ALL,
            ),
        ];
        for (fields, expected) in cases {
            let mut pairs = vec![time];
            pairs.extend_from_slice(fields);
            let req = record(&pairs).into_request().unwrap();
            let flagged: Vec<_> = req.invalid.iter().collect();
            assert_eq!(flagged, expected, "{fields:?}");
            for field in expected {
                match field {
                    InvalidField::Status => assert_eq!(req.status, None),
                    InvalidField::Latency => assert_eq!(req.latency_ms, None),
                    InvalidField::IntegrationLatency => {
                        assert_eq!(req.integration_latency_ms, None)
                    }
                }
            }
        }
        // The bounds themselves are plausible.
        let edge = record(&[
            time,
            (Field::Status, "100"),
            (Field::ResponseLatency, "3600000"),
            (Field::IntegrationLatency, "0"),
        ])
        .into_request()
        .unwrap();
        assert!(edge.invalid.is_empty());
        assert_eq!(edge.status, Some(100));
        assert_eq!(edge.latency_ms, Some(3_600_000.0));
        // What is not a number at all still skips the line.
        for (field, text, reason) in [
            (Field::Status, "2OO", SkipReason::InvalidStatus),
            (Field::Status, "200.5", SkipReason::InvalidStatus),
            (Field::ResponseLatency, "fast", SkipReason::InvalidLatency),
            (Field::IntegrationLatency, "NaN", SkipReason::InvalidLatency),
        ] {
            let err = record(&[time, (field, text)]).into_request().unwrap_err();
            assert_eq!(err, reason, "{text}");
        }
    }

    #[test]
    fn times_that_cannot_be_placed_are_implausible() {
        for time in [
            "0",
            "1000",
            "01/Jan/1970:00:00:01 +0000",
            "3786912000000",
            "2014-12-31T23:59:59Z",
        ] {
            let field = if time.contains('/') || time.contains('T') {
                Field::RequestTime
            } else {
                Field::RequestTimeEpoch
            };
            let err = record(&[(field, time)]).into_request().unwrap_err();
            assert_eq!(err, SkipReason::ImplausibleTime, "{time}");
        }
        let ok = record(&[(Field::RequestTime, "01/Jan/2015:00:00:00 +0000")]).into_request();
        assert!(ok.is_ok());
    }

    #[test]
    fn numbers_parse_like_str_parse() {
        for text in [
            "0",
            "007",
            "129",
            " 42 ",
            "1.5",
            "1e3",
            "+5",
            "999999999999999",
            "1234567890123456789",
            "",
            "-",
            "x1",
        ] {
            assert_eq!(
                parse_number(text),
                text.trim().parse::<f64>().ok(),
                "{text:?}"
            );
        }
        for text in ["-", " - ", "", "(none)", "null", " null"] {
            assert!(is_missing(text), "{text:?}");
        }
        for text in ["0", "--", "nul", "(none"] {
            assert!(!is_missing(text), "{text:?}");
        }
    }

    #[test]
    fn message_string_quotes_are_stripped() {
        let req = record(&[
            (Field::RequestTime, "25/Nov/2026:02:56:04 +0000"),
            (Field::ErrorMessage, "\"Endpoint request timed out\""),
        ])
        .into_request()
        .unwrap();
        assert_eq!(
            req.error_message.as_deref(),
            Some("Endpoint request timed out")
        );
    }
}
