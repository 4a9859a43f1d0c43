//! `/oauth2/revoke`: revoke a refresh token's family (and the access tokens minted from it)
//! through `auth::refresh::revoke`, answering in OAuth's error shape.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_credentials;
use crate::app::AppState;
use crate::error::{CognitoError, Result};

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: std::result::Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| CognitoError::oauth("invalid_request"))?;
    let (id, secret) = client_credentials(&headers, &form);
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CognitoError::oauth("invalid_request"))?;
    let id = id.ok_or_else(|| CognitoError::oauth("invalid_client"))?;
    crate::auth::refresh::revoke(&app, &id, secret.as_deref(), token)
        .await
        .map_err(|e| match e {
            CognitoError::Unauthorized(_) | CognitoError::ResourceNotFound(_) => {
                CognitoError::oauth("invalid_client")
            }
            CognitoError::UnsupportedTokenType(_) => CognitoError::oauth("unsupported_token_type"),
            CognitoError::UnsupportedOperation(_) => CognitoError::oauth("unauthorized_client"),
            other => other,
        })?;
    Ok(axum::Json(json!({})).into_response())
}
