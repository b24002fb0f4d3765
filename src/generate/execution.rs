//! Execution-log lines for generated REST requests, as a CloudWatch Logs export to S3 writes
//! them (`<ISO-8601> (<requestId>) <message>`), with the line shapes of
//! `../shared/reference/formats.md` §2.2 and the same request IDs as the access log.

use std::io::{self, Write};

use chrono::DateTime;

use super::traffic::{Event, ROUTES};
use crate::gateway::Level;

const API_ID: &str = super::traffic::REST_API_ID;
const FUNCTION: &str =
    "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:shop-api/invocations";

fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn masked(key: Option<&str>) -> String {
    match key {
        Some(k) => format!("{}{}", "*".repeat(34), &k[k.len().saturating_sub(6)..]),
        None => String::new(),
    }
}

/// Writes the execution-log lines of one request.
pub fn write_execution(e: &Event, out: &mut dyn Write) -> io::Result<()> {
    let route = ROUTES[e.route];
    let (method, resource) = (route.method, route.resource);
    let id = &e.request_id;
    let stage = format!("{API_ID}/{}", e.stage);
    let key = masked(e.api_key);
    let mut t = e.time_ms;
    let mut line = |offset: i64, message: String| -> io::Result<()> {
        t += offset;
        writeln!(out, "{} ({id}) {message}", iso(t))
    };
    line(0, format!("Extended Request Id: {}", e.extended_request_id))?;
    line(
        0,
        format!("Verifying Usage Plan for request: {id}. API Key: {key} API Stage: {stage}"),
    )?;
    let completed = |status: u16| format!("Method completed with status: {status}");
    if resource == "/health" {
        line(0, format!("API Key {key} authorized because method '{method} {resource}' does not require API Key. Request will not contribute to throttle or quota limits"))?;
    }
    match (e.status, e.error_type, e.refused_by) {
        (403, Some("INVALID_API_KEY"), _) => {
            line(0, format!("API Key {key} not authorized because method '{method} {resource}' requires API Key and API Key is not associated with a Usage Plan for API Stage {stage}: No Usage Plan found for key and API Stage"))?;
            return line(0, completed(403));
        }
        (429, _, Some(Level::Quota)) => {
            line(0, format!("API Key {key} exceeded quota limit for API Stage {stage}: Key quota exhausted for Usage Plan ID partner"))?;
            return line(0, completed(429));
        }
        (429, _, Some(Level::UsagePlan | Level::UsagePlanMethod)) => {
            line(0, format!("API Key {key} exceeded throttle limit for API Stage {stage}: Key throttle limit exceeded for RestApi {API_ID}, Stage {}, Resource {resource}, HttpMethod {method}. Limit: 10.00 Burst: 20", e.stage))?;
            return line(0, completed(429));
        }
        // Stage and account throttling leave no documented execution line.
        (429, _, _) => return line(0, completed(429)),
        _ => {}
    }
    line(
        0,
        format!("Usage Plan check succeeded for API Key {key} and API Stage {stage}"),
    )?;
    line(1, format!("Starting execution for request: {id}"))?;
    line(
        0,
        format!("HTTP Method: {method}, Resource Path: {resource}"),
    )?;
    line(0, "Method request path: {}".to_string())?;
    if e.status == 400 {
        return line(0, completed(400));
    }
    let Some(integration) = e.integration_latency_ms else {
        // Answered from the stage cache: no integration call.
        line(0, "Successfully completed execution".to_string())?;
        return line(0, completed(e.status));
    };
    line(0, format!("Endpoint request URI: {FUNCTION}"))?;
    line(1, format!("Sending request to {FUNCTION}"))?;
    let integration = integration as i64;
    match e.status {
        504 => {
            line(
                integration,
                "Execution failed due to a timeout error".to_string(),
            )?;
            line(0, completed(504))
        }
        502 => {
            line(
                integration,
                format!("Received response. Status: 200, Integration latency: {integration} ms"),
            )?;
            if id.bytes().last().is_some_and(|b| b % 2 == 0) {
                line(
                    0,
                    "Execution failed due to configuration error: Malformed Lambda proxy response"
                        .to_string(),
                )?;
            } else {
                line(0, format!("Lambda execution failed with status 200 due to customer function error: Error: order store unavailable. Lambda request id: {}", e.extended_request_id))?;
            }
            line(0, completed(502))
        }
        status => {
            line(
                integration,
                format!(
                    "Received response. Status: {status}, Integration latency: {integration} ms"
                ),
            )?;
            line(0, "Successfully completed execution".to_string())?;
            line(0, completed(status))?;
            line(
                0,
                format!(
                    "AWS Integration Endpoint RequestId : {}",
                    e.extended_request_id
                ),
            )
        }
    }
}
