//! Commands given with a path (`.venv/bin/python`, `./run.sh`, `/opt/x/bin/y`), which PATH does not
//! resolve: each must exist and be an executable file, relative to the service's `cwd` (the project
//! root when it has none) — unless the service's setup step will create it on first `up`.

use std::path::Path;

use super::{Check, Inputs};
use crate::services::ServiceSpec;

/// Every planned team service's command and setup command whose program contains a `/`.
pub fn check(i: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    for s in i.planned().filter(|s| !s.builtin) {
        let base = s
            .cwd
            .clone()
            .unwrap_or_else(|| i.paths.project_root.clone());
        if let Some(c) = program(s, &s.argv, &base, false) {
            out.push(c);
        }
        if let Some(setup) = &s.setup
            && let Some(c) = program(s, &setup.argv, &base, true)
        {
            out.push(c);
        }
    }
    out
}

/// One program with a path; `None` when it has no `/` (the `programs` check looks it up on PATH).
fn program(s: &ServiceSpec, argv: &[String], base: &Path, is_setup: bool) -> Option<Check> {
    let prog = argv.first().filter(|p| p.contains('/'))?;
    let path = base.join(prog.strip_prefix("./").unwrap_or(prog));
    let what = if is_setup { "setup command" } else { "command" };
    let shown = path.display();
    // `.venv/bin/python` before the setup step that makes `.venv` has run: it will be there.
    let made_by_setup = (!is_setup)
        .then_some(s.setup.as_ref())
        .flatten()
        .filter(|x| path.starts_with(&x.creates));
    let meta = std::fs::metadata(&path);
    let fix_where = format!(
        "fix `{}` of {} in hippodrome.toml (a path there is relative to the service's cwd {})",
        if is_setup { "setup.command" } else { "command" },
        s.name,
        base.display()
    );
    Some(match meta {
        Err(_) => match made_by_setup {
            Some(x) if !x.creates.exists() => Check::ok(
                "commands",
                format!(
                    "{}: {prog} will be created by its setup step on first up ({})",
                    s.name,
                    x.creates.display()
                ),
            ),
            Some(x) => Check::affecting(
                "commands",
                s.blocking,
                format!(
                    "{}: {what} {prog} does not exist at {shown}, although {} does (an older or failed setup)",
                    s.name,
                    x.creates.display()
                ),
                format!(
                    "rm -rf {} (the next `up` runs the setup step again), or {fix_where}",
                    x.creates.display()
                ),
            ),
            None => Check::affecting(
                "commands",
                s.blocking,
                format!("{}: {what} {prog} does not exist at {shown}", s.name),
                fix_where,
            ),
        },
        Ok(m) if m.is_dir() => Check::affecting(
            "commands",
            s.blocking,
            format!("{}: {what} {prog} at {shown} is a directory", s.name),
            fix_where,
        ),
        Ok(m) if !executable(&m) => Check::affecting(
            "commands",
            s.blocking,
            format!("{}: {what} {prog} at {shown} is not executable", s.name),
            format!("chmod +x {}", quote(&path)),
        ),
        Ok(_) => Check::ok(
            "commands",
            format!("{}: {what} {prog} is executable ({shown})", s.name),
        ),
    })
}

fn executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

/// A path as it can be pasted into a shell.
fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
