//! `gwstat serve`: a real HTTP gateway around the reference core.
//!
//! ```text
//! gwstat serve --gateway gateway.toml --upstream http://127.0.0.1:9000 --listen 127.0.0.1:8080 \
//!     --access-log access.log
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::replay::load_gateway;
use super::Outcome;
use crate::decode::presets::{preset, PresetName};
use crate::decode::Template;
use crate::generate::REST_JSON_CUSTOM;
use crate::serve::{serve, Limits, ServeOptions};

/// Arguments of `gwstat serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  gwstat serve --gateway sample-logs/gateway.toml --upstream http://127.0.0.1:9000 --access-log access.log\n  curl -H 'x-api-key: k7dq2mx9pa' http://127.0.0.1:8080/prod/products"
)]
pub struct ServeArgs {
    /// Gateway configuration (gateway.toml or AWS CLI JSON, as for replay); default: the
    /// `[gateway] config` of gwstat.toml.
    #[arg(long = "gateway", value_name = "FILE")]
    pub configs: Vec<String>,

    /// The old spelling of --gateway, accepted for one more release with a warning.
    #[arg(long = "config", value_name = "FILE", hide = true)]
    pub old_config: Vec<String>,

    /// Backend to forward admitted requests to (http://host:port[/prefix]).
    #[arg(long, value_name = "URL")]
    pub upstream: String,

    /// Address to listen on (port 0 picks a free port, printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Write an access log here.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,

    /// Access-log format: a `$context` template, a preset name, or @FILE (default: a REST
    /// JSON format with latencies, error fields, API key ID and stage).
    #[arg(long, value_name = "FORMAT")]
    pub access_format: Option<String>,

    /// Stop after answering this many requests.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "S")]
    pub max_seconds: Option<u64>,

    /// Open client connections at most; beyond this, new connections get 503 and are closed.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,

    /// Seconds from a request's first byte to the end of its headers (slow senders are cut).
    #[arg(long, value_name = "S", default_value = "10")]
    pub header_timeout: f64,

    /// Seconds from the end of the headers to the end of the body (then 408).
    #[arg(long, value_name = "S", default_value = "30")]
    pub body_timeout: f64,

    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, value_name = "S", default_value = "60")]
    pub idle_timeout: f64,

    /// On SIGTERM/SIGINT, seconds in-flight requests get before connections are cut.
    #[arg(long, value_name = "S", default_value = "10")]
    pub shutdown_timeout: f64,

    /// MiB of request bodies held in memory at once, all connections together (a request
    /// that would exceed it gets 503).
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().body_memory >> 20)]
    pub body_memory: u64,

    /// MiB of stored responses per cached stage (the stage's cache size if smaller).
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().cache_memory >> 20)]
    pub cache_memory: u64,
}

fn seconds(flag: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("--{flag} must be a positive number of seconds, not {value}"))
}

/// Runs `gwstat serve`.
pub fn run(args: ServeArgs) -> Result<Outcome> {
    if args.configs.is_empty() {
        anyhow::bail!("give --gateway (a gateway.toml or AWS CLI JSON), or set [gateway] config in gwstat.toml");
    }
    let config = load_gateway(&args.configs)?;
    if !args.upstream.starts_with("http://") {
        bail!("--upstream must be an http:// URL (TLS upstreams are not supported)");
    }
    let upstream = args
        .upstream
        .parse()
        .with_context(|| format!("--upstream {:?} is not a URL", args.upstream))?;
    let access_format = match args.access_format.as_deref() {
        None => Template::parse(REST_JSON_CUSTOM)?,
        Some(value) => match PresetName::from_name(value) {
            Some(name) => Template::parse(preset(name))?,
            None => match value.strip_prefix('@') {
                Some(path) => Template::parse(
                    &std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {path}"))?,
                )?,
                None => Template::parse(value)?,
            },
        },
    };
    if args.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    let limits = Limits {
        max_connections: args.max_connections,
        header_timeout: seconds("header-timeout", args.header_timeout)?,
        body_timeout: seconds("body-timeout", args.body_timeout)?,
        idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
        shutdown_timeout: seconds("shutdown-timeout", args.shutdown_timeout)?,
        body_memory: args.body_memory << 20,
        cache_memory: args.cache_memory << 20,
    };
    // Accepting, signals and housekeeping; the connections are served by a thread per core
    // (see `gwstat::serve`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let summary = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let bound = listener.local_addr()?;
        eprintln!("gwstat: listening on http://{bound}");
        if let Some(warning) = exposure_warning(bound) {
            eprintln!("{warning}");
        }
        let max_seconds = args.max_seconds;
        let shutdown = async move {
            let deadline = async {
                match max_seconds {
                    Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = terminate() => {}
                () = deadline => {}
            }
        };
        serve(
            ServeOptions {
                listen: args.listen,
                upstream,
                config,
                access_format,
                access_log: args.access_log.clone(),
                max_requests: args.max_requests,
                limits,
            },
            listener,
            shutdown,
        )
        .await
    })?;
    let statuses: Vec<String> = summary
        .by_status
        .iter()
        .map(|(status, n)| format!("{status}: {n}"))
        .collect();
    eprintln!(
        "gwstat: served {} requests ({}); {} connections shed, {} cut at shutdown",
        summary.requests,
        statuses.join(", "),
        summary.shed,
        summary.cut
    );
    Ok(Outcome::Ok)
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

/// The warning for a listen address other hosts can reach.
fn exposure_warning(bound: SocketAddr) -> Option<String> {
    (!bound.ip().is_loopback()).then(|| {
        format!(
            "gwstat: warning: {} is not a loopback address: anyone who can reach it can use this \
             gateway, over plain HTTP. Put a TLS-terminating proxy in front \
             (docs/commands/serve.md, \"Running it in front of real traffic\").",
            bound.ip()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_loopback_addresses_are_warned_about() {
        for quiet in ["127.0.0.1:8080", "127.8.9.1:1", "[::1]:8080"] {
            assert_eq!(exposure_warning(quiet.parse().unwrap()), None, "{quiet}");
        }
        for loud in ["0.0.0.0:8080", "[::]:8080", "192.0.2.10:80"] {
            let warning = exposure_warning(loud.parse().unwrap()).unwrap();
            assert!(warning.contains("not a loopback address"), "{loud}");
        }
    }
}
