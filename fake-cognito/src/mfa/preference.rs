//! `SetUserMFAPreference` / `AdminSetUserMFAPreference`: which factors a user turned on and
//! which one is preferred (asked for first when several are on).

use serde_json::{Value, json};

use super::{EMAIL, SMS, TOTP, UserMfa};
use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::User;
use crate::params::Params;
use crate::tokens::verify_user_access;
use crate::users::user_record;

const MEMBERS: [(&str, &str); 3] = [
    (SMS, "SMSMfaSettings"),
    (TOTP, "SoftwareTokenMfaSettings"),
    (EMAIL, "EmailMfaSettings"),
];

fn flag<'a>(m: &'a mut UserMfa, factor: &str) -> &'a mut bool {
    match factor {
        SMS => &mut m.sms_enabled,
        TOTP => &mut m.totp_enabled,
        _ => &mut m.email_enabled,
    }
}

/// What a factor needs before it can be turned on.
fn check_prerequisite(user: &User, factor: &str) -> Result<()> {
    let ok = match factor {
        SMS => user.attributes.contains_key("phone_number"),
        TOTP => user.mfa.secret.is_some(),
        _ => user.attributes.contains_key("email"),
    };
    if ok {
        return Ok(());
    }
    Err(CognitoError::InvalidParameter(if factor == TOTP {
        "User has not verified software token mfa".into()
    } else {
        format!("User does not have delivery config set to turn on {factor}")
    }))
}

fn apply(user: &mut User, settings: &[(&'static str, Value)]) -> Result<()> {
    let mut m = user.mfa.clone();
    for (factor, s) in settings {
        let enabled = s.get("Enabled").and_then(Value::as_bool);
        let preferred = s.get("PreferredMfa").and_then(Value::as_bool);
        // Both members default to false (smithy `@default(false)`: the AWS SDKs omit a false
        // boolean, so `{}` means "off"); preferring a factor without `Enabled` turns it on.
        let on = enabled.unwrap_or(preferred == Some(true));
        if on {
            check_prerequisite(user, factor)?;
        }
        *flag(&mut m, factor) = on;
        if preferred == Some(true) {
            if enabled == Some(false) {
                return Err(CognitoError::InvalidParameter(format!(
                    "{factor} cannot be preferred while it is not enabled"
                )));
            }
            m.preferred = Some((*factor).to_owned());
        } else if preferred == Some(false) && m.preferred.as_deref() == Some(factor) {
            m.preferred = None;
        }
    }
    if let Some(p) = m.preferred.clone()
        && !m.enabled().contains(&p.as_str())
    {
        m.preferred = None;
    }
    user.mfa = m;
    Ok(())
}

async fn set(app: &AppState, pool_id: &str, name: &str, p: &Params) -> Result<Value> {
    let settings: Vec<(&'static str, Value)> = MEMBERS
        .iter()
        .filter_map(|(f, member)| p.get(member).map(|v| (*f, v.clone())))
        .collect();
    let now = app.clock.now_f64();
    app.commit(|store, recs| {
        let (key, user) = store.pool_mut(pool_id)?.user_mut(name)?;
        apply(user, &settings)?;
        user.modified = now;
        recs.push(user_record(pool_id, &key, user));
        Ok(json!({}))
    })
    .await
}

pub async fn set_own(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = verify_user_access(app, p.str("AccessToken")?)?;
    set(app, &pool_id, &username, p).await
}

pub async fn admin_set(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let username = p.str("Username")?.to_owned();
    set(app, &pool_id, &username, p).await
}
