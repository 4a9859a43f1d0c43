//! AWS's error shapes, as botocore and the AWS SDKs parse them, for the services that speak an AWS
//! protocol (fake-cognito, and every service behind the AWS gateway): JSON 1.0/1.1 (`__type`),
//! query (`<ErrorResponse>` XML, and EC2's `<Response><Errors>`), REST-JSON (`x-amzn-ErrorType`)
//! and S3's REST-XML `<Error>`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A status for `code` when the rule gives none. JSON and query protocols answer client errors
/// with 400 whatever they are (throttling included); REST protocols use the status itself.
pub fn default_status(code: &str, rest: bool) -> StatusCode {
    match code {
        "InternalFailure"
        | "InternalError"
        | "InternalErrorException"
        | "InternalServerError"
        | "InternalServiceError"
        | "InternalServerErrorException"
        | "ServiceException" => StatusCode::INTERNAL_SERVER_ERROR,
        "ServiceUnavailable" | "ServiceUnavailableException" | "SlowDown" => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ if !rest => StatusCode::BAD_REQUEST,
        "TooManyRequestsException" | "ThrottlingException" | "Throttling" => {
            StatusCode::TOO_MANY_REQUESTS
        }
        "AccessDenied" | "AccessDeniedException" => StatusCode::FORBIDDEN,
        c if c.starts_with("NoSuch") || c.ends_with("NotFoundException") => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// JSON 1.0/1.1: `{"__type","message"}` (with the service's namespace before `#` where it sends
/// one, e.g. DynamoDB), echoing the request's content type. `query_code` adds SQS's
/// `x-amzn-query-error` header, from which botocore reads the code of a query-compatible service.
pub fn json(
    status: StatusCode,
    type_name: &str,
    message: &str,
    content_type: &str,
    query_code: Option<&str>,
) -> Response {
    let body = json!({"__type": type_name, "message": message}).to_string();
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    set(h, header::CONTENT_TYPE.as_str(), content_type);
    let code = type_name.rsplit('#').next().unwrap_or(type_name);
    set(h, "x-amzn-ErrorType", &format!("{code}:"));
    set(h, "x-amzn-RequestId", &request_id());
    if let Some(q) = query_code {
        let fault = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        set(h, "x-amzn-query-error", &format!("{q};{fault}"));
    }
    res
}

/// Query protocol (SQS's and SNS's XML, IAM, STS…): `<ErrorResponse>`.
pub fn query_xml(status: StatusCode, code: &str, message: &str, xmlns: Option<&str>) -> Response {
    let ns = xmlns.map_or(String::new(), |n| format!(" xmlns=\"{}\"", escape(n)));
    let fault = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse{ns}><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
        request_id()
    );
    xml(status, body)
}

/// EC2's query dialect: `<Response><Errors><Error>`.
pub fn ec2_xml(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        escape(code),
        escape(message),
        request_id()
    );
    xml(status, body)
}

/// S3's REST-XML `<Error>` (a HEAD answer has no body; clients then read the status).
pub fn s3_xml(status: StatusCode, code: &str, message: &str, head: bool) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        escape(code),
        escape(message),
        request_id()
    );
    xml(status, if head { String::new() } else { body })
}

/// REST-JSON (Lambda, API Gateway…): the code in `x-amzn-ErrorType`, `{"Type","message"}`.
pub fn rest_json(status: StatusCode, code: &str, message: &str) -> Response {
    let kind = if status.is_server_error() {
        "Service"
    } else {
        "User"
    };
    let body = json!({"Type": kind, "message": message}).to_string();
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    set(h, header::CONTENT_TYPE.as_str(), "application/json");
    set(h, "x-amzn-ErrorType", code);
    set(h, "x-amzn-RequestId", &request_id());
    res
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    set(h, header::CONTENT_TYPE.as_str(), "text/xml");
    set(h, "x-amzn-RequestId", &request_id());
    res
}

fn set(h: &mut axum::http::HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        axum::http::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        h.insert(n, v);
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A fresh request id in AWS's UUID form (rules' answers never reached the real service).
fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_protocol() {
        assert_eq!(
            default_status("ThrottlingException", false),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            default_status("TooManyRequestsException", true),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            default_status("SlowDown", true),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            default_status("InternalErrorException", false),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(default_status("NoSuchKey", true), StatusCode::NOT_FOUND);
        assert_eq!(escape("a<b&\"c\">"), "a&lt;b&amp;&quot;c&quot;&gt;");
    }
}
