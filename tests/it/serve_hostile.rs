//! `gwstat serve` against hostile clients, on loopback: forged log fields, a cache filler,
//! oversize and stalled bodies, slowloris, header floods, 10,000 idle connections, running
//! out of descriptors, clients that leave, SIGTERM with a stalled upload. Every serve
//! process stops by itself (`--max-seconds`), every socket has a timeout, and the RSS of
//! the serve process stays under [`RSS_BOUND_KIB`] throughout.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

use crate::common::json_of;

/// The memory bound every case holds: 256 MiB.
const RSS_BOUND_KIB: u64 = 256 * 1024;

/// What the test upstream saw: request heads, by path.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    headers: Mutex<Vec<Vec<String>>>,
}

/// An upstream for `seconds`: `/redirect` answers 301 with end-to-end and hop-by-hop
/// headers, `/echo` answers with the request's header names, `/slow` after 1.5 s,
/// `/big` with 64 KiB, anything else `{"ok":true}`.
fn upstream(seconds: u64) -> (u16, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let seen = Arc::new(Seen::default());
    let record = seen.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
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
                    let _ = stream.set_nodelay(true);
                    let record = record.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(
                            move |req: hyper::Request<hyper::body::Incoming>| {
                                let record = record.clone();
                                async move {
                                    record.requests.fetch_add(1, Ordering::SeqCst);
                                    let names: Vec<String> =
                                        req.headers().keys().map(|k| k.to_string()).collect();
                                    let path = req.uri().path().to_string();
                                    use http_body_util::BodyExt;
                                    let _ = req.into_body().collect().await;
                                    record.headers.lock().unwrap().push(names.clone());
                                    let mut response = hyper::Response::builder();
                                    let body: Vec<u8> = match path.as_str() {
                                        "/redirect" => {
                                            response = response
                                                .status(301)
                                                .header("location", "/elsewhere")
                                                .header("set-cookie", "a=1")
                                                .header("connection", "x-upstream-hop")
                                                .header("x-upstream-hop", "secret")
                                                .header("keep-alive", "timeout=5")
                                                .header("upgrade", "h2c");
                                            Vec::new()
                                        }
                                        "/echo" => serde_json::to_vec(&names).unwrap(),
                                        "/slow" => {
                                            tokio::time::sleep(Duration::from_millis(1500)).await;
                                            b"{\"slow\":true}".to_vec()
                                        }
                                        "/big" => vec![b'x'; 64 * 1024],
                                        _ => b"{\"ok\":true}".to_vec(),
                                    };
                                    Ok::<_, std::convert::Infallible>(
                                        response
                                            .body(http_body_util::Full::new(bytes::Bytes::from(
                                                body,
                                            )))
                                            .unwrap(),
                                    )
                                }
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(seconds), serve).await;
        });
    });
    (port, seen)
}

/// Stages: `prod` (open, generous throttle, cache off), `keyed` (API key required),
/// `tight` (1 rps, burst 1), `cached` (everything cached for 2 s, 8 MB).
const CONFIG: &str = r#"
[[stages]]
name = "prod"
throttle = { rate = 5000, burst = 5000 }

[[stages]]
name = "keyed"
api_key_required = true

[[stages]]
name = "tight"
throttle = { rate = 1, burst = 1 }

[[stages]]
name = "cached"
cache = { enabled = true, size_gb = 0.008, ttl_seconds = 2, default_caching = true }

[[usage_plans]]
id = "plan"
stages = ["keyed"]

[[api_keys]]
id = "goodkey"
usage_plans = ["plan"]
"#;

/// A running `gwstat serve`.
struct Serve {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    stderr: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Serve {
    /// Starts serve in front of `upstream` with `args`, stopping by itself after 60 s;
    /// `shell` wraps the command (e.g. a `ulimit`).
    fn start_with(upstream: u16, args: &[&str], shell: Option<&str>) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("gateway.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let log = dir.path().join("access.log");
        let bin = cargo_bin("gwstat");
        let mut argv: Vec<String> = vec![
            "serve".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--max-seconds".into(),
            "60".into(),
            "--config".into(),
            config.to_str().unwrap().into(),
            "--upstream".into(),
            format!("http://127.0.0.1:{upstream}"),
            "--access-log".into(),
            log.to_str().unwrap().into(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        let mut command = match shell {
            Some(prefix) => {
                let mut c = Process::new("sh");
                c.arg("-c")
                    .arg(format!("{prefix} && exec \"$0\" \"$@\""))
                    .arg(&bin)
                    .args(&argv);
                c
            }
            None => {
                let mut c = Process::new(&bin);
                c.args(&argv);
                c
            }
        };
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        while !first.contains("listening on") {
            first.clear();
            assert!(stderr.read_line(&mut first).unwrap() > 0, "serve exited");
        }
        let addr = first
            .trim()
            .rsplit("http://")
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no address in {first:?}"));
        let lines = Arc::new(Mutex::new(vec![first]));
        let collect = lines.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                collect.lock().unwrap().push(line);
            }
        });
        Serve {
            child,
            addr,
            log,
            stderr: lines,
            _dir: dir,
        }
    }

