//! Whole-cell snapshots for `orchestrator snapshot`: capture the state as one versioned document,
//! restore one in place while the cell runs, and the counts `snapshot diff` compares. The HTTP
//! routes are `http/control/snapshot.rs`.
//!
//! A restore holds the exclusive [`RestoreGate`] permit: every request on the main port and on
//! every index server (except `/healthz` and `/_fake/snapshot*`) holds a shared one, so nothing
//! reads or writes a half-swapped cell. The new indexes are built off every lock (documents
//! prepared per index), swapped in, and persisted through `persist::write_snapshot` (journal
//! rotated, a state file covering it written atomically); if that fails the old state is put back.
//! Index servers: an index present before and after keeps its server and port; one only in the
//! snapshot starts on its recorded port when free (another from the range otherwise); one no
//! longer there is stopped.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::search::index_data::IndexData;
use crate::engine::store;
use crate::error::{CellError, CellResult};
use crate::persist::{self, Snapshot};
use crate::servers;
use crate::state::{Cell, Directory, Index, Job};

/// The snapshot document's format; a different one is refused.
pub const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDoc {
    pub format: u32,
    pub service: String,
    pub state: Snapshot,
}

/// Hold every request on `routes` to the restore gate (see the module doc).
pub fn gate<S: Clone + Send + Sync + 'static>(
    routes: axum::Router<S>,
    cell: &Cell,
) -> axum::Router<S> {
    service_kit::restore_gate::gate_router(routes, cell.restore_gate.clone(), busy)
}

fn busy(why: &'static str) -> axum::response::Response {
    axum::response::IntoResponse::into_response(CellError::Persistence(why.into()))
}

