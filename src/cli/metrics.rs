//! `gwstat metrics`: CloudWatch metrics — files from the AWS CLI, or read straight from
//! CloudWatch with GetMetricData — to a per-stage report.
//!
//! ```text
//! gwstat metrics sample-logs/metrics/
//! gwstat metrics get-metric-data.json --metric-query queries.json --bin 5m --format json
//! gwstat metrics --api-name shop-api --stage prod --detailed --since -3h
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::output::DocumentOutputArgs;
use super::window::{aws_range, now_ms};
use super::Outcome;
use crate::aws::metrics::{fetch_metrics, parse_statistics, ApiRef, MetricsRequest};
use crate::aws::{run_with_progress, AwsArgs, Document, Progress};
use crate::filter::parse_duration_ms;
use crate::kind::{classify_all, Classified, InputKind};
use crate::metrics::analyze::{build_metrics_report, MetricsOptions, MetricsSource};

use crate::metrics::decode::{decode, sniff, sniff_query};
use crate::metrics::load::load_metrics;
use crate::metrics::naming::Queries;
use crate::source::expand;

/// Arguments of `gwstat metrics`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat metrics sample-logs/metrics/
  aws cloudwatch get-metric-data --metric-data-queries file://q.json \\
      --start-time 2026-11-24T10:00Z --end-time 2026-11-24T11:00Z > data.json
  gwstat metrics data.json --metric-query q.json --bin 5m --format json
  gwstat metrics --api-name shop-api --stage prod --since -3h          # from CloudWatch
  gwstat metrics --api-id a1b2c3d4e5 --stage '$default' --detailed --since 2026-11-24T10:00Z \
      --until +2h --period 300 --save incident/metrics/ --profile prod-readonly

Exit codes: 0 ok, 1 failure (an error, an unusable point or row with --strict), 2 usage error.")]
pub struct MetricsArgs {
    /// Metric files (get-metric-data or get-metric-statistics JSON, or CSV), directories,
    /// globs, or `-` for stdin. Other files in a directory are skipped with a note. None
    /// with --api-name/--api-id: read CloudWatch.
    #[arg(value_name = "INPUT", required_unless_present_any = ["api_name", "api_id"])]
    pub inputs: Vec<String>,

    /// Which API's metrics to read from CloudWatch.
    #[command(flatten)]
    pub select: MetricSelection,

    /// Start when reading CloudWatch: RFC 3339, or relative to now (-3h).
    #[arg(
        long,
        value_name = "TIME",
        default_value = "-3h",
        allow_hyphen_values = true
    )]
    pub since: String,

    /// End when reading CloudWatch: RFC 3339, relative to --since (+2h), or now (default).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,

    /// Also save what was read from CloudWatch into DIR (files `gwstat metrics DIR` reads).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,

    /// AWS connection.
    #[command(flatten)]
    pub aws: AwsArgs,

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

    /// No progress or notes on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which API's metrics to read from CloudWatch (GetMetricData).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MetricSelection {
    /// Read CloudWatch metrics of this REST API (its name, the `ApiName` dimension).
    #[arg(long, value_name = "NAME", conflicts_with = "api_id")]
    pub api_name: Option<String>,

    /// Read CloudWatch metrics of this HTTP API (its id, the `ApiId` dimension).
    #[arg(long, value_name = "ID")]
    pub api_id: Option<String>,

    /// Stages to read (repeatable or comma-separated; HTTP APIs' default stage is
    /// `$default`).
    #[arg(long = "stage", value_name = "STAGE", value_delimiter = ',')]
    pub stages: Vec<String>,

    /// Also per resource and method (REST) or route (HTTP): detailed CloudWatch metrics,
    /// found with ListMetrics.
    #[arg(long)]
    pub detailed: bool,

    /// Period of the datapoints, seconds (60 or a multiple; 1, 5, 10, 30 for high
    /// resolution).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub period: i32,

    /// Statistics of Latency and IntegrationLatency (counts are read as Sum).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "Average,p50,p90,p99,Maximum"
    )]
    pub statistics: String,
}

