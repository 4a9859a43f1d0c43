//! Hippodrome's orchestrator: the CLI people touch every day and the dashboard on :9000.
//!
//! Layout:
//! - [`cli`]: the clap command line; [`commands`]: one module per subcommand;
//! - [`config`]: project root, ports and `--port-offset`, profiles, cells, `hippodrome.toml`, injected env;
//! - [`plan`]: which services run, in which layer, with which command — or why they are skipped;
//! - [`supervisor`]: one actor per service (spawn, probe, restart, backoff, stop), layered start;
//! - [`process`]: preflight (PATH, ports and their holders), spawning into process groups, signals;
//! - [`probe`]: HTTP/TCP health probes with `error_type`; [`logs`]: prefixed terminal output + log files;
//! - [`runfile`]: `.hippodrome/run.json`, so `stop`/`kill` work from another shell or after a crash;
//! - [`dashboard`]: the page and JSON API on the dashboard port; [`moto`]: the pinned moto venv;
//! - [`seeding`]: runs the `seed` crate against the stack; [`smoke`]: end-to-end checks of a running stack.

pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod doctor;
pub mod logs;
pub mod moto;
pub mod plan;
pub mod probe;
pub mod process;
pub mod runfile;
pub mod seed_hooks;
pub mod seeding;
pub mod smoke;
pub mod supervisor;
pub mod watch;

use std::process::ExitCode;

use clap::Parser;

/// Entry point shared by `main.rs`.
pub fn cli_main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let cli::Command::Serve(args) = cli.command {
        // The service runs its own runtime and logging.
        return commands::serve::run(args);
    }
    service_kit::telemetry::init_tracing("info");
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
