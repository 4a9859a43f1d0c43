//! Everything `up` needs to know before it starts anything: where the project is, which ports,
//! profile, cell and table prefix, and the team's services from `hippodrome.toml`.

pub mod env;
pub mod hippodrome_toml;
pub mod lambdas;
pub mod ports;
pub mod project;
pub mod state_machines;

use std::path::PathBuf;

pub use hippodrome_toml::{HippodromeToml, TomlError};
pub use ports::Ports;

/// Which set of services `up` starts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// fake_cell, fake_cognito, webhook_router, controller, console
    Core,
    /// core + moto, admin_server, admin_lambda, search_proxy, indexers, exporters
    Ecom,
    /// everything
    Full,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Core => "core",
            Profile::Ecom => "ecom",
            Profile::Full => "full",
        }
    }
}

/// Which Marqo cell the stack talks to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// run fake_cell locally (default)
    Local,
    /// skip fake_cell; use the staging cell URL from hippodrome.toml
    Staging,
    /// skip fake_cell; use the production cell URL (asks for confirmation)
    Prod,
}

impl Cell {
    pub fn as_str(self) -> &'static str {
        match self {
            Cell::Local => "local",
            Cell::Staging => "staging",
            Cell::Prod => "prod",
        }
    }
}

/// Paths of one stack, all under the project's `.hippodrome/`.
#[derive(Clone, Debug)]
pub struct Paths {
    pub project_root: PathBuf,
    pub hippodrome_dir: PathBuf,
    pub state_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub run_file: PathBuf,
}

impl Paths {
    pub fn new(project_root: PathBuf) -> Self {
        let hippodrome_dir = project_root.join(".hippodrome");
        Self {
            state_dir: hippodrome_dir.join("state"),
            logs_dir: hippodrome_dir.join("logs"),
            run_file: hippodrome_dir.join("run.json"),
            hippodrome_dir,
            project_root,
        }
    }
}
