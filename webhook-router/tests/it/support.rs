//! Test harness: the router binary as a child process and target servers that record / hang /
//! answer junk. Free ports, moto and polling come from the `test-support` crate.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use parking_lot::Mutex;
use serde_json::{Value, json};
pub use test_support::{free_port, wait_for, wait_http_ok};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("client")
}

/// The router binary, killed on drop.
pub struct RouterProc {
    pub child: Child,
    pub base: String,
}

impl RouterProc {
    pub async fn start(args: &[String]) -> RouterProc {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_webhook-router"))
            .args(["--port", &port.to_string()])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start webhook-router");
        let base = format!("http://127.0.0.1:{port}");
        wait_http_ok("router /healthz", &format!("{base}/healthz")).await;
        RouterProc { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        client()
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    /// POST a raw body; returns status and the JSON answer (Null if not JSON).
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = client()
            .post(self.url("/webhook/eventbridge"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let bytes = r.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

impl Drop for RouterProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a target received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub body: Value,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Record and answer `{"ok": true, "n": <count>}`.
    Record,
    /// Never answer.
    Hang,
    /// Answer 200 with `Content-Type: application/json` and a body that is not JSON.
    NotJson,
}

/// An in-process HTTP target on a free port.
pub struct Target {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Target {
    pub async fn start(mode: Mode) -> Target {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let app = Router::new()
            .fallback(handle)
            .with_state((mode, got.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind target");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Target { addr, got, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().clone()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State((mode, got)): State<(Mode, Arc<Mutex<Vec<Received>>>)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    match mode {
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            StatusCode::OK.into_response()
        }
        Mode::NotJson => (
            [("content-type", "application/json")],
            "<html>definitely not json</html>",
        )
            .into_response(),
        Mode::Record => {
            let rec = Received {
                path: uri.path().to_owned(),
                content_type: headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned(),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            };
            let n = {
                let mut g = got.lock();
                g.push(rec);
                g.len()
            };
            (StatusCode::OK, axum::Json(json!({"ok": true, "n": n}))).into_response()
        }
    }
}

/// test-support's moto, required here (these suites exist to run against it), with the SDK
/// configuration the router's pipe uses.
pub struct Moto(test_support::Moto);

impl Moto {
    pub async fn start() -> Moto {
        Moto(test_support::Moto::require().await)
    }

    pub fn url(&self) -> String {
        self.0.url.clone()
    }

    pub async fn restart(&mut self) {
        self.0.restart().await;
    }

    pub async fn sdk(&self) -> aws_config::SdkConfig {
        webhook_router::pipe::moto_sdk_config(&self.0.url, "us-east-1").await
    }
}

/// A unique table prefix per test, so tests sharing nothing still never collide.
pub fn unique_prefix(tag: &str) -> String {
    format!("t{}-{tag}-", std::process::id())
}

/// A table keyed on `pk` with a NEW_AND_OLD_IMAGES stream; returns the stream ARN.
pub async fn create_streamed_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> String {
    let out = ddb
        .create_table()
        .table_name(name)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
    out.table_description()
        .and_then(|t| t.latest_stream_arn())
        .expect("stream ARN")
        .to_owned()
}
