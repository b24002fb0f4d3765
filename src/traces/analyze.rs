//! Per trace: gateway time (API Gateway segment minus its integration subsegment), the Lambda
//! service and function segments split into initialization (cold start), invocation and
//! overhead, and downstream calls; then per route.

use std::collections::BTreeMap;

use super::report::{
    DownstreamCall, SummaryRoute, TraceFileInfo, TraceInputs, TraceRoute, TracesReport,
    TRACES_SCHEMA_VERSION,
};
use super::{Segment, Trace, TraceSummary};
use crate::report::Stats;
use crate::FastMap;

/// One decoded file.
#[derive(Debug, Clone, Default)]
pub struct TraceSource {
    /// File name.
    pub name: String,
    /// Shape name.
    pub shape: String,
    /// Traces.
    pub traces: Vec<Trace>,
    /// Summaries.
    pub summaries: Vec<TraceSummary>,
    /// Unreadable segments.
    pub skipped: u64,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// Routes by request id and by X-Ray trace id, from access logs given alongside.
pub type RouteIndex = FastMap<String, String>;

/// The bare trace id of a logged `$context.xrayTraceId` (`Root=1-…;Parent=…` or `1-…`).
pub fn bare_trace_id(text: &str) -> &str {
    let text = text.trim();
    let text = text.split(';').next().unwrap_or(text);
    text.strip_prefix("Root=").unwrap_or(text)
}

/// What one trace says.
#[derive(Debug, Clone, Default)]
struct Facts {
    route: String,
    joined: bool,
    fault: bool,
    error: bool,
    throttle: bool,
    cold: bool,
    gateway: Option<f64>,
    integration: Option<f64>,
    overhead: Option<f64>,
    lambda_service: Option<f64>,
    invoke_overhead: Option<f64>,
    init: Option<f64>,
    invocation: Option<f64>,
    function_overhead: Option<f64>,
    downstream: Vec<(String, String, f64)>,
}

/// `/products/48213` → `/products/{id}`: path segments with digits (ids, UUIDs) become
/// `{id}`, so traces without access logs still group by route.
pub fn template_path(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.bytes().any(|b| b.is_ascii_digit()) && part.len() >= 3 {
                "{id}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `METHOD /path` from a gateway URL, the stage prefix removed and ids templated.
pub fn route_from_url(method: Option<&str>, url: Option<&str>, stage: Option<&str>) -> String {
    let path = url
        .and_then(|u| u.split_once("://").map(|(_, rest)| rest).or(Some(u)))
        .map(|rest| rest.find('/').map_or("/", |i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = match stage.and_then(|s| path.strip_prefix(&format!("/{s}"))) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            if rest.is_empty() {
                "/"
            } else {
                rest
            }
        }
        _ => path,
    };
    format!("{} {}", method.unwrap_or("-"), template_path(path))
}

fn walk<'a>(segments: &'a [Segment], out: &mut Vec<&'a Segment>) {
    for s in segments {
        out.push(s);
        walk(&s.subsegments, out);
    }
}

fn facts(trace: &Trace, routes: &RouteIndex) -> Option<Facts> {
    let gateway = trace.segments.iter().find(|s| {
        s.origin.as_deref() == Some("AWS::ApiGateway::Stage") || s.request_id.is_some()
    })?;
    let mut all = Vec::new();
    walk(&trace.segments, &mut all);
    let logged_route = gateway
        .request_id
        .as_ref()
        .and_then(|id| routes.get(id))
        .or_else(|| routes.get(&trace.id));
    let mut f = Facts {
        route: logged_route.cloned().unwrap_or_else(|| {
            route_from_url(
                gateway.method.as_deref(),
                gateway.url.as_deref(),
                gateway.stage.as_deref(),
            )
        }),
        joined: logged_route.is_some(),
        fault: gateway.fault,
        error: gateway.error,
        throttle: all.iter().any(|s| s.throttle),
        gateway: gateway.duration_ms(),
        ..Facts::default()
    };
    // The integration is the gateway's direct subsegment (Lambda, or a remote HTTP call).
    let integration = gateway.subsegments.first();
    f.integration = integration.and_then(Segment::duration_ms);
    f.overhead = match (f.gateway, f.integration) {
        (Some(g), Some(i)) => Some(g - i),
        (Some(g), None) => Some(g),
        _ => None,
    };
    let service = trace.segments.iter().find(|s| {
        s.origin.as_deref() == Some("AWS::Lambda")
            && integration.is_none_or(|i| s.parent_id.as_deref() == Some(i.id.as_str()))
    });
    f.lambda_service = service.and_then(Segment::duration_ms);
    f.invoke_overhead = match (f.integration, f.lambda_service) {
        (Some(i), Some(l)) => Some(i - l),
        _ => None,
    };
    let function = trace.segments.iter().find(|s| {
        s.origin.as_deref() == Some("AWS::Lambda::Function")
            && service.is_none_or(|l| s.parent_id.as_deref() == Some(l.id.as_str()))
    });
    if let Some(function) = function {
        let part = |name: &str| {
            function
                .subsegments
                .iter()
                .find(|s| s.name == name)
                .and_then(Segment::duration_ms)
        };
        f.init = part("Initialization");
        f.cold = f.init.is_some();
        f.invocation = part("Invocation");
        f.function_overhead = part("Overhead");
        let mut inner = Vec::new();
        walk(&function.subsegments, &mut inner);
        for s in inner {
            if matches!(s.namespace.as_deref(), Some("aws" | "remote")) {
                if let Some(ms) = s.duration_ms() {
                    f.downstream.push((
                        s.name.clone(),
                        s.operation.clone().unwrap_or_else(|| "-".into()),
                        ms,
                    ));
                }
            }
        }
    }
    Some(f)
}

fn stats(facts: &[&Facts], pick: impl Fn(&Facts) -> Option<f64>) -> Stats {
    let values: Vec<f64> = facts.iter().filter_map(|f| pick(f)).collect();
    Stats::of(&values)
}

fn route_row(route: String, facts: &[&Facts]) -> TraceRoute {
    let mut calls: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for f in facts {
        for (name, op, ms) in &f.downstream {
            calls
                .entry((name.clone(), op.clone()))
                .or_default()
                .push(*ms);
        }
    }
    let mut downstream: Vec<DownstreamCall> = calls
        .into_iter()
        .map(|((name, operation), ms)| DownstreamCall {
            name,
            operation,
            calls: ms.len() as u64,
            total_ms: ms.iter().sum(),
            duration_ms: Stats::of(&ms),
        })
        .collect();
    downstream.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    TraceRoute {
        route,
        traces: facts.len() as u64,
        joined_to_logs: facts.iter().filter(|f| f.joined).count() as u64,
        faults: facts.iter().filter(|f| f.fault).count() as u64,
        errors: facts.iter().filter(|f| f.error).count() as u64,
        throttles: facts.iter().filter(|f| f.throttle).count() as u64,
        cold_starts: facts.iter().filter(|f| f.cold).count() as u64,
        gateway_ms: stats(facts, |f| f.gateway),
        integration_ms: stats(facts, |f| f.integration),
        gateway_overhead_ms: stats(facts, |f| f.overhead),
        lambda_service_ms: stats(facts, |f| f.lambda_service),
        invoke_overhead_ms: stats(facts, |f| f.invoke_overhead),
        initialization_ms: stats(facts, |f| f.init),
        invocation_ms: stats(facts, |f| f.invocation),
        function_overhead_ms: stats(facts, |f| f.function_overhead),
        downstream,
    }
}

/// Builds the traces report. `routes` maps request ids to routes from access logs given
/// with the traces (`None` when there were none).
pub fn build_traces_report(
    sources: Vec<TraceSource>,
    routes: Option<&RouteIndex>,
    top: usize,
) -> TracesReport {
    let empty = RouteIndex::default();
    let index = routes.unwrap_or(&empty);
    let mut inputs = TraceInputs::default();
    let mut all_facts = Vec::new();
    let mut summaries: Vec<TraceSummary> = Vec::new();
    for source in sources {
        inputs.files.push(TraceFileInfo {
            name: source.name.clone(),
            shape: source.shape,
            traces: source.traces.len() as u64,
            summaries: source.summaries.len() as u64,
        });
        inputs.skipped += source.skipped;
        inputs.warnings.extend(source.warnings);
        for trace in &source.traces {
            match facts(trace, index) {
                Some(f) => all_facts.push(f),
                None => {
                    inputs.without_gateway_segment += 1;
                }
            }
        }
        summaries.extend(source.summaries);
    }
    inputs.traces = all_facts.len() as u64 + inputs.without_gateway_segment;
    inputs.summaries = summaries.len() as u64;
    if inputs.without_gateway_segment > 0 {
        inputs.warnings.push(format!(
            "{} trace(s) have no API Gateway segment (not API Gateway traces, or incomplete)",
            inputs.without_gateway_segment
        ));
    }
    if routes.is_some() {
        inputs.joined_to_logs = Some(all_facts.iter().filter(|f| f.joined).count() as u64);
    }
    let mut by_route: BTreeMap<&str, Vec<&Facts>> = BTreeMap::new();
    for f in &all_facts {
        by_route.entry(&f.route).or_default().push(f);
    }
    let mut route_rows: Vec<TraceRoute> = by_route
        .into_iter()
        .map(|(route, facts)| route_row(route.to_string(), &facts))
        .collect();
    crate::analyze::stats::sort_top(&mut route_rows, top, |r| (r.traces, r.route.clone()));
    let everything: Vec<&Facts> = all_facts.iter().collect();
    let totals = route_row("all routes".into(), &everything);

    let mut summary_routes: BTreeMap<String, Vec<&TraceSummary>> = BTreeMap::new();
    for s in &summaries {
        let stage = s.url.as_deref().and_then(stage_of_url);
        let route = route_from_url(s.method.as_deref(), s.url.as_deref(), stage.as_deref());
        summary_routes.entry(route).or_default().push(s);
    }
    let mut summary_rows: Vec<SummaryRoute> = summary_routes
        .into_iter()
        .map(|(route, list)| SummaryRoute {
            route,
            traces: list.len() as u64,
            faults: list.iter().filter(|s| s.has_fault).count() as u64,
            errors: list.iter().filter(|s| s.has_error).count() as u64,
            throttles: list.iter().filter(|s| s.has_throttle).count() as u64,
            response_time_ms: Stats::of(
                &list
                    .iter()
                    .filter_map(|s| s.response_time.map(|v| v * 1000.0))
                    .collect::<Vec<_>>(),
            ),
            duration_ms: Stats::of(
                &list
                    .iter()
                    .filter_map(|s| s.duration.map(|v| v * 1000.0))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    crate::analyze::stats::sort_top(&mut summary_rows, top, |r| (r.traces, r.route.clone()));
    TracesReport {
        schema_version: TRACES_SCHEMA_VERSION,
        kind: "traces",
        inputs,
        totals,
        routes: route_rows,
        summaries: summary_rows,
    }
}

/// The stage in an execute-api URL (`https://id.execute-api.region.amazonaws.com/STAGE/…`).
fn stage_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    host.contains(".execute-api.")
        .then(|| path.split('/').next().unwrap_or("").to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::decode::{decode, TraceShape};

    #[test]
    fn the_worked_example_of_the_reference() {
        // formats.md §5.2: gateway 1444 ms, integration 1442, overhead 2, Lambda service
        // 1425, invoke overhead 17, init 851.5, handler 196.9, runtime overhead 0.5.
        let text = include_str!("testdata/s20.json");
        let d = decode("s20", text.as_bytes(), TraceShape::BatchGetTraces).unwrap();
        let report = build_traces_report(
            vec![TraceSource {
                name: "s20".into(),
                shape: "batch-get-traces".into(),
                traces: d.traces,
                ..TraceSource::default()
            }],
            None,
            0,
        );
        let r = &report.routes[0];
        assert_eq!(r.route, "POST /add-task");
        let near = |v: Option<f64>, want: f64| {
            let v = v.unwrap();
            assert!((v - want).abs() < 0.05, "{v} vs {want}");
        };
        near(r.gateway_ms.mean, 1444.0);
        near(r.integration_ms.mean, 1442.0);
        near(r.gateway_overhead_ms.mean, 2.0);
        near(r.lambda_service_ms.mean, 1425.0);
        near(r.invoke_overhead_ms.mean, 17.0);
        near(r.initialization_ms.mean, 851.5);
        near(r.invocation_ms.mean, 196.9);
        near(r.function_overhead_ms.mean, 0.5);
        assert_eq!(r.cold_starts, 1);
        assert_eq!(r.downstream[0].name, "DynamoDB");
        assert_eq!(r.downstream[0].operation, "PutItem");
    }

    #[test]
    fn routes_from_urls() {
        assert_eq!(
            route_from_url(
                Some("GET"),
                Some("https://a.execute-api.eu-west-1.amazonaws.com/prod/products/48213?x=1"),
                Some("prod")
            ),
            "GET /products/{id}"
        );
        assert_eq!(
            route_from_url(Some("GET"), Some("https://h/prod"), Some("prod")),
            "GET /"
        );
        assert_eq!(
            stage_of_url("https://a.execute-api.eu-west-1.amazonaws.com/prod/orders").as_deref(),
            Some("prod")
        );
    }
}
