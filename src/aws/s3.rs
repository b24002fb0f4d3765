//! `s3://bucket/prefix/` (or `s3://bucket/key.gz`) as log inputs: ListObjectsV2 with
//! pagination; keys that cannot hold requests of the `--since/--until` window skipped (the
//! Firehose layout `prefix/YYYY/MM/DD/HH/stream-N-YYYY-MM-DD-HH-MM-SS-uuid[.gz]`; the
//! CloudWatch Logs export-task layout `prefix/<taskId>/<logStreamName>/000000.gz` has no
//! dates and is read whole); manifests, folder markers and empty objects skipped and counted;
//! the rest read as [`RemoteObject`]s by ranged GETs with the SDK's standard retry mode, a
//! bounded number of objects and parts in flight, and never a whole object in memory.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use bytes::Bytes;
use chrono::NaiveDate;
use tokio::sync::{mpsc, Semaphore};

use super::{describe_error, sdk_config, AwsArgs};
use crate::filter::Window;
use crate::source::{Input, Remote, RemoteObject};

/// Bytes per ranged GET when an object is read whole.
const PART_BYTES: u64 = 8 << 20;
/// Bytes of the first GET when only an object's head is looked at (its kind).
const HEAD_BYTES: u64 = 256 << 10;
/// Objects read ahead of the one being decoded. Each holds at most three parts: one being
/// decoded, one waiting, one being fetched — 4 × 3 × 8 MiB = 96 MiB at most in all.
const OBJECTS_AHEAD: usize = 3;
/// Heads fetched ahead while the inputs' kinds are told (16 × 256 KiB).
const HEADS_AHEAD: usize = 16;
/// GET requests in flight at most.
const GETS_IN_FLIGHT: usize = 8;
/// Attempts at a part whose body broke off after the SDK's own retries answered.
const BODY_ATTEMPTS: u32 = 3;
/// Firehose's longest buffering interval: an object holds records that arrived up to this
/// long after its oldest record (whose arrival hour names the object's prefix).
pub(crate) const BUFFER_MARGIN_MS: i64 = 900_000;
/// How long before its arrival at Firehose a request may have happened (API Gateway's and
/// CloudWatch Logs' own delivery delay): objects of the hour after the window are read too.
pub(crate) const DELIVERY_MARGIN_MS: i64 = 900_000;
const HOUR_MS: i64 = 3_600_000;
/// How long after its last record arrived an object may have been written (the PUT itself,
/// a retry): an object written at `t` holds requests from `t` − this − the two margins above.
const WRITE_MARGIN_MS: i64 = 300_000;

/// Hidden knobs for tests: keys per ListObjectsV2 page, bytes per ranged GET.
const PAGE_SIZE_ENV: &str = "GWSTAT_S3_PAGE_SIZE";
const PART_BYTES_ENV: &str = "GWSTAT_S3_PART_BYTES";

/// Whether an input argument names S3.
pub(crate) fn is_s3(arg: &str) -> bool {
    arg.starts_with("s3://")
}

/// `s3://bucket/key-or-prefix` as `(bucket, key-or-prefix)`.
pub(crate) fn parse_url(url: &str) -> Result<(String, String)> {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        bail!("{url}: no bucket; expected s3://BUCKET/PREFIX/ or s3://BUCKET/KEY");
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// Why a listed object is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ObjectSkip {
    /// Its key's hour cannot hold requests of the time window.
    OutsideWindow,
    /// A manifest (`*.manifest`) or the export task's `aws-logs-write-test`.
    Manifest,
    /// A key ending in `/` (a console "folder").
    FolderMarker,
    /// No bytes.
    Empty,
}

impl ObjectSkip {
    /// The reason's name in the report's inputs section.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectSkip::OutsideWindow => "outside the time window",
            ObjectSkip::Manifest => "manifest or test object",
            ObjectSkip::FolderMarker => "folder marker",
            ObjectSkip::Empty => "empty object",
        }
    }
}

