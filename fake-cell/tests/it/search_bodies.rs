//! Search bodies answered as Marqo's `SearchQuery` model answers them: every case of
//! `tests/data/search_bodies.json` (recorded from Marqo's models under pydantic 1) gets the same
//! 422 items, the same 400 message, or passes the model, in-process and over real HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{call, open_cell_with_index};

const CASES: &str = include_str!("../data/search_bodies.json");

fn cases() -> Vec<(Value, Value)> {
    let doc: Value = serde_json::from_str(CASES).expect("the cases file is JSON");
    let cases = doc["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 90, "the file holds every case");
    cases
        .iter()
        .map(|c| (c["body"].clone(), c["marqo"].clone()))
        .collect()
}

/// Marqo's answer for `body` against ours: a model that took the body may still be refused by
/// a later check (bounds, vector dimensions), but never with a 422.
fn check(body: &Value, marqo: &Value, status: u16, r: &Value) {
    match marqo["status"].as_u64() {
        Some(200) => assert_ne!(status, 422, "{body}: {r}"),
        Some(422) => {
            assert_eq!(status, 422, "{body}: {r}");
            assert_eq!(r["detail"], marqo["detail"], "{body}");
        }
        Some(400) => {
            assert_eq!(
                (status, &r["code"]),
                (400, &json!("invalid_argument")),
                "{body}: {r}"
            );
            assert_eq!(r["message"], marqo["message"], "{body}");
        }
        other => panic!("unexpected recorded status {other:?}"),
    }
}

#[tokio::test]
async fn search_bodies_answer_as_marqos_model_in_process() {
    let (_dir, cell, app) = cell_with_index("sb").await;
    for (body, marqo) in cases() {
        let (s, r) = send(
            &app,
            Method::POST,
            "/indexes/sb/search",
            Some(&body.to_string()),
        )
        .await;
        check(&body, &marqo, s, &r);
    }
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn search_bodies_answer_as_marqos_model_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "sb").await;
    let search = format!("{}/indexes/sb/search", cell.url);
    for (body, marqo) in cases() {
        let (s, r) = call(reqwest::Method::POST, &search, None, Some(&body)).await;
        check(&body, &marqo, s, &r);
    }
}
