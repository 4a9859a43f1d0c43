//! Programs the planned services need: python3 (with venv), node, npm and npx with their versions,
//! every other program a service's `requires`, command or setup command names, wrangler for the
//! services that run it, cloudflared for `--enable-events`, and git. A program missing for a
//! blocking service fails; for non-blocking services only (`up` skips them and goes on) it warns.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Check, Inputs, cwd_missing, parse_version, run_program, skipped_by_selection};
use crate::process::preflight::{install_hint, which};
use crate::services::ServiceSpec;

const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

const NODE_FIX: &str = "install Node.js 20+ (https://nodejs.org or nvm install 20)";

/// Who needs a program, and whether any of them is blocking.
struct Need {
    users: Vec<String>,
    blocking: bool,
}

impl Need {
    /// `msg; needed by a, b` — failing for a blocking user, warning (and saying why) otherwise.
    fn missing(&self, msg: &str, fix: &str) -> Check {
        let who = self.users.join(", ");
        if self.blocking {
            Check::fail("programs", format!("{msg}; needed by {who}"), fix)
        } else {
            Check::warn(
                "programs",
                format!(
                    "{msg}; needed by {who} (non-blocking: the rest of the stack starts without it)"
                ),
                fix,
            )
        }
    }
}

/// Programs each planned service needs, python3 with venv, node/npm/npx, wrangler, cloudflared.
pub async fn programs(i: &Inputs) -> Vec<Check> {
    let (needs, wrangler_users) = collect_needs(i);
    let mut out = Vec::new();
    // python3 (+ venv), node, npm and npx always get a line with their version.
    // Their `--version`s take a while each (shims, npm's startup): run them at once.
    let (py, node, npm, npx) = tokio::join!(
        python(needs.get("python3")),
        node_tool("node", Some((18, 0)), needs.get("node")),
        node_tool("npm", None, needs.get("npm")),
        node_tool("npx", None, needs.get("npx")),
    );
    out.extend([py, node, npm, npx]);
    for (prog, need) in &needs {
        if matches!(prog.as_str(), "python3" | "node" | "npm" | "npx") {
            continue;
        }
        let who = need.users.join(", ");
        match which(prog) {
            Some(path) => out.push(Check::ok(
                "programs",
                format!("{prog} at {} (needed by {who})", path.display()),
            )),
            None if prog == "cloudflared" => out.push(Check::fail(
                "programs",
                "cloudflared is not on PATH; --enable-events needs it for the public tunnel that real events arrive through",
                install_hint(prog),
            )),
            None => out.push(need.missing(
                &format!("{prog} is not on PATH"),
                install_hint(prog),
            )),
        }
    }
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

/// program → who needs it (among services that will run or be skipped only for a missing
/// program), and the services that run wrangler.
fn collect_needs(i: &Inputs) -> (BTreeMap<String, Need>, Vec<&ServiceSpec>) {
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    let mut add = |p: &str, who: &str, blocking: bool| {
        let need = needs.entry(p.to_owned()).or_insert(Need {
            users: Vec::new(),
            blocking: false,
        });
        if !need.users.iter().any(|u| u == who) {
            need.users.push(who.to_owned());
        }
        need.blocking |= blocking;
    };
    if let Some(moto) = i.planned().find(|s| s.name == "moto")
        && std::env::var_os("HIPPODROME_MOTO_SERVER").is_none()
    {
        add("python3", "moto", moto.blocking);
    }
    let mut wrangler_users: Vec<&ServiceSpec> = Vec::new();
    for s in i
        .plan
        .iter()
        .filter(|s| !s.builtin && !skipped_by_selection(s) && !cwd_missing(s))
    {
        let section = i.config().services.iter().find(|t| t.name == s.name);
        for r in section.map(|t| t.requires.as_slice()).unwrap_or_default() {
            add(r, &s.name, s.blocking);
        }
        for argv in std::iter::once(&s.argv).chain(s.setup.as_ref().map(|x| &x.argv)) {
            // Programs given with a path are the `commands` check's business.
            if let Some(p) = argv.first().filter(|p| !p.contains('/')) {
                add(p, &s.name, s.blocking);
            }
            if argv
                .iter()
                .any(|a| a == "wrangler" || a.ends_with("/wrangler"))
                && !wrangler_users.iter().any(|w| w.name == s.name)
            {
                wrangler_users.push(s);
            }
        }
    }
    if i.enable_events {
        add("cloudflared", "--enable-events", true);
    }
    (needs, wrangler_users)
}

async fn python(need: Option<&Need>) -> Check {
    let level_missing = |msg: String, fix: &str| match need {
        Some(n) => n.missing(&msg, fix),
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

async fn node_tool(prog: &str, min: Option<(u32, u32)>, need: Option<&Need>) -> Check {
    let missing = |msg: String, fix: &str| match need {
        Some(n) => n.missing(&msg, fix),
        None => Check::ok(
            "programs",
            format!("{msg}; nothing in this profile needs it"),
        ),
    };
    let Some(path) = which(prog) else {
        return missing(format!("{prog} is not on PATH"), install_hint(prog));
    };
    let version = match run_program(&[&path.to_string_lossy(), "--version"], VERSION_TIMEOUT).await
    {
        Some((true, v, _)) => v,
        _ => {
            return missing(
                format!("{} --version fails", path.display()),
                install_hint(prog),
            );
        }
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
        return match need {
            Some(n) => n.missing(&msg, NODE_FIX),
            None => Check::warn("programs", msg, NODE_FIX),
        };
    }
    Check::ok(
        "programs",
        format!("{prog} {version} at {}", path.display()),
    )
}

/// A service runs wrangler: from its own `node_modules/.bin`, from PATH, or installed by setup.
fn wrangler(s: &ServiceSpec) -> Check {
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
    Check::affecting(
        "programs",
        s.blocking,
        format!(
            "{} runs wrangler, but it is neither in {} nor on PATH",
            s.name,
            local.display()
        ),
        format!("cd {} && {}", dir.display(), install_hint("wrangler")),
    )
}