/// Why the object `key` of `size` bytes, written at `modified` (epoch ms, its LastModified),
/// is not read, or `None` to read it.
///
/// An object is outside the window only when both its key's hour and its write time say so.
/// Keys are read as UTC, Firehose's default; a stream with a `CustomTimeZone` names local
/// hours, hours off, and its write time then still tells (so no object is wrongly skipped).
/// Objects copied since (whose write time is the copy's) are judged by their keys.
pub(crate) fn triage(
    key: &str,
    size: u64,
    modified: Option<i64>,
    window: Window,
) -> Option<ObjectSkip> {
    let file = key.rsplit('/').next().unwrap_or(key);
    if key.ends_with('/') {
        Some(ObjectSkip::FolderMarker)
    } else if file.ends_with(".manifest") || file == "aws-logs-write-test" {
        Some(ObjectSkip::Manifest)
    } else if size == 0 {
        Some(ObjectSkip::Empty)
    } else if key_hour(key).is_some_and(|hour| !may_hold(hour, window))
        && modified.is_none_or(|written| !written_may_hold(written, window))
    {
        Some(ObjectSkip::OutsideWindow)
    } else {
        None
    }
}

/// The start (epoch ms) of the UTC hour a Firehose key names: its `YYYY/MM/DD/HH/` prefix,
/// else the `-YYYY-MM-DD-HH-MM-SS-uuid` of its name; `None` for keys without either (export
/// tasks, custom prefixes), which are always read.
pub(crate) fn key_hour(key: &str) -> Option<i64> {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() >= 5 {
        let dirs = &parts[parts.len() - 5..parts.len() - 1];
        if let Some(hour) = hour_of(dirs[0], dirs[1], dirs[2], dirs[3]) {
            return Some(hour);
        }
    }
    // `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid 8-4-4-4-12>[.ext]`
    let file = parts.last()?;
    let stem = file.split('.').next()?;
    let fields: Vec<&str> = stem.split('-').collect();
    let n = fields.len();
    let uuid = fields.get(n.checked_sub(5)?..)?;
    let uuid_shape = [8, 4, 4, 4, 12];
    let is_uuid = uuid
        .iter()
        .zip(uuid_shape)
        .all(|(f, len)| f.len() == len && f.bytes().all(|b| b.is_ascii_hexdigit()));
    if !is_uuid || n < 13 {
        return None;
    }
    let time = &fields[n - 11..n - 5];
    let clock_ok = time[4..]
        .iter()
        .all(|f| f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()));
    clock_ok.then_some(())?;
    hour_of(time[0], time[1], time[2], time[3])
}

fn hour_of(year: &str, month: &str, day: &str, hour: &str) -> Option<i64> {
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2) && digits(hour, 2)) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
    Some(
        date.and_hms_opt(hour.parse().ok()?, 0, 0)?
            .and_utc()
            .timestamp_millis(),
    )
}

/// Whether an object of the hour starting at `hour_ms` may hold requests of `window`. Its
/// records arrived from `hour_ms` (the oldest's arrival names the hour) to the hour's end
/// plus [`BUFFER_MARGIN_MS`]; each request happened at most [`DELIVERY_MARGIN_MS`] before it
/// arrived.
pub(crate) fn may_hold(hour_ms: i64, window: Window) -> bool {
    let earliest = hour_ms - DELIVERY_MARGIN_MS;
    let last = hour_ms + HOUR_MS + BUFFER_MARGIN_MS - 1;
    window.meets(earliest, last)
}

/// Whether an object written at `written_ms` may hold requests of `window`: its records
/// arrived at most [`BUFFER_MARGIN_MS`] + [`WRITE_MARGIN_MS`] before it was written, each
/// request at most [`DELIVERY_MARGIN_MS`] before its record arrived, and none after.
fn written_may_hold(written_ms: i64, window: Window) -> bool {
    let earliest = written_ms - WRITE_MARGIN_MS - BUFFER_MARGIN_MS - DELIVERY_MARGIN_MS;
    window.meets(earliest, written_ms)
}

