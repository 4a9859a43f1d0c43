//! Stack snapshots (`orchestrator snapshot save|restore|list|delete|diff`, the dashboard's
//! `/api/snapshots`, `up --from-snapshot`): every built-in service's state, moto's, the seed
//! manifest and the `[[snapshot.hooks]]` files, restored in place while the stack runs.
//!
//! `format.rs` is the on-disk layout (versioned, checksummed, written atomically), `store.rs`
//! names, `list` and `delete`; `fakes.rs` the services' `/_fake/snapshot` endpoints; `moto.rs`
//! moto's recorder; `save.rs`, `restore.rs`, `diff.rs` the three operations; `hooks.rs` the
//! team's own save/restore commands.

pub mod diff;
pub mod fakes;
pub mod format;
pub mod hooks;
pub mod moto;
pub mod restore;
pub mod save;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use crate::supervisor::Supervisor;

/// Part names in a snapshot's manifest.
pub const CELL: &str = "fake-cell";
pub const COGNITO: &str = "fake-cognito";
pub const MOTO: &str = "moto";
/// What moto holds that its recording cannot bring back (`moto/live.rs`).
pub const MOTO_LIVE: &str = "moto-live";
pub const ROUTER: &str = "webhook-router";
pub const SEED: &str = "seed";

/// What a snapshot operation reaches: the running services' base URLs (`None` for one the stack
/// does not run) and the project's `.hippodrome` directory.
#[derive(Clone, Debug, Default)]
pub struct Stack {
    pub hippodrome_dir: PathBuf,
    pub cell: Option<String>,
    pub cognito: Option<String>,
    /// moto itself (behind the gateway): the restore replays straight into it.
    pub moto: Option<String>,
    /// The AWS gateway in front of moto, whose gate a restore closes.
    pub gateway: Option<String>,
    pub router: Option<String>,
    pub random_seed: Option<u64>,
    pub hooks: Vec<hooks::SnapshotHook>,
    pub project_root: PathBuf,
    pub http: reqwest::Client,
}

impl Stack {
    /// The services `sup` runs (skipped ones are `None`).
    pub fn of(sup: &Supervisor, hippodrome_dir: PathBuf, random_seed: Option<u64>) -> Self {
        let url = |name: &str| {
            sup.get(name)
                .filter(|s| s.spec.skip.is_none())
                .and_then(|s| s.spec.port)
                .map(|p| format!("http://127.0.0.1:{p}"))
        };
        Stack {
            hippodrome_dir,
            cell: url("fake_cell"),
            cognito: url("fake_cognito"),
            moto: url("moto"),
            gateway: url("aws_gateway"),
            router: url("webhook_router"),
            random_seed,
            hooks: Vec::new(),
            project_root: PathBuf::new(),
            http: client(),
        }
    }

    pub fn with_hooks(mut self, project_root: PathBuf, hooks: Vec<hooks::SnapshotHook>) -> Self {
        self.project_root = project_root;
        self.hooks = hooks;
        self
    }

    pub fn root(&self) -> PathBuf {
        store::root(&self.hippodrome_dir)
    }
}

/// Snapshots can be large (every document); only connecting is bounded tightly, each call sets
/// its own overall timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(300))
        .no_proxy()
        .build()
        .unwrap_or_default()
}
