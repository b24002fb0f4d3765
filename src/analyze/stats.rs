//! Polars helpers shared by the sections: exact statistics expressions and column readers.

use polars::prelude::*;

use crate::model::col;
use crate::report::{LatencyStats, Stats};

const PERCENTILES: [(&str, f64); 4] = [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)];

/// Expressions computing [`Stats`] of `column`, aliased `{prefix}.count`, `{prefix}.min`, …
/// Percentiles are exact with linear interpolation (numpy's default). Nulls are excluded.
pub fn stats_exprs(column: &str, prefix: &str) -> Vec<Expr> {
    let value = || col(column);
    let mut exprs = vec![
        value()
            .count()
            .cast(DataType::UInt64)
            .alias(format!("{prefix}.count")),
        value().min().alias(format!("{prefix}.min")),
        value().max().alias(format!("{prefix}.max")),
        value().mean().alias(format!("{prefix}.mean")),
    ];
    for (name, q) in PERCENTILES {
        exprs.push(
            value()
                .quantile(lit(q), QuantileMethod::Linear)
                .alias(format!("{prefix}.{name}")),
        );
    }
    exprs
}

/// Statistics expressions for latency, integration latency and overhead.
pub fn latency_exprs() -> Vec<Expr> {
    let mut exprs = stats_exprs(col::LATENCY, col::LATENCY);
    exprs.extend(stats_exprs(
        col::INTEGRATION_LATENCY,
        col::INTEGRATION_LATENCY,
    ));
    exprs.extend(stats_exprs(col::OVERHEAD, col::OVERHEAD));
    exprs
}

/// Reads the statistics aliased `prefix` from row `row`.
pub fn read_stats(frame: &DataFrame, prefix: &str, row: usize) -> PolarsResult<Stats> {
    let f = |name: &str| -> PolarsResult<Option<f64>> {
        Ok(f64_column(frame, &format!("{prefix}.{name}"))?[row])
    };
    let count = u64_column(frame, &format!("{prefix}.count"))?[row];
    Ok(Stats {
        count,
        min: f("min")?,
        max: f("max")?,
        mean: f("mean")?,
        p50: f("p50")?,
        p90: f("p90")?,
        p95: f("p95")?,
        p99: f("p99")?,
    })
}

/// Reads the three latency statistics from row `row`.
pub fn read_latency(frame: &DataFrame, row: usize) -> PolarsResult<LatencyStats> {
    Ok(LatencyStats {
        latency_ms: read_stats(frame, col::LATENCY, row)?,
        integration_latency_ms: read_stats(frame, col::INTEGRATION_LATENCY, row)?,
        overhead_ms: read_stats(frame, col::OVERHEAD, row)?,
    })
}

/// A column as `f64` values (nulls kept).
pub fn f64_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().collect())
}

/// A count column as `u64` (nulls read as 0).
pub fn u64_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<u64>> {
    let column = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(column.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// A dictionary-code column.
pub fn code_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u32>>> {
    let column = frame.column(name)?.cast(&DataType::UInt32)?;
    Ok(column.u32()?.iter().collect())
}

/// An `i64` column (nulls read as 0).
pub fn i64_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    let column = frame.column(name)?.cast(&DataType::Int64)?;
    Ok(column.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// Counts rows where `predicate` holds, as a `UInt64` aggregation named `name`.
pub fn count_where(predicate: Expr, name: &str) -> Expr {
    predicate
        .cast(DataType::UInt64)
        .sum()
        .cast(DataType::UInt64)
        .alias(name)
}

/// `status` between `low` and `high` inclusive.
pub fn status_between(low: u32, high: u32) -> Expr {
    col(col::STATUS)
        .gt_eq(lit(low))
        .and(col(col::STATUS).lt_eq(lit(high)))
}

/// One integer key for grouping by two columns: polars groups one integer key much faster,
/// and with less memory, than two columns (which it row-encodes). Each part is a code or a
/// non-negative integer below 2^32 (a bin start in epoch seconds); null becomes u32::MAX.
/// Aggregate `first()` of each part to read them back.
pub fn pair_key(a: Expr, b: Expr) -> Expr {
    let part = |e: Expr| e.cast(DataType::UInt64).fill_null(lit(u64::from(u32::MAX)));
    (part(a) * lit(1u64 << 32) + part(b)).alias("pair_key")
}

/// Sorts by count descending, then by name, and keeps `top` (0 = all).
pub fn sort_top<T>(items: &mut Vec<T>, top: usize, key: impl Fn(&T) -> (u64, String)) {
    items.sort_by(|a, b| {
        let (ca, na) = key(a);
        let (cb, nb) = key(b);
        cb.cmp(&ca).then(na.cmp(&nb))
    });
    if top > 0 {
        items.truncate(top);
    }
}
