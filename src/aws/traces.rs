//! X-Ray: GetTraceSummaries over the time range (in windows of at most six hours, every
//! NextToken followed), then BatchGetTraces for the ids, at most five a call. What comes back
//! is written as the AWS CLI writes it — `trace-summaries.json` and `batch-get-traces.json` —
//! so the offline `gwstat traces` reads it as it is.

use anyhow::Result;
use aws_sdk_xray::primitives::DateTime;
use aws_sdk_xray::types::TraceSummary;
use aws_sdk_xray::Client;
use serde_json::{json, Value};

use super::{describe_error, Document, Progress};

/// Most trace ids in one BatchGetTraces call (an AWS limit).
pub const MAX_IDS_PER_CALL: usize = 5;

/// Longest window of one GetTraceSummaries call. AWS documents 24 hours for the API and 6 for
/// the console [inf]; the smaller is used, which only costs more calls.
pub const WINDOW_MS: i64 = 6 * 3_600_000;

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracesRequest {
    /// First ms.
    pub start_ms: i64,
    /// Last ms (exclusive).
    pub end_ms: i64,
    /// An X-Ray filter expression (`service("shop-api/prod")`, `http.status = 504` …).
    pub filter: Option<String>,
    /// Most traces to read in full (summaries are all kept).
    pub max_traces: usize,
}

/// The GetTraceSummaries windows covering the range.
pub fn windows(start_ms: i64, end_ms: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut t = start_ms;
    while t < end_ms {
        let end = (t + WINDOW_MS).min(end_ms);
        out.push((t, end));
        t = end;
    }
    out
}

fn summary_json(s: &TraceSummary) -> Value {
    let http = s.http().map(|h| {
        json!({
            "HttpURL": h.http_url(),
            "HttpStatus": h.http_status(),
            "HttpMethod": h.http_method(),
        })
    });
    json!({
        "Id": s.id(),
        "StartTime": s.start_time().map(|t| t.as_secs_f64()),
        "Duration": s.duration(),
        "ResponseTime": s.response_time(),
        "HasFault": s.has_fault(),
        "HasError": s.has_error(),
        "HasThrottle": s.has_throttle(),
        "IsPartial": s.is_partial(),
        "Http": http,
    })
}

/// Reads the summaries and traces; returns the documents to save or decode.
pub async fn fetch_traces(
    client: &Client,
    request: &TracesRequest,
    progress: &Progress,
) -> Result<Vec<Document>> {
    let mut summaries = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (start, end) in windows(request.start_ms, request.end_ms) {
        let mut pages = client
            .get_trace_summaries()
            .start_time(DateTime::from_millis(start))
            .end_time(DateTime::from_millis(end))
            .set_filter_expression(request.filter.clone())
            .sampling(false)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| describe_error("GetTraceSummaries", e))?;
            progress.page(0);
            for s in page.trace_summaries() {
                let Some(id) = s.id() else { continue };
                // A trace spanning two windows is listed by both; keep it once.
                if seen.insert(id.to_string()) {
                    ids.push(id.to_string());
                    summaries.push(summary_json(s));
                }
            }
        }
    }
    let mut traces = Vec::new();
    let mut unprocessed = Vec::new();
    for chunk in ids[..ids.len().min(request.max_traces)].chunks(MAX_IDS_PER_CALL) {
        let mut pages = client
            .batch_get_traces()
            .set_trace_ids(Some(chunk.to_vec()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| describe_error("BatchGetTraces", e))?;
            progress.page(page.traces().len());
            unprocessed.extend(page.unprocessed_trace_ids().iter().cloned());
            for t in page.traces() {
                let segments: Vec<Value> = t
                    .segments()
                    .iter()
                    .map(|s| json!({"Id": s.id(), "Document": s.document()}))
                    .collect();
                traces.push(json!({
                    "Id": t.id(),
                    "Duration": t.duration(),
                    "LimitExceeded": t.limit_exceeded(),
                    "Segments": segments,
                }));
            }
        }
        progress.part_done();
    }
    Ok(vec![
        Document::json(
            "trace-summaries.json",
            &json!({ "TraceSummaries": summaries }),
        ),
        Document::json(
            "batch-get-traces.json",
            &json!({ "Traces": traces, "UnprocessedTraceIds": unprocessed }),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range() {
        let w = windows(0, 13 * 3_600_000);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0], (0, WINDOW_MS));
        assert_eq!(w[2].1, 13 * 3_600_000);
        assert!(windows(5, 5).is_empty());
    }
}
