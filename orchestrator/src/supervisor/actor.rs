//! The per-service actor: the one task that owns a service's child process and moves its state
//! machine. Idle, it waits for a command; with a child running, it reacts to whichever comes first
//! of the child's exit, a command, or the next probe tick.
//!
//! Probing has two phases per process: *startup* (every 25 ms, failures don't count, until the
//! first success or the layer timeout) and *liveness* (every `health_interval`; three failures in a
//! row restart it when `auto_restart`). Exits are restarted with exponential backoff; quick deaths
//! in a row make the service `crash-looping` until it stays healthy past `QUICK_DEATH`.

use std::ops::ControlFlow;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};

use super::Options;
use super::child::{exit_code, restart_process, start_process, stop_process};
use super::run_json::record_pid;
use super::service::{Service, Status};
use crate::probe::{self, Probe};
use crate::process::signal;
use crate::runfile::RunFile;

/// A process that dies sooner than this after starting counts towards crash-looping.
const QUICK_DEATH: Duration = Duration::from_secs(10);
/// Quick deaths in a row before the service is reported as crash-looping.
const CRASH_LOOP_AFTER: u32 = 3;
const STARTUP_PROBE_EVERY: Duration = Duration::from_millis(25);
const LIVENESS_FAILURES: u32 = 3;

/// What the `Supervisor` asks of an actor; `Stop` and `Restart` are acknowledged once done.
pub(super) enum Cmd {
    Start,
    Stop(oneshot::Sender<()>),
    Restart(oneshot::Sender<()>),
}

enum Event {
    Exited(Option<ExitStatus>),
    Command(Option<Cmd>),
    Probe,
}

/// How a restart backoff ended.
enum Backoff {
    /// Waited it out, or a restart was requested: start again now.
    Over,
    /// A stop was requested: stay down.
    Stopped,
    /// The supervisor is gone: end the actor.
    Closed,
}

/// Health probing of the current process.
struct Probing {
    /// The process answered a probe once: failures count from now on.
    healthy_once: bool,
    /// Failed liveness probes in a row.
    failures: u32,
    /// End of the startup phase, even without a first success.
    startup_deadline: Instant,
    next_probe: Instant,
}

impl Probing {
    fn new() -> Self {
        Self {
            healthy_once: false,
            failures: 0,
            startup_deadline: Instant::now(),
            next_probe: Instant::now(),
        }
    }

    /// A new process: back to the startup phase, first probe at once.
    fn restart(&mut self, layer_timeout: Duration) {
        self.healthy_once = false;
        self.failures = 0;
        self.startup_deadline = Instant::now() + layer_timeout;
        self.next_probe = Instant::now();
    }
}

pub(super) struct Actor {
    svc: Arc<Service>,
    rx: mpsc::UnboundedReceiver<Cmd>,
    opts: Options,
    client: reqwest::Client,
    run_tx: watch::Sender<RunFile>,
    child: Option<Child>,
    /// Someone asked for the service to run and nobody has since stopped it or given up on it.
    want_running: bool,
    /// Deaths soon after start in a row: they lengthen the backoff and mean crash-looping.
    quick_deaths: u32,
    probing: Probing,
}

impl Actor {
    pub(super) fn new(
        svc: Arc<Service>,
        rx: mpsc::UnboundedReceiver<Cmd>,
        opts: Options,
        client: reqwest::Client,
        run_tx: watch::Sender<RunFile>,
    ) -> Self {
        Self {
            svc,
            rx,
            opts,
            client,
            run_tx,
            child: None,
            want_running: false,
            quick_deaths: 0,
            probing: Probing::new(),
        }
    }

    /// Run until the supervisor drops its end of the command channel.
    pub(super) async fn run(mut self) {
        loop {
            let flow = match self.child.as_mut() {
                None => {
                    let cmd = self.rx.recv().await;
                    self.on_idle_command(cmd).await
                }
                Some(ch) => {
                    let event = tokio::select! {
                        exit = ch.wait() => Event::Exited(exit.ok()),
                        cmd = self.rx.recv() => Event::Command(cmd),
                        _ = tokio::time::sleep_until(self.probing.next_probe.into()) => Event::Probe,
                    };
                    match event {
                        Event::Exited(exit) => self.on_exit(exit).await,
                        Event::Command(cmd) => self.on_command(cmd).await,
                        Event::Probe => {
                            self.on_probe().await;
                            ControlFlow::Continue(())
                        }
                    }
                }
            };
            if flow.is_break() {
                return;
            }
        }
    }

