//! The bodies of `GET /api/status` and `GET /api/stack` as types: the dashboard builds them, and
//! the commands (through `stack_client.rs`), `doctor` and the smoke checks read them back,
//! so producer and readers cannot drift apart. Field order is the JSON's key order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{Cell, Profile};
use crate::probe::Probe;
use crate::services::Health;
use crate::supervisor::{Reload, Service, Status};

/// What the stack is, for the header and `/api/stack`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackInfo {
    pub profile: Profile,
    pub cell: Cell,
    pub cell_url: String,
    pub table_prefix: String,
    pub seed: u64,
    /// `up`'s `--seed-accounts` / `--seed-docs-per-index`, so `orchestrator seed` plans the same
    /// accounts and indexes again: a plan of another size hands index names to other accounts,
    /// and the cell refuses an index that belongs to another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_accounts: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_docs_per_index: Option<usize>,
    pub project_root: String,
    pub port_offset: u16,
    pub dashboard_port: u16,
    pub router_url: String,
    pub started_at_ms: u64,
    pub manifest_path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", tag = "state", content = "detail")]
pub enum SeedStatus {
    Pending,
    Running,
    Done,
    Skipped,
    /// One line per failed group (`group: resource: message`), or the error when none ran.
    Failed(String),
}

/// `GET /api/status`: one entry per service, keyed by name, the dashboard included.
pub type StatusView = BTreeMap<String, ServiceView>;

/// One service in `/api/status`. The dashboard's own entry has only the fields every entry has.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceView {
    pub status: Status,
    pub port: Option<u16>,
    pub pid: Option<u32>,
    pub layer: u8,
    pub restarts: u32,
    pub uptime_s: Option<u64>,
    /// Absent in the dashboard's entry.
    #[serde(flatten)]
    pub outcome: Option<Outcome>,
    pub blocking: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<bool>,
    pub builtin: bool,
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<PathBuf>,
    /// Active fault rules on a built-in service (absent where none can be set), so an injected
    /// error is never debugged as a real one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<u64>,
}

/// How a supervised service last ended, was probed and was reloaded (`null` when it was not).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub last_exit_code: Option<i32>,
    pub reason: Option<String>,
    pub last_probe: Option<Probe>,
    pub last_reload: Option<Reload>,
}

impl ServiceView {
    /// A supervised service's entry, from its spec and a snapshot of its state.
    pub fn of(service: &Service) -> Self {
        let s = service.snapshot();
        let spec = &service.spec;
        Self {
            status: s.status,
            port: spec.port,
            pid: s.pid,
            layer: spec.layer,
            restarts: s.restarts,
            uptime_s: s
                .started_at
                .filter(|_| s.pid.is_some())
                .map(|t| t.elapsed().as_secs()),
            outcome: Some(Outcome {
                last_exit_code: s.last_exit_code,
                reason: s.reason,
                last_probe: s.last_probe,
                last_reload: s.last_reload,
            }),
            blocking: spec.blocking,
            auto_restart: Some(spec.auto_restart),
            builtin: spec.builtin,
            url: spec.port.map(|p| format!("http://127.0.0.1:{p}")),
            health: Some(spec.health.clone()),
            log_file: Some(service.log_file.clone()),
            faults: super::faults::active_on(spec.port),
        }
    }

    /// The dashboard's own entry: this process, in layer 0, running once the stack is up.
    pub fn dashboard(port: u16, ready: bool, uptime_s: u64) -> Self {
        Self {
            status: if ready {
                Status::Running
            } else {
                Status::Starting
            },
            port: Some(port),
            pid: Some(std::process::id()),
            layer: 0,
            restarts: 0,
            uptime_s: Some(uptime_s),
            outcome: None,
            blocking: true,
            auto_restart: None,
            builtin: true,
            url: Some(format!("http://127.0.0.1:{port}")),
            health: None,
            log_file: None,
            faults: None,
        }
    }

    /// Why the service is in its state, if the supervisor said.
    pub fn reason(&self) -> Option<&str> {
        self.outcome.as_ref()?.reason.as_deref()
    }

    pub fn last_probe(&self) -> Option<&Probe> {
        self.outcome.as_ref()?.last_probe.as_ref()
    }

    /// "2 fault rules active" while rules are injecting faults into this service.
    pub fn faults_note(&self) -> Option<String> {
        match self.faults {
            Some(1) => Some("1 fault rule active (orchestrator fault list)".into()),
            Some(n) if n > 1 => Some(format!("{n} fault rules active (orchestrator fault list)")),
            _ => None,
        }
    }
}

/// `GET /api/stack`: what the stack is, whether it is ready, and why not.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackView {
    pub info: StackInfo,
    pub uptime_s: u64,
    /// Every layer has started (the banner was printed).
    pub started: bool,
    pub startup_ms: Option<u64>,
    pub seed: SeedStatus,
    /// Started, seeded (or seed skipped), and every blocking service running.
    pub ready: bool,
    pub not_ready: Vec<NotReady>,
}

/// A blocking service that keeps the stack from being ready.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotReady {
    pub service: String,
    pub status: Status,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn status_words_are_the_json_words() {
        use Status::*;
        for s in [
            Pending,
            Starting,
            Running,
            Unhealthy,
            Restarting,
            CrashLooping,
            Failed,
            Stopped,
            Skipped,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn the_dashboard_entry_has_only_the_common_fields() {
        let v = serde_json::to_value(ServiceView::dashboard(9000, true, 5)).unwrap();
        assert_eq!(
            keys(&v),
            [
                "status", "port", "pid", "layer", "restarts", "uptime_s", "blocking", "builtin",
                "url"
            ]
        );
        assert_eq!(v["status"], "running");
        let back: ServiceView = serde_json::from_value(v).unwrap();
        assert_eq!(back.status, Status::Running);
        assert_eq!(back.reason(), None);
    }

    #[test]
    fn a_service_entry_reads_back_as_it_was_written() {
        let view = ServiceView {
            status: Status::CrashLooping,
            port: None,
            pid: None,
            layer: 2,
            restarts: 3,
            uptime_s: None,
            outcome: Some(Outcome {
                last_exit_code: Some(1),
                reason: Some("exited 3 times".into()),
                last_probe: Some(Probe {
                    ok: false,
                    latency_ms: 1.5,
                    error_type: Some("connection_refused"),
                    status_code: None,
                    detail: None,
                    at_ms: 7,
                }),
                last_reload: None,
            }),
            blocking: false,
            auto_restart: Some(true),
            builtin: false,
            url: None,
            health: Some(Health::Http("/healthz".into())),
            log_file: Some("/tmp/x.log".into()),
            faults: None,
        };
        let v = serde_json::to_value(&view).unwrap();
        assert_eq!(
            keys(&v),
            [
                "status",
                "port",
                "pid",
                "layer",
                "restarts",
                "uptime_s",
                "last_exit_code",
                "reason",
                "last_probe",
                "last_reload",
                "blocking",
                "auto_restart",
                "builtin",
                "url",
                "health",
                "log_file"
            ]
        );
        assert_eq!(v["status"], "crash-looping");
        assert_eq!(v["last_reload"], serde_json::Value::Null);
        let back: ServiceView = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back.reason(), Some("exited 3 times"));
        assert_eq!(
            back.last_probe().and_then(|p| p.error_type),
            Some("connection_refused")
        );
        assert_eq!(serde_json::to_value(&back).unwrap(), v);
    }
}
