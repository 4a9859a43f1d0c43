//! Start the real fake-cell binary on free ports with a temp state file; small HTTP helpers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fake-cell");

pub use test_support::free_port;

/// 41 ports free right now that no other test in this process was given (the cell skips busy
/// ports in the range).
pub fn index_range() -> String {
    let p = test_support::free_ports(41);
    format!("{p}-{}", p + 40)
}

pub struct CellProc {
    pub child: Child,
    pub url: String,
    pub state: PathBuf,
    pub args: Vec<String>,
    pub log: PathBuf,
}

impl CellProc {
    /// Start with `--no-watchdog` plus `extra` flags.
    pub async fn start(dir: &Path, extra: &[&str]) -> CellProc {
        let mut args: Vec<String> = vec!["--index-ports".into(), index_range()];
        if !extra.iter().any(|a| a.starts_with("--watchdog")) {
            args.push("--no-watchdog".into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::start_with(dir, args, None).await
    }

    pub async fn start_with(dir: &Path, args: Vec<String>, wrapper: Option<&str>) -> CellProc {
        let state = dir.join("state.json");
        let port = free_port();
        let log = dir.join(format!("cell-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut full = vec![
            "--port".to_string(),
            port.to_string(),
            "--state-file".to_string(),
            state.display().to_string(),
        ];
        full.extend(args.iter().cloned());
        let mut cmd = match wrapper {
            Some(script) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("{script}; exec \"$0\" \"$@\""))
                    .arg(BIN)
                    .args(&full);
                c
            }
            None => {
                let mut c = Command::new(BIN);
                c.args(&full);
                c
            }
        };
        let child = cmd
            .stdout(Stdio::from(log_file.try_clone().expect("log")))
            .stderr(Stdio::from(log_file))
            .env_remove("FAKE_CELL_STATE_FILE")
            .spawn()
            .expect("spawn fake-cell");
        let mut cell = CellProc {
            child,
            url: format!("http://127.0.0.1:{port}"),

            state,
            args,
            log,
        };
        cell.wait_ready().await;
        cell
    }

    pub async fn wait_ready(&mut self) {
        let deadline = test_support::deadline();
        let client = client();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "fake-cell exited early ({status}); log:\n{}",
                    self.log_text()
                );
            }
            if let Ok(r) = client.get(format!("{}/healthz", self.url)).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fake-cell not ready; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown hook runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Restart on the same state file with the same flags (new main port).
    pub async fn restart(&mut self, dir: &Path) -> CellProc {
        self.kill9();
        CellProc::start_with(dir, self.args.clone(), None).await
    }

    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "fake-cell did not exit; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for CellProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// An open cell (no keys) on its own binary with an empty index `name`; its URL is `cell.url`.
pub async fn open_cell_with_index(dir: &Path, name: &str) -> CellProc {
    let cell = CellProc::start(dir, &["--open"]).await;
    let url = format!("{}/indexes/{name}", cell.url);
    let (s, r) = call(Method::POST, &url, None, Some(&json!({}))).await;
    assert_eq!(s, 200, "{r}");
    cell
}

/// One request; the body is sent as raw JSON text *without* a Content-Type header, as the
/// Marqo client does for PATCH and GET-with-body.
pub async fn call(
    method: Method,
    url: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut rb = client().request(method, url);
    if let Some(k) = key {
        rb = rb.header("x-api-key", k);
    }
    if let Some(b) = body {
        rb = rb.body(b.to_string());
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("non-JSON answer {status}: {text:?}"));
    (status, v)
}

pub async fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    call(Method::GET, url, key, None).await
}

pub async fn post(url: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    call(Method::POST, url, key, Some(&body)).await
}

/// Create an account and a key with `scopes`; returns (account_id, key).
pub async fn account_with_key(url: &str, account: &str, scopes: &[&str]) -> (String, String) {
    let (s, a) = post(
        &format!("{url}/_fake/accounts"),
        None,
        json!({"account_id": account}),
    )
    .await;
    assert!(s == 201 || s == 409, "{s} {a}");
    let (s, k) = post(
        &format!("{url}/_fake/accounts/{account}/keys"),
        None,
        json!({"scopes": scopes, "name": "test"}),
    )
    .await;
    assert_eq!(s, 201, "{k}");
    (
        account.to_string(),
        k["key"].as_str().expect("key").to_string(),
    )
}

pub async fn create_index(url: &str, key: &str, name: &str, settings: Value) -> Value {
    let (s, v) = post(&format!("{url}/api/v2/indexes/{name}"), Some(key), settings).await;
    assert_eq!(s, 200, "{v}");
    v
}

pub fn docs(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"_id": format!("{prefix}-{i}"), "title": format!("document {i} about {prefix}"), "n": i}))
        .collect()
}

pub async fn add_docs(base: &str, key: &str, index: &str, docs: &[Value]) -> (u16, Value) {
    post(
        &format!("{base}/indexes/{index}/documents"),
        Some(key),
        json!({"documents": docs, "tensorFields": ["title"], "mappings": null, "modelAuth": null, "useExistingTensors": false}),
    )
    .await
}
