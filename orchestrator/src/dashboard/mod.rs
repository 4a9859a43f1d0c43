//! The dashboard on :9000: the page a person keeps open (`/`) and the JSON API the CLI, the page and
//! scripts use (`/api/*`, described at `/openapi.json`), plus `POST /webhook/eventbridge` forwarded
//! to the webhook router.

mod api;
mod aws;
#[cfg(test)]
mod aws_tests;
mod extract;
mod faults;
#[cfg(test)]
mod faults_tests;
mod history;
mod lambdas;
mod openapi;
mod page;
pub mod snapshots;
mod stream;
#[cfg(test)]
mod tests;
mod views;
mod workflows;

pub use aws::Aws;
pub use views::{NotReady, Outcome, SeedStatus, ServiceView, StackInfo, StackView, StatusView};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::routing::{get, post};
use parking_lot::Mutex;
use service_kit::Shutdown;

use crate::seed_hooks::SeedHooks;
use crate::supervisor::Supervisor;

/// Shared by every dashboard handler.
#[derive(Clone)]
pub struct AppState {
    pub sup: Arc<Supervisor>,
    pub info: Arc<StackInfo>,
    pub seed: Arc<Mutex<SeedStatus>>,
    pub manifest: Arc<Mutex<Option<seed::Manifest>>>,
    /// `[[seed.hooks]]` and their latest reports (served inside `/api/seed`).
    pub hooks: Arc<SeedHooks>,
    pub shutdown: Shutdown,
    pub started: Instant,
    pub startup_ms: Arc<AtomicU64>,
    pub ready: Arc<AtomicBool>,
    pub http: reqwest::Client,
    /// The stack's AWS endpoint (the gateway), for the Workflows and Lambdas panels.
    pub aws: Arc<Aws>,
}

impl AppState {
    pub fn set_ready(&self) {
        self.startup_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::SeqCst);
        self.ready.store(true, Ordering::SeqCst);
    }
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(openapi::spec))
        .route("/api/status", get(api::status))
        .route("/api/stack", get(api::stack))
        .route("/api/health", get(api::health))
        .route("/api/control/{action}", post(api::control))
        .route("/api/stream", get(stream::status_stream))
        .route("/api/logs/{service}", get(api::logs))
        .route("/api/logs/{service}/stream", get(stream::log_stream))
        .route("/api/seed", get(api::seed))
        .route("/api/events", get(api::events))
        .route("/api/workflows", get(workflows::list))
        .route(
            "/api/workflows/executions/{execution_arn}",
            get(workflows::detail),
        )
        .route("/api/lambdas", get(lambdas::lambdas))
        .route(
            "/api/faults",
            get(faults::list).post(faults::add).delete(faults::clear),
        )
        .route("/webhook/eventbridge", post(api::webhook))
        .merge(snapshots::routes())
        .fallback(service_kit::error::not_found)
        .method_not_allowed_fallback(service_kit::error::method_not_allowed);
    // Like every service: one debug line per request (method, path, status, latency).
    faults::spawn_refresher(state.clone());
    service_kit::telemetry::trace_requests(routes).with_state(state)
}
