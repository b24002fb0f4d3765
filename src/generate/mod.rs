//! Deterministic sample access logs: [`traffic`] models the requests, the `$context`
//! templates here render them exactly as API Gateway would, and a few malformed lines are
//! mixed in at fixed places so reports have something to skip.

#[cfg(feature = "cli")]
pub(crate) mod envelopes;
pub(crate) mod execution;
#[cfg(feature = "cli")]
pub(crate) mod metrics;
#[cfg(feature = "cli")]
pub(crate) mod traces;
pub(crate) mod traffic;
pub mod workload;

use std::io::{self, Write};

use chrono::DateTime;

use crate::decode::presets::{preset, PresetName};
use crate::decode::Template;
use traffic::{ApiKind, Event, Traffic, TrafficPlan, ROUTES};

/// The REST custom JSON format many teams configure (all values quoted, as AWS presets do).
pub const REST_JSON_CUSTOM: &str = r#"{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","requestTimeEpoch":"$context.requestTimeEpoch","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","path":"$context.path","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","integrationStatus":"$context.integrationStatus","error.message":"$context.error.message","error.responseType":"$context.error.responseType","identity.apiKeyId":"$context.identity.apiKeyId","identity.userAgent":"$context.identity.userAgent","stage":"$context.stage","apiId":"$context.apiId"}"#;

/// An HTTP API JSON format with unquoted latencies (so `-` values make the line invalid
/// JSON, as happens in real configurations).
pub const HTTP_JSON_CUSTOM: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","requestTimeEpoch":"$context.requestTimeEpoch","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","responseLatency":$context.responseLatency,"integrationLatency":$context.integrationLatency,"integrationErrorMessage":"$context.integrationErrorMessage","error":{"message":"$context.error.message","responseType":"$context.error.responseType"},"stage":"$context.stage","apiId":"$context.apiId"}"#;

/// A sample file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SampleFormat {
    /// REST API, custom JSON with latencies, error fields, API key and stage.
    RestJson,
    /// REST API, the console CLF preset.
    RestClf,
    /// HTTP API, custom JSON with unquoted latencies.
    HttpJson,
}

impl SampleFormat {
    /// All sample formats.
    pub const ALL: [SampleFormat; 3] = [
        SampleFormat::RestJson,
        SampleFormat::RestClf,
        SampleFormat::HttpJson,
    ];

    /// The file name used in `sample-logs/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SampleFormat::RestJson => "rest-api-json-custom.log",
            SampleFormat::RestClf => "rest-api-clf.log",
            SampleFormat::HttpJson => "http-api-json.log",
        }
    }

    /// The template the lines are rendered with.
    pub fn template(self) -> &'static str {
        match self {
            SampleFormat::RestJson => REST_JSON_CUSTOM,
            SampleFormat::RestClf => preset(PresetName::RestClf),
            SampleFormat::HttpJson => HTTP_JSON_CUSTOM,
        }
    }

    fn kind(self) -> ApiKind {
        match self {
            SampleFormat::RestJson | SampleFormat::RestClf => ApiKind::Rest,
            SampleFormat::HttpJson => ApiKind::Http,
        }
    }
}

/// Baseline requests per sample file; the same for every format, so one gateway.toml (with
/// its quota) fits all files.
pub const DEFAULT_SAMPLE_REQUESTS: u64 = 4000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// File format.
    pub format: SampleFormat,
    /// Baseline requests (the throttling burst adds some).
    pub requests: u64,
    /// Window length in seconds.
    pub seconds: u64,
    /// First second, epoch ms.
    pub start_ms: i64,
    /// RNG seed.
    pub seed: u64,
    /// Mix in malformed lines.
    pub malformed: bool,
    /// Gateway configuration to send the traffic through (default: the sample one).
    pub gateway: Option<crate::gateway::GatewayConfig>,
}

