//! Durability: a snapshot (`state.json`, atomic write) plus `service_kit::journal` files beside it.
//!
//! Every mutation is applied to memory and submitted as one idempotent [`Record`] while holding the
//! lock that ordered it; the handler releases the lock, awaits the ticket (group-committed fsync by
//! the journal thread) and only then answers. Compaction rotates the journal, serialises a snapshot
//! that covers the closed generations, writes it atomically and deletes those journal files.
//! Recovery loads the snapshot and replays newer records in order. The write path every handler
//! uses (`Cell::check_writable`, `Cell::submit`, `Cell::commit`) is defined here.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use service_kit::journal::{Journal, JournalError, Ticket};
use service_kit::state_file::{self, Loaded};

use crate::engine::search::index_data::IndexData;
use crate::engine::store::{self, DocRecord, FieldNames};
use crate::engine::typeahead::QueryRecord;
use crate::error::{CellError, CellResult};
use crate::state::{Account, ApiKey, Cell, Index, IndexMeta, Job};

/// One journal line. Each is idempotent: it carries full new values or deletes by key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    Account {
        v: Account,
    },
    Key {
        v: ApiKey,
    },
    Index {
        v: IndexMeta,
    },
    IndexDelete {
        name: String,
    },
    Docs {
        index: String,
        #[serde(default)]
        put: Vec<DocRecord>,
        #[serde(default)]
        del: Vec<String>,
    },
    Alias {
        name: String,
        target: Option<String>,
    },
    /// Typeahead queries written (`put`), deleted, or all cleared first (`clear`).
    Queries {
        index: String,
        #[serde(default)]
        clear: bool,
        #[serde(default)]
        put: Vec<QueryRecord>,
        #[serde(default)]
        del: Vec<String>,
    },
    Job {
        v: Job,
    },
    Reset,
    Noop,
}

/// The write path: every mutation is applied to memory, submitted while the lock that ordered it
/// is held, and acknowledged only after its ticket commits.
impl Cell {
    /// Refuse writes up front while the journal is failing (reads keep working).
    pub fn check_writable(&self) -> CellResult<()> {
        self.writes.check().map_err(CellError::Persistence)
    }

    /// Queue a record; call while holding the lock that ordered the mutation.
    pub fn submit(&self, rec: &Record) -> Ticket {
        self.written
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.journal.submit_json(rec)
    }

