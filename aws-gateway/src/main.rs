//! Thin entry point: everything lives in the library so tests and the orchestrator run the same code.

fn main() -> std::process::ExitCode {
    aws_gateway::cli_main(std::env::args_os())
}
