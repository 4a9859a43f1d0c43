//! Hot reload: a `[[services]]` entry with `watch = [globs]` is restarted when a matching file
//! under its cwd changes (`ignore = [globs]` excepted), through the supervisor's ordinary restart
//! path, with `restarted: src/app.py changed` in its log and on the dashboard.
//!
//! The OS tells us about changes (inotify / FSEvents via `notify`); `notify-debouncer-full` folds
//! an editor's write-rename-chmod into one event per file. A burst of saves still yields events
//! spread over several debouncer ticks, so each service's task collects changes until the tree
//! has been quiet for [`QUIET`] and then restarts once.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use notify_debouncer_full::notify::event::{EventKind, MetadataKind, ModifyKind};
use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;

use crate::config::HippodromeToml;
use crate::supervisor::{Service, Status, Supervisor};

/// How long the debouncer holds one file's events before handing them over.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// How long no further change may arrive before a collected burst restarts the service.
const QUIET: Duration = Duration::from_millis(300);

/// Compile one `watch`/`ignore` pattern: relative to the service's cwd, `*` stays inside one
/// directory and `**` crosses directories (as in .gitignore).
pub fn glob(pattern: &str) -> Result<Glob, String> {
    if pattern.trim().is_empty() {
        return Err("must not be empty".into());
    }
    let path = Path::new(pattern);
    if path.is_absolute() {
        return Err("must be relative to the service's cwd".into());
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err("must not leave the service's cwd (`..`)".into());
    }
    GlobBuilder::new(pattern.trim_start_matches("./"))
        .literal_separator(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(glob(p)?);
    }
    b.build().map_err(|e| e.to_string())
}

/// Which changed paths concern one service.
struct Matcher {
    cwd: PathBuf,
    watch: GlobSet,
    ignore: GlobSet,
}

impl Matcher {
    /// The path relative to the cwd when it matches `watch` and neither it nor a directory
    /// above it matches `ignore`.
    fn relevant(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.cwd).ok()?;
        if !self.watch.is_match(rel) || rel.ancestors().any(|a| self.ignore.is_match(a)) {
            return None;
        }
        Some(rel.to_string_lossy().into_owned())
    }
}

/// A change to content or names; not reads (inotify reports opens) or access times.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(m)) => *m != MetadataKind::AccessTime,
        EventKind::Modify(_) => true,
        _ => false,
    }
}

/// The directories to watch for `patterns`: each pattern's literal leading directories, recursive
/// when the rest can match deeper than one level. Directories inside a recursive one are dropped.
fn roots(cwd: &Path, patterns: &[String]) -> Vec<(PathBuf, RecursiveMode)> {
    let mut out: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    let mut found = BTreeSet::new();
    for p in patterns {
        let parts: Vec<&str> = p
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let first_glob = parts
            .iter()
            .position(|c| c.contains(['*', '?', '[', '{']))
            .unwrap_or(parts.len());
        // A literal file is watched through its directory (editors replace files by renaming).
        let base_len = first_glob.min(parts.len().saturating_sub(1));
        let rest = &parts[base_len..];
        let recursive = rest.len() > 1 || rest.iter().any(|c| c.contains("**"));
        let dir = parts[..base_len]
            .iter()
            .fold(cwd.to_path_buf(), |d, c| d.join(c));
        found.insert((dir, recursive));
    }
    // Recursive first, so a directory covered by one is recognised below.
    let mut sorted: Vec<(PathBuf, bool)> = found.into_iter().collect();
    sorted.sort_by_key(|(d, r)| (!*r, d.components().count()));
    for (dir, recursive) in sorted {
        let covered = out
            .iter()
            .any(|(d, m)| *m == RecursiveMode::Recursive && dir.starts_with(d));
        if !covered {
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            out.push((dir, mode));
        }
    }
    out
}

