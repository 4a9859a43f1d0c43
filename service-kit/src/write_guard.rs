//! Refusing writes while the state journal cannot be written (disk full, directory unwritable).
//! The first failure logs one ERROR naming the state file and the OS error and turns `/healthz`
//! `degraded`; from then on writes are refused up front (reads keep working) until a probe record
//! reaches the disk again. Shared so every persisted service fails and recovers the same way.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::health::HealthState;
use crate::journal::Journal;

/// The `/healthz` check this guard reports under.
pub const CHECK: &str = "persistence";

pub struct WriteGuard {
    failing: AtomicBool,
    health: HealthState,
    state_file: PathBuf,
}

impl WriteGuard {
    pub fn new(health: HealthState, state_file: &Path) -> Self {
        WriteGuard {
            failing: AtomicBool::new(false),
            health,
            state_file: state_file.to_path_buf(),
        }
    }

    /// Whether writes are accepted.
    pub fn is_ok(&self) -> bool {
        !self.failing.load(Ordering::SeqCst)
    }

    /// `Err(why)` while writes are refused; callers wrap it in their own 503 error.
    pub fn check(&self) -> Result<(), String> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(format!(
                "The state journal next to {} cannot be written (disk full or directory \
                 unwritable); writes are refused until it recovers.",
                self.state_file.display()
            ))
        }
    }

    /// Record a failed state write: ERROR in the log once per outage, `degraded` on `/healthz`.
    pub fn failed(&self, error: &str) {
        let file = self.state_file.display();
        if !self.failing.swap(true, Ordering::SeqCst) {
            tracing::error!(state_file = %file, %error,
                "state write could not be persisted; refusing writes until the disk accepts them again");
        }
        self.health
            .check_failed(CHECK, format!("cannot write state next to {file}: {error}"));
    }

    /// Report the persistence check healthy with `detail` (ignored while failing).
    pub fn report_ok(&self, detail: serde_json::Value) {
        if self.is_ok() {
            self.health.check_ok(CHECK, detail);
        }
    }

    /// While failing, append `record` (a no-op for replay) and lift the refusal once it is durable.
    /// Returns whether writes are accepted now.
    pub async fn probe(&self, journal: &Journal, record: &[u8]) -> bool {
        if self.is_ok() {
            return true;
        }
        if journal.submit(record.to_vec()).wait().await.is_err() {
            return false;
        }
        if self.failing.swap(false, Ordering::SeqCst) {
            tracing::info!(state_file = %self.state_file.display(),
                "state journal writable again; accepting writes");
            self.health.check_ok(
                CHECK,
                serde_json::json!({ "state_file": self.state_file.display().to_string() }),
            );
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failure_refuses_writes_until_a_probe_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let (journal, _) = Journal::open(&state, 0).unwrap();
        let health = HealthState::new("test", "0");
        health.set_ready();
        let guard = WriteGuard::new(health.clone(), &state);
        assert!(guard.check().is_ok());

        guard.failed("No space left on device (os error 28)");
        let why = guard.check().unwrap_err();
        assert!(why.contains(&state.display().to_string()), "{why}");
        let (_, report) = health.report();
        assert_eq!(report["status"], "degraded", "{report}");
        assert!(
            report["checks"][CHECK]["error"]
                .as_str()
                .unwrap_or_default()
                .contains("os error 28"),
            "{report}"
        );
        guard.report_ok(serde_json::json!({}));
        assert_eq!(health.report().1["status"], "degraded", "still failing");

        // The journal works again: the probe lifts the refusal and clears the check.
        assert!(guard.probe(&journal, b"{}").await);
        assert!(guard.check().is_ok());
        assert_eq!(health.report().1["status"], "ok");
    }
}
