//! The public URL AWS posts to: a `cloudflared` quick tunnel to the local router, started like
//! every other child of the orchestrator (own process group, parent-death signal unless
//! `--detach`) and recorded while it runs, so `orchestrator kill` finds it after a crash.

use std::fmt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

use super::AwsModeError;
use crate::process::{preflight, signal, spawn};
use crate::supervisor::Supervisor;

/// The tunnel's entry in `.hippodrome/run.json`.
pub const RUN_FILE_NAME: &str = "cloudflared";

/// How long cloudflared may take to print its quick-tunnel URL.
const URL_WITHIN: Duration = Duration::from_secs(30);

/// How the router gets a public URL.
#[derive(Debug, Clone)]
pub enum TunnelSource {
    /// Start `cloudflared tunnel --url http://127.0.0.1:<port>` and read its quick-tunnel URL.
    Cloudflared,
    /// Use this URL as is (an existing tunnel, or tests).
    PublicUrl(String),
}

/// Told the tunnel's pid when it starts and `None` once it is stopped.
pub type RecordPid = Arc<dyn Fn(Option<u32>) + Send + Sync>;

/// How cloudflared is run: like the services (see `process::spawn`).
#[derive(Clone)]
pub struct TunnelProcess {
    /// Give it the parent-death signal (the services have it unless `--detach`).
    pub die_with_parent: bool,
    /// Where its pid is recorded while it runs (`up`: run.json).
    pub record_pid: Option<RecordPid>,
}

impl TunnelProcess {
    /// Dies with this process, recorded nowhere.
    pub fn standalone() -> Self {
        TunnelProcess {
            die_with_parent: true,
            record_pid: None,
        }
    }

    /// As the supervisor runs its services, and recorded in its run.json as `cloudflared`.
    pub fn supervised(sup: &Arc<Supervisor>) -> Self {
        let sup = sup.clone();
        TunnelProcess {
            die_with_parent: sup.options.die_with_parent,
            record_pid: Some(Arc::new(move |pid| sup.record_child(RUN_FILE_NAME, pid))),
        }
    }

    fn record(&self, pid: Option<u32>) {
        if let Some(record) = &self.record_pid {
            record(pid);
        }
    }
}

impl fmt::Debug for TunnelProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunnelProcess")
            .field("die_with_parent", &self.die_with_parent)
            .field("recorded", &self.record_pid.is_some())
            .finish()
    }
}

/// A running cloudflared, in a process group of its own.
#[derive(Debug)]
pub struct Tunnel {
    child: Child,
    process: TunnelProcess,
}

impl Tunnel {
    /// Start cloudflared towards `port` and wait for its `*.trycloudflare.com` URL.
    pub async fn start(
        port: u16,
        process: &TunnelProcess,
    ) -> Result<(String, Tunnel), AwsModeError> {
        let program =
            preflight::which("cloudflared").ok_or(AwsModeError::CloudflaredMissing { port })?;
        let mut cmd = Command::new(program);
        cmd.args(["tunnel", "--no-autoupdate", "--url"])
            .arg(format!("http://127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = spawn::own_group(&mut cmd, process.die_with_parent)
            .spawn()
            .map_err(|e| AwsModeError::Tunnel(format!("cannot start cloudflared: {e}")))?;
        process.record(child.id());
        let stderr = child.stderr.take();
        let tunnel = Tunnel {
            child,
            process: process.clone(),
        };
        let Some(stderr) = stderr else {
            tunnel.stop().await;
            return Err(AwsModeError::Tunnel("no stderr from cloudflared".into()));
        };
        match read_url(stderr).await {
            Ok(url) => Ok((url, tunnel)),
            Err(why) => {
                tunnel.stop().await;
                Err(AwsModeError::Tunnel(why))
            }
        }
    }

    /// Kill its whole process group at once (a quick tunnel has nothing to flush) and drop its
    /// run.json entry.
    pub async fn stop(mut self) {
        if let Some(pgid) = self.child.id() {
            signal::signal_group(pgid, Signal::SIGKILL);
        }
        let _ = self.child.kill().await;
        self.process.record(None);
    }
}

/// Read cloudflared's log until the quick-tunnel URL, then keep draining it in the background
/// so cloudflared never blocks on a full pipe.
async fn read_url(stderr: ChildStderr) -> Result<String, String> {
    let mut lines = BufReader::new(stderr).lines();
    let found = tokio::time::timeout(URL_WITHIN, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = quick_tunnel_url(&line) {
                return Some(url);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(url)) => {
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "cloudflared", "{line}");
                }
            });
            Ok(url)
        }
        Ok(None) => Err("cloudflared exited before printing a tunnel URL".to_owned()),
        Err(_) => Err(format!(
            "no *.trycloudflare.com URL from cloudflared within {} s",
            URL_WITHIN.as_secs()
        )),
    }
}

/// The `https://<words>.trycloudflare.com` URL in one line of cloudflared's log, if any.
pub fn quick_tunnel_url(line: &str) -> Option<String> {
    let start = line.find("https://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '|' && *c != '"')
        .collect();
    url.contains(".trycloudflare.com").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_url_from_cloudflared_log() {
        let line = "2026-03-01T12:00:00Z INF |  https://quiet-river-1234.trycloudflare.com                                    |";
        assert_eq!(
            quick_tunnel_url(line).as_deref(),
            Some("https://quiet-river-1234.trycloudflare.com")
        );
        assert_eq!(
            quick_tunnel_url("INF see https://www.cloudflare.com/website-terms/"),
            None
        );
    }
}
