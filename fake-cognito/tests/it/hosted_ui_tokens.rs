//! The hosted UI's grants in-process: authorization_code with PKCE (S256, plain, wrong verifier,
//! reused, foreign and expired codes), secret clients, implicit, refresh_token with rotation,
//! revoke, userInfo scopes.

use axum::http::StatusCode;
use serde_json::json;

use crate::hosted_ui_support::{CB, Ui, VERIFIER, param, post};
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
    let wrong = ui.redeem_as(&code, VERIFIER, Some((&ui.client_id, "wrong")), &[]);
    assert_eq!(wrong.await.json()["error"], "invalid_client");
    let (code, _) = ui.code(&[]).await;
    let body = [
        ("client_id", ui.client_id.as_str()),
        ("client_secret", &secret),
    ];
    let r = ui.redeem_as(&code, VERIFIER, None, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (code, _) = ui.code(&[]).await;
    let basic = Some((ui.client_id.as_str(), secret.as_str()));
    let r = ui.redeem_as(&code, VERIFIER, basic, &[]).await;
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

async fn refresh(ui: &Ui, token: &str) -> crate::hosted_ui_support::Res {
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
