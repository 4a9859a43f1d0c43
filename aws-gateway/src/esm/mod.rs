//! SQS → Lambda event source mappings, run by the gateway because moto cannot run a function.
//!
//! moto keeps the mappings (CreateEventSourceMapping, List, Get, Update, Delete all reach it),
//! but its own SQS dispatch would receive every new message, fail to start a Docker container,
//! and leave the message with its receive count raised — sending it to the DLQ without our
//! function ever seeing it. So on moto every SQS mapping is kept `Disabled`, and the gateway
//! holds the state the caller asked for ([`shadow`] rewrites those calls and their answers).
//!
//! - [`discover`]: which mappings to poll (moto's, re-read every `--esm-refresh-ms` and right
//!   after a forwarded mapping call, plus `--sqs-mapping` flags);
//! - [`poll`]: one long-polling task per mapping: receive, invoke with AWS's SQS event, delete
//!   only after a successful invoke (honouring `ReportBatchItemFailures`);
//! - [`shadow`]: the proxy-path rewriting of the mapping calls.
//!
//! Both discovery and the pollers wait while a snapshot restore holds the gateway's gate, and a
//! poller started before a restore ends with it (discovery starts it again if the restored moto
//! still has its mapping), so none takes a message out of a half-replayed or replaced queue.

pub mod discover;
pub mod poll;
pub mod shadow;

use std::collections::{BTreeMap, HashMap, HashSet};

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::AppState;

/// Most mappings the gateway remembers a caller's `Enabled` for.
const MAX_REMEMBERED: usize = 10_000;

/// One mapping to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// moto's UUID, or `config:FUNCTION:QUEUE_ARN` for a `--sqs-mapping`.
    pub key: String,
    pub function: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
}

/// What `/_gateway/lambdas` shows for one mapping.
#[derive(Debug, Clone, Serialize, Default)]
pub struct MappingStatus {
    pub key: String,
    pub function: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
    /// `polling`, `disabled`, `function_not_declared` or `error`.
    pub state: String,
    pub messages_received: u64,
    pub invocations: u64,
    pub messages_deleted: u64,
    pub failed_batches: u64,
    pub last_error: Option<String>,
}

#[derive(Default)]
pub struct EsmState {
    refresh: Notify,
    /// uuid → the `Enabled` the caller asked for (moto's copy is always disabled).
    desired: Mutex<HashMap<String, bool>>,
    /// UUIDs known to be SQS mappings.
    sqs: Mutex<HashSet<String>>,
    statuses: Mutex<BTreeMap<String, MappingStatus>>,
}

impl EsmState {
    /// Re-read the mappings now (after a forwarded mapping call).
    pub fn refresh_now(&self) {
        self.refresh.notify_one();
    }

    pub fn desired(&self, uuid: &str) -> Option<bool> {
        self.desired.lock().get(uuid).copied()
    }

    pub fn set_desired(&self, uuid: &str, enabled: bool) {
        let mut d = self.desired.lock();
        if d.len() < MAX_REMEMBERED || d.contains_key(uuid) {
            d.insert(uuid.to_owned(), enabled);
        }
        drop(d);
        let mut s = self.sqs.lock();
        if s.len() < MAX_REMEMBERED {
            s.insert(uuid.to_owned());
        }
    }

    pub fn is_sqs(&self, uuid: &str) -> bool {
        self.sqs.lock().contains(uuid)
    }

    pub fn forget(&self, uuid: &str) {
        self.desired.lock().remove(uuid);
        self.sqs.lock().remove(uuid);
    }

    /// Apply `f` to one mapping's status (a short lock, never held across I/O).
    pub fn update(&self, key: &str, f: impl FnOnce(&mut MappingStatus)) {
        if let Some(s) = self.statuses.lock().get_mut(key) {
            f(s);
        }
    }

    pub fn statuses(&self) -> Vec<MappingStatus> {
        self.statuses.lock().values().cloned().collect()
    }

    fn set_statuses(&self, wanted: &[(Mapping, &'static str)]) {
        let mut map = self.statuses.lock();
        map.retain(|k, _| wanted.iter().any(|(m, _)| &m.key == k));
        for (m, state) in wanted {
            let s = map.entry(m.key.clone()).or_default();
            s.key = m.key.clone();
            s.function = m.function.clone();
            s.queue_arn = m.queue_arn.clone();
            s.batch_size = m.batch_size;
            s.report_batch_item_failures = m.report_batch_item_failures;
            if s.state != "error" || *state != "polling" {
                s.state = (*state).to_owned();
            }
        }
    }
}

/// The manager: re-read the mappings, start a poller for each new one, stop the ones gone.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: HashMap<String, (Mapping, JoinHandle<()>)> = HashMap::new();
        loop {
            state.restore_gate().wait_open().await;
            match discover::wanted(&state).await {
                Ok(wanted) => {
                    state
                        .health()
                        .check_ok("moto", serde_json::json!({ "url": state.proxy().url() }));
                    reconcile(&state, &mut running, wanted);
                }
                Err(e) => {
                    state.health().check_failed("moto", e.clone());
                    tracing::debug!(error = %e, "event source mappings: moto not readable");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(state.config().esm_refresh()) => {}
                () = state.esm().refresh.notified() => {}
                () = state.shutdown().wait() => break,
            }
        }
        for (_, (_, task)) in running {
            task.abort();
        }
    })
}

fn reconcile(
    state: &AppState,
    running: &mut HashMap<String, (Mapping, JoinHandle<()>)>,
    wanted: Vec<(Mapping, &'static str)>,
) {
    state.esm().set_statuses(&wanted);
    let polled: Vec<&Mapping> = wanted
        .iter()
        .filter(|(_, s)| *s == "polling")
        .map(|(m, _)| m)
        .collect();
    running.retain(|key, (m, task)| {
        let keep = polled.iter().any(|w| *w == m) && !task.is_finished();
        if !keep {
            tracing::info!(mapping = %key, "stopped polling");
            task.abort();
        }
        keep
    });
    for m in polled {
        if running.contains_key(&m.key) {
            continue;
        }
        tracing::info!(mapping = %m.key, function = %m.function, queue = %m.queue_arn, batch = m.batch_size, "polling SQS for Lambda");
        let task = tokio::spawn(poll::poll(state.clone(), m.clone()));
        running.insert(m.key.clone(), (m.clone(), task));
    }
}
