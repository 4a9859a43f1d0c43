//! Raw AWS JSON-protocol calls with fixed bodies: what wrk sends under load, and the few setup
//! calls a section makes around it. moto routes JSON calls by the SigV4 credential scope and never
//! checks the signature, so every call carries an unsigned `Authorization` naming its service.

use anyhow::bail;
use serde_json::Value;

use crate::wrk;

/// One AWS JSON API: its `X-Amz-Target` prefix, content type and SigV4 service name.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    pub target_prefix: &'static str,
    pub content_type: &'static str,
    pub scope: &'static str,
}

pub const COGNITO: Api = Api {
    target_prefix: "AWSCognitoIdentityProviderService",
    content_type: "application/x-amz-json-1.1",
    scope: "cognito-idp",
};
pub const DYNAMODB: Api = Api {
    target_prefix: "DynamoDB_20120810",
    content_type: "application/x-amz-json-1.0",
    scope: "dynamodb",
};
pub const SQS: Api = Api {
    target_prefix: "AmazonSQS",
    content_type: "application/x-amz-json-1.0",
    scope: "sqs",
};
pub const STATES: Api = Api {
    target_prefix: "AWSStepFunctions",
    content_type: "application/x-amz-json-1.0",
    scope: "states",
};

/// An unsigned `Authorization` header for `scope` (e.g. "lambda" for the Lambda REST API).
pub fn authorization(scope: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{scope}/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        "0".repeat(64)
    )
}

impl Api {
    /// The headers of one call of `op`.
    pub fn headers(&self, op: &str) -> Vec<(&'static str, String)> {
        vec![
            ("Content-Type", self.content_type.to_owned()),
            ("X-Amz-Target", format!("{}.{op}", self.target_prefix)),
            ("X-Amz-Date", "20260101T000000Z".to_owned()),
            ("Authorization", authorization(self.scope)),
        ]
    }

    /// Calls `op` once; a non-2xx answer is an error carrying AWS's message.
    pub async fn call(
        &self,
        http: &reqwest::Client,
        url: &str,
        op: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut req = http.post(url).body(body.to_string());
        for (k, v) in self.headers(op) {
            req = req.header(k, v);
        }
        let r = req.send().await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("{op}: {status} {text:.300}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The wrk script that sends `op` with `body` on every request.
    pub fn script(&self, op: &str, body: &Value) -> String {
        let headers = self.headers(op);
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        wrk::post_script(&body.to_string(), &pairs)
    }
}
