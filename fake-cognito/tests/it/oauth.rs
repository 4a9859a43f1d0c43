//! `/oauth2/token` (client_credentials with custom scopes, refresh_token) and `/oauth2/userInfo`.

use aws_sdk_cognitoidentityprovider::types::{OAuthFlowType, ResourceServerScopeType};
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn client_credentials_refresh_and_userinfo() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    c.create_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("orders")
        .name("Orders")
        .scopes(
            ResourceServerScopeType::builder()
                .scope_name("read")
                .scope_description("read")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let m2m = c
        .create_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_name("m2m")
        .generate_secret(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("orders/read")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await
        .unwrap();
    let m2m = m2m.user_pool_client().unwrap();
    let (id, secret) = (m2m.client_id().unwrap(), m2m.client_secret().unwrap());
    let http = s.http();
    let url = format!("{}/oauth2/token", s.url);
    let r = http
        .post(&url)
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders/read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap();
    let ac = claims(at);
    assert_eq!(ac["sub"], id);
    assert_eq!(ac["scope"], "orders/read");
    assert!(ac.get("username").is_none());
    assert_eq!(s.validate(at, "token_use=access").await.0, 200);

    let bad_scope = http
        .post(&url)
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders/write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_scope.status().as_u16(), 400);
    assert_eq!(
        bad_scope.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    let bad_secret = http
        .post(&url)
        .basic_auth(id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_secret.status().as_u16(), 401);
    assert_eq!(
        bad_secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    // refresh_token grant and userInfo for a user session.
    let (access, _, refresh) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let r: Value = http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", f.client_id.as_str()),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["id_token"].as_str().is_some());
    let info: Value = http
        .get(format!("{}/oauth2/userInfo", s.url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["username"], "alice");
    assert_eq!(info["email"], "alice@example.com");
}
