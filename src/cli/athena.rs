//! `gwstat report --engine athena`: the report's aggregations as SQL inside Amazon Athena,
//! over an access-log archive in S3 (a table `--athena-create` can make), and `--dry-run` to
//! see the statements (`--athena-dialect duckdb`: the same ones for DuckDB over local files).
//!
//! ```text
//! gwstat report --engine athena --athena-table logs.api --athena-output s3://results/ --since -7d
//! gwstat report --engine athena --athena-table logs.api --athena-create s3://archive/api/ --dry-run
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;

use super::fetch::LogGroupArgs;
use super::window::{aws_range, now_ms};
use crate::aggregate::bins::auto_bin_seconds;
use crate::analyze::{build_report, AnalyzeOptions};
use crate::athena::assemble::{aggregates, overview};
use crate::athena::dialect::Dialect;
use crate::athena::sql::{self, table_columns, QueryOptions};
use crate::aws::athena::{run_query, AthenaRun, Scanned};
use crate::aws::{run_with_progress, Progress};
use crate::plan::ReportPlan;
use crate::report::{InputFile, Inputs, Report};

/// Athena's published price per TB scanned, US dollars
/// (<https://aws.amazon.com/athena/pricing/>).
const PRICE_PER_TB: f64 = 5.0;

/// Flags of `--engine athena`.
#[derive(Debug, Clone, Default, Args)]
pub struct AthenaArgs {
    /// With --engine athena: the table of access-log lines (DATABASE.TABLE), as
    /// --athena-create makes it.
    #[arg(long, value_name = "DB.TABLE")]
    pub athena_table: Option<String>,

    /// With --engine athena: create the table first (if it does not exist) over this
    /// `s3://bucket/prefix/` holding Firehose's `YYYY/MM/DD/HH/` objects: OpenX JSON SerDe,
    /// partition projection by hour (with --athena-dialect duckdb: a view over local files).
    #[arg(long, value_name = "LOCATION")]
    pub athena_create: Option<String>,

    /// With --engine athena: the workgroup the queries run in (default: primary).
    #[arg(long, value_name = "NAME")]
    pub athena_workgroup: Option<String>,

    /// With --engine athena: where Athena writes results, `s3://bucket/prefix/` (default:
    /// the workgroup's result location).
    #[arg(long, value_name = "S3_URL")]
    pub athena_output: Option<String>,

    /// With --engine athena: stop a query (StopQueryExecution) once it has scanned more
    /// than this many bytes (suffixes KB, MB, GB, TB: powers of 1000).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub athena_max_bytes: Option<u64>,

    /// With --engine athena: the price per TB scanned, US dollars, for the cost line
    /// (Athena's published price when this was written; each query is billed at least
    /// 10 MB).
    #[arg(long, value_name = "USD", default_value_t = PRICE_PER_TB)]
    pub athena_price_per_tb: f64,

    /// With --engine athena --dry-run: the SQL dialect to print (`duckdb`: the same
    /// queries for DuckDB over local files, with --athena-create naming the files).
    #[arg(long, value_enum, value_name = "DIALECT", default_value_t = Dialect::Athena)]
    pub athena_dialect: Dialect,
}

/// A byte count: a whole number with an optional KB, MB, GB or TB suffix (powers of 1000).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_uppercase();
    let (digits, scale) = [
        ("TB", 1e12),
        ("GB", 1e9),
        ("MB", 1e6),
        ("KB", 1e3),
        ("B", 1.0),
    ]
    .iter()
    .find_map(|(suffix, scale)| t.strip_suffix(suffix).map(|d| (d.trim(), *scale)))
    .unwrap_or((t.as_str(), 1.0));
    match digits.parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok((v * scale).round() as u64),
        _ => Err(format!(
            "expected bytes such as 500000000, 500MB or 2GB, not {text:?}"
        )),
    }
}

