//! Checks of this project on this machine: configuration, table prefix, the run file, writable
//! directories, disk space. Programs, setup markers and conflicts have modules of their own.

use std::path::{Path, PathBuf};

use super::{Check, Inputs};
use crate::config::project;

/// `hippodrome.toml` parses and validates (the strict parser names unknown keys, with the line).
pub fn config(i: &Inputs) -> Vec<Check> {
    let file = i.paths.project_root.join("hippodrome.toml");
    let mut out = Vec::new();
    match &i.toml {
        Ok(t) if file.exists() => out.push(Check::ok(
            "config",
            format!(
                "{} is valid ({} service(s), {} cell(s), {} route(s))",
                file.display(),
                t.services.len(),
                t.cells.len(),
                t.routes.len()
            ),
        )),
        Ok(_) => out.push(Check::ok(
            "config",
            format!(
                "no hippodrome.toml at {}: built-in services only",
                i.paths.project_root.display()
            ),
        )),
        Err(e) => out.push(Check::fail(
            "config",
            format!("bad hippodrome.toml: {e}"),
            format!(
                "fix line {} of {} (fixtures/hippodrome.example.toml lists every key)",
                e.line,
                e.file.display()
            ),
        )),
    }
    if let Some(e) = &i.plan_error {
        out.push(Check::fail("config", format!("cannot build the plan: {e}"), "fix the template in hippodrome.toml (see the template list in fixtures/hippodrome.example.toml)"));
    }
    out
}

/// Git branch and the table prefix it yields, and what overrides it.
pub fn project(i: &Inputs) -> Vec<Check> {
    let branch = project::git_branch(&i.paths.project_root);
    let derived = project::default_table_prefix(branch.as_deref());
    let from_toml = i.config().project.table_prefix.clone();
    let (prefix, source) = match (&i.table_prefix_flag, &from_toml) {
        (Some(p), _) => (p.clone(), "--table-prefix".to_owned()),
        (None, Some(p)) => (
            p.clone(),
            "[project] table_prefix in hippodrome.toml".to_owned(),
        ),
        (None, None) => (derived.clone(), "the git branch".to_owned()),
    };
    let branch_text = match &branch {
        Some(b) => format!("git branch {b} yields table prefix {derived}"),
        None => format!(
            "not on a git branch (no checkout, or a detached HEAD): default table prefix {derived}"
        ),
    };
    let mut out = Vec::new();
    if source == "the git branch" {
        out.push(Check::ok(
            "prefix",
            format!("{branch_text}; tables are named {prefix}<Table>"),
        ));
    } else {
        out.push(Check::ok(
            "prefix",
            format!("{branch_text}, overridden by {source}: table prefix {prefix}"),
        ));
    }
    // DynamoDB table names allow [A-Za-z0-9_.-] only.
    if let Some(bad) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        out.push(Check::fail(
            "prefix",
            format!(
                "table prefix {prefix:?} contains {bad:?}, which DynamoDB table names do not allow"
            ),
            format!("use only letters, digits, '-', '_' and '.' in {source}"),
        ));
    } else if prefix.len() > 200 {
        out.push(Check::fail(
            "prefix",
            format!(
                "table prefix is {} characters; DynamoDB names stop at 255",
                prefix.len()
            ),
            format!("shorten it in {source}"),
        ));
    }
    out
}

/// A `.hippodrome/run.json` left by a crashed run.
pub fn run_file(i: &Inputs) -> Vec<Check> {
    let file = i.paths.run_file.display();
    if i.run_unreadable {
        return vec![Check::warn(
            "run-file",
            format!("{file} exists but does not parse"),
            "`cargo run -p orchestrator -- kill` frees the stack's ports and deletes it",
        )];
    }
    match &i.run {
        None => vec![Check::ok(
            "run-file",
            "no .hippodrome/run.json: no stack recorded for this project",
        )],
        Some(r) if r.orchestrator_alive() => vec![Check::ok(
            "run-file",
            format!(
                "a stack is running for this project: orchestrator pid {}, dashboard http://127.0.0.1:{}",
                r.orchestrator_pid, r.dashboard_port
            ),
        )],
        Some(r) => {
            let alive: Vec<&str> = r
                .services
                .iter()
                .filter(|(_, s)| s.pgid.is_some_and(crate::process::signal::group_alive))
                .map(|(n, _)| n.as_str())
                .collect();
            let left = if alive.is_empty() {
                "no service of it is left".to_owned()
            } else {
                format!("still running: {}", alive.join(", "))
            };
            vec![Check::warn(
                "run-file",
                format!(
                    "stale {file} from a crashed run (orchestrator pid {} is gone; {left})",
                    r.orchestrator_pid
                ),
                "`cargo run -p orchestrator -- kill` kills what is left and deletes it (`up` also removes it)",
            )]
        }
    }
}

