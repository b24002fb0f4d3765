//! The report: serde structs whose JSON form is the contract documented in
//! `docs/report-schema.md`. Renderers read only this.

use std::collections::BTreeMap;

use serde::Serialize;

/// Bump on any breaking change to the JSON shape.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// JSON schema version.
    pub schema_version: u32,
    /// What was read.
    pub inputs: Inputs,
    /// What looks wrong, worst first: each with its numbers, when it held and the command
    /// to run next (the verdict screen).
    pub findings: Vec<Finding>,
    /// Totals and time range.
    pub summary: Summary,
    /// Latency, integration latency and overhead statistics.
    pub latency: Latency,
    /// Errors by status, route, response type and message.
    pub errors: Errors,
    /// 429s.
    pub throttling: Throttling,
    /// Integration timeouts.
    pub timeouts: Timeouts,
    /// Cache hits and misses.
    pub cache: Cache,
    /// What execution logs add (present only when some were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<ExecutionSummary>,
    /// Requests, statuses, latencies and cache over time, per-route series and the latency
    /// histogram (for charts and sparklines).
    pub timeline: Timeline,
    /// This period against a baseline (`--compare`), biggest regressions first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Logs against CloudWatch metrics for the same stages and period (present only when
    /// metric files were given with the logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
    /// WebSocket connections, messages and route keys (present only when WebSocket events
    /// were read; they count nowhere else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<super::WebSocketSection>,
}

/// This report's requests against a baseline's (`--compare`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline's inputs.
    pub baseline_inputs: Vec<String>,
    /// Baseline requests (after the same filters).
    pub baseline_requests: u64,
    /// Baseline time range.
    pub baseline_start: Option<String>,
    /// Baseline time range end.
    pub baseline_end: Option<String>,
    /// Per route, biggest regression first (`score`); routes in only one period included.
    pub routes: Vec<RouteChange>,
}

/// One route, baseline → now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteChange {
    /// Route.
    pub route: Option<String>,
    /// Requests in the baseline.
    pub requests_before: u64,
    /// Requests now.
    pub requests_now: u64,
    /// (now − before) / before; null when the route is new.
    pub requests_change: Option<f64>,
    /// (4xx + 5xx) / requests in the baseline.
    pub error_rate_before: Option<f64>,
    /// (4xx + 5xx) / requests now.
    pub error_rate_now: Option<f64>,
    /// 5xx / requests in the baseline.
    pub server_error_rate_before: Option<f64>,
    /// 5xx / requests now.
    pub server_error_rate_now: Option<f64>,
    /// p99 response latency in the baseline, ms.
    pub p99_before_ms: Option<f64>,
    /// p99 response latency now, ms.
    pub p99_now_ms: Option<f64>,
    /// (now − before) / before of the p99.
    pub p99_change: Option<f64>,
    /// Regression score: p99 growth (as a fraction, ≥ 0) + 10 × error-rate growth (in
    /// fractions of requests, ≥ 0). 0 = no regression.
    pub score: f64,
}

/// The report over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// Bin width, seconds (`--bin`, or chosen so the range has at most 120 bins).
    pub bin_seconds: i64,
    /// Every bin from the first request's to the last one's, empty ones included.
    pub bins: Vec<TimeBin>,
    /// The busiest routes, one value per bin.
    pub routes: Vec<RouteTimeline>,
    /// Routes with 429s, one count per bin (the throttling heatmap).
    pub throttled_by_route: Vec<RouteThrottled>,
    /// Response latency distribution over all requests.
    pub latency_histogram: Vec<HistogramBucket>,
}

