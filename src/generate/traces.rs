//! X-Ray traces for generated REST traffic: a deterministic 1-in-40 sample of requests, each
//! with the API Gateway segment (and its integration subsegment), the Lambda service segment
//! and the function segment (Initialization on cold starts, Invocation with a DynamoDB call,
//! Overhead), written as `aws xray batch-get-traces` and `get-trace-summaries` output.

use std::io;
use std::path::Path;

use serde_json::{json, Value};

use super::metrics::API_NAME;
use super::traffic::{Event, ROUTES};
use crate::gateway::CacheResult;

/// The REST API id in the sample logs.
const API_ID: &str = super::traffic::REST_API_ID;
/// Region and account of the sample API.
const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

fn hash(text: &str, salt: u64) -> u64 {
    // FNV-1a and a finalizer: stable across platforms and releases.
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ salt.wrapping_mul(0x100_0000_01b3);
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    // FNV's low bits are poorly mixed; finish with splitmix64's finalizer.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Whether a request is traced (X-Ray's sampling, modelled as a fixed 1 in 40).
pub fn sampled(event: &Event) -> bool {
    hash(&event.request_id, 0).is_multiple_of(40)
}

fn segment_id(event: &Event, k: u64) -> String {
    format!("{:016x}", hash(&event.request_id, k + 1))
}

/// The trace id: `1-<epoch seconds hex>-<24 hex>`.
pub fn trace_id(event: &Event) -> String {
    format!(
        "1-{:08x}-{:012x}{:012x}",
        event.time_ms / 1000,
        hash(&event.request_id, 101) & 0xffff_ffff_ffff,
        hash(&event.request_id, 102) & 0xffff_ffff_ffff
    )
}

fn function_name(route: usize) -> String {
    let r = ROUTES[route];
    let path: String = r
        .resource
        .split('/')
        .filter(|p| !p.is_empty() && !p.starts_with('{'))
        .collect::<Vec<_>>()
        .join("-");
    format!("{API_NAME}-{}-{path}", r.method.to_ascii_lowercase())
}

fn seconds(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1_000_000.0
}

/// The segment documents of one request, and its trace summary.
pub fn trace(event: &Event) -> (Vec<Value>, Value) {
    let tid = trace_id(event);
    let route = ROUTES[event.route];
    let url = format!(
        "https://{API_ID}.execute-api.{REGION}.amazonaws.com/{}{}",
        event.stage, event.path
    );
    let t0 = event.time_ms as f64;
    let end = t0 + event.latency_ms as f64;
    let status = event.status;
    let gateway_id = segment_id(event, 0);
    let mut gateway = json!({
        "id": gateway_id,
        "name": format!("{API_NAME}/{}", event.stage),
        "trace_id": tid,
        "start_time": seconds(t0),
        "end_time": seconds(end),
        "http": {
            "request": {"url": url, "method": route.method, "user_agent": event.user_agent, "client_ip": event.ip, "x_forwarded_for": true},
            "response": {"status": status, "content_length": event.response_length}
        },
        "aws": {"api_gateway": {"account_id": ACCOUNT, "rest_api_id": API_ID, "stage": event.stage, "request_id": event.request_id}},
        "annotations": {"aws:api_id": API_ID, "aws:api_stage": event.stage},
        "metadata": {"default": {"extended_request_id": event.extended_request_id, "request_id": event.request_id}},
        "origin": "AWS::ApiGateway::Stage",
        "resource_arn": format!("arn:aws:apigateway:{REGION}::/restapis/{API_ID}/stages/{}", event.stage)
    });
    match status {
        429 => {
            gateway["throttle"] = json!(true);
            gateway["error"] = json!(true);
        }
        400..=499 => gateway["error"] = json!(true),
        500..=599 => gateway["fault"] = json!(true),
        _ => {}
    }
    let mut documents = Vec::new();
    let mut last_end = end;
    let integration = event
        .integration_latency_ms
        .filter(|_| event.cache != CacheResult::Hit);
    if let Some(integration) = integration {
        let i = integration as f64;
        let pre = (event.latency_ms as f64 - i).max(0.0) * 0.6;
        let sub_start = t0 + pre;
        let sub_end = sub_start + i;
        let function = function_name(event.route);
        let sub_id = segment_id(event, 1);
        let mut sub = json!({
            "id": sub_id,
            "name": "Lambda",
            "start_time": seconds(sub_start),
            "end_time": seconds(sub_end),
            "http": {"request": {"url": format!("https://lambda.{REGION}.amazonaws.com/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}/invocations"), "method": "POST"},
                     "response": {"status": 200}},
            "aws": {"function_name": function, "region": REGION, "operation": "Invoke", "resource_names": [function]},
            "namespace": "aws"
        });
        if status >= 500 {
            sub["fault"] = json!(true);
        }
        gateway["subsegments"] = json!([sub]);
        // The Lambda service segment sits inside the integration, less invoke overhead.
        let invoke = (3 + hash(&event.request_id, 7) % 15) as f64;
        let invoke = invoke.min(i * 0.2);
        let service_start = sub_start + invoke * 0.7;
        let service_end = sub_end - invoke * 0.3;
        let service_id = segment_id(event, 2);
        documents.push(json!({
            "id": service_id,
            "name": function,
            "trace_id": tid,
            "parent_id": sub_id,
            "start_time": seconds(service_start),
            "end_time": seconds(service_end),
            "origin": "AWS::Lambda",
            "aws": {"request_id": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                hash(&event.request_id, 11) & 0xffff_ffff, hash(&event.request_id, 12) & 0xffff,
                hash(&event.request_id, 13) & 0xfff, hash(&event.request_id, 14) & 0xfff,
                hash(&event.request_id, 15) & 0xffff_ffff_ffff)},
            "resource_arn": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}")
        }));
        let service_ms = service_end - service_start;
        let init = (150 + hash(&event.request_id, 8) % 700) as f64;
        // A cold start spends part of the (gateway-decided) integration time initializing.
        let cold = hash(&event.request_id, 9).is_multiple_of(8) && service_ms > 60.0;
        let init = init.min((service_ms * 0.7).round());
        let function_start = service_start + if cold { init + 0.4 } else { 0.4 };
        let function_end = service_end - 0.2;
        let overhead = 0.3;
        let invocation_end = function_end - overhead;
        let call_start = function_start + 1.0;
        let call_end = call_start + (invocation_end - function_start) * 0.5;
        let operation = match route.method {
            "GET" => "GetItem",
            "DELETE" => "DeleteItem",
            _ => "PutItem",
        };
        let mut subsegments = Vec::new();
        if cold {
            subsegments.push(json!({
                "id": segment_id(event, 3),
                "name": "Initialization",
                "start_time": seconds(service_start + 0.2),
                "end_time": seconds(function_start),
                "aws": {"function_arn": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}")}
            }));
        }
        subsegments.push(json!({
            "id": segment_id(event, 4),
            "name": "Invocation",
            "start_time": seconds(function_start),
            "end_time": seconds(invocation_end),
            "subsegments": [{
                "id": segment_id(event, 5),
                "name": "DynamoDB",
                "start_time": seconds(call_start),
                "end_time": seconds(call_end),
                "http": {"response": {"status": 200}},
                "aws": {"operation": operation, "region": REGION, "table_name": "shop", "retries": 0},
                "namespace": "aws"
            }]
        }));
        subsegments.push(json!({
            "id": segment_id(event, 6),
            "name": "Overhead",
            "start_time": seconds(invocation_end),
            "end_time": seconds(function_end)
        }));
        documents.push(json!({
            "id": segment_id(event, 7),
            "name": function,
            "trace_id": tid,
            "parent_id": service_id,
            "start_time": seconds(function_start),
            "end_time": seconds(function_end),
            "origin": "AWS::Lambda::Function",
            "subsegments": subsegments
        }));
        last_end = last_end.max(service_end);
    }
    documents.insert(0, gateway);
    let summary = json!({
        "Id": tid,
        "Duration": seconds(last_end - t0),
        "ResponseTime": seconds(end - t0),
        "HasFault": status >= 500,
        "HasError": (400..500).contains(&status),
        "HasThrottle": status == 429,
        "IsPartial": false,
        "Http": {"HttpURL": url, "HttpStatus": status, "HttpMethod": route.method, "UserAgent": event.user_agent, "ClientIp": event.ip},
        "Annotations": {
            "aws:api_id": [{"AnnotationValue": {"StringValue": API_ID}}],
            "aws:api_stage": [{"AnnotationValue": {"StringValue": event.stage}}]
        },
        "Users": [],
        "ServiceIds": [],
        "EntryPoint": {"Name": format!("{API_NAME}/{}", event.stage), "Names": [format!("{API_NAME}/{}", event.stage)], "Type": "AWS::ApiGateway::Stage"},
        "Revision": 1
    });
    (documents, summary)
}