/// What `--engine athena` needs besides the plan: its flags and the report flags it reads
/// or refuses (built by `cli/report.rs`).
pub struct AthenaQuery<'a> {
    /// The `--athena-*` flags.
    pub athena: &'a AthenaArgs,
    /// The AWS connection (and any log groups, which this engine refuses).
    pub aws: &'a LogGroupArgs,
    /// `--since` (default with `--until` alone: an hour before it).
    pub since: Option<&'a str>,
    /// `--until`.
    pub until: Option<&'a str>,
    /// Print the statements and run nothing.
    pub dry_run: bool,
    /// Whether input files were given.
    pub files: bool,
    /// Options the engine cannot honour, each with its flag: an error when on.
    pub unsupported: [(bool, &'static str); 8],
}

/// What the athena engine cannot do, as an error naming the flag.
fn check_supported(query: &AthenaQuery) -> Result<()> {
    let a = query.athena;
    if a.athena_table.is_none() {
        bail!("--engine athena needs --athena-table DATABASE.TABLE");
    }
    if query.files || !query.aws.log_groups.is_empty() {
        bail!("--engine athena reads --athena-table, not files or log groups");
    }
    if let Some((_, flag)) = query.unsupported.iter().find(|(on, _)| *on) {
        bail!("{flag} is not available with --engine athena; use the local engine");
    }
    if let Some(location) = &a.athena_create {
        if a.athena_dialect == Dialect::Athena && !location.starts_with("s3://") {
            bail!("--athena-create {location}: expected the archive's s3://bucket/prefix/");
        }
    }
    if query.dry_run && a.athena_dialect == Dialect::Duckdb {
        return Ok(());
    }
    if a.athena_dialect != Dialect::Athena {
        bail!("--athena-dialect duckdb only prints the SQL: add --dry-run");
    }
    Ok(())
}

/// Runs the report with `--engine athena`: the report, or `None` after `--dry-run` printed
/// the statements.
pub fn run(plan: &ReportPlan, query: &AthenaQuery) -> Result<Option<Report>> {
    check_supported(query)?;
    let a = query.athena;
    let table = a.athena_table.clone().unwrap_or_default();
    let now = now_ms();
    let window = match (query.since, query.until) {
        (None, None) => None,
        (since, until) => Some(aws_range(since.unwrap_or("-1h"), until, now)?),
    };
    let fixed_bin = plan.analysis.bin_seconds;
    let options = QueryOptions {
        table: table.clone(),
        dialect: a.athena_dialect,
        window,
        top: plan.analysis.top,
        timeout_ms: plan.analysis.timeout_ms,
        now_ms: now,
    };
    let create = a.athena_create.as_ref().map(|location| {
        a.athena_dialect
            .create_table(&table, location, &table_columns(&plan.decode.fields))
    });
    if query.dry_run {
        let bin = fixed_bin
            .or_else(|| window.map(|(s, e)| auto_bin_seconds((e - s + 999) / 1000)))
            .unwrap_or(60);
        let mut out = format!(
            "-- gwstat report --engine athena over {table}: {} statements\n\n",
            2 + usize::from(create.is_some())
        );
        if let Some(create) = &create {
            out.push_str(&format!("-- the table\n{create};\n\n"));
        }
        out.push_str(&format!(
            "-- busiest seconds, requests kept, unplaced lines, first and last request\n{};\n\n",
            sql::overview(&options)
        ));
        out.push_str(&format!(
            "-- the aggregates, in {bin}-second bins{}\n{};\n",
            if fixed_bin.is_some() || window.is_some() {
                ""
            } else {
                " (when run: the width the first query's range gives)"
            },
            sql::aggregates(&options, bin)
        ));
        print!("{out}");
        return Ok(None);
    }
    let run = AthenaRun {
        workgroup: a.athena_workgroup.clone(),
        output: a.athena_output.clone(),
        max_bytes: a.athena_max_bytes,
    };
    let progress = Arc::new(Progress::default());
    let task_progress = progress.clone();
    let (first, bin_seconds, result, scanned) = run_with_progress(
        &query.aws.aws,
        plan.quiet,
        progress,
        |rows, _, queries| format!("Athena: {queries} queries done, {rows} rows"),
        |config| async move {
            let client = aws_sdk_athena::Client::new(&config);
            let mut scanned = Scanned::default();
            if let Some(create) = &create {
                run_query(&client, &run, create, "create table", &task_progress).await?;
            }
            let (rows, bytes) = run_query(
                &client,
                &run,
                &sql::overview(&options),
                "overview",
                &task_progress,
            )
            .await?;
            scanned.add(bytes);
            let first = overview(&rows, options.top)?;
            let bin_seconds = first.bin_seconds(fixed_bin);
            let (rows, bytes) = run_query(
                &client,
                &run,
                &sql::aggregates(&options, bin_seconds),
                "aggregates",
                &task_progress,
            )
            .await?;
            scanned.add(bytes);
            Ok((first, bin_seconds, rows, scanned))
        },
    )?;
    let agg = aggregates(&first, &result, bin_seconds)?;
    if !plan.quiet {
        eprintln!("gwstat: {}", cost_line(&scanned, a.athena_price_per_tb));
    }
    let analyze = AnalyzeOptions {
        bin_seconds: Some(bin_seconds),
        ..plan.analysis
    };
    let records = first.kept + first.skipped;
    let mut skipped_by_reason = BTreeMap::new();
    if first.skipped > 0 {
        skipped_by_reason.insert(
            "no plausible request time, or a status or latency that is not a number".to_string(),
            first.skipped,
        );
    }
    let inputs = Inputs {
        files: vec![InputFile {
            name: table,
            format: "athena".into(),
            records,
            skipped: first.skipped,
        }],
        records,
        filtered_out: 0,
        skipped: first.skipped,
        skipped_by_reason,
        skipped_samples: BTreeMap::new(),
        invalid_fields: 0,
        invalid_fields_by_reason: BTreeMap::new(),
        invalid_field_samples: BTreeMap::new(),
        request_source: Default::default(),
        objects_skipped: BTreeMap::new(),
    };
    let mut report = build_report(agg, inputs, &analyze);
    if plan.redact {
        crate::redact::report(&mut report);
    }
    Ok(Some(report))
}

/// What the queries scanned and cost.
fn cost_line(scanned: &Scanned, price_per_tb: f64) -> String {
    format!(
        "Athena ran {} queries, scanned {} bytes ({:.1} MB; billed {} MB at 10 MB minimum per \
         query): ${:.4} at ${price_per_tb} per TB",
        scanned.queries,
        scanned.bytes,
        scanned.bytes as f64 / 1e6,
        scanned.billed_bytes / 1_000_000,
        scanned.billed_bytes as f64 / 1e12 * price_per_tb
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_limits_and_cost() {
        assert_eq!(parse_bytes("500000000"), Ok(500_000_000));
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("1.5 tb"), Ok(1_500_000_000_000));
        assert!(parse_bytes("lots").is_err());
        let mut s = Scanned::default();
        s.add(1_000_000_000_000);
        s.add(500_000_000_000);
        assert_eq!(
            cost_line(&s, 5.0),
            "Athena ran 2 queries, scanned 1500000000000 bytes (1500000.0 MB; billed 1500000 \
             MB at 10 MB minimum per query): $7.5000 at $5 per TB"
        );
    }
}