    fn start(upstream: u16, args: &[&str]) -> Serve {
        Serve::start_with(upstream, args, None)
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Sends raw bytes on a new connection and reads the answer to EOF.
    fn raw(&self, request: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        read_all(&mut s)
    }

    /// `GET path` with extra header lines, `Connection: close`.
    fn get(&self, path: &str, headers: &str) -> String {
        self.raw(
            format!("GET {path} HTTP/1.1\r\nHost: gw\r\n{headers}Connection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    fn assert_rss_bounded(&self, case: &str) {
        let rss = self.rss_kib();
        eprintln!("{case}: serve RSS {rss} KiB");
        assert!(rss > 0 && rss < RSS_BOUND_KIB, "{case}: RSS {rss} KiB");
    }

    /// User plus system CPU time so far, in clock ticks (1/100 s).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    fn signal(&self, name: &str) {
        Process::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    /// Stops serve with SIGTERM and returns the access log's lines.
    fn stop(mut self) -> Vec<String> {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        log_lines(&self.log)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

/// Whether the peer closed `s` (EOF or reset) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

/// Injection attempts a client controls: path bytes (all a request line may carry) and
/// User-Agent.
const HOSTILE_PATH: &str = "x\",\"status\":\"200\"}&'\\,{\"a\":\"";
const HOSTILE_UA: &str = "ua\", \"status\":\"200\", \"x\":\"</request><request id=\"f\"> ,200,\\";

#[test]
fn log_values_cannot_forge_fields_or_lines_in_any_format() {
    let (up, _) = upstream(60);
    for format in ["default", "rest-clf", "rest-csv", "rest-xml", "rest-json"] {
        let args: Vec<&str> = if format == "default" {
            vec![]
        } else {
            vec!["--access-format", format]
        };
        let serve = Serve::start(up, &args);
        let n = 20;
        for i in 0..n {
            // Under a stage (logged as `path`) and under none (logged as `resourcePath`).
            let prefix = if i % 2 == 0 { "/keyed/" } else { "/" };
            let response = serve.get(
                &format!("{prefix}{HOSTILE_PATH}{i}"),
                &format!("User-Agent: {HOSTILE_UA}\r\nx-api-key: k\", \"status\":\"200\r\n"),
            );
            assert_eq!(status(&response), 403, "{format}: {response}");
        }
        let lines = serve.stop();
        assert_eq!(lines.len(), n, "{format}: {lines:?}");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        std::fs::write(&log, lines.join("\n") + "\n").unwrap();
        let mut report = crate::common::gwstat();
        report.args([
            "report",
            log.to_str().unwrap(),
            "--format",
            "json",
            "-q",
            "--strict",
        ]);
        if format != "default" {
            report.args(["--access-format", format]);
        }
        let report: Value = json_of(&mut report);
        assert_eq!(report["summary"]["requests"], n as u64, "{format}");
        assert_eq!(
            report["summary"]["status_classes"]["4xx"], n as u64,
            "{format}: {lines:?}"
        );
        if format == "default" || format == "rest-json" {
            for line in &lines {
                let v: Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["status"], "403");
                if format == "default" {
                    assert!(v["path"].as_str().unwrap().contains(HOSTILE_PATH));
                    assert_eq!(v["identity.userAgent"], HOSTILE_UA);
                }
            }
        }
    }
}

#[test]
fn the_cache_stays_within_its_bytes_and_serves_hits() {
    let (up, seen) = upstream(60);
    let serve = Serve::start(up, &["--cache-memory", "4"]);
    let before = seen.requests.load(Ordering::SeqCst);
    // A hit: the upstream is asked once for two identical requests.
    for _ in 0..2 {
        assert_eq!(status(&serve.get("/cached/big?k=same", "")), 200);
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst) - before, 1);
    let base = serve.rss_kib();
    // The filler: 2,000 distinct keys of 64 KiB (125 MiB of bodies) through one connection.
    let mut s = serve.connect();
    for i in 0..2000 {
        s.write_all(format!("GET /cached/big?k={i} HTTP/1.1\r\nHost: gw\r\n\r\n").as_bytes())
            .unwrap();
        let mut reader = BufReader::new(&mut s);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "closed at request {i}"
            );
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
    }
    let grown = serve.rss_kib().saturating_sub(base);
    eprintln!("cache filler: RSS grew {grown} KiB over 2,000 responses of 64 KiB");
    // 4 MiB of stored responses plus allocator slack; unbounded it grows by 125 MiB.
    assert!(grown < 48 * 1024, "RSS grew {grown} KiB");
    serve.assert_rss_bounded("cache filler");
    let lines = serve.stop();
    assert_eq!(lines.len(), 2002);
}

#[test]
fn bodies_are_checked_after_routing_key_and_throttle_and_bounded() {
    let (up, seen) = upstream(60);
    let serve = Serve::start(up, &["--body-timeout", "3", "--body-memory", "32"]);
    let over = 10 * 1024 * 1024 + 1;
    let head = |path: &str, extra: &str| {
        format!("POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Length: {over}\r\n{extra}\r\n")
    };
    // Content-Length over the limit, no body sent: refused at once, from the header.
    let started = Instant::now();
    assert_eq!(status(&serve.raw(head("/prod/up", "").as_bytes())), 413);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The API key and the throttle are checked first.
    assert_eq!(status(&serve.raw(head("/keyed/up", "").as_bytes())), 403);
    assert_eq!(status(&serve.raw(head("/tight/up", "").as_bytes())), 413);
    assert_eq!(status(&serve.raw(head("/tight/up", "").as_bytes())), 429);
    assert_eq!(status(&serve.raw(head("/nostage/up", "").as_bytes())), 403);

    // Chunked, no Content-Length: cut once 10 MB have arrived.
    let mut s = serve.connect();
    write!(
        s,
        "POST /prod/up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'a'; 256 * 1024];
    let mut sent = 0;
    while sent < 12 * 1024 * 1024 {
        let wrote = write!(s, "{:x}\r\n", chunk.len())
            .and_then(|()| s.write_all(&chunk))
            .and_then(|()| s.write_all(b"\r\n"));
        if wrote.is_err() {
            break;
        }
        sent += chunk.len();
    }
    // The answer may be lost to the reset of a connection closed with unread bytes; the
    // access log (checked below) has it either way.
    let answer = read_all(&mut s);
    assert!(answer.is_empty() || status(&answer) == 413, "{answer}");
    serve.assert_rss_bounded("chunked oversize");

    // Twenty concurrent 5 MiB uploads: the body budget (32 MiB) turns the excess into 503s.
    let nine = 5 * 1024 * 1024;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    let mut s = serve.connect();
                    let body = vec![b'b'; nine];
                    let _ = write!(s, "POST /prod/up HTTP/1.1\r\nHost: gw\r\nContent-Length: {nine}\r\nConnection: close\r\n\r\n")
                        .and_then(|()| s.write_all(&body));
                    let answer = read_all(&mut s);
                    if answer.is_empty() { 0 } else { status(&answer) }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|s| [0, 200, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200), "{statuses:?}");
    serve.assert_rss_bounded("concurrent uploads");

    // A body that stalls: 408 after the body timeout.
    let mut s = serve.connect();
    write!(
        s,
        "POST /prod/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n0123456789"
    )
    .unwrap();
    let started = Instant::now();
    assert_eq!(status(&read_all(&mut s)), 408);
    assert!(started.elapsed() < Duration::from_secs(5));
    let forwarded = seen.requests.load(Ordering::SeqCst);
    assert!(forwarded >= statuses.iter().filter(|s| **s == 200).count());
    let lines = serve.stop();
    let logged: Vec<u64> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["status"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(&logged[..6], [413, 403, 413, 429, 403, 413], "{lines:?}");
    let uploads = &logged[6..26];
    assert_eq!(
        uploads.iter().filter(|s| **s == 200).count(),
        forwarded,
        "{uploads:?}"
    );
    assert!(
        uploads.iter().all(|s| *s == 200 || *s == 503),
        "{uploads:?}"
    );
    assert_eq!(logged[26..], [408]);
}

#[test]
fn slow_heads_header_floods_and_idle_connections_are_cut() {
    let (up, _) = upstream(60);
    let serve = Serve::start(up, &["--header-timeout", "1", "--idle-timeout", "2"]);
    // Slowloris: a header byte every 200 ms is cut at the header timeout.
    let mut s = serve.connect();
    s.write_all(b"GET /prod/x HTTP/1.1\r\nHost: gw\r\n")
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    for _ in 0..25 {
        if s.write_all(b"X").is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let cut = cut || closed_within(&mut s, Duration::from_millis(500));
    assert!(
        cut && started.elapsed() < Duration::from_secs(3),
        "slowloris not cut"
    );

    // Idle keep-alive: kept past the header timeout, closed at the idle timeout.
    let mut s = serve.connect();
    s.write_all(b"GET /prod/x HTTP/1.1\r\nHost: gw\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(s.read(&mut buf).unwrap() > 0);
    let idle = Instant::now();
    assert!(!closed_within(&mut s, Duration::from_millis(1500)));
    assert!(closed_within(&mut s, Duration::from_millis(1500)));
    let after = idle.elapsed();
    assert!(
        after >= Duration::from_millis(1900) && after < Duration::from_secs(3),
        "{after:?}"
    );

    // Header floods: too many headers, one huge header.
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(status(&serve.get("/prod/x", &many)), 431);
    let huge = format!("X-Big: {}\r\n", "a".repeat(20_000));
    assert_eq!(status(&serve.get("/prod/x", &huge)), 431);
    serve.assert_rss_bounded("header floods");
    let lines = serve.stop();
    assert_eq!(lines.len(), 1);
}

#[test]
fn ten_thousand_idle_connections_are_capped_and_shed() {
    let (up, _) = upstream(60);
    let serve = Serve::start(up, &["--max-connections", "1000", "--idle-timeout", "30"]);
    let cpu = serve.cpu_ticks();
    // Closed with a reset (zero linger) so that no TIME_WAIT is left behind: 10,000 of them
    // would slow down every later connect on this machine for a minute.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = serve.addr;
    let (held, shed) = runtime.block_on(async move {
        let mut held = Vec::new();
        for _ in 0..10_000 {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => {
                    s.set_zero_linger().unwrap();
                    held.push(s)
                }
                Err(e) => panic!("connect {}: {e}", held.len()),
            }
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut shed = 0;
        for s in &held {
            let mut buf = [0u8; 256];
            if let Ok(n) = s.try_read(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 503") {
                    shed += 1;
                }
            }
        }
        (held, shed)
    });
    // The cap, seen from the server: its open descriptors (the 1,000 connections, plus the
    // listener, log, runtime and upstream ones). Connections the kernel's accept backlog
    // could not take while the debug build accepted are reset, not answered, so the 503
    // count is a lower bound.
    let fds = serve.open_fds();
    assert!(
        fds <= 1_000 + 64,
        "{fds} descriptors open with 1,000 connections allowed"
    );
    assert!(shed >= 5_000, "only {shed} of 10,000 answered 503");
    eprintln!("10,000 connections: {shed} answered 503, serve holds {fds} descriptors");
    serve.assert_rss_bounded("10,000 idle connections");
    let used = serve.cpu_ticks() - cpu;
    std::thread::sleep(Duration::from_secs(2));
    let idle_cpu = serve.cpu_ticks() - cpu - used;
    assert!(
        idle_cpu < 40,
        "{idle_cpu} ticks of CPU in 2 s holding idle connections"
    );
    runtime.block_on(async move { drop(held) });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(status(&serve.get("/prod/x", "")), 200);
    serve.stop();
}

#[test]
fn running_out_of_descriptors_backs_off_instead_of_spinning() {
    let (up, _) = upstream(60);
    let serve = Serve::start_with(up, &[], Some("ulimit -n 64"));
    // More connections than descriptors (those past the accept backlog may be refused).
    let held: Vec<TcpStream> = (0..150)
        .map_while(|_| TcpStream::connect_timeout(&serve.addr, Duration::from_secs(1)).ok())
        .collect();
    assert!(held.len() >= 100, "only {} connections", held.len());
    std::thread::sleep(Duration::from_millis(500));
    let cpu = serve.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let spent = serve.cpu_ticks() - cpu;
    assert!(spent < 40, "{spent} ticks of CPU in 2 s out of descriptors");
    drop(held);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(status(&serve.get("/prod/x", "")), 200);
    serve.stop();
}

#[test]
fn sigterm_with_a_stalled_upload_and_requests_in_flight() {
    let (up, _) = upstream(60);
    let mut serve = Serve::start(up, &["--shutdown-timeout", "2"]);
    // A stalled upload (body timeout 30 s) and three requests waiting on a slow upstream.
    // The upload asks for `100 Continue`, which comes when the gateway has admitted it and
    // starts reading its body: from then on it is a request in flight (before, on a loaded
    // machine, SIGTERM could find only a connection with unread bytes, which is no request).
    let mut stalled = serve.connect();
    write!(
        stalled,
        "POST /prod/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut interim = [0u8; 25];
    stalled.read_exact(&mut interim).unwrap();
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stalled.write_all(b"abc").unwrap();
    let addr = serve.addr;
    let slow: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                s.write_all(b"GET /prod/slow HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
                    .unwrap();
                read_all(&mut s)
            })
        })
        .collect();
    // Load: a client sending as fast as it can until refused.
    let load = std::thread::spawn(move || {
        let mut answered = BTreeMap::<u16, usize>::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let Ok(mut s) = TcpStream::connect(addr) else {
                break;
            };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            if s.write_all(b"GET /prod/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
                .is_err()
            {
                break;
            }
            let response = read_all(&mut s);
            if response.is_empty() {
                break;
            }
            *answered.entry(status(&response)).or_default() += 1;
        }
        answered
    });
    std::thread::sleep(Duration::from_millis(500));
    let stopping = Instant::now();
    serve.signal("TERM");
    // The port closes at once.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after SIGTERM"
    );
    let slow: Vec<u16> = slow
        .into_iter()
        .map(|t| status(&t.join().unwrap()))
        .collect();
    assert_eq!(slow, [200, 200, 200], "in-flight requests finish");
    let answered = load.join().unwrap();
    let mut child_done = false;
    while stopping.elapsed() < Duration::from_secs(6) {
        if serve.child.try_wait().unwrap().is_some() {
            child_done = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        child_done,
        "serve still running {:?} after SIGTERM",
        stopping.elapsed()
    );
    assert!(
        stopping.elapsed() >= Duration::from_secs(2),
        "did not wait for in-flight work"
    );
    assert!(closed_within(&mut stalled, Duration::from_secs(1)));
    let lines = log_lines(&serve.log);
    let answered_total: usize = answered.values().sum();
    // What the log holds, by path and status, for the messages below.
    let mut logged = BTreeMap::<(String, String), usize>::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        let key = (
            v["path"].as_str().unwrap_or("?").to_string(),
            v["status"].as_str().unwrap_or("?").to_string(),
        );
        *logged.entry(key).or_default() += 1;
    }
    // Every answered request, the three slow ones, and the cut upload (503).
    assert_eq!(
        lines.len(),
        answered_total + 3 + 1,
        "answered {answered:?}, logged {logged:?}"
    );
    let cut: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"status\":\"503\""))
        .collect();
    assert_eq!(cut.len(), 1, "logged {logged:?}");
    assert!(cut[0].contains("\"path\":\"/prod/up\""), "{cut:?}");
    drop(serve);
}

