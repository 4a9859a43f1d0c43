//! `orchestrator doctor`: every known way a local stack goes wrong, each found by one check that
//! says `ok`, `warn` or `fail` and, when not ok, the one command or edit that fixes it.
//!
//! The checks read the same configuration `up` would use (profile, cell, port offset, table
//! prefix, `hippodrome.toml`) and build the same plan, so they look at exactly the ports, programs
//! and setup markers that `up` would touch. Nothing here starts, stops or installs anything; the
//! only writes are a temp file (removed at once) to prove a directory is writable.
//!
//! Modules: [`local`] (configuration, table prefix, run file, directories, disk), [`programs`]
//! (programs on PATH and their versions), [`commands`] (commands given with a path), [`setup`]
//! (setup markers, the moto venv), [`conflicts`] (services that would collide), [`ports`] (every
//! port of the plan and who holds it), [`remote`] (real cells, AWS credentials), [`stack`] (a
//! running stack's health and seed), [`export_target`] (`--target k8s|compose`: what an export needs).
//!
//! A finding that hurts only non-blocking services is a `warn`: `up` starts the rest without them.

pub mod commands;
pub mod conflicts;
pub mod export_target;
pub mod lambdas;
pub mod local;
pub mod ports;
pub mod programs;
pub mod remote;
pub mod setup;
pub mod stack;
pub mod state_machines;

use std::path::PathBuf;

use serde::Serialize;

use crate::config::env::Context;
use crate::config::{Cell, HippodromeToml, Paths, Ports, Profile};
use crate::runfile::RunFile;
use crate::services::ServiceSpec;

/// How bad a finding is. `fail` makes `doctor` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// One finding: which area, what we saw, and (unless ok) how to fix it in one line.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Area, e.g. `ports`, `programs`, `config` — stable, for machines.
    pub check: &'static str,
    pub status: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Level::Ok,
            message: message.into(),
            fix: None,
        }
    }
    pub fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Level::Warn,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
    pub fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Level::Fail,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
    /// A finding that hurts services: `fail` when one of them is blocking (`up` would stop),
    /// else `warn` (the rest of the stack starts without them).
    pub fn affecting(
        check: &'static str,
        blocking: bool,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        if blocking {
            Self::fail(check, message, fix)
        } else {
            Self::warn(check, message, fix)
        }
    }
}

/// The plan skips it because its `cwd` does not exist.
pub fn cwd_missing(s: &ServiceSpec) -> bool {
    s.skip.as_deref().is_some_and(|r| r.starts_with("cwd "))
}

/// Not in the profile or not in `--only`: nothing of it will run, so nothing of it matters.
pub fn skipped_by_selection(s: &ServiceSpec) -> bool {
    s.skip.as_deref().is_some_and(|r| {
        r.starts_with("not in profile") || r.starts_with("not in --only") || r.starts_with("--cell")
    })
}

/// Everything the checks look at, resolved once like `up` resolves it.
pub struct Inputs {
    pub paths: Paths,
    pub ports: Ports,
    pub profile: Profile,
    pub cell: Cell,
    pub enable_events: bool,
    /// `--table-prefix`, if given.
    pub table_prefix_flag: Option<String>,
    /// The parsed configuration, or the parse error (checks then use an empty configuration).
    pub toml: Result<HippodromeToml, crate::config::TomlError>,
    pub run: Option<RunFile>,
    /// `true` when `.hippodrome/run.json` exists but does not parse.
    pub run_unreadable: bool,
    pub ctx: Context,
    /// The plan `up` would build (empty when it cannot be built; see `plan_error`).
    pub plan: Vec<ServiceSpec>,
    pub plan_error: Option<String>,
    pub home: Option<PathBuf>,
}

impl Inputs {
    /// The configuration in effect: the parsed file, or an empty one when it does not parse.
    pub fn config(&self) -> &HippodromeToml {
        HippodromeToml::or_empty(&self.toml)
    }

    /// Services of the plan that `up` would actually start.
    pub fn planned(&self) -> impl Iterator<Item = &ServiceSpec> {
        self.plan.iter().filter(|s| s.skip.is_none())
    }
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub project_root: String,
    pub profile: &'static str,
    pub cell: &'static str,
    pub port_offset: u16,
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(inputs: &Inputs, checks: Vec<Check>) -> Self {
        let count = |l: Level| checks.iter().filter(|c| c.status == l).count();
        Self {
            project_root: inputs.paths.project_root.display().to_string(),
            profile: inputs.profile.as_str(),
            cell: inputs.cell.as_str(),
            port_offset: inputs.ports.offset,
            ok: count(Level::Ok),
            warn: count(Level::Warn),
            fail: count(Level::Fail),
            checks,
        }
    }

    pub fn failed(&self) -> bool {
        self.fail > 0
    }

    /// The human form: one line per check, and the fix indented under anything not ok.
    pub fn render(&self, color: bool) -> String {
        let paint = |level: Level| {
            let word = format!("{:<4}", level.as_str());
            if !color {
                return word;
            }
            let code = match level {
                Level::Ok => "32",
                Level::Warn => "33",
                Level::Fail => "31",
            };
            format!("\x1b[{code}m{word}\x1b[0m")
        };
        let mut out = format!(
            "Hippodrome doctor: {} (profile {}, cell {}, port offset {})\n",
            self.project_root, self.profile, self.cell, self.port_offset
        );
        for c in &self.checks {
            out.push_str(&format!(
                "{}  {:<9} {}\n",
                paint(c.status),
                c.check,
                c.message
            ));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("{:16}→ {fix}\n", ""));
            }
        }
        out.push_str(&format!(
            "\n{} ok, {} warn, {} fail",
            self.ok, self.warn, self.fail
        ));
        if self.failed() {
            out.push_str(" — fix the `fail` lines above (details: TROUBLESHOOTING.md)");
        }
        out.push('\n');
        out
    }
}

/// Run every check, in the order a person would fix things.
pub async fn run_checks(inputs: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    out.extend(local::config(inputs));
    out.extend(local::project(inputs));
    out.extend(local::run_file(inputs));
    out.extend(ports::check(inputs));
    out.extend(programs::programs(inputs).await);
    out.extend(commands::check(inputs));
    out.extend(conflicts::check(inputs));
    out.extend(setup::setup_markers(inputs).await);
    out.extend(setup::moto_venv(inputs).await);
    out.extend(local::directories(inputs));
    out.extend(local::disk_space(inputs));
    out.extend(remote::cell(inputs).await);
    out.extend(remote::aws_credentials(inputs));
    out.extend(stack::health(inputs).await);
    out.extend(lambdas::check(inputs).await);
    out.extend(state_machines::check(inputs));
    out
}

/// Run a program with a deadline; `(success, stdout, stderr)`, or `None` when it could not start
/// or did not finish in time (it is killed then).
pub async fn run_program(
    argv: &[&str],
    timeout: std::time::Duration,
) -> Option<(bool, String, String)> {
    let (program, args) = argv.split_first()?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .ok()?
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    ))
}

/// The first `major.minor[.patch]` in `text` (`v20.11.1` → `(20, 11)`).
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let mut parts = text[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v20.11.1"), Some((20, 11)));
        assert_eq!(parse_version("Python 3.12.3"), Some((3, 12)));
        assert_eq!(parse_version("10"), Some((10, 0)));
        assert_eq!(parse_version("none"), None);
    }
}
