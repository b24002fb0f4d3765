//! Command-line definitions: one file per subcommand holding its clap arguments and `run`.

pub(crate) mod athena;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod explain;
pub mod export;
pub(crate) mod fetch;
pub(crate) mod follow;
pub(crate) mod gateway;
pub(crate) mod generate;
pub(crate) mod inputs;
pub(crate) mod insights;
pub(crate) mod limits;
pub(crate) mod metrics;
pub(crate) mod output;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod settings;
pub(crate) mod terminal;
pub(crate) mod traces;
pub(crate) mod window;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: `--strict` and some input was not decoded (the output is still written).
    StrictViolation,
    /// Exit 1: some inputs were refused (not API Gateway logs); the rest were reported.
    Refused,
}

/// gwstat: reports on AWS API Gateway access logs.
#[derive(Debug, Parser)]
#[command(
    name = "gwstat",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 ok; 1 failure (a runtime or AWS error, an input refused as not an \
                  API Gateway log, input that could not be used with --strict); 2 usage error \
                  (unknown flag, bad value)."
)]
pub(crate) struct Cli {
    /// Settings file (gwstat.toml); default: GWSTAT_CONFIG, ./gwstat.toml, then
    /// $XDG_CONFIG_HOME/gwstat/gwstat.toml.
    #[arg(long = "config", value_name = "FILE", global = false)]
    pub settings: Option<std::path::PathBuf>,

    /// Fit tables and text to N columns (0 = no limit); default: COLUMNS, then the
    /// terminal's width, then 100 when piped. Columns of least value go first, long routes
    /// lose their middle (GET /orders/…/items).
    #[arg(long, global = true, value_name = "N", value_parser = terminal::parse_width)]
    pub width: Option<u16>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Report on access logs: latency, errors, throttling, timeouts, cache.
    Report(Box<report::ReportArgs>),
    /// Write deterministic, realistic sample access logs.
    Generate(generate::GenerateArgs),
    /// Check a gateway.toml or import one from AWS CLI output.
    Gateway(gateway::GatewayArgs),
    /// Replay access logs through the gateway core: predicted vs observed, what-if sweeps.
    Replay(replay::ReplayArgs),
    /// Suggest throttle limits from recorded traffic, proven by replay.
    Limits(limits::LimitsArgs),
    /// Save CloudWatch Logs, metrics and X-Ray traces as files the offline commands read.
    Fetch(fetch::FetchArgs),
    /// Write the request table as Parquet or CSV (for Athena, Spark, DuckDB, a spreadsheet).
    Export(export::ExportArgs),
    /// Report on CloudWatch metric files (get-metric-data, get-metric-statistics, CSV).
    Metrics(metrics::MetricsArgs),
    /// Report on X-Ray traces: gateway vs Lambda time per route, cold starts, downstream calls.
    Traces(traces::TracesArgs),
    /// Run a real HTTP gateway around the core, forwarding to an upstream.
    Serve(serve::ServeArgs),
    /// Tell one request's story from its access and execution logs.
    Explain(explain::ExplainArgs),
    /// Show the settings in force (gwstat.toml) and where each came from.
    Config(config::ConfigArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Print the man page (or write all pages with --dir).
    Man(completions::ManArgs),
}

/// Parses the process's arguments, applies gwstat.toml defaults to flags not given, and runs
/// the command.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    accept_old_gateway_flag(&mut cli);
    if let Err(error) = apply_settings(&mut cli, &matches) {
        eprintln!("gwstat: error: {error:#}");
        return ExitCode::from(1);
    }
    // Commands that handle Ctrl-C themselves: follow mode (final report), serve (graceful
    // stop), HTTP replay.
    let own_handler = match &cli.command {
        Command::Report(args) => args.follow,
        Command::Serve(_) => true,
        Command::Replay(args) => args.target.is_some(),
        _ => false,
    };
    if !own_handler {
        output::exit_cleanly_on_interrupt();
    }
    run(cli)
}

