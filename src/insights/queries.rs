//! The Logs Insights queries behind a report, generated from the report's own definitions
//! (status classes, the 429 and 504 rules, the cache pattern, percentiles 50/90/95/99) and the
//! log group's keys. Each query scans the range once; queries grouped by time bins can be
//! split into shorter ranges to stay under the 10,000-row result cap.

use super::keys::Keys;
use crate::aggregate::rules::{REACHED_SHARE, TIMEOUT_STATUSES};
use crate::decode::fields::Field;

/// The most rows a Logs Insights query returns.
pub const MAX_ROWS: usize = 10_000;

/// What a query computes (its results are read by [`super::assemble`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKind {
    /// Requests by bin, stage, route and status.
    Counts,
    /// Requests, first and last event.
    Bounds,
    /// The busiest seconds.
    BusiestSeconds,
    /// 429s by second.
    ThrottledSeconds,
    /// Latency statistics per route × stage, for one measure.
    RouteStats(Measure),
    /// Latency statistics over everything, for one measure.
    OverallStats(Measure),
    /// Latency percentiles per bin, for one measure.
    BinStats(Measure),
    /// Response-latency p99 per bin and route.
    RouteBinP99,
    /// Requests by API key and status.
    ApiKeys,
    /// Gateway response types by status.
    ResponseTypes,
    /// Gateway error messages.
    Messages,
    /// 504s that reached the integration timeout, by route.
    Timeouts,
    /// Inferred cache hits by bin, stage and route.
    CacheHits,
    /// Inferred cache misses by bin, stage and route.
    CacheMisses,
}

/// A latency measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// `responseLatency`.
    Latency,
    /// `integrationLatency`.
    Integration,
    /// Response minus integration latency, where both are logged.
    Overhead,
}

/// One query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// What it computes.
    pub kind: QueryKind,
    /// The query text.
    pub text: String,
    /// Whether its rows are per time bin, so a range can be split to stay under the cap.
    pub splittable: bool,
}

impl QueryKind {
    /// A short name for messages and `--dry-run`.
    pub fn name(self) -> String {
        let measure = |m: Measure| match m {
            Measure::Latency => "latency",
            Measure::Integration => "integration-latency",
            Measure::Overhead => "overhead",
        };
        match self {
            QueryKind::Counts => "counts".into(),
            QueryKind::Bounds => "bounds".into(),
            QueryKind::BusiestSeconds => "busiest-seconds".into(),
            QueryKind::ThrottledSeconds => "throttled-seconds".into(),
            QueryKind::RouteStats(m) => format!("{}-by-route", measure(m)),
            QueryKind::OverallStats(m) => format!("{}-overall", measure(m)),
            QueryKind::BinStats(m) => format!("{}-by-bin", measure(m)),
            QueryKind::RouteBinP99 => "latency-p99-by-bin-and-route".into(),
            QueryKind::ApiKeys => "api-keys".into(),
            QueryKind::ResponseTypes => "response-types".into(),
            QueryKind::Messages => "error-messages".into(),
            QueryKind::Timeouts => "timeouts".into(),
            QueryKind::CacheHits => "cache-hits".into(),
            QueryKind::CacheMisses => "cache-misses".into(),
        }
    }
}

/// What the queries need besides the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOptions {
    /// Timeline bin width, seconds.
    pub bin_seconds: i64,
    /// Longest list (busiest seconds).
    pub top: usize,
    /// Integration timeout, ms.
    pub timeout_ms: u64,
}

/// `ispresent(k) and k != "-"`: a logged value (API Gateway writes `-` for none).
fn present(key: &str) -> String {
    format!("ispresent({key}) and {key} != \"-\"")
}

/// The three percentiles' and the summary statistics' aggregations of `value`.
fn stats_of(value: &str) -> String {
    format!(
        "count(*) as n, min({value}) as min, max({value}) as max, avg({value}) as mean, \
         pct({value}, 50) as p50, pct({value}, 90) as p90, pct({value}, 95) as p95, \
         pct({value}, 99) as p99"
    )
}

