//! Bodies answered as Marqo's own pydantic models answer them. The cases in `tests/data/`
//! were recorded by running Marqo's models under pydantic 1 (Marqo's pin):
//! `search_bodies.json` (`SearchQuery` with every model it nests), `bodies.json` (add and
//! update documents, recommend, embed) and `index_settings.json` (create-index bodies, each
//! on a new index). Each case gets the same 422 items, the same 400 message, or passes the
//! model, in-process and over real HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{call, open_cell_with_index};

const FILES: [&str; 3] = [
    include_str!("../data/search_bodies.json"),
    include_str!("../data/bodies.json"),
    include_str!("../data/index_settings.json"),
];

/// `(method, path, body, Marqo's answer)`; the path is under the index `mb`, or a new index
/// (`/indexes/ms<n>`) where the case creates one.
fn cases() -> Vec<(String, String, Value, Value)> {
    let mut out = Vec::new();
    for file in FILES {
        let doc: Value = serde_json::from_str(file).expect("a cases file is JSON");
        let cases = doc["cases"].as_array().expect("a list of cases");
        assert!(cases.len() >= 60, "the file holds every case");
        for c in cases {
            let path = match c["path"].as_str() {
                Some(p) => format!("/indexes/mb/{p}"),
                None => format!("/indexes/ms{}", out.len()),
            };
            let method = c["method"].as_str().expect("a method").to_string();
            out.push((method, path, c["body"].clone(), c["marqo"].clone()));
        }
    }
    out
}

/// Whether a case created an index (deleted again: a test cell has few index ports).
fn created(path: &str, status: u16) -> bool {
    status == 200 && path.starts_with("/indexes/ms")
}

/// Ours against Marqo's: a model that took the body may still be refused by a later check
/// (bounds, vector dimensions, missing documents), but never with a 422; an index Marqo
/// creates is created.
fn check(path: &str, what: &str, marqo: &Value, status: u16, r: &Value) {
    match marqo["status"].as_u64() {
        Some(200) if path.starts_with("/indexes/ms") => assert_eq!(status, 200, "{what}: {r}"),
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
        let (s, r) = send(&app, m, &path, Some(&body.to_string())).await;
        check(&path, &format!("{method} {path} {body}"), &marqo, s, &r);
        if created(&path, s) {
            let (s, r) = send(&app, Method::DELETE, &path, None).await;
            assert_eq!(s, 200, "{r}");
        }
    }
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn bodies_answer_as_marqos_models_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "mb").await;
    for (method, path, body, marqo) in cases() {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}{path}", cell.url);
        let (s, r) = call(m, &url, None, Some(&body)).await;
        check(&path, &format!("{method} {path} {body}"), &marqo, s, &r);
        if created(&path, s) {
            let (s, r) = call(reqwest::Method::DELETE, &url, None, None).await;
            assert_eq!(s, 200, "{r}");
        }
    }
}