/// The whole state at one moment: writers are held back while it is copied.
pub async fn capture(cell: &Arc<Cell>) -> Vec<u8> {
    let state = {
        let _quiet = cell.restore_gate.restore().await;
        persist::snapshot(cell, 0)
    };
    let doc = SnapshotDoc {
        format: FORMAT,
        service: crate::SERVICE.into(),
        state,
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Accounts, keys, aliases, indexes and documents, in total and per index.
pub fn summary(cell: &Cell) -> Value {
    let (accounts, keys) = {
        let d = cell.dir.read();
        (d.accounts.len(), d.keys.len())
    };
    let mut list: Vec<Arc<Index>> = cell.indexes.read().values().cloned().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let mut per_index = serde_json::Map::new();
    let mut documents = 0;
    for idx in &list {
        let n = idx.data.read().len();
        documents += n;
        let port = idx.meta.read().port;
        per_index.insert(idx.name.clone(), json!({ "documents": n, "port": port }));
    }
    json!({
        "service": crate::SERVICE,
        "accounts": accounts,
        "keys": keys,
        "aliases": cell.aliases.read().len(),
        "indexes": list.len(),
        "documents": documents,
        "per_index": per_index,
    })
}

/// Check a document before anything is touched (400 in Marqo's shape otherwise).
pub fn parse(body: &[u8]) -> CellResult<Snapshot> {
    let doc: SnapshotDoc = serde_json::from_slice(body)
        .map_err(|e| CellError::BadRequest(format!("not a fake-cell snapshot document: {e}")))?;
    if doc.service != crate::SERVICE {
        return Err(CellError::BadRequest(format!(
            "this snapshot belongs to {}, not {}",
            doc.service,
            crate::SERVICE
        )));
    }
    if doc.format != FORMAT {
        return Err(CellError::BadRequest(format!(
            "snapshot format {} cannot be loaded by this fake-cell (it reads format {FORMAT})",
            doc.format
        )));
    }
    Ok(doc.state)
}

/// Everything a restore swaps, so a failed persist can put the old one back.
struct Parts {
    dir: Directory,
    indexes: HashMap<String, Arc<Index>>,
    aliases: BTreeMap<String, String>,
    jobs: VecDeque<Job>,
}

/// Build the snapshot's state off every lock (documents prepared here, the slow part).
fn build(snap: Snapshot) -> Parts {
    let mut dir = Directory::default();
    for a in snap.accounts {
        dir.accounts.insert(a.account_id.clone(), a);
    }
    for k in snap.keys {
        dir.put_key(k);
    }
    // Preparing documents (tokens, embeddings) is the slow part: one thread per index.
    let built: Vec<Index> = std::thread::scope(|scope| {
        let workers: Vec<_> = snap
            .indexes
            .into_iter()
            .filter_map(|i| Some((i.meta?, i.docs)))
            .map(|(meta, docs)| scope.spawn(move || prepared(meta, docs)))
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let indexes = built
        .into_iter()
        .map(|index| (index.name.clone(), Arc::new(index)))
        .collect();
    Parts {
        dir,
        indexes,
        aliases: snap.aliases,
        jobs: snap.jobs.into_iter().collect(),
    }
}

/// One index with its documents prepared.
fn prepared(meta: crate::state::IndexMeta, docs: Vec<store::DocRecord>) -> Index {
    let index = Index::new(meta);
    let mut data = IndexData::default();
    for d in docs {
        data.put(store::prepare(d, &index.settings));
    }
    *index.data.write() = data;
    index
}

/// Put `parts` in place and return what was there.
fn swap(cell: &Cell, parts: Parts) -> Parts {
    Parts {
        dir: std::mem::replace(&mut *cell.dir.write(), parts.dir),
        indexes: std::mem::replace(&mut *cell.indexes.write(), parts.indexes),
        aliases: std::mem::replace(&mut *cell.aliases.write(), parts.aliases),
        jobs: std::mem::replace(&mut *cell.jobs.lock(), parts.jobs),
    }
}

/// Replace the whole state in place; answers with the new counts.
pub async fn restore(cell: &Arc<Cell>, snap: Snapshot) -> CellResult<Value> {
    let mut parts = tokio::task::spawn_blocking(move || build(snap))
        .await
        .map_err(|e| CellError::Internal(format!("restore task failed: {e}")))?;
    let _permit = cell.restore_gate.restore().await;
    let _lifecycle = cell.lifecycle.lock().await;
    // A background compaction still running would write the old state over the new one.
    while cell.compacting.swap(true, Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    keep_running_ports(cell, &mut parts);
    let old = swap(cell, parts);
    let c = cell.clone();
    let persisted = tokio::task::spawn_blocking(move || {
        let covered = c.journal.rotate_blocking().map_err(|e| e.0)?;
        persist::write_snapshot(&c, covered)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    cell.compacting.store(false, Ordering::SeqCst);
    if let Err(e) = persisted {
        swap(cell, old);
        return Err(CellError::Persistence(format!(
            "the snapshot could not be persisted, nothing was changed: {e}"
        )));
    }
    cell.tombstones.lock().clear();
    sync_servers(cell).await?;
    let counts = summary(cell);
    tracing::info!(indexes = %counts["indexes"], documents = %counts["documents"], "snapshot restored");
    Ok(counts)
}

/// An index that exists before and after keeps its running server's port.
fn keep_running_ports(cell: &Cell, parts: &mut Parts) {
    let running: HashMap<String, u16> = cell
        .servers
        .lock()
        .iter()
        .map(|(n, h)| (n.clone(), h.port))
        .collect();
    for (name, idx) in &parts.indexes {
        if let Some(port) = running.get(name) {
            idx.meta.write().port = *port;
        }
    }
}

/// Stop servers of indexes that are gone, start the restored ones that have none.
async fn sync_servers(cell: &Arc<Cell>) -> CellResult<()> {
    let gone: Vec<String> = {
        let map = cell.indexes.read();
        cell.servers
            .lock()
            .keys()
            .filter(|n| !map.contains_key(*n))
            .cloned()
            .collect()
    };
    for name in gone {
        servers::stop(cell, &name);
    }
    let mut missing: Vec<Arc<Index>> = {
        let running = cell.servers.lock();
        cell.indexes
            .read()
            .values()
            .filter(|i| !running.contains_key(&i.name))
            .cloned()
            .collect()
    };
    missing.sort_by(|a, b| a.name.cmp(&b.name));
    for idx in missing {
        let recorded = idx.meta.read().port;
        let (port, listener) = bind_recorded(cell, &idx.name, recorded).await?;
        if port != recorded {
            tracing::warn!(index = %idx.name, recorded, port, "recorded index port is taken; using another one");
            let ticket = {
                let mut meta = idx.meta.write();
                meta.port = port;
                cell.submit(&persist::Record::Index { v: meta.clone() })
            };
            cell.commit(ticket).await?;
        }
        servers::start(cell, &idx.name, port, listener)?;
    }
    Ok(())
}

/// The recorded port, allowing a server this restore just stopped a moment to let go of it;
/// another port of the range when it stays taken.
async fn bind_recorded(
    cell: &Cell,
    name: &str,
    recorded: u16,
) -> CellResult<(u16, std::net::TcpListener)> {
    let range = cell.cfg.index_ports.low..=cell.cfg.index_ports.high;
    if !range.contains(&recorded) {
        // A snapshot from a stack at another port offset: this cell's own range.
        return servers::bind_port(cell, None, Some(name));
    }
    for _ in 0..25 {
        if let Ok(l) = service_kit::serve::bind_std_listener(cell.cfg.listen.bind, recorded) {
            return Ok((recorded, l));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    servers::bind_port(cell, Some(recorded), Some(name))
}
