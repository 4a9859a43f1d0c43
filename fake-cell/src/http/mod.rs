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
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use tower::ServiceBuilder;

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

/// Finish a router: JSON fallbacks, then the layers every request passes, outermost first: the
/// fault rules (and their `/_fake/faults` API), request tracing (service-kit's: method, path,
/// status and latency at debug level), the restore gate and `?telemetry=true`. (No body-limit
/// layer: JSON bodies are read by [`body::read_json`] with its own limit, and the snapshot upload
/// sets its own.)
///
/// The layers wrap the finished router once, as one service. `Router::layer` would wrap every
/// route apart, and a route's boxed stack is cloned level by level for each request: 31 of a
/// search's 136 allocations.
fn finish(routes: Router<Arc<Cell>>, cell: Arc<Cell>) -> Router {
    let routes = routes
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(cell.clone());
    let layered = ServiceBuilder::new()
        .layer(from_fn_with_state(
            crate::faults::layer_state(&cell),
            service_kit::faults::layer::handle,
        ))
        .layer(service_kit::telemetry::trace_layer())
        .layer(from_fn_with_state(
            crate::snapshot::gated(&cell),
            service_kit::restore_gate::middleware,
        ))
        .layer(from_fn(telemetry::telemetry))
        .service(routes);
    Router::new().fallback_service(layered)
}
