//! Everything the cell knows: accounts and keys, indexes (settings, status, port, documents),
//! aliases, reindex jobs and the running index servers. Locks are `parking_lot` and never held
//! across `.await` or I/O; lock order is `indexes` → an index's `meta` → its `data`. The write
//! path (`check_writable`, `submit`, `commit`) is in `persist.rs`, next to the records it writes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_kit::journal::Journal;
use service_kit::write_guard::WriteGuard;
use service_kit::{HealthState, Shutdown};

use crate::config::Config;
use crate::engine::search::index_data::IndexData;
use crate::engine::settings::{self, Settings};
use crate::error::{CellError, CellResult};

/// Recently deleted index names kept so status polls can answer DELETED.
const TOMBSTONES: usize = 1000;
/// Reindex jobs kept; the oldest is evicted beyond this.
pub const MAX_JOBS: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub system_account_id: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: String,
    pub key: String,
    pub account_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub created_at: String,
}

#[derive(Default, Debug, Clone, Serialize, Deserialize)]
pub struct Directory {
    pub accounts: BTreeMap<String, Account>,
    /// key_id → key
    pub keys: BTreeMap<String, ApiKey>,
    /// key string → key_id
    #[serde(skip)]
    pub by_secret: HashMap<String, String>,
}

impl Directory {
    pub fn put_key(&mut self, k: ApiKey) {
        self.by_secret.insert(k.key.clone(), k.key_id.clone());
        self.keys.insert(k.key_id.clone(), k);
    }
    pub fn lookup(&self, secret: &str) -> Option<&ApiKey> {
        self.by_secret.get(secret).and_then(|id| self.keys.get(id))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    pub account_id: String,
    pub settings: Value,
    pub cloud: Map<String, Value>,
    /// `Created` as the control plane shows it.
    pub created_at: String,
    pub port: u16,
    /// CREATING or MODIFYING until `ready_at_ms`, then READY.
    #[serde(default)]
    pub pending: Option<String>,
    #[serde(default)]
    pub ready_at_ms: u64,
}

impl IndexMeta {
    pub fn status(&self) -> &str {
        match &self.pending {
            Some(p) if now_ms() < self.ready_at_ms => p,
            _ => "READY",
        }
    }
}

pub struct Index {
    pub name: String,
    pub settings: Arc<Settings>,
    pub meta: RwLock<IndexMeta>,
    pub data: RwLock<IndexData>,
    /// Set (under the data lock) when the index is deleted, so late writers see it.
    pub deleted: AtomicBool,
    pub searches: AtomicU64,
}

impl Index {
    pub fn new(meta: IndexMeta) -> Self {
        Index {
            name: meta.name.clone(),
            settings: Arc::new(settings::Settings {
                name: meta.name.clone(),
                ..settings::derive(&meta.settings)
            }),
            meta: RwLock::new(meta),
            data: RwLock::new(IndexData::default()),
            deleted: AtomicBool::new(false),
            searches: AtomicU64::new(0),
        }
    }
    pub fn account_id(&self) -> String {
        self.meta.read().account_id.clone()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    #[serde(rename = "jobId")]
    pub id: String,
    #[serde(rename = "accountId")]
    pub account_id: String,
    #[serde(rename = "sourceIndexName")]
    pub source: String,
    #[serde(rename = "targetIndexName")]
    pub target: String,
    pub status: String,
    #[serde(rename = "documentsCopied")]
    pub copied: u64,
    #[serde(rename = "documentsTotal")]
    pub total: u64,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "finishedAt")]
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// A running index server (see `crate::servers`).
pub struct ServerHandle {
    pub port: u16,
    pub shutdown: Shutdown,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn stop(mut self) {
        self.shutdown.trigger();
        // The thread exits within moments; do not block the caller on it.
        drop(self.thread.take());
    }
}

/// Builds the router every index server runs. Passed in by whoever builds the cell (the HTTP
/// layer's data-plane router), so `servers` starts index servers without importing `http`.
pub type IndexRouter = fn(Arc<Cell>) -> axum::Router;

pub struct Cell {
    pub cfg: Config,
    pub health: HealthState,
    pub dir: RwLock<Directory>,
    pub indexes: RwLock<HashMap<String, Arc<Index>>>,
    pub aliases: RwLock<BTreeMap<String, String>>,
    pub tombstones: Mutex<VecDeque<String>>,
    pub jobs: Mutex<VecDeque<Job>>,
    pub journal: Journal,
    /// Refuses writes while the journal cannot be written; reads keep working.
    pub writes: WriteGuard,
    pub servers: Mutex<HashMap<String, ServerHandle>>,
    pub index_router: IndexRouter,
    pub compacting: AtomicBool,
    /// Serialises index creation/deletion/fork so port choice and name checks do not race.
    pub lifecycle: tokio::sync::Mutex<()>,
    /// Closed by a snapshot restore (`crate::snapshot`); every request holds a shared permit.
    pub restore_gate: service_kit::restore_gate::RestoreGate,
    /// Records submitted to the journal so far: every change to the state is one.
    pub written: AtomicU64,
    /// The snapshot document the cell last equalled (`crate::snapshot::StateTag`).
    pub state_tag: Mutex<Option<crate::snapshot::StateTag>>,
    /// What `GET /models` reports as loaded.
    pub models: crate::model_cache::ModelCache,
    /// Downloads the images a request embeds, as Marqo does before it vectorises.
    pub media: crate::media::Fetcher,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 UTC with microseconds, e.g. `2024-06-01T10:00:00.000000Z`.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Who is calling: an account with scopes, or anyone when the cell runs `--open`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub open: bool,
}

impl Caller {
    /// 403 unless the caller may use `idx` (its own account's, or any with `--open`); `name`
    /// is the name the caller used.
    pub fn check_owns(&self, idx: &Index, name: &str) -> CellResult<()> {
        if !self.open && idx.account_id() != self.account_id {
            return Err(CellError::Forbidden(format!(
                "index {name} belongs to another account"
            )));
        }
        Ok(())
    }
}

impl Cell {
    pub fn new(
        cfg: Config,
        health: HealthState,
        journal: Journal,
        index_router: IndexRouter,
    ) -> Self {
        let writes = WriteGuard::new(health.clone(), &cfg.state_file);
        let media = crate::media::Fetcher::new(!cfg.no_media_downloads);
        Cell {
            cfg,
            health,
            dir: RwLock::new(Directory::default()),
            indexes: RwLock::new(HashMap::new()),
            aliases: RwLock::new(BTreeMap::new()),
            tombstones: Mutex::new(VecDeque::new()),
            jobs: Mutex::new(VecDeque::new()),
            journal,
            writes,
            servers: Mutex::new(HashMap::new()),
            index_router,
            compacting: AtomicBool::new(false),
            lifecycle: tokio::sync::Mutex::new(()),
            restore_gate: Default::default(),
            written: AtomicU64::new(0),
            state_tag: Mutex::new(None),
            models: Default::default(),
            media,
        }
    }

