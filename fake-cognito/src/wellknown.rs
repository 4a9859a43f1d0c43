//! `/{poolId}/.well-known/jwks.json` and `/{poolId}/.well-known/openid-configuration`. The
//! discovery `issuer` is exactly the `iss` this pool mints; every URL points at this server.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;

fn unknown_pool(pool_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "__type": "ResourceNotFoundException",
            "message": format!("User pool {pool_id} does not exist."),
        })),
    )
        .into_response()
}

pub async fn jwks(State(app): State<AppState>, Path(pool_id): Path<String>) -> Response {
    if !app.store.read().pools.contains_key(&pool_id) {
        return unknown_pool(&pool_id);
    }
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        app.jwks_body.clone(),
    )
        .into_response()
}

pub async fn openid_configuration(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
) -> Response {
    if !app.store.read().pools.contains_key(&pool_id) {
        return unknown_pool(&pool_id);
    }
    let base = app.public_url();
    axum::Json(json!({
        "issuer": app.issuer(&pool_id),
        "jwks_uri": format!("{base}/{pool_id}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "end_session_endpoint": format!("{base}/logout"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
    .into_response()
}
