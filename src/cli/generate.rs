//! `gwstat generate`: deterministic, realistic sample access logs.
//!
//! ```text
//! gwstat generate --out-dir sample-logs/                 # the bundled samples
//! gwstat generate --format rest-json --requests 2000000 --seconds 86400 --output big.log
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::gateway::load_config;
use super::Outcome;
use crate::filter::TimeBound;
use crate::generate::traffic::ROUTES;
use crate::generate::workload::{write_workload, Cardinality, WorkloadOptions, STATUS_MIX};
use crate::generate::{
    envelopes, metrics::write_metrics, traces::write_traces, write_log, write_logs,
    GenerateOptions, SampleFormat, DEFAULT_SAMPLE_REQUESTS,
};

/// Arguments of `gwstat generate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat generate --out-dir sample-logs/
  gwstat generate --format rest-json --requests 2000000 --seconds 86400 -o big.log
  gwstat generate --format rest-json --requests 2000000 --seconds 86400 \\
    --routes 120 --stages 3 --api-keys 60 --statuses 14 -o realistic.log
  gwstat generate --format rest-json --requests 1000000 --routes 60 --raw-paths -o raw.log")]
pub struct GenerateArgs {
    /// Write one file per sample format into this directory.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["output", "format"])]
    pub out_dir: Option<PathBuf>,

    /// Write one log in this format (to --output or stdout).
    #[arg(long, value_enum)]
    pub format: Option<SampleFormat>,

    /// File for --format (default stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Baseline requests per file (the throttling burst adds more); default 4000.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,

    /// Length of the traffic window in seconds.
    #[arg(long, value_name = "S", default_value_t = 3600)]
    pub seconds: u64,

    /// First request time (RFC 3339).
    #[arg(long, value_name = "TIME", default_value = "2026-11-24T10:00:00Z")]
    pub start: String,

    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Leave out the few malformed lines.
    #[arg(long)]
    pub no_malformed: bool,

    /// Send the traffic through this gateway.toml instead of the sample configuration
    /// (what would these limits have done?).
    #[arg(long, value_name = "FILE")]
    pub gateway: Option<PathBuf>,

    /// Benchmark workload: distinct `METHOD resource` routes (with --format). Any of the
    /// cardinality flags writes exactly --requests lines of a workload of that shape, with
    /// statuses drawn from a fixed mix rather than decided by a gateway.
    #[arg(long, value_name = "N", help_heading = "Benchmark workload")]
    pub routes: Option<usize>,

    /// Benchmark workload: distinct stages.
    #[arg(long, value_name = "N", help_heading = "Benchmark workload")]
    pub stages: Option<usize>,

    /// Benchmark workload: distinct API keys (0: none).
    #[arg(long, value_name = "N", help_heading = "Benchmark workload")]
    pub api_keys: Option<usize>,

    /// Benchmark workload: distinct statuses, most common first (1–20).
    #[arg(long, value_name = "N", help_heading = "Benchmark workload")]
    pub statuses: Option<usize>,

    /// Benchmark workload: write each request's path with its ids (/users/8f14e45f-…) where
    /// the resource template goes.
    #[arg(long, help_heading = "Benchmark workload")]
    pub raw_paths: bool,
}

impl GenerateArgs {
    /// The benchmark workload's cardinality, when any of its flags is given.
    fn cardinality(&self) -> Option<Cardinality> {
        let given = self.routes.is_some()
            || self.stages.is_some()
            || self.api_keys.is_some()
            || self.statuses.is_some()
            || self.raw_paths;
        given.then(|| Cardinality {
            routes: self.routes.unwrap_or(ROUTES.len()),
            stages: self.stages.unwrap_or(2),
            api_keys: self.api_keys.unwrap_or(5),
            statuses: self.statuses.unwrap_or(8),
            raw_paths: self.raw_paths,
        })
    }
}

