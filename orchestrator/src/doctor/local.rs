//! Checks that need nothing but this machine: configuration, table prefix, the run file,
//! programs and their versions, setup markers, the moto venv, writable directories, disk space.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Check, Inputs, parse_version, run_program};
use crate::config::project;
use crate::process::preflight::{install_hint, which};

const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Programs each planned service needs, python3 with venv, node/npm/npx, wrangler, cloudflared.
pub async fn programs(i: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    // program → services that need it (among services the profile includes)
    let mut needs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |p: &str, who: &str| {
        let users = needs.entry(p.to_owned()).or_default();
        if !users.iter().any(|u| u == who) {
            users.push(who.to_owned());
        }
    };
    let moto_planned = i.planned().any(|s| s.name == "moto");
    if moto_planned && std::env::var_os("HIPPODROME_MOTO_SERVER").is_none() {
        add("python3", "moto");
    }
    let mut wrangler_users = Vec::new();
    for s in i
        .plan
        .iter()
        .filter(|s| !s.builtin && !skipped_by_selection(s) && !cwd_missing(s))
    {
        let section = i.config().services.iter().find(|t| t.name == s.name);
        for r in section.map(|t| t.requires.as_slice()).unwrap_or_default() {
            add(r, &s.name);
        }
        for argv in std::iter::once(&s.argv).chain(s.setup.as_ref().map(|x| &x.argv)) {
            if let Some(p) = argv.first().filter(|p| !p.contains('/')) {
                add(p, &s.name);
            }
            if argv
                .iter()
                .any(|a| a == "wrangler" || a.ends_with("/wrangler"))
            {
                wrangler_users.push(s);
            }
        }
    }
    if i.enable_events {
        add("cloudflared", "--enable-events");
    }
    let blocking: BTreeMap<&str, bool> = i
        .plan
        .iter()
        .map(|s| (s.name.as_str(), s.blocking))
        .collect();

    // python3 (+ venv), node, npm and npx always get a line with their version.
    // Their `--version`s take a while each (shims, npm's startup): run them at once.
    let (py, node, npm, npx) = tokio::join!(
        python(needs.get("python3")),
        node_tool("node", Some((18, 0)), needs.get("node")),
        node_tool("npm", None, needs.get("npm")),
        node_tool("npx", None, needs.get("npx")),
    );
    out.extend([py, node, npm, npx]);
    for (prog, users) in &needs {
        if matches!(prog.as_str(), "python3" | "node" | "npm" | "npx") {
            continue;
        }
        let who = users.join(", ");
        match which(prog) {
            Some(path) => out.push(Check::ok("programs", format!("{prog} at {} (needed by {who})", path.display()))),
            None if prog == "cloudflared" => out.push(Check::fail(
                "programs",
                "cloudflared is not on PATH; --enable-events needs it for the public tunnel that real events arrive through",
                install_hint(prog),
            )),
            None => {
                let any_blocking = users.iter().any(|u| blocking.get(u.as_str()).copied().unwrap_or(true));
                let msg = format!("{prog} is not on PATH; needed by {who}, which `up` will skip");
                if any_blocking {
                    out.push(Check::fail("programs", msg, install_hint(prog)));
                } else {
                    out.push(Check::warn("programs", format!("{msg} (non-blocking)"), install_hint(prog)));
                }
            }
        }
    }
    wrangler_users.dedup_by(|a, b| a.name == b.name);
    for s in wrangler_users {
        out.push(wrangler(s));
    }
    if which("git").is_none() {
        out.push(Check::warn(
            "programs",
            "git is not on PATH: the table prefix cannot follow your branch (dev-local- is used)",
            install_hint("git"),
        ));
    }
    out
}

fn cwd_missing(s: &crate::plan::ServiceSpec) -> bool {
    s.skip.as_deref().is_some_and(|r| r.starts_with("cwd "))
}

/// Not in the profile or not in `--only`: nothing of it will run, so nothing of it matters.
fn skipped_by_selection(s: &crate::plan::ServiceSpec) -> bool {
    s.skip.as_deref().is_some_and(|r| {
        r.starts_with("not in profile") || r.starts_with("not in --only") || r.starts_with("--cell")
    })
}

