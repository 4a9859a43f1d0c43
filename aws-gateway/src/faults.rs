//! How fault rules see AWS calls through the gateway. The service is the SigV4 signing name
//! (`dynamodb`, `sqs`, `sns`, `s3`, `lambda`, `states`…, from `Authorization` or a presigned
//! URL's `X-Amz-Credential`); the operation comes from `X-Amz-Target` (JSON protocols), `Action=`
//! (query protocols, in the query string or the form body) or the REST path (S3, Lambda); the
//! resource is the table, queue, topic, bucket, state machine, secret or Lambda function the call
//! names. Injected errors are written in the protocol the client spoke, as botocore and the SDKs
//! parse them: DynamoDB's namespaced `__type`, SQS's JSON with `x-amzn-query-error`, query XML
//! (SNS, SQS, IAM, STS; EC2's own dialect), S3's `<Error>`, Lambda's `x-amzn-ErrorType`.

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use lambda_invoke::{InvokeOutcome, LambdaTarget};
use serde_json::Value;
use service_kit::HealthState;
use service_kit::faults::{Call, Classifier, FaultAction, Faults, InjectedError, aws};

use crate::AppState;

/// The gateway's rules; those marked `persist` go to `--faults-file` (refused without one).
pub fn registry(config: &crate::Config, health: &HealthState) -> Faults {
    let faults = match &config.faults_file {
        Some(f) => Faults::with_file(crate::SERVICE, f.clone()),
        None => Faults::new(crate::SERVICE),
    };
    health.attach_faults(&faults);
    faults
}

/// Wrap the gateway's router with the fault layer and its API.
pub fn apply(router: Router, state: &AppState) -> Router {
    service_kit::faults::layer::apply(router, state.faults().clone(), Gateway)
}

/// Rules on `lambda` `Invoke` for the invocations the gateway makes itself (`Event` retries, SQS
/// event source mappings), which never pass the HTTP layer: the outcome a firing rule stands for
/// (an error is the function failing with that `errorType`, a drop a crash, a timeout the
/// function's own timeout), or `None` to invoke the function (after the rule's latency, if any).
pub async fn internal_invoke(state: &AppState, target: &LambdaTarget) -> Option<InvokeOutcome> {
    let call = Call {
        service: "lambda".into(),
        operation: "Invoke".into(),
        resource: Some(target.name.clone()),
    };
    let fault = state.faults().check(&call)?;
    service_kit::faults::layer::log(&fault, &call);
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    match fault.action {
        FaultAction::Proceed => None,
        FaultAction::Error(e) => Some(InvokeOutcome::HandlerError {
            payload: serde_json::json!({"errorType": e.code, "errorMessage": e.message})
                .to_string()
                .into(),
            error_type: e.code,
        }),
        FaultAction::Drop => Some(InvokeOutcome::Crashed {
            payload: serde_json::json!({"errorType": "Runtime.ExitError", "errorMessage": "connection dropped by a fault rule"})
                .to_string()
                .into(),
            cause: format!("fault rule {}", fault.rule_id),
        }),
        FaultAction::Hang(d) => {
            let waited = d.min(target.timeout);
            tokio::time::sleep(waited).await;
            Some(InvokeOutcome::TimedOut {
                payload: serde_json::json!({"errorType": "Sandbox.Timedout", "errorMessage": format!("Task timed out after {:.2} seconds", target.timeout.as_secs_f64())})
                    .to_string()
                    .into(),
                timeout: target.timeout,
            })
        }
    }
}

/// The gateway's view of a call (also renders the restore gate's refusals).
pub(crate) struct Gateway;

