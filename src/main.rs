//! The `gwstat` binary: parses arguments and hands them to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    gwstat::cli::run(gwstat::cli::Cli::parse())
}
