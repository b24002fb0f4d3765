//! The `websocket` section of the report: its serde model (documented in
//! `docs/report-schema.md`), its blocks for the table, Markdown and HTML renderers and its
//! long-form CSV rows.

use serde::Serialize;

use super::layout::{ms, pct, stats_row, Block, Tone};
use super::model::Stats;

/// WebSocket API events: connections, messages and route keys (present only when WebSocket
/// events were read). These events count here only, not in `summary`, `latency`, `errors`
/// or the other HTTP sections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebSocketSection {
    /// WebSocket events (CONNECT, MESSAGE, DISCONNECT and any other logged event type).
    pub events: u64,
    /// First event time, RFC 3339.
    pub start: Option<String>,
    /// Last event time, RFC 3339.
    pub end: Option<String>,
    /// Events by `$context.eventType`.
    pub events_by_type: EventCounts,
    /// Connections opened, refused, closed and left open.
    pub connections: ConnectionCounts,
    /// Connection duration (DISCONNECT time − `connectedAt`, or − the CONNECT event's time),
    /// ms, over the closed connections whose start is known.
    pub duration_ms: Stats,
    /// Closed connections without a known start (no `connectedAt`, CONNECT before the logs).
    pub durations_unknown: u64,
    /// MESSAGE events per connection opened in the logs (its CONNECT seen), closed or not.
    pub messages_per_connection: Stats,
    /// Per route key (`$connect`, `$disconnect`, `$default`, custom), most events first.
    pub by_route_key: Vec<RouteKeyStats>,
}

/// Events by type.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventCounts {
    /// `CONNECT`.
    pub connect: u64,
    /// `MESSAGE`.
    pub message: u64,
    /// `DISCONNECT`.
    pub disconnect: u64,
    /// No event type logged, or one AWS does not document.
    pub other: u64,
}

/// What happened to connections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConnectionCounts {
    /// CONNECT events with a status below 400 (or none logged): connections opened.
    pub opened: u64,
    /// CONNECT events with a status of 400 or more: refused by the `$connect` route.
    pub refused: u64,
    /// DISCONNECT events.
    pub closed: u64,
    /// Connections with a CONNECT or MESSAGE event but no DISCONNECT by the last event.
    pub open_at_end: u64,
    /// Distinct connection IDs followed (at most `tracking_cap`).
    pub tracked: u64,
    /// Most connections followed at once.
    pub tracking_cap: u64,
    /// Events of connections beyond the cap: counted by type and route key (and their
    /// durations when `connectedAt` is logged), not in `open_at_end` or messages per
    /// connection.
    pub untracked_events: u64,
    /// Events without a connection ID.
    pub events_without_connection_id: u64,
}

/// One route key's events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RouteKeyStats {
    /// Route key (`null`: not logged).
    pub route_key: Option<String>,
    /// Events.
    pub events: u64,
    /// Events with a status of 400 or more.
    pub errors: u64,
    /// 4xx.
    pub status_4xx: u64,
    /// 5xx.
    pub status_5xx: u64,
    /// errors / events.
    pub error_rate: Option<f64>,
    /// `$context.integrationLatency`, ms.
    pub integration_latency_ms: Stats,
}

