//! Acknowledged writes survive `kill -9`; keys (and so `kid`s) survive restarts; a seed derives
//! the same keys on every machine.

use serde_json::Value;

use crate::support::*;

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn acknowledged_state_survives_kill_9_with_the_same_kids() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let (access, _, refresh) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let (_, _, revoked_refresh) = login(&c, &f.client_id, "alice", PASSWORD).await;
    c.revoke_token()
        .client_id(&f.client_id)
        .token(&revoked_refresh)
        .send()
        .await
        .unwrap();
    let jwks_before = s
        .get_json(&format!("/{}/.well-known/jwks.json", f.pool_id))
        .await;
    let port = s.port();
    s.kill9();

    // Same port: the local issuer (and so `iss`) includes it.
    let s2 = Server::start_at(&state, &["--port", &port], &[]);
    let c2 = s2.sdk().await;
    let jwks_after = s2
        .get_json(&format!("/{}/.well-known/jwks.json", f.pool_id))
        .await;
    assert_eq!(kids(&jwks_before), kids(&jwks_after));
    assert_eq!(jwks_before, jwks_after);
    let u = c2
        .admin_get_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(u.username(), "alice");
    let g = c2
        .admin_list_groups_for_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(g.groups().len(), 1);
    // Sessions issued before the crash still work; the revocation survived too.
    c2.get_user().access_token(&access).send().await.unwrap();
    let ok = c2
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await;
    assert_eq!(code(ok), "Ok");
    let dead = c2
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &revoked_refresh)
        .send()
        .await;
    assert_eq!(code(dead), "NotAuthorizedException");
    login(&c2, &f.client_id, "alice", PASSWORD).await;
}

#[tokio::test]
async fn a_seed_gives_the_same_keys_everywhere() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let seed = [("HIPPODROME_RANDOM_SEED", "1234")];
    let s1 = Server::start_at(&a.path().join("s.json"), &[], &seed);
    let s2 = Server::start_at(&b.path().join("s.json"), &[], &seed);
    let k1 = s1.get_json("/_fake/state").await["kids"].clone();
    let k2 = s2.get_json("/_fake/state").await["kids"].clone();
    assert_eq!(k1, k2);
    let other = Server::start_at(
        &tempfile::tempdir().unwrap().path().join("s.json"),
        &[],
        &[("HIPPODROME_RANDOM_SEED", "99")],
    );
    assert_ne!(other.get_json("/_fake/state").await["kids"], k1);
    drop(s1);
    // Restarting on the same state with the same seed reuses the stored keys.
    let s3 = Server::start_at(&a.path().join("s.json"), &[], &seed);
    assert_eq!(s3.get_json("/_fake/state").await["kids"], k1);
}

#[tokio::test]
async fn a_seed_gives_the_same_ids_on_fresh_servers() {
    let seed = [("HIPPODROME_RANDOM_SEED", "777")];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = Server::start_at(&a.path().join("s.json"), &[], &seed);
    let s2 = Server::start_at(&b.path().join("s.json"), &[], &seed);
    let f1 = fixture(&s1.sdk().await).await;
    let f2 = fixture(&s2.sdk().await).await;
    assert_eq!(
        f1.pool_id, f2.pool_id,
        "pool ids derive from the seed and the pool name"
    );
    assert_eq!(
        f1.client_id, f2.client_id,
        "client ids derive from the seed, pool and client name"
    );
    let (sub1, sub2) = (
        alice_sub(&s1, &f1.pool_id).await,
        alice_sub(&s2, &f2.pool_id).await,
    );
    assert_eq!(sub1, sub2, "subs derive from the seed, pool and username");
    assert!(uuid::Uuid::parse_str(&sub1).is_ok());

    // A second pool with the same name still gets an id of its own.
    let c = s1.sdk().await;
    let again = c
        .create_user_pool()
        .pool_name("it-pool")
        .send()
        .await
        .unwrap();
    assert_ne!(again.user_pool().unwrap().id().unwrap(), f1.pool_id);

    // Without a seed, ids are random.
    let s3 = Server::start_at(
        &tempfile::tempdir().unwrap().path().join("s.json"),
        &[],
        &[],
    );
    let f3 = fixture(&s3.sdk().await).await;
    assert_ne!(f3.pool_id, f1.pool_id);
}

async fn alice_sub(s: &Server, pool: &str) -> String {
    let u = s
        .sdk()
        .await
        .admin_get_user()
        .user_pool_id(pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    u.user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value().map(str::to_owned))
        .unwrap()
}

