//! Restoring a snapshot document in place: the new state is built off every lock
//! ([`super::build`]), then, behind the exclusive restore gate, swapped in and persisted through
//! `persist::write_snapshot` (journal rotated, a state file covering it written atomically); if
//! that fails the old state is put back. Index servers: an index present before and after keeps
//! its server and port; one only in the snapshot starts on its recorded port when free (another
//! from the range otherwise); one no longer there is stopped. Replaced indexes stop growing
//! their graphs and the old state is dropped off the request's path. The answer carries each
//! phase's milliseconds (`took_ms`) beside the new counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::build::{Parts, build};
use super::{SnapshotDoc, summary, tag};
use crate::error::{CellError, CellResult};
use crate::persist;
use crate::servers;
use crate::state::{Cell, Index};

/// Put `parts` in place and return what was there.
fn swap(cell: &Cell, parts: Parts) -> Parts {
    Parts {
        dir: std::mem::replace(&mut *cell.dir.write(), parts.dir),
        indexes: std::mem::replace(&mut *cell.indexes.write(), parts.indexes),
        aliases: std::mem::replace(&mut *cell.aliases.write(), parts.aliases),
        jobs: std::mem::replace(&mut *cell.jobs.lock(), parts.jobs),
        kept: parts.kept,
    }
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Replace the whole state in place; answers with the new counts and the phases' times.
pub async fn restore(cell: &Arc<Cell>, doc: SnapshotDoc, sha256: String) -> CellResult<Value> {
    let start = Instant::now();
    let c = cell.clone();
    let parts = tokio::task::spawn_blocking(move || build(&c, doc))
        .await
        .map_err(|e| CellError::Internal(format!("restore task failed: {e}")))?
        .map_err(|e| CellError::BadRequest(format!("the snapshot cannot be loaded: {e}")))?;
    let built = ms(start);
    let waited = Instant::now();
    let _permit = cell.restore_gate.restore().await;
    let _lifecycle = cell.lifecycle.lock().await;
    // A background compaction still running would write the old state over the new one.
    while cell.compacting.swap(true, Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let gate = ms(waited);
    let swapped = Instant::now();
    let c = cell.clone();
    let settled = tokio::task::spawn_blocking(move || {
        let mut parts = parts;
        let kept = parts.settle(&c);
        kept.map(|n| (parts, n))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (mut parts, kept) = match settled {
        Ok(p) => p,
        Err(e) => {
            cell.compacting.store(false, Ordering::SeqCst);
            return Err(CellError::BadRequest(format!(
                "the snapshot cannot be loaded: {e}"
            )));
        }
    };
    if parts.same_as_live(cell) {
        // Nothing to swap or write: the cell (and so its state file and journal) already is
        // the snapshot.
        cell.compacting.store(false, Ordering::SeqCst);
        cell.tombstones.lock().clear();
        tag(cell, sha256, cell.written.load(Ordering::SeqCst));
        let took = json!({ "build": built, "gate": gate, "unchanged": true, "indexes_kept": kept });
        return Ok(answer(cell, start, took));
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
        let new = swap(cell, old);
        retire(cell, new);
        return Err(CellError::Persistence(format!(
            "the snapshot could not be persisted, nothing was changed: {e}"
        )));
    }
    retire(cell, old);
    cell.tombstones.lock().clear();
    let persist_ms = ms(swapped);
    let servers_at = Instant::now();
    sync_servers(cell).await?;
    // Still under the gate: a server that moved port above is part of the restore.
    tag(cell, sha256, cell.written.load(Ordering::SeqCst));
    Ok(answer(
        cell,
        start,
        json!({ "build": built, "gate": gate, "swap_persist": persist_ms,
        "servers": ms(servers_at), "indexes_kept": kept }),
    ))
}

/// The new counts and the phases' milliseconds (with the total), logged once.
fn answer(cell: &Cell, start: Instant, mut took: Value) -> Value {
    let counts = summary(cell);
    took["total"] = json!(ms(start));
    tracing::info!(indexes = %counts["indexes"], documents = %counts["documents"], took_ms = %took,
        "snapshot restored");
    json!({ "summary": counts, "took_ms": took })
}

/// The replaced state's indexes that are no longer live: a late writer still holding one (a
/// reindex job) sees it deleted, and its graph stops growing. The state is dropped on a
/// blocking thread, off the answer.
fn retire(cell: &Cell, replaced: Parts) {
    let live = cell.indexes.read().clone();
    for idx in replaced.indexes.values() {
        if live.get(&idx.name).is_some_and(|l| Arc::ptr_eq(l, idx)) {
            continue;
        }
        let mut data = idx.data.write();
        idx.deleted.store(true, Ordering::SeqCst);
        // A new, empty graph retires the old one: its queued insertions are skipped.
        data.ann.rebuild(std::iter::empty());
    }
    drop(live);
    tokio::task::spawn_blocking(move || drop(replaced));
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
        servers::start_on(cell, &idx, port, listener).await?;
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
