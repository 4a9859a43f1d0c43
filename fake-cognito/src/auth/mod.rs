//! Sign-in: `InitiateAuth` / `AdminInitiateAuth` and what follows a correct password. The order of
//! checks follows what clients observe on AWS (unknown client, flow not enabled, SECRET_HASH, user
//! lookup honouring PreventUserExistenceErrors, disabled, unconfirmed, password, reset required,
//! NEW_PASSWORD_REQUIRED, tokens).
//!
//! Hot path: the store lock is held only to clone the user; password hashing and RSA signing run
//! outside it, and a login writes nothing to disk (the refresh token is sealed and self-contained).

pub mod challenges;
pub mod password;
pub mod refresh;
pub mod rotation;
pub mod srp;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::app::{AppState, Session};
use crate::clients;
use crate::error::{CognitoError, Result};
use crate::ids::uuid_at_ms;
use crate::model::{Client, PoolMeta, User};
use crate::params::Params;
use crate::tokens::{self, RefreshPayload};
use crate::triggers::token as token_trigger;

pub type AuthParams = BTreeMap<String, String>;

/// Pool and client for a call that names a client (and, for admin calls, the pool).
pub fn pool_and_client(
    app: &AppState,
    client_id: &str,
    pool_id: Option<&str>,
) -> Result<(PoolMeta, Client)> {
    let store = app.store.read();
    let (pool, client) = match pool_id {
        Some(pid) => {
            let pool = store.pool(pid)?;
            (pool, pool.client(client_id)?)
        }
        None => store.client(client_id)?,
    };
    Ok((pool.meta.clone(), client.clone()))
}

pub fn required<'a>(params: &'a AuthParams, name: &str) -> Result<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CognitoError::missing(name))
}

/// Look a user up for sign-in (by username, alias or sub).
pub fn find_user(app: &AppState, meta: &PoolMeta, name: &str) -> Result<Option<(String, User)>> {
    let store = app.store.read();
    let pool = store.pool(&meta.id)?;
    Ok(pool
        .find_user_key(name)
        .and_then(|k| pool.users.get(&k).map(|u| (k, u.clone()))))
}

/// The user an initiate-auth call names (`USERNAME`, maybe absent), once its SECRET_HASH checks out
/// against the name sent or the user's internal name.
pub fn login_user<'p>(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    params: &'p AuthParams,
) -> Result<(&'p str, Option<(String, User)>)> {
    let username = required(params, "USERNAME")?;
    let found = find_user(app, meta, username)?;
    let internal = found.as_ref().map(|(_, u)| u.username.as_str());
    password::check_secret_hash(
        client,
        params.get("SECRET_HASH").map(String::as_str),
        &[username, internal.unwrap_or(username)],
    )?;
    Ok((username, found))
}

pub fn missing_user_error(client: &Client) -> CognitoError {
    if client.prevents_user_existence_errors() {
        CognitoError::bad_credentials()
    } else {
        CognitoError::user_not_found()
    }
}

/// Checks before the password: disabled, unconfirmed.
pub fn check_user_state(user: &User) -> Result<()> {
    if !user.enabled {
        return Err(CognitoError::NotAuthorized("User is disabled.".into()));
    }
    if user.status == "UNCONFIRMED" {
        return Err(CognitoError::UserNotConfirmed(
            "User is not confirmed.".into(),
        ));
    }
    Ok(())
}

pub async fn initiate_auth(app: &AppState, p: &Params, admin: bool) -> Result<Value> {
    let flow = p.str("AuthFlow")?;
    let client_id = p.str("ClientId")?;
    let pool_id = if admin {
        Some(p.str("UserPoolId")?)
    } else {
        None
    };
    let params = p.string_map("AuthParameters");
    let (meta, client) = pool_and_client(app, client_id, pool_id)?;
    let valid = match flow {
        "USER_PASSWORD_AUTH" => !admin,
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => admin,
        "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" | "CUSTOM_AUTH" => true,
        "USER_AUTH" => {
            return Err(CognitoError::InvalidParameter(format!(
                "{flow} is not supported by fake-cognito"
            )));
        }
        _ => false,
    };
    if !valid {
        return Err(CognitoError::InvalidParameter(
            "Initiate Auth method not supported.".into(),
        ));
    }
    if !clients::allows(&client, flow) {
        return Err(CognitoError::InvalidParameter(format!(
            "{flow} flow not enabled for this client"
        )));
    }
    match flow {
        "USER_SRP_AUTH" => challenges::start_srp(app, &meta, &client, &params).await,
        "CUSTOM_AUTH" => crate::triggers::custom_auth::start(app, &meta, &client, &params).await,
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            // AWS: with rotation enabled, refresh only through GetTokensFromRefreshToken.
            if rotation::is_enabled(&client.refresh_token_rotation) {
                return Err(CognitoError::NotAuthorized(
                    "Refresh token rotation is enabled for this client; use GetTokensFromRefreshToken."
                        .into(),
                ));
            }
            let token = required(&params, "REFRESH_TOKEN")?;
            let result = refresh::refresh_user_tokens(app, &client, token, Some(&params)).await?;
            Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
        }
        _ => password_login(app, &meta, &client, &params).await,
    }
}