/// The running watchers. Dropping it stops them, so drop it before stopping the stack: no
/// change seen during shutdown can start a service again.
#[derive(Default)]
pub struct Watchers {
    debouncers: Vec<Debouncer<RecommendedWatcher, RecommendedCache>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start one watcher per managed service that has `watch`. Problems (a missing directory, the
/// inotify watch limit) are written to that service's log; the stack runs on without reload.
pub fn start(sup: &Arc<Supervisor>, toml: &HippodromeToml, project_root: &Path) -> Watchers {
    let mut out = Watchers::default();
    for section in toml.services.iter().filter(|s| !s.watch.is_empty()) {
        let Some(svc) = sup.get(&section.name).filter(|s| s.spec.skip.is_none()) else {
            continue;
        };
        let cwd = section
            .cwd
            .as_ref()
            .map(|c| project_root.join(c))
            .unwrap_or_else(|| project_root.to_path_buf());
        let cwd = std::path::absolute(&cwd).unwrap_or(cwd);
        let matcher = match (glob_set(&section.watch), glob_set(&section.ignore)) {
            (Ok(watch), Ok(ignore)) => Matcher { cwd, watch, ignore },
            (Err(e), _) | (_, Err(e)) => {
                svc.sink
                    .line(&format!("[hippodrome] watch: {e}; not watching"));
                continue;
            }
        };
        match watch_service(svc, matcher, &section.watch, &section.ignore) {
            Ok((debouncer, rx)) => {
                out.debouncers.push(debouncer);
                out.tasks.push(tokio::spawn(reload_loop(
                    sup.clone(),
                    section.name.clone(),
                    rx,
                )));
            }
            Err(e) => svc.sink.line(&format!(
                "[hippodrome] watch: {e}; hot reload is off (see TROUBLESHOOTING.md#hot-reload-does-not-restart-a-service)"
            )),
        }
    }
    out
}

type Watch = (
    Debouncer<RecommendedWatcher, RecommendedCache>,
    mpsc::UnboundedReceiver<Vec<String>>,
);

fn watch_service(
    svc: &Service,
    matcher: Matcher,
    watch: &[String],
    ignore: &[String],
) -> Result<Watch, String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let dirs = roots(&matcher.cwd, watch);
    let sink = svc.sink.clone();
    let cwd = matcher.cwd.clone();
    // Runs on the debouncer's thread: filter there, so only relevant paths cross over.
    let handler = move |res: DebounceEventResult| match res {
        Ok(events) => {
            let changed: Vec<String> = events
                .iter()
                .filter(|e| is_change(&e.kind))
                .flat_map(|e| e.paths.iter())
                .filter_map(|p| matcher.relevant(p))
                .collect();
            if !changed.is_empty() {
                let _ = tx.send(changed);
            }
        }
        Err(errors) => {
            for e in errors {
                sink.line(&format!("[hippodrome] watch: {e}"));
            }
        }
    };
    let mut debouncer = new_debouncer(DEBOUNCE, None, handler).map_err(|e| e.to_string())?;
    let mut watching = Vec::new();
    for (dir, mode) in dirs {
        let shown = dir.strip_prefix(&cwd).unwrap_or(&dir).display().to_string();
        let shown = if shown.is_empty() { ".".into() } else { shown };
        match debouncer.watch(&dir, mode) {
            Ok(()) => watching.push(shown),
            Err(e) => svc.sink.line(&format!(
                "[hippodrome] watch: cannot watch {shown}: {e}; changes there are not seen"
            )),
        }
    }
    if watching.is_empty() {
        return Err("no directory could be watched".into());
    }
    let ignoring = if ignore.is_empty() {
        String::new()
    } else {
        format!(", ignoring {}", ignore.join(" "))
    };
    svc.sink.line(&format!(
        "[hippodrome] hot reload: restarting on changes to {}{ignoring} (in {})",
        watch.join(" "),
        cwd.display()
    ));
    Ok((debouncer, rx))
}

/// Collect a burst of changes until [`QUIET`], then restart once.
async fn reload_loop(
    sup: Arc<Supervisor>,
    name: String,
    mut rx: mpsc::UnboundedReceiver<Vec<String>>,
) {
    while let Some(first) = rx.recv().await {
        let mut changed: BTreeSet<String> = first.into_iter().collect();
        loop {
            match tokio::time::timeout(QUIET, rx.recv()).await {
                Ok(Some(more)) => changed.extend(more),
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let Some(svc) = sup.get(&name) else { return };
        // Not started yet (a later layer) or stopped on request: leave it as it is.
        if matches!(
            svc.snapshot().status,
            Status::Pending | Status::Stopped | Status::Skipped
        ) {
            continue;
        }
        if let Err(e) = sup.reload(&name, &cause(&changed)).await {
            tracing::warn!(service = %name, error = %e, "hot reload restart failed");
        }
    }
}

/// `src/app.py changed`, `a.py, b.py changed`, `a.py, b.py and 3 more changed`.
fn cause(changed: &BTreeSet<String>) -> String {
    let shown: Vec<&str> = changed.iter().take(2).map(String::as_str).collect();
    match changed.len() {
        0..=2 => format!("{} changed", shown.join(", ")),
        n => format!("{} and {} more changed", shown.join(", "), n - 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(watch: &[&str], ignore: &[&str]) -> Matcher {
        let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Matcher {
            cwd: PathBuf::from("/w"),
            watch: glob_set(&v(watch)).unwrap(),
            ignore: glob_set(&v(ignore)).unwrap(),
        }
    }

    #[test]
    fn globs_are_relative_and_star_stays_in_one_directory() {
        let m = matcher(&["src/**/*.py", "*.toml"], &["src/generated"]);
        assert_eq!(
            m.relevant(Path::new("/w/src/app.py")).as_deref(),
            Some("src/app.py")
        );
        assert!(m.relevant(Path::new("/w/src/a/b/c.py")).is_some());
        assert!(m.relevant(Path::new("/w/pyproject.toml")).is_some());
        assert!(m.relevant(Path::new("/w/sub/pyproject.toml")).is_none());
        assert!(m.relevant(Path::new("/w/src/generated/x.py")).is_none());
        assert!(m.relevant(Path::new("/elsewhere/src/app.py")).is_none());
        assert!(glob("/abs/*.py").is_err());
        assert!(glob("../up/*.py").is_err());
        assert!(glob("src/[a.py").is_err());
    }

    #[test]
    fn roots_watch_literal_prefixes() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cwd = Path::new("/w");
        assert_eq!(
            roots(
                cwd,
                &p(&["src/**/*.py", "src/lib/*.py", "app.py", "*.toml"])
            ),
            vec![
                (PathBuf::from("/w/src"), RecursiveMode::Recursive),
                (PathBuf::from("/w"), RecursiveMode::NonRecursive),
            ]
        );
        assert_eq!(
            roots(cwd, &p(&["conf/*/x.yaml"])),
            vec![(PathBuf::from("/w/conf"), RecursiveMode::Recursive)]
        );
    }

    #[test]
    fn cause_names_the_files() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(cause(&s(&["src/app.py"])), "src/app.py changed");
        assert_eq!(cause(&s(&["a", "b", "c", "d"])), "a, b and 2 more changed");
    }
}