impl WebSocketSection {
    /// The section as titled blocks, in reading order.
    pub fn blocks(&self) -> Vec<Block> {
        let c = &self.connections;
        let e = &self.events_by_type;
        let mut overview = Block::new(format!("WebSocket ({} events)", self.events), vec!["", ""]);
        overview.row(vec![
            "time range (UTC)".into(),
            format!(
                "{} → {}",
                self.start.as_deref().unwrap_or("-"),
                self.end.as_deref().unwrap_or("-")
            ),
        ]);
        overview.row(vec![
            "events".into(),
            format!(
                "{} connect, {} message, {} disconnect, {} other",
                e.connect, e.message, e.disconnect, e.other
            ),
        ]);
        overview.row(vec!["connections opened".into(), c.opened.to_string()]);
        let refused = vec!["connections refused".into(), c.refused.to_string()];
        if c.refused > 0 {
            overview.toned_row(refused, Tone::Warn);
        } else {
            overview.row(refused);
        }
        overview.row(vec!["connections closed".into(), c.closed.to_string()]);
        overview.row(vec!["open at the end".into(), c.open_at_end.to_string()]);
        let mut notes = Vec::new();
        if c.untracked_events > 0 {
            notes.push(format!(
                "{} events of connections beyond the {} followed are left out of open \
                 connections and messages per connection",
                c.untracked_events, c.tracking_cap
            ));
        }
        if self.durations_unknown > 0 {
            notes.push(format!(
                "{} closed connections have no known start (no connectedAt, CONNECT not in \
                 the logs)",
                self.durations_unknown
            ));
        }
        if c.events_without_connection_id > 0 {
            notes.push(format!(
                "{} events without a connection ID",
                c.events_without_connection_id
            ));
        }
        notes.push("WebSocket events are not counted as HTTP requests above".into());
        overview.note = Some(notes.join("; "));

        let mut spread = Block::new(
            "WebSocket connections",
            vec![
                "", "count", "min", "p50", "p90", "p95", "p99", "max", "mean",
            ],
        );
        spread.row(stats_row("duration (ms)", &self.duration_ms));
        spread.row(stats_row(
            "messages per connection",
            &self.messages_per_connection,
        ));

        let mut keys = Block::new(
            "WebSocket route keys",
            vec![
                "route key",
                "events",
                "errors",
                "4xx",
                "5xx",
                "integration p50 (ms)",
                "integration p99 (ms)",
            ],
        );
        for r in &self.by_route_key {
            let cells = vec![
                r.route_key.clone().unwrap_or_else(|| "-".into()),
                r.events.to_string(),
                format!("{} ({})", r.errors, pct(r.errors, r.events)),
                r.status_4xx.to_string(),
                r.status_5xx.to_string(),
                ms(r.integration_latency_ms.p50),
                ms(r.integration_latency_ms.p99),
            ];
            match (r.status_5xx, r.status_4xx) {
                (1.., _) => keys.toned_row(cells, Tone::Bad),
                (0, 1..) => keys.toned_row(cells, Tone::Warn),
                _ => keys.row(cells),
            }
        }
        vec![overview, spread, keys]
    }

    /// Long-form CSV rows: `section,key,stage,metric,value`, the stage always empty;
    /// section `websocket` for the totals (key `events`, `connections`, `duration_ms`,
    /// `messages_per_connection`), `websocket_route_key` per route key (the key).
    pub fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = Vec::new();
        let mut add = |key: &str, section: &str, metric: &str, value: String| {
            rows.push([
                section.to_string(),
                key.to_string(),
                String::new(),
                metric.to_string(),
                value,
            ]);
        };
        let c = &self.connections;
        let e = &self.events_by_type;
        for (metric, value) in [
            ("events", self.events),
            ("connect", e.connect),
            ("message", e.message),
            ("disconnect", e.disconnect),
            ("other", e.other),
        ] {
            add("events", "websocket", metric, value.to_string());
        }
        for (metric, value) in [
            ("opened", c.opened),
            ("refused", c.refused),
            ("closed", c.closed),
            ("open_at_end", c.open_at_end),
            ("tracked", c.tracked),
            ("tracking_cap", c.tracking_cap),
            ("untracked_events", c.untracked_events),
            (
                "events_without_connection_id",
                c.events_without_connection_id,
            ),
        ] {
            add("connections", "websocket", metric, value.to_string());
        }
        add(
            "connections",
            "websocket",
            "durations_unknown",
            self.durations_unknown.to_string(),
        );
        let text = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for (key, stats) in [
            ("duration_ms", &self.duration_ms),
            ("messages_per_connection", &self.messages_per_connection),
        ] {
            add(key, "websocket", "count", stats.count.to_string());
            for (name, value) in stats.named() {
                add(key, "websocket", name, text(value));
            }
        }
        for r in &self.by_route_key {
            let key = r.route_key.as_deref().unwrap_or("");
            add(key, "websocket_route_key", "events", r.events.to_string());
            add(key, "websocket_route_key", "errors", r.errors.to_string());
            add(
                key,
                "websocket_route_key",
                "status_4xx",
                r.status_4xx.to_string(),
            );
            add(
                key,
                "websocket_route_key",
                "status_5xx",
                r.status_5xx.to_string(),
            );
            add(key, "websocket_route_key", "error_rate", text(r.error_rate));
            let l = &r.integration_latency_ms;
            add(
                key,
                "websocket_route_key",
                "integration_latency_ms.count",
                l.count.to_string(),
            );
            for (name, value) in l.named() {
                add(
                    key,
                    "websocket_route_key",
                    &format!("integration_latency_ms.{name}"),
                    text(value),
                );
            }
        }
        rows
    }
}
