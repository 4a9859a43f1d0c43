//! Refresh-token rotation (in-process): the client setting, `GetTokensFromRefreshToken` with and
//! without rotation, the retry grace period on the movable clock, REFRESH_TOKEN_AUTH refused for
//! rotating clients, and `RevokeToken` on a rotated token.

use serde_json::{Value, json};

use crate::local::Local;

async fn rotating_client(l: &Local, pool_id: &str, grace: i64) -> String {
    let c = l
        .ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientName": "rot",
                   "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                   "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": grace}}),
        )
        .await;
    c["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned()
}

fn get_tokens(client_id: &str, refresh: &Value) -> Value {
    json!({"ClientId": client_id, "RefreshToken": refresh})
}

#[tokio::test]
async fn rotation_setting_is_validated_and_described() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    let d = l
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": client_id}),
        )
        .await;
    assert!(d["UserPoolClient"].get("RefreshTokenRotation").is_none());
    let rot = rotating_client(&l, &pool_id, 30).await;
    let d = l
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": rot}),
        )
        .await;
    assert_eq!(
        d["UserPoolClient"]["RefreshTokenRotation"],
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 30})
    );
    for bad in [
        json!({"Feature": "ON"}),
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 61}),
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": -1}),
        json!({"RetryGracePeriodSeconds": 5}),
    ] {
        let (t, _) = l
            .err(
                "UpdateUserPoolClient",
                json!({"UserPoolId": pool_id, "ClientId": rot, "RefreshTokenRotation": bad}),
            )
            .await;
        assert_eq!(t, "InvalidParameterException", "{bad}");
    }
    l.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientId": rot,
               "RefreshTokenRotation": {"Feature": "DISABLED"}}),
    )
    .await;
    let d = l
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": rot}),
        )
        .await;
    assert_eq!(
        d["UserPoolClient"]["RefreshTokenRotation"],
        json!({"Feature": "DISABLED", "RetryGracePeriodSeconds": 0})
    );
}

#[tokio::test]
async fn without_rotation_get_tokens_returns_no_new_refresh_token() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "alice", json!([])).await;
    let t = l.login(&client_id, "alice").await;
    let r = l
        .ok(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &t["RefreshToken"]),
        )
        .await;
    let res = &r["AuthenticationResult"];
    assert!(
        res["AccessToken"].is_string() && res["IdToken"].is_string(),
        "{r}"
    );
    assert!(res.get("RefreshToken").is_none(), "{r}");
    // The same token keeps working, with both flows.
    l.ok(
        "GetTokensFromRefreshToken",
        get_tokens(&client_id, &t["RefreshToken"]),
    )
    .await;
}

#[tokio::test]
async fn rotation_issues_new_refresh_tokens_and_retires_old_ones_after_the_grace_period() {
    let l = Local::start().await;
    let (pool_id, _) = l.pool(json!({})).await;
    let client_id = rotating_client(&l, &pool_id, 10).await;
    l.user(&pool_id, "alice", json!([])).await;
    let t = l.login(&client_id, "alice").await;

    // REFRESH_TOKEN_AUTH is refused for a rotating client.
    let (ty, _) = l
        .err(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                   "AuthParameters": {"REFRESH_TOKEN": t["RefreshToken"]}}),
        )
        .await;
    assert_eq!(ty, "NotAuthorizedException");

    let first = l
        .ok(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &t["RefreshToken"]),
        )
        .await["AuthenticationResult"]
        .clone();
    let new_refresh = first["RefreshToken"].clone();
    assert!(new_refresh.is_string(), "{first}");
    assert_ne!(new_refresh, t["RefreshToken"]);
    l.ok("GetUser", json!({"AccessToken": first["AccessToken"]}))
        .await;

    // Inside the grace period the old token still works (a client retry)…
    l.clock(json!({"advance_seconds": 9})).await;
    let retry = l
        .ok(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &t["RefreshToken"]),
        )
        .await;
    assert!(retry["AuthenticationResult"]["RefreshToken"].is_string());
    // …and after it, it is refused while the new one works.
    l.clock(json!({"advance_seconds": 2})).await;
    let (ty, m) = l
        .err(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &t["RefreshToken"]),
        )
        .await;
    assert_eq!(
        (ty.as_str(), m.as_str()),
        ("NotAuthorizedException", "Invalid Refresh Token")
    );
    let second = l
        .ok(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &new_refresh),
        )
        .await["AuthenticationResult"]
        .clone();
    let newest = second["RefreshToken"].clone();

    // RevokeToken on a rotated token ends the family.
    l.ok(
        "RevokeToken",
        json!({"ClientId": client_id, "Token": newest}),
    )
    .await;
    let (ty, _) = l
        .err("GetTokensFromRefreshToken", get_tokens(&client_id, &newest))
        .await;
    assert_eq!(ty, "NotAuthorizedException");
}

#[tokio::test]
async fn zero_grace_retires_the_old_token_at_once() {
    let l = Local::start().await;
    let (pool_id, _) = l.pool(json!({})).await;
    let client_id = rotating_client(&l, &pool_id, 0).await;
    l.user(&pool_id, "alice", json!([])).await;
    let t = l.login(&client_id, "alice").await;
    l.ok(
        "GetTokensFromRefreshToken",
        get_tokens(&client_id, &t["RefreshToken"]),
    )
    .await;
    let (ty, _) = l
        .err(
            "GetTokensFromRefreshToken",
            get_tokens(&client_id, &t["RefreshToken"]),
        )
        .await;
    assert_eq!(ty, "NotAuthorizedException");
}
