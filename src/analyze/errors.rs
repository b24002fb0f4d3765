//! Errors: by status (with what API Gateway means by it), by route, by gateway response type
//! and by error message.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::routes::RouteTotals;
use super::stats::{code_column, sort_top, u64_column};
use super::{sort_name, AnalyzeOptions};
use crate::facts::{gateway_response_type, status_meaning};
use crate::model::{col, RequestTable};
use crate::report::{Errors, MessageCount, ResponseTypeCount, RouteErrors, StatusCount};

/// The errors section.
pub fn errors(
    table: &RequestTable,
    routes: &[RouteTotals],
    statuses: &[(Option<u32>, u64)],
    options: &AnalyzeOptions,
) -> PolarsResult<Errors> {
    let top = options.top;
    let by_status = by_status(statuses, top);

    let mut by_route: Vec<RouteErrors> = routes
        .iter()
        .filter(|r| r.status_4xx + r.status_5xx > 0)
        .map(|r| RouteErrors {
            route: r.route.clone(),
            count: r.status_4xx + r.status_5xx,
            requests: r.requests,
            status_4xx: r.status_4xx,
            status_5xx: r.status_5xx,
        })
        .collect();
    sort_top(&mut by_route, top, |r| (r.count, sort_name(&r.route)));

    Ok(Errors {
        by_status,
        by_route,
        by_response_type: by_response_type(table, top)?,
        by_message: by_message(table, top)?,
    })
}

/// 4xx and 5xx statuses with what API Gateway means by them, most first.
pub fn by_status(statuses: &[(Option<u32>, u64)], top: usize) -> Vec<StatusCount> {
    let mut list: Vec<StatusCount> = statuses
        .iter()
        .filter_map(|&(status, count)| {
            let status = u16::try_from(status?).ok()?;
            (status >= 400).then(|| StatusCount {
                status,
                count,
                meaning: status_meaning(status).to_string(),
            })
        })
        .collect();
    sort_top(&mut list, top, |s| (s.count, format!("{:03}", s.status)));
    list
}

fn by_response_type(table: &RequestTable, top: usize) -> PolarsResult<Vec<ResponseTypeCount>> {
    let frame = table
        .lazy()
        .filter(col(col::ERROR_TYPE).is_not_null())
        .group_by([col(col::ERROR_TYPE), col(col::STATUS)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .collect()?;
    let types = code_column(&frame, col::ERROR_TYPE)?;
    let statuses = code_column(&frame, col::STATUS)?;
    let counts = u64_column(&frame, "count")?;
    let mut grouped: BTreeMap<u32, Vec<(u64, u16)>> = BTreeMap::new();
    for i in 0..frame.height() {
        let (Some(code), Some(status)) = (types[i], statuses[i]) else {
            if let Some(code) = types[i] {
                grouped.entry(code).or_default().push((counts[i], 0));
            }
            continue;
        };
        grouped
            .entry(code)
            .or_default()
            .push((counts[i], u16::try_from(status).unwrap_or(0)));
    }
    let mut list: Vec<ResponseTypeCount> = grouped
        .into_iter()
        .map(|(code, mut by_status)| {
            let name = table.dictionaries.error_type.name(code).to_string();
            by_status.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            ResponseTypeCount {
                count: by_status.iter().map(|(n, _)| n).sum(),
                statuses: by_status
                    .iter()
                    .map(|(_, s)| *s)
                    .filter(|s| *s != 0)
                    .collect(),
                meaning: gateway_response_type(&name).map(|t| t.when.to_string()),
                response_type: name,
            }
        })
        .collect();
    sort_top(&mut list, top, |t| (t.count, t.response_type.clone()));
    Ok(list)
}

fn by_message(table: &RequestTable, top: usize) -> PolarsResult<Vec<MessageCount>> {
    let frame = table
        .lazy()
        .filter(col(col::ERROR_MESSAGE).is_not_null())
        .group_by([col(col::ERROR_MESSAGE)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .collect()?;
    let messages = code_column(&frame, col::ERROR_MESSAGE)?;
    let counts = u64_column(&frame, "count")?;
    let mut list: Vec<MessageCount> = messages
        .into_iter()
        .zip(counts)
        .filter_map(|(code, count)| {
            Some(MessageCount {
                message: table.dictionaries.error_message.name(code?).to_string(),
                count,
            })
        })
        .collect();
    sort_top(&mut list, top, |m| (m.count, m.message.clone()));
    Ok(list)
}
