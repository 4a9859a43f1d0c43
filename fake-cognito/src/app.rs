//! The shared application state: the store behind one lock, the journal, the signing keys, the
//! bounded challenge-session map, and the one write path (`commit`) every mutation goes through.
//!
//! When the journal cannot be written (disk full, directory unwritable) the failing write answers
//! 503, `/healthz` turns `degraded` with the OS error, and later writes are refused up front (so
//! memory never runs ahead of the disk) while reads keep working. A background probe appends a
//! no-op record every [`PROBE_EVERY`] and lifts the refusal as soon as the disk accepts it again.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use service_kit::HealthState;
use service_kit::write_guard::WriteGuard;

use crate::Config;
use crate::clock::Clock;
use crate::error::{CognitoError, Result};
use crate::ids::Ids;
use crate::keys::Keys;
use crate::model::Store;
use crate::persist::{self, Persist, Record};

pub type AppState = Arc<App>;

/// How often a failing journal is probed for recovery.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);

/// The probe record (replay ignores it). A line a failed write left torn is closed by the journal
/// itself before the next batch.
const PROBE: &[u8] = b"{\"op\":\"noop\"}";

pub struct App {
    pub config: Config,
    pub store: RwLock<Store>,
    pub keys: Keys,
    /// Pool/client ids and subs, derived from the seed when there is one.
    pub ids: Ids,
    /// The JWKS document, serialised once (keys never change while running).
    pub jwks_body: axum::body::Bytes,
    pub persist: Persist,
    pub sessions: Sessions,
    /// Now, as every expiry check and timestamp sees it (movable by `POST /_fake/clock`).
    pub clock: Arc<Clock>,
    pub health: HealthState,
    /// The Lambda function table and client the pools' triggers invoke through.
    pub triggers: crate::triggers::Runtime,
    /// Refuses writes while the journal cannot be written; reads keep working.
    writes: WriteGuard,
    pub(crate) compacting: AtomicBool,
    /// Closed by a snapshot restore (`crate::snapshot`); every request holds a shared permit
    /// (`snapshot::gate`), so `commit` always runs inside one.
    pub restore_gate: service_kit::restore_gate::RestoreGate,
}

impl App {
    /// Load state (snapshot + journal), settle the signing keys, and build the app.
    pub async fn open(config: Config, health: HealthState) -> anyhow::Result<AppState> {
        let path = config.state_file.clone();
        let seed = config.random_seed.0;
        let restored = tokio::task::spawn_blocking(move || persist::load(&path)).await??;
        let persisted_keys = restored.keys.clone();
        let (keys, new_keys) =
            tokio::task::spawn_blocking(move || Keys::load_or_create(persisted_keys, seed))
                .await??;
        let jwks_body = axum::body::Bytes::from(keys.jwks().to_string());
        let writes = WriteGuard::new(health.clone(), &config.state_file);
        let clock = Arc::new(Clock::default());
        let triggers = crate::triggers::Runtime::from_config(&config)?;
        let app = Arc::new(App {
            config,
            jwks_body,
            store: RwLock::new(restored.store),
            keys,
            ids: Ids::new(seed),
            persist: restored.persist,
            sessions: Sessions::new(10_000, clock.clone()),
            clock,
            triggers,
            writes,
            health,
            compacting: AtomicBool::new(false),
            restore_gate: Default::default(),
        });
        if new_keys {
            let rec = Record::PutKeys {
                keys: app.keys.record.clone(),
            };
            app.persist
                .journal
                .submit_json(&rec)
                .wait()
                .await
                .map_err(|e| anyhow::anyhow!("cannot persist signing keys: {e}"))?;
        }
        app.writes.report_ok(
            serde_json::json!({ "state_file": app.config.state_file.display().to_string() }),
        );
        if restored.replayed > 0 || new_keys {
            // Fold the journal into a fresh snapshot so the next start replays nothing. Not fatal:
            // the journal still holds everything, and a full disk should not stop reads.
            if let Err(e) = app.compact().await {
                app.writes.failed(&format!("{e:#}"));
            }
        }
        tokio::spawn(probe_until_dropped(Arc::downgrade(&app)));
        Ok(app)
    }

    /// Refuse a write up front while the journal is failing.
    fn check_writable(&self) -> Result<()> {
        self.writes.check().map_err(CognitoError::Persistence)
    }

