//! `AssociateSoftwareToken` and `VerifySoftwareToken`: hand a user a TOTP secret and prove an
//! authenticator holds it, either signed in (`AccessToken`) or inside an `MFA_SETUP` sign-in
//! (`Session`, which each call replaces with a new one).

use serde_json::{Value, json};

use super::challenge::{self, Owner, Step};
use super::{TOTP, totp};
use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::params::Params;
use crate::tokens::verify_user_access;
use crate::users::user_record;

/// Whom a call is about: a signed-in user, or the user of an `MFA_SETUP` session.
enum Caller {
    Token { pool_id: String, username: String },
    Setup { id: String, owner: Owner },
}

fn caller(app: &AppState, p: &Params) -> Result<Caller> {
    if let Some(token) = p.opt_str("AccessToken").filter(|s| !s.is_empty()) {
        let (pool_id, username) = verify_user_access(app, token)?;
        return Ok(Caller::Token { pool_id, username });
    }
    if p.opt_str("Session").is_none_or(str::is_empty) {
        return Err(CognitoError::InvalidParameter(
            "Either AccessToken or Session must be provided.".into(),
        ));
    }
    match challenge::peek(app, p.opt_str("Session"))? {
        (id, owner, Step::Setup { .. }) => Ok(Caller::Setup { id, owner }),
        _ => Err(CognitoError::NotAuthorized(
            "Invalid session for the user.".into(),
        )),
    }
}

/// Change one user (by name for a token caller, by key for a session) and journal it.
async fn with_user<T>(
    app: &AppState,
    who: &Caller,
    f: impl FnOnce(&mut crate::model::User) -> Result<T>,
) -> Result<T> {
    let now = app.clock.now_f64();
    app.commit(|store, recs| {
        let (pool_id, key, user) = match who {
            Caller::Token { pool_id, username } => {
                let (key, user) = store.pool_mut(pool_id)?.user_mut(username)?;
                (pool_id, key, user)
            }
            Caller::Setup { owner, .. } => {
                let user = store
                    .pool_mut(&owner.pool_id)?
                    .users
                    .get_mut(&owner.user_key)
                    .ok_or_else(CognitoError::user_not_found)?;
                (&owner.pool_id, owner.user_key.clone(), user)
            }
        };
        let out = f(user)?;
        user.modified = now;
        recs.push(user_record(pool_id, &key, user));
        Ok(out)
    })
    .await
}

/// Replace an `MFA_SETUP` session with its successor.
fn next_session(app: &AppState, who: &Caller, verified: bool) -> Result<Option<String>> {
    let Caller::Setup { id, owner, .. } = who else {
        return Ok(None);
    };
    if app.sessions.take(id).is_none() {
        return Err(CognitoError::NotAuthorized(
            "Invalid session for the user, session is expired.".into(),
        ));
    }
    challenge::new_session(app, owner, Step::Setup { verified }).map(Some)
}

pub async fn associate(app: &AppState, p: &Params) -> Result<Value> {
    let who = caller(app, p)?;
    let secret = totp::new_secret()?;
    let pending = secret.clone();
    with_user(app, &who, move |u| {
        u.mfa.pending_secret = Some(pending);
        Ok(())
    })
    .await?;
    let mut out = json!({ "SecretCode": secret });
    if let Some(s) = next_session(app, &who, false)? {
        out["Session"] = Value::from(s);
    }
    Ok(out)
}

pub async fn verify(app: &AppState, p: &Params) -> Result<Value> {
    let code = p.str("UserCode")?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value at 'userCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+; Member must have length less than or equal to 6".into(),
        ));
    }
    let who = caller(app, p)?;
    let setup = matches!(who, Caller::Setup { .. });
    let now = app.clock.now_secs();
    with_user(app, &who, |u| {
        let pending = u.mfa.pending_secret.clone().ok_or_else(|| {
            CognitoError::SoftwareTokenMfaNotFound(
                "Software Token MFA has not been associated with the user. Call AssociateSoftwareToken first.".into(),
            )
        })?;
        let step = totp::matching_step(&pending, code, now)
            .ok_or_else(|| CognitoError::EnableSoftwareTokenMfa(
                "Code mismatch and fail enable Software Token MFA".into(),
            ))?;
        u.mfa.secret = Some(pending);
        u.mfa.pending_secret = None;
        u.mfa.last_step = step;
        // Signed in, verifying only marks the token verified (SetUserMFAPreference turns it on);
        // in MFA_SETUP it becomes the user's MFA, as on AWS.
        if setup {
            u.mfa.totp_enabled = true;
            u.mfa.preferred.get_or_insert_with(|| TOTP.to_owned());
        }
        Ok(())
    })
    .await?;
    let mut out = json!({ "Status": "SUCCESS" });
    if let Some(s) = next_session(app, &who, true)? {
        out["Session"] = Value::from(s);
    }
    Ok(out)
}
