//! `gwstat fetch`: save what AWS holds (CloudWatch Logs, CloudWatch metrics, X-Ray traces)
//! as files the offline commands read, so an incident's data can be kept and re-analysed;
//! `--resume` continues an interrupted log fetch. The same readers serve
//! `gwstat report --log-group`, `gwstat metrics --api-name` and `gwstat traces --since`.
//!
//! ```text
//! gwstat fetch --log-group API-Gateway-Access-Logs_abc/prod --api-name shop-api --stage prod \
//!     --traces --since -1h -o incident/
//! gwstat report incident/
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;

use super::metrics::{read_cloudwatch, MetricSelection};
use super::traces::{read_xray, TraceSelection};
use super::window::{aws_range, now_ms};
use super::Outcome;
use crate::aws::logs::{fetch_to_dir, LogQuery};
use crate::aws::{run_with_progress, AwsArgs, Document, Progress};

/// Which log groups to read, and how.
#[derive(Debug, Clone, Default, Args)]
pub struct LogGroupArgs {
    /// Read this CloudWatch Logs group (repeatable) instead of files.
    #[arg(long = "log-group", value_name = "NAME")]
    pub log_groups: Vec<String>,

    /// Only log streams whose name starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub stream_prefix: Option<String>,

    /// Time slices per log group, read in parallel.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub slices: u32,

    /// Most slices read at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub parallel: usize,

    /// AWS connection.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `gwstat fetch`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat fetch --log-group API-Gateway-Access-Logs_k1k7gu3ct7/prod --since -1h -o incident/
  gwstat fetch --log-group API-Gateway-Execution-Logs_k1k7gu3ct7/prod --since 2026-11-24T10:00Z \\
      --until +2h -o incident/exec/ --profile prod-readonly --region eu-west-1
  gwstat fetch --log-group … -o incident/ --resume      # after an interruption
  gwstat fetch --log-group API-Gateway-Access-Logs_k1k7gu3ct7/prod --api-name shop-api \
      --stage prod --detailed --traces --since -2h -o incident/
  gwstat report incident/                 # logs, reconciled with incident/metrics/
  gwstat traces incident/traces/ incident/")]
pub struct FetchArgs {
    /// Which log groups to read (and the AWS connection).
    #[command(flatten)]
    pub source: LogGroupArgs,

    /// Which API's CloudWatch metrics to read (written to DIR/metrics/).
    #[command(flatten)]
    pub metrics: MetricSelection,

    /// Also read X-Ray traces of the range (written to DIR/traces/).
    #[arg(long)]
    pub traces: bool,

    /// Which traces.
    #[command(flatten)]
    pub trace_select: TraceSelection,

    /// Start: RFC 3339, or relative to now (-1h).
    #[arg(
        long,
        value_name = "TIME",
        default_value = "-1h",
        allow_hyphen_values = true
    )]
    pub since: String,

    /// End: RFC 3339, relative to --since (+2h), or now (default).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,

    /// Directory to write: logs as one JSON file per slice (as `aws logs filter-log-events`
    /// writes), metrics and traces in metrics/ and traces/ (as the AWS CLI writes).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Continue a fetch into DIR: finished log slices are kept, the rest read again (metrics
    /// and traces are read again whole).
    #[arg(long)]
    pub resume: bool,

    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Reads the log groups into `dir`; returns the slice files.
pub fn fetch_logs(
    source: &LogGroupArgs,
    range: (i64, i64),
    dir: &Path,
    resume: bool,
    quiet: bool,
) -> Result<Vec<PathBuf>> {
    if source.log_groups.is_empty() {
        bail!("give --log-group NAME");
    }
    let query = LogQuery {
        log_groups: source.log_groups.clone(),
        stream_prefix: source.stream_prefix.clone(),
        start_ms: range.0,
        end_ms: range.1,
        slices: source.slices.max(1),
    };
    let progress = Arc::new(Progress::default());
    let total = query.slices().len();
    let shared = progress.clone();
    let (_, files) = run_with_progress(
        &source.aws,
        quiet,
        progress.clone(),
        move |events, pages, slices| {
            format!(
                "reading CloudWatch Logs: {events} events, {pages} pages, {slices}/{total} slices"
            )
        },
        |config| async move {
            let client = aws_sdk_cloudwatchlogs::Client::new(&config);
            fetch_to_dir(&client, &query, dir, resume, source.parallel, shared).await
        },
    )?;
    if !quiet {
        eprintln!(
            "gwstat: read {} events in {} pages from {} log group(s)",
            progress.counts().0,
            progress.counts().1,
            source.log_groups.len()
        );
    }
    Ok(files)
}

/// Runs `gwstat fetch`.
pub fn run(args: FetchArgs) -> Result<Outcome> {
    let range = aws_range(&args.since, args.until.as_deref(), now_ms())?;
    let metrics = args.metrics.request(range)?;
    if args.source.log_groups.is_empty() && metrics.is_none() && !args.traces {
        bail!("nothing to fetch: give --log-group, --api-name/--api-id with --stage, or --traces");
    }
    let mut files = Vec::new();
    if !args.source.log_groups.is_empty() {
        files.extend(fetch_logs(
            &args.source,
            range,
            &args.output,
            args.resume,
            args.quiet,
        )?);
    }
    if let Some(request) = metrics {
        let documents = read_cloudwatch(request, &args.source.aws, args.quiet)?;
        files.extend(Document::write_all(
            &documents,
            &args.output.join("metrics"),
        )?);
    }
    if args.traces {
        let documents = read_xray(
            args.trace_select.request(range),
            &args.source.aws,
            args.quiet,
        )?;
        files.extend(Document::write_all(
            &documents,
            &args.output.join("traces"),
        )?);
    }
    if !args.quiet {
        eprintln!(
            "gwstat: wrote {} file(s) to {}; read them with gwstat report {}",
            files.len(),
            args.output.display(),
            args.output.display()
        );
    }
    Ok(Outcome::Ok)
}
