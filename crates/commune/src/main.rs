//! The `commune` binary: one program for the CLI, the HTTP API and the benchmarks.

mod ballot_file;
mod bench;
mod bench_act;
mod bench_sync;
mod cli;
mod config;
mod decision;
mod demo;
mod federation_plan;
mod gate;
mod key_backup;
mod listen;
mod node;
mod reading;
mod register;
mod server;
mod session;
mod transport;
mod valueflows;
mod web;

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .init();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and the version are what was asked for.
        Err(error) if !error.use_stderr() => error.exit(),
        // One line and exit 1, as every other error (docs/cli.md).
        Err(error) => {
            // Clap's first paragraph (what is wrong, and the arguments it names), on a line.
            let text = error.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = first.join(" ");
            eprintln!(
                "commune: {} (see --help)",
                first.strip_prefix("error: ").unwrap_or(&first)
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of our output went away (`commune log | head`): nothing is wrong.
        Err(error)
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("commune: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What to log: `COMMUNE_LOG` when set, else tracing's usual `RUST_LOG`, else warnings and
/// errors. Both take tracing's filter syntax (`info`, `commune=debug,warn`); a filter that
/// does not parse is named on standard error and the default is used.
fn log_filter() -> tracing_subscriber::EnvFilter {
    for variable in ["COMMUNE_LOG", "RUST_LOG"] {
        match std::env::var(variable) {
            Ok(filter) if !filter.trim().is_empty() => {
                match tracing_subscriber::EnvFilter::try_new(&filter) {
                    Ok(filter) => return filter,
                    Err(error) => {
                        eprintln!(
                            "commune: {variable}={filter:?} is not a log filter ({error}): logging warnings"
                        );
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    tracing_subscriber::EnvFilter::new("warn")
}