async fn password_login(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    params: &AuthParams,
) -> Result<Value> {
    // The order of Cognito's "missing parameter" answers: USERNAME, then PASSWORD.
    required(params, "USERNAME")?;
    let pw = required(params, "PASSWORD")?;
    let (username, found) = login_user(app, meta, client, params)?;
    let (key, user) = match found {
        Some(found) => found,
        None => {
            // An unknown user may live in the team's old directory: the UserMigration trigger.
            let migrated =
                crate::triggers::migration::on_sign_in(app, meta, client, username, pw).await?;
            migrated.ok_or_else(|| missing_user_error(client))?
        }
    };
    check_user_state(&user)?;
    crate::triggers::authentication::pre_authentication(app, meta, client, &user).await?;
    let ok = user
        .password
        .as_ref()
        .is_some_and(|h| password::verify(h, pw));
    if !ok {
        return Err(CognitoError::bad_credentials());
    }
    after_password(app, meta, client, &key, &user).await
}

/// Everything after a proven password: reset required, NEW_PASSWORD_REQUIRED, an MFA
/// challenge, or tokens.
pub async fn after_password(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    key: &str,
    user: &User,
) -> Result<Value> {
    after_password_from(app, meta, client, key, user, token_trigger::AUTHENTICATION).await
}

/// [`after_password`] naming how the tokens come about (PreTokenGeneration's trigger source).
pub async fn after_password_from(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    key: &str,
    user: &User,
    source: &str,
) -> Result<Value> {
    match user.status.as_str() {
        "RESET_REQUIRED" => Err(CognitoError::PasswordResetRequired(
            "Password reset required for the user".into(),
        )),
        "FORCE_CHANGE_PASSWORD" => {
            let session = new_session_id()?;
            app.sessions.insert(
                session.clone(),
                Duration::from_secs(client.auth_session_validity as u64 * 60),
                Session::NewPassword {
                    pool_id: meta.id.clone(),
                    client_id: client.id.clone(),
                    user_key: key.to_owned(),
                },
            );
            let attrs: BTreeMap<&String, &String> = user
                .attributes
                .iter()
                .filter(|(k, _)| k.as_str() != "sub")
                .collect();
            let missing: Vec<String> = meta
                .required_attributes()
                .into_iter()
                .filter(|a| !user.attributes.contains_key(a))
                .map(|a| format!("userAttributes.{a}"))
                .collect();
            Ok(json!({
                "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": session,
                "ChallengeParameters": {
                    "USER_ID_FOR_SRP": user.username,
                    "requiredAttributes": serde_json::to_string(&missing).unwrap_or_default(),
                    "userAttributes": serde_json::to_string(&attrs).unwrap_or_default(),
                },
            }))
        }
        _ => {
            if let Some(challenge) =
                crate::mfa::challenge::begin(app, meta, client, key, user).await?
            {
                return Ok(challenge);
            }
            let result = new_sign_in_from(app, meta, client, user, source).await?;
            Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
        }
    }
}

tokio::task_local! {
    /// Set while the hosted UI answers a sign-in step: the chain's last step names the user
    /// ([`HOSTED_USER`]) instead of minting tokens, because the hosted UI mints them once, at its
    /// token endpoint or implicit redirect, and runs PostAuthentication and PreTokenGeneration
    /// there; minting here too fired both triggers twice.
    static MINT_LATER: ();
}

/// Where a step run by [`for_hosted_ui`] names the signed-in user in its `AuthenticationResult`.
pub const HOSTED_USER: &str = "HostedUiUser";

/// Run a sign-in step for the hosted UI (see `MINT_LATER`).
pub async fn for_hosted_ui<F: std::future::Future>(step: F) -> F::Output {
    MINT_LATER.scope((), step).await
}

/// Tokens for a fresh sign-in (a new refresh-token family), after the PostAuthentication and
/// PreTokenGeneration triggers.
pub async fn new_sign_in(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
) -> Result<Value> {
    new_sign_in_from(app, meta, client, user, token_trigger::AUTHENTICATION).await
}

/// [`new_sign_in`] with PreTokenGeneration's trigger source (`TokenGeneration_HostedAuth` for
/// the hosted UI, `TokenGeneration_NewPasswordChallenge` after NEW_PASSWORD_REQUIRED).
pub async fn new_sign_in_from(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
    source: &str,
) -> Result<Value> {
    if MINT_LATER.try_with(|_| ()).is_ok() {
        return Ok(json!({ HOSTED_USER: user.username }));
    }
    crate::triggers::authentication::post_authentication(app, meta, client, user).await?;
    let session = sign_in_session(app, client, user);
    tokens::issue_user_tokens(app, meta, client, user, &session, true, source).await
}

/// A new refresh-token family for `user` (the hosted UI adds its scopes and nonce to it).
pub fn sign_in_session(app: &AppState, client: &Client, user: &User) -> RefreshPayload {
    // The family id carries its start time; keep it after any earlier global sign-out so a
    // sign-in in the same millisecond is not revoked by it.
    let now_ms = app.clock.now_ms();
    let start = now_ms.max(user.signed_out_ms + 1);
    RefreshPayload {
        pool_id: client.pool_id.clone(),
        client_id: client.id.clone(),
        username: user.username.clone(),
        sub: user.sub.clone(),
        origin_jti: uuid_at_ms(start),
        auth_time: now_ms.div_euclid(1000),
        exp: now_ms.div_euclid(1000) + client.refresh_ttl(),
        generation: 0,
        scope: None,
        nonce: None,
    }
}

pub fn new_session_id() -> Result<String> {
    let mut b = [0u8; 96];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut b)
        .map_err(|_| CognitoError::Internal("no randomness".into()))?;
    Ok(STANDARD.encode(b))
}
