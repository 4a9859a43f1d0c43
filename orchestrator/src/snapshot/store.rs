//! Where snapshots live (`.hippodrome/snapshots/NAME/`), which names are allowed, and `list` /
//! `delete`. Reading a snapshot's contents is `format.rs`.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Serialize;

use super::format;

/// `.hippodrome/snapshots` of a project.
pub fn root(hippodrome_dir: &Path) -> PathBuf {
    hippodrome_dir.join("snapshots")
}

/// A name is one path segment a shell and a URL take as is.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "invalid snapshot name {name:?}: use 1-100 letters, digits, '-', '_' or '.', not starting with '.'"
        );
    }
    Ok(())
}

/// The directory of snapshot `name`, after checking the name.
pub fn dir_of(hippodrome_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    Ok(root(hippodrome_dir).join(name))
}

/// One line of `snapshot list` (and an entry of `GET /api/snapshots`).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Entry {
    pub name: String,
    pub created_at: Option<String>,
    pub hippodrome_version: Option<String>,
    pub random_seed: Option<u64>,
    pub bytes: u64,
    pub parts: Vec<String>,
    /// Why it cannot be restored by this build, if it cannot.
    pub problem: Option<String>,
}

/// Every snapshot, by name; unreadable ones are listed with their problem.
pub fn list(hippodrome_dir: &Path) -> anyhow::Result<Vec<Entry>> {
    let root = root(hippodrome_dir);
    let Ok(read) = std::fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in read.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() || check_name(&name).is_err() {
            continue;
        }
        out.push(describe(&entry.path(), name));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn describe(dir: &Path, name: String) -> Entry {
    match format::read_manifest(dir) {
        Ok(m) => {
            let problem = (m.hippodrome_version != format::HIPPODROME_VERSION
                || m.format_version != format::FORMAT_VERSION)
                .then(|| {
                    format!(
                        "written by Hippodrome {} (format {}); this is {}",
                        m.hippodrome_version,
                        m.format_version,
                        format::HIPPODROME_VERSION
                    )
                });
            Entry {
                name,
                created_at: Some(m.created_at.clone()),
                hippodrome_version: Some(m.hippodrome_version.clone()),
                random_seed: m.random_seed,
                bytes: m.services.values().map(|p| p.bytes).sum(),
                parts: m.services.keys().cloned().collect(),
                problem,
            }
        }
        Err(e) => Entry {
            name,
            created_at: None,
            hippodrome_version: None,
            random_seed: None,
            bytes: 0,
            parts: Vec::new(),
            problem: Some(format!("{e:#}")),
        },
    }
}

/// Delete snapshot `name`; an error names it when there is no such snapshot.
pub fn delete(hippodrome_dir: &Path, name: &str) -> anyhow::Result<()> {
    let dir = dir_of(hippodrome_dir, name)?;
    if !dir.is_dir() {
        bail!(
            "no snapshot named {name:?} in {}",
            root(hippodrome_dir).display()
        );
    }
    // Renamed aside first, so a half-deleted snapshot is never listed.
    let aside = root(hippodrome_dir).join(format!(".deleting-{name}-{}", std::process::id()));
    std::fs::rename(&dir, &aside)?;
    std::fs::remove_dir_all(&aside)?;
    Ok(())
}

/// Load `name` checked whole (see `format::load`), with a clear error when it does not exist.
pub fn load(hippodrome_dir: &Path, name: &str) -> anyhow::Result<format::Loaded> {
    let dir = dir_of(hippodrome_dir, name)?;
    if !dir.is_dir() {
        let known: Vec<String> = list(hippodrome_dir)?.into_iter().map(|e| e.name).collect();
        bail!(
            "no snapshot named {name:?} in {} (known: {})",
            root(hippodrome_dir).display(),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        );
    }
    format::load(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_plain_segment() {
        for ok in ["base", "after-seed_2", "v1.2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let root = root(dir.path());
        let mut w = format::Writer::new(&root, Some(3)).unwrap();
        w.add("seed", "seed.json", b"{}").unwrap();
        w.commit(&root.join("one")).unwrap();
        std::fs::create_dir_all(root.join("broken")).unwrap();
        let l = list(dir.path()).unwrap();
        assert_eq!(l.len(), 2);
        assert!(l[0].problem.is_some(), "broken has no manifest");
        assert_eq!(l[1].name, "one");
        assert_eq!(l[1].random_seed, Some(3));
        assert_eq!(l[1].parts, vec!["seed".to_string()]);
        delete(dir.path(), "one").unwrap();
        assert!(delete(dir.path(), "one").is_err());
        let err = load(dir.path(), "one").err().unwrap().to_string();
        assert!(err.contains("known: broken"), "{err}");
    }
}
