//! The `commune` binary: one program for the CLI, the HTTP API and the benchmarks.

mod ballot_file;
mod bench;
mod bench_act;
mod bench_sync;
mod cli;
mod config;
mod demo;
mod federation_plan;
mod node;
mod register;
mod server;
mod transport;
mod valueflows;
mod web;

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COMMUNE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(cli::Cli::parse()) {
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
