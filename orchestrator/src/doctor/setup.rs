//! Setup steps' markers (`.venv`, `node_modules`): present and sound, or created on first `up`;
//! and the shared moto venv against its pin.

use std::path::Path;
use std::time::Duration;

use super::{Check, Inputs, cwd_missing, run_program};
use crate::process::preflight::which;

const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

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
            out.push(venv_sound(&s.name, s.blocking, m).await);
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
async fn venv_sound(service: &str, blocking: bool, venv: &Path) -> Check {
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
        None => Check::affecting(
            "setup",
            blocking,
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
    if !crate::moto::install_marker().exists() {
        return vec![Check::warn(
            "moto",
            format!(
                "moto venv {} is not there yet (or its install was interrupted); the first `up` builds it and installs {} (needs network, about half a minute)",
                venv.display(),
                crate::moto::REQUIREMENT
            ),
            "nothing to do; or prepare it now from a clone: bash tests/install-deps.sh",
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
