//! An append-only, group-committed write journal: how an acknowledged write survives `kill -9`
//! without rewriting the whole state file for every document.
//!
//! # Protocol (used by fake-cell and fake-cognito)
//!
//! State lives in a snapshot (`state.json`, written with [`crate::state_file::write_atomic`]) plus
//! journal files `state.json.journal.<generation>`, one JSON record per line.
//!
//! - **Write:** while holding the lock that orders writers to the same key, mutate memory and call
//!   [`Journal::submit`] (a channel send, no I/O). Release the lock, then await the [`Ticket`]; only
//!   then acknowledge the client. A dedicated writer thread drains every pending record, writes them,
//!   `fdatasync`s once and resolves all their tickets: one disk flush per batch, not per document.
//! - **Records must be idempotent** (put the full new value, delete by key): replay may apply a
//!   record that the snapshot already contains.
//! - **Compaction:** [`Journal::rotate`] closes the current generation `g` and starts `g + 1`. Every
//!   record in generations `<= g` was applied to memory before it was submitted, so a snapshot
//!   serialised *after* `rotate` returns contains them all. Write that snapshot tagged "covers `g`",
//!   then call [`Journal::remove_through`]`(g)`.
//! - **Recovery:** load the snapshot (covering `g`), then [`Journal::open`] replays every journal
//!   file with a generation `> g`, in order. A torn last line (the process died mid-write, so it was
//!   never acknowledged) is skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use tokio::sync::oneshot;

type Ack = oneshot::Sender<Result<(), JournalError>>;

enum Cmd {
    Append(Vec<u8>, Ack),
    Rotate(oneshot::Sender<Result<u64, JournalError>>),
}

/// A journal write failed (disk full, directory unwritable...). Cloneable so one failed flush can
/// fail every ticket in its batch.
#[derive(Debug, Clone, thiserror::Error)]
#[error("journal write failed: {0}")]
pub struct JournalError(pub String);

impl From<io::Error> for JournalError {
    fn from(e: io::Error) -> Self {
        JournalError(e.to_string())
    }
}

/// Resolves once the record is durable on disk (or the write failed).
#[must_use = "a write is acknowledged only after its ticket resolves"]
pub struct Ticket(oneshot::Receiver<Result<(), JournalError>>);

impl Ticket {
    pub async fn wait(self) -> Result<(), JournalError> {
        self.0
            .await
            .unwrap_or_else(|_| Err(JournalError("journal writer stopped".into())))
    }
}

/// Handle to the writer thread. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Cmd>,
    base: Arc<PathBuf>,
    bytes_in_generation: Arc<AtomicU64>,
}

/// What [`Journal::open`] found on disk: records to replay, in order.
pub struct Replay {
    pub records: Vec<Vec<u8>>,
    /// Lines that were not complete records (a torn tail after a crash).
    pub skipped: usize,
}

impl Journal {
    /// Open the journal next to `state_path`, dropping generations `<= covered` (already in the
    /// snapshot) and returning the records of later generations for replay. New records go to a
    /// fresh generation.
    pub fn open(state_path: &Path, covered: u64) -> io::Result<(Journal, Replay)> {
        let base = state_path.to_path_buf();
        let dir = base
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ".".into());
        fs::create_dir_all(&dir)?;
        let mut gens = list_generations(&base)?;
        gens.sort_unstable();
        let mut replay = Replay {
            records: Vec::new(),
            skipped: 0,
        };
        let mut max_gen = covered;
        for g in gens {
            max_gen = max_gen.max(g);
            let path = generation_path(&base, g);
            if g <= covered {
                let _ = fs::remove_file(&path);
                continue;
            }
            read_records(&path, &mut replay)?;
        }
        let generation = max_gen + 1;
        let file = open_generation(&base, generation)?;
        crate::state_file::sync_dir(&dir)?;
        let (tx, rx) = mpsc::channel();
        let bytes = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            rx,
            base: base.clone(),
            dir,
            generation,
            file,
            bytes: bytes.clone(),
            newline_owed: false,
        };
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer.run())?;
        Ok((
            Journal {
                tx,
                base: Arc::new(base),
                bytes_in_generation: bytes,
            },
            replay,
        ))
    }

    /// Queue one record (serialised JSON, no newline inside). Never blocks, never does I/O, so it
    /// may be called while holding the lock that orders writes to the same key.
    pub fn submit(&self, record: Vec<u8>) -> Ticket {
        let (ack, rx) = oneshot::channel();
        if let Err(mpsc::SendError(Cmd::Append(_, ack))) = self.tx.send(Cmd::Append(record, ack)) {
            let _ = ack.send(Err(JournalError("journal writer stopped".into())));
        }
        Ticket(rx)
    }

    /// Serialise `value` as one record and queue it.
    pub fn submit_json<T: serde::Serialize>(&self, value: &T) -> Ticket {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.submit(bytes),
            Err(e) => {
                let (ack, rx) = oneshot::channel();
                let _ = ack.send(Err(JournalError(format!("cannot serialise record: {e}"))));
                Ticket(rx)
            }
        }
    }

    /// Close the current generation and start the next; returns the closed generation. Every
    /// record submitted before this call is durable when it returns.
    pub async fn rotate(&self) -> Result<u64, JournalError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Rotate(tx))
            .map_err(|_| JournalError("journal writer stopped".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(JournalError("journal writer stopped".into())))
    }

    /// Blocking form of [`Journal::rotate`] for plain threads.
    pub fn rotate_blocking(&self) -> Result<u64, JournalError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Rotate(tx))
            .map_err(|_| JournalError("journal writer stopped".into()))?;
        rx.blocking_recv()
            .unwrap_or_else(|_| Err(JournalError("journal writer stopped".into())))
    }

    /// Delete journal generations `<= generation` once a snapshot covering them is durable.
    pub fn remove_through(&self, generation: u64) -> io::Result<()> {
        for g in list_generations(&self.base)? {
            if g <= generation {
                fs::remove_file(generation_path(&self.base, g))?;
            }
        }
        Ok(())
    }

    /// Bytes written to the current generation: a cheap signal for when to compact.
    pub fn bytes_in_generation(&self) -> u64 {
        self.bytes_in_generation.load(Ordering::Relaxed)
    }
}

