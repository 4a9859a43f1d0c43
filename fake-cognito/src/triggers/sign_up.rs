//! PreSignUp (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`) and PostConfirmation
//! (`PostConfirmation_ConfirmSignUp`, `PostConfirmation_ConfirmForgotPassword`).
//!
//! PreSignUp runs before the user exists; its `autoConfirmUser` / `autoVerifyEmail` /
//! `autoVerifyPhone` decide the new user's status and verified attributes. PostConfirmation runs
//! after the confirmation is stored: as on AWS, a failing function makes the call fail while the
//! user stays confirmed.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Trigger, config, event, flag, run};
use crate::app::App;
use crate::error::{CognitoError, Result};
use crate::model::{PoolMeta, User};

/// What a PreSignUp response decided.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SignUpDecision {
    pub auto_confirm: bool,
    pub verify_email: bool,
    pub verify_phone: bool,
}

impl SignUpDecision {
    /// Mark the attributes the function verified (only those the user has).
    pub fn apply_verified(&self, attributes: &mut BTreeMap<String, String>) {
        for (on, attr) in [
            (self.verify_email, "email"),
            (self.verify_phone, "phone_number"),
        ] {
            if on && attributes.contains_key(attr) {
                attributes.insert(format!("{attr}_verified"), "true".into());
            }
        }
    }
}

/// The new user as PreSignUp sees it.
pub struct NewUser<'a> {
    pub user_name: &'a str,
    pub client_id: &'a str,
    pub attributes: &'a BTreeMap<String, String>,
    pub validation_data: &'a [(String, String)],
}

/// Run PreSignUp for a new user (`admin` picks `PreSignUp_AdminCreateUser`).
pub async fn pre_sign_up(
    app: &App,
    meta: &PoolMeta,
    new: &NewUser<'_>,
    admin: bool,
) -> Result<SignUpDecision> {
    if config::arn(meta, Trigger::PreSignUp).is_none() {
        return Ok(SignUpDecision::default());
    }
    let attrs: serde_json::Map<String, Value> = new
        .attributes
        .iter()
        .filter(|(k, _)| k.as_str() != "sub")
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let validation = if new.validation_data.is_empty() {
        Value::Null
    } else {
        event::attribute_list_map(new.validation_data)
    };
    let mut request = json!({"userAttributes": attrs, "validationData": validation});
    if let Some(m) = event::client_metadata() {
        request["clientMetadata"] = m;
    }
    let source = if admin {
        "PreSignUp_AdminCreateUser"
    } else {
        "PreSignUp_SignUp"
    };
    let ev = event::envelope(
        meta,
        source,
        Some(new.user_name),
        new.client_id,
        request,
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
    );
    let Some(answer) = run(app, meta, Trigger::PreSignUp, &ev).await? else {
        return Ok(SignUpDecision::default());
    };
    let response = super::response(&answer);
    let decision = SignUpDecision {
        auto_confirm: flag(response, "autoConfirmUser")?,
        verify_email: flag(response, "autoVerifyEmail")?,
        verify_phone: flag(response, "autoVerifyPhone")?,
    };
    // AWS: verifying an attribute the user does not have is an error, not a no-op.
    for (on, attr) in [
        (decision.verify_email, "email"),
        (decision.verify_phone, "phone_number"),
    ] {
        if on && !new.attributes.contains_key(attr) {
            return Err(CognitoError::InvalidParameter(format!(
                "PreSignUp auto-verified {attr}, but the user has no {attr}."
            )));
        }
    }
    Ok(decision)
}

/// Run PostConfirmation for a user just confirmed (`forgot_password` picks
/// `PostConfirmation_ConfirmForgotPassword`).
pub async fn post_confirmation(
    app: &App,
    meta: &PoolMeta,
    client_id: &str,
    user: &User,
    forgot_password: bool,
) -> Result<()> {
    if config::arn(meta, Trigger::PostConfirmation).is_none() {
        return Ok(());
    }
    let source = if forgot_password {
        "PostConfirmation_ConfirmForgotPassword"
    } else {
        "PostConfirmation_ConfirmSignUp"
    };
    let request = json!({
        "userAttributes": event::user_attributes(user),
        "clientMetadata": event::client_metadata_or_empty(),
    });
    let ev = event::envelope(
        meta,
        source,
        Some(&user.username),
        client_id,
        request,
        json!({}),
    );
    run(app, meta, Trigger::PostConfirmation, &ev).await?;
    Ok(())
}