/// Every query of the report, in the order they are run.
pub fn queries(keys: &Keys, options: &QueryOptions) -> Vec<Query> {
    let k = |f: Field| keys.name(f);
    let status = k(Field::Status).unwrap_or_else(|| "`status`".into());
    let latency = k(Field::ResponseLatency).unwrap_or_else(|| "`responseLatency`".into());
    let integration = k(Field::IntegrationLatency);
    let route: Vec<String> = keys
        .route_fields()
        .into_iter()
        .filter_map(|f| keys.name(f))
        .collect();
    let route = route.join(", ");
    let bin = format!("bin({}s)", options.bin_seconds.max(1));
    let mut out = Vec::new();
    let mut push = |kind: QueryKind, text: String, splittable: bool| {
        out.push(Query {
            kind,
            text,
            splittable,
        })
    };
    push(
        QueryKind::Counts,
        format!("stats count(*) as requests by {bin}, {route}, {status} | limit {MAX_ROWS}"),
        true,
    );
    push(
        QueryKind::Bounds,
        "stats count(*) as requests, min(@timestamp) as first, max(@timestamp) as last".into(),
        false,
    );
    push(
        QueryKind::BusiestSeconds,
        format!(
            "stats count(*) as requests by bin(1s) | sort requests desc | limit {}",
            // --top 0 means every second, as locally (up to the row cap).
            if options.top == 0 {
                MAX_ROWS
            } else {
                options.top.min(MAX_ROWS)
            }
        ),
        false,
    );
    push(
        QueryKind::ThrottledSeconds,
        format!(
            "filter {status} = 429 | stats count(*) as throttled by bin(1s) | limit {MAX_ROWS}"
        ),
        true,
    );
    let mut measures = vec![(Measure::Latency, present(&latency), latency.clone())];
    if let Some(il) = &integration {
        measures.push((Measure::Integration, present(il), il.clone()));
        measures.push((
            Measure::Overhead,
            format!(
                "{} and {} | fields {latency} - {il} as overhead",
                present(&latency),
                present(il)
            ),
            "overhead".to_string(),
        ));
    }
    for (measure, filter, value) in &measures {
        push(
            QueryKind::RouteStats(*measure),
            format!(
                "filter {filter} | stats {} by {route} | limit {MAX_ROWS}",
                stats_of(value)
            ),
            false,
        );
        push(
            QueryKind::OverallStats(*measure),
            format!("filter {filter} | stats {}", stats_of(value)),
            false,
        );
        let percentiles = match measure {
            Measure::Latency => {
                format!("pct({value}, 50) as p50, pct({value}, 95) as p95, pct({value}, 99) as p99")
            }
            Measure::Integration => format!("pct({value}, 50) as p50, pct({value}, 99) as p99"),
            Measure::Overhead => format!("pct({value}, 50) as p50"),
        };
        push(
            QueryKind::BinStats(*measure),
            format!("filter {filter} | stats {percentiles} by {bin} | limit {MAX_ROWS}"),
            true,
        );
    }
    push(
        QueryKind::RouteBinP99,
        format!(
            "filter {} | stats count(*) as requests, pct({latency}, 99) as p99 by {bin}, {route} \
             | limit {MAX_ROWS}",
            present(&latency)
        ),
        true,
    );
    if let Some(key) = k(Field::ApiKeyId).or_else(|| k(Field::ApiKey)) {
        push(
            QueryKind::ApiKeys,
            format!("stats count(*) as requests by {key}, {status} | limit {MAX_ROWS}"),
            false,
        );
    }
    if let Some(kind) = k(Field::ErrorResponseType) {
        push(
            QueryKind::ResponseTypes,
            format!(
                "filter {} | stats count(*) as n by {kind}, {status} | limit {MAX_ROWS}",
                present(&kind)
            ),
            false,
        );
    }
    if let Some(message) = k(Field::ErrorMessage) {
        push(
            QueryKind::Messages,
            format!(
                "filter {} | stats count(*) as n by {message} | limit {MAX_ROWS}",
                present(&message)
            ),
            false,
        );
    }
    let reached = (options.timeout_ms as f64 * REACHED_SHARE).round();
    let timeout_status = TIMEOUT_STATUSES
        .iter()
        .map(|s| format!("{status} = {s}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let mut timeout_rule = Vec::new();
    if let Some(il) = &integration {
        timeout_rule.push(format!("({} and {il} >= {reached})", present(il)));
    }
    if let Some(kind) = k(Field::ErrorResponseType) {
        timeout_rule.push(format!("{kind} = \"INTEGRATION_TIMEOUT\""));
    }
    if !timeout_rule.is_empty() {
        push(
            QueryKind::Timeouts,
            format!(
                "filter ({timeout_status}) and ({}) | stats count(*) as n by {route} | limit {MAX_ROWS}",
                timeout_rule.join(" or ")
            ),
            false,
        );
    }
    if let (Some(method), Some(il)) = (k(Field::HttpMethod), &integration) {
        let get_2xx = format!("{method} = \"GET\" and {status} >= 200 and {status} <= 299");
        push(
            QueryKind::CacheHits,
            format!(
                "filter {get_2xx} and {} and (not ispresent({il}) or {il} = \"-\" or {il} = 0) \
                 | stats count(*) as hits by {bin}, {route} | limit {MAX_ROWS}",
                present(&latency)
            ),
            true,
        );
        push(
            QueryKind::CacheMisses,
            format!(
                "filter {get_2xx} and {} and {il} > 0 | stats count(*) as misses by {bin}, {route} \
                 | limit {MAX_ROWS}",
                present(il)
            ),
            true,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_name_the_log_groups_keys() {
        let keys = Keys::defaults(&[(Field::Status, "http_status".to_string())]);
        let q = queries(
            &keys,
            &QueryOptions {
                bin_seconds: 60,
                top: 20,
                timeout_ms: 29_000,
            },
        );
        let text = |kind| q.iter().find(|q| q.kind == kind).unwrap().text.clone();
        assert_eq!(
            text(QueryKind::Counts),
            "stats count(*) as requests by bin(60s), `stage`, `httpMethod`, `resourcePath`, \
             `http_status` | limit 10000"
        );
        assert_eq!(
            text(QueryKind::RouteStats(Measure::Latency)),
            "filter ispresent(`responseLatency`) and `responseLatency` != \"-\" | stats \
             count(*) as n, min(`responseLatency`) as min, max(`responseLatency`) as max, \
             avg(`responseLatency`) as mean, pct(`responseLatency`, 50) as p50, \
             pct(`responseLatency`, 90) as p90, pct(`responseLatency`, 95) as p95, \
             pct(`responseLatency`, 99) as p99 by `stage`, `httpMethod`, `resourcePath` | limit 10000"
        );
        assert!(text(QueryKind::Timeouts).contains("`integrationLatency` >= 28710"));
        assert!(
            text(QueryKind::Timeouts).contains("`error.responseType` = \"INTEGRATION_TIMEOUT\"")
        );
        assert!(text(QueryKind::BusiestSeconds).ends_with("| sort requests desc | limit 20"));
        assert!(q
            .iter()
            .filter(|q| q.splittable)
            .all(|q| q.text.contains("bin(")));
        assert_eq!(q.len(), 20);
    }

    #[test]
    fn fewer_queries_when_keys_are_missing() {
        let line = r#"{"routeKey":"GET /pets","status":"200","responseLatency":"5","requestTimeEpoch":"1"}"#;
        let keys = Keys::discover([line], &[]).unwrap();
        let q = queries(
            &keys,
            &QueryOptions {
                bin_seconds: 300,
                top: 5,
                timeout_ms: 30_000,
            },
        );
        assert!(q
            .iter()
            .all(|q| !matches!(q.kind, QueryKind::CacheHits | QueryKind::Timeouts)));
        assert!(q[0].text.contains("by bin(300s), `routeKey`, `status`"));
        let all = queries(
            &keys,
            &QueryOptions {
                bin_seconds: 300,
                top: 0,
                timeout_ms: 30_000,
            },
        );
        let busiest = all
            .iter()
            .find(|q| q.kind == QueryKind::BusiestSeconds)
            .unwrap();
        assert!(busiest.text.ends_with("limit 10000"), "{}", busiest.text);
    }
}
