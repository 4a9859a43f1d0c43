//! MFA in-process: the pool's MFA configuration, TOTP association and verification (codes from
//! the RFC 6238 implementation, moved with `/_fake/clock`), preferences in `GetUser`, and the
//! MFA challenges after a password (`SOFTWARE_TOKEN_MFA`, `MFA_SETUP`, `SMS_MFA`, `EMAIL_OTP`,
//! `SELECT_MFA_TYPE`).

use fake_cognito::mfa::totp;
use serde_json::{Value, json};

use crate::local::{Local, PASSWORD};

/// The TOTP code for `secret` at fake-cognito's now plus `offset_steps`.
async fn totp_now(l: &Local, secret: &str, offset_steps: i64) -> String {
    let (_, clock) = l.get("/_fake/clock").await;
    let now = clock["now_epoch_seconds"].as_f64().unwrap() as i64;
    let key = totp::base32_decode(secret).unwrap();
    totp::code_at_step(&key, now / 30 + offset_steps)
}

fn password_auth(client_id: &str, name: &str) -> Value {
    json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
           "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}})
}

#[tokio::test]
async fn mfa_pool_config_validates_and_persists_with_the_pool() {
    let l = Local::start().await;
    let (pool_id, _) = l.pool(json!({})).await;
    let got = l
        .ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool_id}))
        .await;
    assert_eq!(got["MfaConfiguration"], "OFF");
    assert_eq!(got["SoftwareTokenMfaConfiguration"]["Enabled"], false);

    let (t, m) = l
        .err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool_id, "MfaConfiguration": "ON"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException", "{m}");
    let (t, m) = l
        .err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool_id, "MfaConfiguration": "SOMETIMES"}),
        )
        .await;
    assert!(
        t == "InvalidParameterException" && m.contains("[OFF, ON, OPTIONAL]"),
        "{m}"
    );
    let (t, m) = l
        .err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
            "SmsMfaConfiguration": {"SmsAuthenticationMessage": "no placeholder"}}),
        )
        .await;
    assert!(
        t == "InvalidParameterException" && m.contains("{####}"),
        "{m}"
    );
    // E-mail MFA needs the pool to send through SES.
    let (t, _) = l
        .err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
            "EmailMfaConfiguration": {"Message": "code {####}", "Subject": "s"}}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");

    // ... and a feature plan above LITE.
    let (lite, _) = l
        .pool(json!({"UserPoolTier": "LITE", "EmailConfiguration": {
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/x@example.com"}}))
        .await;
    let (t, m) = l
        .err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": lite, "MfaConfiguration": "OPTIONAL",
                   "EmailMfaConfiguration": {"Message": "code {####}", "Subject": "s"}}),
        )
        .await;
    assert!(
        t == "InvalidParameterException" && m.contains("LITE"),
        "{m}"
    );
    let set = l
        .ok(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
            "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        )
        .await;
    assert_eq!(set["MfaConfiguration"], "OPTIONAL");
    let got = l
        .ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool_id}))
        .await;
    assert_eq!(got["SoftwareTokenMfaConfiguration"]["Enabled"], true);
    let pool = l
        .ok("DescribeUserPool", json!({"UserPoolId": pool_id}))
        .await;
    assert_eq!(pool["UserPool"]["MfaConfiguration"], "OPTIONAL");
    let (t, _) = l
        .err(
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "us-east-1_nope"}),
        )
        .await;
    assert_eq!(t, "ResourceNotFoundException");
}