    /// Wait for durability; the write is acknowledged only if this succeeds.
    pub async fn commit(&self, ticket: Ticket) -> CellResult<()> {
        match ticket.wait().await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.writes.failed(&e.0);
                Err(e.into())
            }
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IndexSnapshot {
    pub meta: Option<IndexMeta>,
    #[serde(default)]
    pub docs: Vec<DocRecord>,
    /// The fields a semi-structured index has taken, deleted documents' too (Marqo's schema
    /// only grows).
    #[serde(default, skip_serializing_if = "FieldNames::is_empty")]
    pub fields: FieldNames,
    /// Its typeahead queries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryRecord>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Journal generations `<= covered` are contained in this snapshot.
    #[serde(default)]
    pub covered: u64,
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub keys: Vec<ApiKey>,
    #[serde(default)]
    pub indexes: Vec<IndexSnapshot>,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    #[serde(default)]
    pub jobs: Vec<Job>,
}

/// Read the snapshot (moving an unreadable one aside) and open the journal.
pub fn open(path: &Path) -> anyhow::Result<(Snapshot, Journal, Vec<Record>)> {
    let snap = match state_file::load_json::<Snapshot>(path)? {
        Loaded::Found(s) => s,
        Loaded::Missing => Snapshot::default(),
        Loaded::MovedAside { to, error } => {
            tracing::error!(file = %path.display(), moved_to = %to.display(), %error,
                "fake-cell state file unreadable; moved aside, starting from the journal only");
            Snapshot::default()
        }
    };
    let (journal, replay) = Journal::open(path, snap.covered)?;
    if replay.skipped > 0 {
        tracing::warn!(
            skipped = replay.skipped,
            "skipped torn journal lines (never acknowledged)"
        );
    }
    let mut records = Vec::with_capacity(replay.records.len());
    for raw in replay.records {
        match serde_json::from_slice::<Record>(&raw) {
            Ok(r) => records.push(r),
            Err(e) => tracing::warn!(error = %e, "skipping an unknown journal record"),
        }
    }
    Ok((snap, journal, records))
}

/// Load a snapshot into an empty cell.
pub fn load_snapshot(cell: &Cell, snap: Snapshot) {
    for a in snap.accounts {
        apply(cell, Record::Account { v: a });
    }
    for k in snap.keys {
        apply(cell, Record::Key { v: k });
    }
    for i in snap.indexes {
        let Some(meta) = i.meta else { continue };
        let name = meta.name.clone();
        apply(cell, Record::Index { v: meta });
        apply(
            cell,
            Record::Docs {
                index: name.clone(),
                put: i.docs,
                del: Vec::new(),
            },
        );
        if let Some(idx) = cell.indexes.read().get(&name) {
            let mut data = idx.data.write();
            data.fields.extend(i.fields);
            data.suggestions.put(i.queries);
        }
    }
    for (name, target) in snap.aliases {
        apply(
            cell,
            Record::Alias {
                name,
                target: Some(target),
            },
        );
    }
    for j in snap.jobs {
        apply(cell, Record::Job { v: j });
    }
}

/// Apply one record to memory (recovery only: no journal, no servers).
pub fn apply(cell: &Cell, rec: Record) {
    match rec {
        Record::Account { v } => {
            cell.dir.write().accounts.insert(v.account_id.clone(), v);
        }
        Record::Key { v } => cell.dir.write().put_key(v),
        Record::Index { v } => {
            let mut map = cell.indexes.write();
            match map.get(&v.name) {
                // Same index, new metadata (status, cloud options, port).
                Some(existing) if existing.meta.read().settings == v.settings => {
                    *existing.meta.write() = v;
                }
                _ => {
                    map.insert(v.name.clone(), Arc::new(Index::new(v)));
                }
            }
        }
        Record::IndexDelete { name } => {
            cell.indexes.write().remove(&name);
            cell.add_tombstone(&name);
        }
        Record::Docs { index, put, del } => {
            let Some(idx) = cell.indexes.read().get(&index).cloned() else {
                return;
            };
            let prepared: Vec<_> = put
                .into_iter()
                .map(|d| store::prepare(d, &idx.settings))
                .collect();
            let mut data = idx.data.write();
            for id in del {
                data.remove(&id);
            }
            for p in prepared {
                data.put(p);
            }
        }
        Record::Queries {
            index,
            clear,
            put,
            del,
        } => {
            let Some(idx) = cell.indexes.read().get(&index).cloned() else {
                return;
            };
            let mut data = idx.data.write();
            apply_queries(&mut data, clear, put, &del);
        }
        Record::Alias { name, target } => {
            let mut a = cell.aliases.write();
            match target {
                Some(t) => a.insert(name, t),
                None => a.remove(&name),
            };
        }
        Record::Job { mut v } => {
            if v.status == "queued" || v.status == "running" {
                v.status = "failed".into();
                v.error = Some("interrupted by a restart of the cell".into());
            }
            cell.put_job(v);
        }
        Record::Reset => reset_memory(cell),
        Record::Noop => {}
    }
}

/// One typeahead write to an index's data (the handlers and recovery both apply it).
pub fn apply_queries(data: &mut IndexData, clear: bool, put: Vec<QueryRecord>, del: &[String]) {
    if clear {
        data.suggestions.clear();
    }
    data.suggestions.remove(del);
    data.suggestions.put(put);
    data.version += 1;
}

pub fn reset_memory(cell: &Cell) {
    *cell.dir.write() = Default::default();
    cell.indexes.write().clear();
    cell.aliases.write().clear();
    cell.jobs.lock().clear();
    cell.tombstones.lock().clear();
}

/// Serialise the whole state (the `GET /_fake/state` dump uses it too).
pub fn snapshot(cell: &Cell, covered: u64) -> Snapshot {
    let (accounts, keys) = {
        let d = cell.dir.read();
        (
            d.accounts.values().cloned().collect(),
            d.keys.values().cloned().collect(),
        )
    };
    let mut list: Vec<Arc<Index>> = cell.indexes.read().values().cloned().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let indexes = list
        .iter()
        .map(|i| {
            let meta = i.meta.read().clone();
            let (docs, fields, queries) = {
                let data = i.data.read();
                (
                    data.records(),
                    data.fields.clone(),
                    data.suggestions.records(),
                )
            };
            IndexSnapshot {
                meta: Some(meta),
                docs,
                fields,
                queries,
            }
        })
        .collect();
    Snapshot {
        covered,
        accounts,
        keys,
        indexes,
        aliases: cell.aliases.read().clone(),
        jobs: cell.jobs.lock().iter().cloned().collect(),
    }
}

pub(crate) fn write_snapshot(cell: &Cell, covered: u64) -> Result<(), String> {
    let snap = snapshot(cell, covered);
    let bytes = serde_json::to_vec(&snap).map_err(|e| e.to_string())?;
    state_file::write_atomic(&cell.cfg.state_file, &bytes).map_err(|e| e.to_string())?;
    cell.journal
        .remove_through(covered)
        .map_err(|e| e.to_string())
}

/// Rotate, snapshot, drop covered journal files. Runs on a blocking thread.
pub async fn compact(cell: Arc<Cell>) -> Result<(), String> {
    if cell.compacting.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let result = async {
        let covered = cell.journal.rotate().await.map_err(|e: JournalError| e.0)?;
        let c = cell.clone();
        tokio::task::spawn_blocking(move || write_snapshot(&c, covered))
            .await
            .map_err(|e| e.to_string())?
    }
    .await;
    cell.compacting.store(false, Ordering::SeqCst);
    result
}

/// Same for plain threads (the watchdog, before it exits).
pub fn compact_blocking(cell: &Cell) -> Result<(), String> {
    if cell.compacting.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let result = cell
        .journal
        .rotate_blocking()
        .map_err(|e| e.0)
        .and_then(|covered| write_snapshot(cell, covered));
    cell.compacting.store(false, Ordering::SeqCst);
    result
}

/// The probe record: `Record::Noop` as the journal stores it (replay ignores it).
const NOOP: &[u8] = br#"{"t":"noop"}"#;

/// Background upkeep: compact when the journal grows, and probe a failing journal until it works.
pub async fn maintain(cell: Arc<Cell>, shutdown: service_kit::Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tick.tick() => {}
        }
        // While failing, a tiny record tells us whether the disk accepts writes again.
        if !cell.writes.probe(&cell.journal, NOOP).await {
            continue;
        }
        if cell.journal.bytes_in_generation() > cell.cfg.compact_after_bytes
            && let Err(e) = compact(cell.clone()).await
        {
            tracing::warn!(error = %e, "snapshot compaction failed; the journal keeps growing");
            cell.writes.failed(&e);
            continue;
        }
        cell.writes
            .report_ok(serde_json::json!({"journal_bytes": cell.journal.bytes_in_generation()}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_record_is_a_noop() {
        assert!(matches!(serde_json::from_slice(NOOP), Ok(Record::Noop)));
    }
}
