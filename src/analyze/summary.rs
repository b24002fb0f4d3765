//! Summary: requests, time range, status classes, average and peak requests per second.

use polars::prelude::*;

use super::stats::{code_column, i64_column, u64_column};
use crate::filter::rfc3339;
use crate::model::{col, RequestTable};
use crate::report::{ErrorRate, Peak, StatusClasses, Summary};

/// Requests per status (status `None` = not logged), in no particular order.
pub fn status_counts(table: &RequestTable) -> PolarsResult<Vec<(Option<u32>, u64)>> {
    let frame = table
        .lazy()
        .group_by([col(col::STATUS)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .collect()?;
    let statuses = code_column(&frame, col::STATUS)?;
    let counts = u64_column(&frame, "count")?;
    Ok(statuses.into_iter().zip(counts).collect())
}

/// Requests and 429s per whole second, busiest first (ties: earlier first).
pub fn per_second(table: &RequestTable) -> PolarsResult<Vec<(i64, u64, u64)>> {
    let frame = table
        .lazy()
        .group_by([col(col::SECOND)])
        .agg([
            len().cast(DataType::UInt64).alias("requests"),
            super::stats::count_where(col(col::STATUS).eq(lit(429u32)), "throttled"),
        ])
        .sort_by_exprs(
            [col("requests"), col(col::SECOND)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let seconds = i64_column(&frame, col::SECOND)?;
    let requests = u64_column(&frame, "requests")?;
    let throttled = u64_column(&frame, "throttled")?;
    Ok((0..frame.height())
        .map(|i| (seconds[i], requests[i], throttled[i]))
        .collect())
}

/// Requests per status class from per-status counts.
pub fn status_classes(statuses: &[(Option<u32>, u64)]) -> StatusClasses {
    let mut classes = StatusClasses::default();
    for &(status, count) in statuses {
        let slot = match status.map(|s| s / 100) {
            Some(1) => &mut classes.c1xx,
            Some(2) => &mut classes.c2xx,
            Some(3) => &mut classes.c3xx,
            Some(4) => &mut classes.c4xx,
            Some(5) => &mut classes.c5xx,
            _ => &mut classes.unknown,
        };
        *slot += count;
    }
    classes
}

/// The summary section.
pub fn summary(table: &RequestTable) -> PolarsResult<Summary> {
    summary_from(table, &status_counts(table)?, &per_second(table)?)
}

/// The summary from the status counts and per-second counts already computed (one pass each
/// for the whole report).
pub fn summary_from(
    table: &RequestTable,
    statuses: &[(Option<u32>, u64)],
    seconds: &[(i64, u64, u64)],
) -> PolarsResult<Summary> {
    let requests = table.len() as u64;
    let classes = status_classes(statuses);
    let rate = |n: u64| (requests > 0).then(|| n as f64 / requests as f64);
    let bounds = table
        .lazy()
        .select([
            col(col::TIME_MS).min().alias("first"),
            col(col::TIME_MS).max().alias("last"),
        ])
        .collect()?;
    let first = bounds.column("first")?.cast(&DataType::Int64)?;
    let last = bounds.column("last")?.cast(&DataType::Int64)?;
    let first = first.i64()?.get(0);
    let last = last.i64()?.get(0);
    let duration_seconds = match (first, last) {
        (Some(f), Some(l)) => Some((l.div_euclid(1000) - f.div_euclid(1000) + 1) as u64),
        _ => None,
    };
    let peak = seconds.first().map(|(second, count, _)| Peak {
        value: *count,
        at: rfc3339(second * 1000),
    });
    Ok(Summary {
        requests,
        start: first.map(rfc3339),
        end: last.map(rfc3339),
        duration_seconds,
        error_rate: ErrorRate {
            r4xx: rate(classes.c4xx),
            r5xx: rate(classes.c5xx),
        },
        status_classes: classes,
        avg_rps: duration_seconds.map(|d| requests as f64 / d as f64),
        peak_rps: peak,
    })
}
