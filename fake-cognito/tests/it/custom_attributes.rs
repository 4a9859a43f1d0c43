//! `AddCustomAttributes`: validated as `CreateUserPool`'s `Schema`, duplicates and the 50-per-pool
//! quota refused, the new attributes usable by users at once and still there after `kill -9`.

use aws_sdk_cognitoidentityprovider::types::{AttributeDataType, SchemaAttributeType};
use serde_json::{Value, json};

use crate::local::Local;
use crate::support::{Server, code};

fn names(pool: &Value) -> Vec<String> {
    pool["UserPool"]["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn custom_attributes_are_added_and_users_can_set_them() {
    let l = Local::start().await;
    let (pool_id, _) = l.pool(json!({})).await;
    let set = json!({"UserPoolId": pool_id, "Username": "alice",
                     "UserAttributes": [{"Name": "custom:tier", "Value": "gold"}]});
    l.user(&pool_id, "alice", json!([])).await;
    let (t, _) = l.err("AdminUpdateUserAttributes", set.clone()).await;
    assert_eq!(t, "InvalidParameterException", "no custom:tier yet");

    l.ok(
        "AddCustomAttributes",
        json!({"UserPoolId": pool_id, "CustomAttributes": [
            {"Name": "tier", "AttributeDataType": "String",
             "StringAttributeConstraints": {"MaxLength": "16"}},
            {"Name": "secret", "AttributeDataType": "Number", "DeveloperOnlyAttribute": true},
            {"Name": "email", "AttributeDataType": "Boolean"}]}),
    )
    .await;
    let d = l
        .ok("DescribeUserPool", json!({"UserPoolId": pool_id}))
        .await;
    let n = names(&d);
    for want in ["custom:tier", "dev:custom:secret", "custom:email", "email"] {
        assert!(n.iter().any(|x| x == want), "{want} missing from {n:?}");
    }
    let tier = d["UserPool"]["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "custom:tier")
        .unwrap();
    assert_eq!(
        tier["StringAttributeConstraints"],
        json!({"MaxLength": "16"})
    );
    assert_eq!(tier["Mutable"], true);

    l.ok("AdminUpdateUserAttributes", set).await;
    let u = l
        .ok(
            "AdminGetUser",
            json!({"UserPoolId": pool_id, "Username": "alice"}),
        )
        .await;
    assert!(
        u["UserAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "custom:tier", "Value": "gold"})),
        "{u}"
    );
}

#[tokio::test]
async fn add_custom_attributes_refuses_what_cognito_refuses() {
    let l = Local::start().await;
    let (pool_id, _) = l
        .pool(json!({"Schema": [
        {"Name": "tier", "AttributeDataType": "String"}]}))
        .await;
    let add = |attrs: Value| json!({"UserPoolId": pool_id, "CustomAttributes": attrs});
    let cases = [
        (
            add(json!([{"Name": "tier", "AttributeDataType": "String"}])),
            "InvalidParameterException",
            "custom:tier: Existing attribute already has name custom:tier.",
        ),
        (
            add(json!([{"Name": "a", "AttributeDataType": "String"},
                       {"Name": "a", "AttributeDataType": "Number"}])),
            "InvalidParameterException",
            "custom:a: Existing attribute already has name custom:a.",
        ),
        (
            add(json!([{"Name": "b", "AttributeDataType": "String", "Required": true}])),
            "InvalidParameterException",
            "Required custom attributes are not supported currently.",
        ),
        (
            add(json!([{"Name": "c", "AttributeDataType": "Text"}])),
            "InvalidParameterException",
            "1 validation error detected: Value 'Text' at 'customAttributes.1.member.attributeDataType' failed to satisfy constraint: Member must satisfy enum value set: [Boolean, Number, String, DateTime]",
        ),
        (
            add(json!([{"Name": "d", "AttributeDataType": "String",
                        "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "3"}}])),
            "InvalidParameterException",
            "user.custom:d: Max length cannot be less than min length.",
        ),
        (
            add(json!([{"Name": "abcdefghijklmnopqrstu", "AttributeDataType": "String"}])),
            "InvalidParameterException",
            "1 validation error detected: Value 'abcdefghijklmnopqrstu' at 'customAttributes.1.member.name' failed to satisfy constraint: Member must have length less than or equal to 20",
        ),
        (
            add(json!([])),
            "InvalidParameterException",
            "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            json!({"UserPoolId": "us-east-1_nope", "CustomAttributes": [
                {"Name": "e", "AttributeDataType": "String"}]}),
            "ResourceNotFoundException",
            "",
        ),
    ];
    for (body, want_type, want_msg) in cases {
        let (t, m) = l.err("AddCustomAttributes", body.clone()).await;
        assert_eq!(t, want_type, "{body}: {m}");
        if !want_msg.is_empty() {
            assert_eq!(m, want_msg, "{body}");
        }
    }
    let d = l
        .ok("DescribeUserPool", json!({"UserPoolId": pool_id}))
        .await;
    let customs = names(&d)
        .into_iter()
        .filter(|n| n.contains("custom:"))
        .count();
    assert_eq!(customs, 1, "a refused call added attributes");

    // The quota: 49 more fit (two calls of 25 and 24), the 51st does not.
    let batch = |from: usize, to: usize| {
        let list: Vec<Value> = (from..to)
            .map(|i| json!({"Name": format!("a{i}"), "AttributeDataType": "String"}))
            .collect();
        add(json!(list))
    };
    l.ok("AddCustomAttributes", batch(0, 25)).await;
    l.ok("AddCustomAttributes", batch(25, 49)).await;
    let (t, _) = l.err("AddCustomAttributes", batch(49, 50)).await;
    assert_eq!(t, "LimitExceededException");
    let (t, _) = l.err("AddCustomAttributes", batch(100, 126)).await;
    assert_eq!(t, "InvalidParameterException", "more than 25 in one call");
}

#[tokio::test]
async fn added_custom_attributes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let pool = c.create_user_pool().pool_name("p").send().await.unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
    let attr = SchemaAttributeType::builder()
        .name("plan")
        .attribute_data_type(AttributeDataType::String)
        .build();
    c.add_custom_attributes()
        .user_pool_id(&pool_id)
        .custom_attributes(attr.clone())
        .send()
        .await
        .unwrap();
    let again = c
        .add_custom_attributes()
        .user_pool_id(&pool_id)
        .custom_attributes(attr)
        .send()
        .await;
    assert_eq!(code(again), "InvalidParameterException");
    s.kill9();

    let s2 = Server::start_at(&state, &[], &[]);
    let c2 = s2.sdk().await;
    let d = c2
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = d
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert!(names.contains(&"custom:plan"), "{names:?}");
}
