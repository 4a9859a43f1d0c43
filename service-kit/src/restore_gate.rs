//! The write gate a snapshot restore closes: writers take a shared permit, a restore takes the
//! exclusive one, so no write is ever half inside the old state and half inside the new one.
//!
//! A writer waits up to [`RestoreGate::wait`] for a running restore and is then refused with
//! [`BUSY`] (each service wraps it in its own 503 error shape). The lock is tokio's fair `RwLock`:
//! once a restore queues, new writers wait behind it instead of starving it, and permits are held
//! across `.await` on purpose (an async lock, never a sync one). Background writers (a job
//! running after its request answered) take [`RestoreGate::write_unbounded`] per step and stop
//! when [`RestoreGate::epoch`] moved: the state they were writing into was replaced.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

/// What a refused writer is told (the services put it in their own error body).
pub const BUSY: &str = "a snapshot restore is in progress; retry in a moment";

/// How long a writer waits for a running restore before it is refused.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A writer's shared permit; the restore cannot start until every one is dropped.
pub type WritePermit = OwnedRwLockReadGuard<()>;

/// Cheap to clone; every clone is the same gate.
#[derive(Clone)]
pub struct RestoreGate {
    lock: Arc<RwLock<()>>,
    restoring: Arc<AtomicBool>,
    /// Restores begun so far.
    epoch: Arc<AtomicU64>,
    wait: Duration,
}

impl Default for RestoreGate {
    fn default() -> Self {
        Self::new(DEFAULT_WAIT)
    }
}

/// Held for the whole restore; writers resume when it is dropped.
pub struct RestorePermit {
    _guard: OwnedRwLockWriteGuard<()>,
    restoring: Arc<AtomicBool>,
}

impl Drop for RestorePermit {
    fn drop(&mut self) {
        self.restoring.store(false, Ordering::SeqCst);
    }
}

impl RestoreGate {
    pub fn new(wait: Duration) -> Self {
        RestoreGate {
            lock: Arc::new(RwLock::new(())),
            restoring: Arc::new(AtomicBool::new(false)),
            epoch: Arc::new(AtomicU64::new(0)),
            wait,
        }
    }

    /// Whether a restore holds (or waits for) the gate.
    pub fn is_restoring(&self) -> bool {
        self.restoring.load(Ordering::SeqCst)
    }

    /// A writer's permit, waiting up to the bound for a running restore; `Err(BUSY)` after it.
    pub async fn write(&self) -> Result<WritePermit, &'static str> {
        tokio::time::timeout(self.wait, self.lock.clone().read_owned())
            .await
            .map_err(|_| BUSY)
    }

    /// How many restores have begun; a background writer that saw another value before its
    /// permit must not write (its state is gone).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// A background writer's permit: waits however long a running restore takes.
    pub async fn write_unbounded(&self) -> WritePermit {
        self.lock.clone().read_owned().await
    }

    /// The exclusive permit for a restore: waits for the writers in flight to finish, holds back
    /// new ones, and moves [`RestoreGate::epoch`].
    pub async fn restore(&self) -> RestorePermit {
        let permit = self.pause().await;
        self.epoch.fetch_add(1, Ordering::SeqCst);
        permit
    }

    /// The exclusive permit without a restore (copying the whole state at one moment).
    pub async fn pause(&self) -> RestorePermit {
        self.restoring.store(true, Ordering::SeqCst);
        let guard = self.lock.clone().write_owned().await;
        // A restore that queued behind another one cleared the flag when that one ended.
        self.restoring.store(true, Ordering::SeqCst);
        RestorePermit {
            _guard: guard,
            restoring: self.restoring.clone(),
        }
    }
}

/// Wrap a whole router: every request except `/healthz`, `/_fake/snapshot` itself (whose
/// handlers take the exclusive permit) and the `GET`s of `static_paths` (answers that never read
/// the state, such as a liveness probe's) holds a shared permit while it is handled, so reads see
/// the old state or the new one and writes never land in a half-restored one. `busy` renders the
/// refusal in the service's own error shape.
pub fn gate_router<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    gate: RestoreGate,
    static_paths: &'static [&'static str],
    busy: fn(&'static str) -> Response,
) -> axum::Router<S> {
    router.layer(axum::middleware::from_fn_with_state(
        Gated {
            gate,
            static_paths,
            busy,
        },
        middleware,
    ))
}

/// [`gate_router`]'s settings, for [`middleware`] as a `from_fn_with_state` layer around a
/// whole service (`Router::layer` wraps each route apart).
#[derive(Clone)]
pub struct Gated {
    pub gate: RestoreGate,
    pub static_paths: &'static [&'static str],
    pub busy: fn(&'static str) -> Response,
}

/// The gate as a middleware (see [`gate_router`]).
pub async fn middleware(State(g): State<Gated>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let fixed = req.method() == axum::http::Method::GET && g.static_paths.contains(&path);
    if fixed || path == "/healthz" || path == "/_fake/snapshot" {
        return next.run(req).await;
    }
    match g.gate.write().await {
        Ok(_permit) => next.run(req).await,
        Err(why) => (g.busy)(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_restore_waits_for_writers_and_holds_new_ones_back() {
        let gate = RestoreGate::new(Duration::from_millis(50));
        let writer = gate.write().await.unwrap();
        let g = gate.clone();
        let restore = tokio::spawn(async move {
            let _p = g.restore().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(gate.is_restoring());
        assert!(!restore.is_finished(), "the writer in flight holds it off");
        drop(writer);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            gate.write().await.err(),
            Some(BUSY),
            "refused past the bound"
        );
        restore.await.unwrap();
        assert!(!gate.is_restoring());
        assert!(gate.write().await.is_ok());
    }

    #[tokio::test]
    async fn a_restore_moves_the_epoch_and_a_pause_does_not() {
        let gate = RestoreGate::default();
        drop(gate.pause().await);
        assert_eq!(gate.epoch(), 0);
        let permit = gate.restore().await;
        assert_eq!(gate.epoch(), 1);
        let g = gate.clone();
        let background = tokio::spawn(async move {
            let _p = g.write_unbounded().await;
            g.epoch()
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!background.is_finished(), "held while the restore runs");
        drop(permit);
        assert_eq!(background.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_short_restore_only_delays_writers() {
        let gate = RestoreGate::new(Duration::from_secs(5));
        let permit = gate.restore().await;
        let g = gate.clone();
        let writer = tokio::spawn(async move { g.write().await.is_ok() });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!writer.is_finished());
        drop(permit);
        assert!(writer.await.unwrap());
    }
}
