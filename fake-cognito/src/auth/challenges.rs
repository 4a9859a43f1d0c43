//! Challenges: starting SRP (`USER_SRP_AUTH` → `PASSWORD_VERIFIER`) and answering
//! `RespondToAuthChallenge` for `PASSWORD_VERIFIER` and `NEW_PASSWORD_REQUIRED`. Challenge state
//! lives in the bounded session map; SRP state is keyed by the SECRET_BLOCK because pycognito
//! does not send a Session back.

use std::time::Duration;

use serde_json::{Value, json};

use super::{AuthParams, after_password, login_user, missing_user_error, required};
use crate::app::{AppState, Session};
use crate::auth::{password, srp};
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta};
use crate::params::Params;
use crate::users::{NewPassword, check_attributes, user_record};

pub async fn start_srp(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    params: &AuthParams,
) -> Result<Value> {
    // The order of Cognito's "missing parameter" answers: USERNAME, then SRP_A.
    required(params, "USERNAME")?;
    let srp_a = required(params, "SRP_A")?;
    let (username, found) = login_user(app, meta, client, params)?;
    let pool_name = meta.srp_pool_name();
    let (user_key, session) = match &found {
        Some((key, user)) => {
            super::check_user_state(user)?;
            crate::triggers::authentication::pre_authentication(app, meta, client, user).await?;
            let verifier = user
                .srp
                .as_ref()
                .ok_or_else(CognitoError::bad_credentials)?;
            (
                Some(key.clone()),
                srp::start(verifier, srp_a, &user.username, pool_name)?,
            )
        }
        None if client.prevents_user_existence_errors() => (None, srp::decoy(username, pool_name)?),
        None => return Err(missing_user_error(client)),
    };
    let out = json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": session.salt_hex,
            "SECRET_BLOCK": session.secret_block_b64(),
            "SRP_B": session.srp_b_hex(),
            "USERNAME": session.user_id_for_srp,
            "USER_ID_FOR_SRP": session.user_id_for_srp,
        },
    });
    app.sessions.insert(
        session.secret_block_b64(),
        Duration::from_secs(client.auth_session_validity as u64 * 60),
        Session::Srp {
            pool_id: meta.id.clone(),
            client_id: client.id.clone(),
            user_key,
            srp: session,
        },
    );
    Ok(out)
}

pub async fn respond(app: &AppState, p: &Params) -> Result<Value> {
    let client_id = p.str("ClientId")?;
    let challenge = p.str("ChallengeName")?;
    let responses = p.string_map("ChallengeResponses");
    let (meta, client) = super::pool_and_client(app, client_id, p.opt_str("UserPoolId"))?;
    match challenge {
        "PASSWORD_VERIFIER" => password_verifier(app, &meta, &client, &responses).await,
        "SMS_MFA" | "SOFTWARE_TOKEN_MFA" | "EMAIL_OTP" | "SELECT_MFA_TYPE" | "MFA_SETUP" => {
            crate::mfa::challenge::respond(
                app,
                &meta,
                &client,
                challenge,
                p.opt_str("Session"),
                &responses,
            )
            .await
        }
        "NEW_PASSWORD_REQUIRED" => {
            new_password(app, &meta, &client, p.opt_str("Session"), &responses).await
        }
        "CUSTOM_CHALLENGE" => {
            crate::triggers::custom_auth::respond(
                app,
                &meta,
                &client,
                p.opt_str("Session"),
                &responses,
            )
            .await
        }
        other => Err(CognitoError::InvalidParameter(format!(
            "Challenge {other} is not supported by fake-cognito"
        ))),
    }
}

