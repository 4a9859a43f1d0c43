//! One module per subcommand; `dispatch` picks it.

pub mod control;
pub mod doctor;
pub mod events;
pub mod export;
pub mod fault;
pub mod keys;
pub mod kill;
pub mod logs;
pub mod reset;
pub mod seed;
pub mod seed_job;
pub mod serve;
pub mod smoke;
pub mod snapshot;
pub mod status;
pub mod stop;
pub mod up;
pub mod wait;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = cli.project_root.as_deref();
    match cli.command {
        Command::Up(args) => up::run(root, args).await,
        Command::Status(args) => status::run(root, args).await,
        Command::Logs(args) => logs::run(root, args).await,
        Command::Stop(args) => stop::run(root, args).await,
        Command::Kill(args) => kill::run(root, args).await,
        Command::Control(args) => control::run(root, args).await,
        Command::Wait(args) => wait::run(root, args).await,
        Command::Seed(args) => seed::run(root, args).await,
        Command::Keys(cmd) => keys::run(cmd),
        Command::Reset(args) => reset::run(root, args).await,
        Command::Events(cmd) => events::run(cmd).await,
        Command::Smoke(args) => smoke::run(root, args).await,
        Command::Doctor(args) => doctor::run(root, args).await,
        Command::Export(cmd) => export::run(root, cmd),
        Command::Snapshot(cmd) => snapshot::run(root, cmd).await,
        Command::Fault(cmd) => fault::run(root, cmd).await,
        Command::SeedJob(args) => seed_job::run(root, args).await,
        Command::Serve(_) => unreachable!("handled before the runtime starts"),
    }
}
