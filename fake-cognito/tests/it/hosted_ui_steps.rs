//! The hosted UI's sign-in steps in-process: the new-password and SMS-MFA pages of the login
//! form (the sign-in triggers run once, when the code is redeemed), and federated sign-in
//! through the IdP stand-in.

use axum::http::StatusCode;
use serde_json::json;

use crate::hosted_ui_support::{CB, Ui, VERIFIER, get, param, post};
use crate::local::{PASSWORD, claims};

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_then_signs_in() {
    let ui = Ui::start(json!({})).await;
    temporary_user(&ui, "bob").await;
    let r = ui.sign_in(&[], "bob", "Temp-Passw0rd!").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("name=\"new_password\""), "{}", r.body);
    let weak = answer(&ui, &r.body, &[("new_password", "short")]).await;
    assert!(
        weak.body.contains("Password did not conform with policy"),
        "{}",
        weak.body
    );
    let ok = answer(&ui, &weak.body, &[("new_password", "Brand-New-Passw0rd!")]).await;
    assert!(
        ok.location().starts_with(&format!("{CB}?code=")),
        "{}",
        ok.body
    );
    let u =
        ui.l.ok(
            "AdminGetUser",
            json!({"UserPoolId": ui.pool_id, "Username": "bob"}),
        )
        .await;
    assert_eq!(u["UserStatus"], "CONFIRMED");
}

#[tokio::test]
async fn sms_mfa_asks_for_the_code_on_the_page() {
    let ui = Ui::start(json!({})).await;
    ui.l.ok("SetUserPoolMfaConfig", json!({"UserPoolId": ui.pool_id, "MfaConfiguration": "ON",
        "SmsMfaConfiguration": {"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"}}})).await;
    ui.l.user(
        &ui.pool_id,
        "dan",
        json!([{"Name": "phone_number", "Value": "+15555550199"}]),
    )
    .await;
    let r = ui.sign_in(&[], "dan", PASSWORD).await;
    assert!(r.body.contains("name=\"code\""), "{}", r.body);
    let wrong = answer(&ui, &r.body, &[("code", "000000")]).await;
    assert!(wrong.body.contains("Invalid code"), "{}", wrong.body);
    let code = ui.l.code(&ui.pool_id, "dan", "sms_mfa").await;
    let ok = answer(&ui, &wrong.body, &[("code", &code)]).await;
    let loc = ok.location();
    let t = ui
        .redeem(&param(&loc, "code").unwrap(), VERIFIER)
        .await
        .json();
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["cognito:username"],
        "dan"
    );
}

/// The TOTP code for `secret` at fake-cognito's now.
async fn totp_now(ui: &Ui, secret: &str) -> String {
    let (_, clock) = ui.l.get("/_fake/clock").await;
    let now = clock["now_epoch_seconds"].as_f64().unwrap() as i64;
    let key = fake_cognito::mfa::totp::base32_decode(secret).unwrap();
    fake_cognito::mfa::totp::code_at_step(&key, now / 30)
}

/// The hidden fields of a page plus `extra`, posted back to `/login`.
#[tokio::test]
async fn a_sign_in_with_a_new_password_step_runs_the_sign_in_triggers_once() {
    let lambda = crate::triggers::Lambda::start();
    let triggers = format!("triggers={},10", lambda.url);
    let l = crate::local::Local::start_with(&["--lambda", &triggers]).await;
    let arn = crate::triggers::arn("triggers");
    let config = json!({"LambdaConfig": {"PostAuthentication": arn, "PreTokenGeneration": arn}});
    let ui = Ui::start_on(l, config, json!({})).await;
    temporary_user(&ui, "bob").await;
    let r = ui.sign_in(&[], "bob", "Temp-Passw0rd!").await;
    assert!(r.body.contains("name=\"new_password\""), "{}", r.body);
    let ok = answer(&ui, &r.body, &[("new_password", "Brand-New-Passw0rd!")]).await;
    let code = param(&ok.location(), "code").expect("a code");
    assert!(
        lambda.events("PostAuthentication").await.is_empty(),
        "nothing runs before the code is redeemed"
    );
    let t = ui.redeem(&code, VERIFIER).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_eq!(lambda.events("PostAuthentication").await.len(), 1);
    let tokens = lambda.events("TokenGeneration").await;
    let sources: Vec<&str> = tokens
        .iter()
        .filter_map(|e| e["triggerSource"].as_str())
        .collect();
    assert_eq!(sources, ["TokenGeneration_HostedAuth"]);
    let id = claims(t.json()["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "bob");
}

/// `name` created by an admin with the temporary password `Temp-Passw0rd!`.
async fn temporary_user(ui: &Ui, name: &str) {
    ui.l.ok(
        "AdminCreateUser",
        json!({"UserPoolId": ui.pool_id, "Username": name,
        "TemporaryPassword": "Temp-Passw0rd!", "MessageAction": "SUPPRESS"}),
    )
    .await;
}

async fn answer(ui: &Ui, page: &str, extra: &[(&str, &str)]) -> crate::hosted_ui_support::Res {
    let hidden = hidden_fields(page);
    let mut fields: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.extend_from_slice(extra);
    post(&ui.l, "/login", &fields, None).await
}

#[tokio::test]
async fn two_factors_offer_a_choice_then_the_totp_code() {
    let ui = Ui::start(json!({})).await;
    ui.l.ok("SetUserPoolMfaConfig", json!({"UserPoolId": ui.pool_id, "MfaConfiguration": "OPTIONAL",
        "SmsMfaConfiguration": {"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"}},
        "SoftwareTokenMfaConfiguration": {"Enabled": true}})).await;
    ui.l.user(
        &ui.pool_id,
        "erin",
        json!([{"Name": "phone_number", "Value": "+15555550142"}]),
    )
    .await;
    let access = ui.l.login(&ui.client_id, "erin").await["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret =
        ui.l.ok("AssociateSoftwareToken", json!({"AccessToken": access}))
            .await["SecretCode"]
            .as_str()
            .unwrap()
            .to_owned();
    let code = totp_now(&ui, &secret).await;
    ui.l.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": code}),
    )
    .await;
    ui.l.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": ui.pool_id, "Username": "erin",
        "SMSMfaSettings": {"Enabled": true}, "SoftwareTokenMfaSettings": {"Enabled": true}}),
    )
    .await;
    // The verification used this step's code: sign in in the next step.
    ui.l.clock(json!({"advance_seconds": 30})).await;

    let choose = ui.sign_in(&[], "erin", PASSWORD).await;
    assert!(
        choose.body.contains("value=\"SOFTWARE_TOKEN_MFA\""),
        "{}",
        choose.body
    );
    let code_page = answer(&ui, &choose.body, &[("answer", "SOFTWARE_TOKEN_MFA")]).await;
    assert!(
        code_page.body.contains("authenticator app"),
        "{}",
        code_page.body
    );
    let real = totp_now(&ui, &secret).await;
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let again = answer(&ui, &code_page.body, &[("code", wrong)]).await;
    assert!(again.body.contains("Invalid code"), "{}", again.body);
    let done = answer(&ui, &again.body, &[("code", &real)]).await;
    let loc = done.location();
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    let t = ui
        .redeem(&param(&loc, "code").unwrap(), VERIFIER)
        .await
        .json();
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["cognito:username"],
        "erin"
    );
}

