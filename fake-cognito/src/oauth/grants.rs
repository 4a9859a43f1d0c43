//! `/oauth2/token`: the `authorization_code` grant (PKCE S256 / plain), `refresh_token` (rotating
//! exactly as `GetTokensFromRefreshToken` does, through `auth::rotation`) and
//! `client_credentials` (custom scopes of the pool's resource servers). Client authentication is
//! HTTP Basic or the form body. Every user token goes through `tokens::user_tokens`, the one
//! token-issuing path.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::codes::{self, Grant};
use super::{OPENID, authenticate, scope_list};
use crate::app::AppState;
use crate::auth::{rotation, sign_in_session};
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};
use crate::params::Params;
use crate::tokens;

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
        "authorization_code" => authorization_code(&app, &client, &form).await?,
        "client_credentials" => client_credentials(&app, &client, &form)?,
        "refresh_token" => refresh(&app, &client, &form).await?,
        _ => return Err(CognitoError::oauth("unsupported_grant_type")),
    };
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// Tokens for a hosted-UI sign-in: a new refresh-token family carrying the granted scopes, the
/// nonce in the ID token, `auth_time` from when the user actually authenticated, through the
/// pool's PostAuthentication and PreTokenGeneration (`TokenGeneration_HostedAuth`) triggers. The
/// `AuthenticationResult` shape, refresh token included when `refresh` (not for the implicit
/// flow).
pub async fn mint(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
    grant: &Grant,
    refresh: bool,
) -> Result<Value> {
    let mut session = sign_in_session(app, client, user);
    session.scope = Some(grant.scope.clone());
    session.nonce = grant.nonce.clone();
    session.auth_time = grant.auth_time;
    crate::triggers::authentication::post_authentication(app, meta, client, user).await?;
    let source = crate::triggers::token::HOSTED_AUTH;
    tokens::issue_user_tokens(app, meta, client, user, &session, refresh, source).await
}

/// An `AuthenticationResult` in the token endpoint's words; the ID token only with `openid`.
pub fn oauth_body(result: &Value, with_id: bool) -> Value {
    let mut out = Map::new();
    if with_id && let Some(id) = result.get("IdToken") {
        out.insert("id_token".into(), id.clone());
    }
    for (from, to) in [
        ("AccessToken", "access_token"),
        ("RefreshToken", "refresh_token"),
        ("ExpiresIn", "expires_in"),
    ] {
        if let Some(v) = result.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    out.insert("token_type".into(), Value::from("Bearer"));
    Value::Object(out)
}

fn invalid_grant() -> CognitoError {
    CognitoError::oauth("invalid_grant")
}

async fn authorization_code(
    app: &AppState,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Value> {
    let field = |n: &str| form.get(n).map(String::as_str).filter(|s| !s.is_empty());
    let code = field("code").ok_or_else(|| CognitoError::oauth("invalid_request"))?;
    let redirect_uri =
        field("redirect_uri").ok_or_else(|| CognitoError::oauth("invalid_request"))?;
    if !client.allowed_oauth_flows.iter().any(|f| f == "code") {
        return Err(CognitoError::oauth("unauthorized_client"));
    }
    // Single use: a code is gone after the first attempt, right or wrong.
    let grant = codes::redeem(app, code).ok_or_else(invalid_grant)?;
    if grant.client_id != client.id || grant.redirect_uri != redirect_uri {
        return Err(invalid_grant());
    }
    if let Some(pkce) = &grant.pkce {
        let verifier = field("code_verifier").ok_or_else(invalid_grant)?;
        if !pkce.verifies(verifier) {
            return Err(invalid_grant());
        }
    }
    let (meta, user) = {
        let store = app.store.read();
        let pool = store.pool(&grant.pool_id).map_err(|_| invalid_grant())?;
        let user = pool
            .users
            .get(&grant.user_key)
            .filter(|u| u.sub == grant.sub && u.enabled)
            .ok_or_else(invalid_grant)?;
        (pool.meta.clone(), user.clone())
    };
    let result = mint(app, &meta, client, &user, &grant, true).await?;
    let openid = scope_list(&grant.scope).iter().any(|s| s == OPENID);
    Ok(oauth_body(&result, openid))
}

/// `refresh_token`: the same checks and rotation as `GetTokensFromRefreshToken` (the client is
/// already authenticated, so its own secret is passed on).
async fn refresh(app: &AppState, client: &Client, form: &HashMap<String, String>) -> Result<Value> {
    let rt = form
        .get("refresh_token")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CognitoError::oauth("invalid_request"))?;
    let mut m = Map::new();
    m.insert("RefreshToken".into(), Value::from(rt.clone()));
    m.insert("ClientId".into(), Value::from(client.id.clone()));
    if let Some(s) = &client.secret {
        m.insert("ClientSecret".into(), Value::from(s.clone()));
    }
    let r = rotation::get_tokens_from_refresh_token(app, &Params(m))
        .await
        .map_err(|e| match e {
            CognitoError::Persistence(_) | CognitoError::Internal(_) => e,
            _ => invalid_grant(),
        })?;
    Ok(oauth_body(&r["AuthenticationResult"], true))
}

/// `client_credentials`: only custom scopes (`identifier/scope`) that a resource server still
/// defines, so deleting a server or a scope takes it out of new tokens at once.
fn client_credentials(
    app: &AppState,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Value> {
    if client.secret.is_none()
        || !client
            .allowed_oauth_flows
            .iter()
            .any(|f| f == "client_credentials")
    {
        return Err(CognitoError::oauth("unauthorized_client"));
    }
    let meta = app.store.read().pool(&client.pool_id)?.meta.clone();
    let defined = crate::resource_servers::custom_scopes(&meta);
    let allowed: Vec<&String> = client
        .allowed_oauth_scopes
        .iter()
        .filter(|s| defined.contains(s))
        .collect();
    let scopes: Vec<String> = match form.get("scope").filter(|s| !s.trim().is_empty()) {
        Some(req) => {
            let req = scope_list(req);
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
    let mut body = tokens::client_token(app, &meta, client, &scopes.join(" "))?;
    body["token_type"] = json!("Bearer");
    Ok(body)
}
