//! Errors: by status (with what API Gateway means by it), by route, by gateway response type
//! and by error message.

use std::collections::BTreeMap;

use super::routes::Totals;
use super::stats::sort_top;
use super::{sort_name, AnalyzeOptions};
use crate::aggregate::Aggregates;
use crate::facts::{gateway_response_type, status_meaning};
use crate::report::{Errors, MessageCount, ResponseTypeCount, RouteErrors, StatusCount};

/// The errors section.
pub(crate) fn errors(agg: &Aggregates, totals: &Totals, options: &AnalyzeOptions) -> Errors {
    let top = options.top;
    let mut by_route: Vec<RouteErrors> = totals
        .routes
        .iter()
        .filter(|(_, r)| r.c4xx + r.c5xx > 0)
        .map(|(route, r)| RouteErrors {
            route: agg.route(*route),
            count: r.c4xx + r.c5xx,
            requests: r.requests,
            status_4xx: r.c4xx,
            status_5xx: r.c5xx,
        })
        .collect();
    sort_top(&mut by_route, top, |r| (r.count, sort_name(&r.route)));
    Errors {
        by_status: by_status(&totals.status_list(), top),
        by_route,
        by_response_type: by_response_type(agg, top),
        by_message: by_message(agg, top),
    }
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

/// Requests per gateway response type, with the statuses it came with (most first).
pub(crate) fn by_response_type(agg: &Aggregates, top: usize) -> Vec<ResponseTypeCount> {
    let mut grouped: BTreeMap<u32, Vec<(u64, u16)>> = BTreeMap::new();
    for (&(code, status), &n) in &agg.types {
        grouped.entry(code).or_default().push((n, status));
    }
    let mut list: Vec<ResponseTypeCount> = grouped
        .into_iter()
        .map(|(code, mut by_status)| {
            let name = agg.names.types.name(code).to_string();
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
    list
}

fn by_message(agg: &Aggregates, top: usize) -> Vec<MessageCount> {
    let mut list: Vec<MessageCount> = agg
        .messages
        .iter()
        .map(|(code, count)| MessageCount {
            message: agg.names.messages.name(*code).to_string(),
            count: *count,
        })
        .collect();
    sort_top(&mut list, top, |m| (m.count, m.message.clone()));
    list
}
