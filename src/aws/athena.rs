//! Running Athena queries: StartQueryExecution (workgroup, result location), GetQueryExecution
//! polled with backoff until the query ends — stopped with StopQueryExecution once it has
//! scanned more than the limit — and GetQueryResults page by page. Throttling, 5xx and
//! dropped connections are retried by the SDK (`super::sdk_config`); a query that ends
//! FAILED or CANCELLED is an error carrying Athena's reason.

use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;

use super::{describe_error, Progress};
use crate::athena::assemble::ResultSet;

/// Most rows a GetQueryResults page holds.
const PAGE_ROWS: i32 = 1000;

/// Where and within what the queries run.
#[derive(Debug, Clone, Default)]
pub struct AthenaRun {
    /// Workgroup (`None`: Athena's default, `primary`).
    pub workgroup: Option<String>,
    /// `s3://` location for the results (`None`: the workgroup's).
    pub output: Option<String>,
    /// Most bytes a query may scan before it is stopped.
    pub max_bytes: Option<u64>,
}

/// What a query cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Queries run.
    pub queries: u64,
    /// Bytes scanned, per query as Athena reports them.
    pub bytes: u64,
    /// Bytes billed: each query's bytes rounded up to the megabyte, at least the minimum.
    pub billed_bytes: u64,
}

/// Athena bills each query's bytes rounded up to a megabyte, with 10 MB at least.
const MB: u64 = 1_000_000;
const MIN_BILLED: u64 = 10 * MB;

impl Scanned {
    /// Adds one query's bytes.
    pub fn add(&mut self, bytes: u64) {
        self.queries += 1;
        self.bytes += bytes;
        self.billed_bytes += (bytes.div_ceil(MB) * MB).max(MIN_BILLED);
    }
}

/// Runs one statement to its end; returns its rows (none for DDL) and the bytes it scanned.
pub async fn run_query(
    client: &Client,
    run: &AthenaRun,
    sql: &str,
    what: &str,
    progress: &Progress,
) -> Result<(ResultSet, u64)> {
    let mut start = client.start_query_execution().query_string(sql);
    if let Some(workgroup) = &run.workgroup {
        start = start.work_group(workgroup);
    }
    if let Some(output) = &run.output {
        start = start.result_configuration(
            ResultConfiguration::builder()
                .output_location(output)
                .build(),
        );
    }
    let started = start
        .send()
        .await
        .map_err(|e| describe_error(&format!("StartQueryExecution ({what})"), e))?;
    let Some(id) = started.query_execution_id().map(str::to_string) else {
        bail!("StartQueryExecution ({what}) returned no query execution id");
    };
    let mut wait = Duration::from_millis(200);
    let bytes = loop {
        let out = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .map_err(|e| describe_error(&format!("GetQueryExecution ({what})"), e))?;
        let execution = out.query_execution();
        let status = execution.and_then(|e| e.status());
        let scanned = execution
            .and_then(|e| e.statistics())
            .and_then(|s| s.data_scanned_in_bytes())
            .map_or(0, |b| b.max(0) as u64);
        let state = status.and_then(|s| s.state());
        match state {
            Some(QueryExecutionState::Succeeded) => break scanned,
            Some(QueryExecutionState::Failed | QueryExecutionState::Cancelled) => {
                let reason = status
                    .and_then(|s| s.state_change_reason())
                    .unwrap_or("no reason given");
                bail!(
                    "Athena query {id} ({what}) ended {}: {}",
                    state.map_or("?", |s| s.as_str()),
                    reason.replace('\n', " ")
                );
            }
            _ => {}
        }
        if let Some(limit) = run.max_bytes.filter(|limit| scanned > *limit) {
            client
                .stop_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| describe_error(&format!("StopQueryExecution ({what})"), e))?;
            bail!(
                "Athena query {id} ({what}) stopped: it had scanned {scanned} bytes, more than \
                 --athena-max-bytes {limit}"
            );
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_secs(5));
    };
    let mut result = ResultSet::default();
    let mut token: Option<String> = None;
    let mut first_page = true;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(&id)
            .max_results(PAGE_ROWS)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| describe_error(&format!("GetQueryResults ({what})"), e))?;
        let Some(set) = page.result_set() else {
            break;
        };
        if result.columns.is_empty() {
            result.columns = set
                .result_set_metadata()
                .map(|m| {
                    m.column_info()
                        .iter()
                        .map(|c| c.name().to_string())
                        .collect()
                })
                .unwrap_or_default();
        }
        let mut rows: Vec<Vec<Option<String>>> = set
            .rows()
            .iter()
            .map(|row| {
                row.data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_string))
                    .collect()
            })
            .collect();
        // A SELECT's first row holds the column names.
        if first_page
            && rows.first().is_some_and(|r| {
                r.iter()
                    .map(|c| c.as_deref())
                    .eq(result.columns.iter().map(|c| Some(c.as_str())))
            })
        {
            rows.remove(0);
        }
        first_page = false;
        progress.page(rows.len());
        result.rows.extend(rows);
        match page.next_token() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    progress.part_done();
    Ok((result, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_megabytes_with_a_minimum() {
        let mut s = Scanned::default();
        s.add(0);
        s.add(10_000_001);
        s.add(25_000_000);
        assert_eq!(s.queries, 3);
        assert_eq!(s.bytes, 35_000_001);
        assert_eq!(s.billed_bytes, 10 * MB + 11 * MB + 25 * MB);
    }
}