/// The byte ranges (inclusive ends, as HTTP writes them) to read an object of `size` bytes
/// in: the first of `first` bytes, the rest of `part` bytes.
pub(crate) fn part_ranges(size: u64, first: u64, part: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut len = first.max(1);
    while start < size {
        let end = (start + len).min(size);
        ranges.push((start, end - 1));
        start = end;
        len = part.max(1);
    }
    ranges
}

/// What the listing of the `s3://` arguments found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// The objects to read, per argument, in argument order (keys sorted).
    pub(crate) inputs: Vec<Vec<Input>>,
    /// Objects not read, by reason.
    pub(crate) skipped: BTreeMap<&'static str, u64>,
    /// Bytes to read.
    pub(crate) bytes: u64,
}

/// Lists the `s3://` arguments `urls`, keeping the objects that may hold requests of
/// `window`.
pub(crate) fn list(urls: &[String], aws: &AwsArgs, window: Window) -> Result<Listing> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client = runtime.block_on(async {
        let config = sdk_config(aws).await?;
        // The standard retry mode (throttling, 5xx and dropped connections retried with
        // backoff); an endpoint of one's own (an emulator, a proxy) is addressed by path.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .retry_config(RetryConfig::standard().with_max_attempts(aws.max_attempts.max(1)))
            .force_path_style(config.endpoint_url().is_some());
        Ok::<_, anyhow::Error>(Client::from_conf(s3.build()))
    })?;
    let page_size = env_number(PAGE_SIZE_ENV).map(|n| n.clamp(1, 1000) as i32);
    let mut listing = Listing::default();
    let mut objects = Vec::new();
    let mut per_url = Vec::new();
    for url in urls {
        let (bucket, key) = parse_url(url)?;
        let found = runtime.block_on(list_one(&client, &bucket, &key, page_size, url))?;
        if found.is_empty() {
            bail!("{url}: no objects under this prefix; nothing to report");
        }
        let first = objects.len();
        for (key, size, modified) in found {
            match triage(&key, size, modified, window) {
                Some(skip) => *listing.skipped.entry(skip.as_str()).or_default() += 1,
                None => {
                    listing.bytes += size;
                    objects.push(Meta {
                        bucket: bucket.clone(),
                        key,
                        size,
                    });
                }
            }
        }
        per_url.push(first..objects.len());
    }
    let part_bytes = env_number(PART_BYTES_ENV).unwrap_or(PART_BYTES).max(1);
    let fetcher = Arc::new(Fetcher {
        runtime,
        client,
        gets: Arc::new(Semaphore::new(GETS_IN_FLIGHT)),
        objects,
        part_bytes,
        ahead: Mutex::default(),
        heads: Mutex::default(),
    });
    for range in per_url {
        let inputs = range
            .map(|index| {
                let meta = &fetcher.objects[index];
                Input::Remote(Remote(Arc::new(S3Object {
                    name: format!("s3://{}/{}", meta.bucket, meta.key),
                    size: meta.size,
                    index,
                    fetcher: fetcher.clone(),
                })))
            })
            .collect();
        listing.inputs.push(inputs);
    }
    Ok(listing)
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// The keys, sizes and write times (epoch ms) under `key`: the one object named `key` if
/// there is one, else every object under `key` as a folder (`key/` unless it ends in `/` or
/// is empty), sorted.
async fn list_one(
    client: &Client,
    bucket: &str,
    key: &str,
    page_size: Option<i32>,
    url: &str,
) -> Result<Vec<(String, u64, Option<i64>)>> {
    let mut request = client.list_objects_v2().bucket(bucket).prefix(key);
    if let Some(size) = page_size {
        request = request.max_keys(size);
    }
    let mut pages = request.into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe_error(&format!("ListObjectsV2 on {url}"), e))?;
        for object in page.contents() {
            if let Some(k) = object.key() {
                let size = object.size().unwrap_or(0).max(0) as u64;
                let modified = object.last_modified().and_then(|t| t.to_millis().ok());
                found.push((k.to_string(), size, modified));
            }
        }
    }
    if let Some(exact) = found.iter().find(|(k, _, _)| k == key) {
        if !key.ends_with('/') {
            return Ok(vec![exact.clone()]);
        }
    }
    if !key.is_empty() && !key.ends_with('/') {
        let folder = format!("{key}/");
        found.retain(|(k, _, _)| k.starts_with(&folder));
    }
    found.sort();
    Ok(found)
}