    async fn start(&self) -> Option<Child> {
        start_process(&self.svc, &self.opts, &self.run_tx).await
    }

    /// Stop the current process (if any) and start a new one, in its startup phase.
    async fn restart_now(&mut self) {
        let child = self.child.take();
        self.child = restart_process(&self.svc, child, &self.opts, &self.run_tx).await;
        self.probing.restart(self.opts.layer_timeout);
    }

    /// A command while nothing runs (not started yet, stopped, failed, or failed to start).
    async fn on_idle_command(&mut self, cmd: Option<Cmd>) -> ControlFlow<()> {
        match cmd {
            Some(Cmd::Start) | Some(Cmd::Restart(_))
                if self.want_running && self.svc.snapshot().status == Status::Failed =>
            {
                // A failed service may be started again on request.
                self.child = self.start().await;
            }
            Some(Cmd::Start) => {
                self.want_running = true;
                self.quick_deaths = 0;
                self.child = self.start().await;
            }
            Some(Cmd::Restart(ack)) => {
                self.want_running = true;
                self.quick_deaths = 0;
                self.svc.set(|s| s.restarts += 1);
                self.child = self.start().await;
                let _ = ack.send(());
            }
            Some(Cmd::Stop(ack)) => {
                self.want_running = false;
                self.svc.set(|s| {
                    if s.status != Status::Failed {
                        s.status = Status::Stopped;
                    }
                });
                let _ = ack.send(());
            }
            None => return ControlFlow::Break(()),
        }
        if self.child.is_some() {
            self.probing.restart(self.opts.layer_timeout);
        } else if self.want_running && self.svc.snapshot().status == Status::Failed {
            self.want_running = false;
        }
        ControlFlow::Continue(())
    }