#[tokio::test]
async fn mfa_totp_associate_verify_prefer_then_sign_in_with_a_code_once() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    l.user(&pool_id, "alice", json!([])).await;
    let access = l.login(&client_id, "alice").await["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let (t, _) = l
        .err(
            "SetUserMFAPreference",
            json!({"AccessToken": access,
            "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    let secret = l
        .ok("AssociateSoftwareToken", json!({"AccessToken": access}))
        .await["SecretCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 52);
    let real = totp_now(&l, &secret, 0).await;
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let (t, m) = l
        .err(
            "VerifySoftwareToken",
            json!({"AccessToken": access, "UserCode": wrong}),
        )
        .await;
    assert_eq!(t, "EnableSoftwareTokenMFAException");
    assert_eq!(m, "Code mismatch and fail enable Software Token MFA");
    let code = totp_now(&l, &secret, 0).await;
    let v = l
        .ok(
            "VerifySoftwareToken",
            json!({"AccessToken": access, "UserCode": code}),
        )
        .await;
    assert_eq!(v["Status"], "SUCCESS");
    let (_, state) = l.get("/_fake/state").await;
    assert!(
        !state.to_string().contains(&secret),
        "/_fake/state leaks the TOTP secret"
    );
    // Verified but not yet on: sign-in needs no code.
    let user = l.ok("GetUser", json!({"AccessToken": access})).await;
    assert!(user.get("UserMFASettingList").is_none(), "{user}");
    l.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access,
        "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    )
    .await;
    let user = l.ok("GetUser", json!({"AccessToken": access})).await;
    assert_eq!(user["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(user["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");

    let ch = l
        .ok("InitiateAuth", password_auth(&client_id, "alice"))
        .await;
    assert_eq!(ch["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    assert_eq!(
        ch["ChallengeParameters"],
        json!({"USER_ID_FOR_SRP": "alice"})
    );
    let respond = |session: &Value, code: &str| {
        json!({"ClientId": client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session,
               "ChallengeResponses": {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code}})
    };
    // The code that verified the token was used once already.
    let (t, m) = l
        .err("RespondToAuthChallenge", respond(&ch["Session"], &code))
        .await;
    assert_eq!(t, "CodeMismatchException", "{m}");
    let (t, _) = l
        .err("RespondToAuthChallenge", respond(&ch["Session"], "12345x"))
        .await;
    assert_eq!(t, "CodeMismatchException");
    l.clock(json!({"advance_seconds": 30})).await;
    // Two steps away is outside the window.
    let far = totp_now(&l, &secret, 2).await;
    let (t, _) = l
        .err("RespondToAuthChallenge", respond(&ch["Session"], &far))
        .await;
    assert_eq!(t, "CodeMismatchException");
    let fresh = totp_now(&l, &secret, 0).await;
    let done = l
        .ok("RespondToAuthChallenge", respond(&ch["Session"], &fresh))
        .await;
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );
    // The session is single use.
    let (t, _) = l
        .err("RespondToAuthChallenge", respond(&ch["Session"], &fresh))
        .await;
    assert_eq!(t, "NotAuthorizedException");
}

#[tokio::test]
async fn mfa_setup_in_an_on_pool_with_a_session() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool_id, "MfaConfiguration": "ON",
        "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    l.user(&pool_id, "bob", json!([])).await;
    let ch = l.ok("InitiateAuth", password_auth(&client_id, "bob")).await;
    assert_eq!(ch["ChallengeName"], "MFA_SETUP");
    assert_eq!(
        ch["ChallengeParameters"],
        json!({"MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]", "USER_ID_FOR_SRP": "bob"})
    );
    let early = json!({"ClientId": client_id, "ChallengeName": "MFA_SETUP", "Session": ch["Session"],
                       "ChallengeResponses": {"USERNAME": "bob"}});
    let (t, _) = l.err("RespondToAuthChallenge", early).await;
    assert_eq!(t, "NotAuthorizedException");
    let assoc = l
        .ok("AssociateSoftwareToken", json!({"Session": ch["Session"]}))
        .await;
    let secret = assoc["SecretCode"].as_str().unwrap().to_owned();
    let (t, _) = l
        .err(
            "VerifySoftwareToken",
            json!({"Session": ch["Session"], "UserCode": "123456"}),
        )
        .await;
    assert_eq!(
        t, "NotAuthorizedException",
        "the first session was replaced"
    );
    let code = totp_now(&l, &secret, 0).await;
    let ver = l
        .ok(
            "VerifySoftwareToken",
            json!({"Session": assoc["Session"], "UserCode": code,
            "FriendlyDeviceName": "phone"}),
        )
        .await;
    assert_eq!(ver["Status"], "SUCCESS");
    let done = l
        .ok(
            "RespondToAuthChallenge",
            json!({"ClientId": client_id, "ChallengeName": "MFA_SETUP",
            "Session": ver["Session"], "ChallengeResponses": {"USERNAME": "bob"}}),
        )
        .await;
    assert!(
        done["AuthenticationResult"]["IdToken"].is_string(),
        "{done}"
    );
    let user = l
        .ok(
            "AdminGetUser",
            json!({"UserPoolId": pool_id, "Username": "bob"}),
        )
        .await;
    assert_eq!(user["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(user["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");
    let again = l.ok("InitiateAuth", password_auth(&client_id, "bob")).await;
    assert_eq!(again["ChallengeName"], "SOFTWARE_TOKEN_MFA");
}

#[tokio::test]
async fn mfa_sms_and_email_codes_and_select_mfa_type_admin_flow() {
    let l = Local::start().await;
    let (pool_id, client_id) = l
        .pool(
            json!({"EmailConfiguration": {"EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/x@example.com"}}),
        )
        .await;
    l.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
        "SmsMfaConfiguration": {"SmsAuthenticationMessage": "code {####}",
            "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"}},
        "EmailMfaConfiguration": {"Message": "code {####}", "Subject": "code"}}),
    )
    .await;
    l.user(
        &pool_id,
        "carol",
        json!([{"Name": "phone_number", "Value": "+15555550123"},
        {"Name": "email", "Value": "carol@example.com"}]),
    )
    .await;
    let who = json!({"UserPoolId": pool_id, "Username": "carol"});
    let mut pref = who.clone();
    pref["SMSMfaSettings"] = json!({"Enabled": true});
    pref["EmailMfaSettings"] = json!({"Enabled": true});
    l.ok("AdminSetUserMFAPreference", pref).await;
    let user = l.ok("AdminGetUser", who.clone()).await;
    assert_eq!(user["UserMFASettingList"], json!(["SMS_MFA", "EMAIL_OTP"]));
    assert_eq!(
        user["MFAOptions"],
        json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])
    );

    let auth = json!({"UserPoolId": pool_id, "ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                      "AuthParameters": {"USERNAME": "carol", "PASSWORD": PASSWORD}});
    let ch = l.ok("AdminInitiateAuth", auth.clone()).await;
    assert_eq!(ch["ChallengeName"], "SELECT_MFA_TYPE");
    assert_eq!(
        ch["ChallengeParameters"]["MFAS_CAN_CHOOSE"],
        "[\"SMS_MFA\",\"EMAIL_OTP\"]"
    );
    let answer = |name: &str, session: &Value, r: Value| {
        let mut responses = json!({"USERNAME": "carol"});
        if let (Some(o), Some(extra)) = (responses.as_object_mut(), r.as_object()) {
            o.extend(extra.clone());
        }
        json!({"UserPoolId": pool_id, "ClientId": client_id, "ChallengeName": name,
               "Session": session, "ChallengeResponses": responses})
    };
    let sms = l
        .ok(
            "AdminRespondToAuthChallenge",
            answer(
                "SELECT_MFA_TYPE",
                &ch["Session"],
                json!({"ANSWER": "SMS_MFA"}),
            ),
        )
        .await;
    assert_eq!(sms["ChallengeName"], "SMS_MFA");
    assert_eq!(
        sms["ChallengeParameters"],
        json!({"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": "+*******0123",
               "USER_ID_FOR_SRP": "carol"})
    );
    let (t, _) = l
        .err(
            "AdminRespondToAuthChallenge",
            answer("SMS_MFA", &sms["Session"], json!({"SMS_MFA_CODE": "x"})),
        )
        .await;
    assert_eq!(t, "CodeMismatchException");
    let code = l.code(&pool_id, "carol", "sms_mfa").await;
    let done = l
        .ok(
            "AdminRespondToAuthChallenge",
            answer("SMS_MFA", &sms["Session"], json!({"SMS_MFA_CODE": code})),
        )
        .await;
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );

    let mut pref = who.clone();
    pref["EmailMfaSettings"] = json!({"Enabled": true, "PreferredMfa": true});
    l.ok("AdminSetUserMFAPreference", pref).await;
    let ch = l.ok("AdminInitiateAuth", auth).await;
    assert_eq!(ch["ChallengeName"], "EMAIL_OTP");
    assert_eq!(
        ch["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"],
        "c***@e***"
    );
    let code = l.code(&pool_id, "carol", "email_otp").await;
    let done = l
        .ok(
            "AdminRespondToAuthChallenge",
            answer("EMAIL_OTP", &ch["Session"], json!({"EMAIL_OTP_CODE": code})),
        )
        .await;
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );
}

#[tokio::test]
async fn mfa_on_pool_uses_the_phone_and_preferences_need_their_prerequisites() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.ok("SetUserPoolMfaConfig", json!({"UserPoolId": pool_id, "MfaConfiguration": "ON",
        "SmsMfaConfiguration": {"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"}},
        "SoftwareTokenMfaConfiguration": {"Enabled": true}}))
        .await;
    l.user(
        &pool_id,
        "dan",
        json!([{"Name": "phone_number", "Value": "+15555550199"}]),
    )
    .await;
    l.user(&pool_id, "erin", json!([])).await;
    let ch = l.ok("InitiateAuth", password_auth(&client_id, "dan")).await;
    assert_eq!(ch["ChallengeName"], "SMS_MFA");
    let ch = l
        .ok("InitiateAuth", password_auth(&client_id, "erin"))
        .await;
    assert_eq!(ch["ChallengeName"], "MFA_SETUP");
    assert_eq!(
        ch["ChallengeParameters"]["MFAS_CAN_SETUP"],
        "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]"
    );
    let (t, m) = l
        .err(
            "AdminSetUserMFAPreference",
            json!({"UserPoolId": pool_id, "Username": "erin",
            "SMSMfaSettings": {"Enabled": true}}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException", "{m}");
}
