//! Hosted-UI style OAuth2 endpoints on the main port: `/oauth2/token` (client_credentials with
//! custom scopes, refresh_token), `/oauth2/userInfo`, `/oauth2/revoke`. Errors use RFC 6749's
//! `{"error": ...}` shape.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::Client;
use crate::tokens::{self, ADMIN_SCOPE, Expect};

/// Client credentials from `Authorization: Basic` or the form body.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Client> {
    let (id, secret) = client_credentials(headers, form);
    let id = id.ok_or_else(|| CognitoError::oauth("invalid_client"))?;
    let client = {
        let store = app.store.read();
        store
            .client(&id)
            .map_err(|_| CognitoError::oauth("invalid_client"))?
            .1
            .clone()
    };
    if let Some(s) = &client.secret
        && secret.as_deref() != Some(s.as_str())
    {
        return Err(CognitoError::oauth("invalid_client"));
    }
    Ok(client)
}

pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: std::result::Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response> {
    // A missing or wrong content type is the client's error, answered in OAuth's JSON shape.
    let Form(form) = form.map_err(|_| CognitoError::oauth("invalid_request"))?;
    let grant = form
        .get("grant_type")
        .ok_or_else(|| CognitoError::oauth("invalid_request"))?
        .clone();
    let client = authenticate(&app, &headers, &form)?;
    let body = match grant.as_str() {
        "client_credentials" => {
            if client.secret.is_none()
                || !client
                    .allowed_oauth_flows
                    .iter()
                    .any(|f| f == "client_credentials")
            {
                return Err(CognitoError::oauth("unauthorized_client"));
            }
            // Only custom scopes (`identifier/scope`) that a resource server still defines:
            // deleting a server or a scope takes it out of new tokens at once.
            let meta = app.store.read().pool(&client.pool_id)?.meta.clone();
            let defined = crate::resource_servers::custom_scopes(&meta);
            let allowed: Vec<&String> = client
                .allowed_oauth_scopes
                .iter()
                .filter(|s| defined.contains(s))
                .collect();
            let scopes: Vec<String> = match form.get("scope").filter(|s| !s.trim().is_empty()) {
                Some(req) => {
                    let req: Vec<String> = req.split_whitespace().map(str::to_owned).collect();
                    if req.iter().any(|s| !allowed.contains(&s)) {
                        return Err(CognitoError::oauth("invalid_scope"));
                    }
                    req
                }
                None => allowed.into_iter().cloned().collect(),
            };
            if scopes.is_empty() {
                return Err(CognitoError::oauth("invalid_scope"));
            }
            tokens::client_token(&app, &meta, &client, &scopes.join(" "))?
        }
        "refresh_token" => {
            let rt = form
                .get("refresh_token")
                .ok_or_else(|| CognitoError::oauth("invalid_request"))?;
            let r = crate::auth::refresh::refresh_tokens(&app, &client, rt, None)
                .map_err(|_| CognitoError::oauth("invalid_grant"))?;
            json!({
                "id_token": r["IdToken"],
                "access_token": r["AccessToken"],
                "expires_in": r["ExpiresIn"],
                "token_type": "Bearer",
            })
        }
        _ => return Err(CognitoError::oauth("unsupported_grant_type")),
    };
    Ok(axum::Json(body).into_response())
}

/// `/oauth2/userInfo`. AWS requires the `openid` scope; fake-cognito has no hosted login page to
/// obtain such tokens, so API-login access tokens (`aws.cognito.signin.user.admin`) are accepted too.
pub async fn user_info(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let unauthorized = || {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            axum::Json(json!({"error": "invalid_token"})),
        )
            .into_response()
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return unauthorized();
    };
    let expect = Expect {
        token_use: Some("access"),
        ..Default::default()
    };
    let Ok(v) = tokens::verify(&app, token, &expect) else {
        return unauthorized();
    };
    let scoped = v
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .is_some_and(|s| s.split(' ').any(|x| x == "openid" || x == ADMIN_SCOPE));
    let (Some(username), true) = (v.username, scoped) else {
        return unauthorized();
    };
    let store = app.store.read();
    let Some(user) = store
        .pools
        .get(&v.pool_id)
        .and_then(|p| p.user(&username).ok())
    else {
        return unauthorized();
    };
    let mut out = Map::new();
    out.insert("sub".into(), Value::from(user.sub.clone()));
    for (k, val) in &user.attributes {
        out.insert(k.clone(), Value::from(val.clone()));
    }
    out.insert("username".into(), Value::from(user.username.clone()));
    axum::Json(Value::Object(out)).into_response()
}

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: std::result::Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| CognitoError::oauth("invalid_request"))?;
    let (id, secret) = client_credentials(&headers, &form);
    let id = id.ok_or_else(|| CognitoError::oauth("invalid_client"))?;
    let token = form
        .get("token")
        .ok_or_else(|| CognitoError::oauth("invalid_request"))?;
    crate::auth::refresh::revoke(&app, &id, secret.as_deref(), token)
        .await
        .map_err(|e| match e {
            CognitoError::Unauthorized(_) | CognitoError::ResourceNotFound(_) => {
                CognitoError::oauth("invalid_client")
            }
            CognitoError::UnsupportedTokenType(_) => CognitoError::oauth("unsupported_token_type"),
            other => other,
        })?;
    Ok(axum::Json(json!({})).into_response())
}
