//! A service's setup step (moto's first-run install, a team service's venv or `npm ci`): runs it
//! in its own process group with its output in the service's log, says what it is doing in words
//! with the elapsed time (terminal and log every few seconds, dashboard every second), and cancels
//! it, killing its whole group, as soon as the stack stops; a second Ctrl+C skips the grace period.
//! A team service's step that did not finish removes its marker, so the next `up` runs it again
//! instead of starting the service on a half-built venv or `node_modules`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::interrupt::StopTokens;
use crate::logs::LogSink;
use crate::process::{signal, spawn};
use crate::services::{Health, ServiceSpec, Setup};

/// How often the terminal and the log hear that a step is still running.
const PROGRESS_LINE_EVERY_S: u64 = 5;
/// How long a cancelled step gets between SIGTERM and SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum SetupError {
    /// The stack is stopping; the step was killed.
    Cancelled,
    /// The step could not start, failed, or did not create its marker; the message says which.
    Failed(String),
}

/// `path` with the home directory written as `~`, for messages.
pub fn tilde(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME")
        && let Ok(rest) = path.strip_prefix(&home)
        && !Path::new(&home).as_os_str().is_empty()
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

/// Run `setup` for `spec`. `progress` gets the dashboard's text ("<what>… 12 s") every second.
pub async fn run(
    spec: &ServiceSpec,
    setup: &Setup,
    sink: &LogSink,
    log_file: &Path,
    stop: &StopTokens,
    progress: impl Fn(String),
) -> Result<(), SetupError> {
    let what = &setup.description;
    sink.line(&format!("[hippodrome] setup: {what}…"));
    progress(format!("{what}…"));
    let started = Instant::now();
    let step = ServiceSpec {
        argv: setup.argv.clone(),
        health: Health::Process,
        ..spec.clone()
    };
    let mut child = spawn::spawn(&step, &BTreeMap::new(), true).map_err(|e| {
        SetupError::Failed(format!(
            "setup ({what}) could not start `{}`: {e}",
            setup.argv.first().map_or("", String::as_str)
        ))
    })?;
    if let Some(out) = child.stdout.take() {
        sink.pump(out);
    }
    if let Some(err) = child.stderr.take() {
        sink.pump(err);
    }
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let stopping = stop.stopping.wait();
    tokio::pin!(stopping);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            () = &mut stopping => {
                let how = signal::stop_child(&mut child, CANCEL_GRACE, &stop.kill_now).await;
                sink.line(&format!(
                    "[hippodrome] setup cancelled after {} s: the stack is stopping ({})",
                    started.elapsed().as_secs(),
                    if how == signal::Stopped::Exited { "its processes exited" } else { "its processes were killed" }
                ));
                forget_partial(spec, setup, sink);
                return Err(SetupError::Cancelled);
            }
            _ = tick.tick() => {
                let secs = started.elapsed().as_secs();
                progress(format!("{what}… {secs} s"));
                if secs.is_multiple_of(PROGRESS_LINE_EVERY_S) {
                    sink.line(&format!("[hippodrome] setup: {what}… {secs} s"));
                }
            }
        }
    };
    let failed = |msg: String| {
        forget_partial(spec, setup, sink);
        Err(SetupError::Failed(msg))
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => return failed(format!("setup ({what}): cannot wait for it: {e}")),
    };
    if !status.success() {
        let code = status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| c.to_string());
        return failed(format!(
            "setup ({what}) failed with code {code}; see {} (last lines: {})",
            log_file.display(),
            sink.tail(3).join(" | ")
        ));
    }
    if !setup.creates.exists() {
        return Err(SetupError::Failed(format!(
            "setup ({what}) finished but did not create {}",
            setup.creates.display()
        )));
    }
    sink.line(&format!(
        "[hippodrome] setup: done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// After a team service's step failed or was cancelled, remove the marker it may have created
/// (a half-built `.venv`, `node_modules`), so the next start repeats the step. The caller ran the
/// step only because the marker was missing. Built-in steps are left alone: moto's install is
/// atomic and lives in a cache that other stacks may be filling at the same moment.
fn forget_partial(spec: &ServiceSpec, setup: &Setup, sink: &LogSink) {
    if spec.builtin {
        return;
    }
    let marker = &setup.creates;
    let removed = match std::fs::symlink_metadata(marker) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(marker).is_ok(),
        Ok(_) => std::fs::remove_file(marker).is_ok(),
        Err(_) => return,
    };
    if removed {
        sink.line(&format!(
            "[hippodrome] removed {} left by the unfinished setup step, so the next start runs it again",
            marker.display()
        ));
    }
}
