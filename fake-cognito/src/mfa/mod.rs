//! Multi-factor authentication: the pool's MFA configuration ([`config`]), a user's TOTP
//! authenticator ([`software`], RFC 6238 in [`totp`]), a user's MFA preferences ([`preference`]) and
//! the MFA challenges that follow a proven password ([`challenge`]). This module owns the
//! persisted MFA data of pools and users; SMS and e-mail codes are never sent, only logged and
//! listed at `/_fake/codes` (kinds `sms_mfa`, `email_otp`).

pub mod challenge;
pub mod config;
pub mod preference;
pub mod software;
pub mod totp;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{PoolMeta, User};

pub const SMS: &str = "SMS_MFA";
pub const TOTP: &str = "SOFTWARE_TOKEN_MFA";
pub const EMAIL: &str = "EMAIL_OTP";

/// The factors a pool offers, as `SetUserPoolMfaConfig` last set them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PoolFactors {
    #[serde(default)]
    pub software_token: bool,
    /// `SmsMfaConfiguration` as set (present = SMS MFA enabled).
    #[serde(default)]
    pub sms: Option<Value>,
    /// `EmailMfaConfiguration` as set (present = e-mail MFA enabled).
    #[serde(default)]
    pub email: Option<Value>,
}

/// One user's MFA state. The TOTP secret is kept in the clear because verifying a code needs it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserMfa {
    /// Handed out by `AssociateSoftwareToken`, not yet proven by `VerifySoftwareToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_secret: Option<String>,
    /// The verified authenticator secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The last TOTP step accepted: a code is good once (AWS refuses a reused code).
    #[serde(default)]
    pub last_step: i64,
    #[serde(default)]
    pub totp_enabled: bool,
    #[serde(default)]
    pub sms_enabled: bool,
    #[serde(default)]
    pub email_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
}

impl UserMfa {
    /// `UserMFASettingList`: the factors the user turned on, in AWS's order.
    pub fn enabled(&self) -> Vec<&'static str> {
        [
            (SMS, self.sms_enabled),
            (TOTP, self.totp_enabled),
            (EMAIL, self.email_enabled),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect()
    }
}

/// Which factors the pool offers: SMS also when the pool was created with an `SmsConfiguration`
/// and MFA on (the legacy way of turning SMS MFA on).
pub fn pool_offers(meta: &PoolMeta, factor: &str) -> bool {
    let f = &meta.mfa_factors;
    match factor {
        SMS => f.sms.is_some() || meta.extra.contains_key("SmsConfiguration"),
        TOTP => f.software_token,
        EMAIL => f.email.is_some(),
        _ => false,
    }
}

/// The MFA members of `GetUser` / `AdminGetUser`, present only when the user has MFA on.
pub fn user_fields(user: &User, out: &mut Value) {
    let list = user.mfa.enabled();
    if list.is_empty() {
        return;
    }
    if user.mfa.sms_enabled {
        out["MFAOptions"] =
            serde_json::json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]);
    }
    if let Some(p) = &user.mfa.preferred {
        out["PreferredMfaSetting"] = Value::from(p.clone());
    }
    out["UserMFASettingList"] = Value::from(list);
}
