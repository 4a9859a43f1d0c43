//! `SetUserPoolMfaConfig` / `GetUserPoolMfaConfig`: OFF / ON / OPTIONAL and which factors the
//! pool offers, validated as AWS does and stored with the pool (`PoolMeta::mfa_factors`).

use serde_json::{Value, json};

use super::PoolFactors;
use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::PoolMeta;
use crate::params::Params;
use crate::persist::Record;

fn validation(msg: String) -> CognitoError {
    CognitoError::InvalidParameter(format!("1 validation error detected: {msg}"))
}

pub fn check_mfa_configuration(v: &str) -> Result<()> {
    if matches!(v, "OFF" | "ON" | "OPTIONAL") {
        return Ok(());
    }
    Err(validation(format!(
        "Value '{v}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"
    )))
}

/// A message template: length bounds and the `{####}` placeholder the code goes into.
fn check_message(v: Option<&Value>, at: &str, min: usize, max: usize) -> Result<()> {
    let Some(v) = v else { return Ok(()) };
    let s = v
        .as_str()
        .ok_or_else(|| CognitoError::Serialization(format!("Expected a string for {at}")))?;
    let n = s.chars().count();
    if n < min || n > max {
        return Err(validation(format!(
            "Value at '{at}' failed to satisfy constraint: Member must have length between {min} and {max}"
        )));
    }
    if !s.contains("{####}") {
        return Err(CognitoError::InvalidParameter(format!(
            "{at} must contain the placeholder {{####}}"
        )));
    }
    Ok(())
}

fn check_sms(v: &Value) -> Result<()> {
    check_message(
        v.get("SmsAuthenticationMessage"),
        "smsMfaConfiguration.smsAuthenticationMessage",
        6,
        140,
    )?;
    if let Some(c) = v.get("SmsConfiguration")
        && c.get("SnsCallerArn").and_then(Value::as_str).is_none()
    {
        return Err(validation(
                "Value null at 'smsMfaConfiguration.smsConfiguration.snsCallerArn' failed to satisfy constraint: Member must not be null".into(),
            ));
    }
    Ok(())
}

fn check_email(v: &Value, meta: &PoolMeta) -> Result<()> {
    check_message(v.get("Message"), "emailMfaConfiguration.message", 6, 20_000)?;
    if let Some(s) = v.get("Subject").and_then(Value::as_str)
        && (s.is_empty() || s.chars().count() > 140)
    {
        return Err(validation(
                "Value at 'emailMfaConfiguration.subject' failed to satisfy constraint: Member must have length between 1 and 140".into(),
            ));
    }
    // AWS sends MFA e-mail only through the pool's own SES configuration.
    let developer = meta
        .extra
        .get("EmailConfiguration")
        .and_then(|e| e.get("EmailSendingAccount"))
        .and_then(Value::as_str)
        == Some("DEVELOPER");
    // E-mail MFA is an Essentials-tier feature; new pools are Essentials unless created LITE.
    let lite = meta.extra.get("UserPoolTier").and_then(Value::as_str) == Some("LITE");
    if lite {
        return Err(CognitoError::InvalidParameter(
            "Email MFA requires the Essentials or Plus feature plan (UserPoolTier); this user pool is LITE.".into(),
        ));
    }
    if !developer {
        return Err(CognitoError::InvalidParameter(
            "To enable email MFA, configure the user pool to send email with Amazon SES (EmailConfiguration.EmailSendingAccount DEVELOPER).".into(),
        ));
    }
    Ok(())
}

/// The pool's factors after applying a request: members left out keep their value.
fn apply(p: &Params, meta: &PoolMeta) -> Result<PoolFactors> {
    let mut f = meta.mfa_factors.clone();
    if let Some(st) = p.get("SoftwareTokenMfaConfiguration") {
        f.software_token = st.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
    }
    if let Some(sms) = p.get("SmsMfaConfiguration") {
        check_sms(sms)?;
        f.sms = Some(sms.clone());
    }
    if let Some(email) = p.get("EmailMfaConfiguration") {
        check_email(email, meta)?;
        f.email = Some(email.clone());
    }
    Ok(f)
}

pub fn answer(meta: &PoolMeta) -> Value {
    let f = &meta.mfa_factors;
    let mut out = json!({
        "MfaConfiguration": meta.mfa,
        "SoftwareTokenMfaConfiguration": {"Enabled": f.software_token},
    });
    let sms = f.sms.clone().or_else(|| {
        meta.extra
            .get("SmsConfiguration")
            .map(|c| json!({"SmsConfiguration": c}))
    });
    if let Some(mut sms) = sms {
        if sms.get("SmsConfiguration").is_none()
            && let Some(c) = meta.extra.get("SmsConfiguration")
        {
            sms["SmsConfiguration"] = c.clone();
        }
        out["SmsMfaConfiguration"] = sms;
    }
    if let Some(email) = &f.email {
        out["EmailMfaConfiguration"] = email.clone();
    }
    out
}

pub async fn set(app: &AppState, p: &Params) -> Result<Value> {
    let id = p.str("UserPoolId")?.to_owned();
    if let Some(m) = p.get("MfaConfiguration") {
        let m = m
            .as_str()
            .ok_or_else(|| CognitoError::Serialization("Expected a string".into()))?;
        check_mfa_configuration(m)?;
    }
    app.commit(|store, recs| {
        let meta = &mut store.pool_mut(&id)?.meta;
        let factors = apply(p, meta)?;
        let mode = p.opt_str("MfaConfiguration").unwrap_or(&meta.mfa).to_owned();
        let mut probe = meta.clone();
        probe.mfa_factors = factors.clone();
        let any = [super::SMS, super::TOTP, super::EMAIL]
            .iter()
            .any(|f| super::pool_offers(&probe, f));
        if mode != "OFF" && !any {
            return Err(CognitoError::InvalidParameter(
                "Invalid MFA configuration given, can't turn on MFA without any types of MFA enabled".into(),
            ));
        }
        meta.mfa_factors = factors;
        meta.mfa = mode;
        meta.modified = app.clock.now_f64();
        recs.push(Record::PutPool { meta: meta.clone() });
        Ok(answer(meta))
    })
    .await
}

pub fn get(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    Ok(answer(&store.pool(p.str("UserPoolId")?)?.meta))
}
