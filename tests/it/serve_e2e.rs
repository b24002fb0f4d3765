//! End to end on loopback: a tiny upstream, `gwstat serve` with a 50 rps / 10 burst stage
//! limit, HTTP replay at 200 rps for 2 s, then the serve access log read back by the report.
//! Bounded: every process stops by itself (request count and time limits).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use assert_cmd::Command;
use serde_json::Value;

use crate::common::json_of;

/// An upstream answering `200 {"ok":true}` to everything, for at most `seconds`.
fn upstream(seconds: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let serve = async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(|_req| async {
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(bytes::Bytes::from_static(
                                    b"{\"ok\":true}",
                                )),
                            ))
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(seconds), serve).await;
        });
    });
    port
}

#[test]
fn serve_holds_the_limit_and_its_access_log_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "[[stages]]\nname = \"prod\"\nthrottle = { rate = 50, burst = 10 }\n",
    )
    .unwrap();
    let log = dir.path().join("load.log");
    let lines: String = (0..400)
        .map(|i| {
            format!(
                "{{\"requestTimeEpoch\":\"{}\",\"httpMethod\":\"GET\",\"resourcePath\":\"/items/{{id}}\",\"stage\":\"prod\",\"status\":\"200\"}}\n",
                1_795_514_400_000u64 + i * 5
            )
        })
        .collect();
    std::fs::write(&log, lines).unwrap();
    let access_log = dir.path().join("access.log");

    let up = upstream(30);
    let mut serve = Process::new(cargo_bin("gwstat"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-requests",
            "400",
            "--max-seconds",
            "30",
        ])
        .arg("--gateway")
        .arg(&config)
        .arg("--upstream")
        .arg(format!("http://127.0.0.1:{up}"))
        .arg("--access-log")
        .arg(&access_log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(serve.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(address.starts_with("http://127.0.0.1:"), "{first}");

    let replay: Value = json_of(
        Command::cargo_bin("gwstat")
            .unwrap()
            .args([
                "replay",
                log.to_str().unwrap(),
                "--target",
                &address,
                "--format",
                "json",
                "-q",
            ])
            .timeout(Duration::from_secs(30)),
    );
    assert_eq!(replay["sent"], 400);
    assert_eq!(replay["failed"], 0);
    let admitted = replay["returned"]["200"].as_u64().unwrap();
    let throttled = replay["returned"]["429"].as_u64().unwrap();
    assert_eq!(admitted + throttled, 400);
    let elapsed = replay["elapsed_seconds"].as_f64().unwrap();
    // Exact bucket bound over the sending time (+ the last request's travel, + rounding).
    let bound = 10.0 + 50.0 * (elapsed + 0.05);
    assert!(
        admitted as f64 <= bound + 1.0,
        "{admitted} admitted in {elapsed} s"
    );
    assert!(
        admitted as f64 >= 10.0 + 50.0 * elapsed * 0.8,
        "{admitted} admitted in {elapsed} s"
    );

    assert!(serve.wait().unwrap().success());
    let report = Command::cargo_bin("gwstat")
        .unwrap()
        .args([
            "report",
            access_log.to_str().unwrap(),
            "--format",
            "json",
            "-q",
            "--strict",
        ])
        .output()
        .unwrap();
    assert!(report.status.success());
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["summary"]["requests"], 400);
    assert_eq!(report["throttling"]["throttled"], throttled);
    assert_eq!(report["throttling"]["by_kind"]["throttled"], throttled);
    assert_eq!(report["summary"]["status_classes"]["2xx"], admitted);
}

/// Sends `GET path` with `Host: host` on a new connection; returns the status.
fn get_with_host(address: &str, host: &str, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

#[test]
fn serve_picks_the_api_by_host_logs_its_id_and_replay_matches_it_without_api() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    // Two APIs with a `prod` stage: the first allows a burst of 2 (and hardly refills), the
    // second is open.
    std::fs::write(
        &config,
        "[[apis]]\nid = \"aaaa111111\"\n[[apis.stages]]\nname = \"prod\"\nthrottle = { rate = 0.01, burst = 2 }\n\
         [[apis]]\nid = \"bbbb222222\"\n[[apis.stages]]\nname = \"prod\"\n",
    )
    .unwrap();
    let access_log = dir.path().join("access.log");
    let up = upstream(30);
    let mut serve = Process::new(cargo_bin("gwstat"))
        .args(["serve", "--listen", "127.0.0.1:0", "--max-requests", "7"])
        .args(["--max-seconds", "30", "--gateway"])
        .arg(&config)
        .arg("--upstream")
        .arg(format!("http://127.0.0.1:{up}"))
        .arg("--access-log")
        .arg(&access_log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(serve.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first.trim().rsplit(' ').next().unwrap().to_string();
    let a = "aaaa111111.execute-api.eu-west-1.amazonaws.com";
    let mut statuses = Vec::new();
    for host in [
        a,
        "bbbb222222:8080",
        a,
        a,
        "bbbb222222:8080",
        a,
        "localhost",
    ] {
        statuses.push(get_with_host(&address, host, "/prod/items"));
    }
    // Any other host: the first API with the stage (aaaa111111, its bucket empty by then).
    assert_eq!(statuses, [200, 200, 200, 429, 200, 429, 429]);
    assert!(serve.wait().unwrap().success());
    let lines = std::fs::read_to_string(&access_log).unwrap();
    let ids: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["apiId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "aaaa111111",
            "bbbb222222",
            "aaaa111111",
            "aaaa111111",
            "bbbb222222",
            "aaaa111111",
            "aaaa111111"
        ]
    );
    // The log carries apiId: replay needs no --api to meet each API's own stage.
    let replay: Value = json_of(
        Command::cargo_bin("gwstat")
            .unwrap()
            .args(["replay", access_log.to_str().unwrap(), "--gateway"])
            .arg(&config)
            .args(["--format", "json", "-q"]),
    );
    assert_eq!(replay["totals"]["requests"], 7);
    assert_eq!(replay["totals"]["observed_429"], 3);
    assert_eq!(replay["totals"]["predicted_429"], 3);
    assert_eq!(replay["confusion_429"]["tp"], 3);
    assert_eq!(replay["totals"]["unknown_api_requests"], 0);
}