/// One time bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeBin {
    /// Bin start, RFC 3339.
    pub start: String,
    /// Requests.
    pub requests: u64,
    /// 2xx.
    #[serde(rename = "2xx")]
    pub c2xx: u64,
    /// 3xx.
    #[serde(rename = "3xx")]
    pub c3xx: u64,
    /// 4xx.
    #[serde(rename = "4xx")]
    pub c4xx: u64,
    /// 5xx.
    #[serde(rename = "5xx")]
    pub c5xx: u64,
    /// 429s.
    pub throttled: u64,
    /// Response latency percentiles, ms.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile.
    pub latency_p95_ms: Option<f64>,
    /// 99th percentile.
    pub latency_p99_ms: Option<f64>,
    /// Integration latency median, ms.
    pub integration_latency_p50_ms: Option<f64>,
    /// Integration latency 99th percentile, ms.
    pub integration_latency_p99_ms: Option<f64>,
    /// Overhead (latency − integration latency) median, ms.
    pub overhead_p50_ms: Option<f64>,
    /// Cache hits inferred from the access logs (routes showing the cached-GET pattern).
    pub cache_hits: u64,
    /// Cache misses, likewise.
    pub cache_misses: u64,
}

/// One route over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteTimeline {
    /// Route.
    pub route: Option<String>,
    /// Requests per bin.
    pub requests: Vec<u64>,
    /// p99 response latency per bin, ms (null for empty bins).
    pub latency_p99_ms: Vec<Option<f64>>,
}

/// 429s of one route over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteThrottled {
    /// Route.
    pub route: Option<String>,
    /// 429s per bin.
    pub throttled: Vec<u64>,
}

/// One histogram bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramBucket {
    /// Upper bound (inclusive), ms; null for the last, open bucket.
    pub up_to_ms: Option<f64>,
    /// Requests.
    pub count: u64,
}

/// Access logs against CloudWatch metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    /// Bin width, seconds (the metrics' period).
    pub bin_seconds: i64,
    /// Metric files used.
    pub metrics_files: Vec<String>,
    /// Per API/stage of the metrics.
    pub stages: Vec<StageReconciliation>,
    /// What the differences can mean.
    pub notes: Vec<String>,
}

/// One stage: totals and every bin of the overlapping period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReconciliation {
    /// `ApiName`/`ApiId` of the metrics.
    pub api: Option<String>,
    /// Stage (logs of this stage are compared; `null` = all logs).
    pub stage: Option<String>,
    /// The overlapping period as a whole.
    pub totals: ReconciliationRow,
    /// Bins where logs and metrics disagree.
    pub flagged_bins: u64,
    /// Every bin of the overlapping period, oldest first.
    pub bins: Vec<ReconciliationRow>,
}

/// Logs and metrics over one bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReconciliationRow {
    /// Bin start, RFC 3339 (range start for totals).
    pub start: String,
    /// Requests in the logs.
    pub log_requests: u64,
    /// `Count` from metrics.
    pub metric_requests: Option<f64>,
    /// metric − log requests (positive: requests the logs never saw).
    pub request_gap: Option<f64>,
    /// 4xx in the logs.
    pub log_4xx: u64,
    /// `4XXError` from metrics.
    pub metric_4xx: Option<f64>,
    /// 5xx in the logs.
    pub log_5xx: u64,
    /// `5XXError` from metrics.
    pub metric_5xx: Option<f64>,
    /// Mean responseLatency in the logs, ms.
    pub log_latency_avg_ms: Option<f64>,
    /// `Latency` Average from metrics, ms.
    pub metric_latency_avg_ms: Option<f64>,
    /// Why this bin is flagged, if it is.
    pub flag: Option<String>,
}

/// Requests with one failure cause, from execution logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCount {
    /// The cause (`integration timeout`, `malformed Lambda proxy response`, …).
    pub cause: String,
    /// Requests.
    pub count: u64,
    /// Final statuses seen with it.
    pub statuses: BTreeMap<u16, u64>,
}

/// Execution logs, stitched per request and joined with the access logs on requestId.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionSummary {
    /// Requests with execution-log lines.
    pub requests: u64,
    /// Of those, how many have an access-log record with the same requestId.
    pub joined: u64,
    /// joined / requests.
    pub join_rate: Option<f64>,
    /// Lines no rule recognised (kept, counted).
    pub unclassified_lines: u64,
    /// Lines without a `(requestId)` prefix.
    pub lines_without_request_id: u64,
    /// Requests known from execution logs alone, counted as requests from what their lines
    /// state (in `inputs.records` and every section).
    pub requests_added: u64,
    /// Access-log requests completed with a value only their execution log had (status,
    /// route, stage, integration latency, gateway response type); counted once.
    pub requests_completed: u64,
    /// 4xx/5xx requests by the cause their execution log gives, most first.
    pub causes: Vec<CauseCount>,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputFile {
    /// Name as given.
    pub name: String,
    /// Format used.
    pub format: String,
    /// Requests decoded.
    pub records: u64,
    /// Lines skipped.
    pub skipped: u64,
}

