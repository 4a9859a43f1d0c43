//! Finding a running stack from another shell: `.hippodrome/run.json` first, else the default
//! dashboard port shifted by `--port-offset`.

use std::path::Path;
use std::time::Duration;

use crate::cli::FindArgs;
use crate::config::{Paths, Ports, project};
use crate::runfile::RunFile;

pub struct Located {
    pub paths: Paths,
    pub run: Option<RunFile>,
    pub dashboard_url: String,
}

pub fn locate(root: Option<&Path>, find: &FindArgs) -> Located {
    let paths = Paths::new(project::project_root(root));
    let run = RunFile::read(&paths.run_file);
    let port = run
        .as_ref()
        .map(|r| r.dashboard_port)
        .unwrap_or_else(|| Ports::new(find.port_offset).dashboard());
    Located {
        paths,
        run,
        dashboard_url: format!("http://127.0.0.1:{port}"),
    }
}

/// A client for talking to the dashboard: short timeouts, never a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(1))
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// GET a JSON document from the dashboard.
pub async fn get_json(url: &str) -> anyhow::Result<serde_json::Value> {
    let res = client().get(url).send().await?;
    let status = res.status();
    let v: serde_json::Value = res.json().await?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {v}");
    }
    Ok(v)
}

pub fn not_running(l: &Located) -> String {
    format!(
        "no Hippodrome stack is running for {} (dashboard {} unreachable); start one with `cargo run -p orchestrator -- up`",
        l.paths.project_root.display(),
        l.dashboard_url
    )
}