#[tokio::test]
async fn mfa_setup_registers_an_authenticator_on_the_page() {
    let ui = Ui::start(json!({})).await;
    ui.l.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": ui.pool_id, "MfaConfiguration": "ON",
        "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    ui.l.user(&ui.pool_id, "finn", json!([])).await;
    let setup = ui.sign_in(&[], "finn", PASSWORD).await;
    assert!(setup.body.contains("id=\"secret\""), "{}", setup.body);
    let secret = setup
        .body
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let wrong = answer(&ui, &setup.body, &[("code", "12345x")]).await;
    assert!(wrong.body.contains("id=\"error\""), "{}", wrong.body);
    let code = totp_now(&ui, &secret).await;
    let done = answer(&ui, &wrong.body, &[("code", &code)]).await;
    let loc = done.location();
    assert!(
        loc.starts_with(&format!("{CB}?code=")),
        "{loc}: {}",
        done.body
    );
    let u =
        ui.l.ok(
            "AdminGetUser",
            json!({"UserPoolId": ui.pool_id, "Username": "finn"}),
        )
        .await;
    assert_eq!(u["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
}

#[tokio::test]
async fn federated_sign_in_through_the_stand_in_creates_the_provider_user() {
    let ui = Ui::start(json!({})).await;
    let r = get(
        &ui.l,
        &ui.authorize("", &[("identity_provider", "Google")]),
        None,
    )
    .await;
    let stand_in = r.location();
    assert!(stand_in.starts_with("/fake-idp/Google?"), "{stand_in}");
    let page = get(&ui.l, &stand_in, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"user_id\""), "{}", page.body);
    let mut fields = ui.params(&[]);
    fields.extend([
        ("provider", "Google"),
        ("user_id", "1049"),
        ("email", "fed@example.com"),
        ("attributes", "given_name=Fed\nunmapped=x"),
    ]);
    let r = post(&ui.l, "/oauth2/idpresponse", &fields, None).await;
    let loc = r.location();
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}: {}", r.body);
    let t = ui
        .redeem(&param(&loc, "code").unwrap(), VERIFIER)
        .await
        .json();
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Google_1049");
    assert_eq!(id["email"], "fed@example.com");
    assert_eq!(id["given_name"], "Fed");
    assert!(id.get("unmapped").is_none());
    let ident = &id["identities"][0];
    assert_eq!(
        (
            ident["userId"].clone(),
            ident["providerName"].clone(),
            ident["providerType"].clone()
        ),
        (json!("1049"), json!("Google"), json!("Google"))
    );
    let u =
        ui.l.ok(
            "AdminGetUser",
            json!({"UserPoolId": ui.pool_id, "Username": "Google_1049"}),
        )
        .await;
    assert_eq!(u["UserStatus"], "EXTERNAL_PROVIDER");

    // The stand-in now offers the user; a second sign-in updates the mapped attributes.
    let page = get(&ui.l, &stand_in, None).await;
    assert!(
        page.body.contains("Continue as 1049 (fed@example.com)"),
        "{}",
        page.body
    );
    let mut fields = ui.params(&[]);
    fields.extend([
        ("provider", "Google"),
        ("user_id", "1049"),
        ("email", "new@example.com"),
    ]);
    post(&ui.l, "/oauth2/idpresponse", &fields, None).await;
    let u =
        ui.l.ok(
            "AdminGetUser",
            json!({"UserPoolId": ui.pool_id, "Username": "Google_1049"}),
        )
        .await;
    assert!(
        u["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Value"] == "new@example.com"),
        "{u}"
    );
    // A password cannot sign a federated user in.
    assert!(
        ui.sign_in(&[], "Google_1049", PASSWORD)
            .await
            .body
            .contains("Incorrect username or password.")
    );
    let not_enabled = get(
        &ui.l,
        &ui.authorize("", &[])
            .replace("/oauth2/authorize", "/fake-idp/Facebook"),
        None,
    )
    .await;
    assert_eq!(not_enabled.status, StatusCode::BAD_REQUEST);
}

/// The hidden inputs of a page's forms.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tail| {
            let name = tail.split("name=\"").nth(1)?.split('"').next()?;
            let value = tail.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}
