//! How a running `up` is told to stop: SIGINT (Ctrl+C), SIGTERM, and SIGHUP (its terminal closed;
//! ignored with `--detach`). The first one starts a graceful stop at once, whatever `up` is doing
//! (a setup step, the seed, a health wait); a second one makes the stop kill every process group
//! without waiting out the grace period. [`StopTokens`] carries both to the supervisor's actors,
//! so a stop also reaches work in flight.

use service_kit::Shutdown;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Shared by `up` and every service actor.
#[derive(Clone, Debug, Default)]
pub struct StopTokens {
    /// The whole stack is stopping: cancel setup steps (killing their process groups), stop
    /// waiting for ports.
    pub stopping: Shutdown,
    /// Skip the grace period: SIGKILL every process group now (a second Ctrl+C).
    pub kill_now: Shutdown,
}

/// Install the handlers now (before any service exists, so no signal can find the default
/// action) and trigger `shutdown` and `tokens` from them.
pub fn watch(shutdown: Shutdown, tokens: StopTokens, detached: bool) -> std::io::Result<()> {
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut hup = if detached {
        // Nobody's terminal: a hangup is not a request to stop (and must not kill us either,
        // SIGHUP's default action, so the handler stays installed and the signal is dropped).
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!(
                    "SIGHUP ignored: this stack runs detached (stop it with `orchestrator stop`)"
                );
            }
        });
        None
    } else {
        Some(hup)
    };
    tokio::spawn(async move {
        let first = next(&mut int, &mut term, hup.as_mut()).await;
        eprintln!("\n{first}: stopping the stack… (Ctrl+C again to kill at once)");
        tokens.stopping.trigger();
        shutdown.trigger();
        let second = next(&mut int, &mut term, hup.as_mut()).await;
        eprintln!("{second} again: killing every service now");
        tokens.kill_now.trigger();
    });
    Ok(())
}

async fn next(int: &mut Signal, term: &mut Signal, hup: Option<&mut Signal>) -> &'static str {
    let hangup = async {
        match hup {
            Some(h) => {
                h.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = int.recv() => "Ctrl+C (SIGINT)",
        _ = term.recv() => "SIGTERM",
        () = hangup => "SIGHUP (the terminal closed)",
    }
}
