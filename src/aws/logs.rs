//! CloudWatch Logs: FilterLogEvents over a time range, split into slices read in parallel,
//! every nextToken followed. Each slice is saved as one `filter-log-events`-shaped JSON file
//! (what `aws logs filter-log-events` writes, and what every offline command reads), written
//! atomically when the slice is complete; a manifest fixes the slices, so `--resume` skips the
//! finished ones and neither loses nor repeats an event.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_sdk_cloudwatchlogs::Client;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{describe_error, Progress};

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// Log groups.
    pub log_groups: Vec<String>,
    /// Only streams whose name starts with this.
    pub stream_prefix: Option<String>,
    /// First ms (inclusive).
    pub start_ms: i64,
    /// Last ms (exclusive).
    pub end_ms: i64,
    /// Time slices per log group.
    pub slices: u32,
}

/// One slice: a log group and a time range `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// Index of the log group in the query.
    pub group: usize,
    /// Log group name.
    pub log_group: String,
    /// First ms (inclusive).
    pub start_ms: i64,
    /// Last ms (exclusive).
    pub end_ms: i64,
}

impl Slice {
    /// The slice's file name.
    pub fn file_name(&self) -> String {
        format!("group{}-{}-{}.json", self.group, self.start_ms, self.end_ms)
    }
}

impl LogQuery {
    /// The slices: each group's range cut into `slices` parts of equal length.
    pub fn slices(&self) -> Vec<Slice> {
        let n = i64::from(self.slices.max(1));
        let span = (self.end_ms - self.start_ms).max(1);
        let mut out = Vec::new();
        for (group, log_group) in self.log_groups.iter().enumerate() {
            for i in 0..n {
                let start = self.start_ms + span * i / n;
                let end = self.start_ms + span * (i + 1) / n;
                if end > start {
                    out.push(Slice {
                        group,
                        log_group: log_group.clone(),
                        start_ms: start,
                        end_ms: end,
                    });
                }
            }
        }
        out
    }
}

/// Reads one slice, following every nextToken, and returns its events as a
/// filter-log-events JSON document.
pub async fn read_slice(
    client: &Client,
    slice: &Slice,
    stream_prefix: Option<&str>,
    progress: &Progress,
) -> Result<serde_json::Value> {
    let mut request = client
        .filter_log_events()
        .log_group_name(&slice.log_group)
        .start_time(slice.start_ms)
        // FilterLogEvents' endTime is inclusive: stop 1 ms before the next slice.
        .end_time(slice.end_ms - 1);
    if let Some(prefix) = stream_prefix {
        request = request.log_stream_name_prefix(prefix);
    }
    let mut pages = request.into_paginator().send();
    let mut events = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| describe_error(&format!("FilterLogEvents on {}", slice.log_group), e))?;
        for e in page.events() {
            // An event id appears once, even if a retried page repeats it.
            if let Some(id) = e.event_id() {
                if !seen.insert(id.to_string()) {
                    continue;
                }
            }
            events.push(json!({
                "logStreamName": e.log_stream_name(),
                "timestamp": e.timestamp(),
                "message": e.message(),
                "ingestionTime": e.ingestion_time(),
                "eventId": e.event_id(),
            }));
        }
        progress.page(page.events().len());
    }
    progress.part_done();
    Ok(json!({ "events": events, "searchedLogStreams": [] }))
}

/// The manifest of a fetch directory (hidden: directory walks skip it).
const MANIFEST: &str = ".gwstat-fetch.json";

/// Reads every slice of `query` into `dir` (at most `parallel` at once). With `resume`, the
/// query comes from the directory's manifest and finished slices are skipped. Returns the
/// query used and the files of all slices.
pub async fn fetch_to_dir(
    client: &Client,
    query: &LogQuery,
    dir: &Path,
    resume: bool,
    parallel: usize,
    progress: Arc<Progress>,
) -> Result<(LogQuery, Vec<PathBuf>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = dir.join(MANIFEST);
    let query = if resume && manifest.exists() {
        let text = std::fs::read_to_string(&manifest)?;
        let saved: LogQuery = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a gwstat fetch manifest", manifest.display()))?;
        if saved.log_groups != query.log_groups || saved.stream_prefix != query.stream_prefix {
            bail!(
                "--resume: {} was fetched for log groups {:?}, not {:?}",
                dir.display(),
                saved.log_groups,
                query.log_groups
            );
        }
        saved
    } else {
        let visible = dir
            .read_dir()?
            .filter_map(Result::ok)
            .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
        if !resume && visible {
            bail!(
                "{} is not empty: use --resume to continue a fetch, or an empty directory",
                dir.display()
            );
        }
        std::fs::write(&manifest, serde_json::to_string_pretty(query)?)?;
        query.clone()
    };
    let slices = query.slices();
    let files: Vec<PathBuf> = slices.iter().map(|s| dir.join(s.file_name())).collect();
    let todo: Vec<(Slice, PathBuf)> = slices
        .into_iter()
        .zip(files.iter().cloned())
        .filter(|(_, f)| !f.exists())
        .collect();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (slice, file) in todo {
        let client = client.clone();
        let prefix = query.stream_prefix.clone();
        let progress = progress.clone();
        let permit = semaphore.clone().acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            let doc = read_slice(&client, &slice, prefix.as_deref(), &progress).await?;
            // Written whole or not at all: an interrupted slice is fetched again on resume.
            let tmp = file.with_file_name(format!(
                ".{}.part",
                file.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ));
            std::fs::write(&tmp, serde_json::to_vec(&doc)?)?;
            std::fs::rename(&tmp, &file)?;
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.context("a fetch task failed")??;
    }
    Ok((query, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_range_without_overlap() {
        let q = LogQuery {
            log_groups: vec!["a".into(), "b".into()],
            stream_prefix: None,
            start_ms: 1000,
            end_ms: 11_003,
            slices: 4,
        };
        let s = q.slices();
        assert_eq!(s.len(), 8);
        let a: Vec<&Slice> = s.iter().filter(|x| x.group == 0).collect();
        assert_eq!(a[0].start_ms, 1000);
        assert_eq!(a[3].end_ms, 11_003);
        for w in a.windows(2) {
            assert_eq!(w[0].end_ms, w[1].start_ms);
        }
        assert_ne!(s[0].file_name(), s[4].file_name());
    }
}
