//! The on-disk format of one snapshot: `.hippodrome/snapshots/NAME/` holding one file per part
//! (a service's `/_fake/snapshot` document, moto's filtered recording, the seed manifest, what the
//! `[[snapshot.hooks]]` wrote) and `manifest.json` naming each with its SHA-256 and size.
//!
//! A snapshot is written into a temporary directory beside the others and renamed into place, so
//! a crash leaves either the old snapshot or the new one, never a mix. Loading checks the format
//! and the Hippodrome version first, then every checksum, so a snapshot from an incompatible
//! version or a damaged copy is refused with a message before any service is touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// A snapshot loads only into the Hippodrome version that wrote it (the services' formats move
/// with it).
pub const HIPPODROME_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const MANIFEST: &str = "manifest.json";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub hippodrome_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `HIPPODROME_RANDOM_SEED` of the stack it was taken from.
    pub random_seed: Option<u64>,
    /// Part name (`fake-cell`, `moto`, `seed`, `hook:NAME`…) → its file.
    pub services: BTreeMap<String, Part>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Part {
    /// Relative to the snapshot's directory.
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A snapshot being written: parts go into a temporary directory until [`Writer::commit`].
pub struct Writer {
    tmp: tempfile::TempDir,
    manifest: Manifest,
}

impl Writer {
    /// Start a snapshot under `root` (`.hippodrome/snapshots`).
    pub fn new(root: &Path, random_seed: Option<u64>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".writing-")
            .tempdir_in(root)
            .with_context(|| format!("cannot write in {}", root.display()))?;
        Ok(Self {
            tmp,
            manifest: Manifest {
                format_version: FORMAT_VERSION,
                hippodrome_version: HIPPODROME_VERSION.into(),
                created_at: now_rfc3339(),
                random_seed,
                services: BTreeMap::new(),
            },
        })
    }

    /// Where hooks write their files (their environment's `HIPPODROME_SNAPSHOT_DIR`).
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Whether `file` is already one of the snapshot's parts.
    pub fn holds(&self, file: &str) -> bool {
        self.manifest.services.values().any(|p| p.file == file)
    }

    /// Add one part as `file`.
    pub fn add(&mut self, part: &str, file: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.tmp.path().join(file);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        self.record(part, file, bytes);
        Ok(())
    }

    /// Record a file something else (a hook) already wrote into [`Writer::dir`].
    pub fn adopt(&mut self, part: &str, file: &str) -> anyhow::Result<()> {
        let path = self.tmp.path().join(file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        self.record(part, file, &bytes);
        Ok(())
    }

    fn record(&mut self, part: &str, file: &str, bytes: &[u8]) {
        self.manifest.services.insert(
            part.into(),
            Part {
                file: file.into(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            },
        );
    }

    /// fsync every file, write the manifest last, and rename the directory to `dest` (replacing
    /// an older snapshot of that name only once the new one is whole).
    pub fn commit(self, dest: &Path) -> anyhow::Result<Manifest> {
        for entry in std::fs::read_dir(self.tmp.path())? {
            std::fs::File::open(entry?.path())?.sync_all()?;
        }
        let bytes = serde_json::to_vec_pretty(&self.manifest)?;
        service_kit::state_file::write_atomic(&self.tmp.path().join(MANIFEST), &bytes)?;
        let staged = self.tmp.keep();
        let old = dest.with_extension(format!("replaced-{}", std::process::id()));
        let had_old = dest.exists();
        if had_old {
            std::fs::rename(dest, &old)
                .with_context(|| format!("cannot replace {}", dest.display()))?;
        }
        if let Err(e) = std::fs::rename(&staged, dest) {
            if had_old {
                let _ = std::fs::rename(&old, dest);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e)
                .with_context(|| format!("cannot move the snapshot to {}", dest.display()));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        if let Some(parent) = dest.parent()
            && let Ok(d) = std::fs::File::open(parent)
        {
            let _ = d.sync_all();
        }
        Ok(self.manifest)
    }
}

/// A snapshot checked whole: its manifest and every part's bytes.
pub struct Loaded {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub parts: BTreeMap<String, Vec<u8>>,
}

impl Loaded {
    pub fn part(&self, name: &str) -> Option<&[u8]> {
        self.parts.get(name).map(Vec::as_slice)
    }
}

/// Read only the manifest (for `list`), checking nothing but that it parses.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a snapshot manifest", path.display()))
}

/// Read a snapshot and refuse it unless its version matches this build and every checksum holds.
pub fn load(dir: &Path) -> anyhow::Result<Loaded> {
    let manifest = read_manifest(dir)?;
    if manifest.format_version != FORMAT_VERSION
        || manifest.hippodrome_version != HIPPODROME_VERSION
    {
        bail!(
            "snapshot {} was written by Hippodrome {} (snapshot format {}); this is Hippodrome {} \
             (format {}), which cannot load it: restore it with Hippodrome {} or take a new one",
            dir.display(),
            manifest.hippodrome_version,
            manifest.format_version,
            HIPPODROME_VERSION,
            FORMAT_VERSION,
            manifest.hippodrome_version
        );
    }
    let mut parts = BTreeMap::new();
    for (name, part) in &manifest.services {
        if part.file.contains('/') || part.file.starts_with('.') {
            bail!(
                "snapshot {}: part {name} names a file outside it",
                dir.display()
            );
        }
        let path = dir.join(&part.file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let sum = sha256_hex(&bytes);
        if sum != part.sha256 || bytes.len() as u64 != part.bytes {
            bail!(
                "snapshot {}: {} is damaged (sha256 {sum}, {} bytes; the manifest says {}, {} \
                 bytes); nothing was restored",
                dir.display(),
                part.file,
                bytes.len(),
                part.sha256,
                part.bytes
            );
        }
        parts.insert(name.clone(), bytes);
    }
    Ok(Loaded {
        dir: dir.to_path_buf(),
        manifest,
        parts,
    })
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_one(root: &Path, name: &str, body: &[u8]) -> PathBuf {
        let mut w = Writer::new(root, Some(7)).unwrap();
        w.add("fake-cell", "fake-cell.json", body).unwrap();
        let dest = root.join(name);
        w.commit(&dest).unwrap();
        dest
    }

    #[test]
    fn a_snapshot_round_trips_with_its_checksums() {
        let root = tempfile::tempdir().unwrap();
        let dir = write_one(root.path(), "a", b"{\"x\":1}");
        let loaded = load(&dir).unwrap();
        assert_eq!(loaded.part("fake-cell"), Some(&b"{\"x\":1}"[..]));
        assert_eq!(loaded.manifest.random_seed, Some(7));
        assert_eq!(loaded.manifest.hippodrome_version, HIPPODROME_VERSION);
        // Nothing half-written is left beside it.
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["a".to_string()]);
    }

    #[test]
    fn a_damaged_part_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = write_one(root.path(), "a", b"{\"x\":1}");
        std::fs::write(dir.join("fake-cell.json"), b"{\"x\":2}").unwrap();
        let err = load(&dir).err().unwrap().to_string();
        assert!(err.contains("is damaged"), "{err}");
    }

    #[test]
    fn another_version_is_refused_with_both_versions_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = write_one(root.path(), "a", b"{}");
        let mut m = read_manifest(&dir).unwrap();
        m.hippodrome_version = "0.0.1-other".into();
        std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
        let err = load(&dir).err().unwrap().to_string();
        assert!(
            err.contains("0.0.1-other") && err.contains(HIPPODROME_VERSION),
            "{err}"
        );
        m.hippodrome_version = HIPPODROME_VERSION.into();
        m.format_version = FORMAT_VERSION + 1;
        std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(load(&dir).is_err());
    }

    #[test]
    fn replacing_a_snapshot_is_all_or_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = write_one(root.path(), "a", b"old");
        // A writer that is dropped before commit leaves the old snapshot untouched.
        let mut w = Writer::new(root.path(), None).unwrap();
        w.add("fake-cell", "fake-cell.json", b"half").unwrap();
        drop(w);
        assert_eq!(load(&dir).unwrap().part("fake-cell"), Some(&b"old"[..]));
        write_one(root.path(), "a", b"new");
        assert_eq!(load(&dir).unwrap().part("fake-cell"), Some(&b"new"[..]));
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_part_file_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let dir = write_one(root.path(), "a", b"{}");
        std::fs::remove_file(dir.join("fake-cell.json")).unwrap();
        assert!(load(&dir).is_err());
    }
}