/// Runs `gwstat generate`.
pub fn run(args: GenerateArgs) -> Result<Outcome> {
    let start_ms = match TimeBound::parse(&args.start)? {
        TimeBound::At(ms) => ms,
        TimeBound::Relative(_) => bail!("--start must be an absolute time"),
    };
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    if let Some(cardinality) = args.cardinality() {
        return write_benchmark_workload(&args, cardinality, start_ms);
    }
    let gateway = args.gateway.as_deref().map(load_config).transpose()?;
    let options = |format: SampleFormat, seed_offset: u64| GenerateOptions {
        format,
        requests: args.requests.unwrap_or(DEFAULT_SAMPLE_REQUESTS),
        seconds: args.seconds,
        start_ms,
        seed: args.seed.wrapping_add(seed_offset),
        malformed: !args.no_malformed,
        gateway: gateway.clone(),
    };
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let toml_path = dir.join("gateway.toml");
        let toml = match &args.gateway {
            Some(path) => std::fs::read_to_string(path)?,
            None => options(SampleFormat::RestJson, 0).plan().gateway_toml(),
        };
        std::fs::write(&toml_path, toml)
            .with_context(|| format!("cannot write {}", toml_path.display()))?;
        // The REST traffic, also described by CloudWatch metrics and X-Ray traces.
        let mut rest_events = Vec::new();
        for (i, format) in SampleFormat::ALL.into_iter().enumerate() {
            let path = dir.join(format.file_name());
            let file =
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            // The REST JSON traffic also gets its execution log, exported to S3 (gzip).
            let mut execution = (format == SampleFormat::RestJson)
                .then(|| -> Result<_> {
                    let stream =
                        dir.join("execution-logs/export-task-1/072b030ba126b2f4b2374f342be9ed44");
                    std::fs::create_dir_all(&stream)
                        .with_context(|| format!("cannot create {}", stream.display()))?;
                    let file = File::create(stream.join("000000.gz"))?;
                    Ok(flate2::write::GzEncoder::new(
                        BufWriter::new(file),
                        flate2::Compression::default(),
                    ))
                })
                .transpose()?;
            let collect = (format == SampleFormat::RestJson).then_some(&mut rest_events);
            let written = write_logs(
                &options(format, i as u64),
                &mut out,
                execution.as_mut().map(|e| e as &mut dyn Write),
                collect,
            )
            .and_then(|w| out.flush().map(|()| w))
            .with_context(|| format!("cannot write {}", path.display()))?;
            if let Some(execution) = execution {
                execution.finish()?.flush()?;
            }
            eprintln!(
                "wrote {} ({} requests, {} malformed lines)",
                path.display(),
                written.requests,
                written.malformed
            );
        }
        // A further slice of REST traffic, delivered only inside CloudWatch envelopes.
        let mut extra = Vec::new();
        let envelope_options = GenerateOptions {
            requests: 600,
            malformed: false,
            ..options(SampleFormat::RestJson, 7)
        };
        let mut envelope_events = Vec::new();
        write_logs(
            &envelope_options,
            &mut extra,
            None,
            Some(&mut envelope_events),
        )?;
        let lines: Vec<(i64, String)> = String::from_utf8_lossy(&extra)
            .lines()
            .map(|line| {
                let time = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v["requestTimeEpoch"].as_str()?.parse().ok())
                    .unwrap_or(start_ms);
                (time, line.to_string())
            })
            .collect();
        let cloudwatch = dir.join("cloudwatch");
        let files = envelopes::write_envelopes(&cloudwatch, &lines)
            .with_context(|| format!("cannot write {}", cloudwatch.display()))?;
        eprintln!(
            "wrote {} ({} requests in {} CloudWatch delivery forms)",
            cloudwatch.display(),
            lines.len(),
            files.len()
        );
        // Metrics count every REST request of the API (both deliveries); traces sample the
        // requests of rest-api-json-custom.log, so they join with it by request id.
        let mut all_rest = rest_events.clone();
        all_rest.extend(envelope_events);
        all_rest.sort_by_key(|e| e.time_ms);
        let metrics_dir = dir.join("metrics");
        let files = write_metrics(&metrics_dir, &all_rest)
            .with_context(|| format!("cannot write {}", metrics_dir.display()))?;
        eprintln!("wrote {} ({})", metrics_dir.display(), files.join(", "));
        let traces_dir = dir.join("traces");
        let (files, traces) = write_traces(&traces_dir, &rest_events)
            .with_context(|| format!("cannot write {}", traces_dir.display()))?;
        eprintln!(
            "wrote {} ({traces} traces: {})",
            traces_dir.display(),
            files.join(", ")
        );
        return Ok(Outcome::Ok);
    }
    let Some(format) = args.format else {
        bail!("give --out-dir DIR, or --format FORMAT (with --output FILE or stdout)");
    };
    let options = options(format, 0);
    write_one(args.output.as_deref(), |out| {
        write_log(&options, out).map(drop)
    })
}

/// A benchmark workload (`--routes`, `--stages`, `--api-keys`, `--statuses`, `--raw-paths`).
fn write_benchmark_workload(
    args: &GenerateArgs,
    cardinality: Cardinality,
    start_ms: i64,
) -> Result<Outcome> {
    let Some(format) = args.format else {
        bail!("a benchmark workload (--routes, --stages, --api-keys, --statuses, --raw-paths) needs --format");
    };
    if args.out_dir.is_some() || args.gateway.is_some() {
        bail!("a benchmark workload is not sent through a gateway: drop --out-dir and --gateway");
    }
    if !(1..=STATUS_MIX.len()).contains(&cardinality.statuses) {
        bail!("--statuses takes 1 to {}", STATUS_MIX.len());
    }
    if cardinality.routes == 0 || cardinality.stages == 0 {
        bail!("--routes and --stages take at least 1");
    }
    let options = WorkloadOptions {
        format,
        requests: args.requests.unwrap_or(DEFAULT_SAMPLE_REQUESTS),
        seconds: args.seconds,
        start_ms,
        seed: args.seed,
        cardinality,
    };
    write_one(args.output.as_deref(), |out| {
        write_workload(&options, out).map(drop)
    })
}

/// Writes one log to `path`, or to stdout (a closed pipe ends quietly).
fn write_one(
    path: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Outcome> {
    match path {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            write(&mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            match write(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write to stdout")?,
            }
        }
    }
    Ok(Outcome::Ok)
}
