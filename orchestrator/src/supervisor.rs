//! The supervisor: one actor task per service owns its process and its state machine
//! (`pending → starting → running ⇄ unhealthy`, `restarting`, `crash-looping`, `failed`, `stopped`,
//! `skipped`); the stack starts layer by layer, gated on health, and stops in reverse layer order.
//!
//! Health has two phases. *Startup*: probes every 25 ms, failures don't count, until the first
//! success or the layer timeout. *Liveness*: every `health_interval`; three consecutive failures
//! restart the service (when `auto_restart`). A process that exits is restarted with exponential
//! backoff; one that keeps dying soon after start is `crash-looping`, with its exit code and log tail.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};

use crate::interrupt::StopTokens;
use crate::logs::{LogSink, RunLogs};
use crate::plan::ServiceSpec;
use crate::probe::{self, Probe};
use crate::process::{preflight, signal, spawn};
use crate::runfile::{RunFile, RunService};
use crate::setup::{self, SetupError};

/// Grace period between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// A process that dies sooner than this after starting counts towards crash-looping.
const QUICK_DEATH: Duration = Duration::from_secs(10);
/// Quick deaths in a row before the service is reported as crash-looping.
const CRASH_LOOP_AFTER: u32 = 3;
const STARTUP_PROBE_EVERY: Duration = Duration::from_millis(25);
const LIVENESS_FAILURES: u32 = 3;

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

enum Event {
    Exited(Option<std::process::ExitStatus>),
    Command(Option<Cmd>),
    Probe,
}

enum Cmd {
    Start,
    Stop(oneshot::Sender<()>),
    Restart(oneshot::Sender<()>),
}

pub struct Service {
    pub spec: ServiceSpec,
    pub state: Mutex<ServiceState>,
    pub sink: LogSink,
    pub log_file: std::path::PathBuf,
    tx: mpsc::UnboundedSender<Cmd>,
    stop: StopTokens,
}

impl Service {
    fn set(&self, f: impl FnOnce(&mut ServiceState)) {
        f(&mut self.state.lock());
    }

