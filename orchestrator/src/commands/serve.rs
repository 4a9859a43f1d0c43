//! `serve <service> [flags]`: run one built-in service in this process. `up` re-executes the
//! orchestrator this way, so a fresh clone needs no separate build of the service binaries.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> ExitCode {
    let argv = std::iter::once(OsString::from(&args.service)).chain(args.args);
    match args.service.as_str() {
        "fake-cell" => fake_cell::cli_main(argv),
        "fake-cognito" => fake_cognito::cli_main(argv),
        "webhook-router" => webhook_router::cli_main(argv),
        "aws-gateway" => aws_gateway::cli_main(argv),
        other => {
            eprintln!("unknown service {other:?}");
            ExitCode::FAILURE
        }
    }
}
