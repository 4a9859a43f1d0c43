//! `/oauth2/token` (client_credentials with custom scopes, refresh_token), `/oauth2/userInfo`,
//! and the hosted UI's code + PKCE flow over real HTTP.

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
    // AWS: userInfo wants the openid scope, which API sign-ins never carry.
    let info = http
        .get(format!("{}/oauth2/userInfo", s.url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status().as_u16(), 401);
    assert_eq!(
        info.json::<Value>().await.unwrap()["error"],
        "invalid_token"
    );
}

/// The whole code + PKCE flow over real HTTP under the domain path: authorize → login page →
/// form POST → callback with the code → token endpoint → signatures checked against the JWKS
/// with an independent verifier → userInfo.
#[tokio::test]
async fn hosted_ui_code_flow_over_http_under_the_domain_path() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    c.create_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("shop")
        .send()
        .await
        .unwrap();
    let web = c
        .create_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_name("web")
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_flows_user_pool_client(true)
        .callback_urls("http://localhost:3000/cb")
        .supported_identity_providers("COGNITO")
        .send()
        .await
        .unwrap();
    let client_id = web
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    let d = c
        .describe_user_pool_domain()
        .domain("shop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.domain_description().unwrap().user_pool_id(),
        Some(f.pool_id.as_str())
    );
    let base = format!("{}/domain/shop", s.url);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let authorize = http
        .get(format!("{base}/oauth2/authorize"))
        .query(&[
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://localhost:3000/cb"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(authorize.status().as_u16(), 302);
    let login = authorize.headers()["location"].to_str().unwrap().to_owned();
    assert!(login.starts_with("/domain/shop/login?"), "{login}");
    let page = http.get(format!("{}{login}", s.url)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("name=\"username\""));
    let query: Vec<(String, String)> = reqwest::Url::parse(&format!("{}{login}", s.url))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let mut form = query.clone();
    form.push(("username".into(), "alice".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed = http
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 302);
    let cb = reqwest::Url::parse(signed.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(cb.path(), "/cb");
    let got: std::collections::HashMap<String, String> = cb.query_pairs().into_owned().collect();
    assert_eq!(got["state"], "s1");
    let t: Value = http
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id.as_str()),
            ("code", got["code"].as_str()),
            ("redirect_uri", "http://localhost:3000/cb"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks = s
        .get_json(&format!("/{}/.well-known/jwks.json", f.pool_id))
        .await;
    for (name, aud) in [
        ("id_token", Some(client_id.as_str())),
        ("access_token", None),
    ] {
        let token = t[name].as_str().unwrap_or_else(|| panic!("{name}: {t}"));
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        match aud {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Value>(token, &key, &v).unwrap();
        assert_eq!(
            data.claims["sub"],
            claims(t["id_token"].as_str().unwrap())["sub"]
        );
    }
    let info: Value = http
        .get(format!("{base}/oauth2/userInfo"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["username"], "alice");
}
