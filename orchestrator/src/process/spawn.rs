//! Spawning one service: its own process group (so stop reaches grandchildren), piped output
//! (prefixed and copied to the log by `logs`), unbuffered Python, and on Linux a parent-death
//! signal so services die with the orchestrator even if it is killed outright (not with `--detach`).
//! [`own_group`] is that group and signal for any other child (the `--enable-events` tunnel).
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::services::ServiceSpec;

/// Spawn `spec` in a new process group with piped stdout/stderr.
pub fn spawn(
    spec: &ServiceSpec,
    late_env: &BTreeMap<String, String>,
    die_with_parent: bool,
) -> std::io::Result<Child> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command",
        ));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(late_env)
        .envs(&spec.env)
        .env("PYTHONUNBUFFERED", "1")
        .env("HIPPODROME_SERVICE", &spec.name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    own_group(&mut cmd, die_with_parent).spawn()
}

/// A new process group (so a stop reaches grandchildren and `kill` finds the group recorded in
/// run.json) and, when `die_with_parent`, the parent-death signal: how every child is started.
pub fn own_group(cmd: &mut Command, die_with_parent: bool) -> &mut Command {
    cmd.process_group(0);
    if die_with_parent {
        set_parent_death_signal(cmd);
    }
    cmd
}

#[cfg(target_os = "linux")]
fn set_parent_death_signal(cmd: &mut Command) {
    let parent = std::process::id() as i32;
    // SAFETY: the closure runs in the forked child before exec and only calls async-signal-safe
    // functions (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}
