//! The control plane on the main port: Marqo Cloud's `/api/v2/...` ([`indexes`], [`aliases`],
//! reindex [`jobs`]) and the local admin API under `/_fake/` ([`accounts`] and keys; [`admin`]:
//! state dump, reset, stop-server).

pub mod accounts;
pub mod admin;
pub mod aliases;
pub mod indexes;
pub mod jobs;
pub mod snapshot;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Cell;

pub fn routes() -> Router<Arc<Cell>> {
    Router::new()
        .route("/api/v2/indexes", get(indexes::list))
        .route(
            "/api/v2/indexes/{name}",
            get(indexes::describe)
                .post(indexes::create)
                .put(indexes::update)
                .delete(indexes::delete),
        )
        .route("/api/v2/indexes/{name}/status", get(indexes::status))
        .route("/api/v2/indexes/{name}/fork", post(indexes::fork))
        .route("/api/v2/aliases", get(aliases::list))
        .route(
            "/api/v2/aliases/{alias}",
            get(aliases::get_one)
                .put(aliases::put)
                .post(aliases::put)
                .delete(aliases::remove),
        )
        .route("/api/v2/reindex", get(jobs::list).post(jobs::create))
        .route("/api/v2/reindex/{job_id}", get(jobs::get_one))
        .route(
            "/_fake/accounts",
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route("/_fake/accounts/{account_id}", get(accounts::get_account))
        .route(
            "/_fake/accounts/{account_id}/keys",
            get(accounts::list_keys).post(accounts::create_key),
        )
        .route("/_fake/keys/validate", post(accounts::validate_key))
        .route("/_fake/keys/{key_id}/revoke", post(accounts::revoke_key))
        .route("/_fake/state", get(admin::dump_state))
        .route("/_fake/reset", post(admin::reset))
        .merge(snapshot::routes())
        .route(
            "/_fake/indexes/{name}/stop-server",
            post(admin::stop_index_server),
        )
}
