//! `/api/snapshots`: list (`GET`), save (`POST {"name"}`), restore (`POST /{name}/restore`),
//! delete (`DELETE /{name}`) and diff (`GET /{name}/diff`) — what `orchestrator snapshot` and the
//! page's Snapshots panel call. One snapshot operation runs at a time (a second waits). A restore
//! also puts the snapshot's seed manifest back (`/api/seed`, `seed.json`, `.env.e2e`).
//! Errors: a bad name 400, no such snapshot 404, one this build cannot load (version, checksum)
//! 409, a service failing 502.

use std::path::PathBuf;
use std::sync::LazyLock;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use service_kit::error::json_error;

use super::AppState;
use super::extract::ApiPath;
use crate::config::Paths;
use crate::snapshot::{Stack, diff, format, restore, save, store};

/// An error answer, boxed: the `Ok` sides are small.
type Fail = Box<Response>;

/// One snapshot operation at a time: a save during a restore would capture a mix.
static BUSY: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/snapshots", get(list).post(save_one))
        .route("/api/snapshots/{name}", axum::routing::delete(delete_one))
        .route("/api/snapshots/{name}/restore", post(restore_one))
        .route("/api/snapshots/{name}/diff", get(diff_one))
}

fn paths(st: &AppState) -> Paths {
    Paths::new(PathBuf::from(&st.info.project_root))
}

/// The running stack as the snapshot code sees it, with the `[[snapshot.hooks]]` of the
/// project's `hippodrome.toml` as it is now.
fn stack(st: &AppState) -> Result<Stack, Fail> {
    let p = paths(st);
    let toml =
        crate::config::hippodrome_toml::HippodromeToml::load(&p.project_root).map_err(|e| {
            Box::new(json_error(
                StatusCode::CONFLICT,
                "invalid_config",
                format!("{e}"),
            ))
        })?;
    Ok(Stack::of(&st.sup, p.hippodrome_dir, Some(st.info.seed))
        .with_hooks(p.project_root, toml.snapshot.hooks))
}

fn bad_name(e: anyhow::Error) -> Response {
    json_error(StatusCode::BAD_REQUEST, "invalid_name", format!("{e:#}"))
}

/// Load `name` checked whole: 400 / 404 / 409 as the module doc says.
fn load(st: &AppState, name: &str) -> Result<format::Loaded, Fail> {
    let dir = store::dir_of(&paths(st).hippodrome_dir, name).map_err(|e| Box::new(bad_name(e)))?;
    if !dir.is_dir() {
        return Err(Box::new(json_error(
            StatusCode::NOT_FOUND,
            "snapshot_not_found",
            format!("no snapshot named {name:?}"),
        )));
    }
    format::load(&dir).map_err(|e| {
        Box::new(json_error(
            StatusCode::CONFLICT,
            "snapshot_unusable",
            format!("{e:#}"),
        ))
    })
}

fn failed(e: anyhow::Error) -> Response {
    json_error(StatusCode::BAD_GATEWAY, "snapshot_failed", format!("{e:#}"))
}

async fn list(State(st): State<AppState>) -> Response {
    match store::list(&paths(&st).hippodrome_dir) {
        Ok(l) => Json(json!({ "snapshots": l })).into_response(),
        Err(e) => failed(e),
    }
}

async fn save_one(State(st): State<AppState>, body: Bytes) -> Response {
    let name = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) => match v.get("name").and_then(|n| n.as_str()) {
            Some(n) => n.to_owned(),
            None => return bad_name(anyhow::anyhow!("the body needs {{\"name\": \"...\"}}")),
        },
        Err(e) => return bad_name(anyhow::anyhow!("the body is not JSON: {e}")),
    };
    if let Err(e) = store::check_name(&name) {
        return bad_name(e);
    }
    let stack = match stack(&st) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let manifest = st.manifest.lock().clone();
    let _one = BUSY.lock().await;
    match save::save(&stack, &name, manifest.as_ref()).await {
        Ok(saved) => (StatusCode::CREATED, Json(json!(saved))).into_response(),
        Err(e) => failed(e),
    }
}

