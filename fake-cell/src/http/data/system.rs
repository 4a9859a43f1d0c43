//! Index-less routes as open-source Marqo answers them (`tensor_search/api.py`): `GET /` with
//! the emulated version, `/health`, the loaded models and their ejection, and the devices. The
//! cell has no models or GPUs: models are what [`crate::model_cache`] reports (all on `cpu`),
//! and `GET /device/cuda` is Marqo's answer on a machine without CUDA.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::info;
use crate::error::{CellError, CellResult};
use crate::http::body::query_param;
use crate::lifecycle::MARQO_VERSION;
use crate::state::Cell;

pub async fn root() -> Json<Value> {
    Json(json!({"message": "Welcome to Marqo", "version": MARQO_VERSION}))
}

pub async fn health() -> Json<Value> {
    Json(info::health_body())
}

pub async fn models(State(cell): State<Arc<Cell>>) -> Json<Value> {
    let models: Vec<Value> = cell
        .models
        .list()
        .into_iter()
        .map(|m| json!({"model_name": m, "model_device": "cpu"}))
        .collect();
    Json(json!({"models": models}))
}

/// `DELETE /models?model_name=&model_device=`: a missing `model_name` is FastAPI's 422, a model
/// not loaded on that device Marqo's 404 `model_not_in_cache`. Marqo also requires
/// `model_device`, but py-marqo 3.18's `eject_model` sends only the name, so it defaults to `cpu`.
pub async fn eject(State(cell): State<Arc<Cell>>, uri: Uri) -> CellResult<Json<Value>> {
    let Some(name) = query_param(&uri, "model_name") else {
        return Err(CellError::Validation(vec![
            json!({"loc": ["query", "model_name"], "msg": "field required", "type": "value_error.missing"}),
        ]));
    };
    let device = query_param(&uri, "model_device").unwrap_or_else(|| "cpu".into());
    let name = decode(&name);
    let device = decode(&device);
    if device != "cpu" || !cell.models.eject(&name) {
        return Err(CellError::Coded {
            status: StatusCode::NOT_FOUND,
            code: "model_not_in_cache",
            message: format!("The model_name `{name}` device `{device}` is not cached or found"),
        });
    }
    Ok(Json(json!({"result": "success",
        "message": format!("successfully eject model_name `{name}` from device `{device}`")})))
}

/// Percent-decoding of a query value (`hf%2Fe5-base-v2`, `+` for a space).
fn decode(v: &str) -> String {
    let bytes = v.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Marqo's `get_cpu_info` strings, from this machine's `/proc` (zeros where it is unreadable).
pub async fn cpu() -> Json<Value> {
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = |key: &str| -> f64 {
        mem.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0)
    };
    let (total, available) = (kib("MemTotal:"), kib("MemAvailable:"));
    let used = (total - available).max(0.0);
    let percent = if total > 0.0 {
        used / total * 100.0
    } else {
        0.0
    };
    // psutil.cpu_percent(1) samples for a second; the 1-minute load per core is close enough
    // for a fake and answers at once.
    let load: f64 = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu = (load / cores * 100.0).min(100.0);
    Json(json!({
        "cpu_usage_percent": format!("{:.1} %", cpu),
        "memory_used_percent": format!("{:.1} %", percent),
        "memory_used_gb": format!("{:.1}", used * 1024.0 / 1e9),
    }))
}

/// `monitoring.get_cuda_info` without CUDA: `HardwareCompatabilityError` (400).
pub async fn cuda() -> CellResult<Json<Value>> {
    Err(CellError::Coded {
        status: StatusCode::BAD_REQUEST,
        code: "hardware_compatability_error",
        message: "CUDA is not available on this instance".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(decode("hf%2Fe5-base-v2"), "hf/e5-base-v2");
        assert_eq!(decode("a+b%zz"), "a b%zz");
    }
}
