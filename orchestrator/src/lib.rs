//! Hippodrome's orchestrator: the CLI people touch every day and the dashboard on :9000.
//!
//! Layout:
//! - [`cli`]: the clap command line; [`commands`]: one module per subcommand;
//! - [`config`]: project root, ports and `--port-offset`, profiles, cells, `hippodrome.toml`, injected env;
//! - [`settings`]: those resolved once from the flags, env, toml and git, for `up`, `doctor` and `seed`;
//! - [`services`]: which services run, in which layer, with which command — or why they are skipped;
//! - [`supervisor`]: one actor per service (spawn, probe, restart, backoff, stop), layered start;
//! - [`process`]: preflight (PATH, ports and their holders), spawning into process groups, signals;
//! - [`probe`]: HTTP/TCP health probes with `error_type`; [`logs`]: prefixed terminal output + log files;
//! - [`runfile`]: `.hippodrome/run.json`, so `stop`/`kill` work from another shell or after a crash;
//! - [`stack_client`]: finds a running stack from another shell; a typed client for its dashboard API;
//! - [`dashboard`]: the page and JSON API on the dashboard port; [`moto`]: the pinned moto venv;
//! - [`seed_run`]: runs the `seed` crate against the stack; [`smoke`]: end-to-end checks of a running stack;
//! - [`events`]: AWS mode (`up --enable-events`: tunnel + EventBridge resources) and `events validate`;
//! - [`interrupt`]: SIGINT/SIGTERM/SIGHUP → graceful stop, a second one → kill at once;
//! - [`setup`]: a service's setup step (venv, `npm ci`), with progress and cancellation;
//! - [`term`]: the terminal writer that never panics or blocks (it shadows `println!` and co.).

// First: its `println!`/`eprintln!`/`print!`/`eprint!` shadow std's in every module below, so no
// terminal write can panic on EPIPE or block `up` (see the module doc).
#[macro_use]
pub mod term;

pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod doctor;
pub mod events;
pub mod export;
pub mod interrupt;
pub mod logs;
pub mod moto;
pub mod probe;
pub mod process;
pub mod runfile;
pub mod seed_hooks;
pub mod seed_run;
pub mod services;
pub mod settings;
pub mod setup;
pub mod smoke;
pub mod snapshot;
pub mod stack_client;
pub mod supervisor;
pub mod watch;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Entry point shared by `main.rs`.
pub fn cli_main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let cli::Command::Serve(args) = cli.command {
        // The service runs its own runtime and logging.
        return commands::serve::run(args);
    }
    service_kit::telemetry::init_tracing_to("info", |bytes| {
        term::print(
            term::Stream::Out,
            String::from_utf8_lossy(bytes).into_owned(),
        )
    });
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A panic must not leave the process hanging in the runtime's drop (which waits for blocking
    // tasks without limit) while the services live on: catch it, shut the runtime down with a
    // deadline and exit, so the parent-death signal takes whatever is still running with us.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(commands::dispatch(cli))
    }));
    rt.shutdown_timeout(Duration::from_secs(1));
    let code = match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    };
    term::flush(Duration::from_secs(1));
    code
}
