//! Identity providers: CRUD, `GetIdentityProviderByIdentifier`, paging, `ProviderName` and the
//! `ProviderDetails` keys each type requires, duplicate names and identifiers.

use serde_json::{Value, json};

use crate::local::Local;

fn google() -> Value {
    json!({"client_id": "g-id", "client_secret": "g-secret", "authorize_scopes": "openid email"})
}

fn oidc() -> Value {
    json!({"client_id": "o-id", "client_secret": "o-secret", "attributes_request_method": "GET",
           "oidc_issuer": "https://idp.example.com", "authorize_scopes": "openid"})
}

#[tokio::test]
async fn identity_provider_crud_lookup_and_paging() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let created = l
        .ok(
            "CreateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "OIDC",
                   "ProviderDetails": oidc(), "AttributeMapping": {"email": "email"},
                   "IdpIdentifiers": ["corp.example.com"]}),
        )
        .await;
    let p = &created["IdentityProvider"];
    assert_eq!(p["ProviderType"], "OIDC");
    assert_eq!(
        p["AttributeMapping"],
        json!({"email": "email", "username": "sub"})
    );
    assert!(p["CreationDate"].is_number());
    l.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "ProviderType": "Google",
               "ProviderDetails": google()}),
    )
    .await;
    l.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Okta", "ProviderType": "SAML",
               "ProviderDetails": {"MetadataURL": "https://okta.example.com/md"},
               "IdpIdentifiers": ["okta"]}),
    )
    .await;
    let by_id = l
        .ok(
            "GetIdentityProviderByIdentifier",
            json!({"UserPoolId": pool, "IdpIdentifier": "okta"}),
        )
        .await;
    assert_eq!(by_id["IdentityProvider"]["ProviderName"], "Okta");
    let (t, _) = l
        .err(
            "GetIdentityProviderByIdentifier",
            json!({"UserPoolId": pool, "IdpIdentifier": "nobody"}),
        )
        .await;
    assert_eq!(t, "ResourceNotFoundException");
    let first = l
        .ok(
            "ListIdentityProviders",
            json!({"UserPoolId": pool, "MaxResults": 2}),
        )
        .await;
    let names: Vec<&str> = first["Providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ProviderName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Corp", "Google"]);
    assert!(first["Providers"][0].get("ProviderDetails").is_none());
    let token = first["NextToken"].as_str().unwrap();
    let second = l
        .ok(
            "ListIdentityProviders",
            json!({"UserPoolId": pool, "MaxResults": 2, "NextToken": token}),
        )
        .await;
    assert_eq!(second["Providers"][0]["ProviderName"], "Okta");
    assert!(second.get("NextToken").is_none());
    let updated = l
        .ok(
            "UpdateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Okta",
                   "IdpIdentifiers": ["okta", "okta2"]}),
        )
        .await;
    assert_eq!(
        updated["IdentityProvider"]["IdpIdentifiers"],
        json!(["okta", "okta2"])
    );
    let d = l
        .ok(
            "DescribeIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Okta"}),
        )
        .await;
    assert_eq!(
        d["IdentityProvider"]["ProviderDetails"]["MetadataURL"],
        "https://okta.example.com/md"
    );
    l.ok(
        "DeleteIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Okta"}),
    )
    .await;
    for op in [
        "DescribeIdentityProvider",
        "DeleteIdentityProvider",
        "UpdateIdentityProvider",
    ] {
        let (t, _) = l
            .err(op, json!({"UserPoolId": pool, "ProviderName": "Okta"}))
            .await;
        assert_eq!(t, "ResourceNotFoundException", "{op}");
    }
}

#[tokio::test]
async fn duplicate_names_and_identifiers_are_refused() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let saml = |name: &str, ids: Value| {
        json!({"UserPoolId": pool, "ProviderName": name, "ProviderType": "SAML",
               "ProviderDetails": {"MetadataFile": "<xml/>"}, "IdpIdentifiers": ids})
    };
    l.ok("CreateIdentityProvider", saml("One", json!(["shared"])))
        .await;
    let (t, _) = l
        .err("CreateIdentityProvider", saml("One", json!([])))
        .await;
    assert_eq!(t, "DuplicateProviderException");
    let (t, m) = l
        .err("CreateIdentityProvider", saml("Two", json!(["shared"])))
        .await;
    assert_eq!(t, "DuplicateProviderException");
    assert!(m.contains("shared"), "{m}");
    let (t, _) = l
        .err("CreateIdentityProvider", saml("Two", json!(["a", "a"])))
        .await;
    assert_eq!(t, "InvalidParameterException");
    l.ok("CreateIdentityProvider", saml("Two", json!(["other"])))
        .await;
    let (t, _) = l
        .err(
            "UpdateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Two", "IdpIdentifiers": ["shared"]}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
}

#[tokio::test]
async fn provider_names_types_and_details_are_validated() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let apple = json!({"client_id": "a", "team_id": "t", "key_id": "k",
                       "private_key": "pk", "authorize_scopes": "email"});
    let ok = [
        ("Facebook", "Facebook", google()),
        ("LoginWithAmazon", "LoginWithAmazon", google()),
        ("SignInWithApple", "SignInWithApple", apple.clone()),
    ];
    for (name, kind, details) in ok {
        l.ok(
            "CreateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": name, "ProviderType": kind,
                   "ProviderDetails": details}),
        )
        .await;
    }
    let mut no_secret = google();
    no_secret.as_object_mut().unwrap().remove("client_secret");
    let mut no_team = apple.clone();
    no_team.as_object_mut().unwrap().remove("team_id");
    let mut no_issuer = oidc();
    no_issuer.as_object_mut().unwrap().remove("oidc_issuer");
    let mut bad_method = oidc();
    bad_method["attributes_request_method"] = json!("PUT");
    let cases = [
        ("Google", "Google", no_secret, "client_secret"),
        ("SignInWithApple", "SignInWithApple", no_team, "team_id"),
        ("Corp", "OIDC", no_issuer, "oidc_issuer"),
        ("Corp", "OIDC", bad_method, "attributes_request_method"),
        ("Corp", "SAML", json!({}), "MetadataFile"),
        (
            "Corp",
            "SAML",
            json!({"MetadataFile": "x", "MetadataURL": "y"}),
            "MetadataFile",
        ),
        ("Corp", "Twitter", google(), "enum value set"),
        ("MyGoogle", "Google", google(), "must be Google"),
        ("_corp", "OIDC", oidc(), "regular expression"),
        ("ab", "OIDC", oidc(), "regular expression"),
        ("has space", "OIDC", oidc(), "regular expression"),
        (
            "x23456789012345678901234567890123",
            "OIDC",
            oidc(),
            "length less than or equal to 32",
        ),
        ("Cognito", "OIDC", oidc(), "reserved"),
    ];
    for (name, kind, details, needle) in cases {
        let body = json!({"UserPoolId": pool, "ProviderName": name, "ProviderType": kind,
                          "ProviderDetails": details});
        let (t, m) = l.err("CreateIdentityProvider", body.clone()).await;
        assert_eq!(t, "InvalidParameterException", "{body}");
        assert!(m.contains(needle), "{needle}: {m}");
    }
    let (t, m) = l
        .err(
            "CreateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "OIDC",
                   "ProviderDetails": oidc(), "IdpIdentifiers": ["no/slash"]}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("idpIdentifiers.1.member"), "{m}");
    let (t, _) = l
        .err(
            "UpdateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Facebook",
                   "ProviderDetails": {"client_id": "only"}}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
}
