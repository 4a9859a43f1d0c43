//! Logging setup: `tracing` with an `EnvFilter` (`RUST_LOG` wins) writing plain lines to stdout, so
//! the orchestrator can prefix each line with `[service]` and copy it to the service's log file.
//! `HIPPODROME_LOG_FORMAT=json` switches to one JSON object per line for machines.

use tracing_subscriber::EnvFilter;

/// Initialise tracing once per process; later calls are no-ops (tests call it freely).
pub fn init_tracing(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("HIPPODROME_LOG_FORMAT").is_ok_and(|v| v == "json");
    // The orchestrator pipes our stdout; colours there would end up in log files.
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
