//! `gwstat export`: the request table as a Parquet or CSV file, for Athena, Spark, DuckDB,
//! polars or a spreadsheet — every decoded request, one row each, names instead of
//! dictionary codes. The format follows the `-o` extension; `--format` that contradicts it is
//! refused.
//!
//! ```text
//! gwstat export sample-logs/ -o requests.parquet
//! gwstat export sample-logs/ -o requests.csv
//! duckdb -c "select route, count(*) from 'requests.parquet' group by route"
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use polars::prelude::{Column, DataFrame, DataType, IntoColumn, PolarsResult, StringChunked};
use polars_io::parquet::write::{ParquetCompression, ParquetWriter};

use super::inputs::InputArgs;
use super::output::write_file_atomically;
use super::Outcome;
use crate::ingest::{ingest, IngestOptions};
use crate::model::{col, RequestTable};

/// File formats `gwstat export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd-compressed; strings dictionary-encoded).
    Parquet,
    /// CSV (RFC 4180: a header row, CRLF line ends, fields quoted when they need it;
    /// a missing value is an empty field).
    Csv,
}

impl ExportFormat {
    /// The file name extension of the format, without the dot.
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }

    /// The format a file name's extension names (case-insensitive), if any.
    fn of_path(path: &Path) -> Option<ExportFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        [ExportFormat::Parquet, ExportFormat::Csv]
            .into_iter()
            .find(|f| f.extension() == extension)
    }

    /// The format to write `output` in: the one its extension names; `given` (--format) must
    /// agree with it, and is needed when the extension names none.
    fn resolve(output: &Path, given: Option<ExportFormat>) -> Result<ExportFormat> {
        let shown = output.display();
        match (ExportFormat::of_path(output), given) {
            (Some(named), Some(given)) if named != given => bail!(
                "-o {shown} ends in .{} but --format is {}: name the file {} or give \
                 --format {} (or drop --format: the extension decides)",
                named.extension(),
                given.extension(),
                output.with_extension(given.extension()).display(),
                named.extension(),
            ),
            (Some(format), _) | (None, Some(format)) => Ok(format),
            (None, None) => bail!(
                "cannot tell the file format from -o {shown}: end the name in .parquet or \
                 .csv, or give --format parquet|csv"
            ),
        }
    }
}

/// Arguments of `gwstat export`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat export sample-logs/ -o requests.parquet
  gwstat export sample-logs/ -o requests.csv
  gwstat export access.log --format csv -o /dev/stdout | head
  gwstat export 'logs/*.gz' --field status=http_status -o staging/requests.parquet
  duckdb -c \"select route, quantile_cont(latency_ms, 0.99) from 'requests.parquet' group by 1\"

Exit codes: 0 ok, 1 failure (an error, a refused input, skipped lines with --strict), 2 usage error.")]
pub struct ExportArgs {
    /// Inputs and how to decode them.
    #[command(flatten)]
    pub input: InputArgs,

    /// AWS connection for `s3://` inputs.
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,

    /// File format; default: the one the -o extension names (.parquet, .csv). A --format
    /// that contradicts the extension is refused.
    #[arg(short, long, value_enum)]
    pub format: Option<ExportFormat>,

    /// File to write; its extension (.parquet or .csv) picks the format.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// Exit with status 1 if any line could not be decoded or any value was implausible
    /// (an invalid field, exported as empty); the file is still written.
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
pub(crate) fn run(args: ExportArgs) -> Result<Outcome> {
    // Before reading any input: a wrong name is cheap to fix, a long ingest is not.
    let format = ExportFormat::resolve(&args.output, args.format)?;
    let inputs = args.input.inputs(&args.aws)?;
    let ingested = ingest(
        &inputs,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: false,
        },
    )?;
    let skipped = ingested.skipped.total();
    let invalid = ingested.invalid.total();
    let table =
        RequestTable::build(ingested.columns, None).context("building the request table")?;
    let mut frame = named_frame(&table).context("naming the coded columns")?;
    write_file_atomically(&args.output, |out| match format {
        ExportFormat::Parquet => ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut frame)
            .map(drop)
            .map_err(io::Error::other),
        ExportFormat::Csv => write_csv(&frame, out),
    })?;
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
        if invalid > 0 {
            eprintln!("gwstat: {invalid} implausible value(s) left out (exported as empty)");
        }
    }
    if args.strict && skipped + invalid > 0 {
        return Ok(Outcome::StrictViolation);
    }
    Ok(Outcome::Ok)
}

