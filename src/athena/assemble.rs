//! Query results to [`Aggregates`]: the rows of [`super::sql::overview`] and
//! [`super::sql::aggregates`] read back into the shape the stream engine folds — the same
//! groups, exact histograms (each logged value counted as often as it occurred), keyed
//! counts and busiest seconds — so `crate::analyze` builds the same report from them.

use anyhow::{bail, Context, Result};

use super::sql::{grouping_mask, position, AGGREGATE_COLUMNS, OVERVIEW_COLUMNS, SETS};
use crate::aggregate::bins::auto_bin_seconds;
use crate::aggregate::histogram::Histogram;
use crate::aggregate::{Aggregates, Group, Latencies, NONE};
use crate::model::Dictionary;

/// A query's result: column names and rows of text cells (`None`: SQL NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// Reads the cells of `names` from every row, in that order.
    fn cells<'a>(&'a self, names: &[&str]) -> Result<Vec<Vec<Option<&'a str>>>> {
        let index: Vec<usize> = names
            .iter()
            .map(|n| {
                self.columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(n))
                    .with_context(|| format!("the query result has no column {n}"))
            })
            .collect::<Result<_>>()?;
        Ok(self
            .rows
            .iter()
            .map(|row| {
                index
                    .iter()
                    .map(|&i| row.get(i).and_then(|c| c.as_deref()))
                    .collect()
            })
            .collect())
    }
}

/// What the first query says: requests kept, lines that could not be placed, the first and
/// last request time and the busiest seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    /// Requests kept.
    pub kept: u64,
    /// Lines the decoders would skip (no plausible time, a status or latency that is not a
    /// number).
    pub skipped: u64,
    /// First and last request time, epoch ms.
    pub bounds: Option<(i64, i64)>,
    /// Requests and 429s of the busiest seconds, busiest first.
    pub seconds: Vec<(i64, [u64; 2])>,
}

impl Overview {
    /// The timeline's bin width: `fixed`, else the one the stream engine picks for the range.
    pub fn bin_seconds(&self, fixed: Option<i64>) -> i64 {
        match (fixed, self.bounds) {
            (Some(width), _) => width.max(1),
            (None, Some((first, last))) => {
                auto_bin_seconds(last.div_euclid(1000) - first.div_euclid(1000) + 1)
            }
            (None, None) => 60,
        }
    }
}

/// A whole count (`sum` may come back as a decimal).
fn count(cell: Option<&str>) -> Result<u64> {
    let Some(text) = cell else {
        return Ok(0);
    };
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    match text.parse::<f64>() {
        Ok(v) if v >= 0.0 && v.fract() == 0.0 => Ok(v as u64),
        _ => bail!("expected a count in the query result, found {text:?}"),
    }
}

/// A whole number (times, bins, statuses).
fn whole(cell: Option<&str>) -> Result<Option<i64>> {
    cell.map(|text| {
        text.parse::<i64>().or_else(|_| match text.parse::<f64>() {
            Ok(v) if v.fract() == 0.0 => Ok(v as i64),
            _ => bail!("expected a whole number in the query result, found {text:?}"),
        })
    })
    .transpose()
}

/// A logged value (latencies).
fn number(cell: Option<&str>) -> Result<Option<f64>> {
    cell.map(|text| {
        text.parse::<f64>()
            .with_context(|| format!("expected a number in the query result, found {text:?}"))
    })
    .transpose()
}

/// Reads the first query's rows (`top`: longest list of seconds kept, 0 = all).
pub fn overview(result: &ResultSet, top: usize) -> Result<Overview> {
    const SEC: usize = position(&OVERVIEW_COLUMNS, "sec");
    const N: usize = position(&OVERVIEW_COLUMNS, "n");
    const THROTTLED: usize = position(&OVERVIEW_COLUMNS, "throttled");
    const KEPT: usize = position(&OVERVIEW_COLUMNS, "kept");
    const FIRST: usize = position(&OVERVIEW_COLUMNS, "first_ms");
    const LAST: usize = position(&OVERVIEW_COLUMNS, "last_ms");
    let mut out = Overview::default();
    let rows = result.cells(&OVERVIEW_COLUMNS)?;
    for row in &rows {
        out.kept = count(row[KEPT])?;
        if let (Some(first), Some(last)) = (whole(row[FIRST])?, whole(row[LAST])?) {
            out.bounds = Some((first, last));
        }
        match whole(row[SEC])? {
            None => out.skipped = count(row[N])?,
            Some(second) => out
                .seconds
                .push((second, [count(row[N])?, count(row[THROTTLED])?])),
        }
    }
    if top > 0 {
        out.seconds.truncate(top);
    }
    Ok(out)
}

