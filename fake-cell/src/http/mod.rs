//! The HTTP layer: routers and handlers over the cell's state and the engine. Arrows point one
//! way: `http` → `lifecycle` / `servers` / `state` / `persist` → `engine`; nothing below imports
//! from here.
//!
//! - [`control`]: the control plane on the main port (`/api/v2/...` and the `/_fake/` admin API);
//! - [`data`]: the data plane (every index server, and the main port for single-URL clients);
//! - [`auth`]: `x-api-key` → account and scopes;
//! - [`body`]: JSON bodies and query strings the way Marqo's clients send them;
//! - [`openapi`]: serves `/openapi.json`;
//! - [`telemetry`]: `?telemetry=true` adds Marqo's `telemetry` object.

pub mod auth;
pub mod body;
pub mod control;
pub mod data;
pub mod openapi;
pub mod telemetry;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::error::{CellError, route_not_found};
use crate::state::Cell;

/// The main port's HTTP API: health, OpenAPI, control plane, admin and the data plane.
pub fn main_router(cell: Arc<Cell>) -> Router {
    let routes = Router::new()
        .merge(service_kit::health_router(cell.health.clone()))
        .route("/openapi.json", get(openapi::openapi))
        .merge(control::routes())
        .merge(data::cloud_misc_routes())
        .merge(data::routes());
    finish(routes, cell)
}

/// What each index server runs: the data plane, and the cell's `/healthz` (every Hippodrome
/// server answers it; a probe pointed at an index's own endpoint gets the cell's report).
pub fn index_router(cell: Arc<Cell>) -> Router {
    let routes = Router::new()
        .merge(service_kit::health_router(cell.health.clone()))
        .merge(data::routes());
    finish(routes, cell)
}

async fn method_not_allowed() -> CellError {
    CellError::MethodNotAllowed
}

/// Finish a router: JSON fallbacks, `?telemetry=true`, body limit, request tracing (service-kit's: method, path,
/// status and latency at debug level), state.
fn finish(routes: Router<Arc<Cell>>, cell: Arc<Cell>) -> Router {
    let routes = routes
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(telemetry::telemetry))
        .layer(DefaultBodyLimit::max(body::BODY_LIMIT));
    let routes = crate::snapshot::gate(routes, &cell);
    let router = service_kit::telemetry::trace_requests(routes).with_state(cell.clone());
    crate::faults::apply(router, &cell)
}
