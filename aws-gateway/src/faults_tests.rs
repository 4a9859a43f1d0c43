//! Classification of real-looking AWS requests (signed as botocore signs them).

use axum::body::Body;
use axum::http::Request;

use super::*;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=00";

fn parts(method: &str, uri: &str, svc: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", AUTH.replace("{svc}", svc));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap().into_parts().0
}

fn call(service: &str, operation: &str, resource: Option<&str>) -> Call {
    Call {
        service: service.into(),
        operation: operation.into(),
        resource: resource.map(str::to_owned),
    }
}

#[test]
fn json_protocols_read_the_target_and_the_named_resource() {
    let p = parts(
        "POST",
        "/",
        "dynamodb",
        &[("x-amz-target", "DynamoDB_20120810.PutItem")],
    );
    let body = br#"{"TableName":"orders","Item":{}}"#;
    assert_eq!(
        Gateway.classify(&p, body),
        call("dynamodb", "PutItem", Some("orders"))
    );
    let p = parts(
        "POST",
        "/",
        "sqs",
        &[("x-amz-target", "AmazonSQS.SendMessage")],
    );
    let body = br#"{"QueueUrl":"http://127.0.0.1:9003/123456789012/jobs"}"#;
    assert_eq!(
        Gateway.classify(&p, body),
        call("sqs", "SendMessage", Some("jobs"))
    );
    let p = parts(
        "POST",
        "/",
        "dynamodb",
        &[("x-amz-target", "DynamoDB_20120810.BatchWriteItem")],
    );
    let body = br#"{"RequestItems":{"carts":[]}}"#;
    assert_eq!(
        Gateway.classify(&p, body),
        call("dynamodb", "BatchWriteItem", Some("carts"))
    );
}

#[test]
fn query_protocols_read_action_from_the_form_or_the_query() {
    let form = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    let p = parts("POST", "/", "sns", &form);
    let body =
        b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts&Message=hi";
    assert_eq!(
        Gateway.classify(&p, body),
        call("sns", "Publish", Some("alerts"))
    );
    let p = parts(
        "GET",
        "/?Action=GetCallerIdentity&Version=2011-06-15",
        "sts",
        &[],
    );
    assert_eq!(
        Gateway.classify(&p, b""),
        call("sts", "GetCallerIdentity", None)
    );
}

#[test]
fn rest_protocols_read_the_path() {
    let p = parts(
        "POST",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aresize%3Alive/invocations",
        "lambda",
        &[],
    );
    assert_eq!(
        Gateway.classify(&p, b""),
        call("lambda", "Invoke", Some("resize"))
    );
    let p = parts("GET", "/media/a/b.png", "s3", &[]);
    assert_eq!(
        Gateway.classify(&p, b""),
        call("s3", "GetObject", Some("media"))
    );
    let p = parts("GET", "/media?list-type=2&prefix=a", "s3", &[]);
    assert_eq!(
        Gateway.classify(&p, b""),
        call("s3", "ListObjectsV2", Some("media"))
    );
    let p = parts("PUT", "/media", "s3", &[]);
    assert_eq!(
        Gateway.classify(&p, b""),
        call("s3", "CreateBucket", Some("media"))
    );
}

#[test]
fn short_names_and_form_decoding() {
    assert_eq!(
        short_name("arn:aws:states:us-east-1:1:stateMachine:flow"),
        "flow"
    );
    assert_eq!(
        short_name("arn:aws:dynamodb:us-east-1:1:table/orders/stream/x"),
        "orders"
    );
    assert_eq!(short_name("https://sqs/1/q/"), "q");
    assert_eq!(decode("a%20b+c%2"), "a b c%2");
    assert_eq!(form_value("A=1&B=x%3Dy", "B").as_deref(), Some("x=y"));
}
