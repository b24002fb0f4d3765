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

use super::fetch::LogGroupArgs;
use super::window::{aws_range, now_ms};
use crate::aggregate::bins::auto_bin_seconds;
use crate::analyze::AnalyzeOptions;
use crate::aws::insights::{run_queries, sample_messages, InsightsRun};
use crate::aws::{run_with_progress, Progress};
use crate::insights::assemble::assemble;
use crate::insights::keys::Keys;
use crate::insights::queries::{queries, Query, QueryOptions};
use crate::plan::ReportPlan;
use crate::report::{InputFile, Inputs, Report};

/// Events sampled per log group to find the keys of the access-log format.
const SAMPLE_EVENTS: i32 = 50;

/// What `--engine insights` reads, besides the plan.
#[derive(Debug)]
pub struct InsightsQuery<'a> {
    /// The log groups and the AWS connection.
    pub aws: &'a LogGroupArgs,
    /// `--since` (default: the last hour).
    pub since: Option<&'a str>,
    /// `--until` (default: now).
    pub until: Option<&'a str>,
    /// Most queries running at once.
    pub concurrency: usize,
    /// Print the queries and run nothing.
    pub dry_run: bool,
    /// Whether input files were given.
    pub files: bool,
    /// Options the engine cannot honour, each with its flag: an error when on.
    pub unsupported: [(bool, &'static str); 7],
}

/// What the insights engine cannot do (yet), as an error naming the flag.
fn check_supported(query: &InsightsQuery) -> Result<()> {
    if query.aws.log_groups.is_empty() {
        bail!("--engine insights reads CloudWatch Logs: give --log-group NAME");
    }
    if query.files {
        bail!("--engine insights reads --log-group, not files (use the default local engine)");
    }
    if let Some((_, flag)) = query.unsupported.iter().find(|(on, _)| *on) {
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

/// The report by `--engine insights`; `None` after a dry run (the queries printed).
pub fn run(plan: &ReportPlan, query: &InsightsQuery) -> Result<Option<Report>> {
    check_supported(query)?;
    let range = aws_range(query.since.unwrap_or("-1h"), query.until, now_ms())?;
    let bin_seconds = plan
        .analysis
        .bin_seconds
        .unwrap_or_else(|| auto_bin_seconds((range.1 - range.0 + 999) / 1000));
    let run = InsightsRun {
        log_groups: query.aws.log_groups.clone(),
        start_ms: range.0,
        end_ms: range.1,
        bin_seconds,
        concurrency: query.concurrency.max(1),
    };
    let options = QueryOptions {
        bin_seconds,
        top: plan.analysis.top,
        timeout_ms: plan.analysis.timeout_ms,
    };
    let quiet = plan.quiet;
    let progress = Arc::new(Progress::default());
    let dry_run = query.dry_run;
    let overrides = plan.decode.fields.clone();
    let run_for_task = run.clone();
    let outcome = run_with_progress(
        &query.aws.aws,
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
            return Ok(None);
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
        bin_seconds: Some(bin_seconds),
        ..plan.analysis
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
    if plan.redact {
        crate::redact::report(&mut report);
    }
    Ok(Some(report))
}
