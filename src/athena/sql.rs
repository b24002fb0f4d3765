//! The SQL behind a report: two queries over one table of access-log lines (every column
//! text, as the JSON keys hold it). The first ([`overview`]) returns the busiest seconds
//! with the requests kept, the lines that could not be placed and the first and last
//! request time (so the timeline's bin width can be chosen as the stream engine chooses it);
//! the second ([`aggregates`]) returns, in one scan grouped by `GROUPING SETS`, requests by
//! time bin × route × stage × status (with the cache pattern and timeouts), the latency
//! histograms per time bin × route × stage (each logged value with its count, so
//! percentiles computed from them are exact), and requests by API key × status, gateway
//! response type × status and error message. Each line is read by the rules the file
//! decoders apply (`crate::decode::record`): missing markers, the request time (epoch ms or
//! seconds, else CLF), plausible statuses and latencies, the route from the route key or the
//! method and resource; and the inference rules of `crate::aggregate::rules`.

use super::dialect::{hour_prefix, Dialect, PARTITION};
use crate::aggregate::rules::{REACHED_SHARE, TIMEOUT_STATUSES};
use crate::decode::fields::Field;
use crate::facts::{EARLIEST_REQUEST_MS, LATENCY_RANGE_MS, REQUEST_AHEAD_MS, STATUS_RANGE};

/// The table's columns and the fields they hold, in table order.
pub const COLUMNS: [(&str, Field); 13] = [
    ("request_time_epoch", Field::RequestTimeEpoch),
    ("request_time", Field::RequestTime),
    ("http_method", Field::HttpMethod),
    ("resource_path", Field::ResourcePath),
    ("route_key", Field::RouteKey),
    ("status", Field::Status),
    ("response_latency", Field::ResponseLatency),
    ("integration_latency", Field::IntegrationLatency),
    ("stage", Field::Stage),
    ("api_key_id", Field::ApiKeyId),
    ("api_key", Field::ApiKey),
    ("error_response_type", Field::ErrorResponseType),
    ("error_message", Field::ErrorMessage),
];

/// The columns the main query groups by, in the order `grouping(…)` numbers them (the
/// first is the most significant bit).
pub const GROUPED: [&str; 10] = [
    "bin",
    "route",
    "stage",
    "status",
    "api_key",
    "error_type",
    "error_message",
    "latency",
    "integration",
    "overhead",
];

/// The counts on every row of the main query, after `g` and the [`GROUPED`] columns: each
/// column's name and the SQL that computes it.
pub const COUNTS: [(&str, &str); 4] = [
    ("n", "count(*)"),
    ("hits", "sum(CASE WHEN cache = 1 THEN 1 ELSE 0 END)"),
    ("misses", "sum(CASE WHEN cache = 0 THEN 1 ELSE 0 END)"),
    ("timeouts", "sum(timeout)"),
];

/// The main query's result columns, in order: `g` (the grouping set's mask, see
/// [`grouping_mask`]), the [`GROUPED`] columns, then the [`COUNTS`].
pub const AGGREGATE_COLUMNS: [&str; 1 + GROUPED.len() + COUNTS.len()] = {
    let mut out = [""; 1 + GROUPED.len() + COUNTS.len()];
    out[0] = "g";
    let mut i = 0;
    while i < GROUPED.len() {
        out[1 + i] = GROUPED[i];
        i += 1;
    }
    let mut j = 0;
    while j < COUNTS.len() {
        out[1 + GROUPED.len() + j] = COUNTS[j].0;
        j += 1;
    }
    out
};

/// The overview query's result columns, in order.
pub const OVERVIEW_COLUMNS: [&str; 6] = ["sec", "n", "throttled", "kept", "first_ms", "last_ms"];

