//! Execution logs joined with access logs: join rate and the causes of 4xx/5xx.

use std::collections::{BTreeMap, HashSet};

use crate::decode::execution::Executions;
use crate::report::{CauseCount, ExecutionSummary};

/// Summarises stitched executions; `access_ids` are the access-log request IDs.
pub fn execution_summary<'a>(
    executions: &Executions,
    access_ids: impl IntoIterator<Item = &'a str>,
    top: usize,
) -> ExecutionSummary {
    let ids: HashSet<&str> = access_ids.into_iter().collect();
    let requests = executions.by_request.len() as u64;
    let joined = executions
        .by_request
        .keys()
        .filter(|id| ids.contains(id.as_str()))
        .count() as u64;
    let mut causes: BTreeMap<String, BTreeMap<u16, u64>> = BTreeMap::new();
    for record in executions.by_request.values() {
        let failed = record.status.is_some_and(|s| s >= 400);
        if let (true, Some(cause)) = (failed || record.cause.is_some(), &record.cause) {
            let statuses = causes.entry(cause.clone()).or_default();
            *statuses.entry(record.status.unwrap_or(0)).or_default() += 1;
        } else if failed {
            let statuses = causes.entry("no cause logged".to_string()).or_default();
            *statuses.entry(record.status.unwrap_or(0)).or_default() += 1;
        }
    }
    let mut causes: Vec<CauseCount> = causes
        .into_iter()
        .map(|(cause, statuses)| CauseCount {
            count: statuses.values().sum(),
            cause,
            statuses,
        })
        .collect();
    causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    if top > 0 {
        causes.truncate(top);
    }
    ExecutionSummary {
        requests,
        joined,
        join_rate: (requests > 0).then(|| joined as f64 / requests as f64),
        unclassified_lines: executions.unclassified(),
        lines_without_request_id: executions.without_id,
        causes,
    }
}
