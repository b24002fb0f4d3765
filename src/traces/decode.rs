//! The two X-Ray shapes the AWS CLI writes. A file may hold one response, several responses
//! back to back (pages saved with `--no-paginate`), or a JSON array of them.

use serde_json::Value;

use super::{Segment, Trace, TraceSummary};

/// Which shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceShape {
    /// `aws xray batch-get-traces`.
    BatchGetTraces,
    /// `aws xray get-trace-summaries`.
    TraceSummaries,
}

impl TraceShape {
    /// The name shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceShape::BatchGetTraces => "batch-get-traces",
            TraceShape::TraceSummaries => "get-trace-summaries",
        }
    }
}

/// Recognises an X-Ray file from its first bytes.
pub fn sniff(head: &[u8]) -> Option<TraceShape> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    if text.contains("\"TraceSummaries\"") {
        Some(TraceShape::TraceSummaries)
    } else if text.contains("\"Traces\"") && text.contains("\"Segments\"") {
        Some(TraceShape::BatchGetTraces)
    } else {
        None
    }
}

/// What one file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodedTraces {
    /// Full traces.
    pub traces: Vec<Trace>,
    /// Summaries.
    pub summaries: Vec<TraceSummary>,
    /// Segments or summaries that could not be read.
    pub skipped: u64,
    /// What the user should know.
    pub warnings: Vec<String>,
}

/// Decodes one X-Ray file; `Err` when it is not JSON at all.
pub fn decode(name: &str, bytes: &[u8], shape: TraceShape) -> Result<DecodedTraces, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut pages = Vec::new();
    for value in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        match value {
            Ok(Value::Array(list)) => pages.extend(list),
            Ok(v) => pages.push(v),
            Err(e) => {
                return Err(format!(
                    "{name}: not valid {} JSON at line {}, column {}: {e}",
                    shape.as_str(),
                    e.line(),
                    e.column()
                ))
            }
        }
    }
    let mut out = DecodedTraces::default();
    for page in &pages {
        match shape {
            TraceShape::BatchGetTraces => {
                for id in page["UnprocessedTraceIds"].as_array().into_iter().flatten() {
                    out.warnings.push(format!(
                        "{name}: trace {} was not processed by X-Ray (fetch it again)",
                        id.as_str().unwrap_or("?")
                    ));
                }
                for trace in page["Traces"].as_array().into_iter().flatten() {
                    let id = trace["Id"].as_str().unwrap_or("").to_string();
                    let mut segments = Vec::new();
                    for seg in trace["Segments"].as_array().into_iter().flatten() {
                        // The document is a JSON string; some tools save it already parsed.
                        let doc = match &seg["Document"] {
                            Value::String(text) => serde_json::from_str::<Value>(text).ok(),
                            Value::Object(_) => Some(seg["Document"].clone()),
                            _ => None,
                        };
                        match doc.as_ref().and_then(segment) {
                            Some(s) => segments.push(s),
                            None => {
                                out.skipped += 1;
                                if out.skipped <= 5 {
                                    out.warnings.push(format!(
                                        "{name}: trace {id}: segment {} has no readable document",
                                        seg["Id"].as_str().unwrap_or("?")
                                    ));
                                }
                            }
                        }
                    }
                    out.traces.push(Trace { id, segments });
                }
            }
            TraceShape::TraceSummaries => {
                for s in page["TraceSummaries"].as_array().into_iter().flatten() {
                    let Some(id) = s["Id"].as_str() else {
                        out.skipped += 1;
                        continue;
                    };
                    out.summaries.push(TraceSummary {
                        id: id.to_string(),
                        duration: s["Duration"].as_f64(),
                        response_time: s["ResponseTime"].as_f64(),
                        has_fault: s["HasFault"].as_bool().unwrap_or(false),
                        has_error: s["HasError"].as_bool().unwrap_or(false),
                        has_throttle: s["HasThrottle"].as_bool().unwrap_or(false),
                        method: s["Http"]["HttpMethod"].as_str().map(str::to_string),
                        url: s["Http"]["HttpURL"].as_str().map(str::to_string),
                        status: s["Http"]["HttpStatus"]
                            .as_u64()
                            .and_then(|v| u16::try_from(v).ok()),
                    });
                }
            }
        }
    }
    if out.skipped > 5 {
        out.warnings.push(format!(
            "{name}: {} unreadable segments in all",
            out.skipped
        ));
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// A segment document (or subsegment). Needs `id` and a numeric `start_time`.
fn segment(v: &Value) -> Option<Segment> {
    let start = v["start_time"].as_f64()?;
    Some(Segment {
        id: text(&v["id"])?,
        name: text(&v["name"]).unwrap_or_default(),
        parent_id: text(&v["parent_id"]),
        origin: text(&v["origin"]),
        start,
        end: v["end_time"].as_f64().filter(|e| *e >= start),
        method: text(&v["http"]["request"]["method"]),
        url: text(&v["http"]["request"]["url"]),
        status: v["http"]["response"]["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok()),
        request_id: text(&v["aws"]["api_gateway"]["request_id"]),
        stage: text(&v["aws"]["api_gateway"]["stage"]),
        error: v["error"].as_bool().unwrap_or(false),
        throttle: v["throttle"].as_bool().unwrap_or(false),
        fault: v["fault"].as_bool().unwrap_or(false),
        namespace: text(&v["namespace"]),
        operation: text(&v["aws"]["operation"]),
        subsegments: v["subsegments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(segment)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The S20 trace of the reference (formats.md §5.1), exponent-notation times included,
    /// with one unreadable segment.
    const S20: &str = include_str!("testdata/s20.json");

    #[test]
    fn documents_parsed_twice_with_exponent_times() {
        let shape = sniff(S20.as_bytes()).unwrap();
        assert_eq!(shape, TraceShape::BatchGetTraces);
        let d = decode("f", S20.as_bytes(), shape).unwrap();
        assert_eq!(d.traces.len(), 1);
        assert_eq!(d.traces[0].segments.len(), 3);
        assert_eq!(d.skipped, 1);
        let gw = &d.traces[0].segments[0];
        assert_eq!(gw.origin.as_deref(), Some("AWS::ApiGateway::Stage"));
        assert_eq!(
            gw.request_id.as_deref(),
            Some("6d5f8fb5-9330-48b7-a3d7-7291dd488abb")
        );
        assert!((gw.duration_ms().unwrap() - 1444.0).abs() < 0.01);
        assert_eq!(gw.subsegments[0].operation.as_deref(), Some("Invoke"));
    }

    #[test]
    fn summaries_and_non_json() {
        let text = r#"{"TraceSummaries":[{"Id":"1-6b064e44-0a1b2c3d4e5f60718293a4b5","Duration":1.444,"ResponseTime":1.444,"HasFault":false,"HasError":true,"HasThrottle":true,"Http":{"HttpURL":"https://x/prod/orders","HttpStatus":429,"HttpMethod":"POST"},"Users":{}}],"ApproximateTime":1795575420.0}"#;
        let d = decode("f", text.as_bytes(), sniff(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(d.summaries.len(), 1);
        assert!(d.summaries[0].has_throttle);
        assert_eq!(d.summaries[0].status, Some(429));
        assert!(decode("f", b"{\"Traces\": [", TraceShape::BatchGetTraces).is_err());
        assert_eq!(sniff(b"{\"requestId\":\"x\"}"), None);
    }
}
