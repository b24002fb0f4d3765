//! Command-line definitions: one file per subcommand holding its clap arguments and `run`.

pub mod completions;
pub mod explain;
pub mod gateway;
pub mod generate;
pub mod inputs;
pub mod limits;
pub mod metrics;
pub mod output;
pub mod replay;
pub mod report;
pub mod serve;
pub mod traces;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 2: `--strict` and some input was not decoded.
    StrictViolation,
}

/// gwstat: reports on AWS API Gateway access logs.
#[derive(Debug, Parser)]
#[command(name = "gwstat", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report on access logs: latency, errors, throttling, timeouts, cache.
    Report(report::ReportArgs),
    /// Write deterministic, realistic sample access logs.
    Generate(generate::GenerateArgs),
    /// Check a gateway.toml or import one from AWS CLI output.
    Gateway(gateway::GatewayArgs),
    /// Replay access logs through the gateway core: predicted vs observed, what-if sweeps.
    Replay(replay::ReplayArgs),
    /// Suggest throttle limits from recorded traffic, proven by replay.
    Limits(limits::LimitsArgs),
    /// Report on CloudWatch metric files (get-metric-data, get-metric-statistics, CSV).
    Metrics(metrics::MetricsArgs),
    /// Report on X-Ray traces: gateway vs Lambda time per route, cold starts, downstream calls.
    Traces(traces::TracesArgs),
    /// Run a real HTTP gateway around the core, forwarding to an upstream.
    Serve(serve::ServeArgs),
    /// Tell one request's story from its access and execution logs.
    Explain(explain::ExplainArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Print the man page (or write all pages with --dir).
    Man(completions::ManArgs),
}

/// Runs the parsed command line and returns the process exit code
/// (0 ok, 1 error, 2 strict violation).
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Report(args) => report::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Gateway(args) => gateway::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Limits(args) => limits::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Traces(args) => traces::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::StrictViolation) => ExitCode::from(2),
        Err(error) => {
            eprintln!("gwstat: error: {error:#}");
            ExitCode::from(1)
        }
    }
}
