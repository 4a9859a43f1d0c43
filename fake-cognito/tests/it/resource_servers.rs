//! Resource servers: CRUD, paging, AWS's member checks, and the custom scopes that
//! `client_credentials` tokens carry.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::local::{Local, claims};

fn scope(name: &str) -> Value {
    json!({"ScopeName": name, "ScopeDescription": format!("{name} things")})
}

#[tokio::test]
async fn resource_server_crud_and_paging() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let created = l
        .ok(
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "API",
                   "Scopes": [scope("read"), scope("write")]}),
        )
        .await;
    assert_eq!(
        created["ResourceServer"]["Identifier"],
        "https://api.example.com"
    );
    assert_eq!(created["ResourceServer"]["Scopes"][1]["ScopeName"], "write");
    let (t, m) = l
        .err(
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "Again"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("already exists"), "{m}");
    for i in 0..3 {
        l.ok(
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": format!("svc{i}"), "Name": "S"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"UserPoolId": pool, "MaxResults": 3});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = l.ok("ListResourceServers", body).await;
        let items = page["ResourceServers"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|s| s["Identifier"].as_str().unwrap().to_owned()),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["https://api.example.com", "svc0", "svc1", "svc2"]);
    let updated = l
        .ok(
            "UpdateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "svc0", "Name": "Renamed",
                   "Scopes": [scope("admin")]}),
        )
        .await;
    assert_eq!(updated["ResourceServer"]["Name"], "Renamed");
    let d = l
        .ok(
            "DescribeResourceServer",
            json!({"UserPoolId": pool, "Identifier": "svc0"}),
        )
        .await;
    assert_eq!(d["ResourceServer"]["Scopes"][0]["ScopeName"], "admin");
    l.ok(
        "DeleteResourceServer",
        json!({"UserPoolId": pool, "Identifier": "svc0"}),
    )
    .await;
    for op in ["DescribeResourceServer", "DeleteResourceServer"] {
        let (t, _) = l
            .err(op, json!({"UserPoolId": pool, "Identifier": "svc0"}))
            .await;
        assert_eq!(t, "ResourceNotFoundException", "{op}");
    }
    let (t, _) = l
        .err(
            "UpdateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "svc0", "Name": "X"}),
        )
        .await;
    assert_eq!(t, "ResourceNotFoundException");
    let (t, m) = l
        .err("ListResourceServers", json!({"UserPoolId": pool}))
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("maxResults"), "{m}");
}

#[tokio::test]
async fn resource_server_members_are_validated() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let too_many: Vec<Value> = (0..101).map(|i| scope(&format!("s{i}"))).collect();
    let cases = [
        (
            json!({"Identifier": "has space", "Name": "A"}),
            "identifier",
        ),
        (
            json!({"Identifier": "x".repeat(257), "Name": "A"}),
            "identifier",
        ),
        (json!({"Identifier": "api", "Name": "bad!name"}), "name"),
        (
            json!({"Identifier": "api", "Name": "A", "Scopes": too_many}),
            "scopes",
        ),
        (
            json!({"Identifier": "api", "Name": "A", "Scopes": [scope("a/b")]}),
            "scopeName",
        ),
        (
            json!({"Identifier": "api", "Name": "A", "Scopes": [scope("a b")]}),
            "scopeName",
        ),
        (
            json!({"Identifier": "api", "Name": "A", "Scopes": [{"ScopeName": "r"}]}),
            "scopeDescription",
        ),
        (
            json!({"Identifier": "api", "Name": "A",
                   "Scopes": [{"ScopeName": "r", "ScopeDescription": ""}]}),
            "scopeDescription",
        ),
        (
            json!({"Identifier": "api", "Name": "A", "Scopes": [scope("r"), scope("r")]}),
            "Duplicate",
        ),
    ];
    for (mut body, needle) in cases {
        body["UserPoolId"] = json!(pool);
        let (t, m) = l.err("CreateResourceServer", body.clone()).await;
        assert_eq!(t, "InvalidParameterException", "{body}");
        assert!(m.contains(needle), "{needle}: {m}");
    }
    let hundred: Vec<Value> = (0..100).map(|i| scope(&format!("s{i}"))).collect();
    l.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "api", "Name": "A", "Scopes": hundred}),
    )
    .await;
    let (t, _) = l
        .err(
            "CreateResourceServer",
            json!({"UserPoolId": "us-east-1_nope", "Identifier": "x", "Name": "A"}),
        )
        .await;
    assert_eq!(t, "ResourceNotFoundException");
}

