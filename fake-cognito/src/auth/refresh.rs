//! Refresh and revocation: REFRESH_TOKEN_AUTH, GlobalSignOut, AdminUserGlobalSignOut, RevokeToken.
//!
//! A refresh token is a sealed payload (pool, client, user, family id, auth time, expiry), so
//! issuing one writes nothing. Revocation is what is stored: `RevokeToken` records the family id
//! (bounded map, entries expire with the token); a global sign-out records one timestamp on the
//! user, and every family that started at or before it is dead — refresh tokens and the access
//! tokens minted from them alike (`GetUser` then answers NotAuthorizedException).

use serde_json::{Value, json};

use super::AuthParams;
use crate::app::AppState;
use crate::auth::password;
use crate::auth::rotation;
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};
use crate::params::Params;
use crate::persist::Record;
use crate::tokens::{self, RefreshPayload, open_refresh, verify_user_access};
use crate::users::user_record;

fn invalid() -> CognitoError {
    CognitoError::NotAuthorized("Invalid Refresh Token".into())
}

/// New ID + access tokens from a refresh token (same family, same auth_time, fresh user data).
/// `params` carries SECRET_HASH/USERNAME for the API flow; the OAuth endpoint authenticates the
/// client itself and passes `None`.
pub fn refresh_tokens(
    app: &AppState,
    client: &Client,
    token: &str,
    params: Option<&AuthParams>,
) -> Result<Value> {
    let (payload, meta, user) = checked_refresh(app, client, token, params)?;
    tokens::user_tokens(app, &meta, client, &user, &payload, false)
}

/// [`refresh_tokens`] through the pool's PreTokenGeneration trigger
/// (`TokenGeneration_RefreshTokens`): what REFRESH_TOKEN_AUTH and the token endpoint use.
pub async fn refresh_user_tokens(
    app: &AppState,
    client: &Client,
    token: &str,
    params: Option<&AuthParams>,
) -> Result<Value> {
    let (payload, meta, user) = checked_refresh(app, client, token, params)?;
    let source = crate::triggers::token::REFRESH;
    tokens::issue_user_tokens(app, &meta, client, &user, &payload, false, source).await
}

fn checked_refresh(
    app: &AppState,
    client: &Client,
    token: &str,
    params: Option<&AuthParams>,
) -> Result<(RefreshPayload, PoolMeta, User)> {
    let payload = open_refresh(app, token).ok_or_else(invalid)?;
    if let Some(params) = params {
        let sent = params.get("USERNAME").map(String::as_str);
        password::check_secret_hash(
            client,
            params.get("SECRET_HASH").map(String::as_str),
            &[
                sent.unwrap_or(&payload.username),
                &payload.username,
                &payload.sub,
            ],
        )?;
    }
    check_refresh(app, client, token)
}

/// A refresh token of `client` that is still good (unexpired, not revoked, not rotated out,
/// user enabled): its payload, the pool and the user.
pub fn check_refresh(
    app: &AppState,
    client: &Client,
    token: &str,
) -> Result<(RefreshPayload, PoolMeta, User)> {
    let payload = open_refresh(app, token).ok_or_else(invalid)?;
    if payload.client_id != client.id || payload.pool_id != client.pool_id {
        return Err(invalid());
    }
    if payload.exp <= app.clock.now_secs() {
        return Err(CognitoError::NotAuthorized(
            "Refresh Token has expired".into(),
        ));
    }
    let (meta, user) = {
        let store = app.store.read();
        let pool = store.pool(&payload.pool_id).map_err(|_| invalid())?;
        let user = pool
            .users
            .get(&pool.meta.user_key(&payload.username))
            .filter(|u| u.sub == payload.sub)
            .ok_or_else(invalid)?;
        if store.is_revoked(user, &payload.origin_jti) {
            return Err(CognitoError::NotAuthorized(
                "Refresh Token has been revoked".into(),
            ));
        }
        if !rotation::generation_valid(&store, &payload, app.clock.now_secs()) {
            return Err(invalid());
        }
        (pool.meta.clone(), user.clone())
    };
    if !user.enabled {
        return Err(CognitoError::NotAuthorized("User is disabled.".into()));
    }
    Ok((payload, meta, user))
}

async fn sign_out(app: &AppState, pool_id: &str, name: &str) -> Result<Value> {
    app.commit(|store, recs| {
        let pool = store.pool_mut(pool_id)?;
        let (key, user) = pool.user_mut(name)?;
        user.signed_out_ms = app.clock.now_ms().max(user.signed_out_ms + 1);
        recs.push(user_record(pool_id, &key, user));
        Ok(json!({}))
    })
    .await
}

pub async fn global_sign_out(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = verify_user_access(app, p.str("AccessToken")?)?;
    sign_out(app, &pool_id, &username).await
}

pub async fn admin_global_sign_out(app: &AppState, p: &Params) -> Result<Value> {
    sign_out(app, p.str("UserPoolId")?, p.str("Username")?).await
}

/// Revoke a refresh token's family. `client_secret` must match for secret clients.
pub async fn revoke(
    app: &AppState,
    client_id: &str,
    client_secret: Option<&str>,
    token: &str,
) -> Result<Value> {
    let client = {
        let store = app.store.read();
        store.client(client_id)?.1.clone()
    };
    if let Some(secret) = &client.secret
        && client_secret != Some(secret.as_str())
    {
        return Err(CognitoError::Unauthorized(
            "Client authentication failed.".into(),
        ));
    }
    if !client.enable_token_revocation {
        return Err(CognitoError::UnsupportedOperation(
            "Token revocation is not enabled for this client".into(),
        ));
    }
    let Some(payload) = open_refresh(app, token) else {
        if token.split('.').count() == 3 {
            return Err(CognitoError::UnsupportedTokenType(
                "Unsupported token type".into(),
            ));
        }
        // RFC 7009: an unknown token is not an error; there is nothing to revoke.
        return Ok(json!({}));
    };
    if payload.client_id != client.id {
        return Err(CognitoError::Unauthorized(
            "The token was not issued to this client.".into(),
        ));
    }
    app.commit(|store, recs| {
        store.revoke(&payload.origin_jti, payload.exp, app.clock.now_secs());
        recs.push(Record::Revoke {
            origin_jti: payload.origin_jti.clone(),
            exp: payload.exp,
        });
        Ok(json!({}))
    })
    .await
}

pub async fn revoke_token(app: &AppState, p: &Params) -> Result<Value> {
    revoke(
        app,
        p.str("ClientId")?,
        p.opt_str("ClientSecret"),
        p.str("Token")?,
    )
    .await
}
