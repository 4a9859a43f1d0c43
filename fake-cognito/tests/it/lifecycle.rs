//! Pools, clients, users and groups through the SDK, with Cognito's error `__type`s.

use aws_sdk_cognitoidentityprovider::types::{MessageActionType, UserStatusType};

use crate::support::*;

/// Pool ids and client ids in Cognito's shapes; the pool is findable by name with its schema.
#[tokio::test]
async fn pool_and_client_ids_have_cognitos_shapes_and_the_pool_is_listed_and_described() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // Pool ids and client ids in Cognito's shapes; the pool is findable by name.
    let (region, suffix) = f.pool_id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(suffix.len(), 9);
    assert!(suffix.chars().all(|ch| ch.is_ascii_alphanumeric()));
    assert_eq!(f.client_id.len(), 26);
    let pools = c.list_user_pools().max_results(60).send().await.unwrap();
    assert!(
        pools
            .user_pools()
            .iter()
            .any(|p| p.name() == Some("it-pool") && p.id() == Some(f.pool_id.as_str()))
    );
    let described = c
        .describe_user_pool()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    let schema = described.user_pool().unwrap().schema_attributes();
    assert!(schema.iter().any(|a| a.name() == Some("custom:account_id")));
    assert!(schema.iter().any(|a| a.name() == Some("email")));
}

/// GenerateSecret makes a 51-character secret; Describe returns it; List shows both clients.
#[tokio::test]
async fn a_secret_client_gets_a_generated_secret_that_describe_returns() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // Secret clients: the secret is generated and described.
    let secret_client = c
        .create_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_name("backend")
        .generate_secret(true)
        .send()
        .await
        .unwrap();
    let sc = secret_client.user_pool_client().unwrap();
    let secret = sc.client_secret().unwrap().to_owned();
    assert_eq!(secret.len(), 51);
    let d = c
        .describe_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_id(sc.client_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.user_pool_client().unwrap().client_secret(),
        Some(secret.as_str())
    );
    let listed = c
        .list_user_pool_clients()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.user_pool_clients().len(), 2);
}

/// Duplicate users, unknown custom attributes, missing users and pools get Cognito's `__type`s.
#[tokio::test]
async fn users_are_created_once_read_and_updated_with_cognitos_errors() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // Users: duplicate creation, custom attributes, get, update, disable, delete.
    let dup = c
        .admin_create_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .message_action(MessageActionType::Suppress)
        .send()
        .await;
    assert_eq!(code(dup), "UsernameExistsException");
    let u = c
        .admin_get_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(u.user_status(), Some(&UserStatusType::Confirmed));
    let attrs = u.user_attributes();
    assert!(
        attrs
            .iter()
            .any(|a| a.name() == "custom:account_id" && a.value() == Some("acc-1"))
    );
    assert!(attrs.iter().any(|a| a.name() == "sub"));
    let bad_attr = c
        .admin_update_user_attributes()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .user_attributes(attr("custom:nope", "x"))
        .send()
        .await;
    assert_eq!(code(bad_attr), "InvalidParameterException");
    c.admin_update_user_attributes()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .user_attributes(attr("given_name", "Alice"))
        .send()
        .await
        .unwrap();
    let missing = c
        .admin_get_user()
        .user_pool_id(&f.pool_id)
        .username("nobody")
        .send()
        .await;
    assert_eq!(code(missing), "UserNotFoundException");
    let no_pool = c
        .describe_user_pool()
        .user_pool_id("us-east-1_missing00")
        .send()
        .await;
    assert_eq!(code(no_pool), "ResourceNotFoundException");
}

/// Duplicate and unknown groups are refused; membership is listed and removed.
#[tokio::test]
async fn group_membership_is_added_listed_and_removed() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // Groups.
    let dup_group = c
        .create_group()
        .user_pool_id(&f.pool_id)
        .group_name("admins")
        .send()
        .await;
    assert_eq!(code(dup_group), "GroupExistsException");
    let groups = c
        .admin_list_groups_for_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_name(), Some("admins"));
    let no_group = c
        .admin_add_user_to_group()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .group_name("ghosts")
        .send()
        .await;
    assert_eq!(code(no_group), "ResourceNotFoundException");
    c.admin_remove_user_from_group()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let groups = c
        .admin_list_groups_for_user()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert!(groups.groups().is_empty());
    let all = c
        .list_groups()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(all.groups().len(), 1);
}

/// ListUsers: a prefix filter, pagination tokens, and a malformed filter.
#[tokio::test]
async fn list_users_filters_and_paginates() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // ListUsers with a filter and pagination.
    for name in ["bob", "bella", "carol"] {
        create_user(&c, &f.pool_id, name).await;
    }
    let b = c
        .list_users()
        .user_pool_id(&f.pool_id)
        .filter("username ^= \"b\"")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = b.users().iter().filter_map(|u| u.username()).collect();
    assert_eq!(names, ["bella", "bob"]);
    let page1 = c
        .list_users()
        .user_pool_id(&f.pool_id)
        .limit(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page1.users().len(), 3);
    let page2 = c
        .list_users()
        .user_pool_id(&f.pool_id)
        .limit(3)
        .pagination_token(page1.pagination_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page2.users().len(), 1);
    let bad_filter = c
        .list_users()
        .user_pool_id(&f.pool_id)
        .filter("email = unquoted")
        .send()
        .await;
    assert_eq!(code(bad_filter), "InvalidParameterException");
}