/// Where `name` is in `columns`, for reading result rows by column name; used in constants,
/// so a name that is not there fails to compile.
pub const fn position(columns: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < columns.len() {
        let (a, b) = (columns[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut k = 0;
            while k < a.len() && a[k] == b[k] {
                k += 1;
            }
            if k == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("no such column")
}

/// The grouping sets of the main query.
pub const SETS: [&[&str]; 7] = [
    &["bin", "route", "stage", "status"],
    &["bin", "route", "stage", "latency"],
    &["bin", "route", "stage", "integration"],
    &["bin", "route", "stage", "overhead"],
    &["api_key", "status"],
    &["error_type", "status"],
    &["error_message"],
];

/// The value `grouping(…)` over [`GROUPED`] takes on the rows of a grouping set: a bit set
/// for each column the set does not group by.
pub fn grouping_mask(set: &[&str]) -> u64 {
    GROUPED
        .iter()
        .enumerate()
        .filter(|(_, c)| !set.contains(c))
        .map(|(i, _)| 1u64 << (GROUPED.len() - 1 - i))
        .sum()
}

/// The table's columns with the JSON key each is read from: API Gateway's own `$context`
/// names, or the key `--field` gives.
pub fn table_columns(overrides: &[(Field, String)]) -> Vec<(&'static str, String)> {
    COLUMNS
        .iter()
        .map(|(name, field)| {
            let key = overrides
                .iter()
                .rev()
                .find(|(f, _)| f == field)
                .map_or_else(|| field.context_name().to_string(), |(_, k)| k.clone());
            (*name, key)
        })
        .collect()
}

/// What the queries are over and how they group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// The table (`database.table`).
    pub table: String,
    /// The engine the text is for.
    pub dialect: Dialect,
    /// Requests kept: `[start, end)` in epoch ms (`None`: every request).
    pub window: Option<(i64, i64)>,
    /// Longest list of busiest seconds (0: all).
    pub top: usize,
    /// Integration timeout, ms (the timeouts rule).
    pub timeout_ms: u64,
    /// Now, epoch ms (requests later than a day ahead are implausible, as in the decoders).
    pub now_ms: i64,
}

/// Hours of Firehose buffering and delivery lag allowed after `--until` when choosing the
/// partitions (objects are keyed by arrival time, which is never before the request).
const PARTITION_SLACK_MS: i64 = 3_600_000;

/// A logged value, or NULL for API Gateway's missing markers (as `is_missing` reads them).
fn present(column: &str) -> String {
    format!("CASE WHEN trim({column}) IN ('', '-', 'null', '(none)') THEN NULL ELSE {column} END")
}

/// A number the way SQL compares it with a double exactly as Rust does.
fn double(value: f64) -> String {
    format!("CAST('{value}' AS DOUBLE)")
}

/// The lines as requests: one row per line with its typed values; `t` is NULL for a line
/// the decoders would skip (no plausible time, a status or latency that is not a number).
fn requests(options: &QueryOptions, bin_seconds: i64) -> String {
    let d = options.dialect;
    let raw: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _)| format!("{} AS {name}", present(name)))
        .collect();
    let mut partition = Vec::new();
    if let (Dialect::Athena, Some((start, end))) = (d, options.window) {
        partition.push(format!(
            "WHERE {PARTITION} BETWEEN '{}' AND '{}'",
            hour_prefix(start),
            hour_prefix(end.saturating_add(PARTITION_SLACK_MS))
        ));
    }
    let epoch = "TRY_CAST(request_time_epoch AS DOUBLE)";
    let status = "TRY_CAST(status AS DOUBLE)";
    let latency = "TRY_CAST(response_latency AS DOUBLE)";
    let integration = "TRY_CAST(integration_latency AS DOUBLE)";
    let time = format!(
        "CASE WHEN request_time_epoch IS NOT NULL THEN \
         CASE WHEN {epoch} >= 0 THEN CAST(round(CASE WHEN {epoch} < 1e11 THEN {epoch} * 1000 \
         ELSE {epoch} END) AS BIGINT) END ELSE {} END",
        d.clf_time_ms("request_time")
    );
    let latest = options.now_ms + REQUEST_AHEAD_MS;
    let bad = format!(
        "(status IS NOT NULL AND ({status} IS NULL OR {status} <> floor({status}))) \
         OR (response_latency IS NOT NULL AND {latency} IS NULL) \
         OR (integration_latency IS NOT NULL AND {integration} IS NULL)"
    );
    let in_range = |v: &str, lo: f64, hi: f64| {
        format!(
            "CASE WHEN {v} BETWEEN {} AND {} THEN {v} END",
            double(lo),
            double(hi)
        )
    };
    let window = match options.window {
        Some((start, end)) => format!(" AND t >= {start} AND t < {end}"),
        None => String::new(),
    };
    let bin = bin_seconds.max(1);
    let reached = timeout_reached_sql(options.timeout_ms);
    format!(
        "WITH raw AS (\n  SELECT {raw}\n  FROM {table}{partition}\n),\n\
         typed AS (\n  SELECT\n    CASE WHEN {bad} THEN NULL ELSE {time} END AS t,\n\
         \x20   CAST({status_in} AS INTEGER) AS status,\n\
         \x20   {latency_in} AS latency,\n\
         \x20   {integration_in} AS integration,\n\
         \x20   COALESCE(http_method, CASE WHEN strpos(route_key, ' ') > 0 THEN \
         split_part(route_key, ' ', 1) END) AS method,\n\
         \x20   COALESCE(route_key, http_method || ' ' || resource_path, resource_path) AS route,\n\
         \x20   stage,\n\
         \x20   COALESCE(api_key_id, api_key) AS api_key,\n\
         \x20   error_response_type AS error_type,\n\
         \x20   CASE WHEN length(error_message) >= 2 AND error_message LIKE '\"%\"' \
         THEN substr(error_message, 2, length(error_message) - 2) ELSE error_message END \
         AS error_message\n  FROM raw\n),\n\
         placed AS (\n  SELECT CASE WHEN t BETWEEN {EARLIEST_REQUEST_MS} AND {latest} THEN t END AS t, \
         status, latency, integration, method, route, stage, api_key, error_type, \
         error_message\n  FROM typed\n),\n\
         r AS (\n  SELECT *,\n    {sec} AS sec,\n    {bin_expr} * {bin} AS bin,\n\
         \x20   latency - integration AS overhead,\n\
         \x20   CASE WHEN upper(method) = 'GET' AND status BETWEEN 200 AND 299 THEN CASE \
         WHEN integration > 0 THEN 0 WHEN latency IS NOT NULL AND (integration IS NULL OR \
         integration = 0) THEN 1 END END AS cache,\n\
         \x20   CASE WHEN {reached} THEN 1 ELSE 0 END AS timeout\n\
         \x20 FROM placed WHERE t IS NULL OR (TRUE{window})\n)\n",
        raw = raw.join(",\n    "),
        table = options.table,
        partition = partition
            .first()
            .map(|p| format!("\n  {p}"))
            .unwrap_or_default(),
        status_in = in_range(
            status,
            f64::from(*STATUS_RANGE.start()),
            f64::from(*STATUS_RANGE.end())
        ),
        latency_in = in_range(latency, *LATENCY_RANGE_MS.start(), *LATENCY_RANGE_MS.end()),
        integration_in = in_range(
            integration,
            *LATENCY_RANGE_MS.start(),
            *LATENCY_RANGE_MS.end()
        ),
        sec = d.idiv("t", "1000"),
        bin_expr = d.idiv("t", &(bin * 1000).to_string()),
    )
}

