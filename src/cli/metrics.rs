//! `gwstat metrics`: CloudWatch metric files (from the AWS CLI) to a per-stage report.
//!
//! ```text
//! gwstat metrics sample-logs/metrics/
//! gwstat metrics get-metric-data.json --metric-query queries.json --bin 5m --format json
//! ```

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::output::DocumentOutputArgs;
use super::Outcome;
use crate::filter::parse_duration_ms;
use crate::metrics::analyze::{build_metrics_report, MetricsOptions, MetricsSource};
use crate::metrics::decode::{sniff, sniff_query};
use crate::metrics::load::{head, load_metrics};
use crate::metrics::naming::Queries;
use crate::source::{expand, Input};

/// Arguments of `gwstat metrics`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat metrics sample-logs/metrics/
  aws cloudwatch get-metric-data --metric-data-queries file://q.json \\
      --start-time 2026-11-24T10:00Z --end-time 2026-11-24T11:00Z > data.json
  gwstat metrics data.json --metric-query q.json --bin 5m --format json")]
pub struct MetricsArgs {
    /// Metric files (get-metric-data or get-metric-statistics JSON, or CSV), directories,
    /// globs, or `-` for stdin. Other files in a directory are skipped with a note.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// The queries given to the AWS CLI (`--metric-data-queries` JSON, or a
    /// get-metric-statistics `--cli-input-json`), naming each series' metric, statistic and
    /// dimensions. Repeatable. Query files among the inputs are recognised and used too.
    /// Without either, Label/Id naming conventions are used.
    #[arg(long, value_name = "FILE")]
    pub metric_query: Vec<PathBuf>,

    /// Time bin width (30s, 1m, 5m, 1h); default: the data's own period.
    #[arg(long, value_name = "DURATION")]
    pub bin: Option<String>,

    /// Output choices.
    #[command(flatten)]
    pub out: DocumentOutputArgs,
}

/// The metric files among `inputs`, decoded; query files among them (such as a
/// `queries.json` kept beside the results) are added to `queries` first. Other files are
/// returned apart, and so is stdin (it cannot be looked at twice; it is read as logs).
pub fn read_metric_inputs(
    inputs: &[Input],
    queries: &mut Queries,
) -> Result<(Vec<MetricsSource>, Vec<Input>)> {
    let mut metric_files = Vec::new();
    let mut others = Vec::new();
    for input in inputs {
        if *input == Input::Stdin {
            others.push(input.clone());
            continue;
        }
        let head = head(input)?;
        if let Some(shape) = sniff(&head) {
            metric_files.push((input, shape));
        } else if sniff_query(&head) {
            let mut text = String::new();
            crate::source::open(input, |_| {})?
                .read_to_string(&mut text)
                .with_context(|| format!("cannot read {}", input.name()))?;
            queries
                .add(&text)
                .with_context(|| format!("{} (read as metric queries)", input.name()))?;
        } else {
            others.push(input.clone());
        }
    }
    let sources = metric_files
        .into_iter()
        .map(|(input, shape)| load_metrics(input, shape, queries))
        .collect::<Result<_>>()?;
    Ok((sources, others))
}

/// Parses `--bin`.
pub fn bin_seconds(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| match parse_duration_ms(t) {
        Some(ms) if ms >= 1000 && ms % 1000 == 0 => Ok(ms / 1000),
        _ => bail!("--bin {t}: expected a whole number of seconds or more, such as 60s, 5m or 1h"),
    })
    .transpose()
}

/// Runs `gwstat metrics`.
pub fn run(args: MetricsArgs) -> Result<Outcome> {
    let mut queries = Queries::load(&args.metric_query)?;
    let bin = bin_seconds(args.bin.as_deref())?;
    let inputs = expand(&args.inputs)?;
    let (sources, others) = read_metric_inputs(&inputs, &mut queries)?;
    if sources.is_empty() {
        bail!(
            "no metrics files among the inputs (expected aws cloudwatch get-metric-data or \
             get-metric-statistics JSON, or a timestamp,metric,dimensions,stat,value CSV)"
        );
    }
    if !args.out.quiet {
        for other in &others {
            eprintln!("gwstat: {}: not a metrics file; skipped", other.name());
        }
    }
    let report = build_metrics_report(
        sources,
        &MetricsOptions {
            bin_seconds: bin,
            top: args.out.top,
        },
    );
    args.out.finish(
        &report,
        &report.inputs.warnings,
        report.inputs.skipped,
        "point(s) or row(s)",
    )
}
