//! What a WebSocket API's access log adds to an event: the event type, the connection it
//! belongs to and when that connection was made (`$context.eventType`,
//! `$context.connectionId`, `$context.connectedAt`).

use std::borrow::Cow;

/// `$context.eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `CONNECT`: the `$connect` route ran (a status of 400 or more refused the connection).
    Connect,
    /// `MESSAGE`: a message from the client, on `$default` or a custom route key.
    Message,
    /// `DISCONNECT`: the connection closed (`$disconnect`).
    Disconnect,
}

impl EventType {
    /// The type of a logged `eventType` value (`None`: not one AWS documents).
    pub fn parse(text: &str) -> Option<EventType> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("CONNECT") => Some(EventType::Connect),
            t if t.eq_ignore_ascii_case("MESSAGE") => Some(EventType::Message),
            t if t.eq_ignore_ascii_case("DISCONNECT") => Some(EventType::Disconnect),
            _ => None,
        }
    }
}

/// The WebSocket facts of one event. An event is a WebSocket event when its log line gave
/// an `eventType` or a `connectionId`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebSocketEvent<'a> {
    /// The event type (`None`: not logged, or a value AWS does not document).
    pub event: Option<EventType>,
    /// `$context.connectionId`.
    pub connection_id: Option<Cow<'a, str>>,
    /// `$context.connectedAt`, epoch milliseconds.
    pub connected_at_ms: Option<i64>,
}

impl WebSocketEvent<'_> {
    /// The same facts, owning their text.
    pub fn into_owned(self) -> WebSocketEvent<'static> {
        WebSocketEvent {
            event: self.event,
            connection_id: self.connection_id.map(|c| Cow::Owned(c.into_owned())),
            connected_at_ms: self.connected_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_the_three_aws_documents() {
        assert_eq!(EventType::parse("CONNECT"), Some(EventType::Connect));
        assert_eq!(EventType::parse("MESSAGE"), Some(EventType::Message));
        assert_eq!(EventType::parse("DISCONNECT"), Some(EventType::Disconnect));
        assert_eq!(EventType::parse("disconnect"), Some(EventType::Disconnect));
        assert_eq!(EventType::parse("OPEN"), None);
    }
}
