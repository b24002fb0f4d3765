//! `gwstat fetch`: save what AWS holds (CloudWatch Logs) as files the offline commands read,
//! so an incident's data can be kept and re-analysed; `--resume` continues an interrupted
//! fetch. The same reader serves `gwstat report --log-group`.
//!
//! ```text
//! gwstat fetch --log-group API-Gateway-Access-Logs_abc/prod --since -1h -o incident/
//! gwstat report incident/
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Outcome;
use crate::aws::logs::{fetch_to_dir, LogQuery, Progress};
use crate::aws::{sdk_config, AwsArgs};
use crate::filter::TimeBound;

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
  gwstat report incident/")]
pub struct FetchArgs {
    /// What to read.
    #[command(flatten)]
    pub source: LogGroupArgs,

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

    /// Directory to write (one JSON file per slice, as `aws logs filter-log-events` writes).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Continue a fetch into DIR: finished slices are kept, the rest read again.
    #[arg(long)]
    pub resume: bool,

    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The absolute `[start, end)` in epoch ms of `--since`/`--until` for reading AWS: relative
/// times count from now, `--until +2h` from `--since`.
pub fn aws_range(since: &str, until: Option<&str>, now_ms: i64) -> Result<(i64, i64)> {
    let start = match TimeBound::parse(since)? {
        TimeBound::At(ms) => ms,
        TimeBound::Relative(d) => now_ms + d,
    };
    let end = match until.map(TimeBound::parse).transpose()? {
        None => now_ms,
        Some(TimeBound::At(ms)) => ms,
        Some(TimeBound::Relative(d)) => start + d,
    };
    if end <= start {
        bail!("--until must be after --since");
    }
    Ok((start, end))
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let progress = Arc::new(Progress::default());
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let total = query.slices().len();
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_message(format!(
                    "reading CloudWatch Logs: {} events, {} pages, {}/{total} slices",
                    progress.events.load(Ordering::Relaxed),
                    progress.pages.load(Ordering::Relaxed),
                    progress.slices.load(Ordering::Relaxed)
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    });
    let result = runtime.block_on(async {
        let config = sdk_config(&source.aws).await?;
        let client = aws_sdk_cloudwatchlogs::Client::new(&config);
        fetch_to_dir(
            &client,
            &query,
            dir,
            resume,
            source.parallel,
            progress.clone(),
        )
        .await
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(t) = ticker {
        let _ = t.join();
    }
    let (_, files) = result?;
    if !quiet {
        eprintln!(
            "gwstat: read {} events in {} pages from {} log group(s)",
            progress.events.load(Ordering::Relaxed),
            progress.pages.load(Ordering::Relaxed),
            source.log_groups.len()
        );
    }
    Ok(files)
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs `gwstat fetch`.
pub fn run(args: FetchArgs) -> Result<Outcome> {
    let range = aws_range(&args.since, args.until.as_deref(), now_ms())?;
    let files = fetch_logs(&args.source, range, &args.output, args.resume, args.quiet)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_relative_to_now() {
        let now = 1_795_518_000_000;
        assert_eq!(aws_range("-1h", None, now).unwrap(), (now - 3_600_000, now));
        assert_eq!(
            aws_range("2026-11-24T10:00Z", Some("+2h"), now).unwrap(),
            (1_795_514_400_000, 1_795_521_600_000)
        );
        assert!(aws_range("-1h", Some("-2h"), now).is_err());
    }
}
