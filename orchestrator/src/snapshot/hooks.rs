//! `[[snapshot.hooks]]`: the team's own state (a database dump…) joins a snapshot through a save
//! and a restore command per hook, run in declaration order with `HIPPODROME_SNAPSHOT_DIR` (the
//! snapshot's directory: write files there on save, read them on restore) and
//! `HIPPODROME_SNAPSHOT_NAME` in their environment, each in its own process group with a timeout
//! (the group is killed when it passes). Output goes to `.hippodrome/logs/snapshot-hook-NAME.log`.
//! A failing hook fails the save (nothing is committed) or the restore (the answer says so).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use super::{Stack, format};

/// `[snapshot]` in `hippodrome.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSection {
    #[serde(default)]
    pub hooks: Vec<SnapshotHook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotHook {
    pub name: String,
    /// argv run by `snapshot save` (writes into `$HIPPODROME_SNAPSHOT_DIR`).
    pub save: Vec<String>,
    /// argv run by `snapshot restore` (reads from `$HIPPODROME_SNAPSHOT_DIR`).
    pub restore: Vec<String>,
    /// Working directory, relative to the project root (default: the project root).
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds before the hook's process group is killed and the operation fails.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
}

fn default_timeout() -> u64 {
    300
}

impl SnapshotSection {
    /// `Err((needle, message))` for the strict parser's `file:line` errors.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut seen = std::collections::BTreeSet::new();
        for h in &self.hooks {
            let problem = if !crate::config::hippodrome_toml::valid_name(&h.name) {
                Some(format!("{:?} must be letters, digits, '_' or '-'", h.name))
            } else if !seen.insert(h.name.as_str()) {
                Some(format!("{:?} is declared twice", h.name))
            } else if h.save.is_empty() || h.restore.is_empty() {
                Some(format!(
                    "{:?} needs both a save and a restore command",
                    h.name
                ))
            } else if h.timeout_s == 0 || h.timeout_s > 86_400 {
                Some(format!(
                    "timeout_s {} for {:?} is outside 1-86400",
                    h.timeout_s, h.name
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                return Err((format!("\"{}\"", h.name), format!("snapshot.hooks: {p}")));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    Save,
    Restore,
}

/// Run every hook's command for `phase`, in order; the first failure stops and is returned.
pub async fn run_all(stack: &Stack, phase: Phase, name: &str, dir: &Path) -> anyhow::Result<()> {
    for h in &stack.hooks {
        run_one(stack, h, phase, name, dir)
            .await
            .with_context(|| format!("snapshot hook {:?}", h.name))?;
    }
    Ok(())
}

async fn run_one(
    stack: &Stack,
    h: &SnapshotHook,
    phase: Phase,
    name: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let argv = match phase {
        Phase::Save => &h.save,
        Phase::Restore => &h.restore,
    };
    let Some((program, args)) = argv.split_first() else {
        bail!("its command is empty");
    };
    let logs = stack.hippodrome_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("snapshot-hook-{}.log", h.name));
    let log = std::fs::File::create(&log_path)?;
    let cwd = h
        .cwd
        .as_ref()
        .map(|c| stack.project_root.join(c))
        .unwrap_or_else(|| stack.project_root.clone());
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(&cwd)
        .envs(&h.env)
        .env("HIPPODROME_SNAPSHOT_DIR", dir)
        .env("HIPPODROME_SNAPSHOT_NAME", name)
        .env(
            "HIPPODROME_SNAPSHOT_PHASE",
            if phase == Phase::Save {
                "save"
            } else {
                "restore"
            },
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("could not start `{program}` in {}", cwd.display()))?;
    let pgid = child.id();
    let waited = tokio::time::timeout(Duration::from_secs(h.timeout_s), child.wait()).await;
    if let Some(pgid) = pgid {
        crate::process::signal::terminate_group(pgid, Duration::from_secs(2)).await;
    }
    match waited {
        Err(_) => bail!(
            "timed out after {}s and was killed (log: {})",
            h.timeout_s,
            log_path.display()
        ),
        Ok(Err(e)) => bail!("could not be waited for: {e}"),
        Ok(Ok(status)) if !status.success() => {
            bail!("{status} (log: {})", log_path.display())
        }
        Ok(Ok(_)) => Ok(()),
    }
}

/// Files in a snapshot being written that are not yet in its manifest: what the hooks wrote.
pub fn new_files(dir: &Path, ours: impl Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type()?.is_file() {
            bail!(
                "snapshot hooks may only write plain files into the snapshot directory, not {file}"
            );
        }
        if file != format::MANIFEST && !ours(&file) && !file.starts_with('.') {
            out.push(file);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_need_both_commands_and_a_sane_timeout() {
        let hook = |save: &[&str], timeout_s| SnapshotHook {
            name: "db".into(),
            save: save.iter().map(|s| s.to_string()).collect(),
            restore: vec!["r".into()],
            cwd: None,
            env: BTreeMap::new(),
            timeout_s,
        };
        let ok = SnapshotSection {
            hooks: vec![hook(&["s"], 10)],
        };
        assert!(ok.validate().is_ok());
        let e = SnapshotSection {
            hooks: vec![hook(&[], 10)],
        }
        .validate()
        .unwrap_err();
        assert!(e.1.contains("save and a restore"), "{e:?}");
        let e = SnapshotSection {
            hooks: vec![hook(&["s"], 0)],
        }
        .validate()
        .unwrap_err();
        assert!(e.1.contains("timeout_s"), "{e:?}");
        let twice = SnapshotSection {
            hooks: vec![hook(&["s"], 1), hook(&["s"], 1)],
        };
        assert!(twice.validate().unwrap_err().1.contains("twice"));
    }

    #[tokio::test]
    async fn a_hook_sees_the_snapshot_dir_and_its_failure_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut stack = Stack {
            hippodrome_dir: dir.path().join(".hippodrome"),
            project_root: dir.path().to_path_buf(),
            ..Default::default()
        };
        let snap = dir.path().join("snap");
        std::fs::create_dir_all(&snap).unwrap();
        stack.hooks = vec![SnapshotHook {
            name: "db".into(),
            save: vec![
                "sh".into(),
                "-c".into(),
                "echo \"$HIPPODROME_SNAPSHOT_NAME\" > \"$HIPPODROME_SNAPSHOT_DIR/db.dump\"".into(),
            ],
            restore: vec!["sh".into(), "-c".into(), "exit 3".into()],
            cwd: None,
            env: BTreeMap::new(),
            timeout_s: 30,
        }];
        run_all(&stack, Phase::Save, "base", &snap).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(snap.join("db.dump")).unwrap(),
            "base\n"
        );
        std::fs::write(snap.join("moto.jsonl"), "").unwrap();
        let ours = |f: &str| f == "moto.jsonl";
        assert_eq!(new_files(&snap, ours).unwrap(), vec!["db.dump".to_string()]);
        let err = run_all(&stack, Phase::Restore, "base", &snap)
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("exit status: 3"), "{err:#}");
    }
}
