//! Thin entry point over the orchestrator library.

fn main() -> std::process::ExitCode {
    orchestrator::cli_main()
}
