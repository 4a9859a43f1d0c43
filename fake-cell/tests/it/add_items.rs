//! add_documents answers each document as Marqo's add-documents handler does: `validate_doc`
//! (a dict, not empty, at most 100,000 characters of Python's `json.dumps`) and `validate_id`
//! with their words, an empty `_id` in the item of a document Marqo never read the id of, and
//! duplicates settled by the last document that passed `validate_doc`, and each field through
//! `_validate_field` (Vespa field names, no `None`, lists of one of int, float or str). In-process
//! and over HTTP.

use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::Target;
use crate::support::open_cell_with_index;

/// One batch with every rule, and the items Marqo answers for it (ids of successes aside).
fn batch() -> (Value, Vec<Value>) {
    let docs = json!([
        "not a dict",
        {},
        {"_id": 5, "t": "x"},
        {"_id": null, "t": "x"},
        {"_id": ["a"], "t": "x"},
        {"_id": "", "t": "x"},
        {"_id": "", "t": "y"},
        {"t": {"k": "not a number"}},
        {"_id": "big", "t": "y".repeat(100_001)},
        {"_id": "e", "t": "é".repeat(20_000)},
        {"_id": "d", "t": "first"},
        {"_id": "d", "t": "second"},
        {"_id": "k", "t": "kept"},
        {"_id": "k", "t": "y".repeat(100_001)},
        // `_validate_field`: the name first, then the content's type, then a list's elements
        {"_id": "n1", "f": null},
        {"_id": "n2", "f": [1, 2.5]},
        {"_id": "n3", "f": [true]},
        {"_id": "n4", "a-b": 1},
        {"_id": "n5", "marqo__x": 1},
        {"_id": "n6", "_score": 1},
        {"_id": "n7", "f": ["a", "b"], "g": [], "h": [1.5, 2.0]},
    ]);
    let err = |id: &str, code: &str, msg: &str| json!({"_id": id, "status": 400, "code": code, "error": msg, "message": msg});
    let too_large = |id: &str, n: usize| {
        err(
            "",
            "doc_too_large",
            &format!(
                "Document _id:`{id}` with length `{n}` exceeds the allowed document size limit of [100000]."
            ),
        )
    };
    let wrong_type = |shown: &str, kind: &str| {
        err(
            "",
            "invalid_document_id",
            &format!("Document _id must be a string type! Received _id {shown} of type `{kind}`"),
        )
    };
    let mixed_list = |id: &str, shown: &str| {
        err(
            id,
            "invalid_argument",
            &format!(
                "Field content '{shown}' of type list is not of valid content type! All list elements must be of the same type and that type must be int, float or string"
            ),
        )
    };
    let items = vec![
        err("", "invalid_argument", "Docs must be dicts"),
        err("", "invalid_argument", "Can't index an empty dict."),
        wrong_type("5", "int"),
        wrong_type("None", "NoneType"),
        wrong_type("['a']", "list"),
        err("", "invalid_document_id", "Document ID can't be empty"),
        err("", "invalid_document_id", "Document ID can't be empty"),
        // a field error on a document without `_id`: checked below by status and empty id
        Value::Null,
        too_large("big", 100_024),
        // 20,000 "é" are 40,000 bytes of UTF-8 but 120,000 characters of `\u00e9`
        too_large("e", 120_021),
        json!({"_id": "d", "status": 200}),
        json!({"_id": "k", "status": 200}),
        too_large("k", 100_022),
        err(
            "n1",
            "invalid_argument",
            "Field content `None` \nof type `NoneType` is not of valid content type!Allowed content types: ['str', 'int', 'float', 'bool', 'list', 'dict']",
        ),
        mixed_list("n2", "[1, 2.5]"),
        mixed_list("n3", "[True]"),
        err(
            "n4",
            "invalid_field_name",
            "\"a-b\": Field name must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with \"marqo__\"",
        ),
        err(
            "n5",
            "invalid_field_name",
            "marqo__x: Field name must not start with \"marqo__\"",
        ),
        err(
            "n6",
            "invalid_field_name",
            "_score: Field name must not be one of _id, _tensor_facets, _highlights, _score, _found",
        ),
        json!({"_id": "n7", "status": 200}),
    ];
    (json!({"documents": docs, "tensorFields": []}), items)
}

fn check(status: u16, r: &Value, want: &[Value]) {
    assert_eq!((status, &r["errors"]), (200, &json!(true)), "{r}");
    let items = r["items"].as_array().expect("items");
    assert_eq!(items.len(), want.len(), "{r}");
    for (i, (got, want)) in items.iter().zip(want).enumerate() {
        if want.is_null() {
            assert_eq!(
                (&got["_id"], &got["status"]),
                (&json!(""), &json!(400)),
                "{i}: {got}"
            );
        } else {
            assert_eq!(got, want, "item {i}");
        }
    }
}

/// The batch's items, then what was stored.
async fn run(t: &Target) {
    let (body, want) = batch();
    let (s, r) = t.req("POST", "/indexes/ai/documents", body).await;
    check(s, &r, &want);
    // The last "d" was stored; the earlier "k" was, as its later twin failed `validate_doc`.
    for (id, text) in [("d", "second"), ("k", "kept")] {
        let (s, doc) = t.get(&format!("/indexes/ai/documents/{id}")).await;
        assert_eq!((s, &doc["t"]), (200, &json!(text)), "{doc}");
    }
}

#[tokio::test]
async fn add_items_follow_marqos_document_checks_in_process() {
    let (_dir, cell, app) = cell_with_index("ai").await;
    run(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn add_items_follow_marqos_document_checks_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "ai").await;
    run(&Target::Http(cell.url.clone())).await;
}
