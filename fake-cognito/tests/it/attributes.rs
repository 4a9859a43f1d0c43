//! Sign-up codes and attribute rules (in-process): a code goes only to an auto-verified
//! attribute and confirming it verifies that attribute; attribute names are checked against the
//! schema; a sign-in alias cannot be moved onto another user's.

use serde_json::{Value, json};

use crate::local::{Local, PASSWORD, claims};

fn sign_up(client_id: &str, name: &str, attrs: Value) -> Value {
    json!({"ClientId": client_id, "Username": name, "Password": PASSWORD, "UserAttributes": attrs})
}

fn email(v: &str) -> Value {
    json!({"Name": "email", "Value": v})
}

fn phone(v: &str) -> Value {
    json!({"Name": "phone_number", "Value": v})
}

async fn attribute(l: &Local, pool_id: &str, user: &str, name: &str) -> Option<String> {
    let u = l
        .ok(
            "AdminGetUser",
            json!({"UserPoolId": pool_id, "Username": user}),
        )
        .await;
    u["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| a["Value"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn sign_up_without_auto_verified_attributes_sends_no_code() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({})).await;
    let r = l
        .ok(
            "SignUp",
            sign_up(&client_id, "bob", json!([email("bob@example.com")])),
        )
        .await;
    assert_eq!(r["UserConfirmed"], false);
    assert!(r.get("CodeDeliveryDetails").is_none(), "{r}");
    let (_, codes) = l
        .get(&format!("/_fake/codes?pool_id={pool_id}&username=bob"))
        .await;
    assert_eq!(codes["results"], json!([]));
    let (t, m) = l
        .err(
            "ResendConfirmationCode",
            json!({"ClientId": client_id, "Username": "bob"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert_eq!(m, "Cannot resend codes. Auto verification not turned on.");
    // Only an administrator can confirm such a user; nothing is verified by it.
    l.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool_id, "Username": "bob"}),
    )
    .await;
    assert_eq!(attribute(&l, &pool_id, "bob", "email_verified").await, None);
}

#[tokio::test]
async fn sign_up_sends_the_code_to_the_auto_verified_attribute_the_user_has() {
    let l = Local::start().await;
    let (_, client_id) = l.pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
    let r = l
        .ok(
            "SignUp",
            sign_up(&client_id, "bob", json!([email("bob@example.com")])),
        )
        .await;
    assert_eq!(
        r["CodeDeliveryDetails"],
        json!({"Destination": "b***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    // Email is auto-verified but this user has only a phone number: no code.
    let r = l
        .ok(
            "SignUp",
            sign_up(&client_id, "carl", json!([phone("+15555550100")])),
        )
        .await;
    assert!(r.get("CodeDeliveryDetails").is_none(), "{r}");

    // With both auto-verified, Cognito verifies only the phone number.
    let (both_pool, both) = l
        .pool(json!({"AutoVerifiedAttributes": ["email", "phone_number"]}))
        .await;
    let r = l
        .ok(
            "SignUp",
            sign_up(
                &both,
                "dora",
                json!([email("dora@example.com"), phone("+15555550101")]),
            ),
        )
        .await;
    assert_eq!(
        r["CodeDeliveryDetails"],
        json!({"Destination": "+*******0101", "DeliveryMedium": "SMS",
               "AttributeName": "phone_number"})
    );
    let (_, codes) = l
        .get(&format!("/_fake/codes?pool_id={both_pool}&username=dora"))
        .await;
    assert_eq!(codes["results"][0]["attribute"], "phone_number");
}

#[tokio::test]
async fn confirm_sign_up_verifies_the_attribute_the_code_went_to() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
    l.ok(
        "SignUp",
        sign_up(&client_id, "bob", json!([email("bob@example.com")])),
    )
    .await;
    assert_eq!(attribute(&l, &pool_id, "bob", "email_verified").await, None);
    let code = l.code(&pool_id, "bob", "signup").await;
    l.ok(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": "bob", "ConfirmationCode": code}),
    )
    .await;
    assert_eq!(
        attribute(&l, &pool_id, "bob", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    let tokens = l.login(&client_id, "bob").await;
    let id = claims(tokens["IdToken"].as_str().unwrap());
    assert_eq!(id["email_verified"], Value::Bool(true), "{id}");

    // A phone code verifies the phone number and leaves the email alone.
    let (pool_id, client_id) = l
        .pool(json!({"AutoVerifiedAttributes": ["email", "phone_number"]}))
        .await;
    l.ok(
        "SignUp",
        sign_up(
            &client_id,
            "eve",
            json!([email("eve@example.com"), phone("+15555550102")]),
        ),
    )
    .await;
    let code = l.code(&pool_id, "eve", "signup").await;
    l.ok(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": "eve", "ConfirmationCode": code}),
    )
    .await;
    assert_eq!(
        attribute(&l, &pool_id, "eve", "phone_number_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(attribute(&l, &pool_id, "eve", "email_verified").await, None);
    let id = claims(
        l.login(&client_id, "eve").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["phone_number_verified"], Value::Bool(true), "{id}");
}

#[tokio::test]
async fn attribute_names_in_deletes_and_client_settings_are_checked_against_the_schema() {
    let l = Local::start().await;
    let schema = json!({"Schema": [
        {"Name": "tier", "AttributeDataType": "String", "Mutable": true},
        {"Name": "email", "AttributeDataType": "String", "Required": true, "Mutable": true}]});
    let (pool_id, _) = l.pool(schema).await;
    l.user(
        &pool_id,
        "alice",
        json!([email("alice@example.com"), {"Name": "custom:tier", "Value": "gold"}]),
    )
    .await;
    let delete = |names: Value| json!({"UserPoolId": pool_id, "Username": "alice", "UserAttributeNames": names});
    let (t, m) = l
        .err(
            "AdminDeleteUserAttributes",
            delete(json!(["custom:nope", "shoe_size"])),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert_eq!(
        m,
        "Invalid user attributes: user.custom:nope: Attribute does not exist in the schema.\nuser.shoe_size: Attribute does not exist in the schema.\n"
    );
    let (t, _) = l
        .err("AdminDeleteUserAttributes", delete(json!(["sub"])))
        .await;
    assert_eq!(t, "InvalidParameterException");
    let (t, m) = l
        .err("AdminDeleteUserAttributes", delete(json!(["email"])))
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("email: The attribute is required"), "{m}");
    l.ok("AdminDeleteUserAttributes", delete(json!(["custom:tier"])))
        .await;
    assert_eq!(attribute(&l, &pool_id, "alice", "custom:tier").await, None);

    let client = |read: Value, write: Value| {
        json!({"UserPoolId": pool_id, "ClientName": "c", "ReadAttributes": read,
               "WriteAttributes": write})
    };
    let (t, m) = l
        .err(
            "CreateUserPoolClient",
            client(json!(["custom:nope"]), json!([])),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (
            "InvalidParameterException",
            "Invalid read attributes specified while creating a client"
        )
    );
    let (_, m) = l
        .err("CreateUserPoolClient", client(json!([]), json!(["tier"])))
        .await;
    assert_eq!(
        m,
        "Invalid write attributes specified while creating a client"
    );
    let made = l
        .ok(
            "CreateUserPoolClient",
            client(
                json!(["email", "email_verified", "custom:tier"]),
                json!(["custom:tier"]),
            ),
        )
        .await;
    let client_id = made["UserPoolClient"]["ClientId"].as_str().unwrap();
    let (_, m) = l
        .err(
            "UpdateUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": client_id, "WriteAttributes": ["nickname", "custom:gone"]}),
        )
        .await;
    assert_eq!(
        m,
        "Invalid write attributes specified while updating a client"
    );
}

#[tokio::test]
async fn moving_an_email_alias_onto_another_users_is_alias_exists() {
    let l = Local::start().await;
    let (pool_id, client_id) = l.pool(json!({"AliasAttributes": ["email"]})).await;
    l.user(&pool_id, "ann", json!([email("ann@example.com")]))
        .await;
    l.user(&pool_id, "ben", json!([email("ben@example.com")]))
        .await;
    let update = |user: &str, v: &str| json!({"UserPoolId": pool_id, "Username": user, "UserAttributes": [email(v)]});
    let (t, m) = l
        .err(
            "AdminUpdateUserAttributes",
            update("ben", "ANN@example.com"),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (
            "AliasExistsException",
            "An account with the given email already exists."
        )
    );
    assert_eq!(
        attribute(&l, &pool_id, "ben", "email").await.as_deref(),
        Some("ben@example.com")
    );
    // Keeping one's own alias is no collision.
    l.ok(
        "AdminUpdateUserAttributes",
        update("ann", "ann@example.com"),
    )
    .await;
    // Self-service updates are checked the same way.
    let access = l.login(&client_id, "ben").await["AccessToken"].clone();
    let (t, _) = l
        .err(
            "UpdateUserAttributes",
            json!({"AccessToken": access, "UserAttributes": [email("ann@example.com")]}),
        )
        .await;
    assert_eq!(t, "AliasExistsException");

    // Where email is not a sign-in attribute, two users may share one.
    let (plain, _) = l.pool(json!({})).await;
    l.user(&plain, "ann", json!([email("ann@example.com")]))
        .await;
    l.user(&plain, "ben", json!([email("ben@example.com")]))
        .await;
    l.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": plain, "Username": "ben", "UserAttributes": [email("ann@example.com")]}),
    )
    .await;
}
