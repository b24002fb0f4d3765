//! `s3://` inputs against moto's S3 (loopback, dummy credentials): Firehose-layout objects
//! (gzip and one uncompressed), a CloudWatch Logs export-task tree, and what is not a log (a
//! manifest, the export's test object, a folder marker, an empty object). `report s3://…`
//! must equal `report` on the same files — also across list pages and ranged parts, and
//! through a proxy that throttles, fails and drops requests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::aws_moto::{aws_gwstat, fault_proxy_as, moto_sdk, start_moto};
use crate::common::{gwstat, json_of, root};

const BUCKET: &str = "api-logs";
/// The export task's object, as CloudWatch Logs writes it (`timestamp message` lines).
const EXPORT: &str = "sample-logs/cloudwatch/s3-export/exportedlogs/0c4f1d2a-task/5d9f0c2e8b7a4f1e9c3b2a1d0e4f5a6b/000000.gz";
const UUIDS: [&str; 2] = [
    "0a1b2c3d-1b2c-4d5e-8f90-0a1b2c3d4e5f",
    "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f",
];

/// An S3 client of moto at `url` (path-style: moto's bucket names are not host names).
fn s3(url: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&moto_sdk(url))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The objects of the archive: `(key, bytes)`, and the same logs as local files in `dir`.
struct Archive {
    objects: Vec<(String, Vec<u8>)>,
    /// Objects per UTC hour of the Firehose part.
    per_hour: Vec<(u32, usize)>,
}

/// A generated access log over 07:00–12:59 UTC, delivered by Firehose as two objects per
/// hour (the last one uncompressed, as a stream without compression writes it), plus an
/// export-task tree and what is not a log. The log files are written to `dir/local/`.
fn archive(dir: &Path) -> Archive {
    let log = dir.join("generated.log");
    gwstat()
        .args([
            "generate",
            "--format",
            "rest-json",
            "--requests",
            "3000",
            "--seconds",
            "21600",
            "--no-malformed",
            "--start",
            "2026-11-24T07:00:00Z",
            "--output",
        ])
        .arg(&log)
        .assert()
        .success();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut hours: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let ms: i64 = v["requestTimeEpoch"].as_str().unwrap().parse().unwrap();
        let hour = chrono::DateTime::from_timestamp_millis(ms).unwrap();
        hours
            .entry(chrono::Timelike::hour(&hour))
            .or_default()
            .push(line);
    }
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let mut objects = Vec::new();
    let mut per_hour = Vec::new();
    let last = *hours.keys().last().unwrap();
    for (hour, lines) in &hours {
        let halves = lines.chunks(lines.len().div_ceil(2));
        per_hour.push((*hour, halves.len()));
        for (k, half) in halves.enumerate() {
            let body = half.iter().map(|l| format!("{l}\n")).collect::<String>();
            let plain = *hour == last && k == 1;
            let (bytes, ext) = match plain {
                true => (body.into_bytes(), ""),
                false => (gzip(body.as_bytes()), ".gz"),
            };
            let minute = k * 30;
            let key = format!(
                "firehose/2026/11/24/{hour:02}/shop-stream-1-2026-11-24-{hour:02}-{minute:02}-00-{}{ext}",
                UUIDS[k]
            );
            std::fs::write(local.join(format!("{hour:02}-{k}{ext}")), &bytes).unwrap();
            objects.push((key, bytes));
        }
    }
    let export = std::fs::read(root().join(EXPORT)).unwrap();
    std::fs::write(local.join("export-000000.gz"), &export).unwrap();
    objects.push((
        "exports/0c4f1d2a-task/5d9f0c2e8b7a4f1e9c3b2a1d0e4f5a6b/000000.gz".into(),
        export,
    ));
    // What is not a log: the export task's write test, a manifest, a console folder, and
    // an empty object.
    objects.push((
        "exports/aws-logs-write-test".into(),
        b"Permission Check Successful".to_vec(),
    ));
    objects.push(("firehose/manifests/batch.manifest".into(), b"{}".to_vec()));
    objects.push(("firehose/2026/".into(), Vec::new()));
    objects.push(("firehose/2026/11/24/10/empty.gz".into(), Vec::new()));
    Archive { objects, per_hour }
}

fn upload(url: &str, archive: &Archive) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = s3(url);
        client.create_bucket().bucket(BUCKET).send().await.unwrap();
        for (key, bytes) in &archive.objects {
            client
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .body(bytes.clone().into())
                .send()
                .await
                .unwrap();
        }
    });
}

/// moto running with the archive uploaded, and the same logs as files in `local`.
struct Uploaded {
    moto: crate::aws_moto::Moto,
    dir: tempfile::TempDir,
    archive: Archive,
    local: PathBuf,
}

fn uploaded() -> Uploaded {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path());
    upload(&moto.url, &archive);
    let local = dir.path().join("local");
    Uploaded {
        moto,
        dir,
        archive,
        local,
    }
}