/// What was read and what was not.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inputs {
    /// Per file.
    pub files: Vec<InputFile>,
    /// Requests decoded.
    pub records: u64,
    /// Requests removed by filters.
    pub filtered_out: u64,
    /// Lines not decoded.
    pub skipped: u64,
    /// Lines not decoded, by reason.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Up to five `file:line` places per reason.
    pub skipped_samples: BTreeMap<String, Vec<String>>,
    /// Implausible values dropped (a status outside 100–599, a latency below 0 or above an
    /// hour); their requests still count, without them.
    pub invalid_fields: u64,
    /// Dropped values, by reason.
    pub invalid_fields_by_reason: BTreeMap<String, u64>,
    /// Up to five `file:line` places per invalid-field reason.
    pub invalid_field_samples: BTreeMap<String, Vec<String>>,
    /// Which logs the requests come from.
    pub request_source: RequestSource,
    /// `s3://` objects listed but not read, by reason (`outside the time window`, `manifest
    /// or test object`, `folder marker`, `empty object`); absent when there are none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub objects_skipped: BTreeMap<String, u64>,
}

/// Which logs a report's requests come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum RequestSource {
    /// Access logs only (or no requests at all).
    #[default]
    #[serde(rename = "access")]
    Access,
    /// Execution logs only: every request is what its execution-log lines state.
    #[serde(rename = "execution")]
    Execution,
    /// Both: access-log records, completed by their execution logs, plus the requests only
    /// execution logs have.
    #[serde(rename = "access+execution")]
    AccessAndExecution,
}

impl RequestSource {
    /// The source as written in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestSource::Access => "access",
            RequestSource::Execution => "execution",
            RequestSource::AccessAndExecution => "access+execution",
        }
    }
}

/// Requests per status class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusClasses {
    /// 1xx.
    #[serde(rename = "1xx")]
    pub c1xx: u64,
    /// 2xx.
    #[serde(rename = "2xx")]
    pub c2xx: u64,
    /// 3xx.
    #[serde(rename = "3xx")]
    pub c3xx: u64,
    /// 4xx.
    #[serde(rename = "4xx")]
    pub c4xx: u64,
    /// 5xx.
    #[serde(rename = "5xx")]
    pub c5xx: u64,
    /// Requests without a logged status.
    pub unknown: u64,
}

/// The busiest whole second.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peak {
    /// Requests in that second.
    pub value: u64,
    /// The second, RFC 3339.
    pub at: String,
}

/// Totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Requests (after filters).
    pub requests: u64,
    /// First request time.
    pub start: Option<String>,
    /// Last request time.
    pub end: Option<String>,
    /// Whole seconds spanned (last second − first second + 1).
    pub duration_seconds: Option<u64>,
    /// Requests per status class.
    pub status_classes: StatusClasses,
    /// Class count / requests.
    pub error_rate: ErrorRate,
    /// Requests per second over the span.
    pub avg_rps: Option<f64>,
    /// Busiest second.
    pub peak_rps: Option<Peak>,
    /// Routes no list could show (beyond `--top` in every section, with more than 1000
    /// routes), counted together in every total and overall percentile; absent when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_routes: u64,
    /// Routes whose template was inferred from raw paths (ids in `$context.path`, see
    /// `latency.by_route[].template_source`); absent when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub inferred_routes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Error rates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorRate {
    /// 4xx / requests.
    #[serde(rename = "4xx")]
    pub r4xx: Option<f64>,
    /// 5xx / requests.
    #[serde(rename = "5xx")]
    pub r5xx: Option<f64>,
}

/// Exact statistics of one value, in ms. `count` is how many requests had the value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Values present.
    pub count: u64,
    /// Smallest.
    pub min: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
    /// Median (linear interpolation).
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

