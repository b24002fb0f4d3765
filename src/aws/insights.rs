//! Running Logs Insights queries: StartQuery over the log groups, GetQueryResults until the
//! query ends, at most `concurrency` queries at once (StartQuery's LimitExceededException
//! waits and tries again). A query grouped by time bins whose result reaches the 10,000-row
//! cap is run again on the two halves of its range (split on a bin boundary), until every
//! part fits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_cloudwatchlogs::Client;
use tokio::sync::Semaphore;

use super::{describe_error, Progress};
use crate::insights::assemble::Results;
use crate::insights::queries::{Query, MAX_ROWS};
use crate::insights::results::Row;

/// Where and how to run the queries.
#[derive(Debug, Clone)]
pub struct InsightsRun {
    /// Log groups.
    pub log_groups: Vec<String>,
    /// First ms.
    pub start_ms: i64,
    /// Last ms (exclusive).
    pub end_ms: i64,
    /// Timeline bin, seconds (ranges are split on its boundaries).
    pub bin_seconds: i64,
    /// Most queries running at once.
    pub concurrency: usize,
}

/// What the run cost and what the user should know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Queries run (splits included).
    pub queries: u64,
    /// Log events scanned.
    pub records_scanned: f64,
    /// Bytes scanned (what Logs Insights bills).
    pub bytes_scanned: f64,
    /// Results cut at the row cap that could not be split.
    pub warnings: Vec<String>,
}

type Shared = Arc<std::sync::Mutex<RunStats>>;

/// Runs every query over the range; returns their rows by kind.
pub async fn run_queries(
    client: &Client,
    run: &InsightsRun,
    queries: &[Query],
    progress: Arc<Progress>,
) -> Result<(Results, RunStats)> {
    let semaphore = Arc::new(Semaphore::new(run.concurrency.max(1)));
    let stats: Shared = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for query in queries.iter().cloned() {
        let (client, run, semaphore, stats, progress) = (
            client.clone(),
            run.clone(),
            semaphore.clone(),
            stats.clone(),
            progress.clone(),
        );
        tasks.spawn(async move {
            let rows = run_range(
                &client,
                &run,
                &query,
                run.start_ms,
                run.end_ms,
                &semaphore,
                &stats,
                &progress,
            )
            .await?;
            anyhow::Ok((query.kind, rows))
        });
    }
    let mut results = Results::new();
    while let Some(done) = tasks.join_next().await {
        let (kind, rows) = done??;
        results.entry(kind).or_default().extend(rows);
    }
    let stats = stats.lock().expect("stats lock").clone();
    Ok((results, stats))
}

#[allow(clippy::too_many_arguments)]
fn run_range<'a>(
    client: &'a Client,
    run: &'a InsightsRun,
    query: &'a Query,
    start_ms: i64,
    end_ms: i64,
    semaphore: &'a Arc<Semaphore>,
    stats: &'a Shared,
    progress: &'a Arc<Progress>,
) -> Pin<Box<dyn Future<Output = Result<Vec<Row>>> + Send + 'a>> {
    Box::pin(async move {
        let rows = {
            let _permit = semaphore.acquire().await?;
            run_one(client, run, query, start_ms, end_ms, stats, progress).await?
        };
        if rows.len() < MAX_ROWS {
            return Ok(rows);
        }
        let bin_ms = run.bin_seconds.max(1) * 1000;
        let mid = ((start_ms + end_ms) / 2).div_euclid(bin_ms) * bin_ms;
        if !query.splittable || mid <= start_ms || mid >= end_ms {
            stats.lock().expect("stats lock").warnings.push(format!(
                "{}: the result reached Logs Insights' {MAX_ROWS}-row cap and was cut",
                query.kind.name()
            ));
            return Ok(rows);
        }
        let mut left = run_range(
            client, run, query, start_ms, mid, semaphore, stats, progress,
        )
        .await?;
        let right = run_range(client, run, query, mid, end_ms, semaphore, stats, progress).await?;
        left.extend(right);
        Ok(left)
    })
}

async fn run_one(
    client: &Client,
    run: &InsightsRun,
    query: &Query,
    start_ms: i64,
    end_ms: i64,
    stats: &Shared,
    progress: &Progress,
) -> Result<Vec<Row>> {
    let mut wait = Duration::from_secs(1);
    let mut attempts = 0;
    let query_id = loop {
        let mut request = client
            .start_query()
            .start_time(start_ms.div_euclid(1000))
            // Insights' end time is inclusive, in whole seconds.
            .end_time((end_ms - 1).div_euclid(1000))
            .query_string(&query.text)
            .limit(MAX_ROWS as i32);
        for group in &run.log_groups {
            request = request.log_group_names(group);
        }
        match request.send().await {
            Ok(out) => match out.query_id() {
                Some(id) => break id.to_string(),
                None => bail!("StartQuery returned no query id"),
            },
            Err(e)
                if attempts < 20
                    && e.as_service_error()
                        .is_some_and(|s| s.is_limit_exceeded_exception()) =>
            {
                // Too many queries running in the account: wait for some to end.
                attempts += 1;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(20));
            }
            Err(e) => {
                return Err(describe_error(
                    &format!("StartQuery ({})", query.kind.name()),
                    e,
                ))
            }
        }
    };
    let mut poll = Duration::from_millis(500);
    loop {
        let out = client
            .get_query_results()
            .query_id(&query_id)
            .send()
            .await
            .map_err(|e| describe_error("GetQueryResults", e))?;
        match out.status() {
            Some(QueryStatus::Complete) => {
                let rows: Vec<Row> = out
                    .results()
                    .iter()
                    .map(|fields| {
                        Row(fields
                            .iter()
                            .filter_map(|f| Some((f.field()?.to_string(), f.value()?.to_string())))
                            .filter(|(k, _)| !k.starts_with("@ptr"))
                            .collect())
                    })
                    .collect();
                let mut s = stats.lock().expect("stats lock");
                s.queries += 1;
                if let Some(st) = out.statistics() {
                    s.records_scanned += st.records_scanned();
                    s.bytes_scanned += st.bytes_scanned();
                }
                progress.page(rows.len());
                progress.part_done();
                return Ok(rows);
            }
            Some(QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::Timeout) => {
                bail!(
                    "Logs Insights query {} ended {:?}: {}",
                    query.kind.name(),
                    out.status().map(QueryStatus::as_str).unwrap_or("?"),
                    query.text
                );
            }
            _ => {
                tokio::time::sleep(poll).await;
                poll = (poll * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Up to `limit` messages of the log groups in the range (FilterLogEvents, first page), to
/// find the keys of their access-log format.
pub async fn sample_messages(
    client: &Client,
    run: &InsightsRun,
    limit: i32,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for group in &run.log_groups {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(run.start_ms)
            .end_time(run.end_ms - 1)
            .limit(limit)
            .send()
            .await
            .map_err(|e| describe_error(&format!("FilterLogEvents on {group}"), e))?;
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
    }
    Ok(out)
}
