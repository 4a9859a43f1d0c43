//! Marqo-compatible cell: cloud control plane on :9001 and one HTTP server per index.
//!
//! Layout, top to bottom (each layer imports only the ones below it):
//! - [`http`]: routers and handlers (control plane, data plane, auth extractor, bodies, OpenAPI);
//! - [`lifecycle`]: create / delete an index (port, registration, journal, its server), visibility;
//! - [`servers`]: one OS thread + runtime per index server, port choice;
//! - [`watchdog`]: the probing thread that exits with code 1 when the cell stops answering;
//! - [`persist`]: snapshot + journal (every acknowledged write survives `kill -9`) and the write path;
//! - [`snapshot`]: the whole cell as one document, restored in place behind the restore gate;
//! - [`state`]: accounts, keys, indexes, aliases, jobs, running index servers;
//! - [`engine`]: documents store, search, filter, embeddings, top-k, caches, settings (no HTTP);
//! - [`timings`]: a request's telemetry timers, as Marqo's `RequestMetricsStore` (engine and
//!   handlers record, the telemetry middleware answers them);
//! - [`faults`]: how fault rules name the cell's calls, and Marqo's shape for injected errors;
//! - [`config`]: the clap `Config`; [`error`]: `CellError`, rendered in Marqo's error shape.

pub mod config;
pub mod engine;
pub mod error;
pub mod faults;
pub mod http;
pub mod lifecycle;
pub mod media;
pub mod model_cache;
pub mod persist;
pub mod servers;
pub mod snapshot;
pub mod state;
pub mod timings;
pub mod watchdog;

use std::ffi::OsString;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use service_kit::{HealthState, Shutdown};
use tokio::net::TcpListener;

pub use config::Config;
pub use state::Cell;

pub const SERVICE: &str = "fake-cell";

/// The main port's HTTP API: health, OpenAPI, control plane, admin and the data plane.
pub fn router(cell: Arc<Cell>) -> Router {
    http::main_router(cell)
}

/// Restore state from disk into a new cell (no servers started yet).
pub fn restore(config: Config, health: HealthState) -> anyhow::Result<Arc<Cell>> {
    let (snap, journal, records) = persist::open(&config.state_file)?;
    let cell = Arc::new(Cell::new(config, health, journal, http::index_router));
    let n = records.len();
    persist::load_snapshot(&cell, snap);
    for r in records {
        persist::apply(&cell, r);
    }
    tracing::info!(
        indexes = cell.indexes.read().len(),
        replayed = n,
        state_file = %cell.cfg.state_file.display(),
        "state restored"
    );
    Ok(cell)
}

/// Start a server for every restored index, on its remembered port when it is free.
async fn start_index_servers(cell: &Arc<Cell>) -> anyhow::Result<()> {
    let mut list: Vec<Arc<state::Index>> = cell.indexes.read().values().cloned().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for idx in list {
        let remembered = idx.meta.read().port;
        let (port, listener) = servers::bind_port(cell, Some(remembered), Some(&idx.name))
            .map_err(|e| anyhow::anyhow!("index {}: {e}", idx.name))?;
        servers::start_on(cell, &idx, port, listener).await?;
    }
    Ok(())
}

/// Serve on an already bound listener until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"));
    let no_watchdog = config.no_watchdog;
    let cell = tokio::task::spawn_blocking(move || restore(config, health)).await??;
    start_index_servers(&cell).await?;
    cell.health
        .check_ok("persistence", serde_json::json!({"journal_bytes": 0}));
    let stop = Shutdown::new();
    tokio::spawn(persist::maintain(cell.clone(), stop.clone()));
    let addr = listener.local_addr()?;
    if !no_watchdog {
        watchdog::spawn(cell.clone(), addr, stop.clone())?;
    }
    cell.health.set_ready();
    tracing::info!(%addr, open = cell.cfg.open, "{SERVICE} ready");
    let served =
        service_kit::serve::serve_coalescing(listener, router(cell.clone()), shutdown).await;
    stop.trigger();
    servers::stop_all(&cell);
    // The journal already holds every acknowledged write, so a final snapshot only saves replay
    // time. Write it when the journal is large, within a budget, so shutdown stays under ~1 s.
    if cell.journal.bytes_in_generation() > cell.cfg.compact_after_bytes / 4 {
        match tokio::time::timeout(Duration::from_millis(700), persist::compact(cell.clone())).await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "final snapshot failed; the journal still holds every acknowledged write")
            }
            Err(_) => tracing::warn!(
                "final snapshot did not finish in time; the journal still holds every acknowledged write"
            ),
        }
    }
    served?;
    Ok(())
}

impl service_kit::cli::ServiceConfig for Config {
    fn listen_addr(&self) -> std::net::SocketAddr {
        self.listen.addr()
    }
}

/// Parse arguments, set up logging and a runtime, bind, and run until SIGINT or SIGTERM.
pub fn cli_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    service_kit::cli::cli_main(SERVICE, args, run)
}