impl Stats {
    /// The statistics other than the count, by their report names.
    pub fn named(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("min", self.min),
            ("max", self.max),
            ("mean", self.mean),
            ("p50", self.p50),
            ("p90", self.p90),
            ("p95", self.p95),
            ("p99", self.p99),
        ]
    }

    /// Exact statistics of `values` (NaN excluded), percentiles by linear interpolation as in
    /// the polars-computed report sections.
    pub fn of(values: &[f64]) -> Stats {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return Stats::default();
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let q = |p: f64| {
            let pos = p * (n - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
        };
        Stats {
            count: n as u64,
            min: Some(sorted[0]),
            max: Some(sorted[n - 1]),
            mean: Some(sorted.iter().sum::<f64>() / n as f64),
            p50: q(0.5),
            p90: q(0.9),
            p95: q(0.95),
            p99: q(0.99),
        }
    }
}

/// The three latency measures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    /// `responseLatency`.
    pub latency_ms: Stats,
    /// `integrationLatency`.
    pub integration_latency_ms: Stats,
    /// latency − integration latency.
    pub overhead_ms: Stats,
}

/// Latency of one route on one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteLatency {
    /// Route.
    pub route: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// Requests.
    pub count: u64,
    /// Statistics.
    #[serde(flatten)]
    pub stats: LatencyStats,
    /// The route's latency objective from gwstat.toml `[slo]`, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloCheck>,
    /// How the route was made from raw paths (`explicit`, `inferred`); absent when the log
    /// named it (`resourcePath`, `routeKey`) or the path needed no template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_source: Option<TemplateSource>,
}

/// Where a route template came from (`crate::aggregate::templates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateSource {
    /// The log named the route, or its path needed no template.
    Log,
    /// A template given with `--route-template`, `--gateway` or `--openapi`.
    Explicit,
    /// The token or cardinality rules (ids in the path).
    Inferred,
}

/// A route's p99 against its objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloCheck {
    /// Objective: p99 response latency at or under this, ms.
    pub p99_ms: f64,
    /// Whether the route's p99 is over it.
    pub breached: bool,
}

/// Latency section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// All requests.
    pub overall: LatencyStats,
    /// Per route × stage, busiest first.
    pub by_route: Vec<RouteLatency>,
}

/// Requests with one status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusCount {
    /// Status.
    pub status: u16,
    /// Requests.
    pub count: u64,
    /// What API Gateway means by it.
    pub meaning: String,
}

/// Errors on one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteErrors {
    /// Route.
    pub route: Option<String>,
    /// Requests with status ≥ 400.
    pub count: u64,
    /// All requests on the route.
    pub requests: u64,
    /// 4xx.
    pub status_4xx: u64,
    /// 5xx.
    pub status_5xx: u64,
}

/// Requests with one gateway response type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseTypeCount {
    /// `$context.error.responseType`.
    pub response_type: String,
    /// Requests.
    pub count: u64,
    /// Statuses seen with it, most frequent first.
    pub statuses: Vec<u16>,
    /// When API Gateway sends it (for the 21 documented types).
    pub meaning: Option<String>,
}

/// Requests with one error message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageCount {
    /// `$context.error.message`.
    pub message: String,
    /// Requests.
    pub count: u64,
}

/// Errors section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Errors {
    /// Every status ≥ 400.
    pub by_status: Vec<StatusCount>,
    /// Routes with errors.
    pub by_route: Vec<RouteErrors>,
    /// Gateway response types, where logged.
    pub by_response_type: Vec<ResponseTypeCount>,
    /// Gateway error messages, where logged.
    pub by_message: Vec<MessageCount>,
}

/// Throttling of one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteThrottling {
    /// Route.
    pub route: Option<String>,
    /// Requests.
    pub requests: u64,
    /// 429s.
    pub throttled: u64,
}

/// Throttling of one API key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyThrottling {
    /// API key ID; `null` for requests without a key.
    pub api_key: Option<String>,
    /// Requests.
    pub requests: u64,
    /// 429s.
    pub throttled: u64,
}

/// One second of traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondCount {
    /// The second, RFC 3339.
    pub second: String,
    /// Requests.
    pub requests: u64,
    /// 429s.
    pub throttled: u64,
}

