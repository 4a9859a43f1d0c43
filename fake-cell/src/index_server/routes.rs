//! The data-plane router, served both by every index server and by the main port (single-URL
//! clients), like open-source Marqo's API.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::documents;
use super::search;
use crate::body::BODY_LIMIT;
use crate::control::indexes;
use crate::error::{CellError, CellResult, route_not_found};
use crate::state::Cell;

pub async fn root() -> Json<Value> {
    Json(json!({"message": "Welcome to Marqo", "version": indexes::MARQO_VERSION}))
}

async fn health() -> Json<Value> {
    Json(documents::health_body())
}

async fn models() -> Json<Value> {
    Json(json!({"models": [{"model_name": "hf/e5-base-v2", "model_device": "cpu"}]}))
}

async fn eject() -> CellResult<Json<Value>> {
    Err(CellError::NotFound(
        "model_not_in_cache: the fake cell loads no models".into(),
    ))
}

async fn cpu() -> Json<Value> {
    Json(
        json!({"cpu_usage_percent": "1.0 %", "memory_used_percent": "10.0 %", "memory_used_gb": "1.0"}),
    )
}

async fn cuda() -> Json<Value> {
    Json(json!({"cuda_devices": []}))
}

async fn method_not_allowed() -> CellError {
    CellError::MethodNotAllowed
}

/// Data-plane routes without state (merged into the main router too).
pub fn data_routes() -> Router<Arc<Cell>> {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/indexes", get(indexes::data_list))
        .route(
            "/indexes/{name}",
            post(indexes::data_create).delete(indexes::data_delete),
        )
        .route("/indexes/{name}/status", get(indexes::data_status))
        .route("/indexes/{name}/settings", get(documents::settings))
        .route("/indexes/{name}/stats", get(documents::stats))
        .route("/indexes/{name}/health", get(documents::index_health))
        .route(
            "/indexes/{name}/documents",
            post(documents::add_documents)
                .patch(documents::update_documents)
                .get(documents::get_documents),
        )
        .route(
            "/indexes/{name}/documents/delete-batch",
            post(documents::delete_batch),
        )
        .route(
            "/indexes/{name}/documents/delete-all",
            delete(documents::delete_all),
        )
        .route(
            "/indexes/{name}/documents/{id}",
            get(documents::get_document),
        )
        .route("/indexes/{name}/search", post(search::search))
        .route("/indexes/{name}/recommend", post(search::recommend))
        .route("/indexes/{name}/embed", post(search::embed_route))
        .route("/models", get(models).delete(eject))
        .route("/device/cpu", get(cpu))
        .route("/device/cuda", get(cuda))
        .route("/batch/indexes/create", post(indexes::batch_create))
        .route("/batch/indexes/delete", post(indexes::batch_delete))
}

/// Finish a router: JSON fallbacks, body limit, state.
pub fn finish(routes: Router<Arc<Cell>>, cell: Arc<Cell>) -> Router {
    routes
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(cell)
}

/// Cloud-mode clients send index-less calls (`get_marqo`, models, devices) to `{url}/api/...`.
pub fn cloud_misc_routes() -> Router<Arc<Cell>> {
    Router::new()
        .route("/api", get(root))
        .route("/api/", get(root))
        .route("/api/health", get(health))
        .route("/api/models", get(models).delete(eject))
        .route("/api/device/cpu", get(cpu))
        .route("/api/device/cuda", get(cuda))
}

/// What each index server runs.
pub fn data_router(cell: Arc<Cell>) -> Router {
    finish(data_routes(), cell)
}