/// The aggregates: the second query's rows (binned by `bin_seconds`) and the first's.
pub fn aggregates(overview: &Overview, result: &ResultSet, bin_seconds: i64) -> Result<Aggregates> {
    let mut agg = Aggregates {
        kept: overview.kept,
        bounds: overview.bounds,
        bin_seconds: bin_seconds.max(1),
        seconds: overview.seconds.clone(),
        ..Aggregates::default()
    };
    const G: usize = position(&AGGREGATE_COLUMNS, "g");
    const BIN: usize = position(&AGGREGATE_COLUMNS, "bin");
    const ROUTE: usize = position(&AGGREGATE_COLUMNS, "route");
    const STAGE: usize = position(&AGGREGATE_COLUMNS, "stage");
    const STATUS: usize = position(&AGGREGATE_COLUMNS, "status");
    const API_KEY: usize = position(&AGGREGATE_COLUMNS, "api_key");
    const ERROR_TYPE: usize = position(&AGGREGATE_COLUMNS, "error_type");
    const ERROR_MESSAGE: usize = position(&AGGREGATE_COLUMNS, "error_message");
    const LATENCY: usize = position(&AGGREGATE_COLUMNS, "latency");
    const INTEGRATION: usize = position(&AGGREGATE_COLUMNS, "integration");
    const OVERHEAD: usize = position(&AGGREGATE_COLUMNS, "overhead");
    const N: usize = position(&AGGREGATE_COLUMNS, "n");
    const HITS: usize = position(&AGGREGATE_COLUMNS, "hits");
    const MISSES: usize = position(&AGGREGATE_COLUMNS, "misses");
    const TIMEOUTS: usize = position(&AGGREGATE_COLUMNS, "timeouts");
    let masks: Vec<u64> = SETS.iter().map(|s| grouping_mask(s)).collect();
    let code = |d: &mut Dictionary, name: Option<&str>| name.map_or(NONE, |n| d.code(n));
    for row in result.cells(&AGGREGATE_COLUMNS)? {
        let g = count(row[G])?;
        let Some(set) = masks.iter().position(|m| *m == g) else {
            bail!("a query result row belongs to no grouping set (grouping = {g})");
        };
        let n = count(row[N])?;
        let status = || -> Result<u16> {
            Ok(whole(row[STATUS])?.map_or(0, |s| u16::try_from(s).unwrap_or(0)))
        };
        if set <= 3 {
            let bin = whole(row[BIN])?.context("a grouped row has no time bin")?;
            let route = code(&mut agg.names.routes, row[ROUTE]);
            let stage = code(&mut agg.names.stages, row[STAGE]);
            let detail = &mut agg.latencies;
            match set {
                0 => {
                    let group: &mut Group = agg.groups.entry((bin, route, stage)).or_default();
                    group.count_status(status()?, n);
                    group.hits += count(row[HITS])?;
                    group.misses += count(row[MISSES])?;
                    detail.by_route.entry((route, stage)).or_default().requests += n;
                    detail.by_bin.entry(bin).or_default().requests += n;
                    detail
                        .by_bin_route
                        .entry((bin, route))
                        .or_default()
                        .requests += n;
                    let timeouts = count(row[TIMEOUTS])?;
                    if timeouts > 0 {
                        *agg.timeouts.entry(route).or_default() += timeouts;
                    }
                }
                _ => {
                    let column = match set {
                        1 => LATENCY,
                        2 => INTEGRATION,
                        _ => OVERHEAD,
                    };
                    if let Some(value) = number(row[column])? {
                        // The sections read latencies per route × stage, per bin, and
                        // response latency per bin × route (aggregate::LatencyDetail).
                        pick(detail.by_route.entry((route, stage)).or_default(), set)
                            .add_n(value, n);
                        pick(detail.by_bin.entry(bin).or_default(), set).add_n(value, n);
                        if set == 1 {
                            let by_bin_route = detail.by_bin_route.entry((bin, route)).or_default();
                            by_bin_route.latency.add_n(value, n);
                        }
                    }
                }
            }
            continue;
        }
        match set {
            4 => {
                let key = code(&mut agg.names.api_keys, row[API_KEY]);
                *agg.api_keys.entry((key, status()?)).or_default() += n;
            }
            5 => {
                if let Some(kind) = row[ERROR_TYPE] {
                    let kind = agg.names.types.code(kind);
                    *agg.types.entry((kind, status()?)).or_default() += n;
                }
            }
            _ => {
                if let Some(message) = row[ERROR_MESSAGE] {
                    let message = agg.names.messages.code(message);
                    *agg.messages.entry(message).or_default() += n;
                }
            }
        }
    }
    Ok(agg)
}

