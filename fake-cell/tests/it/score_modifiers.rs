//! `scoreModifiers` refused as Marqo refuses them: every case of `tests/data/score_modifiers.json`
//! (answers recorded from Marqo's own `ScoreModifierLists` under pydantic 1) in a search body,
//! in hybrid search's per-side lists and in a recommend body, each in-process and over real HTTP.

use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::Target;
use crate::support::open_cell_with_index;

const CASES: &str = include_str!("../data/score_modifiers.json");

/// `(scoreModifiers, Some(Marqo's message) | None for accepted)`.
fn cases() -> Vec<(Value, Option<String>)> {
    let doc: Value = serde_json::from_str(CASES).expect("the cases file is JSON");
    let cases = doc["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 15, "the file holds every case");
    cases
        .iter()
        .map(|c| {
            let message = c["message"].as_str().map(str::to_string);
            assert!(message.is_some() || c["accepted"] == true, "{c}");
            (c["scoreModifiers"].clone(), message)
        })
        .collect()
}

/// Where a `scoreModifiers` object can go: search, hybrid search's lexical side, recommend.
fn bodies(mods: &Value) -> Vec<(&'static str, Value)> {
    vec![
        (
            "/indexes/sm/search",
            json!({"q": "x", "scoreModifiers": mods}),
        ),
        (
            "/indexes/sm/search",
            json!({"q": "x", "searchMethod": "HYBRID",
                   "hybridParameters": {"scoreModifiersLexical": mods}}),
        ),
        (
            "/indexes/sm/recommend",
            json!({"documents": ["d1"], "scoreModifiers": mods}),
        ),
    ]
}

fn check(path: &str, body: &Value, want: &Option<String>, status: u16, r: &Value) {
    match want {
        None => assert_eq!(status, 200, "{path} {body}: {r}"),
        Some(message) => {
            assert_eq!(status, 400, "{path} {body}: {r}");
            assert_eq!(
                r,
                &json!({"message": message, "code": "invalid_argument",
                        "type": "invalid_request", "link": null}),
                "{path} {body}"
            );
        }
    }
}

/// Every case in every shape, against an index holding one document (recommend needs it).
async fn run(t: &Target) {
    let doc = json!({"documents": [{"_id": "d1", "title": "x"}], "tensorFields": ["title"]});
    let (s, r) = t.req("POST", "/indexes/sm/documents", doc).await;
    assert_eq!(s, 200, "{r}");
    for (mods, want) in cases() {
        for (path, body) in bodies(&mods) {
            let (s, r) = t.req("POST", path, body.clone()).await;
            check(path, &body, &want, s, &r);
        }
    }
}

#[tokio::test]
async fn malformed_score_modifiers_get_marqos_400_in_process() {
    let (_dir, cell, app) = cell_with_index("sm").await;
    run(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn malformed_score_modifiers_get_marqos_400_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "sm").await;
    run(&Target::Http(cell.url.clone())).await;
}