/// 429s by cause, where the response type is logged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ThrottleKinds {
    /// `THROTTLED`: rate limits (usage plan, method, stage, account).
    pub throttled: u64,
    /// `QUOTA_EXCEEDED`: usage-plan quota.
    pub quota_exceeded: u64,
    /// 429s without a logged response type.
    pub unknown: u64,
}

/// Throttling section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throttling {
    /// Requests with status 429.
    pub throttled: u64,
    /// throttled / requests.
    pub throttle_rate: Option<f64>,
    /// 429s by cause.
    pub by_kind: ThrottleKinds,
    /// Routes with 429s, most throttled first.
    pub by_route: Vec<RouteThrottling>,
    /// API keys with 429s, most throttled first.
    pub by_api_key: Vec<KeyThrottling>,
    /// Busiest seconds.
    pub top_seconds: Vec<SecondCount>,
}

/// Timeouts on one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteTimeouts {
    /// Route.
    pub route: Option<String>,
    /// 504s at the timeout.
    pub count: u64,
}

/// A route whose p99 integration latency is close to the timeout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearTimeoutRoute {
    /// Route.
    pub route: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// Requests.
    pub count: u64,
    /// p99 integration latency, ms.
    pub p99_integration_latency_ms: f64,
}

/// Timeouts section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeouts {
    /// The integration timeout used, ms.
    pub timeout_ms: u64,
    /// 504s (503s on HTTP APIs) whose integration latency reached the timeout (or logged as INTEGRATION_TIMEOUT).
    pub count: u64,
    /// Per route.
    pub by_route: Vec<RouteTimeouts>,
    /// Routes whose p99 integration latency is within 10 % of the timeout.
    pub near_timeout_routes: Vec<NearTimeoutRoute>,
}

/// Cache results of one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteCache {
    /// Route.
    pub route: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// hits / (hits + misses).
    pub hit_ratio: Option<f64>,
}

/// Cache section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cache {
    /// `inferred` (from access logs) or `none` (no evidence of a cache).
    pub source: String,
    /// Hits.
    pub hits: Option<u64>,
    /// Misses.
    pub misses: Option<u64>,
    /// hits / (hits + misses).
    pub hit_ratio: Option<f64>,
    /// How the numbers were obtained.
    pub note: String,
    /// Per route, most hits first.
    pub by_route: Vec<RouteCache>,
}

/// How bad a finding is; findings are ranked by severity, then by the requests they touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing (input problems, a low cache hit ratio).
    Info,
    /// Something is degraded.
    Warning,
    /// Users are failing in numbers.
    Critical,
}

impl Severity {
    /// The word for it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A number a finding rests on: a count or a value (rates are fractions, latencies ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FindingNumber {
    /// A count of requests, lines or bins.
    Count(u64),
    /// A rate (fraction), share (fraction) or latency (ms).
    Value(f64),
}

impl FindingNumber {
    /// As a float.
    pub fn as_f64(self) -> f64 {
        match self {
            FindingNumber::Count(n) => n as f64,
            FindingNumber::Value(v) => v,
        }
    }
}

/// When a finding held: the first and last timeline bins where it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingWindow {
    /// Start of the first bin, RFC 3339.
    pub start: String,
    /// End of the last bin, RFC 3339.
    pub end: String,
}

/// One thing that looks wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What kind: `throttling`, `server_errors`, `integration_timeouts`, `near_timeout`,
    /// `latency_spike`, `overhead_dominated`, `slo_breach`, `client_errors`,
    /// `cache_hit_ratio_low`, `input_problems`, `reconciliation_mismatch`.
    pub kind: String,
    /// How bad.
    pub severity: Severity,
    /// One sentence with the numbers and the window.
    pub text: String,
    /// Requests it touches (lines, for input problems): the rank within a severity.
    pub impact: u64,
    /// The numbers behind the sentence, by name (the same values as in the sections).
    pub numbers: BTreeMap<String, FindingNumber>,
    /// When it held (absent when the timeline cannot tell).
    pub window: Option<FindingWindow>,
    /// The route it concentrates on, if any.
    pub route: Option<String>,
    /// The API key it concentrates on, if any.
    pub api_key: Option<String>,
    /// The command to run next.
    pub next_command: String,
}
