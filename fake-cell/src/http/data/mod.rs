//! The data-plane routes, served both by every index server and by the main port (single-URL
//! clients), like open-source Marqo's API, plus the index-less calls cloud-mode clients send to
//! `/api/...`. Handlers: [`indexes`] (create / delete / list / status), [`documents`],
//! [`info`] (settings, stats, health), [`search`] (search, recommend, embed), [`suggestions`]
//! (typeahead), [`system`] (root,
//! health, models, devices), [`internal`] (Marqo's switched-off internal routes).

pub mod documents;
pub mod indexes;
pub mod info;
pub mod internal;
pub mod search;
pub mod suggestions;
pub mod system;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post};

use self::system::{cpu, cuda, eject, health, models, root};
use crate::http::control;
use crate::state::Cell;

/// Data-plane routes without state (merged into the main router too).
pub fn routes() -> Router<Arc<Cell>> {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/indexes", get(indexes::list))
        .route(
            "/indexes/{name}",
            post(indexes::create).delete(indexes::delete),
        )
        .route("/indexes/{name}/status", get(control::indexes::status))
        .route("/indexes/{name}/settings", get(info::settings))
        .route("/indexes/{name}/stats", get(info::stats))
        .route("/indexes/{name}/health", get(info::index_health))
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
        .route("/indexes/{name}/suggestions", post(suggestions::suggest))
        .route(
            "/indexes/{name}/suggestions/queries",
            post(suggestions::index_queries)
                .get(suggestions::get_queries)
                .delete(suggestions::delete_queries),
        )
        .route(
            "/indexes/{name}/suggestions/queries/delete-all",
            delete(suggestions::delete_all_queries),
        )
        .route("/indexes/{name}/suggestions/stats", get(suggestions::stats))
        .route("/models", get(models).delete(eject))
        .route("/device/cpu", get(cpu))
        .route("/device/cuda", get(cuda))
        .route("/batch/indexes/create", post(indexes::batch_create))
        .route("/batch/indexes/delete", post(indexes::batch_delete))
        .route("/memory", get(internal::memory))
        .route("/validate/index/{name}", post(internal::validate))
        .route("/upgrade", post(internal::upgrade))
        .route("/rollback", post(internal::rollback))
        .route("/rollback-vespa", post(internal::rollback_vespa))
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
