//! The MFA step of sign-in: which challenge follows a proven password (`MFA_SETUP`,
//! `SELECT_MFA_TYPE`, `SMS_MFA`, `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`) and the answers to them in
//! `RespondToAuthChallenge` / `AdminRespondToAuthChallenge`. Works the same after SRP and after
//! a plain password, because both end in `auth::after_password`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{EMAIL, SMS, TOTP, pool_offers, totp};
use crate::app::{AppState, Session};
use crate::auth::{AuthParams, check_user_state, new_session_id, new_sign_in, password, required};
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};
use crate::triggers::message;
use crate::users::codes::{code_delivery, issue_code};
use crate::users::user_record;

/// Where an MFA session stands.
#[derive(Clone, Debug)]
pub enum Step {
    /// Waiting for a code; `code` is the one sent by SMS / e-mail (TOTP has none).
    Code {
        challenge: &'static str,
        code: Option<String>,
    },
    /// `SELECT_MFA_TYPE`: the factors the user may pick from.
    Select(Vec<&'static str>),
    /// `MFA_SETUP`: `verified` once `VerifySoftwareToken` accepted a code in this session.
    Setup { verified: bool },
}

/// Who a session belongs to, and how long its successors live.
#[derive(Clone, Debug)]
pub struct Owner {
    pub pool_id: String,
    pub client_id: String,
    pub user_key: String,
    pub ttl_minutes: i64,
}

pub fn new_session(app: &AppState, owner: &Owner, step: Step) -> Result<String> {
    let id = new_session_id()?;
    app.sessions.insert(
        id.clone(),
        Duration::from_secs(owner.ttl_minutes.max(1) as u64 * 60),
        Session::Mfa {
            owner: owner.clone(),
            step,
        },
    );
    Ok(id)
}

fn expired() -> CognitoError {
    CognitoError::NotAuthorized("Invalid session for the user, session is expired.".into())
}

/// A live MFA session (left in place: a wrong code may be retried).
pub fn peek(app: &AppState, session: Option<&str>) -> Result<(String, Owner, Step)> {
    let id = session.filter(|s| !s.is_empty()).ok_or_else(|| {
        CognitoError::InvalidParameter("Missing required parameter Session".into())
    })?;
    match app.sessions.peek(id) {
        Some(Session::Mfa { owner, step }) => Ok((id.to_owned(), owner, step)),
        _ => Err(expired()),
    }
}

pub fn load_user(app: &AppState, pool_id: &str, key: &str) -> Result<User> {
    let store = app.store.read();
    store
        .pool(pool_id)?
        .users
        .get(key)
        .cloned()
        .ok_or_else(CognitoError::user_not_found)
}

/// The challenge that follows a proven password, or `None` when tokens can be issued.
pub async fn begin(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    key: &str,
    user: &User,
) -> Result<Option<Value>> {
    if meta.mfa == "OFF" {
        return Ok(None);
    }
    let owner = Owner {
        pool_id: meta.id.clone(),
        client_id: client.id.clone(),
        user_key: key.to_owned(),
        ttl_minutes: client.auth_session_validity,
    };
    let factors: Vec<&'static str> = user
        .mfa
        .enabled()
        .into_iter()
        .filter(|f| pool_offers(meta, f))
        .collect();
    if factors.is_empty() {
        if meta.mfa != "ON" {
            return Ok(None);
        }
        // MFA required and nothing chosen: a phone number or e-mail address the pool can send
        // codes to is used as it is; otherwise the user must set a factor up.
        for (f, attr) in [(SMS, "phone_number"), (EMAIL, "email")] {
            if pool_offers(meta, f) && user.attributes.contains_key(attr) {
                return challenge(app, &owner, user, f).await.map(Some);
            }
        }
        let can: Vec<&str> = [SMS, TOTP, EMAIL]
            .into_iter()
            .filter(|f| pool_offers(meta, f))
            .collect();
        let session = new_session(app, &owner, Step::Setup { verified: false })?;
        return Ok(Some(json!({
            "ChallengeName": "MFA_SETUP",
            "Session": session,
            "ChallengeParameters": {
                "MFAS_CAN_SETUP": serde_json::to_string(&can).unwrap_or_default(),
                "USER_ID_FOR_SRP": user.username,
            },
        })));
    }
    let preferred = user
        .mfa
        .preferred
        .as_deref()
        .and_then(|p| factors.iter().copied().find(|f| *f == p));
    let single = (factors.len() == 1)
        .then(|| factors.first().copied())
        .flatten();
    match preferred.or(single) {
        Some(f) => challenge(app, &owner, user, f).await.map(Some),
        None => {
            let session = new_session(app, &owner, Step::Select(factors.clone()))?;
            Ok(Some(json!({
                "ChallengeName": "SELECT_MFA_TYPE",
                "Session": session,
                "ChallengeParameters": {
                    "MFAS_CAN_CHOOSE": serde_json::to_string(&factors).unwrap_or_default(),
                    "USER_ID_FOR_SRP": user.username,
                },
            })))
        }
    }
}

/// Ask for one factor's code; SMS and e-mail codes are issued (logged, at `/_fake/codes`).
async fn challenge(
    app: &AppState,
    owner: &Owner,
    user: &User,
    factor: &'static str,
) -> Result<Value> {
    let mut params = json!({"USER_ID_FOR_SRP": user.username});
    let code = if factor == TOTP {
        None
    } else {
        let (attr, kind) = if factor == SMS {
            ("phone_number", "sms_mfa")
        } else {
            ("email", "email_otp")
        };
        let (pool_id, key) = (owner.pool_id.clone(), owner.user_key.clone());
        let text = message::for_user(
            app,
            &pool_id,
            &user.username,
            "CustomMessage_Authentication",
            &owner.client_id,
        )
        .await?;
        let now = app.clock.now_f64();
        let code = app
            .commit(|store, recs| {
                let u = store
                    .pool_mut(&pool_id)?
                    .users
                    .get_mut(&key)
                    .ok_or_else(CognitoError::user_not_found)?;
                let code = issue_code(&pool_id, u, kind, Some(attr), now);
                message::attach(u, kind, text.as_ref());
                recs.push(user_record(&pool_id, &key, u));
                Ok(code)
            })
            .await?;
        let d = code_delivery(user, attr);
        params["CODE_DELIVERY_DELIVERY_MEDIUM"] = d["DeliveryMedium"].clone();
        params["CODE_DELIVERY_DESTINATION"] = d["Destination"].clone();
        Some(code)
    };
    let step = Step::Code {
        challenge: factor,
        code,
    };
    let session = new_session(app, owner, step)?;
    Ok(json!({"ChallengeName": factor, "Session": session, "ChallengeParameters": params}))
}

/// Accept a TOTP code for a user's verified authenticator, once.
async fn accept_totp(app: &AppState, owner: &Owner, given: &str) -> Result<()> {
    let now = app.clock.now_secs();
    let (pool_id, key) = (owner.pool_id.clone(), owner.user_key.clone());
    app.commit(|store, recs| {
        let u = store
            .pool_mut(&pool_id)?
            .users
            .get_mut(&key)
            .ok_or_else(CognitoError::user_not_found)?;
        let secret = u.mfa.secret.as_deref().ok_or_else(|| {
            CognitoError::SoftwareTokenMfaNotFound(
                "Software Token MFA does not exist for the user.".into(),
            )
        })?;
        let step = totp::matching_step(secret, given, now)
            .ok_or_else(|| CognitoError::CodeMismatch("Invalid code received for user".into()))?;
        if step <= u.mfa.last_step {
            return Err(CognitoError::CodeMismatch(
                "Your software token has already been used once.".into(),
            ));
        }
        u.mfa.last_step = step;
        recs.push(user_record(&pool_id, &key, u));
        Ok(())
    })
    .await
}

fn code_field(challenge: &str) -> &'static str {
    match challenge {
        SMS => "SMS_MFA_CODE",
        TOTP => "SOFTWARE_TOKEN_MFA_CODE",
        _ => "EMAIL_OTP_CODE",
    }
}