/// Members naming the resource of a JSON or query call, most specific first.
const RESOURCE_MEMBERS: &[&str] = &[
    "TableName",
    "QueueUrl",
    "QueueName",
    "TopicArn",
    "TargetArn",
    "FunctionName",
    "stateMachineArn",
    "executionArn",
    "SecretId",
    "StreamArn",
    "LogGroupName",
    "EventBusName",
    "RoleName",
    "UserName",
];

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_form(parts: &Parts) -> bool {
    header(parts, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

impl Classifier for Gateway {
    fn needs_body(&self, parts: &Parts) -> bool {
        header(parts, "x-amz-target").is_some() || is_form(parts)
    }

    fn classify(&self, parts: &Parts, body: &[u8]) -> Call {
        let query = parts.uri.query().unwrap_or_default();
        let service = signing_service(parts, query);
        if let Some(target) = header(parts, "x-amz-target") {
            let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
            let service = service.unwrap_or_else(|| target_service(target));
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            return Call {
                service,
                operation,
                resource: json_resource(&v),
            };
        }
        let body = if is_form(parts) { body } else { b"" };
        let form = std::str::from_utf8(body).unwrap_or_default();
        if let Some(action) = form_value(query, "Action").or_else(|| form_value(form, "Action")) {
            let resource = RESOURCE_MEMBERS
                .iter()
                .find_map(|k| form_value(form, k).or_else(|| form_value(query, k)))
                .map(|v| short_name(&v));
            return Call {
                service: service.unwrap_or_else(|| "unknown".into()),
                operation: action,
                resource,
            };
        }
        let path = parts.uri.path();
        let service = service.unwrap_or_else(|| {
            if path.starts_with("/2015-03-31/") || path.starts_with("/2014-11-13/") {
                "lambda".into()
            } else {
                "s3".into()
            }
        });
        let (operation, resource) = match service.as_str() {
            "lambda" => lambda_operation(&parts.method, path),
            "s3" => s3_operation(&parts.method, path, query, parts),
            _ => (format!("{} {path}", parts.method), None),
        };
        Call {
            service,
            operation,
            resource,
        }
    }

    fn error_response(&self, parts: &Parts, call: &Call, e: &InjectedError) -> Response {
        let status = |rest| {
            e.status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or_else(|| aws::default_status(&e.code, rest))
        };
        if let Some(ct) = header(parts, "x-amz-target")
            .map(|_| header(parts, "content-type").unwrap_or("application/x-amz-json-1.0"))
        {
            let (type_name, query_code) = match call.service.as_str() {
                "dynamodb" => (format!("com.amazonaws.dynamodb.v20120810#{}", e.code), None),
                "sqs" => (
                    format!("com.amazonaws.sqs#{}", e.code),
                    Some(e.code.as_str()),
                ),
                _ => (e.code.clone(), None),
            };
            return aws::json(status(false), &type_name, &e.message, ct, query_code);
        }
        let query = parts.uri.query().unwrap_or_default();
        if form_value(query, "Action").is_some() || is_form(parts) {
            return match call.service.as_str() {
                "ec2" => aws::ec2_xml(status(false), &e.code, &e.message),
                s => aws::query_xml(status(false), &e.code, &e.message, xmlns(s)),
            };
        }
        match call.service.as_str() {
            "s3" => aws::s3_xml(
                status(true),
                &e.code,
                &e.message,
                parts.method == Method::HEAD,
            ),
            _ => aws::rest_json(status(true), &e.code, &e.message),
        }
    }
}

/// The service from SigV4's credential scope: `AKID/DATE/REGION/SERVICE/aws4_request`.
fn signing_service(parts: &Parts, query: &str) -> Option<String> {
    let scope = header(parts, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or_default().to_owned())
        .or_else(|| form_value(query, "X-Amz-Credential"))?;
    scope.split('/').nth(3).map(str::to_ascii_lowercase)
}

/// Unsigned JSON calls: the service from the target's prefix.
fn target_service(target: &str) -> String {
    let prefix = target.split('.').next().unwrap_or_default();
    match prefix {
        p if p.starts_with("DynamoDBStreams") => "dynamodbstreams",
        p if p.starts_with("DynamoDB") => "dynamodb",
        "AmazonSQS" => "sqs",
        "AWSStepFunctions" => "states",
        "secretsmanager" => "secretsmanager",
        "AWSEvents" => "events",
        "Logs_20140328" => "logs",
        "AmazonSSM" => "ssm",
        p if p.starts_with("Kinesis") => "kinesis",
        p => return p.to_ascii_lowercase(),
    }
    .to_owned()
}

fn json_resource(v: &Value) -> Option<String> {
    let direct = RESOURCE_MEMBERS
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .map(short_name);
    // BatchWriteItem / BatchGetItem name their tables as the keys of RequestItems.
    direct.or_else(|| {
        v.get("RequestItems")
            .and_then(Value::as_object)
            .and_then(|m| m.keys().next().cloned())
    })
}

/// A queue URL's, or an ARN's, last part: the name a person writes in a rule.
fn short_name(v: &str) -> String {
    let v = v.trim_end_matches('/');
    if v.starts_with("http://") || v.starts_with("https://") {
        return v.rsplit('/').next().unwrap_or(v).to_owned();
    }
    if let Some(rest) = v.strip_prefix("arn:") {
        // arn:aws:lambda:region:acct:function:NAME[:QUALIFIER], arn:aws:sns:region:acct:NAME,
        // arn:aws:states:region:acct:stateMachine:NAME, arn:aws:dynamodb:…:table/NAME/stream/…
        let parts: Vec<&str> = rest.split(':').collect();
        let tail = match parts.as_slice() {
            [_, "lambda", _, _, "function", name, ..] => name,
            [_, "states", _, _, _, name, ..] => name,
            [_, _, _, _, resource, ..] => resource,
            _ => return v.to_owned(),
        };
        let tail = tail.strip_prefix("table/").unwrap_or(tail);
        return tail.split('/').next().unwrap_or(tail).to_owned();
    }
    v.to_owned()
}

fn xmlns(service: &str) -> Option<&'static str> {
    match service {
        "sns" => Some("http://sns.amazonaws.com/doc/2010-03-31/"),
        "sqs" => Some("http://queue.amazonaws.com/doc/2012-11-05/"),
        "iam" => Some("https://iam.amazonaws.com/doc/2010-05-08/"),
        "sts" => Some("https://sts.amazonaws.com/doc/2011-06-15/"),
        _ => None,
    }
}

/// A value of an `application/x-www-form-urlencoded` string (query or body), decoded.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lambda's REST API: the operation from method and path, the function from the path.
fn lambda_operation(method: &Method, path: &str) -> (String, Option<String>) {
    let segs: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    let (op, name) = match (m, segs.as_slice()) {
        ("POST", [_, "functions", f, "invocations"]) => ("Invoke", Some(*f)),
        ("POST", [_, "functions", f, "invoke-async"]) => ("InvokeAsync", Some(*f)),
        ("GET", [_, "functions"]) => ("ListFunctions", None),
        ("POST", [_, "functions"]) => ("CreateFunction", None),
        ("GET", [_, "functions", f]) => ("GetFunction", Some(*f)),
        ("DELETE", [_, "functions", f]) => ("DeleteFunction", Some(*f)),
        ("GET", [_, "functions", f, "configuration"]) => ("GetFunctionConfiguration", Some(*f)),
        ("PUT", [_, "functions", f, "configuration"]) => ("UpdateFunctionConfiguration", Some(*f)),
        ("PUT", [_, "functions", f, "code"]) => ("UpdateFunctionCode", Some(*f)),
        ("POST", [_, "functions", f, "versions"]) => ("PublishVersion", Some(*f)),
        ("GET", [_, "functions", f, "versions"]) => ("ListVersionsByFunction", Some(*f)),
        (_, [_, "functions", f, "event-invoke-config"]) => ("FunctionEventInvokeConfig", Some(*f)),
        (_, [_, "functions", f, "policy", ..]) => ("Permission", Some(*f)),
        (_, [_, "functions", f, "aliases", ..]) => ("Alias", Some(*f)),
        ("GET", [_, "event-source-mappings"]) => ("ListEventSourceMappings", None),
        ("POST", [_, "event-source-mappings"]) => ("CreateEventSourceMapping", None),
        ("GET", [_, "event-source-mappings", _]) => ("GetEventSourceMapping", None),
        ("PUT", [_, "event-source-mappings", _]) => ("UpdateEventSourceMapping", None),
        ("DELETE", [_, "event-source-mappings", _]) => ("DeleteEventSourceMapping", None),
        _ => return (format!("{m} {path}"), None),
    };
    let name = name.map(|n| match lambda_invoke::name::FunctionRef::parse(n) {
        Ok(r) => r.name,
        Err(_) => n.to_owned(),
    });
    (op.to_owned(), name)
}

/// S3's REST API (path style, or virtual-hosted `BUCKET.host`): the operation and the bucket.
fn s3_operation(
    method: &Method,
    path: &str,
    query: &str,
    parts: &Parts,
) -> (String, Option<String>) {
    let has = |k: &str| {
        query
            .split('&')
            .any(|p| p == k || p.starts_with(&format!("{k}=")))
    };
    let trimmed = path.trim_start_matches('/');
    let host_bucket = header(parts, "host")
        .and_then(|h| h.split(':').next())
        .and_then(|h| h.split_once(".s3.").or_else(|| h.split_once(".localhost")))
        .map(|(b, _)| b.to_owned());
    let (bucket, key) = match host_bucket {
        Some(b) => (Some(b), trimmed),
        None => {
            let (b, k) = trimmed.split_once('/').unwrap_or((trimmed, ""));
            ((!b.is_empty()).then(|| decode(b)), k)
        }
    };
    let object = !key.is_empty();
    let m = method.as_str();
    let op = match (m, bucket.is_some(), object) {
        ("GET", false, _) => "ListBuckets",
        ("PUT", true, true) if has("partNumber") => "UploadPart",
        ("PUT", true, true) if parts.headers.contains_key("x-amz-copy-source") => "CopyObject",
        ("PUT", true, true) => "PutObject",
        ("GET", true, true) => "GetObject",
        ("HEAD", true, true) => "HeadObject",
        ("DELETE", true, true) if has("uploadId") => "AbortMultipartUpload",
        ("DELETE", true, true) => "DeleteObject",
        ("POST", true, true) if has("uploads") => "CreateMultipartUpload",
        ("POST", true, true) if has("uploadId") => "CompleteMultipartUpload",
        ("POST", true, false) if has("delete") => "DeleteObjects",
        ("GET", true, false) if has("list-type") => "ListObjectsV2",
        ("GET", true, false) if has("versioning") => "GetBucketVersioning",
        ("GET", true, false) if has("location") => "GetBucketLocation",
        ("GET", true, false) if has("tagging") => "GetBucketTagging",
        ("GET", true, false) if has("policy") => "GetBucketPolicy",
        ("GET", true, false) if has("notification") => "GetBucketNotificationConfiguration",
        ("GET", true, false) => "ListObjects",
        ("PUT", true, false) if query.is_empty() => "CreateBucket",
        ("HEAD", true, false) => "HeadBucket",
        ("DELETE", true, false) if query.is_empty() => "DeleteBucket",
        _ => return (format!("{m} {path}"), bucket),
    };
    (op.to_owned(), bucket)
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