/// Moves gateway files given with the old spelling `--config` (replay, limits suggest, serve)
/// to `--gateway`, warning on stderr that the spelling goes away: `--config` now means only
/// the gwstat.toml settings file.
fn accept_old_gateway_flag(cli: &mut Cli) {
    let (name, files, old) = match &mut cli.command {
        Command::Replay(args) => ("replay", &mut args.configs, &mut args.old_config),
        Command::Limits(args) => {
            let limits::LimitsCommand::Suggest(args) = &mut args.command;
            ("limits suggest", &mut args.configs, &mut args.old_config)
        }
        Command::Serve(args) => ("serve", &mut args.configs, &mut args.old_config),
        _ => return,
    };
    if !old.is_empty() {
        eprintln!(
            "gwstat: warning: `{name} --config FILE` is deprecated and stops working in the next \
             release: give the gateway file with --gateway FILE (--config names the gwstat.toml \
             settings file, before the subcommand)"
        );
        files.append(old);
    }
}

/// Fills flags the user did not give from the settings file.
fn apply_settings(cli: &mut Cli, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    if matches!(
        cli.command,
        Command::Config(_) | Command::Completions(_) | Command::Man(_)
    ) {
        return Ok(());
    }
    let loaded = settings::load(cli.settings.as_deref())?;
    let s = &loaded.settings;
    let Some((_, sub)) = matches.subcommand() else {
        return Ok(());
    };
    let gateway = || {
        s.gateway
            .config
            .as_ref()
            .map(|p| vec![p.display().to_string()])
            .unwrap_or_default()
    };
    match &mut cli.command {
        Command::Report(args) => {
            s.apply_input(&mut args.input, sub);
            settings::fill(&mut args.top, &s.report.top, sub, "top");
            settings::fill(&mut args.format, &s.report.format, sub, "format");
            settings::fill(
                &mut args.integration_timeout_ms,
                &s.report.integration_timeout_ms,
                sub,
                "integration_timeout_ms",
            );
            settings::fill(&mut args.color, &s.report.color, sub, "color");
            if args.bin.is_none() {
                args.bin = s.report.bin.clone();
            }
            *args.settings = s.clone();
        }
        Command::Metrics(args) => {
            settings::fill(&mut args.out.top, &s.report.top, sub, "top");
            if args.bin.is_none() {
                args.bin = s.report.bin.clone();
            }
        }
        Command::Traces(args) => settings::fill(&mut args.out.top, &s.report.top, sub, "top"),
        Command::Explain(args) => s.apply_input(&mut args.input, sub),
        Command::Export(args) => s.apply_input(&mut args.input, sub),
        Command::Replay(args) => {
            s.apply_input(&mut args.input, sub);
            if args.configs.is_empty() && args.target.is_none() {
                args.configs = gateway();
            }
        }
        Command::Limits(args) => {
            let limits::LimitsCommand::Suggest(args) = &mut args.command;
            let sub = sub.subcommand().map_or(sub, |(_, m)| m);
            s.apply_input(&mut args.input, sub);
            if args.configs.is_empty() {
                args.configs = gateway();
            }
        }
        Command::Serve(args) if args.configs.is_empty() => args.configs = gateway(),
        _ => {}
    }
    Ok(())
}

/// Runs the parsed command line and returns the process exit code
/// (0 ok; 1 a runtime error, a refused input or `--strict` with skipped input; 2, from clap,
/// a usage error).
pub(crate) fn run(cli: Cli) -> ExitCode {
    terminal::set_width_flag(cli.width);
    let result = match cli.command {
        Command::Report(args) => report::run(*args),
        Command::Generate(args) => generate::run(args),
        Command::Gateway(args) => gateway::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Limits(args) => limits::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Export(args) => export::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Traces(args) => traces::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Config(args) => config::run(args, cli.settings.as_deref()),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::StrictViolation | Outcome::Refused) => ExitCode::from(1),
        Err(error) => {
            eprintln!("gwstat: error: {error:#}");
            ExitCode::from(1)
        }
    }
}