/// A milliseconds value as text: at most 3 decimals (what access logs carry), without
/// trailing zeros, so `472.71000000000004` is written `472.71` and `332.0` is `332`.
fn ms_text(value: f64, text: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(text, "{value:.3}");
    let kept = text.trim_end_matches('0').trim_end_matches('.').len();
    text.truncate(kept);
}

/// One column's values, typed, as the CSV writer reads them row by row.
fn cells(column: &Column) -> PolarsResult<Box<dyn Iterator<Item = Cell<'_>> + '_>> {
    Ok(match column.dtype() {
        DataType::Int64 => Box::new(
            column
                .i64()?
                .iter()
                .map(|v| v.map_or(Cell::Null, Cell::Int)),
        ),
        DataType::UInt32 => Box::new(
            column
                .u32()?
                .iter()
                .map(|v| v.map_or(Cell::Null, |v| Cell::Int(i64::from(v)))),
        ),
        DataType::Float64 => Box::new(column.f64()?.iter().map(|v| v.map_or(Cell::Null, Cell::Ms))),
        _ => Box::new(
            column
                .str()?
                .iter()
                .map(|v| v.map_or(Cell::Null, Cell::Text)),
        ),
    })
}

/// A value of the exported table.
enum Cell<'a> {
    /// A missing value: an empty field.
    Null,
    /// An integer (times, status).
    Int(i64),
    /// Milliseconds (latencies).
    Ms(f64),
    /// A name (stage, route, key, …).
    Text(&'a str),
}

/// Writes `frame` as RFC 4180 CSV: a header of the column names, then one record per row.
fn write_csv(frame: &DataFrame, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(frame.get_column_names().iter().map(|n| n.as_str()))?;
    let mut columns = frame
        .columns()
        .iter()
        .map(cells)
        .collect::<PolarsResult<Vec<_>>>()
        .map_err(io::Error::other)?;
    let mut text = String::new();
    for _ in 0..frame.height() {
        for column in &mut columns {
            text.clear();
            match column.next() {
                Some(Cell::Int(v)) => text.push_str(&v.to_string()),
                Some(Cell::Ms(v)) => ms_text(v, &mut text),
                Some(Cell::Text(v)) => text.push_str(v),
                Some(Cell::Null) | None => {}
            }
            writer.write_field(&text)?;
        }
        writer.write_record(std::iter::empty::<&[u8]>())?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format_and_a_contradiction_is_refused() {
        let resolve = |path: &str, given| ExportFormat::resolve(Path::new(path), given);
        assert_eq!(resolve("a/r.csv", None).unwrap(), ExportFormat::Csv);
        assert_eq!(resolve("r.PARQUET", None).unwrap(), ExportFormat::Parquet);
        let given = Some(ExportFormat::Csv);
        assert_eq!(resolve("r.csv", given).unwrap(), ExportFormat::Csv);
        assert_eq!(resolve("/dev/stdout", given).unwrap(), ExportFormat::Csv);
        let err = resolve("out.csv", Some(ExportFormat::Parquet)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "-o out.csv ends in .csv but --format is parquet: name the file out.parquet or \
             give --format csv (or drop --format: the extension decides)"
        );
        let err = resolve("out.dat", None).unwrap_err();
        assert!(
            err.to_string().contains("end the name in .parquet or .csv"),
            "{err}"
        );
    }

    #[test]
    fn milliseconds_keep_at_most_three_decimals() {
        let text = |v| {
            let mut t = String::new();
            ms_text(v, &mut t);
            t
        };
        assert_eq!(text(472.71000000000004), "472.71");
        assert_eq!(text(332.0), "332");
        assert_eq!(text(0.0005), "0.001");
        assert_eq!(text(-3.25), "-3.25");
        assert_eq!(text(0.0), "0");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_leaves_missing_values_empty() {
        use polars::prelude::*;
        let frame = DataFrame::new(
            2,
            vec![
                Int64Chunked::from_slice("time_ms".into(), &[1, 2]).into_column(),
                UInt32Chunked::from_iter_options("status".into(), [Some(200), None].into_iter())
                    .into_column(),
                Float64Chunked::from_iter_options(
                    "latency_ms".into(),
                    [Some(10.5), None].into_iter(),
                )
                .into_column(),
                Series::new("error_message".into(), [Some("said \"no\", twice"), None])
                    .into_column(),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        write_csv(&frame, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time_ms,status,latency_ms,error_message\r\n\
             1,200,10.5,\"said \"\"no\"\", twice\"\r\n\
             2,,,\r\n"
        );
    }
}
