//! Building a snapshot's state off every lock, before a restore takes the gate: accounts, keys,
//! aliases and jobs as they are; each index either kept (the live index has the same metadata but
//! its port and the same documents in the same order: nothing to load, and its graph stays) or
//! loaded from the carried chunks ([`super::prepared`]), as many at once as there are cores. A
//! kept index is checked again under the gate ([`Parts::settle`]): one written to in between is
//! loaded then after all.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use super::{SnapshotDoc, prepared};
use crate::engine::search::index_data::IndexData;
use crate::engine::store::{DocRecord, FieldNames};
use crate::engine::typeahead::QueryRecord;
use crate::state::{Cell, Directory, Index, IndexMeta, Job};

/// Everything a restore swaps, so a failed persist can put the old one back.
pub struct Parts {
    pub dir: Directory,
    pub indexes: HashMap<String, Arc<Index>>,
    pub aliases: BTreeMap<String, String>,
    pub jobs: VecDeque<Job>,
    /// Live indexes taken over as they are, with the data version they were compared at.
    pub kept: Vec<Kept>,
}

pub struct Kept {
    index: Arc<Index>,
    version: u64,
    /// What to load if the index changed before the gate closed.
    work: IndexWork,
}

/// An index to load: its metadata, documents, carried chunks, field names, typeahead queries.
type IndexWork = (
    IndexMeta,
    Vec<DocRecord>,
    Vec<prepared::PreparedDoc>,
    FieldNames,
    Vec<QueryRecord>,
);

/// The snapshot's state; an index whose carried chunks do not decode is an error naming it
/// (nothing is changed then).
pub fn build(cell: &Cell, doc: SnapshotDoc) -> Result<Parts, String> {
    let snap = doc.state;
    let mut carried = doc.prepared;
    let mut dir = Directory::default();
    for a in snap.accounts {
        dir.accounts.insert(a.account_id.clone(), a);
    }
    for k in snap.keys {
        dir.put_key(k);
    }
    let mut kept = Vec::new();
    let mut work = Vec::new();
    for i in snap.indexes {
        let Some(meta) = i.meta else { continue };
        let chunks = carried.remove(&meta.name).unwrap_or_default();
        let live = cell.indexes.read().get(&meta.name).cloned();
        let same = |l: &Index| unchanged(l, &meta, &i.docs, &i.fields, &i.queries);
        match live.and_then(|l| same(&l).map(|v| (l, v))) {
            Some((index, version)) => kept.push(Kept {
                index,
                version,
                work: (meta, i.docs, chunks, i.fields, i.queries),
            }),
            None => work.push((meta, i.docs, chunks, i.fields, i.queries)),
        }
    }
    let mut indexes: HashMap<String, Arc<Index>> = load_indexes(work)?
        .into_iter()
        .map(|index| (index.name.clone(), Arc::new(index)))
        .collect();
    for k in &kept {
        indexes.insert(k.index.name.clone(), k.index.clone());
    }
    Ok(Parts {
        dir,
        indexes,
        aliases: snap.aliases,
        jobs: snap.jobs.into_iter().map(interrupted).collect(),
        kept,
    })
}

impl Parts {
    /// Under the gate: a kept index written to since it was compared (or deleted and created
    /// again) is loaded from the snapshot after all. Returns how many were kept.
    pub fn settle(&mut self, cell: &Cell) -> Result<usize, String> {
        let mut settled = 0;
        for k in std::mem::take(&mut self.kept) {
            let live = cell.indexes.read().get(&k.index.name).cloned();
            let same = live.is_some_and(|l| Arc::ptr_eq(&l, &k.index))
                && k.index.data.read().version == k.version;
            if same {
                settled += 1;
                continue;
            }
            let index = load_index(k.work)?;
            self.indexes.insert(index.name.clone(), Arc::new(index));
        }
        Ok(settled)
    }
}

impl Parts {
    /// Under the gate, after [`Parts::settle`]: whether the cell already is this state (every
    /// index kept, no other index live, the same accounts, keys, aliases and jobs), so a restore
    /// has nothing to swap or write.
    pub fn same_as_live(&self, cell: &Cell) -> bool {
        let live = cell.indexes.read();
        let indexes = live.len() == self.indexes.len()
            && self
                .indexes
                .iter()
                .all(|(name, idx)| live.get(name).is_some_and(|l| Arc::ptr_eq(l, idx)));
        drop(live);
        indexes
            && *cell.aliases.read() == self.aliases
            && as_json(&*cell.jobs.lock()) == as_json(&self.jobs)
            && as_json(&*cell.dir.read()) == as_json(&self.dir)
    }
}

fn as_json<T: serde::Serialize>(v: &T) -> Option<Value> {
    serde_json::to_value(v).ok()
}

/// The live index's data version when it already is the snapshot's index: the same metadata
/// (its port aside: a running index keeps its own) and the same documents in the same order.
fn unchanged(
    live: &Index,
    meta: &IndexMeta,
    docs: &[DocRecord],
    fields: &FieldNames,
    queries: &[QueryRecord],
) -> Option<u64> {
    let without_port = |m: &IndexMeta| {
        let mut v = serde_json::to_value(m).ok()?;
        v["port"] = Value::Null;
        Some(v)
    };
    let live_meta = live.meta.read().clone();
    if without_port(&live_meta)? != without_port(meta)? {
        return None;
    }
    let data = live.data.read();
    let same = data.len() == docs.len()
        && data.fields == *fields
        && data.suggestions.holds(queries)
        && data.iter().zip(docs).all(|((_, d), r)| {
            d.rec.id == r.id
                && d.rec.fields == r.fields
                && d.rec.tensor_fields == r.tensor_fields
                && d.rec.mappings == r.mappings
        });
    same.then_some(data.version)
}

/// A job the snapshot caught running does not run on after a restore.
fn interrupted(mut job: Job) -> Job {
    if job.status == "queued" || job.status == "running" {
        job.status = "failed".into();
        job.error = Some("interrupted by a snapshot restore".into());
    }
    job
}

/// Load every index, as many at once as there are cores.
fn load_indexes(work: Vec<IndexWork>) -> Result<Vec<Index>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .min(work.len())
        .max(1);
    let queue = Mutex::new(work);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().pop();
                    let Some(w) = next else {
                        break;
                    };
                    let built = load_index(w);
                    done.lock().push(built);
                }
            });
        }
    });
    done.into_inner().into_iter().collect()
}

/// One index with its documents in place.
fn load_index((meta, docs, chunks, fields, queries): IndexWork) -> Result<Index, String> {
    let index = Index::new(meta);
    let mut data = IndexData::default();
    for p in prepared::load(&index.name, &index.settings, docs, chunks)? {
        data.put(p);
    }
    data.fields.extend(fields);
    data.suggestions.put(queries);
    *index.data.write() = data;
    Ok(index)
}
