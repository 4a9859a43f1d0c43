//! Stopping a whole process group: SIGTERM, wait up to a grace period, then SIGKILL — so
//! grandchildren that ignore SIGTERM die too. "Already gone" counts as success.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// True while any process of the group is alive. Zombies do not count: an orphaned grandchild
/// that was killed stays a zombie until PID 1 reaps it, which in a container may be never.
pub fn group_alive(pgid: u32) -> bool {
    match killpg(Pid::from_raw(pgid as i32), None) {
        Err(nix::errno::Errno::ESRCH) => false,
        _ => live_member_exists(pgid),
    }
}

/// Scan `/proc` for a non-zombie process whose process group is `pgid`.
fn live_member_exists(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .is_none_or(|n| !n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the `(comm)` field: state, ppid, pgrp, ...
        let mut fields = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace())
            .into_iter()
            .flatten();
        let (Some(state), Some(_ppid), Some(pgrp)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if pgrp.parse::<u32>() == Ok(pgid) && state != "Z" && state != "X" {
            return true;
        }
    }
    false
}

/// Send `sig` to the group, ignoring "no such process".
pub fn signal_group(pgid: u32, sig: Signal) {
    let _ = killpg(Pid::from_raw(pgid as i32), sig);
}

/// True while the process exists and is not a zombie (a zombie has exited; it only waits for its
/// parent to reap it, which may be a test harness or a shell that is busy).
pub fn pid_alive(pid: u32) -> bool {
    match nix::sys::signal::kill(Pid::from_raw(pid as i32), None) {
        Err(nix::errno::Errno::ESRCH) => false,
        _ => !is_zombie(pid),
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// SIGTERM the group, wait up to `grace`, then SIGKILL it and wait until it is gone (at most 2 s
/// more). Returns true if the group had to be killed.
pub async fn terminate_group(pgid: u32, grace: Duration) -> bool {
    if !group_alive(pgid) {
        return false;
    }
    signal_group(pgid, Signal::SIGTERM);
    // A stopped (SIGSTOP) group cannot act on SIGTERM until continued.
    signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !group_alive(pgid) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal_group(pgid, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while group_alive(pgid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// How [`stop_child`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The whole group exited after SIGTERM.
    Exited,
    /// Something in the group outlived the grace period and was killed.
    Killed,
    /// `kill_now` was triggered during the grace period: killed without waiting further.
    KilledAtOnce,
}

/// Stop `child` and its process group: SIGTERM (and SIGCONT, so a stopped group can act on it),
/// up to `grace` for the group to exit, then SIGKILL; `kill_now` cuts the grace period short.
pub async fn stop_child(
    child: &mut tokio::process::Child,
    grace: Duration,
    kill_now: &service_kit::Shutdown,
) -> Stopped {
    let Some(pgid) = child.id() else {
        let _ = child.wait().await;
        return Stopped::Exited;
    };
    signal_group(pgid, Signal::SIGTERM);
    signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    let mut reaped = false;
    // Reap our direct child as soon as it exits: an unreaped zombie still counts as a group member.
    while Instant::now() < deadline && !kill_now.is_triggered() {
        if !reaped && matches!(child.try_wait(), Ok(Some(_))) {
            reaped = true;
        }
        if reaped && !group_alive(pgid) {
            return Stopped::Exited;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let how = if kill_now.is_triggered() {
        Stopped::KilledAtOnce
    } else {
        Stopped::Killed
    };
    signal_group(pgid, Signal::SIGKILL);
    let _ = child.wait().await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while group_alive(pgid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    how
}
