//! `POST /_fake/clock` (in-process): moving fake-cognito's now expires tokens, refresh tokens,
//! codes and challenge sessions without sleeping, leaves the JWKS and signatures alone, shows in
//! `/healthz`, and refuses bad requests with JSON 400s.

use axum::http::StatusCode;
use serde_json::json;

use crate::local::{Local, PASSWORD, claims};

#[tokio::test]
async fn clock_advancing_past_expiry_expires_tokens_but_not_keys_or_signatures() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "alice", json!([])).await;
    let tokens = l.login(&client_id, "alice").await;
    let access = tokens["AccessToken"].as_str().unwrap().to_owned();
    let jwks_path = format!("/{pool_id}/.well-known/jwks.json");
    let (_, jwks_before) = l.get(&jwks_path).await;
    let (st, _) = l.get_bearer("/_fake/validate", &access).await;
    assert_eq!(st, StatusCode::OK);

    // Default access-token lifetime is 60 minutes.
    l.clock(json!({"advance_seconds": 3601})).await;
    let (st, v) = l.get_bearer("/_fake/validate", &access).await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("expired"))
    );
    let (t, m) = l.err("GetUser", json!({"AccessToken": access})).await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "Access Token has expired")
    );

    // Keys and signatures are untouched: a sign-in now mints tokens that verify, stamped with
    // the moved time.
    let (_, jwks_after) = l.get(&jwks_path).await;
    assert_eq!(jwks_before, jwks_after);
    let fresh = l.login(&client_id, "alice").await;
    let fresh_access = fresh["AccessToken"].as_str().unwrap();
    let (st, v) = l.get_bearer("/_fake/validate", fresh_access).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let iat = claims(fresh_access)["iat"].as_i64().unwrap();
    let wall = fake_cognito::clock::wall_secs();
    assert!((iat - wall - 3601).abs() <= 5, "iat {iat} wall {wall}");

    // Back to wall time: the first token is live again.
    let back = l.clock(json!({"reset": true})).await;
    assert_eq!(back["offset_seconds"], 0.0);
    let (st, _) = l.get_bearer("/_fake/validate", &access).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn clock_moves_refresh_token_validity() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "alice", json!([])).await;
    let refresh = l.login(&client_id, "alice").await["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                      "AuthParameters": {"REFRESH_TOKEN": refresh}});
    // Default refresh lifetime: 30 days.
    l.clock(json!({"advance_seconds": 29 * 86_400})).await;
    l.ok("InitiateAuth", body.clone()).await;
    l.clock(json!({"advance_seconds": 2 * 86_400})).await;
    let (t, m) = l.err("InitiateAuth", body).await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "Refresh Token has expired")
    );
}

#[tokio::test]
async fn clock_moves_code_expiry_for_sign_up_and_forgot_password() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
    l.ok(
        "SignUp",
        json!({"ClientId": client_id, "Username": "bob", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    )
    .await;
    let code = l.code(&pool_id, "bob", "signup").await;
    // Sign-up codes live 24 hours.
    l.clock(json!({"advance_seconds": 24 * 3600 + 1})).await;
    let confirm = json!({"ClientId": client_id, "Username": "bob", "ConfirmationCode": code});
    let (t, _) = l.err("ConfirmSignUp", confirm).await;
    assert_eq!(t, "ExpiredCodeException");

    l.user(
        &pool_id,
        "carol",
        json!([{"Name": "email", "Value": "carol@example.com"},
                                     {"Name": "email_verified", "Value": "true"}]),
    )
    .await;
    l.ok(
        "ForgotPassword",
        json!({"ClientId": client_id, "Username": "carol"}),
    )
    .await;
    let code = l.code(&pool_id, "carol", "forgot_password").await;
    // Reset codes live one hour.
    l.clock(json!({"advance_seconds": 3601})).await;
    let (t, _) = l
        .err(
            "ConfirmForgotPassword",
            json!({"ClientId": client_id, "Username": "carol", "ConfirmationCode": code,
                   "Password": "Another-Pass-1!"}),
        )
        .await;
    assert_eq!(t, "ExpiredCodeException");
}

#[tokio::test]
async fn clock_moves_challenge_session_expiry() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "dave", "TemporaryPassword": PASSWORD,
               "MessageAction": "SUPPRESS"}),
    )
    .await;
    let start = json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": "dave", "PASSWORD": PASSWORD}});
    let challenge = l.ok("InitiateAuth", start).await;
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    // AuthSessionValidity defaults to 3 minutes.
    l.clock(json!({"advance_seconds": 181})).await;
    let (t, m) = l
        .err(
            "RespondToAuthChallenge",
            json!({"ClientId": client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                   "Session": challenge["Session"],
                   "ChallengeResponses": {"USERNAME": "dave", "NEW_PASSWORD": "Another-Pass-1!"}}),
        )
        .await;
    assert_eq!(t, "NotAuthorizedException");
    assert!(m.contains("session is expired"), "{m}");
}

#[tokio::test]
async fn clock_set_reset_and_healthz_offset() {
    let l = Local::start().await;
    let (st, v) = l.get("/_fake/clock").await;
    assert_eq!(
        (st, v["offset_seconds"].as_f64()),
        (StatusCode::OK, Some(0.0))
    );
    let (_, health) = l.get("/healthz").await;
    assert!(health.get("clock").is_none(), "{health}");
    assert_eq!(health["status"], "ok");

    let v = l.clock(json!({"set": "2030-01-01T00:00:00Z"})).await;
    assert!(
        v["now"].as_str().unwrap().starts_with("2030-01-01T00:00:0"),
        "{v}"
    );
    let (_, health) = l.get("/healthz").await;
    assert!(
        health["clock"]["offset_seconds"].as_f64().unwrap() > 0.0,
        "{health}"
    );
    assert!(
        health["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-")
    );
    // Creation dates follow the clock too.
    let pool = l.ok("CreateUserPool", json!({"PoolName": "later"})).await;
    let created = pool["UserPool"]["CreationDate"].as_f64().unwrap();
    assert!((created - 1_893_456_000.0).abs() < 60.0, "{created}");

    let v = l.clock(json!({"set": 0})).await;
    assert!(
        v["now"].as_str().unwrap().starts_with("1970-01-01T00:00:0"),
        "{v}"
    );
    assert!(v["offset_seconds"].as_f64().unwrap() < 0.0);

    l.clock(json!({"reset": true})).await;
    let (_, health) = l.get("/healthz").await;
    assert!(health.get("clock").is_none(), "{health}");
}

#[tokio::test]
async fn clock_bad_requests_are_json_400s_and_change_nothing() {
    let l = Local::start().await;
    for body in [
        "",
        "not json",
        "[]",
        "{}",
        r#"{"advance_seconds": "60"}"#,
        r#"{"advance_seconds": 1e300}"#,
        r#"{"advance_seconds": 1, "reset": true}"#,
        r#"{"set": "next tuesday"}"#,
        r#"{"set": "2030-02-30T00:00:00Z"}"#,
        r#"{"set": -1}"#,
        r#"{"set": 253402300800}"#,
        r#"{"reset": false}"#,
        r#"{"offset": 5}"#,
    ] {
        let (st, v) = l.post("/_fake/clock", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "bad_request", "{body}: {v}");
        assert_eq!(v["status"], 400);
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (_, v) = l.get("/_fake/clock").await;
    assert_eq!(v["offset_seconds"], 0.0);
}