#[derive(Debug)]
struct Meta {
    bucket: String,
    key: String,
    size: u64,
}

/// The shared reading machinery of one listing: the runtime and client, the bound on GETs
/// in flight, and the readers started ahead of the object being read.
struct Fetcher {
    runtime: tokio::runtime::Runtime,
    client: Client,
    gets: Arc<Semaphore>,
    objects: Vec<Meta>,
    part_bytes: u64,
    /// Whole-object readers started ahead, by object index.
    ahead: Mutex<BTreeMap<usize, PartReader>>,
    /// First parts fetched ahead for kind detection, by object index.
    heads: Mutex<BTreeMap<usize, PartReader>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("objects", &self.objects.len())
            .finish()
    }
}

impl Fetcher {
    /// Starts reading object `index` from byte `offset` in the background: parts are fetched
    /// in order, at most one waiting while another is fetched. A `lazy` reader fetches only
    /// its first part ahead, and the rest when it is read on to.
    fn start(self: &Arc<Self>, index: usize, offset: u64, first: u64, lazy: bool) -> PartReader {
        let meta = &self.objects[index];
        let (sender, receiver) = mpsc::channel(1);
        let mut ranges = part_ranges(meta.size - offset, first, self.part_bytes);
        if lazy {
            ranges.truncate(1);
        }
        let (client, gets) = (self.client.clone(), self.gets.clone());
        let (bucket, key) = (meta.bucket.clone(), meta.key.clone());
        let task = self.runtime.spawn(async move {
            for (start, end) in ranges {
                let range = (start + offset, end + offset);
                let part = match gets.acquire().await {
                    Ok(_permit) => fetch_part(&client, &bucket, &key, range).await,
                    Err(_) => return,
                };
                let failed = part.is_err();
                if sender.send(part).await.is_err() || failed {
                    return;
                }
            }
        });
        PartReader {
            parts: receiver,
            current: Bytes::new(),
            remaining: meta.size - offset,
            task,
            lazy,
            index,
            fetcher: self.clone(),
        }
    }

    /// Starts the readers of the objects after `index` that are not started yet, keeping at
    /// most `count` of them in `started`; readers of objects before `index` are dropped (a
    /// pass over the inputs that ended early).
    fn read_ahead(
        self: &Arc<Self>,
        started: &Mutex<BTreeMap<usize, PartReader>>,
        index: usize,
        count: usize,
        first: u64,
        lazy: bool,
    ) -> Option<PartReader> {
        let mut started = started.lock().ok()?;
        let this = started.remove(&index);
        started.retain(|i, _| *i > index && *i <= index + count);
        let end = (index + count).min(self.objects.len().saturating_sub(1));
        for next in index + 1..=end {
            started
                .entry(next)
                .or_insert_with(|| self.start(next, 0, first, lazy));
        }
        this
    }
}

/// One ranged GET, read whole (at most a part); a body that breaks off is fetched again.
async fn fetch_part(
    client: &Client,
    bucket: &str,
    key: &str,
    (start, end): (u64, u64),
) -> io::Result<Bytes> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let answer = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes={start}-{end}"))
            .send()
            .await
            .map_err(|e| io::Error::other(describe_error("GetObject", e).to_string()))?;
        match answer.body.collect().await {
            Ok(body) => {
                let bytes = body.into_bytes();
                let want = end - start + 1;
                if bytes.len() as u64 == want {
                    return Ok(bytes);
                }
                if attempt >= BODY_ATTEMPTS {
                    return Err(io::Error::other(format!(
                        "GetObject answered {} bytes for bytes {start}-{end} (the object \
                         changed while it was read?)",
                        bytes.len()
                    )));
                }
            }
            Err(e) if attempt >= BODY_ATTEMPTS => {
                return Err(io::Error::other(format!(
                    "GetObject failed: the body broke off ({e}) {BODY_ATTEMPTS} times"
                )))
            }
            Err(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
    }
}