    pub fn snapshot(&self) -> ServiceState {
        self.state.lock().clone()
    }
}

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
        let client = probe::client();
        let mut services = Vec::new();
        for spec in specs {
            let (tx, rx) = mpsc::unbounded_channel();
            let log_file = logs.file_of(&spec.name);
            let sink = LogSink::new(&spec.name, log_file.clone(), options.echo, width);
            let status = if spec.skip.is_some() {
                Status::Skipped
            } else {
                Status::Pending
            };
            let svc = Arc::new(Service {
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
                stop: options.stop.clone(),
            });
            if svc.spec.skip.is_none() {
                tokio::spawn(actor(
                    svc.clone(),
                    rx,
                    options.clone(),
                    client.clone(),
                    run_tx.clone(),
                ));
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
                    break;
                }
                if Instant::now() >= deadline {
                    let names: Vec<&str> = pending.iter().map(|s| s.spec.name.as_str()).collect();
                    tracing::warn!(
                        "layer {layer} not healthy within {:?}: {}; starting the next layer anyway",
                        self.options.layer_timeout,
                        names.join(", ")
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            after_layer(layer).await?;
        }
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Stop everything in reverse layer order (each layer's services concurrently). Setup steps
    /// still running are cancelled first.
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
}

fn record_pid(run_tx: &watch::Sender<RunFile>, spec: &ServiceSpec, pid: Option<u32>) {
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

/// The per-service actor: owns the child process, reacts to exits, commands and probe ticks.
async fn actor(
    svc: Arc<Service>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    opts: Options,
    client: reqwest::Client,
    run_tx: watch::Sender<RunFile>,
) {
    let mut child: Option<Child> = None;
    let mut want_running = false;
    let mut quick_deaths: u32 = 0;
    let mut healthy_once = false;
    let mut startup_deadline = Instant::now();
    let mut next_probe = Instant::now();
    let mut failures: u32 = 0;

    loop {
        let Some(ch) = child.as_mut() else {
            // Not running: wait for a command.
            match rx.recv().await {
                Some(Cmd::Start) | Some(Cmd::Restart(_))
                    if want_running && svc.snapshot().status == Status::Failed =>
                {
                    // A failed service may be started again on request.
                    child = start_process(&svc, &opts, &run_tx).await;
                }
                Some(Cmd::Start) => {
                    want_running = true;
                    quick_deaths = 0;
                    child = start_process(&svc, &opts, &run_tx).await;
                }
                Some(Cmd::Restart(ack)) => {
                    want_running = true;
                    quick_deaths = 0;
                    svc.set(|s| s.restarts += 1);
                    child = start_process(&svc, &opts, &run_tx).await;
                    let _ = ack.send(());
                }
                Some(Cmd::Stop(ack)) => {
                    want_running = false;
                    svc.set(|s| {
                        if s.status != Status::Failed {
                            s.status = Status::Stopped;
                        }
                    });
                    let _ = ack.send(());
                }
                None => return,
            }
            if child.is_some() {
                healthy_once = false;
                failures = 0;
                startup_deadline = Instant::now() + opts.layer_timeout;
                next_probe = Instant::now();
            } else if want_running && svc.snapshot().status == Status::Failed {
                want_running = false;
            }
            continue;
        };

        let event = tokio::select! {
            exit = ch.wait() => Event::Exited(exit.ok()),
            cmd = rx.recv() => Event::Command(cmd),
            _ = tokio::time::sleep_until(next_probe.into()) => Event::Probe,
        };
        match event {
            Event::Exited(exit) => {
                let code = exit.map(exit_code);
                let pid = svc.snapshot().pid;
                // Reap grandchildren left in the group before anything reuses the port.
                if let Some(pgid) = pid {
                    signal::terminate_group(pgid, Duration::from_millis(500)).await;
                }
                child = None;
                record_pid(&run_tx, &svc.spec, None);
                let lived = svc
                    .snapshot()
                    .started_at
                    .map(|t| t.elapsed())
                    .unwrap_or_default();
                svc.set(|s| {
                    s.pid = None;
                    s.last_exit_code = code;
                });
                if !want_running {
                    svc.set(|s| s.status = Status::Stopped);
                    continue;
                }
                let code_text = code.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
                svc.sink.line(&format!(
                    "[hippodrome] {} exited with code {code_text}",
                    svc.spec.name
                ));
                if !svc.spec.auto_restart {
                    want_running = false;
                    svc.set(|s| {
                        s.status = Status::Failed;
                        s.reason =
                            Some(format!("exited with code {code_text}; auto_restart is off"));
                    });
                    continue;
                }
                if lived < QUICK_DEATH {
                    quick_deaths += 1
                } else {
                    quick_deaths = 1
                }
                let backoff =
                    Duration::from_millis(200u64.saturating_mul(1 << quick_deaths.min(8)))
                        .min(Duration::from_secs(30));
                if quick_deaths >= CRASH_LOOP_AFTER {
                    let tail = svc.sink.tail(5).join(" | ");
                    svc.set(|s| {
                        s.status = Status::CrashLooping;
                        s.reason = Some(format!("exited {quick_deaths} times within {}s of starting; last exit code {code_text}; retrying in {:.1}s; last lines: {tail}", QUICK_DEATH.as_secs(), backoff.as_secs_f64()));
                    });
                } else {
                    svc.set(|s| {
                        s.status = Status::Restarting;
                        s.reason = Some(format!(
                            "exited with code {code_text}; restarting in {:.1}s",
                            backoff.as_secs_f64()
                        ));
                    });
                }
                // Wait out the backoff, but obey a stop meanwhile.
                let sleep = tokio::time::sleep(backoff);
                tokio::pin!(sleep);
                let mut stopped = false;
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        cmd = rx.recv() => match cmd {
                            Some(Cmd::Stop(ack)) => { want_running = false; svc.set(|s| s.status = Status::Stopped); let _ = ack.send(()); stopped = true; break; }
                            Some(Cmd::Restart(ack)) => { let _ = ack.send(()); break; }
                            Some(Cmd::Start) => {}
                            None => return,
                        }
                    }
                }
                if stopped {
                    continue;
                }
                svc.set(|s| s.restarts += 1);
                let crash_looping = svc.snapshot().status == Status::CrashLooping;
                child = start_process(&svc, &opts, &run_tx).await;
                if crash_looping && child.is_some() {
                    // Keep reporting crash-looping until the service proves itself healthy.
                    svc.set(|s| s.status = Status::CrashLooping);
                }
                healthy_once = false;
                failures = 0;
                startup_deadline = Instant::now() + opts.layer_timeout;
                next_probe = Instant::now();
            }
            Event::Command(cmd) => match cmd {
                Some(Cmd::Start) => {}
                Some(Cmd::Stop(ack)) => {
                    want_running = false;
                    if let Some(c) = child.take() {
                        stop_process(&svc, c).await;
                    }
                    record_pid(&run_tx, &svc.spec, None);
                    svc.set(|s| {
                        s.status = Status::Stopped;
                        s.reason = None;
                        s.pid = None;
                    });
                    let _ = ack.send(());
                }
                Some(Cmd::Restart(ack)) => {
                    quick_deaths = 0;
                    child = restart_process(&svc, child.take(), &opts, &run_tx).await;
                    healthy_once = false;
                    failures = 0;
                    startup_deadline = Instant::now() + opts.layer_timeout;
                    next_probe = Instant::now();
                    let _ = ack.send(());
                }
                None => {
                    if let Some(c) = child.take() {
                        stop_process(&svc, c).await;
                    }
                    return;
                }
            },
            Event::Probe => {
                let p = probe::probe(&client, &svc.spec.health, svc.spec.port, true).await;
                let ok = p.ok;
                let in_startup = !healthy_once && Instant::now() < startup_deadline;
                svc.set(|s| s.last_probe = Some(p.clone()));
                if ok {
                    healthy_once = true;
                    failures = 0;
                    svc.set(|s| {
                        let lived = s.started_at.map(|t| t.elapsed()).unwrap_or_default();
                        // A crash-looping service is cleared once it stays healthy past QUICK_DEATH.
                        if s.status != Status::CrashLooping || lived >= QUICK_DEATH {
                            s.status = Status::Running;
                            s.reason = None;
                        }
                    });
                    if svc.snapshot().status == Status::Running {
                        quick_deaths = 0;
                    }
                    next_probe = Instant::now()
                        + if svc.snapshot().status == Status::Running {
                            opts.health_interval
                        } else {
                            Duration::from_secs(1)
                        };
                } else if in_startup {
                    next_probe = Instant::now() + STARTUP_PROBE_EVERY;
                } else {
                    failures += 1;
                    let why = p.error_type.unwrap_or("error");
                    svc.set(|s| {
                        s.status = Status::Unhealthy;
                        s.reason = Some(format!(
                            "{failures} consecutive failed health probes ({why})"
                        ));
                    });
                    if failures >= LIVENESS_FAILURES && svc.spec.auto_restart {
                        svc.sink.line(&format!("[hippodrome] {} failed {failures} health probes in a row ({why}); restarting", svc.spec.name));
                        child = restart_process(&svc, child.take(), &opts, &run_tx).await;
                        healthy_once = false;
                        failures = 0;
                        startup_deadline = Instant::now() + opts.layer_timeout;
                        next_probe = Instant::now();
                    } else {
                        next_probe =
                            Instant::now() + opts.health_interval.min(Duration::from_secs(2));
                    }
                }
            }
        }
    }
}

pub(crate) fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| -status.signal().unwrap_or(0))
}

