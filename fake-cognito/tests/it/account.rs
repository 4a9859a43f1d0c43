//! The account id in ARNs (in-process): a 12-digit SigV4 access key id is the caller's account
//! (LocalStack's convention), any other caller gets `--account-id` (default 000000000000).

use axum::http::StatusCode;
use clap::Parser;
use serde_json::{Value, json};

use crate::local::Local;

fn sigv4(access_key: &str, region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20300101/{region}/cognito-idp/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=00"
    )
}

async fn create_pool(l: &Local, auth: Option<&str>) -> Value {
    let (st, v) = l
        .call_as("CreateUserPool", json!({"PoolName": "acct"}), auth)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["UserPool"].clone()
}

#[tokio::test]
async fn account_id_comes_from_a_twelve_digit_access_key_else_the_default() {
    let l = Local::start().await;
    let pool = create_pool(&l, None).await;
    let id = pool["Id"].as_str().unwrap();
    assert_eq!(
        pool["Arn"],
        format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}")
    );
    let pool = create_pool(&l, Some(&sigv4("AKIAIOSFODNN7EXAMPLE", "us-east-1"))).await;
    assert!(
        pool["Arn"]
            .as_str()
            .unwrap()
            .contains(":000000000000:userpool/")
    );

    let pool = create_pool(&l, Some(&sigv4("123456789012", "eu-west-1"))).await;
    let id = pool["Id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("eu-west-1_"));
    assert_eq!(
        pool["Arn"],
        format!("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/{id}")
    );
    // The pool keeps its account whoever asks later.
    let described = l.ok("DescribeUserPool", json!({"UserPoolId": id})).await;
    assert_eq!(described["UserPool"]["Arn"], pool["Arn"]);
    l.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": id, "Domain": "acct-test"}),
    )
    .await;
    let domain = l
        .ok("DescribeUserPoolDomain", json!({"Domain": "acct-test"}))
        .await;
    assert_eq!(domain["DomainDescription"]["AWSAccountId"], "123456789012");
}

#[tokio::test]
async fn account_id_flag_sets_the_default_and_must_be_twelve_digits() {
    let l = Local::start_with(&["--account-id", "111122223333"]).await;
    let pool = create_pool(&l, None).await;
    assert!(
        pool["Arn"]
            .as_str()
            .unwrap()
            .contains(":111122223333:userpool/")
    );
    for bad in ["12", "1111222233334", "11112222333a", ""] {
        let parsed = fake_cognito::Config::try_parse_from(["fake-cognito", "--account-id", bad]);
        assert!(parsed.is_err(), "{bad:?} accepted");
    }
}