/// Disable blocks login until Enable; Delete removes the user.
#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_a_deleted_user_is_gone() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    create_user(&c, &f.pool_id, "carol").await;

    // Disable blocks login; delete removes the user.
    c.admin_disable_user()
        .user_pool_id(&f.pool_id)
        .username("carol")
        .send()
        .await
        .unwrap();
    let disabled = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "carol")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(code(disabled), "NotAuthorizedException");
    c.admin_enable_user()
        .user_pool_id(&f.pool_id)
        .username("carol")
        .send()
        .await
        .unwrap();
    login(&c, &f.client_id, "carol", PASSWORD).await;
    c.admin_delete_user()
        .user_pool_id(&f.pool_id)
        .username("carol")
        .send()
        .await
        .unwrap();
    let gone = c
        .admin_get_user()
        .user_pool_id(&f.pool_id)
        .username("carol")
        .send()
        .await;
    assert_eq!(code(gone), "UserNotFoundException");
}

/// AdminSetUserPassword checks the pool's password policy.
#[tokio::test]
async fn admin_set_user_password_enforces_the_password_policy() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // Password policy on AdminSetUserPassword.
    let weak = c
        .admin_set_user_password()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .password("short")
        .permanent(true)
        .send()
        .await;
    assert_eq!(code(weak), "InvalidPasswordException");
}

/// An unknown X-Amz-Target answers 400 `UnknownOperationException` with a request id.
#[tokio::test]
async fn an_unknown_operation_is_a_json_400_with_a_request_id() {
    let s = Server::start();

    // Unknown operation.
    let r = s
        .http()
        .post(&s.url)
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.NoSuchThing",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.headers().contains_key("x-amzn-requestid"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
}

/// `/_fake/state` never contains password hashes or SRP verifiers; DeleteUserPool removes the pool.
#[tokio::test]
async fn the_state_dump_holds_no_password_material_and_a_deleted_pool_is_gone() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    // State dump has no password material; delete pool.
    let dump = s.get_json("/_fake/state").await.to_string();
    assert!(!dump.contains("\"password\"") && !dump.contains("\"srp\""));
    c.delete_user_pool()
        .user_pool_id(&f.pool_id)
        .send()
        .await
        .unwrap();
    let pools = c.list_user_pools().max_results(10).send().await.unwrap();
    assert!(pools.user_pools().is_empty());
}

#[tokio::test]
async fn sign_up_confirm_and_forgot_password_via_codes() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    let weak = c
        .sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .password("weak")
        .send()
        .await;
    assert_eq!(code(weak), "InvalidPasswordException");
    let r = c
        .sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .password(PASSWORD)
        .user_attributes(attr("email", "dave@example.com"))
        .send()
        .await
        .unwrap();
    assert!(!r.user_confirmed());
    let dup = c
        .sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .password(PASSWORD)
        .send()
        .await;
    assert_eq!(code(dup), "UsernameExistsException");

    // UNCONFIRMED users are refused before the password is checked.
    let unconfirmed = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "dave")
        .auth_parameters("PASSWORD", "wrong-but-irrelevant")
        .send()
        .await;
    assert_eq!(code(unconfirmed), "UserNotConfirmedException");

    let codes = s
        .get_json(&format!("/_fake/codes?pool_id={}&username=dave", f.pool_id))
        .await;
    let entry = &codes["results"][0];
    assert_eq!(entry["kind"], "signup");
    let signup_code = entry["code"].as_str().unwrap().to_owned();
    let wrong = c
        .confirm_sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .confirmation_code(if signup_code == "000000" {
            "111111"
        } else {
            "000000"
        })
        .send()
        .await;
    assert_eq!(code(wrong), "CodeMismatchException");
    c.confirm_sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .confirmation_code(&signup_code)
        .send()
        .await
        .unwrap();
    let again = c
        .confirm_sign_up()
        .client_id(&f.client_id)
        .username("dave")
        .confirmation_code(&signup_code)
        .send()
        .await;
    assert_eq!(code(again), "NotAuthorizedException");
    login(&c, &f.client_id, "dave", PASSWORD).await;

    // Forgot password: the old password keeps working until the code is confirmed.
    c.forgot_password()
        .client_id(&f.client_id)
        .username("dave")
        .send()
        .await
        .unwrap();
    login(&c, &f.client_id, "dave", PASSWORD).await;
    let codes = s
        .get_json(&format!("/_fake/codes?pool_id={}&username=dave", f.pool_id))
        .await;
    let reset = codes["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "forgot_password")
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_pw = "Battery-Staple-7?";
    c.confirm_forgot_password()
        .client_id(&f.client_id)
        .username("dave")
        .confirmation_code(&reset)
        .password(new_pw)
        .send()
        .await
        .unwrap();
    login(&c, &f.client_id, "dave", new_pw).await;
    let old = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "dave")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(code(old), "NotAuthorizedException");
    let reused = c
        .confirm_forgot_password()
        .client_id(&f.client_id)
        .username("dave")
        .confirmation_code(&reset)
        .password(PASSWORD)
        .send()
        .await;
    assert_eq!(code(reused), "ExpiredCodeException");
}
