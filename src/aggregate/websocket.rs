//! The WebSocket part of the aggregates: events by type and route key, and per connection
//! (joined on `$context.connectionId`) whether it opened and closed in the window, how long
//! it lasted and how many messages it carried.
//!
//! The connection map is the only state that grows with the traffic, so it is capped
//! ([`MAX_TRACKED_CONNECTIONS`]): events of connections beyond the cap still count by type
//! and route key, and a DISCONNECT that logs `connectedAt` still gives its duration, but
//! they are left out of messages per connection and open connections, and counted in
//! [`WebSocketAggregates::untracked_events`] so the report says so.

use super::histogram::Histogram;
use super::NONE;
use crate::model::{Dictionary, EventType, Request, WebSocketEvent};
use crate::FastMap;

/// Connections followed at most, per accumulator and after merging. An entry costs about
/// 100 bytes with its ID, so the map stays under ~10 MB however long the logs.
pub const MAX_TRACKED_CONNECTIONS: usize = 100_000;

/// What the events of one route key add up to.
#[derive(Debug, Clone, Default)]
pub struct RouteKeyCounts {
    /// Events.
    pub events: u64,
    /// Events with a 4xx status.
    pub c4xx: u64,
    /// Events with a 5xx status.
    pub c5xx: u64,
    /// Integration latency (`$context.integrationLatency`), ms.
    pub integration: Histogram,
}

/// One connection's events seen so far.
#[derive(Debug, Clone, Copy, Default)]
struct Connection {
    /// Earliest accepted CONNECT (status below 400 or not logged), epoch ms.
    connect_ms: Option<i64>,
    /// `connectedAt` as any of its events logged it, epoch ms.
    connected_at_ms: Option<i64>,
    /// Its DISCONNECT, epoch ms.
    disconnect_ms: Option<i64>,
    /// MESSAGE events.
    messages: u64,
    /// All its events.
    events: u64,
}

impl Connection {
    fn join(&mut self, other: Connection) {
        self.connect_ms = earliest(self.connect_ms, other.connect_ms);
        self.connected_at_ms = self.connected_at_ms.or(other.connected_at_ms);
        self.disconnect_ms = self.disconnect_ms.max(other.disconnect_ms);
        self.messages += other.messages;
        self.events += other.events;
    }

    /// Whether the connection was made within the window (its CONNECT was seen).
    fn opened(&self) -> bool {
        self.connect_ms.is_some()
    }

