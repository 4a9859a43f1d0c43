//! Where the project is (`--project-root`, else the git top level, else the current directory),
//! which git branch it is on, and the table prefix that branch yields.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `--project-root` if given, else `git rev-parse --show-toplevel`, else the current directory.
pub fn project_root(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    git(&cwd, &["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .unwrap_or(cwd)
}

/// The current git branch of `dir`, if it is a git checkout with a named branch.
pub fn git_branch(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD")
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// `dev-{branch}-` with every character outside `[A-Za-z0-9-]` turned into `-`
/// (`feature/add-auth` → `dev-feature-add-auth-`); `dev-local-` outside git.
pub fn default_table_prefix(branch: Option<&str>) -> String {
    match branch {
        Some(b) => format!("dev-{}-", sanitize(b)),
        None => "dev-local-".to_owned(),
    }
}

/// Replace every character outside `[A-Za-z0-9-]` with `-`.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_become_safe_prefixes() {
        assert_eq!(
            default_table_prefix(Some("feature/add-auth")),
            "dev-feature-add-auth-"
        );
        assert_eq!(default_table_prefix(Some("main")), "dev-main-");
        assert_eq!(
            default_table_prefix(Some("fix_bug#12 é")),
            "dev-fix-bug-12---"
        );
        assert_eq!(default_table_prefix(None), "dev-local-");
    }
}
