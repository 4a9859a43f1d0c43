//! A running stack seen from another shell: where it is (`.hippodrome/run.json` first, else the
//! default dashboard port shifted by `--port-offset`) and a typed client for its dashboard API
//! (`/api/status`, `/api/stack`, `/api/seed`, `/api/control/…`, `/api/faults`), used by the commands and `doctor`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::de::DeserializeOwned;

use crate::config::{Paths, Ports, project};
use crate::dashboard::{StackView, StatusView};
use crate::runfile::RunFile;

pub struct Located {
    pub paths: Paths,
    pub run: Option<RunFile>,
    pub dashboard_url: String,
}

/// This project's stack: its run file if there is one, and where its dashboard is or would be.
pub fn locate(root: Option<&Path>, port_offset: u16) -> Located {
    let paths = Paths::new(project::project_root(root));
    let run = RunFile::read(&paths.run_file);
    let port = run
        .as_ref()
        .map(|r| r.dashboard_port)
        .unwrap_or_else(|| Ports::new(port_offset).dashboard());
    Located {
        paths,
        run,
        dashboard_url: format!("http://127.0.0.1:{port}"),
    }
}

impl Located {
    pub fn dashboard(&self) -> Dashboard {
        Dashboard::new(&self.dashboard_url)
    }

    /// What to tell a person when the dashboard does not answer.
    pub fn not_running(&self) -> String {
        format!(
            "no Hippodrome stack is running for {} (dashboard {} unreachable); start one with `cargo run -p orchestrator -- up`",
            self.paths.project_root.display(),
            self.dashboard_url
        )
    }
}

/// The dashboard API of one stack. Errors name the URL; an answer that does not have the
/// expected shape is a [`serde_json::Error`] inside the error (see [`is_bad_answer`]).
pub struct Dashboard {
    url: String,
    http: reqwest::Client,
}

impl Dashboard {
    /// `url` is the dashboard's base, e.g. `http://127.0.0.1:9000`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            http: client(Duration::from_secs(30)),
        }
    }

    /// The same, giving up on any request after `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            http: client(timeout),
            ..self
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `GET /api/status`.
    pub async fn status(&self) -> anyhow::Result<StatusView> {
        self.get("/api/status").await
    }

    /// `GET /api/stack`.
    pub async fn stack(&self) -> anyhow::Result<StackView> {
        self.get("/api/stack").await
    }

    /// `GET /api/seed`: the manifest of the seed the stack ran.
    pub async fn seed_manifest(&self) -> anyhow::Result<seed::Manifest> {
        self.get("/api/seed").await
    }

    /// `POST /api/control/{action}[?service=NAME]`; `Err` only when the dashboard does not answer.
    pub async fn control(
        &self,
        action: &str,
        service: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut url = self.url(&format!("/api/control/{action}"));
        if let Some(s) = service {
            url.push_str(&format!("?service={s}"));
        }
        self.http.post(&url).send().await
    }

    /// GET a JSON document from the dashboard, as it is.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let url = self.url(path);
        let res = self.http.get(&url).send().await?;
        let status = res.status();
        let v: serde_json::Value = res.json().await?;
        if !status.is_success() {
            anyhow::bail!("{url} answered {status}: {v}");
        }
        Ok(v)
    }

    /// Send `body` (if any) with `method` and return the status and the JSON answer, whatever the
    /// status; `Err` only when the dashboard does not answer or the answer is not JSON.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Result<(reqwest::StatusCode, serde_json::Value)> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await?;
        let status = res.status();
        Ok((status, res.json().await?))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let v = self.get_json(path).await?;
        serde_json::from_value(v).with_context(|| format!("unexpected {path} answer"))
    }
}

/// Never a proxy; a dashboard that does not accept within a second is not there.
fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(1))
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// True when the dashboard answered, but not with the document the reader expects.
pub fn is_bad_answer(e: &anyhow::Error) -> bool {
    e.is::<serde_json::Error>()
}
