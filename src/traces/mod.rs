//! X-Ray traces of REST APIs: `aws xray batch-get-traces` (segment documents are JSON
//! strings, parsed a second time) and `aws xray get-trace-summaries` ([`decode`]); per route,
//! where the time goes between the gateway, the Lambda service and the function
//! ([`analyze`], [`report`]).

pub mod analyze;
pub mod decode;
#[cfg(feature = "cli")]
pub(crate) mod load;
pub mod report;

/// One segment or subsegment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segment {
    /// Segment id (16 hex).
    pub id: String,
    /// Name (`api/stage` for the gateway, `Lambda`, `Invocation`, `DynamoDB`, …).
    pub name: String,
    /// Parent segment id (segments of other services).
    pub parent_id: Option<String>,
    /// `AWS::ApiGateway::Stage`, `AWS::Lambda`, `AWS::Lambda::Function`, …
    pub origin: Option<String>,
    /// Start, epoch seconds.
    pub start: f64,
    /// End, epoch seconds (`None` while in progress).
    pub end: Option<f64>,
    /// `http.request.method`.
    pub method: Option<String>,
    /// `http.request.url`.
    pub url: Option<String>,
    /// `http.response.status`.
    pub status: Option<u16>,
    /// `aws.api_gateway.request_id` (the access log's requestId).
    pub request_id: Option<String>,
    /// `aws.api_gateway.stage`.
    pub stage: Option<String>,
    /// 4xx.
    pub error: bool,
    /// 429.
    pub throttle: bool,
    /// 5xx.
    pub fault: bool,
    /// `aws` or `remote` for calls to other services.
    pub namespace: Option<String>,
    /// `aws.operation` (GetItem, Invoke, …).
    pub operation: Option<String>,
    /// Nested subsegments.
    pub subsegments: Vec<Segment>,
}

impl Segment {
    /// Duration in ms, if ended.
    pub fn duration_ms(&self) -> Option<f64> {
        self.end.map(|e| (e - self.start) * 1000.0)
    }
}

/// One trace from batch-get-traces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Trace id (`1-<8 hex>-<24 hex>`).
    pub id: String,
    /// Its segments, each document parsed.
    pub segments: Vec<Segment>,
}

/// One trace summary from get-trace-summaries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceSummary {
    /// Trace id.
    pub id: String,
    /// Earliest segment start to last segment end, seconds.
    pub duration: Option<f64>,
    /// Root segment duration, seconds.
    pub response_time: Option<f64>,
    /// Root has a 5xx.
    pub has_fault: bool,
    /// Root has a 4xx.
    pub has_error: bool,
    /// Any segment has a 429.
    pub has_throttle: bool,
    /// HTTP method.
    pub method: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Status.
    pub status: Option<u16>,
}
