//! Durability: a snapshot (`--state-file`, written atomically) plus `service_kit::journal` records.
//!
//! Every record is idempotent (the full new value of one pool/client/user/group, or a delete by
//! key), so replaying a record the snapshot already holds is harmless. When the current journal
//! generation grows past [`COMPACT_BYTES`] a background task rotates it, writes a snapshot covering
//! the closed generations and deletes them. Logins write nothing: refresh tokens are sealed,
//! self-contained blobs, and only revocations are recorded.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use service_kit::journal::Journal;
use service_kit::state_file::{self, Loaded};

use crate::keys::KeyRecord;
use crate::model::{Client, Group, PoolMeta, Store, User};

pub const COMPACT_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    PutPool {
        meta: PoolMeta,
    },
    DeletePool {
        pool_id: String,
    },
    PutClient {
        client: Client,
    },
    DeleteClient {
        pool_id: String,
        client_id: String,
    },
    PutUser {
        pool_id: String,
        key: String,
        user: User,
    },
    DeleteUser {
        pool_id: String,
        key: String,
    },
    PutGroup {
        pool_id: String,
        group: Group,
    },
    DeleteGroup {
        pool_id: String,
        name: String,
    },
    Revoke {
        origin_jti: String,
        exp: i64,
    },
    Rotate {
        origin_jti: String,
        rotation: crate::auth::rotation::Rotation,
    },
    PutKeys {
        keys: KeyRecord,
    },
    Reset,
    /// Written by the recovery probe of a failing journal; changes nothing.
    Noop,
}

impl Record {
    /// Apply to memory (used by replay; live writers mutate memory directly and log the result).
    pub fn apply(self, store: &mut Store, keys: &mut Option<KeyRecord>) {
        match self {
            Record::PutPool { meta } => match store.pools.get_mut(&meta.id) {
                Some(p) => p.meta = meta,
                None => {
                    store.pools.insert(
                        meta.id.clone(),
                        crate::model::Pool {
                            meta,
                            clients: Default::default(),
                            users: Default::default(),
                            groups: Default::default(),
                        },
                    );
                }
            },
            Record::DeletePool { pool_id } => {
                store.pools.remove(&pool_id);
            }
            Record::PutClient { client } => {
                if let Some(p) = store.pools.get_mut(&client.pool_id) {
                    p.clients.insert(client.id.clone(), client);
                }
            }
            Record::DeleteClient { pool_id, client_id } => {
                if let Some(p) = store.pools.get_mut(&pool_id) {
                    p.clients.remove(&client_id);
                }
            }
            Record::PutUser { pool_id, key, user } => {
                if let Some(p) = store.pools.get_mut(&pool_id) {
                    p.users.insert(key, user);
                }
            }
            Record::DeleteUser { pool_id, key } => {
                if let Some(p) = store.pools.get_mut(&pool_id) {
                    p.users.remove(&key);
                }
            }
            Record::PutGroup { pool_id, group } => {
                if let Some(p) = store.pools.get_mut(&pool_id) {
                    p.groups.insert(group.name.clone(), group);
                }
            }
            Record::DeleteGroup { pool_id, name } => {
                if let Some(p) = store.pools.get_mut(&pool_id) {
                    p.groups.remove(&name);
                    for u in p.users.values_mut() {
                        u.groups.remove(&name);
                    }
                }
            }
            Record::Revoke { origin_jti, exp } => {
                store.revoke(&origin_jti, exp, crate::clock::wall_secs())
            }
            Record::Rotate {
                origin_jti,
                rotation,
            } => crate::auth::rotation::remember(
                store,
                &origin_jti,
                rotation,
                crate::clock::wall_secs(),
            ),
            Record::PutKeys { keys: k } => *keys = Some(k),
            Record::Reset => *store = Store::default(),
            Record::Noop => {}
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    /// Journal generations `<= covers` are contained in this snapshot.
    covers: u64,
    keys: Option<KeyRecord>,
    store: Store,
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    covers: u64,
    keys: Option<&'a KeyRecord>,
    store: &'a Store,
}

pub struct Persist {
    pub journal: Journal,
}

pub struct Restored {
    pub store: Store,
    pub keys: Option<KeyRecord>,
    pub persist: Persist,
    pub replayed: usize,
}

/// Load the snapshot and replay the journal after it.
pub fn load(path: &Path) -> anyhow::Result<Restored> {
    let snapshot = match state_file::load_json::<Snapshot>(path)
        .with_context(|| format!("cannot read state file {}", path.display()))?
    {
        Loaded::Found(s) => Some(s),
        Loaded::Missing | Loaded::MovedAside { .. } => None,
    };
    let (covers, mut store, mut keys) = match snapshot {
        Some(s) => (s.covers, s.store, s.keys),
        None => (0, Store::default(), None),
    };
    let (journal, replay) = Journal::open(path, covers)
        .with_context(|| format!("cannot open the journal next to {}", path.display()))?;
    if replay.skipped > 0 {
        tracing::warn!(
            skipped = replay.skipped,
            "ignored torn journal lines (writes that were never acknowledged)"
        );
    }
    let replayed = replay.records.len();
    for raw in replay.records {
        match serde_json::from_slice::<Record>(&raw) {
            Ok(r) => r.apply(&mut store, &mut keys),
            Err(e) => tracing::warn!(error = %e, "skipping unreadable journal record"),
        }
    }
    Ok(Restored {
        store,
        keys,
        persist: Persist { journal },
        replayed,
    })
}

impl Persist {
    pub fn needs_compaction(&self) -> bool {
        self.journal.bytes_in_generation() > COMPACT_BYTES
    }
}

pub fn snapshot_bytes(
    covers: u64,
    keys: Option<&KeyRecord>,
    store: &Store,
) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(&SnapshotRef {
        format: 1,
        covers,
        keys,
        store,
    })?)
}
