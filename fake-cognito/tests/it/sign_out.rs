//! `AdminUserGlobalSignOut` and `GlobalSignOut` (in-process): every refresh token and the access
//! tokens issued before the sign-out are dead with Cognito's messages; later sign-ins are not.

use serde_json::json;

use crate::local::Local;

#[tokio::test]
async fn admin_global_sign_out_revokes_earlier_access_and_refresh_tokens() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "alice", json!([])).await;
    l.user(&pool_id, "bob", json!([])).await;
    let old = l.login(&client_id, "alice").await;
    let bobs = l.login(&client_id, "bob").await;
    l.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool_id, "Username": "alice"}),
    )
    .await;

    let (t, m) = l
        .err("GetUser", json!({"AccessToken": old["AccessToken"]}))
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "Access Token has been revoked")
    );
    let refresh = json!({"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                         "AuthParameters": {"REFRESH_TOKEN": old["RefreshToken"]}});
    let (t, m) = l.err("InitiateAuth", refresh).await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "Refresh Token has been revoked")
    );
    // Another user's session is untouched; a new sign-in works at once.
    l.ok("GetUser", json!({"AccessToken": bobs["AccessToken"]}))
        .await;
    let new = l.login(&client_id, "alice").await;
    l.ok("GetUser", json!({"AccessToken": new["AccessToken"]}))
        .await;

    let (t, _) = l
        .err(
            "AdminUserGlobalSignOut",
            json!({"UserPoolId": pool_id, "Username": "nobody"}),
        )
        .await;
    assert_eq!(t, "UserNotFoundException");

    // GlobalSignOut with the user's own access token does the same.
    l.ok("GlobalSignOut", json!({"AccessToken": new["AccessToken"]}))
        .await;
    let (t, m) = l
        .err("GetUser", json!({"AccessToken": new["AccessToken"]}))
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "Access Token has been revoked")
    );
}
