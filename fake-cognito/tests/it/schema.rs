//! CreateUserPool's `Schema` and the defaults Cognito fills in (in-process): invalid schemas are
//! refused with Cognito's messages, valid ones normalised as `DescribeUserPool` shows them.

use serde_json::{Value, json};

use crate::local::Local;

fn attr<'a>(pool: &'a Value, name: &str) -> &'a Value {
    pool["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {pool}"))
}

#[tokio::test]
async fn invalid_schemas_are_refused_with_cognitos_messages() {
    let l = Local::start().await;
    let cases = [
        (
            json!([{"Name": "ok", "AttributeDataType": "String"},
                   {"Name": "x", "AttributeDataType": "Text"}]),
            "1 validation error detected: Value 'Text' at 'schema.2.member.attributeDataType' failed to satisfy constraint: Member must satisfy enum value set: [Boolean, Number, String, DateTime]",
        ),
        (
            json!([{"Name": "x"}]),
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
        ),
        (
            json!([{"Name": "x", "AttributeDataType": "String", "Required": true}]),
            "Required custom attributes are not supported currently.",
        ),
        (
            json!([{"Name": "email", "AttributeDataType": "Number"}]),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            json!([{"Name": "email", "AttributeDataType": "String", "DeveloperOnlyAttribute": true}]),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            json!([{"Name": "x", "AttributeDataType": "String",
                    "StringAttributeConstraints": {"MaxLength": "4096"}}]),
            "user.custom:x: String attributes cannot have a length of more than 2048",
        ),
        (
            json!([{"Name": "x", "AttributeDataType": "String",
                    "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "3"}}]),
            "user.custom:x: Max length cannot be less than min length.",
        ),
        (
            json!([{"Name": "n", "AttributeDataType": "Number",
                    "NumberAttributeConstraints": {"MinValue": "10", "MaxValue": "1"}}]),
            "user.custom:n: Max value cannot be less than min value.",
        ),
        (
            json!([{"Name": "x", "AttributeDataType": "String",
                    "StringAttributeConstraints": {"MaxLength": "lots"}}]),
            "Invalid StringAttributeConstraints for schema attribute custom:x",
        ),
    ];
    for (schema, want) in cases {
        let (t, m) = l
            .err(
                "CreateUserPool",
                json!({"PoolName": "bad", "Schema": schema}),
            )
            .await;
        assert_eq!(
            (t.as_str(), m.as_str()),
            ("InvalidParameterException", want),
            "{schema}"
        );
    }
    let (_, listed) = l.get("/_fake/state").await;
    assert_eq!(
        listed["state"]["pools"],
        json!({}),
        "a refused pool was kept"
    );
}

#[tokio::test]
async fn valid_schemas_are_normalised_and_defaults_filled_in() {
    let l = Local::start().await;
    let schema = json!([
        {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": true},
        {"Name": "age", "AttributeDataType": "Number",
         "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"},
         "StringAttributeConstraints": {"MaxLength": "3"}},
        {"Name": "flag", "AttributeDataType": "Boolean",
         "StringAttributeConstraints": {"MaxLength": "3"}},
        {"Name": "nick", "AttributeDataType": "String"},
        {"Name": "email", "AttributeDataType": "String", "Required": true}]);
    let made = l
        .ok(
            "CreateUserPool",
            json!({"PoolName": "typed", "Schema": schema}),
        )
        .await;
    let id = made["UserPool"]["Id"].as_str().unwrap();
    let d = l.ok("DescribeUserPool", json!({"UserPoolId": id})).await;
    let pool = &d["UserPool"];

    let secret = attr(pool, "dev:custom:secret");
    assert_eq!(secret["DeveloperOnlyAttribute"], true);
    let age = attr(pool, "custom:age");
    assert_eq!(
        age["NumberAttributeConstraints"],
        json!({"MinValue": "0", "MaxValue": "150"})
    );
    assert!(age.get("StringAttributeConstraints").is_none(), "{age}");
    let flag = attr(pool, "custom:flag");
    assert!(flag.get("StringAttributeConstraints").is_none(), "{flag}");
    assert_eq!(
        attr(pool, "custom:nick")["StringAttributeConstraints"],
        json!({})
    );
    assert_eq!(attr(pool, "custom:nick")["Mutable"], true);
    let email = attr(pool, "email");
    assert_eq!(email["Required"], true);
    assert_eq!(
        email["StringAttributeConstraints"],
        json!({"MinLength": "0", "MaxLength": "2048"})
    );
    assert_eq!(
        attr(pool, "sub")["StringAttributeConstraints"],
        json!({"MinLength": "1", "MaxLength": "2048"})
    );
    assert_eq!(
        attr(pool, "birthdate")["StringAttributeConstraints"],
        json!({"MinLength": "10", "MaxLength": "10"})
    );
    assert_eq!(
        attr(pool, "updated_at")["NumberAttributeConstraints"],
        json!({"MinValue": "0"})
    );
    assert_eq!(
        pool["EmailConfiguration"],
        json!({"EmailSendingAccount": "COGNITO_DEFAULT"})
    );
    assert_eq!(
        pool["VerificationMessageTemplate"],
        json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"})
    );
}

#[tokio::test]
async fn verification_message_template_fills_the_legacy_message_members() {
    let l = Local::start().await;
    let template = json!({"EmailMessage": "Your code: {####}", "EmailSubject": "Welcome",
                          "SmsMessage": "Code {####}", "DefaultEmailOption": "CONFIRM_WITH_CODE"});
    let made = l
        .ok(
            "CreateUserPool",
            json!({"PoolName": "msgs", "VerificationMessageTemplate": template}),
        )
        .await;
    let pool = &made["UserPool"];
    assert_eq!(pool["EmailVerificationMessage"], "Your code: {####}");
    assert_eq!(pool["EmailVerificationSubject"], "Welcome");
    assert_eq!(pool["SmsVerificationMessage"], "Code {####}");

    // And the other way round: legacy members show in the template.
    let made = l
        .ok(
            "CreateUserPool",
            json!({"PoolName": "legacy", "EmailVerificationMessage": "Legacy {####}"}),
        )
        .await;
    assert_eq!(
        made["UserPool"]["VerificationMessageTemplate"]["EmailMessage"],
        "Legacy {####}"
    );
}
