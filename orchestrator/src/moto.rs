//! moto, the real AWS emulator, in a pinned venv shared by every stack on the machine
//! (`$HIPPODROME_CACHE_DIR/moto-<version>`, default `~/.cache/hippodrome`). The venv is built in a
//! temp folder and renamed into place, so two stacks installing at once cannot corrupt it.

use std::path::PathBuf;

use crate::plan::Setup;

pub const REQUIREMENT: &str = "moto[server]==5.2.5";
pub const VERSION: &str = "5.2.5";

/// Where shared downloads live.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HIPPODROME_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("hippodrome")
}

pub fn venv_dir() -> PathBuf {
    cache_dir().join(format!("moto-{VERSION}"))
}

/// The command that runs moto: `HIPPODROME_MOTO_SERVER` if set, else the venv's python running
/// `moto.server` (works even though the venv was renamed after install).
pub fn server_argv() -> Vec<String> {
    if let Ok(p) = std::env::var("HIPPODROME_MOTO_SERVER") {
        return vec![p];
    }
    vec![
        venv_dir()
            .join("bin")
            .join("python")
            .to_string_lossy()
            .into_owned(),
        "-m".into(),
        "moto.server".into(),
    ]
}

/// The setup step that builds the venv when it is missing.
pub fn setup() -> Option<Setup> {
    if std::env::var_os("HIPPODROME_MOTO_SERVER").is_some() {
        return None;
    }
    let venv = venv_dir();
    let cache = cache_dir();
    let script = format!(
        "set -e; command -v python3 >/dev/null || {{ echo 'python3 is missing: apt-get install python3 python3-venv' >&2; exit 127; }}; \
         mkdir -p '{cache}'; tmp=$(mktemp -d '{cache}/moto-install-XXXXXX'); \
         python3 -m venv \"$tmp\"; \"$tmp/bin/pip\" install --disable-pip-version-check -q '{REQUIREMENT}'; \
         mv -T \"$tmp\" '{venv}' 2>/dev/null || {{ rm -rf \"$tmp\"; test -x '{venv}/bin/python'; }}",
        cache = cache.display(),
        venv = venv.display(),
    );
    Some(Setup {
        argv: vec!["sh".into(), "-c".into(), script],
        creates: venv.join("bin").join("python"),
        description: format!(
            "installing moto {VERSION} into {} (first run only)",
            crate::setup::tilde(&cache_dir())
        ),
    })
}
