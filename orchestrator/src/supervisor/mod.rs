//! The supervisor: one actor task per service owns its process and its state machine
//! (`pending → starting → running ⇄ unhealthy`, `restarting`, `crash-looping`, `failed`, `stopped`,
//! `skipped`); the stack starts layer by layer, gated on health, and stops in reverse layer order.
//!
//! This module is the handle the rest of the orchestrator holds ([`Supervisor`]: start/stop the
//! stack or one service, probe, run.json). `service` is one service's shared state, `actor` its
//! state machine (health phases, backoff, crash-looping), `child` starting and stopping its
//! process, `run_json` the writer that keeps `.hippodrome/run.json` current.

mod actor;
mod child;
mod run_json;
mod service;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, watch};

use crate::interrupt::StopTokens;
use crate::logs::{LogSink, RunLogs};
use crate::probe::{self, Probe};
use crate::runfile::{RunFile, RunService};
use crate::services::ServiceSpec;
use actor::{Actor, Cmd};
pub use child::STOP_GRACE;
pub(crate) use child::exit_code;
pub use service::{Reload, Service, ServiceState, Status};

/// Knobs shared by every actor.
#[derive(Clone)]
pub struct Options {
    pub die_with_parent: bool,
    pub health_interval: Duration,
    pub layer_timeout: Duration,
    pub echo: bool,
    /// Variables learned after start (the seeded Cognito pool id...), given to every later spawn.
    pub late_env: Arc<Mutex<BTreeMap<String, String>>>,
    /// Reach work in flight when the stack stops; a second Ctrl+C skips the grace period.
    pub stop: StopTokens,
}

pub struct Supervisor {
    pub services: Vec<Arc<Service>>,
    pub logs: RunLogs,
    pub options: Options,
    run_tx: watch::Sender<RunFile>,
    run_removed: Mutex<Option<oneshot::Receiver<()>>>,
    /// Set once every layer has been started (healthy or timed out).
    pub started: AtomicBool,
}

