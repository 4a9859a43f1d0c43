//! ForgotPassword / AdminResetUserPassword against AccountRecoverySetting (in-process): the
//! verified channel by priority (legacy: phone first), admin_only, no verified channel, disabled
//! users and users whose password is a temporary one.

use serde_json::{Value, json};

use crate::local::{Local, PASSWORD};

fn verified_both() -> Value {
    json!([{"Name": "email", "Value": "ann@example.com"}, {"Name": "email_verified", "Value": "true"},
           {"Name": "phone_number", "Value": "+15555550100"},
           {"Name": "phone_number_verified", "Value": "true"}])
}

fn recovery(mechanisms: Value) -> Value {
    json!({"AccountRecoverySetting": {"RecoveryMechanisms": mechanisms}})
}

async fn forgot_medium(l: &Local, client_id: &str, user: &str) -> Value {
    let r = l
        .ok(
            "ForgotPassword",
            json!({"ClientId": client_id, "Username": user}),
        )
        .await;
    r["CodeDeliveryDetails"]["AttributeName"].clone()
}

#[tokio::test]
async fn forgot_password_picks_the_verified_channel_by_priority() {
    let l = Local::start().await;
    // No setting: the legacy order, phone before email.
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "ann", verified_both()).await;
    assert_eq!(forgot_medium(&l, &client_id, "ann").await, "phone_number");

    let email_first = recovery(json!([{"Name": "verified_phone_number", "Priority": 2},
                                      {"Name": "verified_email", "Priority": 1}]));
    let (pool_id, client_id) = l.pool(email_first).await;
    l.user(&pool_id, "ann", verified_both()).await;
    assert_eq!(forgot_medium(&l, &client_id, "ann").await, "email");
    let (_, codes) = l
        .get(&format!("/_fake/codes?pool_id={pool_id}&username=ann"))
        .await;
    assert_eq!(codes["results"][0]["kind"], "forgot_password");

    // An unverified email does not qualify: the next mechanism is used.
    l.user(
        &pool_id,
        "bo",
        json!([{"Name": "email", "Value": "bo@example.com"},
               {"Name": "phone_number", "Value": "+15555550101"},
               {"Name": "phone_number_verified", "Value": "true"}]),
    )
    .await;
    assert_eq!(forgot_medium(&l, &client_id, "bo").await, "phone_number");
}

#[tokio::test]
async fn forgot_password_refuses_without_a_verified_channel_or_self_service() {
    let l = Local::start().await;
    let email_only = recovery(json!([{"Name": "verified_email", "Priority": 1}]));
    let (pool_id, client_id) = l.pool(email_only).await;
    l.user(
        &pool_id,
        "cy",
        json!([{"Name": "email", "Value": "cy@example.com"},
               {"Name": "phone_number", "Value": "+15555550102"},
               {"Name": "phone_number_verified", "Value": "true"}]),
    )
    .await;
    let forgot = json!({"ClientId": client_id, "Username": "cy"});
    let (t, m) = l.err("ForgotPassword", forgot).await;
    assert_eq!(t, "InvalidParameterException");
    assert_eq!(
        m,
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
    );

    let (pool_id, client_id) = l
        .pool(recovery(json!([{"Name": "admin_only", "Priority": 1}])))
        .await;
    l.user(&pool_id, "di", verified_both()).await;
    let (t, _) = l
        .err(
            "ForgotPassword",
            json!({"ClientId": client_id, "Username": "di"}),
        )
        .await;
    assert_eq!(t, "NotAuthorizedException");
    // The administrator still can: the user must reset, and no code is sent.
    l.ok(
        "AdminResetUserPassword",
        json!({"UserPoolId": pool_id, "Username": "di"}),
    )
    .await;
    let u = l
        .ok(
            "AdminGetUser",
            json!({"UserPoolId": pool_id, "Username": "di"}),
        )
        .await;
    assert_eq!(u["UserStatus"], "RESET_REQUIRED");
    let (_, codes) = l
        .get(&format!("/_fake/codes?pool_id={pool_id}&username=di"))
        .await;
    assert_eq!(codes["results"], json!([]));
}

#[tokio::test]
async fn disabled_users_and_temporary_passwords_cannot_be_reset() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    l.user(&pool_id, "ed", verified_both()).await;
    l.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool_id, "Username": "ed"}),
    )
    .await;
    let (t, m) = l
        .err(
            "ForgotPassword",
            json!({"ClientId": client_id, "Username": "ed"}),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("NotAuthorizedException", "User is disabled.")
    );
    let (t, _) = l
        .err(
            "AdminResetUserPassword",
            json!({"UserPoolId": pool_id, "Username": "ed"}),
        )
        .await;
    assert_eq!(t, "NotAuthorizedException");

    l.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "fay", "TemporaryPassword": PASSWORD,
               "MessageAction": "SUPPRESS", "UserAttributes": verified_both()}),
    )
    .await;
    let (t, m) = l
        .err(
            "ForgotPassword",
            json!({"ClientId": client_id, "Username": "fay"}),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (
            "NotAuthorizedException",
            "User password cannot be reset in the current state."
        )
    );
}

#[tokio::test]
async fn admin_reset_sends_the_code_to_the_verified_channel_and_requires_a_reset() {
    let l = Local::start().await;
    let (pool_id, client_id) = l
        .pool(recovery(json!([{"Name": "verified_email", "Priority": 1}])))
        .await;
    l.user(&pool_id, "gus", verified_both()).await;
    l.user(
        &pool_id,
        "hal",
        json!([{"Name": "email", "Value": "hal@example.com"}]),
    )
    .await;
    l.ok(
        "AdminResetUserPassword",
        json!({"UserPoolId": pool_id, "Username": "gus"}),
    )
    .await;
    let (_, codes) = l
        .get(&format!("/_fake/codes?pool_id={pool_id}&username=gus"))
        .await;
    assert_eq!(codes["results"][0]["kind"], "forgot_password");
    let (t, _) = l
        .err(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "gus", "PASSWORD": PASSWORD}}),
        )
        .await;
    assert_eq!(t, "PasswordResetRequiredException");
    // No verified channel at all: nothing could receive the code.
    let (t, _) = l
        .err(
            "AdminResetUserPassword",
            json!({"UserPoolId": pool_id, "Username": "hal"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
}