/// The timeouts rule (`crate::aggregate::rules::timeout_reached`) in SQL.
fn timeout_reached_sql(timeout_ms: u64) -> String {
    let statuses: Vec<String> = TIMEOUT_STATUSES.iter().map(u16::to_string).collect();
    format!(
        "status IN ({}) AND (integration >= {} OR error_type = 'INTEGRATION_TIMEOUT')",
        statuses.join(", "),
        double(timeout_ms as f64 * REACHED_SHARE)
    )
}

/// The first query: the busiest seconds (requests, 429s) in order, after one row for the
/// lines that could not be placed (`sec` NULL); every row also holds the requests kept and
/// the first and last request time.
pub fn overview(options: &QueryOptions) -> String {
    let limit = match options.top {
        0 => String::new(),
        n => format!("\nLIMIT {}", n + 1),
    };
    format!(
        "{}SELECT {columns} FROM (\n\
         \x20 SELECT sec, count(*) AS n, sum(CASE WHEN status = 429 THEN 1 ELSE 0 END) AS throttled,\n\
         \x20   sum(count(t)) OVER () AS kept, min(min(t)) OVER () AS first_ms,\n\
         \x20   max(max(t)) OVER () AS last_ms\n\
         \x20 FROM r GROUP BY sec\n) s\nORDER BY sec IS NULL DESC, n DESC, sec ASC{limit}",
        requests(options, 1),
        columns = OVERVIEW_COLUMNS.join(", "),
    )
}

