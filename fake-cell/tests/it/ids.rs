//! Bodies of document ids (`GET /documents`, `delete-batch`) as Marqo's routes take them:
//! `List[str]` (a number is its text, `null` a 422 item), then `get_documents_by_ids` /
//! `validate_delete_docs_request` in their order and words. In-process and over HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{call, open_cell_with_index};

/// `(method, path under the index, body, status, what the answer must hold)`.
fn cases() -> Vec<(&'static str, &'static str, Value, u16, Value)> {
    let get = "documents";
    let del = "documents/delete-batch";
    vec![
        (
            "GET",
            get,
            json!([]),
            400,
            json!({"message": "Can't get empty collection of IDs!"}),
        ),
        (
            "GET",
            get,
            json!("a"),
            422,
            json!({"detail": [{"loc": ["body"], "msg": "value is not a valid list", "type": "type_error.list"}]}),
        ),
        (
            "GET",
            get,
            json!(["a", null]),
            422,
            json!({"detail": [{"loc": ["body", 1], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}]}),
        ),
        (
            "GET",
            get,
            json!(["d1", 5, ""]),
            200,
            json!({"errors": true, "results": [
                {"_id": "d1", "t": "x", "_found": true},
                {"_id": "5", "status": 404, "message": "Document does not exist in the index", "_found": false},
                {"_id": "", "status": 400, "message": "Document ID can't be empty"},
            ]}),
        ),
        (
            "POST",
            del,
            json!([]),
            400,
            json!({"message": "doc_ids can't be empty!", "code": "invalid_document_id"}),
        ),
        (
            "POST",
            del,
            json!(["d1", ""]),
            400,
            json!({"message": "Document ID can't be empty", "code": "invalid_document_id"}),
        ),
        (
            "POST",
            del,
            json!([{"a": 1}]),
            422,
            json!({"detail": [{"loc": ["body", 0], "msg": "str type expected", "type": "type_error.str"}]}),
        ),
        (
            "POST",
            del,
            json!([7]),
            200,
            json!({"items": [{"_id": "7", "status": 404, "result": "not_found"}]}),
        ),
    ]
}

/// Every key of `want` is in `got` with the same value.
fn check(what: &str, want_status: u16, want: &Value, status: u16, got: &Value) {
    assert_eq!(status, want_status, "{what}: {got}");
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&got[k], v, "{what}: {k}");
    }
}

const DOC: &str = r#"{"documents": [{"_id": "d1", "t": "x"}], "tensorFields": []}"#;

#[tokio::test]
async fn id_lists_are_taken_as_marqo_takes_them_in_process() {
    let (_dir, cell, app) = cell_with_index("ids").await;
    let (s, r) = send(&app, Method::POST, "/indexes/ids/documents", Some(DOC)).await;
    assert_eq!(s, 200, "{r}");
    for (method, path, body, status, want) in cases() {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let uri = format!("/indexes/ids/{path}");
        let (s, r) = send(&app, m, &uri, Some(&body.to_string())).await;
        check(&format!("{method} {path} {body}"), status, &want, s, &r);
    }
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn id_lists_are_taken_as_marqo_takes_them_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "ids").await;
    let base = format!("{}/indexes/ids", cell.url);
    let doc: Value = serde_json::from_str(DOC).unwrap();
    let (s, r) = call(
        reqwest::Method::POST,
        &format!("{base}/documents"),
        None,
        Some(&doc),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    for (method, path, body, status, want) in cases() {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (s, r) = call(m, &format!("{base}/{path}"), None, Some(&body)).await;
        check(&format!("{method} {path} {body}"), status, &want, s, &r);
    }
}