/// A segment document as X-Ray returns it: JSON text, the gateway segment's start time in
/// exponent notation on every third trace (as X-Ray sometimes writes it).
fn document_text(doc: &Value, exponent: bool) -> String {
    let text = doc.to_string();
    match (exponent, doc["start_time"].as_f64()) {
        (true, Some(start)) if doc["origin"] == "AWS::ApiGateway::Stage" => text.replacen(
            &format!("\"start_time\":{}", doc["start_time"]),
            &format!("\"start_time\":{start:E}"),
            1,
        ),
        _ => text,
    }
}

/// Writes `batch-get-traces.json` and `trace-summaries.json` for the sampled requests into
/// `dir`. Returns (file names, traces written).
pub fn write_traces(dir: &Path, events: &[Event]) -> io::Result<(Vec<String>, usize)> {
    std::fs::create_dir_all(dir)?;
    let mut traces = Vec::new();
    let mut summaries = Vec::new();
    for (n, event) in events.iter().filter(|e| sampled(e)).enumerate() {
        let (documents, summary) = trace(event);
        let segments: Vec<Value> = documents
            .iter()
            .map(|d| json!({"Id": d["id"], "Document": document_text(d, n % 3 == 0)}))
            .collect();
        traces.push(json!({
            "Id": summary["Id"],
            "Duration": summary["Duration"],
            "LimitExceeded": false,
            "Segments": segments
        }));
        summaries.push(summary);
    }
    let count = traces.len();
    let approximate = events.last().map_or(0, |e| e.time_ms / 1000);
    let write = |name: &str, value: Value| -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(dir.join(name), text)
    };
    write(
        "batch-get-traces.json",
        json!({"Traces": traces, "UnprocessedTraceIds": []}),
    )?;
    write(
        "trace-summaries.json",
        json!({"TraceSummaries": summaries, "ApproximateTime": approximate as f64, "TracesProcessedCount": count}),
    )?;
    Ok((
        vec![
            "batch-get-traces.json".into(),
            "trace-summaries.json".into(),
        ],
        count,
    ))
}
