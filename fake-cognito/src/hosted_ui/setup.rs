//! MFA_SETUP on the hosted UI: a user who must use MFA and has no factor yet registers an
//! authenticator app (TOTP) on the page, through `AssociateSoftwareToken` and
//! `VerifySoftwareToken`'s own code with the challenge session, as the API flow does; the
//! challenge is then answered like any other.

use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::mfa::{TOTP, software};
use crate::params::Params;

fn params(v: Value) -> Params {
    match v {
        Value::Object(m) => Params(m),
        _ => Params(Map::new()),
    }
}

fn next_session(v: &Value) -> Result<String> {
    v["Session"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| CognitoError::Internal("no session after the MFA setup step".into()))
}

/// A new authenticator secret in the challenge `session`: the next session, and the challenge
/// parameters with the secret (`SECRET_CODE`) for the page.
pub async fn begin(app: &AppState, session: &str, challenge: &Value) -> Result<(String, Value)> {
    let can: Vec<String> = challenge["MFAS_CAN_SETUP"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    if !can.iter().any(|f| f == TOTP) {
        return Err(CognitoError::InvalidParameter(
            "MFA must be set up, and only an authenticator app can be set up on the hosted UI: \
             give the user a phone number or e-mail address the pool can send codes to."
                .into(),
        ));
    }
    let v = software::associate(app, &params(json!({ "Session": session }))).await?;
    let mut page = challenge.clone();
    page["SECRET_CODE"] = v["SecretCode"].clone();
    Ok((next_session(&v)?, page))
}

/// Check the app's first code in `session`; the session that answers MFA_SETUP.
pub async fn verify(app: &AppState, session: &str, code: &str) -> Result<String> {
    let call = json!({ "Session": session, "UserCode": code });
    let v = software::verify(app, &params(call)).await?;
    next_session(&v)
}
