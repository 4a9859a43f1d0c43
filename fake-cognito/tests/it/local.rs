//! The router in-process (`tower::ServiceExt::oneshot`): a Cognito call is one function call, so
//! behaviour tests need no process or port. Helpers for calls, admin routes and a small fixture.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use fake_cognito::{App, Config, router};
use serde_json::{Value, json};
use service_kit::HealthState;
use tower::ServiceExt;

pub const PASSWORD: &str = "Correct-Horse-9!";

pub struct Local {
    pub router: axum::Router,
    _dir: tempfile::TempDir,
}

impl Local {
    pub async fn start() -> Local {
        Self::start_with(&[]).await
    }

    /// With extra command-line flags.
    pub async fn start_with(args: &[&str]) -> Local {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let mut argv: Vec<std::ffi::OsString> =
            vec!["fake-cognito".into(), "--state-file".into(), state.into()];
        argv.extend(args.iter().map(Into::into));
        let config = Config::parse_from(argv);
        let health = HealthState::new("fake-cognito", "test");
        let app = App::open(config, health.clone()).await.unwrap();
        health.set_ready();
        Local {
            router: router(app),
            _dir: dir,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// One Cognito operation, optionally with a SigV4-style `Authorization` header.
    pub async fn call_as(&self, op: &str, body: Value, auth: Option<&str>) -> (StatusCode, Value) {
        let mut b = Request::post("/")
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{op}"),
            );
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn call(&self, op: &str, body: Value) -> (StatusCode, Value) {
        self.call_as(op, body, None).await
    }

    /// A call that must succeed.
    pub async fn ok(&self, op: &str, body: Value) -> Value {
        let (st, v) = self.call(op, body).await;
        assert_eq!(st, StatusCode::OK, "{op}: {v}");
        v
    }

    /// A call that must fail: its `__type` and message.
    pub async fn err(&self, op: &str, body: Value) -> (String, String) {
        let (st, v) = self.call(op, body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{op}: {v}");
        (
            v["__type"].as_str().unwrap_or_default().to_owned(),
            v["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let req = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// A form POST (the OAuth endpoints), with HTTP Basic client credentials.
    pub async fn form(&self, path: &str, basic: (&str, &str), body: &str) -> (StatusCode, Value) {
        use base64::Engine;
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", basic.0, basic.1));
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {auth}"))
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// `POST /_fake/clock`, which must succeed.
    pub async fn clock(&self, body: Value) -> Value {
        let (st, v) = self.post("/_fake/clock", &body.to_string()).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v
    }

    /// The newest code of `kind` for `username` at `/_fake/codes`.
    pub async fn code(&self, pool_id: &str, username: &str, kind: &str) -> String {
        let (_, v) = self
            .get(&format!(
                "/_fake/codes?pool_id={pool_id}&username={username}"
            ))
            .await;
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|c| c["kind"] == kind)
            .map(|c| c["code"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {kind} code for {username}: {v}"))
    }

    /// A pool created with `extra` members, and a public client allowing password, admin and
    /// refresh sign-in; returns (pool id, client id).
    pub async fn pool(&self, extra: Value) -> (String, String) {
        let mut body = json!({"PoolName": "local"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let pool = self.ok("CreateUserPool", body).await;
        let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
        let client = self
            .ok(
                "CreateUserPoolClient",
                json!({"UserPoolId": pool_id, "ClientName": "app", "ExplicitAuthFlows": [
                    "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH"]}),
            )
            .await;
        let client_id = client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_owned();
        (pool_id, client_id)
    }

    /// A confirmed user with a permanent password and the given attributes.
    pub async fn user(&self, pool_id: &str, name: &str, attrs: Value) {
        self.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": name, "UserAttributes": attrs,
                   "MessageAction": "SUPPRESS"}),
        )
        .await;
        self.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": name, "Password": PASSWORD,
                   "Permanent": true}),
        )
        .await;
    }

    /// USER_PASSWORD_AUTH; the `AuthenticationResult`.
    pub async fn login(&self, client_id: &str, name: &str) -> Value {
        let v = self
            .ok(
                "InitiateAuth",
                json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}}),
            )
            .await;
        v["AuthenticationResult"].clone()
    }
}

/// The claims of a JWT (no checks); the one helper both kinds of test share.
pub use crate::support::claims;
