//! The hosted UI's grants in-process: authorization_code with PKCE (S256, plain, wrong verifier,
//! reused and expired codes), implicit, refresh_token with rotation, revoke, userInfo scopes, the
//! new-password and MFA steps of the login page, and federated sign-in through the stand-in.

use axum::http::StatusCode;
use serde_json::json;

use crate::hosted_ui::{CB, Ui, VERIFIER, get, param, post};
use crate::local::{PASSWORD, claims};

#[tokio::test]
async fn code_with_pkce_gives_signed_tokens_once() {
    let ui = Ui::start(json!({})).await;
    let (code, _) = ui.code(&[]).await;
    let wrong = ui.redeem(&code, &"x".repeat(43)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"], "invalid_grant");
    // The failed attempt used the code up.
    assert_eq!(
        ui.redeem(&code, VERIFIER).await.json()["error"],
        "invalid_grant"
    );

    let (code, _) = ui.code(&[]).await;
    let r = ui.redeem(&code, VERIFIER).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-0S6");
    assert_eq!(id["aud"], ui.client_id.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    let access = claims(t["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "openid email");
    assert_eq!(access["username"], "alice");
    let id_token = t["id_token"].as_str().unwrap();
    let (st, v) =
        ui.l.get_bearer("/_fake/validate?token_use=id", id_token)
            .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(t["refresh_token"].is_string());
    let reused = ui.redeem(&code, VERIFIER).await;
    assert_eq!(reused.json()["error"], "invalid_grant");

    // Without openid: no ID token.
    let (code, _) = ui.code(&[("scope", "aws.cognito.signin.user.admin")]).await;
    let t = ui.redeem(&code, VERIFIER).await.json();
    assert!(t.get("id_token").is_none(), "{t}");
    assert!(t["access_token"].is_string());
}

#[tokio::test]
async fn codes_are_bound_to_client_redirect_uri_and_expire_after_five_minutes() {
    let ui = Ui::start(json!({})).await;
    let (code, _) = ui
        .code(&[
            ("code_challenge_method", "plain"),
            ("code_challenge", &"p".repeat(50)),
        ])
        .await;
    assert_eq!(
        ui.redeem(&code, &"p".repeat(50)).await.status,
        StatusCode::OK
    );

    let (code, _) = ui.code(&[]).await;
    let other_uri = [
        ("grant_type", "authorization_code"),
        ("client_id", ui.client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", "https://app.example/other"),
        ("code_verifier", VERIFIER),
    ];
    let r = post(&ui.l, "/oauth2/token", &other_uri, None).await;
    assert_eq!(r.json()["error"], "invalid_grant");

    let (code, _) = ui.code(&[]).await;
    ui.l.clock(json!({"advance_seconds": 301})).await;
    assert_eq!(
        ui.redeem(&code, VERIFIER).await.json()["error"],
        "invalid_grant"
    );
    ui.l.clock(json!({"reset": true})).await;
    let (code, _) = ui.code(&[]).await;
    ui.l.clock(json!({"advance_seconds": 240})).await;
    assert_eq!(ui.redeem(&code, VERIFIER).await.status, StatusCode::OK);

    // Another client of the pool cannot redeem it.
    let c2 =
        ui.l.ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": ui.pool_id, "ClientName": "other",
            "AllowedOAuthFlows": ["code"], "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthScopes": ["openid"], "CallbackURLs": [CB]}),
        )
        .await;
    let c2 = c2["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = ui.code(&[]).await;
    let r = post(
        &ui.l,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &c2),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    let r = post(
        &ui.l,
        "/oauth2/token",
        &[("grant_type", "password"), ("client_id", &c2)],
        None,
    )
    .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    let r = post(
        &ui.l,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "nosuch"),
            ("code", "x"),
            ("redirect_uri", CB),
        ],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
}

#[tokio::test]
async fn secret_clients_authenticate_by_basic_or_body() {
    let ui = Ui::start(json!({"GenerateSecret": true})).await;
    let d =
        ui.l.ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": ui.pool_id, "ClientId": ui.client_id}),
        )
        .await;
    let secret = d["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = ui.code(&[]).await;
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let r = post(
        &ui.l,
        "/oauth2/token",
        &body,
        Some((&ui.client_id, "wrong")),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_client");
    let (code, _) = ui.code(&[]).await;
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
        ("client_id", ui.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let r = post(&ui.l, "/oauth2/token", &body, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (code, _) = ui.code(&[]).await;
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let r = post(
        &ui.l,
        "/oauth2/token",
        &body,
        Some((&ui.client_id, &secret)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn implicit_grant_puts_tokens_in_the_fragment() {
    let ui = Ui::start(json!({})).await;
    let r = ui
        .sign_in(
            &[
                ("response_type", "token"),
                ("code_challenge", ""),
                ("code_challenge_method", ""),
            ],
            "alice",
            PASSWORD,
        )
        .await;
    let loc = r.location();
    assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
    assert!(param(&loc, "code").is_none());
    let id = claims(&param(&loc, "id_token").unwrap());
    assert_eq!(id["nonce"], "n-0S6");
    assert!(param(&loc, "access_token").is_some());
    assert!(param(&loc, "refresh_token").is_none());
    assert_eq!(param(&loc, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(param(&loc, "state").as_deref(), Some("st-42"));
}

async fn refresh(ui: &Ui, token: &str) -> crate::hosted_ui::Res {
    let fields = [
        ("grant_type", "refresh_token"),
        ("client_id", ui.client_id.as_str()),
        ("refresh_token", token),
    ];
    post(&ui.l, "/oauth2/token", &fields, None).await
}

#[tokio::test]
async fn refresh_rotates_like_get_tokens_from_refresh_token_and_revoke_ends_it() {
    let ui = Ui::start(
        json!({"RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}}),
    )
    .await;
    let (code, _) = ui.code(&[]).await;
    let t = ui.redeem(&code, VERIFIER).await.json();
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let r = refresh(&ui, &rt).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let t2 = r.json();
    let rt2 = t2["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_owned();
    assert_ne!(rt2, rt);
    assert_eq!(
        claims(t2["access_token"].as_str().unwrap())["scope"],
        "openid email",
        "scopes survive a refresh"
    );
    assert_eq!(
        refresh(&ui, &rt).await.json()["error"],
        "invalid_grant",
        "the old token is rotated out"
    );

    let r = post(
        &ui.l,
        "/oauth2/revoke",
        &[("client_id", &ui.client_id), ("token", &rt2)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(refresh(&ui, &rt2).await.json()["error"], "invalid_grant");
    let r = post(
        &ui.l,
        "/oauth2/revoke",
        &[("client_id", &ui.client_id)],
        None,
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_request");
    let r = post(
        &ui.l,
        "/oauth2/revoke",
        &[
            ("client_id", &ui.client_id),
            ("token", t["access_token"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(r.json()["error"], "unsupported_token_type");
}

#[tokio::test]
async fn user_info_needs_openid_and_follows_the_scopes() {
    let ui = Ui::start(json!({})).await;
    let info = |scope: &'static str| async {
        let (code, _) = ui.code(&[("scope", scope)]).await;
        let t = ui.redeem(&code, VERIFIER).await.json();
        ui.l.get_bearer("/oauth2/userInfo", t["access_token"].as_str().unwrap())
            .await
    };
    let (st, v) = info("openid").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["email"].clone(),
            v["given_name"].clone(),
            v["username"].clone()
        ),
        (json!("alice@example.com"), json!("Alice"), json!("alice"))
    );
    assert!(v["sub"].is_string());
    let (_, v) = info("openid email").await;
    assert_eq!(v["email"], "alice@example.com");
    assert!(v.get("given_name").is_none(), "{v}");
    let (_, v) = info("openid profile").await;
    assert_eq!(v["given_name"], "Alice");
    assert!(v.get("email").is_none(), "{v}");
    let (st, v) = info("aws.cognito.signin.user.admin").await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_token"))
    );
    let api = ui.l.login(&ui.client_id, "alice").await;
    let (st, _) =
        ui.l.get_bearer("/oauth2/userInfo", api["AccessToken"].as_str().unwrap())
            .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "API tokens carry no openid scope"
    );
    let (st, v) = ui.l.get("/oauth2/userInfo").await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_request"))
    );
}

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_then_signs_in() {
    let ui = Ui::start(json!({})).await;
    ui.l.ok(
        "AdminCreateUser",
        json!({"UserPoolId": ui.pool_id, "Username": "bob",
        "TemporaryPassword": "Temp-Passw0rd!", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let r = ui.sign_in(&[], "bob", "Temp-Passw0rd!").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("name=\"new_password\""), "{}", r.body);
    let hidden = hidden_fields(&r.body);
    let mut fields: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.push(("new_password", "short"));
    let weak = post(&ui.l, "/login", &fields, None).await;
    assert!(
        weak.body.contains("Password did not conform with policy"),
        "{}",
        weak.body
    );
    fields.pop();
    fields.push(("new_password", "Brand-New-Passw0rd!"));
    let ok = post(&ui.l, "/login", &fields, None).await;
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
    let hidden = hidden_fields(&r.body);
    let mut fields: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.push(("code", "000000"));
    let wrong = post(&ui.l, "/login", &fields, None).await;
    assert!(wrong.body.contains("Invalid code"), "{}", wrong.body);
    let code = ui.l.code(&ui.pool_id, "dan", "sms_mfa").await;
    fields.pop();
    fields.push(("code", &code));
    let ok = post(&ui.l, "/login", &fields, None).await;
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