struct Writer {
    rx: mpsc::Receiver<Cmd>,
    base: PathBuf,
    dir: PathBuf,
    generation: u64,
    file: File,
    bytes: Arc<AtomicU64>,
    /// A failed write left a torn line that could not be closed yet.
    newline_owed: bool,
}

impl Writer {
    fn run(mut self) {
        let mut batch: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut acks: Vec<Ack> = Vec::new();
        // Blocks for the first command, then drains whatever queued up meanwhile: that is the group.
        while let Ok(first) = self.rx.recv() {
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Append(rec, ack) => {
                        batch.extend_from_slice(&rec);
                        batch.push(b'\n');
                        acks.push(ack);
                    }
                    Cmd::Rotate(reply) => {
                        self.flush(&mut batch, &mut acks);
                        let _ = reply.send(self.rotate());
                    }
                }
                if batch.len() < 8 * 1024 * 1024 {
                    next = self.rx.try_recv().ok();
                }
            }
            self.flush(&mut batch, &mut acks);
        }
        self.flush(&mut batch, &mut acks);
    }

    fn flush(&mut self, batch: &mut Vec<u8>, acks: &mut Vec<Ack>) {
        if acks.is_empty() {
            return;
        }
        let result = self.write_batch(batch).map_err(JournalError::from);
        if result.is_ok() {
            self.bytes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        } else {
            // A partial write may have left a torn line; the next batch must start on a fresh
            // line or its first (acknowledged) record would be glued to the torn one and skipped
            // on replay. (A blank line, when the write tore nothing, is skipped on replay.)
            self.newline_owed = true;
        }
        for ack in acks.drain(..) {
            let _ = ack.send(result.clone());
        }
        batch.clear();
    }

    fn write_batch(&mut self, batch: &[u8]) -> io::Result<()> {
        if self.newline_owed {
            self.file.write_all(b"\n")?;
            self.newline_owed = false;
        }
        self.file.write_all(batch)?;
        self.file.sync_data()
    }

    fn rotate(&mut self) -> Result<u64, JournalError> {
        let closed = self.generation;
        let file = open_generation(&self.base, closed + 1)?;
        crate::state_file::sync_dir(&self.dir)?;
        self.file = file;
        self.newline_owed = false;
        self.generation = closed + 1;
        self.bytes.store(0, Ordering::Relaxed);
        Ok(closed)
    }
}

fn generation_path(base: &Path, generation: u64) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".journal.{generation:08}"));
    PathBuf::from(s)
}

fn open_generation(base: &Path, generation: u64) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(generation_path(base, generation))
}

fn list_generations(base: &Path) -> io::Result<Vec<u64>> {
    let dir = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ".".into());
    let prefix = format!(
        "{}.journal.",
        base.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut out = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(g) = name
            .strip_prefix(&prefix)
            .and_then(|g| g.parse::<u64>().ok())
        {
            out.push(g);
        }
    }
    Ok(out)
}

fn read_records(path: &Path, replay: &mut Replay) -> io::Result<()> {
    let reader = BufReader::new(File::open(path)?);
    for line in reader.split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok() {
            replay.records.push(line);
        } else {
            replay.skipped += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn acknowledged_records_replay_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let (j, replay) = Journal::open(&state, 0).unwrap();
        assert!(replay.records.is_empty());
        let tickets: Vec<_> = (0..100)
            .map(|i| j.submit_json(&serde_json::json!({ "i": i })))
            .collect();
        for t in tickets {
            t.wait().await.unwrap();
        }
        drop(j);
        let (_j, replay) = Journal::open(&state, 0).unwrap();
        assert_eq!(replay.records.len(), 100);
        let last: serde_json::Value = serde_json::from_slice(&replay.records[99]).unwrap();
        assert_eq!(last["i"], 99);
    }

    #[tokio::test]
    async fn rotate_and_remove_drop_covered_generations() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let (j, _) = Journal::open(&state, 0).unwrap();
        j.submit(b"{\"a\":1}".to_vec()).wait().await.unwrap();
        let covered = j.rotate().await.unwrap();
        j.submit(b"{\"b\":2}".to_vec()).wait().await.unwrap();
        j.remove_through(covered).unwrap();
        drop(j);
        let (_j, replay) = Journal::open(&state, covered).unwrap();
        assert_eq!(replay.records, vec![b"{\"b\":2}".to_vec()]);
    }

    #[test]
    fn torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        fs::write(generation_path(&state, 1), b"{\"ok\":1}\n{\"torn\":").unwrap();
        let (_j, replay) = Journal::open(&state, 0).unwrap();
        assert_eq!(replay.records.len(), 1);
        assert_eq!(replay.skipped, 1);
    }
}