#[test]
fn a_client_that_leaves_is_still_logged_with_the_gateways_status() {
    let (up, _) = upstream(60);
    let serve = Serve::start(up, &[]);
    let mut s = serve.connect();
    s.write_all(b"GET /prod/slow HTTP/1.1\r\nHost: gw\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    // The upstream answers after 1.5 s; the line is flushed within a second after that.
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        if let Some(line) = log_lines(&serve.log).pop() {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no line for the request whose client left"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["status"], "200");
    assert_eq!(v["integrationStatus"], "200");
    serve.stop();
}

#[test]
fn sighup_flushes_the_access_log_at_once() {
    let (up, _) = upstream(60);
    let serve = Serve::start(up, &[]);
    // Wait for the writer's periodic flush to pass, then log one line and ask for a flush.
    assert_eq!(status(&serve.get("/prod/x", "")), 200);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(status(&serve.get("/prod/y", "")), 200);
    serve.signal("HUP");
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(log_lines(&serve.log).len(), 2);
    assert_eq!(serve.stop().len(), 2, "SIGHUP must not stop serve");
}

#[test]
fn upstream_headers_pass_both_ways_except_hop_by_hop() {
    let (up, seen) = upstream(60);
    let serve = Serve::start(up, &[]);
    let response = serve.get("/prod/redirect", "");
    assert_eq!(status(&response), 301);
    let lower = response.to_ascii_lowercase();
    assert!(lower.contains("location: /elsewhere"), "{response}");
    assert!(lower.contains("set-cookie: a=1"), "{response}");
    for hop in ["x-upstream-hop", "keep-alive", "upgrade"] {
        assert!(
            !lower.contains(&format!("{hop}:")),
            "{hop} passed: {response}"
        );
    }
    let response = serve.get(
        "/prod/echo",
        "X-End: 1\r\nX-Client-Hop: 1\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nUpgrade: h2c\r\nConnection: X-Client-Hop\r\n",
    );
    assert_eq!(status(&response), 200);
    let names = seen.headers.lock().unwrap().last().cloned().unwrap();
    assert!(names.contains(&"x-end".to_string()), "{names:?}");
    for hop in [
        "x-client-hop",
        "te",
        "proxy-authorization",
        "upgrade",
        "connection",
    ] {
        assert!(
            !names.contains(&hop.to_string()) || hop == "connection",
            "{hop} forwarded: {names:?}"
        );
    }
    serve.stop();
}

#[test]
fn options_star_and_absolute_form_never_reach_another_host() {
    let (up, seen) = upstream(60);
    // A host the configuration never names.
    let foreign = TcpListener::bind("127.0.0.1:0").unwrap();
    foreign.set_nonblocking(true).unwrap();
    let foreign_port = foreign.local_addr().unwrap().port();
    let serve = Serve::start(up, &[]);
    let star = serve.raw(b"OPTIONS * HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    assert_eq!(status(&star), 403, "{star}");
    let absolute = serve.raw(
        format!("GET http://127.0.0.1:{foreign_port}/prod/x HTTP/1.1\r\nHost: 127.0.0.1:{foreign_port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(status(&absolute), 403, "{absolute}");
    // A route of a prefixed stage is not reachable without its prefix.
    assert_eq!(status(&serve.get("/x", "")), 403);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        foreign.accept().is_err(),
        "a connection reached the foreign host"
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0);
    let lines = serve.stop();
    assert_eq!(lines.len(), 3);
}

#[test]
fn a_non_loopback_listen_address_is_warned_about() {
    // Only the loopback case runs a server; the warning itself is unit-tested in
    // cli::serve (binding a public address is not done by tests).
    let (up, _) = upstream(30);
    let serve = Serve::start(up, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let stderr = serve.stderr.lock().unwrap().join("\n");
    assert!(!stderr.contains("warning"), "{stderr}");
    serve.stop();
}

#[test]
fn requests_of_departed_clients_are_bounded_too() {
    let (up, _) = upstream(60);
    // One connection allowed, so at most two requests in progress.
    let serve = Serve::start(up, &["--max-connections", "1"]);
    // A connection refused by the cap is answered without a request ID; retried until the
    // previous client's connection is gone.
    let unshed = |request: &[u8], keep: Duration| -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            assert!(Instant::now() < deadline, "every connection shed");
            let mut s = serve.connect();
            s.write_all(request).unwrap();
            s.set_read_timeout(Some(keep)).unwrap();
            let mut buf = [0u8; 4096];
            match s.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
                    if answer.contains("x-amzn-requestid") {
                        return Some(answer);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                // Nothing yet: the request waits for the upstream; leave it there.
                _ => return None,
            }
        }
    };
    for _ in 0..2 {
        let left = unshed(
            b"GET /prod/slow HTTP/1.1\r\nHost: gw\r\n\r\n",
            Duration::from_millis(200),
        );
        assert!(left.is_none(), "{left:?}");
    }
    // Both still wait for the upstream (it takes 1.5 s).
    let refused = unshed(
        b"GET /prod/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(status(&refused), 503, "{refused}");
    // Once they finish, requests are served again.
    std::thread::sleep(Duration::from_millis(1600));
    let served = unshed(
        b"GET /prod/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(status(&served), 200, "{served}");
    let lines = serve.stop();
    let statuses: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(statuses, ["503", "200", "200", "200"], "{lines:?}");
}