    /// A command while the process runs.
    async fn on_command(&mut self, cmd: Option<Cmd>) -> ControlFlow<()> {
        match cmd {
            Some(Cmd::Start) => {}
            Some(Cmd::Stop(ack)) => {
                self.want_running = false;
                if let Some(c) = self.child.take() {
                    stop_process(&self.svc, c).await;
                }
                record_pid(&self.run_tx, &self.svc.spec, None);
                self.svc.set(|s| {
                    s.status = Status::Stopped;
                    s.reason = None;
                    s.pid = None;
                });
                let _ = ack.send(());
            }
            Some(Cmd::Restart(ack)) => {
                self.quick_deaths = 0;
                self.restart_now().await;
                let _ = ack.send(());
            }
            None => {
                if let Some(c) = self.child.take() {
                    stop_process(&self.svc, c).await;
                }
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// The process exited: leave it down (stopped, or failed without `auto_restart`) or restart it
    /// after a backoff.
    async fn on_exit(&mut self, exit: Option<ExitStatus>) -> ControlFlow<()> {
        let (code, lived) = self.reap(exit).await;
        if !self.want_running {
            self.svc.set(|s| s.status = Status::Stopped);
            return ControlFlow::Continue(());
        }
        let code_text = code.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
        self.svc.sink.line(&format!(
            "[hippodrome] {} exited with code {code_text}",
            self.svc.spec.name
        ));
        if !self.svc.spec.auto_restart {
            self.want_running = false;
            self.svc.set(|s| {
                s.status = Status::Failed;
                s.reason = Some(format!("exited with code {code_text}; auto_restart is off"));
            });
            return ControlFlow::Continue(());
        }
        let backoff = self.count_death(lived, &code_text);
        match self.wait_backoff(backoff).await {
            Backoff::Over => {}
            Backoff::Stopped => return ControlFlow::Continue(()),
            Backoff::Closed => return ControlFlow::Break(()),
        }
        self.svc.set(|s| s.restarts += 1);
        let crash_looping = self.svc.snapshot().status == Status::CrashLooping;
        self.child = self.start().await;
        if crash_looping && self.child.is_some() {
            // Keep reporting crash-looping until the service proves itself healthy.
            self.svc.set(|s| s.status = Status::CrashLooping);
        }
        self.probing.restart(self.opts.layer_timeout);
        ControlFlow::Continue(())
    }

    /// After an exit: reap what is left of the process group and record that nothing runs.
    /// Returns the exit code and how long the process lived.
    async fn reap(&mut self, exit: Option<ExitStatus>) -> (Option<i32>, Duration) {
        let code = exit.map(exit_code);
        let pid = self.svc.snapshot().pid;
        // Reap grandchildren left in the group before anything reuses the port.
        if let Some(pgid) = pid {
            signal::terminate_group(pgid, Duration::from_millis(500)).await;
        }
        self.child = None;
        record_pid(&self.run_tx, &self.svc.spec, None);
        let lived = self
            .svc
            .snapshot()
            .started_at
            .map(|t| t.elapsed())
            .unwrap_or_default();
        self.svc.set(|s| {
            s.pid = None;
            s.last_exit_code = code;
        });
        (code, lived)
    }

    /// Count a death towards crash-looping, say so in the status, and return the backoff before
    /// the next start: 200 ms doubled per quick death in a row, at most 30 s.
    fn count_death(&mut self, lived: Duration, code_text: &str) -> Duration {
        if lived < QUICK_DEATH {
            self.quick_deaths += 1
        } else {
            self.quick_deaths = 1
        }
        let quick_deaths = self.quick_deaths;
        let backoff = Duration::from_millis(200u64.saturating_mul(1 << quick_deaths.min(8)))
            .min(Duration::from_secs(30));
        if quick_deaths >= CRASH_LOOP_AFTER {
            let tail = self.svc.sink.tail(5).join(" | ");
            self.svc.set(|s| {
                s.status = Status::CrashLooping;
                s.reason = Some(format!("exited {quick_deaths} times within {}s of starting; last exit code {code_text}; retrying in {:.1}s; last lines: {tail}", QUICK_DEATH.as_secs(), backoff.as_secs_f64()));
            });
        } else {
            self.svc.set(|s| {
                s.status = Status::Restarting;
                s.reason = Some(format!(
                    "exited with code {code_text}; restarting in {:.1}s",
                    backoff.as_secs_f64()
                ));
            });
        }
        backoff
    }

    /// Wait out the backoff, but obey a stop meanwhile; a restart request cuts it short.
    async fn wait_backoff(&mut self, backoff: Duration) -> Backoff {
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            let cmd = tokio::select! {
                _ = &mut sleep => return Backoff::Over,
                cmd = self.rx.recv() => cmd,
            };
            match cmd {
                Some(Cmd::Stop(ack)) => {
                    self.want_running = false;
                    self.svc.set(|s| s.status = Status::Stopped);
                    let _ = ack.send(());
                    return Backoff::Stopped;
                }
                Some(Cmd::Restart(ack)) => {
                    let _ = ack.send(());
                    return Backoff::Over;
                }
                Some(Cmd::Start) => {}
                None => return Backoff::Closed,
            }
        }
    }

    /// A probe tick: in the startup phase only a success counts; afterwards failures in a row
    /// mark the service unhealthy and, past `LIVENESS_FAILURES`, restart it.
    async fn on_probe(&mut self) {
        let p = probe::probe(
            &self.client,
            &self.svc.spec.health,
            self.svc.spec.port,
            true,
        )
        .await;
        let in_startup =
            !self.probing.healthy_once && Instant::now() < self.probing.startup_deadline;
        self.svc.set(|s| s.last_probe = Some(p.clone()));
        if p.ok {
            self.on_healthy();
        } else if in_startup {
            self.probing.next_probe = Instant::now() + STARTUP_PROBE_EVERY;
        } else {
            self.on_unhealthy(p).await;
        }
    }

    fn on_healthy(&mut self) {
        self.probing.healthy_once = true;
        self.probing.failures = 0;
        self.svc.set(|s| {
            let lived = s.started_at.map(|t| t.elapsed()).unwrap_or_default();
            // A crash-looping service is cleared once it stays healthy past QUICK_DEATH.
            if s.status != Status::CrashLooping || lived >= QUICK_DEATH {
                s.status = Status::Running;
                s.reason = None;
            }
        });
        let running = self.svc.snapshot().status == Status::Running;
        if running {
            self.quick_deaths = 0;
        }
        self.probing.next_probe = Instant::now()
            + if running {
                self.opts.health_interval
            } else {
                Duration::from_secs(1)
            };
    }

    async fn on_unhealthy(&mut self, p: Probe) {
        self.probing.failures += 1;
        let failures = self.probing.failures;
        let why = p.error_type.unwrap_or("error");
        self.svc.set(|s| {
            s.status = Status::Unhealthy;
            s.reason = Some(format!(
                "{failures} consecutive failed health probes ({why})"
            ));
        });
        if failures >= LIVENESS_FAILURES && self.svc.spec.auto_restart {
            self.svc.sink.line(&format!(
                "[hippodrome] {} failed {failures} health probes in a row ({why}); restarting",
                self.svc.spec.name
            ));
            self.restart_now().await;
        } else {
            self.probing.next_probe =
                Instant::now() + self.opts.health_interval.min(Duration::from_secs(2));
        }
    }
}
