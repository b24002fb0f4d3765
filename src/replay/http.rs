//! HTTP replay: sends recorded requests to a live endpoint at their recorded pace (scaled by
//! `speed`), bounded in count and time, and compares the statuses that come back with the
//! recorded ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use tokio::sync::Semaphore;

use super::Recorded;

/// How to replay over HTTP.
#[derive(Debug, Clone)]
pub struct HttpReplayOptions {
    /// Base URL (`http://127.0.0.1:8080`).
    pub target: Uri,
    /// Time compression: 10 = ten times faster than recorded.
    pub speed: f64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Send at most this many requests.
    pub max_requests: u64,
    /// Stop sending after this long.
    pub max_duration: Duration,
    /// API key values by key ID (sent as `x-api-key`; the ID itself when unknown).
    pub key_values: BTreeMap<String, String>,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpReplayReport {
    /// Schema version.
    pub schema_version: u32,
    /// Requests sent.
    pub sent: u64,
    /// Requests that failed without an HTTP answer (connection errors, timeouts).
    pub failed: u64,
    /// Seconds from first to last send.
    pub elapsed_seconds: f64,
    /// sent / elapsed.
    pub achieved_rps: f64,
    /// Statuses returned.
    pub returned: BTreeMap<u16, u64>,
    /// Statuses recorded for the same requests.
    pub recorded: BTreeMap<u16, u64>,
    /// Requests whose returned status equals the recorded one.
    pub same_status: u64,
    /// The endpoint, as given (`--target`); named in the tables, not in the JSON.
    #[serde(skip)]
    pub target: String,
}

/// Whether a URL points at this machine.
pub fn is_loopback(uri: &Uri) -> bool {
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The path a recorded request is sent to: `/stage/resource` with template parameters
/// filled in (`{id}` → `1`, `{proxy+}` → `x`); `$default` stages have no prefix.
pub fn request_path(r: &Recorded) -> String {
    let resource: String = r
        .resource
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with("+}") {
                "x"
            } else if segment.starts_with('{') && segment.ends_with('}') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let resource = if resource.starts_with('/') {
        resource
    } else {
        format!("/{resource}")
    };
    if r.stage.is_empty() || &*r.stage == "$default" {
        resource
    } else {
        format!("/{}{}", r.stage, resource)
    }
}

/// Sends `requests` (time-ordered) to `options.target`.
pub async fn http_replay(requests: &[Recorded], options: &HttpReplayOptions) -> HttpReplayReport {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    let first_ms = requests.first().map_or(0, |r| r.time_ms);
    let base = options.target.to_string();
    let base = base.trim_end_matches('/').to_string();
    let mut report = HttpReplayReport {
        schema_version: 1,
        target: base.clone(),
        ..HttpReplayReport::default()
    };
    let mut last_send = start;
    for r in requests {
        if report.sent >= options.max_requests || start.elapsed() >= options.max_duration {
            break;
        }
        let offset_ms = (r.time_ms - first_ms).max(0) as f64 / options.speed.max(1e-6);
        let due = start + Duration::from_micros((offset_ms * 1000.0) as u64);
        if due > start + options.max_duration {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            break;
        };
        let mut builder = Request::builder()
            .method(r.method.as_ref())
            .uri(format!("{base}{}", request_path(r)));
        if let Some(key) = &r.api_key {
            let value = options
                .key_values
                .get(key.as_ref())
                .map_or(key.as_ref(), String::as_str);
            builder = builder.header("x-api-key", value);
        }
        for (name, value) in &options.headers {
            builder = builder.header(name, value);
        }
        let Ok(request) = builder.body(Empty::new()) else {
            report.failed += 1;
            continue;
        };
        if let Some(status) = r.status {
            *report.recorded.entry(status).or_default() += 1;
        }
        let recorded = r.status;
        let client = client.clone();
        let timeout = options.request_timeout;
        tasks.spawn(async move {
            let _permit = permit;
            let answer = tokio::time::timeout(timeout, async {
                let response = client.request(request).await.ok()?;
                let status = response.status().as_u16();
                let _ = response.into_body().collect().await;
                Some(status)
            })
            .await
            .ok()
            .flatten();
            (answer, recorded)
        });
        report.sent += 1;
        last_send = Instant::now();
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((Some(status), recorded)) => {
                *report.returned.entry(status).or_default() += 1;
                report.same_status += u64::from(recorded == Some(status));
            }
            _ => report.failed += 1,
        }
    }
    report.elapsed_seconds = last_send.duration_since(start).as_secs_f64();
    report.achieved_rps = if report.elapsed_seconds > 0.0 {
        report.sent as f64 / report.elapsed_seconds
    } else {
        report.sent as f64
    };
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_count_as_local() {
        assert!(is_loopback(&"http://127.0.0.1:8080".parse().unwrap()));
        assert!(is_loopback(&"http://localhost:1".parse().unwrap()));
        assert!(is_loopback(&"http://[::1]:1".parse().unwrap()));
        assert!(!is_loopback(&"http://example.com".parse().unwrap()));
        assert!(!is_loopback(&"http://10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn paths_fill_template_parameters() {
        let r = Recorded {
            time_ms: 0,
            api: "".into(),
            stage: "prod".into(),
            method: "GET".into(),
            resource: "/pets/{id}/files/{proxy+}".into(),
            route: "GET /pets/{id}".into(),
            api_key: None,
            request_id: None,
            status: None,
            error_type: None,
            latency_ms: None,
            integration_latency_ms: None,
        };
        assert_eq!(request_path(&r), "/prod/pets/1/files/x");
        let http = Recorded {
            stage: "$default".into(),
            resource: "/".into(),
            ..r
        };
        assert_eq!(request_path(&http), "/");
    }
}