    /// Resolve an index or alias name.
    pub fn resolve(&self, name: &str) -> Option<Arc<Index>> {
        if let Some(i) = self.indexes.read().get(name) {
            return Some(i.clone());
        }
        let target = self.aliases.read().get(name).cloned()?;
        self.indexes.read().get(&target).cloned()
    }

    /// Resolve for a data-plane call and check the caller may use it.
    pub fn index_for(&self, caller: &Caller, name: &str) -> CellResult<Arc<Index>> {
        let idx = self
            .resolve(name)
            .ok_or_else(|| CellError::IndexNotFound(name.to_string()))?;
        caller.check_owns(&idx, name)?;
        Ok(idx)
    }

    pub fn add_tombstone(&self, name: &str) {
        let mut t = self.tombstones.lock();
        t.retain(|n| n != name);
        t.push_back(name.to_string());
        while t.len() > TOMBSTONES {
            t.pop_front();
        }
    }

    pub fn is_tombstoned(&self, name: &str) -> bool {
        self.tombstones.lock().iter().any(|n| n == name)
    }

    /// Put (insert or replace) a job, evicting the oldest beyond [`MAX_JOBS`].
    pub fn put_job(&self, job: Job) {
        let mut jobs = self.jobs.lock();
        if let Some(j) = jobs.iter_mut().find(|j| j.id == job.id) {
            *j = job;
        } else {
            jobs.push_back(job);
            while jobs.len() > MAX_JOBS {
                jobs.pop_front();
            }
        }
    }

    pub fn endpoint(&self, port: u16) -> String {
        format!("http://{}:{port}", self.cfg.public_host)
    }
}
