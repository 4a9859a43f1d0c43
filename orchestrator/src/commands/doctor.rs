//! `doctor`: being written (issue 12).

use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(_root: Option<&Path>, _args: DoctorArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::FAILURE)
}
