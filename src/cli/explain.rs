//! `gwstat explain REQUEST_ID INPUTS…`: one request's story from its access-log record and
//! its execution-log lines, ending in a one-sentence verdict.
//!
//! ```text
//! gwstat explain 6d5f8fb5-9330-48b7-a3d7-7291dd488abb access.log exec/
//! ```

use std::io::Write;

use anyhow::{bail, Result};
use clap::Args;

use super::inputs::InputArgs;
use super::Outcome;
use crate::aggregate::rules::{cache_hit, timeout_reached};
use crate::decode::execution::Execution;
use crate::facts::{status_meaning, REST_INTEGRATION_TIMEOUT_MS};
use crate::filter::rfc3339;
use crate::ingest::{ingest, IngestOptions};
use crate::model::RequestColumns;

/// Arguments of `gwstat explain`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  gwstat explain b7d6ce71-1f56-41b9-8568-52a20d247f58 sample-logs/
  gwstat explain REQUEST_ID access.log execution-logs/")]
pub struct ExplainArgs {
    /// The request ID (`$context.requestId`).
    pub request_id: String,

    /// Inputs and how to decode them (access logs and execution logs, any envelope).
    #[command(flatten)]
    pub input: InputArgs,

    /// AWS connection for `s3://` inputs.
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,

    /// Mask client IPs, API keys and user identities (docs: README, Secrets).
    #[arg(long)]
    pub redact: bool,
}

/// The access-log facts of one request.
struct AccessFacts {
    time_ms: i64,
    route: Option<String>,
    stage: Option<String>,
    status: Option<u16>,
    latency_ms: Option<f64>,
    integration_latency_ms: Option<f64>,
    error_type: Option<String>,
    error_message: Option<String>,
    api_key: Option<String>,
}

fn access_facts(columns: &RequestColumns, id: &str) -> Option<AccessFacts> {
    let row = columns
        .request_id
        .iter()
        .position(|r| r.as_deref() == Some(id))?;
    let name = |c: &crate::model::CodedColumn| c.name(row).map(str::to_string);
    Some(AccessFacts {
        time_ms: columns.time_ms[row],
        route: name(&columns.route),
        stage: name(&columns.stage),
        status: columns.status(row),
        latency_ms: columns.latency(row),
        integration_latency_ms: columns.integration_latency(row),
        error_type: name(&columns.error_type),
        error_message: name(&columns.error_message),
        api_key: name(&columns.api_key),
    })
}

