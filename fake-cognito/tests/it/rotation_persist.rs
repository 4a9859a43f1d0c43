//! Rotation state is durable: after `kill -9` a rotating client keeps its setting, the rotated-out
//! refresh token stays refused and the newest one keeps working.

use serde_json::{Value, json};

use crate::support::{PASSWORD, Server};

/// One Cognito call over HTTP: (status, body).
async fn call(s: &Server, op: &str, body: Value) -> (u16, Value) {
    let r = s
        .http()
        .post(&s.url)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{op}"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn ok(s: &Server, op: &str, body: Value) -> Value {
    let (st, v) = call(s, op, body).await;
    assert_eq!(st, 200, "{op}: {v}");
    v
}

#[tokio::test]
async fn rotation_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let pool = ok(&s, "CreateUserPool", json!({"PoolName": "rot"})).await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = ok(
        &s,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "rot",
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
               "RefreshTokenRotation": {"Feature": "ENABLED"}}),
    )
    .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &s,
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "alice", "MessageAction": "SUPPRESS"}),
    )
    .await;
    ok(
        &s,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": "alice", "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    let login = ok(
        &s,
        "InitiateAuth",
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
    )
    .await;
    let old = login["AuthenticationResult"]["RefreshToken"].clone();
    let rotated = ok(
        &s,
        "GetTokensFromRefreshToken",
        json!({"ClientId": client_id, "RefreshToken": old}),
    )
    .await;
    let new = rotated["AuthenticationResult"]["RefreshToken"].clone();
    let port = s.port();
    s.kill9();

    let s2 = Server::start_at(&state, &["--port", &port], &[]);
    let d = ok(
        &s2,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientId": client_id}),
    )
    .await;
    assert_eq!(
        d["UserPoolClient"]["RefreshTokenRotation"],
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    );
    let (st, v) = call(
        &s2,
        "GetTokensFromRefreshToken",
        json!({"ClientId": client_id, "RefreshToken": old}),
    )
    .await;
    assert_eq!(
        (st, v["__type"].as_str()),
        (400, Some("NotAuthorizedException")),
        "{v}"
    );
    ok(
        &s2,
        "GetTokensFromRefreshToken",
        json!({"ClientId": client_id, "RefreshToken": new}),
    )
    .await;
}