impl GenerateOptions {
    /// The traffic plan these options describe.
    pub fn plan(&self) -> TrafficPlan {
        TrafficPlan {
            kind: self.format.kind(),
            start_ms: self.start_ms,
            requests: self.requests,
            seconds: self.seconds,
            seed: self.seed,
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Request lines.
    pub requests: u64,
    /// Malformed lines.
    pub malformed: u64,
}

/// Writes one sample log.
pub fn write_log(options: &GenerateOptions, out: &mut dyn Write) -> io::Result<Written> {
    write_logs(options, out, None, None)
}

/// Writes one sample log and, for REST traffic, the matching execution log (S3-export
/// lines) to `execution`; every request is also pushed to `collect` when given (for the
/// metrics and traces that describe the same traffic).
pub fn write_logs(
    options: &GenerateOptions,
    out: &mut dyn Write,
    mut execution: Option<&mut dyn Write>,
    mut collect: Option<&mut Vec<Event>>,
) -> io::Result<Written> {
    let template = Template::parse(options.format.template()).expect("built-in templates parse");
    let mut traffic = match &options.gateway {
        Some(config) => Traffic::with_gateway(options.plan(), config.clone()),
        None => Traffic::new(options.plan()),
    };
    // Malformed lines go at fixed fractions of the expected output.
    let expected = options.requests.max(1);
    let malformed_at: Vec<u64> = if options.malformed {
        [0.11, 0.37, 0.58, 0.83]
            .iter()
            .map(|f| (expected as f64 * f) as u64)
            .collect()
    } else {
        Vec::new()
    };
    let mut written = Written::default();
    let mut line = String::new();
    while let Some(events) = traffic.next_second() {
        for event in events {
            line.clear();
            line.push_str(&template.render(|name| value(&event, name)));
            if let Some(k) = malformed_at.iter().position(|at| *at == written.requests) {
                if written.malformed == k as u64 {
                    out.write_all(malformed(options.format, k, &line).as_bytes())?;
                    out.write_all(b"\n")?;
                    written.malformed += 1;
                }
            }
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            written.requests += 1;
            if let Some(exec) = execution.as_deref_mut() {
                execution::write_execution(&event, exec)?;
            }
            if let Some(collect) = collect.as_deref_mut() {
                collect.push(event);
            }
        }
    }
    Ok(written)
}

/// The k-th malformed line for a format: a cut-off line, stray text, a bad time, a bad
/// status.
fn malformed(format: SampleFormat, k: usize, good: &str) -> String {
    match k {
        0 => good[..good.len() / 2].to_string(),
        1 => "upstream connect error or disconnect/reset before headers".to_string(),
        2 => match format {
            SampleFormat::RestClf => good.replacen("/Nov/", "/Nvm/", 1),
            _ => good.replacen("\"requestTimeEpoch\":\"", "\"requestTimeEpoch\":\"t", 1),
        },
        _ => match format {
            SampleFormat::RestClf => good.replacen("HTTP/1.1\" ", "HTTP/1.1\" OK", 1),
            _ => good.replacen("\"status\":\"", "\"status\":\"HTTP ", 1),
        },
    }
}

/// The text API Gateway would log for `$context.<name>`.
fn value(e: &Event, name: &str) -> String {
    let route = ROUTES[e.route];
    let dash = || "-".to_string();
    let opt = |v: Option<String>| v.unwrap_or_else(dash);
    match name {
        "requestId" => e.request_id.clone(),
        "extendedRequestId" => e.extended_request_id.clone(),
        "identity.sourceIp" => e.ip.clone(),
        "identity.caller" | "identity.user" => dash(),
        "requestTime" => clf_time(e.time_ms),
        "requestTimeEpoch" => e.time_ms.to_string(),
        "httpMethod" => route.method.to_string(),
        "resourcePath" => route.resource.to_string(),
        "routeKey" => format!("{} {}", route.method, route.resource),
        "path" => format!("/{}{}", e.stage, e.path),
        "status" => e.status.to_string(),
        "protocol" => "HTTP/1.1".to_string(),
        "responseLength" => e.response_length.to_string(),
        "responseLatency" => e.latency_ms.to_string(),
        "integrationLatency" => opt(e.integration_latency_ms.map(|v| v.to_string())),
        "integrationStatus" => opt(e.integration_status.map(|v| v.to_string())),
        "integrationErrorMessage" => match e.status {
            504 | 503 if e.error_type.is_some() => {
                "Execution failed due to a timeout error".to_string()
            }
            _ => dash(),
        },
        "error.message" => opt(e.error_message.map(str::to_string)),
        "error.responseType" => opt(e.error_type.map(str::to_string)),
        "identity.apiKeyId" => opt(e.api_key.map(str::to_string)),
        "identity.userAgent" => e.user_agent.to_string(),
        "stage" => e.stage.to_string(),
        "apiId" => e.api_id.to_string(),
        _ => dash(),
    }
}

fn clf_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%d/%b/%Y:%H:%M:%S +0000").to_string())
        .unwrap_or_else(|| "-".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{detect, DecodeOptions};

    #[test]
    fn every_sample_format_decodes_except_the_malformed_lines() {
        for format in SampleFormat::ALL {
            let mut out = Vec::new();
            let written = write_log(
                &GenerateOptions {
                    format,
                    requests: 800,
                    seconds: 300,
                    start_ms: 1_795_514_400_000,
                    seed: 1,
                    malformed: true,
                    gateway: None,
                },
                &mut out,
            )
            .unwrap();
            assert_eq!(written.malformed, 4, "{format:?}");
            let lines: Vec<&[u8]> = out
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let mut detected = detect("x", &lines[..50], &DecodeOptions::default()).unwrap();
            let ok = lines
                .iter()
                .filter(|l| detected.decoder.decode(l).is_ok())
                .count() as u64;
            assert_eq!(ok, written.requests, "{format:?}");
        }
    }
}