/// The report without what names the inputs (file names, and the commands of findings that
/// repeat them).
fn without_names(mut report: Value) -> Value {
    let inputs = report["inputs"].as_object_mut().unwrap();
    inputs.remove("files");
    inputs.remove("objects_skipped");
    report.as_object_mut().unwrap().remove("findings");
    report
}

fn report(args: &[&str], endpoint: &str, home: &Path, envs: &[(&str, &str)]) -> Value {
    let mut cmd = aws_gwstat(home);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.arg("report")
        .args(args)
        .args(["--endpoint-url", endpoint, "--format", "json", "-q"]);
    json_of(&mut cmd)
}

fn local_report(local: &PathBuf, extra: &[&str]) -> Value {
    json_of(
        gwstat()
            .arg("report")
            .arg(local)
            .args(extra)
            .args(["--format", "json", "-q"]),
    )
}

#[test]
fn an_s3_report_equals_the_report_of_the_same_files() {
    let Uploaded {
        moto,
        dir,
        archive,
        local,
    } = uploaded();
    let from_files = local_report(&local, &[]);
    let url = format!("s3://{BUCKET}/");
    let from_s3 = report(&[&url], &moto.url, dir.path(), &[]);
    assert!(from_s3["summary"]["requests"].as_u64().unwrap() > 3000);
    assert_eq!(without_names(from_s3.clone()), without_names(from_files));
    // Every log object is listed once, by its URL; what is not a log is counted, not read.
    let files = from_s3["inputs"]["files"].as_array().unwrap();
    let objects: usize = archive.per_hour.iter().map(|(_, n)| n).sum();
    assert_eq!(files.len(), objects + 1);
    assert!(files
        .iter()
        .all(|f| f["name"].as_str().unwrap().starts_with("s3://api-logs/")));
    assert_eq!(
        from_s3["inputs"]["objects_skipped"],
        serde_json::json!({"empty object": 1, "folder marker": 1, "manifest or test object": 2})
    );
    // Mixed: S3 prefixes and local files together; one object by its key.
    let firehose = format!("s3://{BUCKET}/firehose");
    let mut cmd = aws_gwstat(dir.path());
    let mixed = json_of(
        cmd.args(["report", &firehose])
            .arg(local.join("export-000000.gz"))
            .args(["--endpoint-url", &moto.url, "--format", "json", "-q"]),
    );
    assert_eq!(without_names(mixed), without_names(from_s3));
    let (key, _) = &archive.objects[0];
    let one = report(
        &[&format!("s3://{BUCKET}/{key}")],
        &moto.url,
        dir.path(),
        &[],
    );
    assert_eq!(one["inputs"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(
        without_names(one),
        without_names(local_report(&local.join("07-0.gz"), &[]))
    );
    // A baseline in S3 compares as the same files do.
    let hour = local.join("07-0.gz");
    let against_files = local_report(&hour, &["--compare", local.to_str().unwrap()]);
    let against_s3 = report(
        &[hour.to_str().unwrap(), "--compare", &url],
        &moto.url,
        dir.path(),
        &[],
    );
    let comparison = |mut report: Value| {
        let mut comparison = report["comparison"].take();
        let inputs = comparison["baseline_inputs"].take();
        (comparison, inputs.as_array().unwrap().len())
    };
    let (from_s3, s3_inputs) = comparison(against_s3);
    let (from_files, file_inputs) = comparison(against_files);
    assert!(from_s3["routes"].as_array().unwrap().len() > 1);
    assert_eq!(from_s3, from_files);
    assert_eq!((s3_inputs, file_inputs), (objects + 1, objects + 1));
}

#[test]
fn a_window_skips_the_hours_that_cannot_hold_its_requests() {
    let Uploaded {
        moto,
        dir,
        archive,
        local,
    } = uploaded();
    std::fs::remove_file(local.join("export-000000.gz")).unwrap();
    let window = [
        "--since",
        "2026-11-24T10:00:00Z",
        "--until",
        "2026-11-24T11:00:00Z",
    ];
    let from_files = local_report(&local, &window);
    let url = format!("s3://{BUCKET}/firehose/");
    let mut args = vec![url.as_str()];
    args.extend(window);
    let from_s3 = report(&args, &moto.url, dir.path(), &[]);
    // 09:00–09:59 may hold requests of 10:00 (delivered late, buffered); 11:00–11:59 may
    // hold requests of 10:59; 07, 08 and 12 cannot. (moto dates the objects at their upload,
    // long after the window, so their keys decide: see `triage`.)
    let outside: usize = archive
        .per_hour
        .iter()
        .filter(|(h, _)| ![9, 10, 11].contains(h))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        from_s3["inputs"]["objects_skipped"]["outside the time window"],
        outside as u64
    );
    let read: usize = archive.per_hour.iter().map(|(_, n)| n).sum::<usize>() - outside;
    assert_eq!(from_s3["inputs"]["files"].as_array().unwrap().len(), read);
    // The same requests as the local Firehose files give in the window; only the counts of
    // requests read and filtered out differ (the skipped hours were not read at all).
    assert!(from_s3["summary"]["requests"].as_u64().unwrap() > 0);
    let kept = |report: Value| {
        let mut report = without_names(report);
        let inputs = report["inputs"].as_object_mut().unwrap();
        inputs.remove("records");
        inputs.remove("filtered_out");
        report
    };
    assert_eq!(kept(from_s3), kept(from_files));
    // Nothing matches: said once, without downloading the objects again to name the
    // nearest values (local files are read again for that).
    let mut cmd = aws_gwstat(dir.path());
    let out = cmd
        .args(["report", &url, "--stage", "nosuch", "--format", "json"])
        .args(["--endpoint-url", &moto.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("no request matches"))
        .collect();
    assert_eq!(said, ["gwstat: no request matches the filters"], "{stderr}");
    let out = gwstat()
        .arg("report")
        .arg(&local)
        .args(["--stage", "nosuch", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gwstat: no request matches the filters: "),
        "{stderr}"
    );
}

#[test]
fn pages_parts_and_faults_lose_nothing() {
    let Uploaded {
        moto,
        dir,
        archive,
        local,
    } = uploaded();
    let from_files = local_report(&local, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let proxy = runtime.block_on(fault_proxy_as(moto.url.clone(), counter.clone(), true));
    // Two keys per page; parts of 16 KiB: every object takes several ranged GETs.
    let small = [
        ("GWSTAT_S3_PAGE_SIZE", "2"),
        ("GWSTAT_S3_PART_BYTES", "16384"),
    ];
    let url = format!("s3://{BUCKET}/");
    let from_s3 = report(&[&url], &proxy, dir.path(), &small);
    assert_eq!(without_names(from_s3), without_names(from_files));
    let objects = archive.objects.len() as u64;
    let bytes: usize = archive.objects.iter().map(|(_, b)| b.len()).sum();
    let requests = counter.load(Ordering::SeqCst);
    assert!(
        requests > objects / 2 + (bytes / 16384) as u64,
        "{requests} requests for {objects} objects of {bytes} bytes"
    );
}

fn failing(args: &[&str], envs: &[(&str, &str)], home: &Path) -> String {
    let mut cmd = aws_gwstat(home);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn a_missing_bucket_or_no_objects_fails_in_one_line() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let url = moto.url.as_str();
    let home = dir.path();
    let missing = failing(
        &["report", "s3://no-such-bucket/logs/", "--endpoint-url", url],
        &[],
        home,
    );
    assert!(missing.contains("ListObjectsV2 on s3://no-such-bucket/logs/ failed: NoSuchBucket"));
    assert!(missing.contains("Check the name and --region"), "{missing}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        s3(url)
            .create_bucket()
            .bucket("empty")
            .send()
            .await
            .unwrap()
    });
    let nothing = failing(
        &[
            "export",
            "s3://empty/logs/",
            "--endpoint-url",
            url,
            "-o",
            "x.csv",
        ],
        &[],
        home,
    );
    assert!(
        nothing.contains("s3://empty/logs/: no objects under this prefix"),
        "{nothing}"
    );
    // Without credentials: one sentence naming what to set.
    let mut cmd = aws_gwstat(home);
    let out = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["report", "s3://empty/logs/", "--endpoint-url", url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    // follow reads growing local files only.
    let follow = failing(&["report", "--follow", "s3://empty/logs/"], &[], home);
    assert!(follow.contains("S3 objects do not grow"), "{follow}");
}

/// The other commands that read logs take `s3://` inputs (and the AWS connection flags).
#[test]
fn export_and_explain_read_s3_too() {
    let Uploaded {
        moto,
        dir,
        archive,
        local,
    } = uploaded();
    std::fs::remove_file(local.join("export-000000.gz")).unwrap();
    let url = format!("s3://{BUCKET}/firehose/");
    let (from_s3, from_files) = (dir.path().join("s3.csv"), dir.path().join("files.csv"));
    let mut cmd = aws_gwstat(dir.path());
    cmd.args(["export", &url, "--endpoint-url", &moto.url, "-q", "-o"])
        .arg(&from_s3)
        .assert()
        .success();
    gwstat()
        .arg("export")
        .arg(&local)
        .args(["-q", "-o"])
        .arg(&from_files)
        .assert()
        .success();
    let csv = std::fs::read_to_string(&from_s3).unwrap();
    assert_eq!(csv, std::fs::read_to_string(&from_files).unwrap());
    assert!(csv.lines().count() > 3000);
    // One request's story, found in the archive.
    let (_, first) = &archive.objects[0];
    let mut line = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&first[..]), &mut line)
        .unwrap();
    let v: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let id = v["requestId"].as_str().unwrap();
    let mut cmd = aws_gwstat(dir.path());
    let explained = cmd
        .args(["explain", id, &url, "--endpoint-url", &moto.url, "-q"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&explained.get_output().stdout).contains(id));
}
