//! Keeping `.hippodrome/run.json` current while the stack runs: one writer task owns the file, the
//! actors send it every pid change, and the "stack stopped" marker makes it remove the file.

use std::path::PathBuf;

use tokio::sync::{oneshot, watch};

use crate::runfile::{RunFile, RunService};
use crate::services::ServiceSpec;

/// Start the writer for `run_file`, which is already on disk at `run_path`. Changes sent through
/// the returned sender are written in order; the receiver fires once the file has been removed.
pub(super) fn spawn_writer(
    run_file: RunFile,
    run_path: PathBuf,
) -> (watch::Sender<RunFile>, oneshot::Receiver<()>) {
    let (run_tx, mut run_rx) = watch::channel(run_file);
    // One writer owns run.json from here on, so concurrent updates never interleave their
    // renames. It writes changes only: the first version is on disk already.
    let (removed_tx, removed_rx) = oneshot::channel();
    tokio::spawn(async move {
        while run_rx.changed().await.is_ok() {
            let snapshot = run_rx.borrow_and_update().clone();
            // pid 0 is the "stack stopped" marker: remove the file and stop writing.
            if snapshot.orchestrator_pid == 0 {
                let _ = std::fs::remove_file(&run_path);
                let _ = removed_tx.send(());
                break;
            }
            // fsync can take seconds on a busy disk: keep it off the runtime's workers.
            let path = run_path.clone();
            match tokio::task::spawn_blocking(move || snapshot.write(&path)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot write run.json"),
                Err(e) => tracing::warn!(error = %e, "run.json writer panicked"),
            }
        }
    });
    (run_tx, removed_rx)
}

/// Record a service's pid (its process group too: each child leads its own), or `None` once it
/// is gone, so `stop`/`kill` from another shell find exactly what runs.
pub(super) fn record_pid(run_tx: &watch::Sender<RunFile>, spec: &ServiceSpec, pid: Option<u32>) {
    run_tx.send_modify(|rf| {
        rf.services.insert(
            spec.name.clone(),
            RunService {
                pid,
                pgid: pid,
                port: spec.port,
            },
        );
    });
}
