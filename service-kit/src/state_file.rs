//! Whole-file state writes that are atomic and durable, and loads that never destroy evidence.
//!
//! Write: a *unique* temp file in the same directory (so parallel processes never clobber each
//! other's temp file), fsync it, rename over the target, fsync the directory (so the rename itself
//! survives a crash). Load: a file that does not parse is moved aside to `<name>.corrupt-<unix-ms>`
//! with a log line, never silently overwritten.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Atomically replace `path` with `bytes`. Creates the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// fsync a directory so a rename or a new file inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What [`load_json`] found.
#[derive(Debug)]
pub enum Loaded<T> {
    /// No file: start empty.
    Missing,
    Found(T),
    /// The file did not parse; it was moved to the given path and the service starts empty.
    MovedAside {
        to: PathBuf,
        error: String,
    },
}

/// Load a JSON state file. An unreadable or unparsable file is moved aside, never overwritten.
pub fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<Loaded<T>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(e) => return Err(e),
    };
    match serde_json::from_slice(&bytes) {
        Ok(v) => Ok(Loaded::Found(v)),
        Err(e) => {
            let to = move_aside(path)?;
            tracing::error!(
                file = %path.display(), moved_to = %to.display(), error = %e,
                "state file is not valid JSON; moved it aside and starting empty (see TROUBLESHOOTING.md#state-file-moved-aside)"
            );
            Ok(Loaded::MovedAside {
                to,
                error: e.to_string(),
            })
        }
    }
}

/// Rename `path` to `<path>.corrupt-<unix-ms>` and return the new path.
pub fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut to = path.as_os_str().to_owned();
    to.push(format!(".corrupt-{ms}"));
    let to = PathBuf::from(to);
    fs::rename(path, &to)?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("state.json");
        write_atomic(&p, br#"{"a":1}"#).unwrap();
        match load_json::<serde_json::Value>(&p).unwrap() {
            Loaded::Found(v) => assert_eq!(v["a"], 1),
            other => panic!("unexpected {other:?}"),
        }
        // no temp files left behind
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn corrupt_file_is_moved_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        fs::write(&p, b"{not json").unwrap();
        match load_json::<serde_json::Value>(&p).unwrap() {
            Loaded::MovedAside { to, .. } => {
                assert!(!p.exists());
                assert_eq!(fs::read(&to).unwrap(), b"{not json");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