/// The TOTP code for `secret` at the server's (moved) clock, from the crate's RFC 6238 code.
async fn server_totp(s: &Server, secret: &str) -> String {
    use fake_cognito::mfa::totp;
    let now = s.get_json("/_fake/clock").await["now_epoch_seconds"]
        .as_f64()
        .unwrap() as i64;
    totp::code_at_step(&totp::base32_decode(secret).unwrap(), now / 30)
}

#[tokio::test]
async fn mfa_config_and_totp_survive_kill_9_with_the_rust_sdk() {
    use aws_sdk_cognitoidentityprovider::types::{
        ChallengeNameType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType,
        UserPoolMfaType,
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    c.set_user_pool_mfa_config()
        .user_pool_id(&f.pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .send()
        .await
        .unwrap();
    let (access, _, _) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let secret = c
        .associate_software_token()
        .access_token(&access)
        .send()
        .await
        .unwrap()
        .secret_code()
        .unwrap()
        .to_owned();
    let code = server_totp(&s, &secret).await;
    c.verify_software_token()
        .access_token(&access)
        .user_code(code)
        .send()
        .await
        .unwrap();
    c.set_user_mfa_preference()
        .access_token(&access)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let port = s.port();
    s.kill9();

    let s2 = Server::start_at(&state, &["--port", &port], &[]);
    let c2 = s2.sdk().await;
    let cfg = c2
        .get_user_pool_mfa_config()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(cfg.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert_eq!(
        cfg.software_token_mfa_configuration().map(|c| c.enabled()),
        Some(true)
    );
    let ch = c2
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ch.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    // The step that verified the token is remembered too: the next one signs in.
    s2.http()
        .post(format!("{}/_fake/clock", s2.url))
        .body(r#"{"advance_seconds": 30}"#)
        .send()
        .await
        .unwrap();
    let code = server_totp(&s2, &secret).await;
    let done = c2
        .respond_to_auth_challenge()
        .client_id(&f.client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(ch.session().unwrap())
        .challenge_responses("USERNAME", "alice")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code)
        .send()
        .await
        .unwrap();
    assert!(done.authentication_result().is_some());
}

/// Resource servers, identity providers and both kinds of domain are pool settings: stored with
/// the pool (snapshot + journal), so they survive `kill -9`.
#[tokio::test]
async fn resource_servers_identity_providers_and_domains_survive_kill_9() {
    use aws_sdk_cognitoidentityprovider::types::{
        CustomDomainConfigType, IdentityProviderTypeType, ResourceServerScopeType,
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let scope = ResourceServerScopeType::builder()
        .scope_name("read")
        .scope_description("read orders")
        .build()
        .unwrap();
    c.create_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("orders")
        .name("Orders")
        .scopes(scope)
        .send()
        .await
        .unwrap();
    c.create_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Okta")
        .provider_type(IdentityProviderTypeType::Saml)
        .provider_details("MetadataURL", "https://okta.example.com/md")
        .idp_identifiers("okta")
        .send()
        .await
        .unwrap();
    c.create_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("persisted-prefix")
        .send()
        .await
        .unwrap();
    let cert = CustomDomainConfigType::builder()
        .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/x")
        .build()
        .unwrap();
    c.create_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("auth.persisted.example")
        .custom_domain_config(cert)
        .send()
        .await
        .unwrap();
    s.kill9();

    let s2 = Server::start_at(&state, &[], &[]);
    let c2 = s2.sdk().await;
    let rs = c2
        .describe_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("orders")
        .send()
        .await
        .unwrap();
    let rs = rs.resource_server().unwrap();
    assert_eq!(rs.scopes()[0].scope_name(), "read");
    let idp = c2
        .get_identity_provider_by_identifier()
        .user_pool_id(&f.pool_id)
        .idp_identifier("okta")
        .send()
        .await
        .unwrap();
    assert_eq!(
        idp.identity_provider().unwrap().provider_name(),
        Some("Okta")
    );
    let pool = c2
        .describe_user_pool()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap();
    assert_eq!(pool.domain(), Some("persisted-prefix"));
    assert_eq!(pool.custom_domain(), Some("auth.persisted.example"));
    let d = c2
        .describe_user_pool_domain()
        .domain("auth.persisted.example")
        .send()
        .await
        .unwrap();
    let d = d.domain_description().unwrap();
    assert_eq!(
        d.custom_domain_config().map(|c| c.certificate_arn()),
        Some("arn:aws:acm:us-east-1:123456789012:certificate/x")
    );
}
