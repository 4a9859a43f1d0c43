//! `.hippodrome/run.json`: the running stack's orchestrator pid, ports and every service's pid and
//! process group (and the `--enable-events` tunnel's, under `cloudflared`), rewritten atomically on
//! every change — so `stop`, `kill`, `status` and `doctor` work from another shell and after the
//! orchestrator itself crashed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunFile {
    pub orchestrator_pid: u32,
    pub started_at_ms: u64,
    pub project_root: String,
    pub port_offset: u16,
    pub dashboard_port: u16,
    pub detached: bool,
    pub services: BTreeMap<String, RunService>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunService {
    pub pid: Option<u32>,
    pub pgid: Option<u32>,
    pub port: Option<u16>,
}

impl RunFile {
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        service_kit::state_file::write_atomic(path, &bytes)
    }

    /// `None` when there is no run file or it does not parse.
    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// True when the recorded orchestrator still runs.
    pub fn orchestrator_alive(&self) -> bool {
        self.orchestrator_pid != 0 && crate::process::signal::pid_alive(self.orchestrator_pid)
    }
}
