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

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("GWSTAT_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
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

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let port = free_port();
    let child = Process::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
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

/// Dummy credentials and no user config: nothing can reach real AWS.
fn aws_env(cmd: &mut Command, home: &Path) {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
}

async fn client(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    let creds =
        aws_sdk_cloudwatchlogs::config::Credentials::new("testing", "testing", None, None, "test");
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(url)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

/// Puts each line as an event (timestamp = its requestTimeEpoch) into two streams.
async fn put_lines(url: &str, group: &str, lines: &[String]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let c = client(url).await;
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

fn gwstat() -> Command {
    Command::cargo_bin("gwstat").unwrap()
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
    let out = cmd.args(["--format", "json", "-q"]).output().unwrap();
    assert!(
        out.status.success(),
        "gwstat failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn log_group_report(endpoint: &str, group: &str, start: i64, home: &Path, slices: &str) -> Value {
    let since = chrono::DateTime::from_timestamp_millis(start - 60_000)
        .unwrap()
        .to_rfc3339();
    let mut cmd = gwstat();
    aws_env(&mut cmd, home);
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
        let mut cmd = gwstat();
        aws_env(&mut cmd, dir.path());
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
    let mut cmd = gwstat();
    aws_env(&mut cmd, dir.path());
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
async fn fault_proxy(upstream: String, counter: Arc<AtomicU64>) -> String {
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
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-amz-json-1.1")
                                .header("x-amzn-errortype", kind)
                                .body(Full::new(Bytes::from(format!(
                                    "{{\"__type\":\"{kind}\",\"message\":\"injected\"}}"
                                ))))
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