async fn password_verifier(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    r: &AuthParams,
) -> Result<Value> {
    let username = required(r, "USERNAME")?;
    let block = required(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let signature = required(r, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = required(r, "TIMESTAMP")?;
    let Some(Session::Srp {
        pool_id,
        client_id,
        user_key,
        srp: session,
    }) = app.sessions.take(block)
    else {
        return Err(CognitoError::NotAuthorized(
            "Invalid session for the user, session is expired.".into(),
        ));
    };
    if pool_id != meta.id || client_id != client.id {
        return Err(CognitoError::NotAuthorized(
            "Invalid session for the user.".into(),
        ));
    }
    password::check_secret_hash(
        client,
        r.get("SECRET_HASH").map(String::as_str),
        &[username, &session.user_id_for_srp],
    )?;
    if !srp::timestamp_ok(timestamp) {
        return Err(CognitoError::InvalidParameter(
            "TIMESTAMP format is invalid (expected EEE MMM d HH:mm:ss UTC yyyy).".into(),
        ));
    }
    let Some(user_key) = user_key else {
        return Err(CognitoError::bad_credentials());
    };
    if !srp::verify_claim(&session, timestamp, signature) {
        return Err(CognitoError::bad_credentials());
    }
    let user = {
        let store = app.store.read();
        store
            .pool(&meta.id)?
            .users
            .get(&user_key)
            .cloned()
            .ok_or_else(CognitoError::bad_credentials)?
    };
    super::check_user_state(&user)?;
    after_password(app, meta, client, &user_key, &user).await
}

async fn new_password(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    session: Option<&str>,
    r: &AuthParams,
) -> Result<Value> {
    let expired =
        || CognitoError::NotAuthorized("Invalid session for the user, session is expired.".into());
    let session = session.filter(|s| !s.is_empty()).ok_or_else(|| {
        CognitoError::InvalidParameter("Missing required parameter Session".into())
    })?;
    let new_pw = required(r, "NEW_PASSWORD")?;
    let username = required(r, "USERNAME")?;
    let Some(Session::NewPassword {
        pool_id,
        client_id,
        user_key,
    }) = app.sessions.peek(session)
    else {
        return Err(expired());
    };
    if pool_id != meta.id || client_id != client.id {
        return Err(expired());
    }
    let internal = {
        let store = app.store.read();
        let pool = store.pool(&pool_id)?;
        pool.users
            .get(&user_key)
            .map(|u| u.username.clone())
            .ok_or_else(CognitoError::user_not_found)?
    };
    password::check_secret_hash(
        client,
        r.get("SECRET_HASH").map(String::as_str),
        &[username, &internal],
    )?;
    password::check_policy(&meta.policy, new_pw)?;
    let attrs: Vec<(String, String)> = r
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("userAttributes.")
                .map(|n| (n.to_owned(), v.clone()))
        })
        .collect();
    check_attributes(meta, &attrs)?;
    let secret = NewPassword::compute(meta.srp_pool_name(), &internal, new_pw)?;
    // Single use: consumed only once the answer is acceptable (a rejected password can be retried).
    if app.sessions.take(session).is_none() {
        return Err(expired());
    }
    let user = app
        .commit(|store, recs| {
            let pool = store.pool_mut(&pool_id)?;
            let required_attrs = pool.meta.required_attributes();
            let user = pool
                .users
                .get_mut(&user_key)
                .ok_or_else(CognitoError::user_not_found)?;
            if let Some(missing) = required_attrs
                .iter()
                .find(|a| !user.attributes.contains_key(*a) && !attrs.iter().any(|(k, _)| k == *a))
            {
                return Err(CognitoError::InvalidParameter(format!(
                    "Invalid attributes given, {missing} is missing"
                )));
            }
            for (k, v) in &attrs {
                user.attributes.insert(k.clone(), v.clone());
            }
            secret.apply(user);
            user.status = "CONFIRMED".into();
            user.modified = app.clock.now_f64();
            recs.push(user_record(&pool_id, &user_key, user));
            Ok(user.clone())
        })
        .await?;
    let source = crate::triggers::token::NEW_PASSWORD;
    super::after_password_from(app, meta, client, &user_key, &user, source).await
}
