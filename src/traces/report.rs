//! The traces report: serde structs (documented in docs/traces.md) and their tables.

use serde::Serialize;

use crate::report::charts::{colors, Chart, ChartKind, ChartSeries};
use crate::report::layout::{ms, Block, Tone};
use crate::report::{Document, Stats};

/// Bump on any breaking change to the JSON shape.
pub const TRACES_SCHEMA_VERSION: u32 = 1;

/// A whole traces report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracesReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// Always `traces`.
    pub kind: &'static str,
    /// What was read.
    pub inputs: TraceInputs,
    /// Every full trace together.
    pub totals: TraceRoute,
    /// Per route, most traces first.
    pub routes: Vec<TraceRoute>,
    /// Per route from get-trace-summaries files, most traces first.
    pub summaries: Vec<SummaryRoute>,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceFileInfo {
    /// Name as given.
    pub name: String,
    /// `batch-get-traces` or `get-trace-summaries`.
    pub shape: String,
    /// Full traces.
    pub traces: u64,
    /// Summaries.
    pub summaries: u64,
}

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceInputs {
    /// Per file.
    pub files: Vec<TraceFileInfo>,
    /// Full traces.
    pub traces: u64,
    /// Of those, traces without an API Gateway segment (left out of the routes).
    pub without_gateway_segment: u64,
    /// Summaries.
    pub summaries: u64,
    /// Traces whose request id matched an access-log record (`null` without logs).
    pub joined_to_logs: Option<u64>,
    /// Unreadable segments or summaries.
    pub skipped: u64,
    /// What the user should know.
    pub warnings: Vec<String>,
}

/// Calls from the function to other services (subsegments in namespace `aws`/`remote`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownstreamCall {
    /// Service (`DynamoDB`, a host name, …).
    pub name: String,
    /// Operation (`GetItem`, …) or `-`.
    pub operation: String,
    /// Calls.
    pub calls: u64,
    /// Total time, ms.
    pub total_ms: f64,
    /// Per-call duration.
    pub duration_ms: Stats,
}

/// Where the time of one route's traces goes, in ms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceRoute {
    /// `METHOD /resource` (from access logs when joined, else the URL with ids templated).
    pub route: String,
    /// Traces.
    pub traces: u64,
    /// Traces joined to an access-log record.
    pub joined_to_logs: u64,
    /// Gateway segments with `fault` (5xx).
    pub faults: u64,
    /// Gateway segments with `error` (4xx).
    pub errors: u64,
    /// Traces with a `throttle` (429) anywhere.
    pub throttles: u64,
    /// Traces with a Lambda `Initialization` subsegment.
    pub cold_starts: u64,
    /// API Gateway segment duration (≈ responseLatency).
    pub gateway_ms: Stats,
    /// The gateway's integration subsegment (≈ integrationLatency).
    pub integration_ms: Stats,
    /// Gateway segment − integration subsegment.
    pub gateway_overhead_ms: Stats,
    /// `AWS::Lambda` service segment.
    pub lambda_service_ms: Stats,
    /// Integration − Lambda service (invoke and network).
    pub invoke_overhead_ms: Stats,
    /// `Initialization` (cold starts only).
    pub initialization_ms: Stats,
    /// `Invocation` (the handler).
    pub invocation_ms: Stats,
    /// `Overhead` (runtime work after the response).
    pub function_overhead_ms: Stats,
    /// Downstream calls, most total time first.
    pub downstream: Vec<DownstreamCall>,
}

/// One route from trace summaries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRoute {
    /// `METHOD /path` (ids templated).
    pub route: String,
    /// Summaries.
    pub traces: u64,
    /// HasFault.
    pub faults: u64,
    /// HasError.
    pub errors: u64,
    /// HasThrottle.
    pub throttles: u64,
    /// ResponseTime (root segment), ms.
    pub response_time_ms: Stats,
    /// Duration (whole trace), ms.
    pub duration_ms: Stats,
}