/// The second query: every building block of the aggregates, in bins of `bin_seconds`.
pub fn aggregates(options: &QueryOptions, bin_seconds: i64) -> String {
    let sets: Vec<String> = SETS
        .iter()
        .map(|set| format!("({})", set.join(", ")))
        .collect();
    let counts: Vec<String> = COUNTS
        .iter()
        .map(|(name, sql)| format!("  {sql} AS {name}"))
        .collect();
    format!(
        "{}SELECT grouping({grouped}) AS {g}, {grouped},\n{}\n\
         FROM r WHERE t IS NOT NULL\n\
         GROUP BY GROUPING SETS (\n  {}\n)",
        requests(options, bin_seconds),
        counts.join(",\n"),
        sets.join(",\n  "),
        g = AGGREGATE_COLUMNS[0],
        grouped = GROUPED.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dialect: Dialect) -> QueryOptions {
        QueryOptions {
            table: "logs.api".into(),
            dialect,
            window: Some((1_795_514_400_000, 1_795_521_600_000)),
            top: 20,
            timeout_ms: 29_000,
            now_ms: 1_795_600_000_000,
        }
    }

    #[test]
    fn masks_follow_the_sets() {
        assert_eq!(
            grouping_mask(&["bin", "route", "stage", "status"]),
            0b0000111111
        );
        assert_eq!(grouping_mask(&["error_message"]), 0b1111110111);
        let masks: std::collections::BTreeSet<u64> =
            SETS.iter().map(|s| grouping_mask(s)).collect();
        assert_eq!(masks.len(), SETS.len());
    }

    #[test]
    fn queries_read_the_lines_as_the_decoders_do() {
        let athena = aggregates(&options(Dialect::Athena), 300);
        assert!(
            athena
                .contains("FROM logs.api\n  WHERE dt BETWEEN '2026/11/24/10' AND '2026/11/24/13'"),
            "{athena}"
        );
        assert!(athena.contains("(t) / (300000) * 300 AS bin"));
        assert!(athena.contains("t >= 1795514400000 AND t < 1795521600000"));
        assert!(athena.contains("integration >= CAST('28710' AS DOUBLE)"));
        assert!(athena.contains("GROUP BY GROUPING SETS"));
        let duck = aggregates(&options(Dialect::Duckdb), 300);
        assert!(!duck.contains("dt BETWEEN"));
        assert!(duck.contains("(t) // (300000) * 300 AS bin"));
        let first = overview(&QueryOptions {
            top: 0,
            ..options(Dialect::Athena)
        });
        assert!(first.ends_with("sec ASC"));
        assert!(overview(&options(Dialect::Athena)).ends_with("LIMIT 21"));
    }

    #[test]
    fn columns_take_the_fields_keys() {
        let cols = table_columns(&[(Field::Status, "http_status".into())]);
        assert!(cols.contains(&("status", "http_status".to_string())));
        assert!(cols.contains(&("error_message", "error.message".to_string())));
        assert!(cols.contains(&("api_key_id", "identity.apiKeyId".to_string())));
    }
}
