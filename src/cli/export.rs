//! `gwstat export`: the request table as a Parquet file, for Athena, Spark, DuckDB or
//! polars — every decoded request, one row each, names instead of dictionary codes.
//!
//! ```text
//! gwstat export sample-logs/ -o requests.parquet
//! duckdb -c "select route, count(*) from 'requests.parquet' group by route"
//! ```

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use polars::prelude::{DataFrame, IntoColumn, PolarsResult, StringChunked};
use polars_io::parquet::write::{ParquetCompression, ParquetWriter};

use super::inputs::InputArgs;
use super::Outcome;
use crate::ingest::{ingest, IngestOptions};
use crate::model::{col, RequestTable};

/// File formats `gwstat export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd-compressed; strings dictionary-encoded).
    Parquet,
}

/// Arguments of `gwstat export`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat export sample-logs/ -o requests.parquet
  gwstat export 'logs/*.gz' --field status=http_status -o staging/requests.parquet
  duckdb -c \"select route, quantile_cont(latency_ms, 0.99) from 'requests.parquet' group by 1\"

Exit codes: 0 ok, 1 failure (an error, a refused input, skipped lines with --strict), 2 usage error.")]
pub struct ExportArgs {
    /// Inputs and how to decode them.
    #[command(flatten)]
    pub input: InputArgs,

    /// File format.
    #[arg(short, long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,

    /// File to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// Exit with status 1 if any line could not be decoded (the file is still written).
    #[arg(long)]
    pub strict: bool,
}

/// The columns written, in order: the request table's, with names for coded columns.
pub const EXPORT_COLUMNS: [&str; 12] = [
    col::TIME_MS,
    col::SECOND,
    col::STAGE,
    col::METHOD,
    col::ROUTE,
    col::STATUS,
    col::LATENCY,
    col::INTEGRATION_LATENCY,
    col::OVERHEAD,
    col::API_KEY,
    col::ERROR_TYPE,
    col::ERROR_MESSAGE,
];

/// The request table with every coded column turned back into its names.
pub fn named_frame(table: &RequestTable) -> PolarsResult<DataFrame> {
    let d = &table.dictionaries;
    let coded = [
        (col::STAGE, &d.stage),
        (col::METHOD, &d.method),
        (col::ROUTE, &d.route),
        (col::API_KEY, &d.api_key),
        (col::ERROR_TYPE, &d.error_type),
        (col::ERROR_MESSAGE, &d.error_message),
    ];
    let mut columns = Vec::new();
    for name in EXPORT_COLUMNS {
        let column = table.frame.column(name)?;
        match coded.iter().find(|(n, _)| *n == name) {
            Some((_, dictionary)) => {
                let codes = column.u32()?;
                let names: StringChunked = codes
                    .iter()
                    .map(|c| c.map(|c| dictionary.name(c)))
                    .collect();
                columns.push(names.with_name(name.into()).into_column());
            }
            None => columns.push(column.clone()),
        }
    }
    DataFrame::new(table.len(), columns)
}

/// Runs `gwstat export`.
pub fn run(args: ExportArgs) -> Result<Outcome> {
    let inputs = args.input.inputs()?;
    let ingested = ingest(
        &inputs,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: false,
        },
    )?;
    let skipped = ingested.skipped.total();
    let table =
        RequestTable::build(ingested.columns, None).context("building the request table")?;
    let mut frame = named_frame(&table).context("naming the coded columns")?;
    let file = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    match args.format {
        ExportFormat::Parquet => {
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut frame)
                .with_context(|| format!("cannot write {}", args.output.display()))?;
        }
    }
    if !args.input.quiet {
        eprintln!(
            "gwstat: wrote {} request(s) to {}{}",
            frame.height(),
            args.output.display(),
            if skipped > 0 {
                format!(" ({skipped} line(s) could not be decoded)")
            } else {
                String::new()
            }
        );
    }
    if args.strict && skipped > 0 {
        return Ok(Outcome::StrictViolation);
    }
    Ok(Outcome::Ok)
}
