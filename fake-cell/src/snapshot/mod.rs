//! Whole-cell snapshots for `orchestrator snapshot`: capture the state as one versioned document,
//! restore one in place while the cell runs, and the counts `snapshot diff` compares. The HTTP
//! routes are `http/control/snapshot.rs`; the restore itself is [`restore`] (the new state built
//! by [`build`]), the chunks and vectors a document carries so that a restore loads instead of
//! recomputing are [`prepared`].
//!
//! A restore holds the exclusive [`RestoreGate`](service_kit::restore_gate::RestoreGate) permit:
//! every request on the main port and on every index server (except `/healthz`, Marqo's fixed
//! `GET /` and the `/_fake/snapshot` document route itself) holds a shared one, and so does each batch of a
//! background reindex job, so nothing reads or writes a half-swapped cell.
//!
//! A save or restore tags the cell with the document's SHA-256 ([`StateTag`]); while no write
//! follows, `/_fake/snapshot/summary` names it (`state_sha256`), so a restore of the document the
//! cell already equals is skipped by the orchestrator without sending or parsing it.
//!
//! Format 2 (this one) is format 1 plus `prepared`; a format-1 document still loads, through
//! the slow path (every document chunked and embedded again). Any other format is refused.

pub mod build;
pub mod prepared;
pub mod restore;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{CellError, CellResult};
use crate::persist::{self, Snapshot};
use crate::state::{Cell, Index};

pub use restore::restore;

/// The snapshot document's format this build writes.
pub const FORMAT: u32 = 2;
/// Formats it reads (1: no prepared chunks, restored through the slow path).
const READS: [u32; 2] = [1, 2];

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDoc {
    pub format: u32,
    pub service: String,
    pub state: Snapshot,
    /// Index name → its documents' chunks, in `state`'s document order (format 2).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prepared: BTreeMap<String, Vec<prepared::PreparedDoc>>,
}

/// The document the cell equalled when it was saved or restored, and the writes counted then.
#[derive(Clone, Debug)]
pub struct StateTag {
    pub sha256: String,
    pub written: u64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Tag the cell as equal to the document `sha256`, as of `written` writes.
pub fn tag(cell: &Cell, sha256: String, written: u64) {
    *cell.state_tag.lock() = Some(StateTag { sha256, written });
}

/// The SHA-256 of the document the cell equals now, when known: the last save's or restore's,
/// with no write since.
pub fn current_sha256(cell: &Cell) -> Option<String> {
    let tag = cell.state_tag.lock().clone()?;
    (tag.written == cell.written.load(Ordering::SeqCst)).then_some(tag.sha256)
}

/// The restore gate's settings for the cell's servers (see the module doc), for
/// `service_kit::restore_gate::middleware`.
pub fn gated(cell: &Cell) -> service_kit::restore_gate::Gated {
    service_kit::restore_gate::Gated {
        gate: cell.restore_gate.clone(),
        // `GET /` is Marqo's fixed welcome, which the watchdog probes on every index server.
        static_paths: &["/"],
        busy,
    }
}

fn busy(why: &'static str) -> axum::response::Response {
    axum::response::IntoResponse::into_response(CellError::Persistence(why.into()))
}

/// The whole state at one moment: writers are held back while it is copied.
pub async fn capture(cell: &Arc<Cell>) -> CellResult<Vec<u8>> {
    let (doc, written) = {
        let _quiet = cell.restore_gate.restore().await;
        let written = cell.written.load(Ordering::SeqCst);
        let c = cell.clone();
        let doc = tokio::task::spawn_blocking(move || {
            let state = persist::snapshot(&c, 0);
            let prepared = state
                .indexes
                .iter()
                .filter_map(|i| i.meta.as_ref())
                .filter_map(|m| c.indexes.read().get(&m.name).cloned())
                .map(|idx| (idx.name.clone(), prepared::capture(&idx)))
                .collect();
            SnapshotDoc {
                format: FORMAT,
                service: crate::SERVICE.into(),
                state,
                prepared,
            }
        })
        .await
        .map_err(|e| CellError::Internal(format!("snapshot task failed: {e}")))?;
        (doc, written)
    };
    let c = cell.clone();
    tokio::task::spawn_blocking(move || {
        let bytes = serde_json::to_vec(&doc)
            .map_err(|e| CellError::Internal(format!("cannot serialise the snapshot: {e}")))?;
        tag(&c, sha256_hex(&bytes), written);
        Ok(bytes)
    })
    .await
    .map_err(|e| CellError::Internal(format!("snapshot task failed: {e}")))?
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
        "state_sha256": current_sha256(cell),
    })
}

/// Check a document before anything is touched (400 in Marqo's shape otherwise).
pub fn parse(body: &[u8]) -> CellResult<SnapshotDoc> {
    let doc: SnapshotDoc = serde_json::from_slice(body)
        .map_err(|e| CellError::BadRequest(format!("not a fake-cell snapshot document: {e}")))?;
    if doc.service != crate::SERVICE {
        return Err(CellError::BadRequest(format!(
            "this snapshot belongs to {}, not {}",
            doc.service,
            crate::SERVICE
        )));
    }
    if !READS.contains(&doc.format) {
        return Err(CellError::BadRequest(format!(
            "snapshot format {} cannot be loaded by this fake-cell (it reads formats {READS:?}); \
             take the snapshot again with this Hippodrome version",
            doc.format
        )));
    }
    Ok(doc)
}