/// State and log directories (and the moto cache when it must be created) are writable: we write
/// and delete a temp file in each, or in the nearest existing parent when it does not exist yet.
pub fn directories(i: &Inputs) -> Vec<Check> {
    let mut dirs = vec![
        ("state directory", i.paths.state_dir.clone()),
        ("log directory", i.paths.logs_dir.clone()),
    ];
    if i.planned().any(|s| s.name == "moto")
        && std::env::var_os("HIPPODROME_MOTO_SERVER").is_none()
        && !crate::moto::install_marker().exists()
    {
        dirs.push(("moto cache", crate::moto::cache_dir()));
    }
    dirs.into_iter()
        .map(|(what, dir)| writable(what, &dir))
        .collect()
}

fn writable(what: &str, dir: &Path) -> Check {
    // Walk up to what exists; every existing component must be a directory.
    let mut probe_dir = dir.to_path_buf();
    while !probe_dir.exists() {
        match probe_dir.parent() {
            Some(p) => probe_dir = p.to_path_buf(),
            None => break,
        }
    }
    if !probe_dir.is_dir() {
        return Check::fail(
            "dirs",
            format!(
                "{what} {} cannot be created: {} is a file, not a directory",
                dir.display(),
                probe_dir.display()
            ),
            format!(
                "move {} out of the way (mv {p} {p}.bak)",
                probe_dir.display(),
                p = probe_dir.display()
            ),
        );
    }
    let test_file = probe_dir.join(format!(".hippodrome-doctor-{}", std::process::id()));
    let result =
        std::fs::write(&test_file, b"doctor").and_then(|()| std::fs::remove_file(&test_file));
    let suffix = if probe_dir == dir {
        String::new()
    } else {
        format!(" (created on first up inside {})", probe_dir.display())
    };
    match result {
        Ok(()) => Check::ok(
            "dirs",
            format!("{what} {} is writable{suffix}", dir.display()),
        ),
        Err(e) => Check::fail(
            "dirs",
            format!("{what} {} is not writable: {e}", probe_dir.display()),
            format!(
                "make it writable for this user (chown -R $(id -u) {}) or use another --project-root",
                probe_dir.display()
            ),
        ),
    }
}

const MIB: u64 = 1024 * 1024;

/// Free space where the stack writes state and logs.
pub fn disk_space(i: &Inputs) -> Vec<Check> {
    let mut at: PathBuf = i.paths.hippodrome_dir.clone();
    while !at.is_dir() {
        match at.parent() {
            Some(p) => at = p.to_path_buf(),
            None => break,
        }
    }
    let stat = match nix::sys::statvfs::statvfs(&at) {
        Ok(s) => s,
        Err(e) => {
            return vec![Check::warn(
                "disk",
                format!("cannot read free space of {}: {e}", at.display()),
                "check `df -h` yourself",
            )];
        }
    };
    // u64 on Linux, u32 on macOS.
    #[allow(clippy::useless_conversion)]
    let free = u64::from(stat.blocks_available()).saturating_mul(u64::from(stat.fragment_size()));
    let shown = if free >= 1024 * MIB {
        format!("{:.1} GiB", free as f64 / (1024 * MIB) as f64)
    } else {
        format!("{} MiB", free / MIB)
    };
    let fix = format!(
        "free some space on the disk holding {} (old runs: rm -rf {}/logs/*)",
        at.display(),
        i.paths.hippodrome_dir.display()
    );
    if free < 100 * MIB {
        vec![Check::fail(
            "disk",
            format!(
                "only {shown} free at {}: state files and logs will fail to write",
                at.display()
            ),
            fix,
        )]
    } else if free < 1024 * MIB {
        vec![Check::warn(
            "disk",
            format!("only {shown} free at {}", at.display()),
            fix,
        )]
    } else {
        vec![Check::ok(
            "disk",
            format!("{shown} free at {}", at.display()),
        )]
    }
}
