//! moto, the real AWS emulator, in a pinned venv shared by every stack on the machine
//! (`$HIPPODROME_CACHE_DIR/moto-<version>`, default `~/.cache/hippodrome`). One script builds it
//! (`scripts/install-moto.sh`, also run by `tests/install-deps.sh`), in place and under a lock;
//! moto always starts through the venv's interpreter (`python -m moto.server`).

use std::path::PathBuf;

use crate::services::Setup;

/// The pin, from the one file that holds it (also read by `tests/install-deps.sh`).
pub const REQUIREMENT: &str = include_str!("../../fixtures/moto-requirements.txt").trim_ascii();
pub const VERSION: &str = "5.2.5";
/// moto's own dependencies, pinned (pip's constraints file; the same file `install-deps.sh` uses).
pub const CONSTRAINTS: &str = include_str!("../../fixtures/moto-constraints.txt");
const INSTALL_SCRIPT: &str = include_str!("../scripts/install-moto.sh");

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

/// Written last by the install script: its presence means the venv is whole.
pub fn install_marker() -> PathBuf {
    venv_dir().join(".complete")
}

/// The command that runs moto: `HIPPODROME_MOTO_SERVER` if set, else the venv's python running
/// `moto.server`.
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

/// The setup step that builds the venv when it is missing (or was left half-built).
pub fn setup() -> Option<Setup> {
    if std::env::var_os("HIPPODROME_MOTO_SERVER").is_some() {
        return None;
    }
    Some(Setup {
        argv: vec![
            "sh".into(),
            "-c".into(),
            INSTALL_SCRIPT.into(),
            "install-moto".into(),
            venv_dir().to_string_lossy().into_owned(),
            REQUIREMENT.into(),
            CONSTRAINTS.into(),
        ],
        creates: install_marker(),
        description: format!(
            "installing moto {VERSION} into {} (first run only)",
            crate::setup::tilde(&cache_dir())
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_requirement_names_the_version() {
        assert_eq!(REQUIREMENT, format!("moto[server]=={VERSION}"));
    }

    #[test]
    fn every_constraint_is_an_exact_pin_and_moto_is_not_among_them() {
        let pins: Vec<&str> = CONSTRAINTS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        assert!(pins.len() > 20, "moto's dependencies: {pins:?}");
        for p in pins {
            let (name, version) = p.split_once("==").unwrap_or((p, ""));
            assert!(
                !version.is_empty() && !version.contains(' '),
                "not an exact pin: {p}"
            );
            assert!(
                !name.eq_ignore_ascii_case("moto"),
                "moto is pinned by {REQUIREMENT}"
            );
        }
    }
}