/// Answer an MFA challenge: the next challenge, or tokens.
pub async fn respond(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    name: &str,
    session: Option<&str>,
    r: &AuthParams,
) -> Result<Value> {
    let (id, owner, step) = peek(app, session)?;
    let username = required(r, "USERNAME")?;
    if owner.pool_id != meta.id || owner.client_id != client.id {
        return Err(expired());
    }
    let user = load_user(app, &owner.pool_id, &owner.user_key)?;
    password::check_secret_hash(
        client,
        r.get("SECRET_HASH").map(String::as_str),
        &[username, &user.username],
    )?;
    let expected = match &step {
        Step::Code { challenge, .. } => challenge,
        Step::Select(_) => "SELECT_MFA_TYPE",
        Step::Setup { .. } => "MFA_SETUP",
    };
    if name != expected {
        return Err(CognitoError::InvalidParameter(format!(
            "Invalid challenge name {name} for this session, expected {expected}"
        )));
    }
    match step {
        Step::Code { challenge, code } => {
            let given = required(r, code_field(challenge))?;
            if challenge == TOTP {
                accept_totp(app, &owner, given).await?;
            } else if code.as_deref() != Some(given) {
                return Err(CognitoError::CodeMismatch(
                    "Invalid code or auth state for the user.".into(),
                ));
            }
        }
        Step::Select(options) => {
            let answer = required(r, "ANSWER")?;
            let f = options
                .iter()
                .copied()
                .find(|o| *o == answer)
                .ok_or_else(|| {
                    CognitoError::InvalidParameter(format!(
                        "Invalid ANSWER {answer}: expected one of {options:?}"
                    ))
                })?;
            app.sessions.take(&id).ok_or_else(expired)?;
            return challenge(app, &owner, &user, f).await;
        }
        Step::Setup { verified } => {
            if !verified {
                return Err(CognitoError::NotAuthorized(
                    "Invalid session: software token MFA was not verified in this session.".into(),
                ));
            }
        }
    }
    // Single use from here: the answer was right.
    app.sessions.take(&id).ok_or_else(expired)?;
    let user = load_user(app, &owner.pool_id, &owner.user_key)?;
    check_user_state(&user)?;
    let result = new_sign_in(app, meta, client, &user).await?;
    Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
}