/// The histogram of grouping set `set` (1 latency, 2 integration, 3 overhead).
fn pick(latencies: &mut Latencies, set: usize) -> &mut Histogram {
    match set {
        1 => &mut latencies.latency,
        2 => &mut latencies.integration,
        _ => &mut latencies.overhead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(columns: &[&str], rows: &[&[Option<&str>]]) -> ResultSet {
        ResultSet {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.map(str::to_string)).collect())
                .collect(),
        }
    }

    #[test]
    fn overview_reads_skipped_lines_bounds_and_seconds() {
        let r = result(
            &OVERVIEW_COLUMNS,
            &[
                &[
                    None,
                    Some("3"),
                    Some("0"),
                    Some("10"),
                    Some("1000"),
                    Some("7200999"),
                ],
                &[
                    Some("5"),
                    Some("4"),
                    Some("2"),
                    Some("10"),
                    Some("1000"),
                    Some("7200999"),
                ],
                &[
                    Some("9"),
                    Some("2"),
                    Some("0"),
                    Some("10"),
                    Some("1000"),
                    Some("7200999"),
                ],
            ],
        );
        let o = overview(&r, 1).unwrap();
        assert_eq!(o.skipped, 3);
        assert_eq!(o.kept, 10);
        assert_eq!(o.bounds, Some((1000, 7_200_999)));
        assert_eq!(o.seconds, vec![(5, [4, 2])]);
        assert_eq!(o.bin_seconds(None), 60);
        assert_eq!(o.bin_seconds(Some(60)), 60);
    }

    #[test]
    fn rows_fill_groups_histograms_and_keyed_counts() {
        let cols = AGGREGATE_COLUMNS;
        let mask = |i: usize| grouping_mask(SETS[i]).to_string();
        let (m0, m1, m4, m5) = (mask(0), mask(1), mask(4), mask(5));
        let row = |g: &str, cells: [Option<&str>; 10], n: &str, extra: [&str; 3]| {
            let mut r = vec![Some(g.to_string())];
            r.extend(cells.iter().map(|c| c.map(str::to_string)));
            r.push(Some(n.to_string()));
            r.extend(extra.iter().map(|c| Some(c.to_string())));
            r
        };
        let none = None;
        let rs = ResultSet {
            columns: cols.iter().map(|c| c.to_string()).collect(),
            rows: vec![
                row(
                    &m0,
                    [
                        Some("600"),
                        Some("GET /a"),
                        Some("prod"),
                        Some("504"),
                        none,
                        none,
                        none,
                        none,
                        none,
                        none,
                    ],
                    "3",
                    ["0", "0", "2"],
                ),
                row(
                    &m0,
                    [
                        Some("600"),
                        Some("GET /a"),
                        Some("prod"),
                        Some("200"),
                        none,
                        none,
                        none,
                        none,
                        none,
                        none,
                    ],
                    "5",
                    ["4", "1", "0"],
                ),
                row(
                    &m1,
                    [
                        Some("600"),
                        Some("GET /a"),
                        Some("prod"),
                        none,
                        none,
                        none,
                        none,
                        Some("12.0"),
                        none,
                        none,
                    ],
                    "6",
                    ["0", "0", "0"],
                ),
                row(
                    &m1,
                    [
                        Some("600"),
                        Some("GET /a"),
                        Some("prod"),
                        none,
                        none,
                        none,
                        none,
                        None,
                        none,
                        none,
                    ],
                    "2",
                    ["0", "0", "0"],
                ),
                row(
                    &m4,
                    [none, none, none, None, None, none, none, none, none, none],
                    "8",
                    ["0", "0", "0"],
                ),
                row(
                    &m5,
                    [
                        none,
                        none,
                        none,
                        Some("429"),
                        none,
                        Some("THROTTLED"),
                        none,
                        none,
                        none,
                        none,
                    ],
                    "1",
                    ["0", "0", "0"],
                ),
            ],
        };
        let agg = aggregates(
            &Overview {
                kept: 8,
                ..Overview::default()
            },
            &rs,
            600,
        )
        .unwrap();
        assert_eq!(agg.groups.len(), 1);
        let group = agg.groups.values().next().unwrap();
        assert_eq!(group.requests(), 8);
        assert_eq!((group.hits, group.misses), (4, 1));
        let detail = agg.latencies.by_route.values().next().unwrap();
        assert_eq!(detail.latency.sorted(), vec![(12.0, 6)]);
        assert_eq!(detail.requests, 8);
        assert_eq!(agg.timeouts.values().sum::<u64>(), 2);
        assert_eq!(agg.api_keys.get(&(NONE, 0)), Some(&8));
        assert_eq!(agg.types.len(), 1);
        let bad = ResultSet {
            rows: vec![row("1", [none; 10], "1", ["0", "0", "0"])],
            ..rs
        };
        assert!(aggregates(&Overview::default(), &bad, 60).is_err());
    }
}
