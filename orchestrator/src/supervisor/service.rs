//! One supervised service as the rest of the orchestrator sees it: its spec, its live state
//! (status, pid, restarts, last probe...) behind a short-held lock, its log sink, and the channel to
//! the actor that owns its process.

use std::path::PathBuf;
use std::time::Instant;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::actor::Cmd;
use crate::interrupt::StopTokens;
use crate::logs::LogSink;
use crate::probe::Probe;
use crate::services::ServiceSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pending,
    Starting,
    Running,
    Unhealthy,
    Restarting,
    CrashLooping,
    Failed,
    Stopped,
    Skipped,
}

impl Status {
    /// The word `/api/status` uses (`crash-looping`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Unhealthy => "unhealthy",
            Status::Restarting => "restarting",
            Status::CrashLooping => "crash-looping",
            Status::Failed => "failed",
            Status::Stopped => "stopped",
            Status::Skipped => "skipped",
        }
    }
}

/// The live state of one service. Locked briefly, never across I/O or `.await`.
#[derive(Clone, Debug)]
pub struct ServiceState {
    pub status: Status,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub started_at: Option<Instant>,
    pub last_exit_code: Option<i32>,
    pub reason: Option<String>,
    pub last_probe: Option<Probe>,
    /// The last hot-reload restart (`watch`): what changed, and when.
    pub last_reload: Option<Reload>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reload {
    pub cause: String,
    pub at_ms: u64,
}

pub struct Service {
    pub spec: ServiceSpec,
    pub state: Mutex<ServiceState>,
    pub sink: LogSink,
    pub log_file: PathBuf,
    pub(super) tx: mpsc::UnboundedSender<Cmd>,
    pub(super) stop: StopTokens,
}

impl Service {
    /// A service that has not started yet: `pending`, or `skipped` with the plan's reason.
    pub(super) fn new(
        spec: ServiceSpec,
        sink: LogSink,
        log_file: PathBuf,
        tx: mpsc::UnboundedSender<Cmd>,
        stop: StopTokens,
    ) -> Self {
        let status = if spec.skip.is_some() {
            Status::Skipped
        } else {
            Status::Pending
        };
        Self {
            state: Mutex::new(ServiceState {
                status,
                pid: None,
                restarts: 0,
                started_at: None,
                last_exit_code: None,
                reason: spec.skip.clone(),
                last_probe: None,
                last_reload: None,
            }),
            spec,
            sink,
            log_file,
            tx,
            stop,
        }
    }

    pub(super) fn set(&self, f: impl FnOnce(&mut ServiceState)) {
        f(&mut self.state.lock());
    }

    pub fn snapshot(&self) -> ServiceState {
        self.state.lock().clone()
    }
}