/// Reads an object's parts as they arrive from its background task.
struct PartReader {
    parts: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    /// Bytes of the object not handed out yet.
    remaining: u64,
    task: tokio::task::JoinHandle<()>,
    /// Only the first part was asked for: the rest is started when read on to.
    lazy: bool,
    index: usize,
    /// Also keeps the runtime the task runs on alive while this reader is.
    fetcher: Arc<Fetcher>,
}

impl PartReader {
    /// Waits for the first part, so that an object that cannot be read fails when opened.
    fn ready(mut self) -> io::Result<PartReader> {
        if self.remaining > 0 {
            self.next_part()?;
        }
        Ok(self)
    }

    fn next_part(&mut self) -> io::Result<()> {
        match self.parts.blocking_recv() {
            Some(Ok(part)) => {
                self.current = part;
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None if self.lazy && self.remaining > 0 => {
                let size = self.fetcher.objects[self.index].size;
                let part = self.fetcher.part_bytes;
                let rest = self
                    .fetcher
                    .start(self.index, size - self.remaining, part, false);
                *self = rest;
                self.next_part()
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("ended {} bytes early", self.remaining),
            )),
        }
    }
}

impl Read for PartReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.current.is_empty() {
            if self.remaining == 0 {
                return Ok(0);
            }
            self.next_part()?;
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

impl Drop for PartReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One S3 object to read.
#[derive(Debug)]
struct S3Object {
    name: String,
    size: u64,
    index: usize,
    fetcher: Arc<Fetcher>,
}

impl RemoteObject for S3Object {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        let f = &self.fetcher;
        let part = f.part_bytes;
        let reader = f
            .read_ahead(&f.ahead, self.index, OBJECTS_AHEAD, part, false)
            .unwrap_or_else(|| f.start(self.index, 0, part, false));
        Ok(Box::new(reader.ready()?))
    }

