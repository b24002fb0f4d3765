//! Straight from AWS, against a real local emulator (moto's server, installed and located by
//! scripts/test.sh; loopback only, dummy credentials): put access logs into CloudWatch Logs,
//! then `gwstat report --log-group` must equal `gwstat report` on the same lines — also
//! through a proxy that throttles, fails, drops and delays requests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{gwstat, json_of};

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("GWSTAT_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::root().join("target"));
    let path = target.join("moto-venv/bin/moto_server");
    assert!(
        path.exists(),
        "moto's server is needed: run scripts/test.sh (it installs moto[server] into {})",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Moto {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto 5.2 answers GetTraceSummaries with `"Users": {}` where AWS (and the SDK) have a
/// list; the emulator is patched here, not the client.
const MOTO_LAUNCHER: &str = r#"
import sys
from moto.xray import models
_summary = models.SegmentCollection.summary
def summary(self, *args, **kwargs):
    result = _summary(self, *args, **kwargs)
    for s in result["TraceSummaries"]:
        s["Users"] = []
    return result
models.SegmentCollection.summary = summary
# Athena (tests/it/athena.rs): GetQueryResults pages by MaxResults/NextToken as AWS does
# (moto returns every row at once); a query over `gwstat_failing` ends FAILED with a reason,
# one over `gwstat_huge` keeps RUNNING with 50 GB scanned; every other query scanned
# 12,345,678 bytes (moto reports 0).
import json
from moto.athena import responses as athena
_results = athena.AthenaResponse.get_query_results
def get_query_results(self):
    out = json.loads(_results(self))
    rows = out["ResultSet"]["Rows"]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 1000)
    out["ResultSet"]["Rows"] = rows[start:start + size]
    if start + size < len(rows):
        out["NextToken"] = str(start + size)
    return json.dumps(out)
athena.AthenaResponse.get_query_results = get_query_results
_execution = athena.AthenaResponse.get_query_execution
def get_query_execution(self):
    out = json.loads(_execution(self))
    q = out["QueryExecution"]
    if "gwstat_failing" in q["Query"]:
        q["Status"]["State"] = "FAILED"
        q["Status"]["StateChangeReason"] = "TABLE_NOT_FOUND: line 3:8: Table 'awsdatacatalog.logs.gwstat_failing' does not exist"
    elif "gwstat_huge" in q["Query"]:
        q["Status"]["State"] = "RUNNING"
        q["Statistics"]["DataScannedInBytes"] = 50000000000
    else:
        q["Statistics"]["DataScannedInBytes"] = 12345678
    return json.dumps(out)
athena.AthenaResponse.get_query_execution = get_query_execution
from moto.server import main
sys.exit(main(sys.argv[1:]))
"#;

pub(crate) fn start_moto() -> Moto {
    let port = free_port();
    let python = moto_server().with_file_name("python");
    let child = Process::new(python)
        .args([
            "-c",
            MOTO_LAUNCHER,
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// `gwstat` with dummy credentials and no user config (`home` as HOME): nothing can reach
/// real AWS.
pub(crate) fn aws_gwstat(home: &Path) -> Command {
    let mut cmd = gwstat();
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    cmd
}

/// What an SDK client of moto at `url` is built from (`Client::new(&moto_sdk(url))`): dummy
/// credentials, us-east-1, the endpoint.
pub(crate) fn moto_sdk(url: &str) -> aws_config::SdkConfig {
    let credentials =
        aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test");
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            credentials,
        ))
        .endpoint_url(url)
        .build()
}

/// Puts each line as an event (timestamp = its requestTimeEpoch) into two streams.
async fn put_lines(url: &str, group: &str, lines: &[String]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let c = aws_sdk_cloudwatchlogs::Client::new(&moto_sdk(url));
    c.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    for stream in ["a", "b"] {
        c.create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
    }
    for (k, stream) in ["a", "b"].iter().enumerate() {
        let mut events: Vec<InputLogEvent> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == k)
            .map(|(_, l)| {
                let v: Value = serde_json::from_str(l).unwrap();
                let t: i64 = v["requestTimeEpoch"].as_str().unwrap().parse().unwrap();
                InputLogEvent::builder()
                    .timestamp(t)
                    .message(l)
                    .build()
                    .unwrap()
            })
            .collect();
        events.sort_by_key(|e| e.timestamp());
        for batch in events.chunks(500) {
            c.put_log_events()
                .log_group_name(group)
                .log_stream_name(*stream)
                .set_log_events(Some(batch.to_vec()))
                .send()
                .await
                .unwrap();
        }
    }
}

/// A generated access log from two hours ago (inside CloudWatch's retention checks).
fn recent_log(dir: &Path) -> (PathBuf, Vec<String>, i64) {
    let start = chrono::Utc::now().timestamp_millis() - 2 * 3_600_000;
    let start = start - start % 1000;
    let path = dir.join("access.log");
    let start_text = chrono::DateTime::from_timestamp_millis(start)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    gwstat()
        .args([
            "generate",
            "--format",
            "rest-json",
            "--requests",
            "400",
            "--seconds",
            "900",
            "--no-malformed",
            "--start",
            &start_text,
            "--output",
        ])
        .arg(&path)
        .assert()
        .success();
    let lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (path, lines, start)
}

/// The parts of a report that must not depend on where the lines came from.
fn essence(report: &Value) -> Value {
    serde_json::json!({
        "summary": report["summary"],
        "latency": report["latency"],
        "errors": report["errors"],
        "throttling": report["throttling"],
        "timeouts": report["timeouts"],
    })
}

fn report_json(cmd: &mut Command) -> Value {
    json_of(cmd.args(["--format", "json", "-q"]))
}

fn log_group_report(endpoint: &str, group: &str, start: i64, home: &Path, slices: &str) -> Value {
    let since = chrono::DateTime::from_timestamp_millis(start - 60_000)
        .unwrap()
        .to_rfc3339();
    let mut cmd = aws_gwstat(home);
    cmd.args([
        "report",
        "--log-group",
        group,
        "--since",
        &since,
        "--until",
        "+30m",
        "--endpoint-url",
        endpoint,
        "--slices",
        slices,
    ]);
    report_json(&mut cmd)
}

#[test]
fn log_group_report_equals_the_file_report() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let (path, lines, start) = recent_log(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(put_lines(
        &moto.url,
        "API-Gateway-Access-Logs_test/prod",
        &lines,
    ));
    let from_file = report_json(gwstat().arg("report").arg(&path));
    let from_aws = log_group_report(
        &moto.url,
        "API-Gateway-Access-Logs_test/prod",
        start,
        dir.path(),
        "8",
    );
    assert_eq!(
        from_aws["summary"]["requests"].as_u64(),
        Some(lines.len() as u64)
    );
    assert_eq!(essence(&from_aws), essence(&from_file));

    // fetch saves files; --resume completes a partial fetch without duplicates.
    let out = dir.path().join("fetched");
    let since = chrono::DateTime::from_timestamp_millis(start - 60_000)
        .unwrap()
        .to_rfc3339();
    let fetch = |resume: bool| {
        let mut cmd = aws_gwstat(dir.path());
        cmd.args([
            "fetch",
            "--log-group",
            "API-Gateway-Access-Logs_test/prod",
            "--since",
            &since,
            "--until",
            "+30m",
            "--endpoint-url",
            &moto.url,
            "-q",
            "-o",
        ])
        .arg(&out);
        if resume {
            cmd.arg("--resume");
        }
        cmd.assert().success();
    };
    fetch(false);
    // Lose three slices, as an interrupted fetch would, then resume.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.file_name().unwrap().to_string_lossy().starts_with('.')
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 8);
    for f in &files[2..5] {
        std::fs::remove_file(f).unwrap();
    }
    fetch(true);
    let from_fetch = report_json(gwstat().arg("report").arg(&out));
    assert_eq!(essence(&from_fetch), essence(&from_file));
    // A second plain fetch into the same directory is refused (no silent mixing).
    let mut cmd = aws_gwstat(dir.path());
    cmd.args([
        "fetch",
        "--log-group",
        "x",
        "--endpoint-url",
        &moto.url,
        "-o",
    ])
    .arg(&out)
    .assert()
    .code(1);
}

/// Faults injected in front of moto, by request number: 429 ThrottlingException, 500,
/// a dropped connection, a slow answer.
pub(crate) async fn fault_proxy(upstream: String, counter: Arc<AtomicU64>) -> String {
    fault_proxy_as(upstream, counter, false).await
}

/// [`fault_proxy`], its errors in JSON (CloudWatch and most services) or, with `xml`, in the
/// XML error document S3 answers with.
pub(crate) async fn fault_proxy_as(upstream: String, counter: Arc<AtomicU64>, xml: bool) -> String {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::service::service_fn;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let client = client.clone();
            let upstream = upstream.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    let upstream = upstream.clone();
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let canned = |status: u16, kind: &str| {
                            let (content_type, body) = match xml {
                                true => (
                                    "application/xml",
                                    format!(
                                        "<Error><Code>{kind}</Code><Message>injected</Message>\
                                         </Error>"
                                    ),
                                ),
                                false => (
                                    "application/x-amz-json-1.1",
                                    format!("{{\"__type\":\"{kind}\",\"message\":\"injected\"}}"),
                                ),
                            };
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", content_type)
                                .header("x-amzn-errortype", kind)
                                .body(Full::new(Bytes::from(body)))
                                .unwrap()
                        };
                        // The first four requests meet one fault each; later every fifth is
                        // throttled again.
                        match n {
                            0 => tokio::time::sleep(Duration::from_millis(1500)).await,
                            1 => return Ok(canned(400, "ThrottlingException")),
                            2 => return Ok(canned(500, "ServiceUnavailableException")),
                            3 => return Err(std::io::Error::other("dropped")),
                            n if n % 5 == 1 => return Ok(canned(400, "ThrottlingException")),
                            _ => {}
                        }
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map_err(std::io::Error::other)?
                            .to_bytes();
                        let uri: hyper::Uri = format!(
                            "{upstream}{}",
                            parts.uri.path_and_query().map_or("/", |p| p.as_str())
                        )
                        .parse()
                        .unwrap();
                        let mut forward = hyper::Request::builder().method(parts.method).uri(uri);
                        for (name, value) in &parts.headers {
                            if name != hyper::header::HOST {
                                forward = forward.header(name, value);
                            }
                        }
                        let response = client
                            .request(forward.body(Full::new(body)).unwrap())
                            .await
                            .map_err(std::io::Error::other)?;
                        let (parts, body) = response.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map_err(std::io::Error::other)?
                            .to_bytes();
                        Ok::<_, std::io::Error>(hyper::Response::from_parts(parts, Full::new(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn throttling_errors_drops_and_delays_lose_nothing() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let (path, lines, start) = recent_log(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(put_lines(&moto.url, "faulty", &lines));
    let counter = Arc::new(AtomicU64::new(0));
    let proxy = runtime.block_on(fault_proxy(moto.url.clone(), counter.clone()));
    let from_file = report_json(gwstat().arg("report").arg(&path));
    let started = Instant::now();
    let from_aws = log_group_report(&proxy, "faulty", start, dir.path(), "3");
    assert!(started.elapsed() < Duration::from_secs(120));
    // Every kind of fault happened, and the report is still exactly the file's.
    // Three slices plus at least the three failed attempts.
    assert!(counter.load(Ordering::SeqCst) >= 6, "{counter:?}");
    assert_eq!(essence(&from_aws), essence(&from_file));
}

/// Puts 30 minutes of API Gateway metrics for shop-api/prod, stage-wide and for GET /pets;
/// returns the first minute (epoch s) and the totals put: (requests, 4xx, latency sum).
async fn put_metrics(url: &str) -> (i64, f64, f64, f64) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StatisticSet};
    let c = aws_sdk_cloudwatch::Client::new(&moto_sdk(url));
    let now = chrono::Utc::now().timestamp();
    let first = (now - 2 * 3600) / 60 * 60;
    let dims = |detailed: bool| {
        let mut d = vec![
            Dimension::builder()
                .name("ApiName")
                .value("shop-api")
                .build(),
            Dimension::builder().name("Stage").value("prod").build(),
        ];
        if detailed {
            d.push(Dimension::builder().name("Resource").value("/pets").build());
            d.push(Dimension::builder().name("Method").value("GET").build());
        }
        d
    };
    let (mut requests, mut e4, mut latency_sum) = (0.0, 0.0, 0.0);
    for minute in 0..30 {
        let t = DateTime::from_secs(first + minute * 60);
        let count = 100.0 + minute as f64;
        let errors = (minute % 4) as f64;
        let lat_sum = count * (40.0 + minute as f64);
        requests += count;
        e4 += errors;
        latency_sum += lat_sum;
        let mut data = Vec::new();
        for detailed in [false, true] {
            let share = if detailed { 0.5 } else { 1.0 };
            let datum = |name: &str, value: f64| {
                MetricDatum::builder()
                    .metric_name(name)
                    .set_dimensions(Some(dims(detailed)))
                    .timestamp(t)
                    .value(value)
                    .build()
            };
            data.push(datum("Count", count * share));
            data.push(datum("4XXError", errors * share));
            data.push(datum("5XXError", 0.0));
            for (name, sum) in [("Latency", lat_sum), ("IntegrationLatency", lat_sum * 0.8)] {
                data.push(
                    MetricDatum::builder()
                        .metric_name(name)
                        .set_dimensions(Some(dims(detailed)))
                        .timestamp(t)
                        .statistic_values(
                            StatisticSet::builder()
                                .sample_count(count * share)
                                .sum(sum * share)
                                .minimum(1.0)
                                .maximum(900.0)
                                .build(),
                        )
                        .build(),
                );
            }
        }
        c.put_metric_data()
            .namespace("AWS/ApiGateway")
            .set_metric_data(Some(data))
            .send()
            .await
            .unwrap();
    }
    (first, requests, e4, latency_sum)
}

#[test]
fn metrics_from_cloudwatch_equal_the_saved_files() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (first, requests, e4, latency_sum) = runtime.block_on(put_metrics(&moto.url));
    let since = chrono::DateTime::from_timestamp(first - 60, 0)
        .unwrap()
        .to_rfc3339();
    let saved = dir.path().join("metrics");
    let mut cmd = aws_gwstat(dir.path());
    cmd.args([
        "metrics",
        "--api-name",
        "shop-api",
        "--stage",
        "prod",
        "--detailed",
        "--since",
        &since,
        "--until",
        "+40m",
        "--period",
        "60",
        // moto answers percentile statistics with a 500 (a known emulator gap).
        "--statistics",
        "Average,Maximum",
        "--endpoint-url",
        &moto.url,
        "--save",
    ])
    .arg(&saved);
    let from_aws = report_json(&mut cmd);
    let from_files = report_json(gwstat().arg("metrics").arg(&saved));
    assert_eq!(from_aws["groups"], from_files["groups"]);
    let groups = from_aws["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    let stage = groups.iter().find(|g| g["route"].is_null()).unwrap();
    assert_eq!(stage["totals"]["requests"].as_f64(), Some(requests));
    assert_eq!(stage["totals"]["errors_4xx"].as_f64(), Some(e4));
    let mean = stage["totals"]["latency_ms"]["Average"].as_f64().unwrap();
    // Milliseconds are written with 3 decimals.
    assert!((mean - latency_sum / requests).abs() <= 5e-4, "{mean}");
    let route = groups.iter().find(|g| g["route"] == "GET /pets").unwrap();
    assert_eq!(route["totals"]["requests"].as_f64(), Some(requests / 2.0));
    assert_eq!(stage["bins"].as_array().unwrap().len(), 30);
}

#[test]
fn traces_from_xray_equal_the_saved_files() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    // The sample traces, moved to an hour ago, put segment by segment.
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::common::root().join("sample-logs/traces/batch-get-traces.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut documents: Vec<Value> = Vec::new();
    for trace in sample["Traces"].as_array().unwrap().iter().take(40) {
        for seg in trace["Segments"].as_array().unwrap() {
            documents.push(serde_json::from_str(seg["Document"].as_str().unwrap()).unwrap());
        }
    }
    let earliest = documents
        .iter()
        .filter_map(|d| d["start_time"].as_f64())
        .fold(f64::MAX, f64::min);
    let shift = (chrono::Utc::now().timestamp() - 3600) as f64 - earliest;
    fn shift_times(v: &mut Value, by: f64) {
        if let Value::Object(map) = v {
            for (k, x) in map.iter_mut() {
                if k == "start_time" || k == "end_time" {
                    if let Some(t) = x.as_f64() {
                        *x = serde_json::json!(t + by);
                    }
                } else {
                    shift_times(x, by);
                }
            }
        } else if let Value::Array(list) = v {
            for x in list {
                shift_times(x, by);
            }
        }
    }
    for d in &mut documents {
        shift_times(d, shift);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let c = aws_sdk_xray::Client::new(&moto_sdk(&moto.url));
        for batch in documents.chunks(25) {
            c.put_trace_segments()
                .set_trace_segment_documents(Some(batch.iter().map(|d| d.to_string()).collect()))
                .send()
                .await
                .unwrap();
        }
    });
    let saved = dir.path().join("traces");
    let mut cmd = aws_gwstat(dir.path());
    cmd.args([
        "traces",
        "--since",
        "-3h",
        "--endpoint-url",
        &moto.url,
        "--save",
    ])
    .arg(&saved);
    let from_aws = report_json(&mut cmd);
    let from_files = report_json(gwstat().arg("traces").arg(&saved));
    assert_eq!(from_aws["routes"], from_files["routes"]);
    assert_eq!(from_aws["totals"], from_files["totals"]);
    // Every trace put came back whole: as many traces as the sample's first 40.
    assert_eq!(
        from_aws["totals"]["traces"].as_u64(),
        Some(40),
        "{}",
        from_aws["totals"]
    );
}

#[test]
fn insights_dry_run_finds_the_log_groups_keys() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let (_, lines, start) = recent_log(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(put_lines(&moto.url, "insights-group", &lines));
    let since = chrono::DateTime::from_timestamp_millis(start - 60_000)
        .unwrap()
        .to_rfc3339();
    let mut cmd = aws_gwstat(dir.path());
    let out = cmd
        .args([
            "report",
            "--engine",
            "insights",
            "--dry-run",
            "--log-group",
            "insights-group",
            "--since",
            &since,
            "--until",
            "+30m",
            "--endpoint-url",
            &moto.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("keys found in 50 sampled events"), "{text}");
    let counts = text
        .lines()
        .find(|l| l.starts_with("stats count(*) as requests by bin(15s)"))
        .unwrap_or_else(|| panic!("{text}"));
    for key in ["`httpMethod`", "`resourcePath`", "`status`"] {
        assert!(counts.contains(key), "{counts}");
    }
    assert!(
        text.contains("# cache-hits (split into shorter ranges"),
        "{text}"
    );
}
