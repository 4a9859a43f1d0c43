//! Starting, stopping and restarting one service's child process: the setup step, waiting for the
//! port, spawning with output pumps, SIGTERM then SIGKILL. Each step leaves the service's status and
//! reason saying what happened; the actor decides when to call them.

use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::sync::watch;

use super::Options;
use super::run_json::record_pid;
use super::service::{Service, Status};
use crate::process::{preflight, signal, spawn};
use crate::runfile::RunFile;
use crate::setup::{self, SetupError};

/// Grace period between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// The exit code, or minus the signal number for a process killed by a signal.
pub(crate) fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| -status.signal().unwrap_or(0))
}

/// Stop `child` (if any), count a restart, and start the service again.
pub(super) async fn restart_process(
    svc: &Service,
    child: Option<Child>,
    opts: &Options,
    run_tx: &watch::Sender<RunFile>,
) -> Option<Child> {
    if let Some(c) = child {
        stop_process(svc, c).await;
    }
    svc.set(|s| {
        s.status = Status::Restarting;
        s.restarts += 1;
        s.pid = None;
    });
    start_process(svc, opts, run_tx).await
}

/// Setup step, port check, spawn, output pumps. `None` (and status `failed`) when it could not start.
pub(super) async fn start_process(
    svc: &Service,
    opts: &Options,
    run_tx: &watch::Sender<RunFile>,
) -> Option<Child> {
    // No (re)start once the stack is stopping: a crash-looping service must not come back
    // between the signal and its turn in the reverse-order stop.
    if svc.stop.stopping.is_triggered() {
        svc.set(|s| s.status = Status::Stopped);
        return None;
    }
    svc.set(|s| {
        if s.status != Status::CrashLooping {
            s.status = Status::Starting;
        }
    });
    run_setup_step(svc).await?;
    wait_for_port(svc).await?;
    spawn_child(svc, opts, run_tx)
}

/// The setup step, when its marker is missing. `None` when it failed or the stack stopped meanwhile.
async fn run_setup_step(svc: &Service) -> Option<()> {
    let spec = &svc.spec;
    let Some(setup) = &spec.setup else {
        return Some(());
    };
    if setup.creates.exists() {
        return Some(());
    }
    let progress = |text: String| svc.set(|s| s.reason = Some(text));
    match setup::run(spec, setup, &svc.sink, &svc.log_file, &svc.stop, progress).await {
        Ok(()) => Some(()),
        Err(SetupError::Cancelled) => {
            svc.set(|s| {
                s.status = Status::Stopped;
                s.reason = Some("stopped during its setup step".into());
            });
            None
        }
        Err(SetupError::Failed(e)) => {
            svc.set(|s| {
                s.status = Status::Failed;
                s.reason = Some(e);
            });
            None
        }
    }
}

/// Wait up to 2 s for the service's port to be free. `None` when it stays taken (status `failed`,
/// with who holds it) or the stack stopped meanwhile.
async fn wait_for_port(svc: &Service) -> Option<()> {
    let Some(port) = svc.spec.port else {
        return Some(());
    };
    if preflight::port_free(port) {
        return Some(());
    }
    // Our own previous process may still be releasing it.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !preflight::port_free(port)
        && Instant::now() < deadline
        && !svc.stop.stopping.is_triggered()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if svc.stop.stopping.is_triggered() {
        svc.set(|s| s.status = Status::Stopped);
        return None;
    }
    if !preflight::port_free(port) {
        let msg = preflight::port_in_use_message(&svc.spec.name, port);
        svc.sink.line(&format!("[hippodrome] {msg}"));
        svc.set(|s| {
            s.status = Status::Failed;
            s.reason = Some(msg);
        });
        return None;
    }
    Some(())
}

/// Spawn the process, pump its output into the log and record its pid.
fn spawn_child(svc: &Service, opts: &Options, run_tx: &watch::Sender<RunFile>) -> Option<Child> {
    let spec = &svc.spec;
    let late_env = opts.late_env.lock().clone();
    match spawn::spawn(spec, &late_env, opts.die_with_parent) {
        Ok(mut child) => {
            let pid = child.id();
            if let Some(out) = child.stdout.take() {
                svc.sink.pump(out);
            }
            if let Some(err) = child.stderr.take() {
                svc.sink.pump(err);
            }
            svc.set(|s| {
                s.pid = pid;
                s.started_at = Some(Instant::now());
                s.reason = None;
            });
            record_pid(run_tx, spec, pid);
            Some(child)
        }
        Err(e) => {
            let program = spec.argv.first().cloned().unwrap_or_default();
            let hint = preflight::install_hint(
                std::path::Path::new(&program)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(""),
            );
            let msg = format!("cannot start `{program}`: {e} ({hint})");
            svc.sink.line(&format!("[hippodrome] {msg}"));
            svc.set(|s| {
                s.status = Status::Failed;
                s.reason = Some(msg);
            });
            None
        }
    }
}

/// SIGTERM, then SIGKILL after `STOP_GRACE` (at once after a second Ctrl+C); says which in the log.
pub(super) async fn stop_process(svc: &Service, mut child: Child) {
    match signal::stop_child(&mut child, STOP_GRACE, &svc.stop.kill_now).await {
        signal::Stopped::Exited => {}
        signal::Stopped::Killed => svc.sink.line(&format!(
            "[hippodrome] {} ignored SIGTERM for {}s; killed",
            svc.spec.name,
            STOP_GRACE.as_secs()
        )),
        signal::Stopped::KilledAtOnce => svc.sink.line(&format!(
            "[hippodrome] {} killed without waiting (second Ctrl+C)",
            svc.spec.name
        )),
    }
}
