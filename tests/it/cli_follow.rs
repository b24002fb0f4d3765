//! `gwstat report --follow`: a writer appends lines (and rotates the file) while gwstat
//! follows; the reports see every line. Bounded in time; loopback-free (files only).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::interrupt;

fn sample_lines(n: usize) -> Vec<String> {
    let path = crate::common::root().join("sample-logs/rest-api-json-custom.log");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{') && l.ends_with('}') && !l.contains("\"HTTP "))
        .filter(|l| serde_json::from_str::<Value>(l).is_ok() && !l.contains("\"t"))
        .take(n)
        .map(str::to_string)
        .collect()
}

fn gwstat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gwstat"))
}

fn reports(stdout: &[u8]) -> Vec<Value> {
    stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn follows_appends_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let lines = sample_lines(200);
    let writer_path = path.clone();
    let writer_lines = lines.clone();
    let writer = std::thread::spawn(move || {
        for (i, line) in writer_lines.iter().enumerate() {
            if i == 120 {
                // logrotate's create mode: rename, then a new file.
                std::fs::rename(&writer_path, writer_path.with_extension("log.1")).unwrap();
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&writer_path)
                .unwrap();
            writeln!(f, "{line}").unwrap();
            if i % 20 == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    let out = gwstat()
        .args(["report", "--follow"])
        .arg(&path)
        .args([
            "--interval",
            "300ms",
            "--stop-after",
            "4s",
            "--format",
            "json",
            "--window",
            "1h",
        ])
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports = reports(&out.stdout);
    assert!(reports.len() >= 3, "{} reports", reports.len());
    let counts: Vec<u64> = reports
        .iter()
        .map(|r| r["summary"]["requests"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(*counts.last().unwrap(), 200, "{counts:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("was rotated"), "{stderr}");
}

#[test]
fn window_slides_and_ctrl_c_gives_a_final_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let lines = sample_lines(200);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut child = gwstat()
        .args(["report", "--follow"])
        .arg(&path)
        .args([
            "--interval",
            "200ms",
            "--format",
            "json",
            "--window",
            "30s",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    // Only the last 30 s of request time are in the window.
    let in_window = first["summary"]["requests"].as_u64().unwrap();
    assert!(in_window > 0 && in_window < 200, "{in_window}");
    let start = first["summary"]["start"].as_str().unwrap().to_string();
    let end = first["summary"]["end"].as_str().unwrap().to_string();
    let span = chrono::DateTime::parse_from_rfc3339(&end).unwrap()
        - chrono::DateTime::parse_from_rfc3339(&start).unwrap();
    assert!(span.num_seconds() <= 31, "{start} → {end}");
    // Ctrl-C: a final report, exit 0.
    let status = interrupt(&mut child);
    assert!(status.success(), "{status}");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let last = reports(&rest).pop().expect("a final report");
    assert_eq!(last["summary"]["requests"].as_u64(), Some(in_window));
}

#[test]
fn follows_stdin_until_it_ends() {
    let lines = sample_lines(50);
    let mut child = gwstat()
        .args(["report", "--follow", "-", "--interval", "10s", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all((lines.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("50 in the window (final)"), "{text}");
    assert!(text.contains("Summary"), "{text}");
}