async fn restore_one(State(st): State<AppState>, ApiPath(name): ApiPath<String>) -> Response {
    let stack = match stack(&st) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let _one = BUSY.lock().await;
    let loaded = match load(&st, &name) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    match restore::restore(&stack, &name, loaded).await {
        Ok(done) => {
            if let Some(m) = &done.seed {
                install_manifest(&st, m);
            }
            Json(json!(done)).into_response()
        }
        Err(e) => failed(e),
    }
}

/// Serve the snapshot's seed manifest again and rewrite `seed.json` and `.env.e2e` from it.
fn install_manifest(st: &AppState, m: &seed::Manifest) {
    let manifest_path = PathBuf::from(&st.info.manifest_path);
    let env_path = paths(st).hippodrome_dir.join(".env.e2e");
    let writes = [
        (manifest_path.clone(), m.to_json()),
        (env_path, m.env_file(&manifest_path)),
    ];
    for (path, text) in writes {
        if let Err(e) = service_kit::state_file::write_atomic(&path, text.as_bytes()) {
            tracing::warn!(file = %path.display(), error = %e, "cannot rewrite after a restore");
        }
    }
    *st.manifest.lock() = Some(m.clone());
}

async fn delete_one(State(st): State<AppState>, ApiPath(name): ApiPath<String>) -> Response {
    if let Err(r) = load_dir(&st, &name) {
        return *r;
    }
    let _one = BUSY.lock().await;
    match store::delete(&paths(&st).hippodrome_dir, &name) {
        Ok(()) => Json(json!({ "deleted": name })).into_response(),
        Err(e) => failed(e),
    }
}

/// 400 for a bad name, 404 when there is no such snapshot (damaged ones can still be deleted).
fn load_dir(st: &AppState, name: &str) -> Result<(), Fail> {
    let dir = store::dir_of(&paths(st).hippodrome_dir, name).map_err(|e| Box::new(bad_name(e)))?;
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Box::new(json_error(
            StatusCode::NOT_FOUND,
            "snapshot_not_found",
            format!("no snapshot named {name:?}"),
        )))
    }
}

async fn diff_one(State(st): State<AppState>, ApiPath(name): ApiPath<String>) -> Response {
    let stack = match stack(&st) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let loaded = match load(&st, &name) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    match diff::diff(&stack, &name, &loaded).await {
        Ok(d) => Json(json!({ "name": name, "services": d })).into_response(),
        Err(e) => failed(e),
    }
}

/// `up --from-snapshot NAME`, after layer 0 is healthy (instead of the seed): restore into the
/// freshly started stack as the API would, and say so on the terminal.
pub async fn restore_after_layer0(st: &AppState, name: &str) -> Result<(), String> {
    match restore_at_start(st, name).await {
        Ok(done) => {
            *st.seed.lock() = super::SeedStatus::Skipped;
            println!("[snapshot] restored {name} in {} ms", done.ms);
            Ok(())
        }
        Err(e) => Err(format!("--from-snapshot {name}: {e}")),
    }
}

async fn restore_at_start(st: &AppState, name: &str) -> Result<restore::Restored, String> {
    let p = paths(st);
    let toml = crate::config::hippodrome_toml::HippodromeToml::load(&p.project_root)
        .map_err(|e| e.to_string())?;
    let mut stack = Stack::of(&st.sup, p.hippodrome_dir, Some(st.info.seed))
        .with_hooks(p.project_root, toml.snapshot.hooks);
    // Layer 1 has not started: the router follows moto's restored streams from their start,
    // delivering them as it does a seed's writes after a plain `up`.
    stack.router = None;
    let _one = BUSY.lock().await;
    let loaded = store::load(&paths(st).hippodrome_dir, name).map_err(|e| format!("{e:#}"))?;
    let done = restore::restore(&stack, name, loaded)
        .await
        .map_err(|e| format!("{e:#}"))?;
    if let Some(m) = &done.seed {
        install_manifest(st, m);
    }
    Ok(done)
}
