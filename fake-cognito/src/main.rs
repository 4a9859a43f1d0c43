//! Thin entry point: everything lives in the library so tests and the orchestrator run the same code.

fn main() -> std::process::ExitCode {
    fake_cognito::cli_main(std::env::args_os())
}