impl MetricSelection {
    /// The request for `range`, or `None` when no API was named.
    pub fn request(&self, range: (i64, i64)) -> Result<Option<MetricsRequest>> {
        let api = match (&self.api_name, &self.api_id) {
            (Some(name), _) => ApiRef::Rest(name.clone()),
            (None, Some(id)) => ApiRef::Http(id.clone()),
            (None, None) => return Ok(None),
        };
        if self.stages.is_empty() {
            bail!("give --stage STAGE with --api-name/--api-id");
        }
        let period_ok =
            matches!(self.period, 1 | 5 | 10 | 30) || (self.period >= 60 && self.period % 60 == 0);
        if !period_ok {
            bail!(
                "--period {}: CloudWatch accepts 1, 5, 10, 30 or a multiple of 60 seconds",
                self.period
            );
        }
        Ok(Some(MetricsRequest {
            api,
            stages: self.stages.clone(),
            detailed: self.detailed,
            start_ms: range.0,
            end_ms: range.1,
            period: self.period,
            latency_stats: parse_statistics(&self.statistics)?,
        }))
    }
}

/// Reads metrics from CloudWatch (GetMetricData, batched and paginated) with a progress line.
pub fn read_cloudwatch(
    request: MetricsRequest,
    aws: &AwsArgs,
    quiet: bool,
) -> Result<Vec<Document>> {
    let progress = Arc::new(Progress::default());
    let documents = run_with_progress(
        aws,
        quiet,
        progress.clone(),
        |points, pages, batches| {
            format!(
                "reading CloudWatch metrics: {points} datapoints, {pages} pages, {batches} batches"
            )
        },
        |config| async move {
            let client = aws_sdk_cloudwatch::Client::new(&config);
            fetch_metrics(&client, &request, &progress).await
        },
    )?;
    Ok(documents)
}

/// Decodes documents read from CloudWatch (query files first, as for files).
pub fn decode_documents(documents: &[Document]) -> Result<Vec<MetricsSource>> {
    let mut queries = Queries::default();
    for doc in documents.iter().filter(|d| sniff_query(&d.bytes)) {
        queries.add(&String::from_utf8_lossy(&doc.bytes))?;
    }
    documents
        .iter()
        .filter_map(|doc| sniff(&doc.bytes).map(|shape| (doc, shape)))
        .map(|(doc, shape)| {
            let decoded = decode(&doc.name, &doc.bytes, shape, &queries)?;
            Ok(MetricsSource {
                name: doc.name.clone(),
                shape: shape.as_str().to_string(),
                series: decoded.series,
                skipped: decoded.skipped,
                warnings: decoded.warnings,
            })
        })
        .collect()
}

/// The metric files among `inputs` (classified once: [`crate::kind`]), decoded; query files
/// among them (such as a `queries.json` kept beside the results) are added to `queries`
/// first. Other inputs are returned apart (stdin among them: it is read as logs).
pub fn read_metric_inputs(
    inputs: &[Classified],
    queries: &mut Queries,
) -> Result<(Vec<MetricsSource>, Vec<Classified>)> {
    let mut metric_files = Vec::new();
    let mut others = Vec::new();
    for c in inputs {
        match c.kind {
            InputKind::Metrics(shape) => metric_files.push((&c.input, shape)),
            InputKind::MetricQueries => {
                let mut text = String::new();
                crate::source::open(&c.input, |_| {})?
                    .read_to_string(&mut text)
                    .with_context(|| format!("cannot read {}", c.input.name()))?;
                queries
                    .add(&text)
                    .with_context(|| format!("{} (read as metric queries)", c.input.name()))?;
            }
            _ => others.push(c.clone()),
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
    let bin = bin_seconds(args.bin.as_deref())?;
    let range = aws_range(&args.since, args.until.as_deref(), now_ms())?;
    let (sources, others) = match args.select.request(range)? {
        Some(request) => {
            if !args.inputs.is_empty() {
                bail!("give metric files or --api-name/--api-id, not both");
            }
            let documents = read_cloudwatch(request, &args.aws, args.quiet)?;
            if let Some(dir) = &args.save {
                Document::write_all(&documents, dir)?;
            }
            (decode_documents(&documents)?, Vec::new())
        }
        None => {
            let mut queries = Queries::load(&args.metric_query)?;
            let inputs = expand(&args.inputs)?;
            read_metric_inputs(&classify_all(&inputs)?, &mut queries)?
        }
    };
    if sources.is_empty() {
        bail!(
            "no metrics files among the inputs (expected aws cloudwatch get-metric-data or \
             get-metric-statistics JSON, or a timestamp,metric,dimensions,stat,value CSV)"
        );
    }
    if !args.quiet {
        for other in &others {
            eprintln!(
                "gwstat: {}: not a metrics file; skipped",
                other.input.name()
            );
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
        args.quiet,
    )
}
