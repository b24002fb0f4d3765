//! The `gwstat` binary: parses arguments and hands them to the library.

fn main() -> std::process::ExitCode {
    gwstat::cli::main()
}