fn thousands(ms: f64) -> String {
    let n = ms.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The verdict in one sentence.
fn verdict(access: Option<&AccessFacts>, execution: Option<&Execution>) -> String {
    let status = access
        .and_then(|a| a.status)
        .or_else(|| execution.and_then(|e| e.status));
    let Some(status) = status else {
        return "no status was logged for this request".to_string();
    };
    let integration = access
        .and_then(|a| a.integration_latency_ms)
        .or_else(|| execution.and_then(|e| e.integration_latency_ms));
    let error_type = access.and_then(|a| a.error_type.as_deref());
    let cause = execution.and_then(|e| e.cause.as_deref());
    let timed_out = timeout_reached(status, integration, error_type, REST_INTEGRATION_TIMEOUT_MS)
        || cause.is_some_and(|c| c.contains("timeout"));
    match (status, error_type, cause) {
        (503 | 504, _, _) if timed_out => match integration {
            Some(ms) => format!(
                "{status} because the integration timed out after {} ms",
                thousands(ms)
            ),
            None => format!("{status} because the integration timed out"),
        },
        (429, Some("QUOTA_EXCEEDED"), _) | (429, _, Some("API key quota exhausted")) => {
            "429 because the API key's usage-plan quota was exhausted".to_string()
        }
        (429, _, Some(cause)) => format!("429 because of the {cause}"),
        (429, _, _) => {
            "429 because a throttle limit (usage plan, method, stage or account) refused it"
                .to_string()
        }
        (403, Some("INVALID_API_KEY"), _) => {
            "403 because the API key was missing or invalid for this stage".to_string()
        }
        (_, _, Some(cause)) if status >= 400 => format!("{status} because of a {cause}"),
        (200..=299, _, _) => {
            let method = access
                .and_then(|a| a.route.as_deref())
                .and_then(|r| r.split_once(' '))
                .map(|(method, _)| method);
            let latency = access.and_then(|a| a.latency_ms);
            match (integration, cache_hit(method, status, latency, integration)) {
                (_, Some(true)) => {
                    format!("{status} served from the stage cache (no integration call)")
                }
                (Some(ms), _) if ms > 0.0 => {
                    format!("{status} from the integration after {} ms", thousands(ms))
                }
                _ => format!("{status} ({})", status_meaning(status)),
            }
        }
        _ => status_meaning(status).to_string(),
    }
}

/// Runs `gwstat explain`.
pub fn run(args: ExplainArgs) -> Result<Outcome> {
    let ingested = ingest(
        &args.input.inputs(&args.aws)?,
        &IngestOptions {
            decode: args.input.decode_options()?,
            quiet: args.input.quiet,
            keep_request_ids: true,
        },
    )?;
    let id = args.request_id.trim();
    let access = access_facts(&ingested.columns, id);
    let execution = ingested.executions.by_request.get(id);
    if access.is_none() && execution.is_none() {
        bail!("request {id} is in none of the inputs ({} access-log records, {} requests in execution logs)", ingested.columns.len(), ingested.executions.by_request.len());
    }
    // Written whole, then wrapped to the width.
    let mut out: Vec<u8> = Vec::new();
    writeln!(out, "Request {id}")?;
    match &access {
        Some(a) => {
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v} ms"));
            writeln!(
                out,
                "  access log: {}  {} [{}]  status {}  latency {}  integration {}{}{}",
                rfc3339(a.time_ms),
                a.route.as_deref().unwrap_or("-"),
                a.stage.as_deref().unwrap_or("-"),
                a.status.map_or("-".to_string(), |s| s.to_string()),
                ms(a.latency_ms),
                ms(a.integration_latency_ms),
                a.error_type
                    .as_deref()
                    .map_or(String::new(), |t| format!("  {t}")),
                a.error_message
                    .as_deref()
                    .map_or(String::new(), |m| format!(" \"{m}\"")),
            )?;
            if let Some(key) = &a.api_key {
                let key = if args.redact {
                    crate::redact::api_key(key)
                } else {
                    key.clone()
                };
                writeln!(out, "  api key: {key}")?;
            }
        }
        None => writeln!(out, "  access log: no record with this requestId")?,
    }
    match execution {
        Some(e) => {
            writeln!(out, "  execution log ({} lines):", e.lines.len())?;
            let first = e.lines.iter().find_map(|(t, _)| *t);
            for (time, message) in &e.lines {
                let offset = match (time, first) {
                    (Some(t), Some(f)) => format!("+{} ms", t - f),
                    _ => "      ".to_string(),
                };
                let message = if args.redact {
                    crate::redact::text(message)
                } else {
                    message.clone()
                };
                writeln!(out, "    {offset:>9}  {message}")?;
            }
        }
        None => writeln!(out, "  execution log: none for this requestId")?,
    }
    writeln!(out, "  verdict: {}", verdict(access.as_ref(), execution))?;
    super::output::print_wrapped(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(
        status: u16,
        integration: Option<f64>,
        error_type: Option<&str>,
        route: &str,
    ) -> AccessFacts {
        AccessFacts {
            time_ms: 0,
            route: Some(route.into()),
            stage: Some("prod".into()),
            status: Some(status),
            latency_ms: Some(10.0),
            integration_latency_ms: integration,
            error_type: error_type.map(String::from),
            error_message: None,
            api_key: None,
        }
    }

    #[test]
    fn verdicts_read_like_the_docs() {
        assert_eq!(
            verdict(
                Some(&access(
                    504,
                    Some(29000.0),
                    Some("INTEGRATION_TIMEOUT"),
                    "GET /x"
                )),
                None
            ),
            "504 because the integration timed out after 29,000 ms"
        );
        assert_eq!(
            verdict(
                Some(&access(429, None, Some("QUOTA_EXCEEDED"), "GET /x")),
                None
            ),
            "429 because the API key's usage-plan quota was exhausted"
        );
        assert_eq!(
            verdict(Some(&access(200, None, None, "GET /products")), None),
            "200 served from the stage cache (no integration call)"
        );
        let e = Execution {
            cause: Some("malformed Lambda proxy response".into()),
            ..Execution::default()
        };
        assert_eq!(
            verdict(Some(&access(502, Some(30.0), None, "POST /x")), Some(&e)),
            "502 because of a malformed Lambda proxy response"
        );
    }
}
