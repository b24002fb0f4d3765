//! Ranking shared by the sections, and the column readers of the table-based ones.

use polars::prelude::*;

use crate::model::col;

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

/// Sorts by count descending, then by name, and keeps `top` (0 = all).
pub fn sort_top<T>(items: &mut Vec<T>, top: usize, key: impl Fn(&T) -> (u64, String)) {
    items.sort_by_cached_key(|item| {
        let (count, name) = key(item);
        (std::cmp::Reverse(count), name)
    });
    if top > 0 {
        items.truncate(top);
    }
}
