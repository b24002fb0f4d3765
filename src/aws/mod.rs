//! Reading straight from AWS (CloudWatch Logs, CloudWatch metrics, X-Ray, Logs Insights,
//! API Gateway's configuration, S3 archives):
//! the standard credential chain, `--profile`, `--region`, `--endpoint-url` (and
//! `AWS_ENDPOINT_URL`), the SDK's adaptive retry with backoff for throttling, 5xx and dropped
//! connections, and per-attempt timeouts. Credentials are never printed or logged.

pub mod apigateway;
pub mod athena;
pub mod errors;
pub mod insights;
pub mod logs;
pub mod metrics;
pub(crate) mod s3;
pub mod traces;

use std::future::Future;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use anyhow::{bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use clap::Args;

pub use errors::describe_error;

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS profile (default: AWS_PROFILE, then the default credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region (default: AWS_REGION / the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Send requests here instead of AWS (a local emulator, a VPC endpoint); also
    /// AWS_ENDPOINT_URL.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Most attempts per AWS call (throttling, 5xx and dropped connections are retried with
    /// backoff).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_attempts: u32,
}

/// Loads the SDK configuration.
pub async fn sdk_config(args: &AwsArgs) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(args.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        bail!("no AWS region: give --region, or set AWS_REGION or a region in the profile");
    }
    Ok(config)
}

/// Counts for the progress line of a long AWS read.
#[derive(Debug, Default)]
pub struct Progress {
    /// Items read (log events, datapoints, traces).
    pub items: AtomicU64,
    /// Pages (API responses) read.
    pub pages: AtomicU64,
    /// Parts (slices, batches, queries) finished.
    pub parts: AtomicU64,
}

impl Progress {
    /// Adds one page of `items` items.
    pub fn page(&self, items: usize) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
    }

    /// Marks one part finished.
    pub fn part_done(&self) {
        self.parts.fetch_add(1, Ordering::Relaxed);
    }

    /// `(items, pages, parts)` now.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.items.load(Ordering::Relaxed),
            self.pages.load(Ordering::Relaxed),
            self.parts.load(Ordering::Relaxed),
        )
    }
}

/// Runs `work` with the SDK configuration on a fresh async runtime, showing a spinner on
/// stderr (unless `quiet` or stderr is not a terminal) whose text `describe` makes from the
/// progress counts.
pub fn run_with_progress<T, F, Fut>(
    aws: &AwsArgs,
    quiet: bool,
    progress: Arc<Progress>,
    describe: impl Fn(u64, u64, u64) -> String + Send + 'static,
    work: F,
) -> Result<T>
where
    F: FnOnce(SdkConfig) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        std::thread::spawn(move || {
            while !bar.is_finished() {
                let (items, pages, parts) = progress.counts();
                bar.set_message(describe(items, pages, parts));
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    });
    let result = runtime.block_on(async {
        let config = sdk_config(aws).await?;
        work(config).await
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(t) = ticker {
        let _ = t.join();
    }
    result
}

/// One file's worth of what was read from AWS, in the shape the AWS CLI writes (and every
/// offline command reads).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// File name, or a path relative to the directory the documents are saved in.
    pub name: String,
    /// JSON text.
    pub bytes: Vec<u8>,
}

impl Document {
    /// A document holding `value` as pretty JSON.
    pub fn json(name: impl Into<String>, value: &serde_json::Value) -> Document {
        Document {
            name: name.into(),
            bytes: serde_json::to_vec_pretty(value).expect("JSON values serialize"),
        }
    }

    /// Writes the documents into `dir` (created if needed, with the subdirectories their
    /// names hold), each whole or not at all.
    pub fn write_all(
        documents: &[Document],
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut paths = Vec::new();
        for doc in documents {
            let path = dir.join(&doc.name);
            let parent = path.parent().unwrap_or(dir);
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            let tmp = parent.join(format!(".{file_name}.part"));
            std::fs::write(&tmp, &doc.bytes)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            paths.push(path);
        }
        Ok(paths)
    }
}
