//! The operations added for issue 18 through the AWS SDK for Rust over real HTTP: the SDK's own
//! serialisers and strict response parsers (enums, timestamps, nested shapes) against the binary.
//! The in-process suites (`mfa.rs`, `resource_servers.rs`, …) cover the behaviour in depth; this
//! file proves a Rust client can drive every one of these calls unchanged.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, IdentityProviderTypeType, RefreshTokenRotationType,
    ResourceServerScopeType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType,
    UserPoolMfaType, VerifySoftwareTokenResponseType,
};
use fake_cognito::mfa::totp;

use crate::support::*;

/// The TOTP code for `secret` at the server's (movable) now.
async fn totp_now(s: &Server, secret: &str) -> String {
    let clock = s.get_json("/_fake/clock").await;
    let now = clock["now_epoch_seconds"].as_f64().unwrap() as i64;
    totp::code_at_step(&totp::base32_decode(secret).unwrap(), now / 30)
}

async fn password_login(
    c: &Client,
    client_id: &str,
) -> aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput {
    c.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn totp_mfa_from_pool_config_to_a_challenged_login() {
    let s = Server::start();
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
    let got = c
        .get_user_pool_mfa_config()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert_eq!(
        got.software_token_mfa_configuration().map(|t| t.enabled()),
        Some(true)
    );

    let (access, _, _) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let assoc = c
        .associate_software_token()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    let secret = assoc.secret_code().unwrap().to_owned();
    let wrong = c
        .verify_software_token()
        .access_token(&access)
        .user_code("000000")
        .send()
        .await;
    assert_eq!(code(wrong), "EnableSoftwareTokenMFAException");
    let verified = c
        .verify_software_token()
        .access_token(&access)
        .user_code(totp_now(&s, &secret).await)
        .friendly_device_name("phone")
        .send()
        .await
        .unwrap();
    assert_eq!(
        verified.status(),
        Some(&VerifySoftwareTokenResponseType::Success)
    );
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
    let user = c
        .admin_get_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(user.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));
    assert_eq!(user.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);

    // A code is good once per 30-second step (AWS refuses a reused one): move to the next step.
    s.http()
        .post(format!("{}/_fake/clock", s.url))
        .json(&serde_json::json!({"advance_seconds": 30}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let challenged = password_login(&c, &f.client_id).await;
    assert_eq!(
        challenged.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    assert!(challenged.authentication_result().is_none());
    let done = c
        .respond_to_auth_challenge()
        .client_id(&f.client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(challenged.session().unwrap())
        .challenge_responses("USERNAME", "alice")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_now(&s, &secret).await)
        .send()
        .await
        .unwrap();
    let tokens = done.authentication_result().unwrap();
    assert_eq!(
        claims(tokens.id_token().unwrap())["cognito:username"],
        "alice"
    );

    // The admin side turns it off again (the SDK omits false booleans: `{}` means off), and the
    // next login is not challenged.
    c.admin_set_user_mfa_preference()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(false)
                .preferred_mfa(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let again = password_login(&c, &f.client_id).await;
    assert!(again.authentication_result().is_some(), "{again:?}");
}

#[tokio::test]
async fn resource_servers_identity_providers_and_domains_round_trip() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let scope = |n: &str| {
        ResourceServerScopeType::builder()
            .scope_name(n)
            .scope_description(n)
            .build()
            .unwrap()
    };
    c.create_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("https://api.example.com")
        .name("api")
        .scopes(scope("read"))
        .send()
        .await
        .unwrap();
    let dup = c
        .create_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("https://api.example.com")
        .name("again")
        .send()
        .await;
    assert_eq!(code(dup), "InvalidParameterException");
    c.update_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("https://api.example.com")
        .name("api")
        .scopes(scope("read"))
        .scopes(scope("write"))
        .send()
        .await
        .unwrap();
    let rs = c
        .describe_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("https://api.example.com")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = rs
        .resource_server()
        .unwrap()
        .scopes()
        .iter()
        .map(|s| s.scope_name())
        .collect();
    assert_eq!(names, ["read", "write"]);
    let listed = c
        .list_resource_servers()
        .user_pool_id(&f.pool_id)
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.resource_servers().len(), 1);
    c.delete_resource_server()
        .user_pool_id(&f.pool_id)
        .identifier("https://api.example.com")
        .send()
        .await
        .unwrap();

    c.create_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Google")
        .provider_type(IdentityProviderTypeType::Google)
        .provider_details("client_id", "g-id")
        .provider_details("client_secret", "g-secret")
        .provider_details("authorize_scopes", "openid email")
        .attribute_mapping("email", "email")
        .idp_identifiers("gmail")
        .send()
        .await
        .unwrap();
    let by_id = c
        .get_identity_provider_by_identifier()
        .user_pool_id(&f.pool_id)
        .idp_identifier("gmail")
        .send()
        .await
        .unwrap();
    let idp = by_id.identity_provider().unwrap();
    assert_eq!(idp.provider_name(), Some("Google"));
    assert_eq!(idp.provider_type(), Some(&IdentityProviderTypeType::Google));
    assert!(idp.creation_date().is_some() && idp.last_modified_date().is_some());
    let missing_detail = c
        .create_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Other")
        .provider_type(IdentityProviderTypeType::Google)
        .provider_details("client_id", "x")
        .send()
        .await;
    assert_eq!(code(missing_detail), "InvalidParameterException");
    c.update_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Google")
        .attribute_mapping("email", "email")
        .attribute_mapping("name", "name")
        .send()
        .await
        .unwrap();
    let described = c
        .describe_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Google")
        .send()
        .await
        .unwrap();
    let mapping = described
        .identity_provider()
        .unwrap()
        .attribute_mapping()
        .unwrap();
    assert_eq!(mapping.get("name").map(String::as_str), Some("name"));
    let providers = c
        .list_identity_providers()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(providers.providers().len(), 1);
    c.delete_identity_provider()
        .user_pool_id(&f.pool_id)
        .provider_name("Google")
        .send()
        .await
        .unwrap();

    c.create_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("it-sdk-domain")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_user_pool_domain()
        .domain("it-sdk-domain")
        .send()
        .await
        .unwrap();
    let desc = d.domain_description().unwrap();
    assert_eq!(desc.user_pool_id(), Some(f.pool_id.as_str()));
    let taken = c
        .create_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("it-sdk-domain")
        .send()
        .await;
    assert_eq!(code(taken), "InvalidParameterException");
    c.delete_user_pool_domain()
        .user_pool_id(&f.pool_id)
        .domain("it-sdk-domain")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn rotation_revocation_and_global_sign_out() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    c.update_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_id(&f.client_id)
        .set_explicit_auth_flows(Some(flows(&[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ])))
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(aws_sdk_cognitoidentityprovider::types::FeatureType::Enabled)
                .retry_grace_period_seconds(0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (_, _, refresh) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let rotated = c
        .get_tokens_from_refresh_token()
        .client_id(&f.client_id)
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap();
    let result = rotated.authentication_result().unwrap();
    let next = result.refresh_token().expect("a rotated refresh token");
    assert_ne!(next, refresh);
    let reused = c
        .get_tokens_from_refresh_token()
        .client_id(&f.client_id)
        .refresh_token(&refresh)
        .send()
        .await;
    assert_eq!(code(reused), "NotAuthorizedException");
    c.revoke_token()
        .client_id(&f.client_id)
        .token(next)
        .send()
        .await
        .unwrap();
    let revoked = c
        .get_tokens_from_refresh_token()
        .client_id(&f.client_id)
        .refresh_token(next)
        .send()
        .await;
    assert_eq!(code(revoked), "NotAuthorizedException");

    let (access, _, refresh) = login(&c, &f.client_id, "alice", PASSWORD).await;
    c.admin_user_global_sign_out()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.get_user().access_token(&access).send().await),
        "NotAuthorizedException"
    );
    let after = c
        .get_tokens_from_refresh_token()
        .client_id(&f.client_id)
        .refresh_token(&refresh)
        .send()
        .await;
    assert_eq!(code(after), "NotAuthorizedException");
}
