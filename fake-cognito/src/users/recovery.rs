//! Account recovery: where a password-reset code may go. The pool's `AccountRecoverySetting`
//! lists `verified_email` / `verified_phone_number` by `Priority` (1 first), or is `admin_only`;
//! without it Cognito's legacy order applies (a verified phone before a verified email). Only a
//! *verified* channel qualifies: an unverified email gets no code.

use serde_json::Value;

use crate::error::{CognitoError, Result};
use crate::model::{PoolMeta, User};

/// Where a reset code goes for one user.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Only an administrator may reset passwords in this pool.
    AdminOnly,
    /// A verified attribute: `email` or `phone_number`.
    Channel(&'static str),
    /// The user has no verified channel the pool allows.
    NoChannel,
}

/// The pool's mechanisms by priority (legacy order when unset).
fn mechanisms(meta: &PoolMeta) -> Vec<String> {
    let listed = meta
        .extra
        .get("AccountRecoverySetting")
        .and_then(|s| s.get("RecoveryMechanisms"))
        .and_then(Value::as_array);
    let Some(listed) = listed.filter(|l| !l.is_empty()) else {
        return vec!["verified_phone_number".into(), "verified_email".into()];
    };
    let mut ranked: Vec<(i64, String)> = listed
        .iter()
        .filter_map(|m| {
            let name = m.get("Name").and_then(Value::as_str)?;
            let priority = m
                .get("Priority")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX);
            Some((priority, name.to_owned()))
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, n)| n).collect()
}

fn verified(user: &User, attribute: &str) -> bool {
    user.attributes.contains_key(attribute)
        && user
            .attributes
            .get(&format!("{attribute}_verified"))
            .is_some_and(|v| v == "true")
}

/// Where `user`'s reset code goes in this pool.
pub fn target(meta: &PoolMeta, user: &User) -> Recovery {
    let mechanisms = mechanisms(meta);
    if mechanisms.iter().any(|m| m == "admin_only") {
        return Recovery::AdminOnly;
    }
    mechanisms
        .iter()
        .find_map(|m| match m.as_str() {
            "verified_email" if verified(user, "email") => Some("email"),
            "verified_phone_number" if verified(user, "phone_number") => Some("phone_number"),
            _ => None,
        })
        .map_or(Recovery::NoChannel, Recovery::Channel)
}

pub fn no_channel() -> CognitoError {
    CognitoError::InvalidParameter(
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
            .into(),
    )
}

/// Who may ask for a reset: enabled users whose password is their own (not a temporary one an
/// administrator set, which the user must change at sign-in instead).
pub fn check_user(user: &User) -> Result<()> {
    if !user.enabled {
        return Err(CognitoError::NotAuthorized("User is disabled.".into()));
    }
    if user.status == "FORCE_CHANGE_PASSWORD" {
        return Err(CognitoError::NotAuthorized(
            "User password cannot be reset in the current state.".into(),
        ));
    }
    Ok(())
}

/// The self-service path (`ForgotPassword`): the channel, or why there is none.
pub fn self_service(meta: &PoolMeta, user: &User) -> Result<&'static str> {
    check_user(user)?;
    match target(meta, user) {
        Recovery::Channel(a) => Ok(a),
        Recovery::NoChannel => Err(no_channel()),
        Recovery::AdminOnly => Err(CognitoError::NotAuthorized(
            "ForgotPassword is not permitted for this user pool: account recovery is admin_only."
                .into(),
        )),
    }
}