async fn python(needed_by: Option<&Vec<String>>) -> Check {
    let level_missing = |msg: String, fix: &str| match needed_by {
        Some(who) => Check::fail(
            "programs",
            format!("{msg}; needed by {}", who.join(", ")),
            fix,
        ),
        None => Check::warn(
            "programs",
            format!("{msg}; nothing in this profile needs it yet"),
            fix,
        ),
    };
    let Some(path) = which("python3") else {
        return level_missing("python3 is not on PATH".into(), install_hint("python3"));
    };
    let script = "import sys; print('%d.%d.%d' % sys.version_info[:3]); sys.stdout.flush(); import venv, ensurepip";
    let Some((ok, stdout, stderr)) =
        run_program(&[&path.to_string_lossy(), "-c", script], VERSION_TIMEOUT).await
    else {
        return level_missing(
            format!("{} does not run (or hangs)", path.display()),
            "reinstall Python 3 (apt-get install --reinstall python3 python3-venv)",
        );
    };
    let version = stdout.lines().next().unwrap_or("").to_owned();
    match parse_version(&version) {
        Some(v) if v < (3, 9) => {
            return level_missing(
                format!("python3 {version} at {} is older than 3.9", path.display()),
                "install Python 3.9 or newer and put it first on PATH",
            );
        }
        None => {
            return level_missing(
                format!("cannot read the version of {}", path.display()),
                "check that `python3 --version` works",
            );
        }
        _ => {}
    }
    if !ok {
        let last = stderr.lines().last().unwrap_or("").to_owned();
        return level_missing(
            format!("python3 {version} has no working venv module ({last})"),
            "apt-get install python3-venv (or python3.X-venv for your version)",
        );
    }
    Check::ok(
        "programs",
        format!("python3 {version} at {} with venv", path.display()),
    )
}

async fn node_tool(prog: &str, min: Option<(u32, u32)>, needed_by: Option<&Vec<String>>) -> Check {
    let missing = |msg: String| match needed_by {
        Some(who) => Check::fail(
            "programs",
            format!("{msg}; needed by {}", who.join(", ")),
            install_hint(prog),
        ),
        None => Check::ok(
            "programs",
            format!("{msg}; nothing in this profile needs it"),
        ),
    };
    let Some(path) = which(prog) else {
        return missing(format!("{prog} is not on PATH"));
    };
    let version = match run_program(&[&path.to_string_lossy(), "--version"], VERSION_TIMEOUT).await
    {
        Some((true, v, _)) => v,
        _ => return missing(format!("{} --version fails", path.display())),
    };
    if let (Some(min), Some(v)) = (min, parse_version(&version))
        && v < min
    {
        let msg = format!(
            "{prog} {version} at {} is older than {}.{}",
            path.display(),
            min.0,
            min.1
        );
        return match needed_by {
            Some(who) => Check::fail(
                "programs",
                format!("{msg}; needed by {}", who.join(", ")),
                "install Node.js 20+ (https://nodejs.org or nvm install 20)",
            ),
            None => Check::warn(
                "programs",
                msg,
                "install Node.js 20+ (https://nodejs.org or nvm install 20)",
            ),
        };
    }
    Check::ok(
        "programs",
        format!("{prog} {version} at {}", path.display()),
    )
}

/// A service runs wrangler: from its own `node_modules/.bin`, from PATH, or installed by setup.
fn wrangler(s: &crate::plan::ServiceSpec) -> Check {
    let dir = s.cwd.clone().unwrap_or_default();
    let local = dir.join("node_modules").join(".bin").join("wrangler");
    if local.exists() {
        return Check::ok(
            "programs",
            format!("wrangler for {} at {}", s.name, local.display()),
        );
    }
    if let Some(p) = which("wrangler") {
        return Check::ok(
            "programs",
            format!("wrangler for {} at {}", s.name, p.display()),
        );
    }
    let declared =
        std::fs::read_to_string(dir.join("package.json")).is_ok_and(|t| t.contains("\"wrangler\""));
    let marker_missing = s.setup.as_ref().is_some_and(|x| !x.creates.exists());
    if declared && marker_missing {
        return Check::ok(
            "programs",
            format!(
                "wrangler for {} will be installed by its setup step on first up",
                s.name
            ),
        );
    }
    Check::fail(
        "programs",
        format!(
            "{} runs wrangler, but it is neither in {} nor on PATH",
            s.name,
            local.display()
        ),
        format!("cd {} && {}", dir.display(), install_hint("wrangler")),
    )
}

