//! `gwstat report --engine insights`: the report's aggregations inside CloudWatch Logs
//! Insights, and `--dry-run` to see the queries.
//!
//! ```text
//! gwstat report --engine insights --log-group API-Gateway-Access-Logs_abc/prod --since -24h
//! gwstat report --engine insights --log-group … --since -7d --dry-run
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{bail, Result};

use super::report::{write_report, ReportArgs};
use super::window::{aws_range, now_ms};
use super::Outcome;
use crate::aggregate::bins::auto_bin_seconds;
use crate::analyze::AnalyzeOptions;
use crate::aws::insights::{run_queries, sample_messages, InsightsRun};
use crate::aws::{run_with_progress, Progress};
use crate::decode::DecodeOptions;
use crate::insights::assemble::assemble;
use crate::insights::keys::Keys;
use crate::insights::queries::{queries, Query, QueryOptions};
use crate::report::{InputFile, Inputs};

/// Events sampled per log group to find the keys of the access-log format.
const SAMPLE_EVENTS: i32 = 50;

/// What the insights engine cannot do (yet), as an error naming the flag.
fn check_supported(args: &ReportArgs) -> Result<()> {
    if args.aws.log_groups.is_empty() {
        bail!("--engine insights reads CloudWatch Logs: give --log-group NAME");
    }
    if !args.input.inputs.is_empty() {
        bail!("--engine insights reads --log-group, not files (use the default local engine)");
    }
    let unsupported = [
        (args.follow, "--follow"),
        (!args.compare.is_empty(), "--compare"),
        (!args.stage.is_empty(), "--stage"),
        (!args.route.is_empty(), "--route"),
        (!args.method.is_empty(), "--method"),
        (args.status.is_some(), "--status"),
        (!args.api_key.is_empty(), "--api-key"),
    ];
    if let Some((_, flag)) = unsupported.iter().find(|(on, _)| *on) {
        bail!("{flag} is not available with --engine insights; use the local engine");
    }
    Ok(())
}

/// The queries as `--dry-run` prints them.
pub fn dry_run_text(run: &InsightsRun, keys_note: &str, queries: &[Query]) -> String {
    let mut out = format!(
        "# Logs Insights queries for gwstat report over {}\n# from {} to {} (bin {}s); {}\n",
        run.log_groups.join(", "),
        crate::filter::rfc3339(run.start_ms),
        crate::filter::rfc3339(run.end_ms),
        run.bin_seconds,
        keys_note
    );
    for q in queries {
        out.push_str(&format!(
            "\n# {}{}\n{}\n",
            q.kind.name(),
            if q.splittable {
                " (split into shorter ranges when it reaches 10,000 rows)"
            } else {
                ""
            },
            q.text
        ));
    }
    out
}

/// Runs the report with `--engine insights`.
pub fn run(args: &ReportArgs, decode: &DecodeOptions) -> Result<Outcome> {
    check_supported(args)?;
    let range = aws_range(
        args.since.as_deref().unwrap_or("-1h"),
        args.until.as_deref(),
        now_ms(),
    )?;
    let bin_seconds = super::metrics::bin_seconds(args.bin.as_deref())?
        .unwrap_or_else(|| auto_bin_seconds((range.1 - range.0 + 999) / 1000));
    let run = InsightsRun {
        log_groups: args.aws.log_groups.clone(),
        start_ms: range.0,
        end_ms: range.1,
        bin_seconds,
        concurrency: args.insights_concurrency.max(1),
    };
    let options = QueryOptions {
        bin_seconds,
        top: args.top,
        timeout_ms: args.integration_timeout_ms,
    };
    let quiet = args.input.quiet;
    let progress = Arc::new(Progress::default());
    let dry_run = args.dry_run;
    let overrides = decode.fields.clone();
    let run_for_task = run.clone();
    let outcome = run_with_progress(
        &args.aws.aws,
        quiet || dry_run,
        progress.clone(),
        |rows, _, queries| format!("Logs Insights: {queries} queries done, {rows} rows"),
        |config| async move {
            let client = aws_sdk_cloudwatchlogs::Client::new(&config);
            let sample = sample_messages(&client, &run_for_task, SAMPLE_EVENTS).await;
            let (keys, note) = match sample {
                Ok(messages) if !messages.is_empty() => (
                    Keys::discover(messages.iter().map(String::as_str), &overrides)?,
                    format!("keys found in {} sampled events", messages.len()),
                ),
                Ok(_) if dry_run => (
                    Keys::defaults(&overrides),
                    "no events in the range: API Gateway's own key names assumed".to_string(),
                ),
                Ok(_) => bail!("no events in the log group(s) for this range"),
                Err(e) if dry_run => (
                    Keys::defaults(&overrides),
                    format!("keys not sampled ({e}): API Gateway's own key names assumed"),
                ),
                Err(e) => return Err(e),
            };
            let list = queries(&keys, &options);
            if dry_run {
                return Ok(Err(dry_run_text(&run_for_task, &note, &list)));
            }
            let (results, stats) = run_queries(&client, &run_for_task, &list, progress).await?;
            Ok(Ok((keys, results, stats)))
        },
    )?;
    let (keys, results, stats) = match outcome {
        Err(text) => {
            print!("{text}");
            return Ok(Outcome::Ok);
        }
        Ok(done) => done,
    };
    if !quiet {
        eprintln!(
            "gwstat: Logs Insights ran {} queries, scanned {} events ({:.1} MB)",
            stats.queries,
            stats.records_scanned as u64,
            stats.bytes_scanned / 1e6
        );
        for w in &stats.warnings {
            eprintln!("gwstat: warning: {w}");
        }
    }
    let analyze = AnalyzeOptions {
        top: args.top,
        timeout_ms: args.integration_timeout_ms,
        bin_seconds: Some(bin_seconds),
    };
    let inputs = Inputs {
        files: run
            .log_groups
            .iter()
            .map(|g| InputFile {
                name: g.clone(),
                format: "logs-insights".into(),
                records: 0,
                skipped: 0,
            })
            .collect(),
        records: 0,
        filtered_out: 0,
        skipped: 0,
        skipped_by_reason: BTreeMap::new(),
        skipped_samples: BTreeMap::new(),
        invalid_fields: 0,
        invalid_fields_by_reason: BTreeMap::new(),
        invalid_field_samples: BTreeMap::new(),
        request_source: Default::default(),
        objects_skipped: BTreeMap::new(),
    };
    let mut report = assemble(&results, &keys, inputs, bin_seconds, &analyze);
    report.inputs.records = report.summary.requests;
    if let [only] = report.inputs.files.as_mut_slice() {
        only.records = report.summary.requests;
    }
    if args.redact {
        crate::redact::report(&mut report);
    }
    write_report(&report, args)?;
    Ok(Outcome::Ok)
}
