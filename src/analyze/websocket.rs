//! WebSocket: connections opened, refused, closed and left open; connection duration and
//! messages per connection; events, errors and integration latency by route key. Computed
//! from the WebSocket part of the aggregates, which holds the only events a WebSocket API
//! logs: they are left out of every HTTP section (AWS bills messages and connection
//! minutes, not requests, and a `$default` message is no `GET /`).

use super::sort_name;
use super::stats::sort_top;
use crate::aggregate::Aggregates;
use crate::filter::rfc3339;
use crate::report::websocket::{ConnectionCounts, EventCounts, RouteKeyStats};
use crate::report::WebSocketSection;

/// The section, when WebSocket events were read; `top` limits the route keys (0 = all).
pub fn websocket(agg: &Aggregates, top: usize) -> Option<WebSocketSection> {
    let ws = agg.websocket.as_deref()?;
    let mut by_route_key: Vec<RouteKeyStats> = ws
        .by_route_key
        .iter()
        .map(|(&code, counts)| {
            let errors = counts.c4xx + counts.c5xx;
            RouteKeyStats {
                route_key: crate::aggregate::name(&ws.route_keys, code),
                events: counts.events,
                errors,
                status_4xx: counts.c4xx,
                status_5xx: counts.c5xx,
                error_rate: (counts.events > 0).then(|| errors as f64 / counts.events as f64),
                integration_latency_ms: counts.integration.stats(0),
            }
        })
        .collect();
    sort_top(&mut by_route_key, top, |r| {
        (r.events, sort_name(&r.route_key))
    });
    Some(WebSocketSection {
        events: ws.events,
        start: ws.bounds.map(|b| rfc3339(b.0)),
        end: ws.bounds.map(|b| rfc3339(b.1)),
        events_by_type: EventCounts {
            connect: ws.connects,
            message: ws.messages,
            disconnect: ws.disconnects,
            other: ws.other_events,
        },
        connections: ConnectionCounts {
            opened: ws.connects - ws.refused,
            refused: ws.refused,
            closed: ws.disconnects,
            open_at_end: ws.open_at_end,
            tracked: ws.tracked_connections,
            tracking_cap: ws.cap() as u64,
            untracked_events: ws.untracked_events,
            events_without_connection_id: ws.without_connection_id,
        },
        duration_ms: ws.durations.stats(0),
        durations_unknown: ws.durations_unknown,
        messages_per_connection: ws.messages_per_connection.stats(0),
        by_route_key,
    })
}
