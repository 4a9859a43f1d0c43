//! Every port the chosen profile needs: free, ours (this project's running stack), or held by
//! someone else — named with pid and command line, and the command that frees it.

use super::{Check, Inputs};
use crate::process::preflight::{self, Holder};

pub fn check(i: &Inputs) -> Vec<Check> {
    let mut wanted: Vec<(String, u16)> = vec![("dashboard".to_owned(), i.ports.dashboard())];
    for s in i.planned() {
        if let Some(p) = s.port {
            wanted.push((s.name.clone(), p));
        }
    }
    let mut out = Vec::new();
    let mut free = Vec::new();
    for (name, port) in &wanted {
        match state(i, *port) {
            PortState::Free => free.push(format!("{name} :{port}")),
            PortState::Ours(pid) => out.push(Check::ok(
                "ports",
                format!(
                    "port {port} ({name}) is held by this project's running stack (pid {pid}): ours"
                ),
            )),
            PortState::Taken(c) => out.push(taken(c, name, *port, i.ports.offset)),
        }
    }
    if !free.is_empty() {
        out.insert(0, Check::ok("ports", format!("free: {}", free.join(", "))));
    }
    if i.planned().any(|s| s.name == "fake_cell") {
        let (lo, hi) = i.ports.index_range();
        let mut ours = 0;
        let mut bad = Vec::new();
        for port in lo..=hi {
            match state(i, port) {
                PortState::Free => {}
                PortState::Ours(_) => ours += 1,
                PortState::Taken(c) => {
                    bad.push(taken(c, "fake_cell index servers", port, i.ports.offset))
                }
            }
        }
        if bad.is_empty() {
            let note = if ours > 0 {
                format!(" ({ours} held by this project's running stack: ours)")
            } else {
                String::new()
            };
            out.push(Check::ok(
                "ports",
                format!("index-server range {lo}-{hi} is free{note}"),
            ));
        } else {
            out.extend(bad);
        }
    }
    out
}

enum PortState {
    Free,
    /// pid of the holder (or of our orchestrator when the holder is between restarts)
    Ours(u32),
    Taken(Option<Holder>),
}

fn state(i: &Inputs, port: u16) -> PortState {
    if preflight::port_free(port) {
        return PortState::Free;
    }
    let holder = preflight::port_holder(port);
    if let Some(h) = &holder
        && is_ours(i, h)
    {
        return PortState::Ours(h.pid);
    }
    if holder.is_none() {
        // The holder may have exited between the two looks (a service of a running stack restarting).
        if preflight::port_free(port) {
            return PortState::Free;
        }
        if let Some(run) = i.run.as_ref().filter(|r| r.orchestrator_alive())
            && run.services.values().any(|s| s.port == Some(port))
        {
            return PortState::Ours(run.orchestrator_pid);
        }
    }
    PortState::Taken(holder)
}

/// Held by this project's live stack: its orchestrator, or a process in a recorded process group.
fn is_ours(i: &Inputs, h: &Holder) -> bool {
    let Some(run) = i.run.as_ref().filter(|r| r.orchestrator_alive()) else {
        return false;
    };
    if h.pid == run.orchestrator_pid {
        return true;
    }
    let pgid = nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(h.pid as i32)))
        .map(|p| p.as_raw() as u32)
        .ok();
    run.services
        .values()
        .any(|s| s.pid == Some(h.pid) || (s.pgid.is_some() && s.pgid == pgid))
}

/// A leftover of some Hippodrome stack (ours or another project's) rather than a stranger.
fn hippodrome_process(h: &Holder) -> bool {
    h.cmdline.contains("orchestrator serve")
        || h.cmdline.contains("orchestrator up")
        || h.cmdline.contains("moto.server")
        || h.cmdline.contains("moto_server")
}

fn taken(holder: Option<Holder>, name: &str, port: u16, offset: u16) -> Check {
    let beside = offset.saturating_add(100);
    match holder {
        Some(h) => {
            let cmd = if h.cmdline.is_empty() {
                "?".to_owned()
            } else {
                h.cmdline.clone()
            };
            let fix = if hippodrome_process(&h) {
                format!(
                    "a leftover Hippodrome process: `cargo run -p orchestrator -- kill` (or `kill {}`); or run beside it with --port-offset",
                    h.pid
                )
            } else {
                format!(
                    "`kill {}` if you do not need it, or run beside it with `up --port-offset {beside}`",
                    h.pid
                )
            };
            Check::fail(
                "ports",
                format!("port {port} ({name}) is in use by pid {} ({cmd})", h.pid),
                fix,
            )
        }
        None => Check::fail(
            "ports",
            format!(
                "port {port} ({name}) is in use by a process we cannot see (another user or container)"
            ),
            format!(
                "find it with `ss -ltnp 'sport = :{port}'` (as root), or run beside it with `up --port-offset {beside}`"
            ),
        ),
    }
}
