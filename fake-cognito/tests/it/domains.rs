//! User pool domains: a prefix and a custom domain per pool, names unique across pools, AWS's
//! checks, Describe/Update/Delete, and `DescribeUserPool`'s `Domain`/`CustomDomain`.

use serde_json::json;

use crate::local::Local;

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123";

#[tokio::test]
async fn prefix_and_custom_domains_lifecycle() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let r = l
        .ok(
            "CreateUserPoolDomain",
            json!({"UserPoolId": pool, "Domain": "my-app"}),
        )
        .await;
    assert_eq!(r["ManagedLoginVersion"], 1);
    assert!(r.get("CloudFrontDomain").is_none());
    let r = l
        .ok(
            "CreateUserPoolDomain",
            json!({"UserPoolId": pool, "Domain": "auth.example.com",
                   "CustomDomainConfig": {"CertificateArn": CERT}, "ManagedLoginVersion": 2}),
        )
        .await;
    let cf = r["CloudFrontDomain"].as_str().unwrap().to_owned();
    assert!(cf.ends_with(".cloudfront.net"), "{cf}");
    let p = l.ok("DescribeUserPool", json!({"UserPoolId": pool})).await;
    assert_eq!(p["UserPool"]["Domain"], "my-app");
    assert_eq!(p["UserPool"]["CustomDomain"], "auth.example.com");
    let d = l
        .ok(
            "DescribeUserPoolDomain",
            json!({"Domain": "auth.example.com"}),
        )
        .await;
    let d = &d["DomainDescription"];
    assert_eq!(d["UserPoolId"], pool.as_str());
    assert_eq!(d["Status"], "ACTIVE");
    assert_eq!(d["CloudFrontDistribution"], cf.as_str());
    assert_eq!(d["CustomDomainConfig"]["CertificateArn"], CERT);
    assert_eq!(d["ManagedLoginVersion"], 2);
    let cert2 = "arn:aws:acm:us-east-1:123456789012:certificate/new";
    let u = l
        .ok(
            "UpdateUserPoolDomain",
            json!({"UserPoolId": pool, "Domain": "auth.example.com",
                   "CustomDomainConfig": {"CertificateArn": cert2}, "ManagedLoginVersion": 1}),
        )
        .await;
    assert_eq!(u["CloudFrontDomain"], cf.as_str());
    let d = l
        .ok(
            "DescribeUserPoolDomain",
            json!({"Domain": "auth.example.com"}),
        )
        .await;
    assert_eq!(
        d["DomainDescription"]["CustomDomainConfig"]["CertificateArn"],
        cert2
    );
    assert_eq!(d["DomainDescription"]["ManagedLoginVersion"], 1);
    let (t, _) = l
        .err(
            "UpdateUserPoolDomain",
            json!({"UserPoolId": pool, "Domain": "my-app",
                   "CustomDomainConfig": {"CertificateArn": cert2}}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    l.ok(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "my-app"}),
    )
    .await;
    let d = l
        .ok("DescribeUserPoolDomain", json!({"Domain": "my-app"}))
        .await;
    assert_eq!(d, json!({"DomainDescription": {}}));
    let p = l.ok("DescribeUserPool", json!({"UserPoolId": pool})).await;
    assert!(p["UserPool"].get("Domain").is_none());
    let (t, m) = l
        .err(
            "DeleteUserPoolDomain",
            json!({"UserPoolId": pool, "Domain": "my-app"}),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (
            "InvalidParameterException",
            "No such domain or user pool exists."
        )
    );
    // Freed: the prefix can be taken again.
    l.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "my-app"}),
    )
    .await;
}

#[tokio::test]
async fn one_domain_of_each_kind_and_names_unique_across_pools() {
    let l = Local::start().await;
    let (a, _) = l.pool(json!({})).await;
    let (b, _) = l.pool(json!({"PoolName": "other"})).await;
    l.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "taken"}),
    )
    .await;
    let (t, m) = l
        .err(
            "CreateUserPoolDomain",
            json!({"UserPoolId": b, "Domain": "taken"}),
        )
        .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        ("InvalidParameterException", "Domain already exists.")
    );
    let (t, m) = l
        .err(
            "CreateUserPoolDomain",
            json!({"UserPoolId": a, "Domain": "second"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("already has a prefix domain"), "{m}");
    let (t, _) = l
        .err(
            "DeleteUserPoolDomain",
            json!({"UserPoolId": b, "Domain": "taken"}),
        )
        .await;
    assert_eq!(t, "InvalidParameterException");
    // Deleting the pool frees its domain.
    l.ok("DeleteUserPool", json!({"UserPoolId": a})).await;
    l.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "taken"}),
    )
    .await;
}

#[tokio::test]
async fn domain_members_are_validated() {
    let l = Local::start().await;
    let (pool, _) = l.pool(json!({})).await;
    let cases = [
        (json!({"Domain": "Upper"}), "regular expression"),
        (json!({"Domain": "-dash"}), "regular expression"),
        (json!({"Domain": "a.b"}), "regular expression"),
        (
            json!({"Domain": "x".repeat(64)}),
            "length less than or equal to 63",
        ),
        (json!({"Domain": "my-aws-app"}), "reserved word: aws"),
        (json!({"Domain": "cognito-login"}), "reserved word: cognito"),
        (
            json!({"Domain": "nodots", "CustomDomainConfig": {"CertificateArn": CERT}}),
            "fully-qualified",
        ),
        (
            json!({"Domain": "auth.example.com", "CustomDomainConfig": {}}),
            "certificateArn",
        ),
        (
            json!({"Domain": "auth.example.com", "CustomDomainConfig": {"CertificateArn": "not-an-arn-but-long-enough"}}),
            "regular expression",
        ),
        (
            json!({"Domain": "fine", "ManagedLoginVersion": 3}),
            "ManagedLoginVersion",
        ),
    ];
    for (mut body, needle) in cases {
        body["UserPoolId"] = json!(pool);
        let (t, m) = l.err("CreateUserPoolDomain", body.clone()).await;
        assert_eq!(t, "InvalidParameterException", "{body}");
        assert!(m.contains(needle), "{needle}: {m}");
    }
    let (t, _) = l
        .err(
            "CreateUserPoolDomain",
            json!({"UserPoolId": "us-east-1_none", "Domain": "fine"}),
        )
        .await;
    assert_eq!(t, "ResourceNotFoundException");
}