impl Supervisor {
    /// Create the actors (nothing is spawned until `start_all`) and write `run_file` to
    /// `run_path` now, so the stack can be found from another shell as soon as it is announced
    /// anywhere, even when later rewrites are slowed by a busy disk.
    pub fn new(
        specs: Vec<ServiceSpec>,
        logs: RunLogs,
        options: Options,
        run_file: RunFile,
        run_path: std::path::PathBuf,
    ) -> std::io::Result<Arc<Self>> {
        run_file.write(&run_path)?;
        let width = specs.iter().map(|s| s.name.len()).max().unwrap_or(8);
        let (run_tx, removed_rx) = run_json::spawn_writer(run_file, run_path);
        let client = probe::client();
        let mut services = Vec::new();
        for spec in specs {
            let (tx, rx) = mpsc::unbounded_channel();
            let log_file = logs.file_of(&spec.name);
            let sink = LogSink::new(&spec.name, log_file.clone(), options.echo, width);
            let svc = Arc::new(Service::new(spec, sink, log_file, tx, options.stop.clone()));
            if svc.spec.skip.is_none() {
                let actor = Actor::new(
                    svc.clone(),
                    rx,
                    options.clone(),
                    client.clone(),
                    run_tx.clone(),
                );
                tokio::spawn(actor.run());
            }
            services.push(svc);
        }
        Ok(Arc::new(Self {
            services,
            logs,
            options,
            run_tx,
            run_removed: Mutex::new(Some(removed_rx)),
            started: AtomicBool::new(false),
        }))
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Service>> {
        self.services.iter().find(|s| s.spec.name == name)
    }

    fn layers(&self) -> Vec<u8> {
        let mut l: Vec<u8> = self.services.iter().map(|s| s.spec.layer).collect();
        l.sort_unstable();
        l.dedup();
        l
    }

    /// Start layer by layer. After each layer is healthy, `after_layer(layer)` runs (the seed
    /// after layer 0). Err when a blocking service failed: the caller stops the stack.
    pub async fn start_all<F, Fut>(&self, mut after_layer: F) -> Result<(), String>
    where
        F: FnMut(u8) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        for layer in self.layers() {
            let members: Vec<&Arc<Service>> = self
                .services
                .iter()
                .filter(|s| s.spec.layer == layer && s.spec.skip.is_none())
                .collect();
            for s in &members {
                let _ = s.tx.send(Cmd::Start);
            }
            self.wait_layer(layer, &members).await?;
            after_layer(layer).await?;
        }
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Wait until no member of `layer` is still coming up, or the layer timeout (then warn and go
    /// on). Err as soon as a blocking member failed.
    async fn wait_layer(&self, layer: u8, members: &[&Arc<Service>]) -> Result<(), String> {
        let deadline = Instant::now() + self.options.layer_timeout;
        loop {
            let pending: Vec<&&Arc<Service>> = members
                .iter()
                .filter(|s| {
                    matches!(
                        s.snapshot().status,
                        Status::Pending | Status::Starting | Status::Restarting
                    )
                })
                .collect();
            if let Some(failed) = members
                .iter()
                .find(|s| s.spec.blocking && s.snapshot().status == Status::Failed)
            {
                let reason = failed.snapshot().reason.unwrap_or_default();
                return Err(format!(
                    "blocking service {} failed: {reason}",
                    failed.spec.name
                ));
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let names: Vec<&str> = pending.iter().map(|s| s.spec.name.as_str()).collect();
                tracing::warn!(
                    "layer {layer} not healthy within {:?}: {}; starting the next layer anyway",
                    self.options.layer_timeout,
                    names.join(", ")
                );
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stop everything in reverse layer order (each layer's services concurrently). Setup steps
    /// still running are cancelled first. Returns once every service's log file has its last line.
    pub async fn stop_all(&self) {
        self.options.stop.stopping.trigger();
        for layer in self.layers().into_iter().rev() {
            let mut acks = Vec::new();
            for s in self
                .services
                .iter()
                .filter(|s| s.spec.layer == layer && s.spec.skip.is_none())
            {
                let (tx, rx) = oneshot::channel();
                if s.tx.send(Cmd::Stop(tx)).is_ok() {
                    acks.push(rx);
                }
            }
            for a in acks {
                let _ = a.await;
            }
        }
        for s in &self.services {
            s.sink.flush(Duration::from_secs(2)).await;
        }
    }

    pub async fn stop(&self, name: &str) -> Result<(), String> {
        let s = self
            .get(name)
            .ok_or_else(|| format!("no service named {name}"))?;
        let (tx, rx) = oneshot::channel();
        s.tx.send(Cmd::Stop(tx))
            .map_err(|_| format!("{name} is not managed (skipped)"))?;
        rx.await.map_err(|_| "supervisor stopped".to_owned())
    }

    pub async fn restart(&self, name: &str) -> Result<(), String> {
        let s = self
            .get(name)
            .ok_or_else(|| format!("no service named {name}"))?;
        let (tx, rx) = oneshot::channel();
        s.tx.send(Cmd::Restart(tx))
            .map_err(|_| format!("{name} is not managed (skipped)"))?;
        rx.await.map_err(|_| "supervisor stopped".to_owned())
    }

    /// Hot reload: restart through the same path as a requested restart, then say why in the
    /// service's log (`restarted: src/app.py changed`) and on the dashboard.
    pub async fn reload(&self, name: &str, cause: &str) -> Result<(), String> {
        self.restart(name).await?;
        if let Some(s) = self.get(name) {
            s.sink.line(&format!("[hippodrome] restarted: {cause}"));
            s.set(|st| {
                st.last_reload = Some(Reload {
                    cause: cause.to_owned(),
                    at_ms: probe::now_ms(),
                })
            });
        }
        Ok(())
    }

    pub fn start(&self, name: &str) -> Result<(), String> {
        let s = self
            .get(name)
            .ok_or_else(|| format!("no service named {name}"))?;
        s.tx.send(Cmd::Start)
            .map_err(|_| format!("{name} is not managed (skipped)"))
    }

    /// Probe every managed service now (`/api/health?deep=1`).
    pub async fn probe_all(&self) -> BTreeMap<String, Probe> {
        let client = probe::client();
        let futs = self
            .services
            .iter()
            .filter(|s| s.spec.skip.is_none())
            .map(|s| {
                let client = client.clone();
                async move {
                    let alive = s.snapshot().pid.is_some();
                    (
                        s.spec.name.clone(),
                        probe::probe(&client, &s.spec.health, s.spec.port, alive).await,
                    )
                }
            });
        futures::future::join_all(futs).await.into_iter().collect()
    }

    /// After `stop_all`: remove run.json through its writer, so no late write brings it back.
    pub async fn remove_run_file(&self) {
        self.run_tx.send_modify(|rf| rf.orchestrator_pid = 0);
        let rx = self.run_removed.lock().take();
        if let Some(rx) = rx {
            let _ = tokio::time::timeout(Duration::from_secs(2), rx).await;
        }
    }

    pub fn run_file(&self) -> RunFile {
        self.run_tx.borrow().clone()
    }

    /// Record a child started beside the services (the `--enable-events` tunnel) in run.json, or
    /// with `None` drop it again, so `kill` and `doctor` know its process group too.
    pub fn record_child(&self, name: &str, pid: Option<u32>) {
        self.run_tx.send_modify(|rf| {
            if pid.is_some() {
                let child = RunService {
                    pid,
                    pgid: pid,
                    port: None,
                };
                rf.services.insert(name.to_owned(), child);
            } else {
                rf.services.remove(name);
            }
        });
    }
}