/// Stop `child` (if any), count a restart, and start the service again.
async fn restart_process(
    svc: &Arc<Service>,
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
async fn start_process(
    svc: &Arc<Service>,
    opts: &Options,
    run_tx: &watch::Sender<RunFile>,
) -> Option<Child> {
    let spec = &svc.spec;
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
    if let Some(setup) = &spec.setup
        && !setup.creates.exists()
    {
        let progress = |text: String| svc.set(|s| s.reason = Some(text));
        let outcome = setup::run(spec, setup, &svc.sink, &svc.log_file, &svc.stop, progress).await;
        match outcome {
            Ok(()) => {}
            Err(SetupError::Cancelled) => {
                svc.set(|s| {
                    s.status = Status::Stopped;
                    s.reason = Some("stopped during its setup step".into());
                });
                return None;
            }
            Err(SetupError::Failed(e)) => {
                svc.set(|s| {
                    s.status = Status::Failed;
                    s.reason = Some(e);
                });
                return None;
            }
        }
    }
    if let Some(port) = spec.port
        && !preflight::port_free(port)
    {
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
            let msg = preflight::port_in_use_message(&spec.name, port);
            svc.sink.line(&format!("[hippodrome] {msg}"));
            svc.set(|s| {
                s.status = Status::Failed;
                s.reason = Some(msg);
            });
            return None;
        }
    }
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

async fn stop_process(svc: &Arc<Service>, mut child: Child) {
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