    /// Its duration, when both ends are known: DISCONNECT time − `connectedAt` (or the
    /// CONNECT event's time).
    fn duration_ms(&self) -> Option<i64> {
        let start = self.connected_at_ms.or(self.connect_ms)?;
        let end = self.disconnect_ms?;
        (end >= start).then_some(end - start)
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The WebSocket events of some requests.
#[derive(Debug, Clone, Default)]
pub struct WebSocketAggregates {
    /// Connections followed at most (0: [`MAX_TRACKED_CONNECTIONS`]).
    cap: usize,
    /// WebSocket events.
    pub events: u64,
    /// CONNECT events.
    pub connects: u64,
    /// CONNECT events with a status of 400 or more: connections refused by `$connect`.
    pub refused: u64,
    /// MESSAGE events.
    pub messages: u64,
    /// DISCONNECT events.
    pub disconnects: u64,
    /// Events without an event type AWS documents (not logged, or another value).
    pub other_events: u64,
    /// Events without a connection ID.
    pub without_connection_id: u64,
    /// Earliest and latest event time, epoch ms.
    pub bounds: Option<(i64, i64)>,
    /// Route keys (`$connect`, `$default`, custom).
    pub route_keys: Dictionary,
    /// Per route key code ([`NONE`]: not logged).
    pub by_route_key: FastMap<u32, RouteKeyCounts>,
    /// Connection durations, ms (complete after [`finish`](Self::finish)).
    pub durations: Histogram,
    /// Closed connections whose start was not seen (no `connectedAt`, CONNECT before the
    /// window); known after [`finish`](Self::finish).
    pub durations_unknown: u64,
    /// MESSAGE events per connection opened in the window; after [`finish`](Self::finish).
    pub messages_per_connection: Histogram,
    /// Connections with events but no DISCONNECT by the window's end; after
    /// [`finish`](Self::finish).
    pub open_at_end: u64,
    /// Connections followed (at most the cap); after [`finish`](Self::finish).
    pub tracked_connections: u64,
    /// Events of connections beyond the cap (see the module docs).
    pub untracked_events: u64,
    connections: FastMap<Box<str>, Connection>,
}

impl WebSocketAggregates {
    /// Empty aggregates following at most `cap` connections.
    pub fn with_cap(cap: usize) -> Self {
        WebSocketAggregates {
            cap,
            ..WebSocketAggregates::default()
        }
    }

    /// The connection cap in force.
    pub fn cap(&self) -> usize {
        if self.cap == 0 {
            MAX_TRACKED_CONNECTIONS
        } else {
            self.cap
        }
    }

    /// Adds one WebSocket event.
    pub fn push(&mut self, request: &Request<'_>, ws: &WebSocketEvent<'_>) {
        let t = request.time_ms;
        self.events += 1;
        self.bounds = Some(match self.bounds {
            Some((first, last)) => (first.min(t), last.max(t)),
            None => (t, t),
        });
        let status = request.status.unwrap_or(0);
        let refused = ws.event == Some(EventType::Connect) && status >= 400;
        match ws.event {
            Some(EventType::Connect) => {
                self.connects += 1;
                self.refused += u64::from(refused);
            }
            Some(EventType::Message) => self.messages += 1,
            Some(EventType::Disconnect) => self.disconnects += 1,
            None => self.other_events += 1,
        }
        let key = request
            .route
            .as_deref()
            .map_or(NONE, |r| self.route_keys.code(r));
        let counts = self.by_route_key.entry(key).or_default();
        counts.events += 1;
        match status {
            400..=499 => counts.c4xx += 1,
            500..=599 => counts.c5xx += 1,
            _ => {}
        }
        if let Some(latency) = request.integration_latency_ms {
            counts.integration.add(latency);
        }
        let Some(id) = ws.connection_id.as_deref() else {
            self.without_connection_id += 1;
            return;
        };
        if refused && !self.connections.contains_key(id) {
            // Never opened: nothing to follow (and refusals cannot fill the map).
            return;
        }
        let mut seen = Connection {
            connected_at_ms: ws.connected_at_ms,
            events: 1,
            ..Connection::default()
        };
        match ws.event {
            Some(EventType::Connect) if !refused => seen.connect_ms = Some(t),
            Some(EventType::Message) => seen.messages = 1,
            Some(EventType::Disconnect) => seen.disconnect_ms = Some(t),
            _ => {}
        }
        if let Some(known) = self.connections.get_mut(id) {
            known.join(seen);
        } else if self.connections.len() < self.cap() {
            self.connections.insert(id.into(), seen);
        } else {
            self.untrack(seen);
        }
    }

    /// Counts a connection's events that the map has no room for; its duration still counts
    /// when the events themselves give it.
    fn untrack(&mut self, connection: Connection) {
        self.untracked_events += connection.events;
        if let Some(duration) = connection.duration_ms() {
            self.durations.add(duration as f64);
        } else if connection.disconnect_ms.is_some() {
            self.durations_unknown += 1;
        }
    }

    /// Adds everything `other` counted; `other`'s route key codes are its own.
    pub fn merge(&mut self, other: WebSocketAggregates) {
        self.events += other.events;
        self.connects += other.connects;
        self.refused += other.refused;
        self.messages += other.messages;
        self.disconnects += other.disconnects;
        self.other_events += other.other_events;
        self.without_connection_id += other.without_connection_id;
        self.untracked_events += other.untracked_events;
        self.durations_unknown += other.durations_unknown;
        self.durations.merge(&other.durations);
        if let Some((first, last)) = other.bounds {
            self.bounds = Some(match self.bounds {
                Some((f, l)) => (f.min(first), l.max(last)),
                None => (first, last),
            });
        }
        for (code, counts) in other.by_route_key {
            let code = if code == NONE {
                NONE
            } else {
                self.route_keys.code(other.route_keys.name(code))
            };
            let mine = self.by_route_key.entry(code).or_default();
            mine.events += counts.events;
            mine.c4xx += counts.c4xx;
            mine.c5xx += counts.c5xx;
            mine.integration.merge(&counts.integration);
        }
        for (id, connection) in other.connections {
            if let Some(known) = self.connections.get_mut(&id) {
                known.join(connection);
            } else if self.connections.len() < self.cap() {
                self.connections.insert(id, connection);
            } else {
                self.untrack(connection);
            }
        }
    }

    /// Turns the followed connections into durations, messages per connection and the
    /// connections still open; call once, after the last merge.
    pub fn finish(&mut self) {
        self.tracked_connections = self.connections.len() as u64;
        for (_, connection) in self.connections.drain() {
            if connection.disconnect_ms.is_some() {
                match connection.duration_ms() {
                    Some(duration) => self.durations.add(duration as f64),
                    None => self.durations_unknown += 1,
                }
            } else if connection.opened() || connection.messages > 0 {
                self.open_at_end += 1;
            }
            if connection.opened() {
                self.messages_per_connection.add(connection.messages as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn event(
        t: i64,
        kind: EventType,
        route: &'static str,
        id: &str,
        status: u16,
    ) -> (Request<'static>, WebSocketEvent<'static>) {
        let ws = WebSocketEvent {
            event: Some(kind),
            connection_id: Some(Cow::Owned(id.to_string())),
            connected_at_ms: None,
        };
        let request = Request {
            time_ms: t,
            status: Some(status),
            route: Some(Cow::Borrowed(route)),
            integration_latency_ms: (kind == EventType::Message).then_some(10.0),
            ..Request::default()
        };
        (request, ws)
    }

    fn push(agg: &mut WebSocketAggregates, e: (Request<'static>, WebSocketEvent<'static>)) {
        agg.push(&e.0, &e.1);
    }

    #[test]
    fn connections_pair_connect_messages_and_disconnect() {
        let mut agg = WebSocketAggregates::default();
        push(&mut agg, event(0, EventType::Connect, "$connect", "a", 200));
        push(
            &mut agg,
            event(10, EventType::Message, "$default", "a", 200),
        );
        push(&mut agg, event(20, EventType::Message, "send", "a", 500));
        push(
            &mut agg,
            event(5_000, EventType::Disconnect, "$disconnect", "a", 200),
        );
        push(
            &mut agg,
            event(100, EventType::Connect, "$connect", "b", 403),
        );
        push(
            &mut agg,
            event(200, EventType::Connect, "$connect", "c", 200),
        );
        agg.finish();
        assert_eq!((agg.connects, agg.refused, agg.messages), (3, 1, 2));
        assert_eq!((agg.disconnects, agg.open_at_end), (1, 1));
        assert_eq!(agg.durations.sorted(), [(5_000.0, 1)]);
        // a: 2 messages, c: none; b was refused, so never opened.
        assert_eq!(agg.messages_per_connection.sorted(), [(0.0, 1), (2.0, 1)]);
        let send = agg.route_keys.code("send");
        assert_eq!(agg.by_route_key[&send].c5xx, 1);
    }

    #[test]
    fn halves_of_a_connection_in_two_chunks_join() {
        let mut first = WebSocketAggregates::default();
        push(
            &mut first,
            event(0, EventType::Connect, "$connect", "a", 200),
        );
        push(
            &mut first,
            event(5, EventType::Message, "$default", "a", 200),
        );
        let mut second = WebSocketAggregates::default();
        push(
            &mut second,
            event(9, EventType::Message, "$default", "a", 200),
        );
        push(
            &mut second,
            event(60_000, EventType::Disconnect, "$disconnect", "a", 200),
        );
        second.merge(first);
        second.finish();
        assert_eq!(second.durations.sorted(), [(60_000.0, 1)]);
        assert_eq!(second.messages_per_connection.sorted(), [(2.0, 1)]);
        assert_eq!(second.open_at_end, 0);
    }

    #[test]
    fn the_connection_map_is_capped_and_what_it_drops_is_counted() {
        let mut agg = WebSocketAggregates::with_cap(10);
        for i in 0..1_000 {
            let id = format!("c{i}");
            push(&mut agg, event(i, EventType::Connect, "$connect", &id, 200));
            push(
                &mut agg,
                event(i + 1, EventType::Message, "$default", &id, 200),
            );
        }
        assert_eq!(agg.connections.len(), 10);
        assert_eq!(agg.untracked_events, 2 * 990);
        let mut other = WebSocketAggregates::with_cap(10);
        for i in 0..20 {
            let id = format!("d{i}");
            push(
                &mut other,
                event(i, EventType::Connect, "$connect", &id, 200),
            );
        }
        agg.merge(other);
        assert_eq!(agg.connections.len(), 10);
        assert_eq!(agg.untracked_events, 2 * 990 + 20);
        agg.finish();
        assert_eq!((agg.connects, agg.messages), (1_020, 1_000));
        assert_eq!((agg.tracked_connections, agg.open_at_end), (10, 10));
    }

    #[test]
    fn connected_at_gives_durations_beyond_the_cap() {
        let mut agg = WebSocketAggregates::with_cap(1);
        push(&mut agg, event(0, EventType::Connect, "$connect", "a", 200));
        let (request, mut ws) = event(9_000, EventType::Disconnect, "$disconnect", "b", 200);
        ws.connected_at_ms = Some(1_000);
        agg.push(&request, &ws);
        let (request, ws) = event(9_000, EventType::Disconnect, "$disconnect", "c", 200);
        agg.push(&request, &ws);
        agg.finish();
        assert_eq!(agg.durations.sorted(), [(8_000.0, 1)]);
        assert_eq!(agg.durations_unknown, 1);
        assert_eq!(agg.untracked_events, 2);
    }
}