    /// The one write path: mutate under the lock, queue the records, release the lock, then wait
    /// until they are durable. Only then is the caller's response sent.
    pub async fn commit<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store, &mut Vec<Record>) -> Result<T>,
    ) -> Result<T> {
        self.check_writable()?;
        let (value, tickets) = {
            let mut store = self.store.write();
            let mut records = Vec::new();
            let value = f(&mut store, &mut records)?;
            let tickets: Vec<_> = records
                .iter()
                .map(|r| self.persist.journal.submit_json(r))
                .collect();
            (value, tickets)
        };
        for t in tickets {
            if let Err(e) = t.wait().await {
                self.writes.failed(&e.to_string());
                return Err(CognitoError::Persistence(format!(
                    "The change could not be persisted: {e}"
                )));
            }
        }
        if self.persist.needs_compaction() && !self.compacting.swap(true, Ordering::SeqCst) {
            let app = self.clone();
            tokio::spawn(async move {
                if let Err(e) = app.compact().await {
                    // The journal still holds every record; say why the snapshot is stale.
                    app.writes
                        .failed(&format!("snapshot compaction failed: {e:#}"));
                }
                app.compacting.store(false, Ordering::SeqCst);
            });
        }
        Ok(value)
    }

    /// Rotate the journal and write a snapshot covering it.
    pub async fn compact(&self) -> anyhow::Result<()> {
        let keys = self.keys.record.clone();
        let covered = self.persist.journal.rotate().await?;
        let bytes = {
            let store = self.store.read();
            persist::snapshot_bytes(covered, Some(&keys), &store)?
        };
        let path = self.config.state_file.clone();
        tokio::task::spawn_blocking(move || service_kit::state_file::write_atomic(&path, &bytes))
            .await??;
        self.persist.journal.remove_through(covered)?;
        Ok(())
    }

    /// `iss` for a pool, per `--issuer`.
    pub fn issuer(&self, pool_id: &str) -> String {
        match self.config.issuer {
            crate::IssuerMode::Local => format!("{}/{pool_id}", self.public_url()),
            crate::IssuerMode::Aws => {
                let region = pool_id.split('_').next().unwrap_or(&self.config.region);
                format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
            }
        }
    }

    pub fn public_url(&self) -> String {
        self.config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", self.config.listen.port))
            .trim_end_matches('/')
            .to_owned()
    }
}

/// Probe a failing journal every [`PROBE_EVERY`] until the app is dropped.
async fn probe_until_dropped(app: Weak<App>) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { return };
        app.writes.probe(&app.persist.journal, PROBE).await;
    }
}

/// A challenge in flight (NEW_PASSWORD_REQUIRED, SRP PASSWORD_VERIFIER).
#[derive(Clone)]
pub enum Session {
    NewPassword {
        pool_id: String,
        client_id: String,
        user_key: String,
    },
    Srp {
        pool_id: String,
        client_id: String,
        /// `None` for an unknown user under PreventUserExistenceErrors: the proof always fails.
        user_key: Option<String>,
        srp: crate::auth::srp::ServerSession,
    },
    /// A CUSTOM_AUTH challenge sequence (`crate::triggers::custom_auth`).
    Custom(crate::triggers::custom_auth::CustomSession),
    /// An MFA challenge (`crate::mfa::challenge`).
    Mfa {
        owner: crate::mfa::challenge::Owner,
        step: crate::mfa::challenge::Step,
    },
    /// A hosted-UI authorization code (`crate::oauth::codes`).
    AuthCode(Box<crate::oauth::codes::Grant>),
    /// A hosted-UI sign-in behind its cookie (`crate::hosted_ui::cookie`).
    HostedUi(crate::hosted_ui::cookie::SignedIn),
}

/// Session id -> (deadline in the app clock's unix ms, session), plus insertion order for
/// eviction.
type SessionMap = (HashMap<String, (i64, Session)>, VecDeque<String>);

/// Bounded, expiring map of challenge sessions (single use). Deadlines follow the app's
/// [`Clock`], so moving it expires sessions too.
pub struct Sessions {
    cap: usize,
    clock: Arc<Clock>,
    inner: Mutex<SessionMap>,
}

impl Sessions {
    pub fn new(cap: usize, clock: Arc<Clock>) -> Self {
        Self {
            cap,
            clock,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub fn insert(&self, id: String, ttl: Duration, s: Session) {
        let mut g = self.inner.lock();
        let (map, order) = &mut *g;
        let now = self.clock.now_ms();
        while map.len() >= self.cap {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
        // Drop expired entries at the front while we are here.
        while let Some(front) = order.front() {
            match map.get(front) {
                Some((exp, _)) if *exp > now => break,
                _ => {
                    if let Some(k) = order.pop_front() {
                        map.remove(&k);
                    }
                }
            }
        }
        order.push_back(id.clone());
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        map.insert(id, (now.saturating_add(ttl_ms), s));
    }

    /// A live session, left in place (for checks that may still fail).
    pub fn peek(&self, id: &str) -> Option<Session> {
        let g = self.inner.lock();
        let (exp, s) = g.0.get(id)?;
        (*exp > self.clock.now_ms()).then(|| s.clone())
    }

    /// Remove and return a live session.
    pub fn take(&self, id: &str) -> Option<Session> {
        let mut g = self.inner.lock();
        let (exp, s) = g.0.remove(id)?;
        (exp > self.clock.now_ms()).then_some(s)
    }

    pub fn clear(&self) {
        let mut g = self.inner.lock();
        g.0.clear();
        g.1.clear();
    }
}
