//! The command line every service shares: `--bind`/`--port` ([`BindArgs`], flattened into each
//! service's clap `Config`), the one reading of `HIPPODROME_RANDOM_SEED` ([`RandomSeed`]), and
//! [`cli_main`]: parse, log, bind, run until SIGINT or SIGTERM, exit within the 1 s budget.

use std::ffi::OsString;
use std::fmt::Display;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;

/// The variable that fixes every random choice of a stack (the seed's data, Cognito's ids and keys).
pub const SEED_ENV: &str = "HIPPODROME_RANDOM_SEED";

/// Where a service listens. `DEFAULT_PORT` is the service's port in the stack's port table.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindArgs<const DEFAULT_PORT: u16> {
    /// Address to bind. Loopback by default; anything else is reachable from other machines.
    #[arg(long, env = "HIPPODROME_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
}

impl<const DEFAULT_PORT: u16> BindArgs<DEFAULT_PORT> {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}

/// A service's parsed command line, as far as [`cli_main`] needs it.
pub trait ServiceConfig: clap::Parser {
    /// The address to bind before `run` starts.
    fn listen_addr(&self) -> SocketAddr;
}

/// `HIPPODROME_RANDOM_SEED` (or a flag carrying the same value), parsed once: surrounding
/// whitespace ignored, empty means unset, anything else must be an unsigned integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RandomSeed(pub Option<u64>);

impl RandomSeed {
    /// The clap value parser (use with `default_value = ""` so an absent variable means unset).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(RandomSeed(None));
        }
        s.parse::<u64>()
            .map(|n| RandomSeed(Some(n)))
            .map_err(|_| format!("{SEED_ENV} must be an unsigned integer, got {s:?}"))
    }

    /// The variable as set in this process's environment.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(SEED_ENV) {
            Ok(v) => Self::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(RandomSeed(None)),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{SEED_ENV} must be an unsigned integer"))
            }
        }
    }
}

/// The shutdown future handed to a service's `run`: SIGINT or SIGTERM.
pub type ShutdownFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The body of every service's `cli_main`: parse `args` into `C`, set up logging, the memory
/// trimmer and a runtime, bind, and `run` until SIGINT or SIGTERM. Background tasks (pollers,
/// SDK calls) get 200 ms after `run` returns, so the process exits within its 1 s budget.
pub fn cli_main<C, I, F, Fut, E>(service: &str, args: I, run: F) -> ExitCode
where
    C: ServiceConfig,
    I: IntoIterator<Item = OsString>,
    F: FnOnce(C, TcpListener, ShutdownFuture) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let config = match C::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    crate::telemetry::init_tracing("info");
    crate::memory::spawn_trimmer();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = rt.block_on(async {
        let addr = config.listen_addr();
        let listener = crate::bind_listener(addr.ip(), addr.port())
            .await
            .map_err(|e| e.to_string())?;
        let signal = async {
            crate::shutdown_signal().await;
            // A request held by a `timeout` fault rule must not hold up the exit.
            crate::faults::layer::release_hangs();
        };
        run(config, listener, Box::pin(signal))
            .await
            .map_err(|e| format!("{e:#}"))
    });
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "{service} failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Demo {
        #[command(flatten)]
        listen: BindArgs<9123>,
        #[arg(long, default_value = "", value_parser = RandomSeed::parse)]
        seed: RandomSeed,
    }

    #[test]
    fn bind_args_default_to_loopback_and_the_service_port() {
        let d = Demo::parse_from(["demo"]);
        assert_eq!(d.listen.addr(), "127.0.0.1:9123".parse().unwrap());
        let d = Demo::parse_from(["demo", "--port", "7", "--bind", "0.0.0.0"]);
        assert_eq!(d.listen.addr(), "0.0.0.0:7".parse().unwrap());
    }

    #[test]
    fn a_seed_is_trimmed_empty_is_unset_and_garbage_is_an_error() {
        assert_eq!(RandomSeed::parse(" 42\n"), Ok(RandomSeed(Some(42))));
        assert_eq!(RandomSeed::parse("  "), Ok(RandomSeed(None)));
        assert!(RandomSeed::parse("-1").unwrap_err().contains(SEED_ENV));
        assert!(Demo::try_parse_from(["demo", "--seed", "x"]).is_err());
        assert_eq!(
            Demo::parse_from(["demo", "--seed", "7"]).seed,
            RandomSeed(Some(7))
        );
    }
}
