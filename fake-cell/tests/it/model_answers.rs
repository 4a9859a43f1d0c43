//! Bodies answered as Marqo's own pydantic models answer them. The cases in `tests/data/`
//! were recorded by running Marqo's models under pydantic 1 (Marqo's pin):
//! `search_bodies.json` (`SearchQuery` with every model it nests) and `bodies.json` (add and
//! update documents, recommend, embed). Each case gets the same 422 items, the same 400
//! message, or passes the model, in-process and over real HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{call, open_cell_with_index};

const FILES: [&str; 2] = [
    include_str!("../data/search_bodies.json"),
    include_str!("../data/bodies.json"),
];

/// `(method, path under the index, body, Marqo's answer)`.
fn cases() -> Vec<(String, String, Value, Value)> {
    let mut out = Vec::new();
    for file in FILES {
        let doc: Value = serde_json::from_str(file).expect("a cases file is JSON");
        let cases = doc["cases"].as_array().expect("a list of cases");
        assert!(cases.len() >= 60, "the file holds every case");
        out.extend(cases.iter().map(|c| {
            let text = |k: &str| c[k].as_str().expect("method and path").to_string();
            (
                text("method"),
                text("path"),
                c["body"].clone(),
                c["marqo"].clone(),
            )
        }));
    }
    out
}

/// Ours against Marqo's: a model that took the body may still be refused by a later check
/// (bounds, vector dimensions, missing documents), but never with a 422.
fn check(what: &str, marqo: &Value, status: u16, r: &Value) {
    match marqo["status"].as_u64() {
        Some(200) => assert_ne!(status, 422, "{what}: {r}"),
        Some(422) => {
            assert_eq!(status, 422, "{what}: {r}");
            assert_eq!(r["detail"], marqo["detail"], "{what}");
        }
        Some(400) => {
            let code = marqo
                .get("code")
                .unwrap_or(&json!("invalid_argument"))
                .clone();
            assert_eq!((status, &r["code"]), (400, &code), "{what}: {r}");
            assert_eq!(r["message"], marqo["message"], "{what}");
        }
        other => panic!("unexpected recorded status {other:?}"),
    }
}

#[tokio::test]
async fn bodies_answer_as_marqos_models_in_process() {
    let (_dir, cell, app) = cell_with_index("mb").await;
    for (method, path, body, marqo) in cases() {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let uri = format!("/indexes/mb/{path}");
        let (s, r) = send(&app, m, &uri, Some(&body.to_string())).await;
        check(&format!("{method} {path} {body}"), &marqo, s, &r);
    }
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn bodies_answer_as_marqos_models_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "mb").await;
    for (method, path, body, marqo) in cases() {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}/indexes/mb/{path}", cell.url);
        let (s, r) = call(m, &url, None, Some(&body)).await;
        check(&format!("{method} {path} {body}"), &marqo, s, &r);
    }
}