/// A secret client with client_credentials and `scopes`; its (id, secret).
async fn m2m(l: &Local, pool: &str, scopes: &[&str]) -> (String, String) {
    let c = l
        .ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "m2m", "GenerateSecret": true,
                   "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": scopes,
                   "AllowedOAuthFlowsUserPoolClient": true}),
        )
        .await;
    let c = &c["UserPoolClient"];
    (
        c["ClientId"].as_str().unwrap().to_owned(),
        c["ClientSecret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn client_credentials_tokens_carry_exactly_the_allowed_custom_scopes() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    l.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "orders", "Name": "Orders",
               "Scopes": [scope("read"), scope("write"), scope("admin")]}),
    )
    .await;
    let (id, secret) = m2m(&l, &pool, &["orders/read", "orders/write", "openid"]).await;
    let token = |body: &'static str| {
        let (id, secret) = (id.clone(), secret.clone());
        let l = &l;
        async move { l.form("/oauth2/token", (&id, &secret), body).await }
    };
    let (st, v) = token("grant_type=client_credentials").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["scope"], "orders/read orders/write");
    assert_eq!(c["token_use"], "access");
    let (st, v) = token("grant_type=client_credentials&scope=orders%2Fwrite").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["scope"],
        "orders/write"
    );
    // Defined but not allowed for this client, unknown, and a non-custom scope.
    for body in [
        "grant_type=client_credentials&scope=orders%2Fadmin",
        "grant_type=client_credentials&scope=orders%2Fnope",
        "grant_type=client_credentials&scope=openid",
        "grant_type=client_credentials&scope=orders%2Fread+other%2Fread",
    ] {
        let (st, v) = token(body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v, json!({"error": "invalid_scope"}), "{body}");
    }
    // A scope taken out of the resource server leaves new tokens at once.
    l.ok(
        "UpdateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "orders", "Name": "Orders",
               "Scopes": [scope("write")]}),
    )
    .await;
    let (_, v) = token("grant_type=client_credentials").await;
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["scope"],
        "orders/write"
    );
    l.ok(
        "DeleteResourceServer",
        json!({"UserPoolId": pool, "Identifier": "orders"}),
    )
    .await;
    let (st, v) = token("grant_type=client_credentials").await;
    assert_eq!(
        (st, v),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_scope"}))
    );
}

#[tokio::test]
async fn client_scopes_and_identity_providers_must_exist_in_the_pool() {
    let l = Local::start().await;
    let (pool, client) = l.pool(json!({})).await;
    let (t, m) = l
        .err(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "c", "AllowedOAuthScopes": ["orders/read"]}),
        )
        .await;
    assert_eq!(t, "ScopeDoesNotExistException");
    assert_eq!(m, "Invalid scope requested: orders/read");
    let (t, _) = l
        .err(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "c", "AllowedOAuthScopes": ["Cognito"]}),
        )
        .await;
    assert_eq!(t, "ScopeDoesNotExistException");
    l.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "orders", "Name": "O", "Scopes": [scope("read")]}),
    )
    .await;
    l.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client, "AllowedOAuthScopes":
               ["orders/read", "openid", "email", "phone", "profile",
                "aws.cognito.signin.user.admin"], "SupportedIdentityProviders": ["COGNITO"]}),
    )
    .await;
    let (t, m) = l
        .err(
            "UpdateUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client,
                   "SupportedIdentityProviders": ["COGNITO", "Google"]}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert_eq!(
        m,
        format!("The provider Google does not exist for User Pool {pool}")
    );
    l.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "ProviderType": "Google",
               "ProviderDetails": {"client_id": "g", "client_secret": "s",
                                   "authorize_scopes": "openid"}}),
    )
    .await;
    l.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client,
               "SupportedIdentityProviders": ["COGNITO", "Google"]}),
    )
    .await;
}