/// Each setup step's marker (`.venv`, `node_modules`): present and sound, or created on first up.
pub async fn setup_markers(i: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    for s in i.plan.iter().filter(|s| cwd_missing(s)) {
        out.push(Check::warn(
            "services",
            format!("{} is skipped: {}", s.name, s.skip.as_deref().unwrap_or("")),
            format!(
                "check out the service there, or fix `cwd` of {} in hippodrome.toml",
                s.name
            ),
        ));
    }
    for s in i.planned().filter(|s| !s.builtin) {
        let Some(setup) = &s.setup else { continue };
        let m = &setup.creates;
        if !m.exists() {
            out.push(Check::ok(
                "setup",
                format!(
                    "{}: {} missing; will be created on first up by `{}`",
                    s.name,
                    m.display(),
                    setup.argv.join(" ")
                ),
            ));
            continue;
        }
        if m.join("pyvenv.cfg").exists() {
            out.push(venv_sound(&s.name, m).await);
        } else {
            out.push(Check::ok(
                "setup",
                format!("{}: {} present", s.name, m.display()),
            ));
        }
    }
    out
}

/// A venv whose interpreter is gone (Python upgraded or removed) is stale: `up` would not recreate it.
async fn venv_sound(service: &str, venv: &Path) -> Check {
    let py = venv.join("bin").join("python");
    let runs = match run_program(
        &[
            &py.to_string_lossy(),
            "-c",
            "import sys; print(sys.version.split()[0])",
        ],
        VERSION_TIMEOUT,
    )
    .await
    {
        Some((true, v, _)) => Some(v),
        _ => None,
    };
    match runs {
        Some(v) => Check::ok(
            "setup",
            format!("{service}: venv {} present (Python {v})", venv.display()),
        ),
        None => Check::fail(
            "setup",
            format!(
                "{service}: stale venv {}: {} does not run (its Python was upgraded or removed)",
                venv.display(),
                py.display()
            ),
            format!("rm -rf {} (the next `up` recreates it)", venv.display()),
        ),
    }
}

/// The shared moto venv and the moto version inside it, against the pin.
pub async fn moto_venv(i: &Inputs) -> Vec<Check> {
    if !i.planned().any(|s| s.name == "moto") {
        return vec![Check::ok(
            "moto",
            format!(
                "moto is not in this run (profile {}); not checked",
                i.profile.as_str()
            ),
        )];
    }
    if let Ok(p) = std::env::var("HIPPODROME_MOTO_SERVER") {
        return vec![match which(&p) {
            Some(_) => Check::ok(
                "moto",
                format!("HIPPODROME_MOTO_SERVER={p} is used instead of the pinned venv"),
            ),
            None => Check::fail(
                "moto",
                format!("HIPPODROME_MOTO_SERVER={p} is not an executable"),
                "point it at a moto_server binary, or unset it to use the pinned venv",
            ),
        }];
    }
    let venv = crate::moto::venv_dir();
    let py = venv.join("bin").join("python");
    if !venv.exists() {
        return vec![Check::warn(
            "moto",
            format!(
                "moto venv {} is not there yet; the first `up` creates it and installs {} (needs network, about a minute)",
                venv.display(),
                crate::moto::REQUIREMENT
            ),
            format!(
                "nothing to do; or prepare it now: python3 -m venv {v} && {v}/bin/pip install '{}'",
                crate::moto::REQUIREMENT,
                v = venv.display()
            ),
        )];
    }
    let fix_rm = format!(
        "rm -rf {} (the next `up` reinstalls {})",
        venv.display(),
        crate::moto::REQUIREMENT
    );
    match run_program(
        &[
            &py.to_string_lossy(),
            "-c",
            "import moto; print(moto.__version__)",
        ],
        Duration::from_secs(30),
    )
    .await
    {
        Some((true, v, _)) if v == crate::moto::VERSION => vec![Check::ok(
            "moto",
            format!("moto {v} in {} (matches the pin)", venv.display()),
        )],
        Some((true, v, _)) => vec![Check::fail(
            "moto",
            format!(
                "moto {v} in {} does not match the pin {}",
                venv.display(),
                crate::moto::VERSION
            ),
            fix_rm,
        )],
        Some((false, _, err)) => vec![Check::fail(
            "moto",
            format!(
                "moto venv {} is broken: {}",
                venv.display(),
                err.lines().last().unwrap_or("import moto failed")
            ),
            fix_rm,
        )],
        None => vec![Check::fail(
            "moto",
            format!(
                "stale moto venv {}: {} does not run",
                venv.display(),
                py.display()
            ),
            fix_rm,
        )],
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
        && !crate::moto::venv_dir().exists()
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