    fn open_head(&self) -> io::Result<Box<dyn Read + Send>> {
        let f = &self.fetcher;
        let head = HEAD_BYTES.min(f.part_bytes);
        let reader = f
            .read_ahead(&f.heads, self.index, HEADS_AHEAD, head, true)
            .unwrap_or_else(|| f.start(self.index, 0, head, true));
        Ok(Box::new(reader.ready()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn urls_name_a_bucket_and_a_key_or_prefix() {
        assert_eq!(
            parse_url("s3://logs/api/2026/").unwrap(),
            ("logs".into(), "api/2026/".into())
        );
        assert_eq!(parse_url("s3://logs").unwrap(), ("logs".into(), "".into()));
        assert!(parse_url("s3:///x").is_err());
    }

    #[test]
    fn firehose_keys_name_their_hour_export_keys_none() {
        let hour = at("2026-11-24T10:00:00Z");
        let name = "shop-access-1-2026-11-24-10-59-58-3f2a8c1e-1b2c-4d5e-8f90-0a1b2c3d4e5f.gz";
        assert_eq!(key_hour(&format!("logs/2026/11/24/10/{name}")), Some(hour));
        // A custom prefix: the object's own name still tells the hour.
        assert_eq!(key_hour(&format!("logs/dt=2026-11-24/{name}")), Some(hour));
        assert_eq!(key_hour("2026/11/24/10/anything.gz"), Some(hour));
        for key in [
            "exports/6a2b1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/stream-1/000000.gz",
            "logs/2026/13/24/10/x.gz",
            "logs/2026/11/24/24/x.gz",
            "logs/26/11/24/10/x.gz",
            "x.gz",
        ] {
            assert_eq!(key_hour(key), None, "{key}");
        }
    }

    #[test]
    fn what_is_skipped_and_why() {
        let all = Window::default();
        let window = Window {
            since: Some(at("2026-11-24T10:00:00Z")),
            until: Some(at("2026-11-24T11:00:00Z")),
        };
        assert_eq!(
            triage("logs/", 0, None, all),
            Some(ObjectSkip::FolderMarker)
        );
        assert_eq!(
            triage("logs/2026/", 0, None, all),
            Some(ObjectSkip::FolderMarker)
        );
        assert_eq!(
            triage("exports/aws-logs-write-test", 27, None, all),
            Some(ObjectSkip::Manifest)
        );
        assert_eq!(
            triage("manifests/x.manifest", 9, None, all),
            Some(ObjectSkip::Manifest)
        );
        assert_eq!(triage("logs/a.gz", 0, None, all), Some(ObjectSkip::Empty));
        assert_eq!(triage("logs/2026/11/24/10/a.gz", 5, None, window), None);
        // The hour before the window may hold its first requests (buffered, delivered late)…
        assert_eq!(triage("logs/2026/11/24/09/a.gz", 5, None, window), None);
        // …and the hour after it requests delivered late; two hours out cannot.
        assert_eq!(triage("logs/2026/11/24/11/a.gz", 5, None, window), None);
        assert_eq!(
            triage("logs/2026/11/24/08/a.gz", 5, None, window),
            Some(ObjectSkip::OutsideWindow)
        );
        assert_eq!(
            triage("logs/2026/11/24/12/a.gz", 5, None, window),
            Some(ObjectSkip::OutsideWindow)
        );
        assert_eq!(triage("exports/t/s/000000.gz", 5, None, window), None);
    }

    #[test]
    fn keys_in_another_time_zone_are_read_by_their_write_time() {
        let window = Window {
            since: Some(at("2026-11-24T01:00:00Z")),
            until: Some(at("2026-11-24T02:00:00Z")),
        };
        // A stream in Asia/Tokyo (UTC+9) names the hour 01:00 UTC `10`: read as UTC, the key
        // is outside the window, but the object was written at 01:16 UTC.
        let tokyo =
            "logs/2026/11/24/10/s-1-2026-11-24-10-01-02-0a1b2c3d-1b2c-4d5e-8f90-0a1b2c3d4e5f.gz";
        assert_eq!(
            triage(tokyo, 5, None, window),
            Some(ObjectSkip::OutsideWindow)
        );
        let written = Some(at("2026-11-24T01:16:00Z"));
        assert_eq!(triage(tokyo, 5, written, window), None);
        // An object written long after (copied since): its key decides.
        let copied = Some(at("2026-12-01T00:00:00Z"));
        assert_eq!(
            triage(tokyo, 5, copied, window),
            Some(ObjectSkip::OutsideWindow)
        );
        assert_eq!(triage("logs/2026/11/24/01/a.gz", 5, copied, window), None);
        // Written before the window began, or long after it ended: outside.
        let before = Some(at("2026-11-24T00:59:00Z"));
        assert_eq!(
            triage(tokyo, 5, before, window),
            Some(ObjectSkip::OutsideWindow)
        );
        // Written within the margins after the window's end: may hold its last requests.
        let late = Some(at("2026-11-24T02:30:00Z"));
        assert_eq!(triage(tokyo, 5, late, window), None);
        let later = Some(at("2026-11-24T02:36:00Z"));
        assert_eq!(
            triage(tokyo, 5, later, window),
            Some(ObjectSkip::OutsideWindow)
        );
    }

    #[test]
    fn parts_cover_the_object_once() {
        assert_eq!(part_ranges(0, 4, 4), vec![]);
        assert_eq!(part_ranges(3, 4, 4), vec![(0, 2)]);
        assert_eq!(part_ranges(10, 2, 4), vec![(0, 1), (2, 5), (6, 9)]);
    }

    proptest! {
        /// A request is never skipped: whatever its delivery delay (within the margin) and
        /// the buffering of its object, a window holding its time keeps its object.
        #[test]
        fn a_window_holding_a_request_keeps_its_object(
            oldest_arrival in 1_600_000_000_000i64..1_900_000_000_000,
            buffered in 0..=BUFFER_MARGIN_MS,
            delay in 0..=DELIVERY_MARGIN_MS,
            before in 0i64..10 * HOUR_MS,
            after in 1i64..10 * HOUR_MS,
        ) {
            let arrival = oldest_arrival + buffered;
            let time = arrival - delay;
            let window = Window { since: Some(time - before), until: Some(time + after) };
            let hour = oldest_arrival - oldest_arrival.rem_euclid(HOUR_MS);
            let stamp = chrono::DateTime::from_timestamp_millis(oldest_arrival).unwrap();
            let key = format!(
                "p/{}/s-1-{}-0a1b2c3d-1b2c-4d5e-8f90-0a1b2c3d4e5f.gz",
                stamp.format("%Y/%m/%d/%H"),
                stamp.format("%Y-%m-%d-%H-%M-%S"),
            );
            prop_assert_eq!(key_hour(&key), Some(hour));
            prop_assert_eq!(triage(&key, 1, None, window), None);
            let open_since = Window { since: Some(time - before), until: None };
            prop_assert_eq!(triage(&key, 1, None, open_since), None);
        }

        /// Whatever time zone names the key (`CustomTimeZone`), an object written when
        /// Firehose writes it is kept by a window holding one of its requests.
        #[test]
        fn keys_of_any_zone_keep_their_objects_by_write_time(
            oldest_arrival in 1_600_000_000_000i64..1_900_000_000_000,
            buffered in 0..=BUFFER_MARGIN_MS,
            delay in 0..=DELIVERY_MARGIN_MS,
            write in 0..=WRITE_MARGIN_MS,
            zone_minutes in (-12i64 * 60..=14 * 60).prop_map(|m| m - m % 15),
            before in 0i64..10 * HOUR_MS,
            after in 1i64..10 * HOUR_MS,
        ) {
            let arrival = oldest_arrival + buffered;
            let time = arrival - delay;
            let written = arrival + write;
            let window = Window { since: Some(time - before), until: Some(time + after) };
            let local = oldest_arrival + zone_minutes * 60_000;
            let stamp = chrono::DateTime::from_timestamp_millis(local).unwrap();
            let key = format!("p/{}/x.gz", stamp.format("%Y/%m/%d/%H"));
            prop_assert_eq!(triage(&key, 1, Some(written), window), None);
        }

        /// An object is skipped exactly when its hour, widened by the margins, misses the
        /// window.
        #[test]
        fn objects_far_from_the_window_are_skipped(
            hour_index in 400_000i64..500_000,
            since in 1_440_000_000_000i64..1_800_000_000_000,
            length in 1i64..48 * HOUR_MS,
        ) {
            let hour = hour_index * HOUR_MS;
            let window = Window { since: Some(since), until: Some(since + length) };
            let reach = (hour - DELIVERY_MARGIN_MS, hour + HOUR_MS + BUFFER_MARGIN_MS);
            let overlaps = reach.0 < since + length && reach.1 > since;
            prop_assert_eq!(may_hold(hour, window), overlaps);
        }

        /// The parts are contiguous, in order, and no larger than asked.
        #[test]
        fn parts_are_contiguous(size in 0u64..100_000, first in 1u64..5_000, part in 1u64..5_000) {
            let ranges = part_ranges(size, first, part);
            let mut next = 0;
            for (i, (start, end)) in ranges.iter().enumerate() {
                prop_assert_eq!(*start, next);
                let limit = if i == 0 { first } else { part };
                prop_assert!(end - start < limit);
                next = end + 1;
            }
            prop_assert_eq!(next, size);
        }
    }
}