fn mean_p99(s: &Stats) -> String {
    match (s.mean, s.p99) {
        (None, _) => "-".into(),
        (Some(m), Some(p)) if s.count > 1 => {
            format!("{} / {}", ms(Some(round2(m))), ms(Some(round2(p))))
        }
        (Some(m), _) => ms(Some(round2(m))),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn route_tone(r: &TraceRoute) -> Tone {
    if r.faults > 0 {
        Tone::Bad
    } else if r.errors > 0 || r.throttles > 0 {
        Tone::Warn
    } else {
        Tone::Normal
    }
}

impl Document for TracesReport {
    fn title(&self) -> &'static str {
        "gwstat traces"
    }

    fn subtitle(&self) -> String {
        format!(
            "{} traces, {} summaries",
            self.inputs.traces, self.inputs.summaries
        )
    }

    fn charts(&self) -> Vec<Chart> {
        if self.routes.is_empty() {
            return Vec::new();
        }
        let labels: Vec<String> = self.routes.iter().map(|r| r.route.clone()).collect();
        let mean = |f: &dyn Fn(&TraceRoute) -> &Stats| -> Vec<Option<f64>> {
            self.routes.iter().map(|r| f(r).mean).collect()
        };
        vec![
            Chart {
                title: "Where the time goes per route (mean ms)".into(),
                kind: ChartKind::Bars,
                unit: "ms",
                labels: labels.clone(),
                series: vec![
                    ChartSeries::new(
                        "gateway overhead",
                        colors::PURPLE,
                        mean(&|r| &r.gateway_overhead_ms),
                    ),
                    ChartSeries::new(
                        "invoke overhead",
                        colors::GREY,
                        mean(&|r| &r.invoke_overhead_ms),
                    ),
                    ChartSeries::new(
                        "init (cold)",
                        colors::ORANGE,
                        mean(&|r| &r.initialization_ms),
                    ),
                    ChartSeries::new("handler", colors::BLUE, mean(&|r| &r.invocation_ms)),
                    ChartSeries::new("integration", colors::GREEN, mean(&|r| &r.integration_ms)),
                ],
                note: Some(
                    "gateway overhead = API Gateway segment − integration subsegment".into(),
                ),
                log_scale: true,
            },
            Chart {
                title: "Faults, errors and throttles per route".into(),
                kind: ChartKind::Bars,
                unit: "traces",
                labels,
                series: vec![
                    ChartSeries::new(
                        "fault (5xx)",
                        colors::BAD,
                        self.routes.iter().map(|r| Some(r.faults as f64)).collect(),
                    ),
                    ChartSeries::new(
                        "error (4xx)",
                        colors::WARN,
                        self.routes.iter().map(|r| Some(r.errors as f64)).collect(),
                    ),
                    ChartSeries::new(
                        "throttle (429)",
                        colors::PURPLE,
                        self.routes
                            .iter()
                            .map(|r| Some(r.throttles as f64))
                            .collect(),
                    ),
                ],
                note: None,
                log_scale: false,
            },
        ]
    }

    fn blocks(&self) -> Vec<Block> {
        let mut out = Vec::new();
        let mut files = Block::new("Trace inputs", vec!["file", "shape", "traces", "summaries"]);
        files.shorten(&["file"]);
        for f in &self.inputs.files {
            files.row(vec![
                f.name.clone(),
                f.shape.clone(),
                f.traces.to_string(),
                f.summaries.to_string(),
            ]);
        }
        let mut notes = Vec::new();
        if let Some(joined) = self.inputs.joined_to_logs {
            notes.push(format!(
                "{joined} of {} traces joined to access logs by request id",
                self.inputs.traces
            ));
        }
        notes.extend(self.inputs.warnings.iter().cloned());
        if !notes.is_empty() {
            files.note = Some(notes.join("\n  "));
        }
        out.push(files);
        if self.inputs.traces > 0 {
            let mut time = Block::new(
                "Where the time goes per route, ms (mean / p99)",
                vec![
                    "route",
                    "traces",
                    "gateway total",
                    "integration",
                    "gateway overhead",
                    "Lambda service",
                    "invoke overhead",
                    "cold starts",
                    "init",
                    "handler",
                    "runtime overhead",
                ],
            );
            time.shorten(&["route"]);
            time.drop_first(&[
                "runtime overhead",
                "invoke overhead",
                "init",
                "Lambda service",
                "handler",
                "cold starts",
                "integration",
                "traces",
            ]);
            for r in self.routes.iter().chain([&self.totals]) {
                time.toned_row(
                    vec![
                        r.route.clone(),
                        r.traces.to_string(),
                        mean_p99(&r.gateway_ms),
                        mean_p99(&r.integration_ms),
                        mean_p99(&r.gateway_overhead_ms),
                        mean_p99(&r.lambda_service_ms),
                        mean_p99(&r.invoke_overhead_ms),
                        r.cold_starts.to_string(),
                        mean_p99(&r.initialization_ms),
                        mean_p99(&r.invocation_ms),
                        mean_p99(&r.function_overhead_ms),
                    ],
                    route_tone(r),
                );
            }
            time.note = Some(
                "gateway overhead = API Gateway segment − integration subsegment; invoke \
                 overhead = integration − AWS::Lambda segment"
                    .into(),
            );
            out.push(time);
            let mut outcomes = Block::new(
                "Faults, errors and throttles per route",
                vec![
                    "route",
                    "traces",
                    "fault (5xx)",
                    "error (4xx)",
                    "throttle (429)",
                ],
            );
            outcomes.shorten(&["route"]);
            for r in self.routes.iter().chain([&self.totals]) {
                outcomes.toned_row(
                    vec![
                        r.route.clone(),
                        r.traces.to_string(),
                        r.faults.to_string(),
                        r.errors.to_string(),
                        r.throttles.to_string(),
                    ],
                    route_tone(r),
                );
            }
            out.push(outcomes);
            let mut calls = Block::new(
                "Downstream calls from the functions",
                vec![
                    "route",
                    "service",
                    "operation",
                    "calls",
                    "total ms",
                    "mean / p99 ms",
                ],
            );
            calls.shorten(&["route", "operation"]);
            calls.drop_first(&["mean / p99 ms", "total ms"]);
            for r in &self.routes {
                for c in &r.downstream {
                    calls.row(vec![
                        r.route.clone(),
                        c.name.clone(),
                        c.operation.clone(),
                        c.calls.to_string(),
                        ms(Some(round2(c.total_ms))),
                        mean_p99(&c.duration_ms),
                    ]);
                }
            }
            if !calls.rows.is_empty() {
                out.push(calls);
            }
        }
        if !self.summaries.is_empty() {
            let mut block = Block::new(
                "Trace summaries per route, ms (mean / p99)",
                vec![
                    "route",
                    "traces",
                    "fault",
                    "error",
                    "throttle",
                    "response time",
                    "duration",
                ],
            );
            block.shorten(&["route"]);
            block.drop_first(&["duration", "throttle", "error"]);
            for s in &self.summaries {
                block.row(vec![
                    s.route.clone(),
                    s.traces.to_string(),
                    s.faults.to_string(),
                    s.errors.to_string(),
                    s.throttles.to_string(),
                    mean_p99(&s.response_time_ms),
                    mean_p99(&s.duration_ms),
                ]);
            }
            out.push(block);
        }
        out
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = Vec::new();
        for r in self.routes.iter().chain([&self.totals]) {
            let mut add = |metric: &str, value: String| {
                rows.push([
                    "traces".into(),
                    r.route.clone(),
                    String::new(),
                    metric.into(),
                    value,
                ]);
            };
            add("traces", r.traces.to_string());
            add("faults", r.faults.to_string());
            add("errors", r.errors.to_string());
            add("throttles", r.throttles.to_string());
            add("cold_starts", r.cold_starts.to_string());
            for (name, s) in [
                ("gateway_ms", &r.gateway_ms),
                ("integration_ms", &r.integration_ms),
                ("gateway_overhead_ms", &r.gateway_overhead_ms),
                ("lambda_service_ms", &r.lambda_service_ms),
                ("invoke_overhead_ms", &r.invoke_overhead_ms),
                ("initialization_ms", &r.initialization_ms),
                ("invocation_ms", &r.invocation_ms),
                ("function_overhead_ms", &r.function_overhead_ms),
            ] {
                for (stat, v) in [
                    ("mean", s.mean),
                    ("p50", s.p50),
                    ("p99", s.p99),
                    ("max", s.max),
                ] {
                    if let Some(v) = v {
                        add(&format!("{name}.{stat}"), v.to_string());
                    }
                }
            }
        }
        for s in &self.summaries {
            rows.push([
                "summaries".into(),
                s.route.clone(),
                String::new(),
                "traces".into(),
                s.traces.to_string(),
            ]);
            if let Some(m) = s.response_time_ms.mean {
                rows.push([
                    "summaries".into(),
                    s.route.clone(),
                    String::new(),
                    "response_time_ms.mean".into(),
                    m.to_string(),
                ]);
            }
        }
        rows
    }
}
