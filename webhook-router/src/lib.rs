//! EventBridge webhook router and the local DynamoDB-stream pipe.
//!
//! Layout:
//! - [`config`]: the clap `Config` (`--route`, `--moto-url`, `--pipe`, ...);
//! - [`routes`]: the prefix table (longest prefix wins);
//! - [`webhook`]: `POST /webhook/eventbridge` and the dispatch shared with the pipe;
//! - [`forward`]: the one shared HTTP client and the 502/503/504 mapping;
//! - [`envelope`]: the event envelope, parsing what routing needs and writing what the pipe emits;
//! - [`recent`]: the bounded ring buffer behind `GET /events`;
//! - [`api`]: `GET /routes`, `GET /events`; [`openapi`]: `GET /openapi.json`;
//! - [`pipe`]: moto's DynamoDB streams → events (discover, follow, cursor, to_event), and the
//!   moto SDK configuration;
//! - [`faults`]: how fault rules name the router's calls, and its error for injected ones;
//! - [`error`]: the crate's error enum.

pub mod api;
pub mod config;
pub mod envelope;
pub mod error;
pub mod faults;
pub mod forward;
pub mod openapi;
pub mod pipe;
pub mod recent;
pub mod routes;
pub mod snapshot;
pub mod webhook;

use std::ffi::OsString;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use service_kit::HealthState;
use tokio::net::TcpListener;

pub use config::Config;

pub const SERVICE: &str = "webhook-router";

/// Shared state of the router and the pipe. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    routes: routes::RouteTable,
    forwarder: forward::Forwarder,
    recent: recent::RecentEvents,
    pipe: pipe::PipeStats,
    health: HealthState,
    faults: service_kit::faults::Faults,
    /// Pipe deliveries held while a snapshot restore replays moto (`snapshot.rs`).
    hold: snapshot::Hold,
}

impl AppState {
    pub fn new(config: &Config, health: HealthState) -> anyhow::Result<Self> {
        Ok(AppState {
            inner: Arc::new(Inner {
                routes: routes::RouteTable::new(&config.effective_routes())?,
                forwarder: forward::Forwarder::new(config.forward_timeout())?,
                recent: recent::RecentEvents::new(config.events_buffer),
                pipe: pipe::PipeStats::new(config),
                faults: faults::registry(config, &health),
                hold: snapshot::Hold::default(),
                health,
            }),
        })
    }

    pub fn routes(&self) -> &routes::RouteTable {
        &self.inner.routes
    }
    pub fn forwarder(&self) -> &forward::Forwarder {
        &self.inner.forwarder
    }
    pub fn recent(&self) -> &recent::RecentEvents {
        &self.inner.recent
    }
    pub fn pipe(&self) -> &pipe::PipeStats {
        &self.inner.pipe
    }
    pub fn health(&self) -> &HealthState {
        &self.inner.health
    }
    pub fn faults(&self) -> &service_kit::faults::Faults {
        &self.inner.faults
    }
    pub fn hold(&self) -> &snapshot::Hold {
        &self.inner.hold
    }
}

/// The HTTP API.
pub fn router(state: AppState) -> Router {
    let health = state.health().clone();
    let router = Router::new()
        .route(
            "/webhook/eventbridge",
            post(webhook::post_webhook).fallback(service_kit::error::method_not_allowed),
        )
        .route(
            "/routes",
            get(api::get_routes).fallback(service_kit::error::method_not_allowed),
        )
        .route(
            "/events",
            get(api::get_events).fallback(service_kit::error::method_not_allowed),
        )
        .route(
            "/_fake/snapshot",
            get(snapshot::get_snapshot).put(snapshot::put_snapshot),
        )
        .route("/_fake/snapshot/summary", get(snapshot::get_summary))
        .route("/_fake/snapshot/resume", post(snapshot::resume))
        .route(
            "/openapi.json",
            get(openapi::get_openapi).fallback(service_kit::error::method_not_allowed),
        )
        .with_state(state.clone())
        .merge(service_kit::health_router(health))
        .fallback(service_kit::error::not_found)
        .method_not_allowed_fallback(service_kit::error::method_not_allowed);
    let router = faults::apply(router, &state);
    service_kit::telemetry::trace_requests(router)
}

/// Serve on an already bound listener until `shutdown` resolves. With `--moto-url` the local
/// pipe runs beside the server and stops with it.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"));
    let state = AppState::new(&config, health.clone())?;
    state.pipe().publish_health(&health);
    // Dropping the set aborts the pipe tasks once the server has drained.
    let _pipe_tasks = pipe::spawn(&config, state.clone()).await?;
    for r in state.routes().routes() {
        tracing::info!(prefix = %r.prefix, target = %r.target, url = %r.url, "route");
    }
    if config.moto_url.is_none() {
        tracing::info!("local pipe off (no --moto-url)");
    }
    health.set_ready();
    tracing::info!(addr = %listener.local_addr()?, "{SERVICE} ready");
    // Graceful drain, but bounded: a request stuck on a hanging target must not keep the
    // process alive past the 1 s exit budget.
    let token = service_kit::Shutdown::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.trigger();
    });
    let cutoff = {
        let token = token.clone();
        async move {
            token.wait().await;
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        }
    };
    tokio::select! {
        r = service_kit::serve(listener, router(state), token.wait()) => r?,
        () = cutoff => tracing::warn!("shutdown: in-flight requests cut off after 700 ms"),
    }
    Ok(())
}

/// Parse arguments, set up logging and a runtime, bind, and run until SIGINT or SIGTERM.
pub fn cli_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    service_kit::cli::cli_main(SERVICE, args, run)
}
