//! Index settings as Marqo 2.x's `IndexSettings` model checks and returns them (issue 19), in-process
//! and over HTTP: nested preprocessing/ANN objects need every key, enums and bounds answer
//! pydantic's items, `allFields` items fail `validate_structured_field` in its words, the
//! structured request's root validator is the core's 400, and `GET …/settings` returns the
//! create body with Marqo's defaults filled in.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{CellProc, call};

/// A create body and the first 422 item (`loc`, `type`, `msg`) Marqo answers.
fn refused() -> Vec<(Value, Value, &'static str, &'static str)> {
    let s = |fields: Value, tensor: Value| json!({"type": "structured", "allFields": fields, "tensorFields": tensor});
    vec![
        (
            json!({"textPreprocessing": {"splitLength": 3}}),
            json!(["body", "textPreprocessing", "splitOverlap"]),
            "value_error.missing",
            "field required",
        ),
        (
            json!({"videoPreprocessing": {"splitLength": 0, "splitOverlap": 1}}),
            json!(["body", "videoPreprocessing", "splitLength"]),
            "value_error.number.not_gt",
            "ensure this value is greater than 0",
        ),
        (
            json!({"audioPreprocessing": {"splitLength": 5, "splitOverlap": -1}}),
            json!(["body", "audioPreprocessing", "splitOverlap"]),
            "value_error.number.not_ge",
            "ensure this value is greater than or equal to 0",
        ),
        (
            json!({"textPreprocessing": {"splitLength": 2, "splitOverlap": 0, "splitMethod": "line"}}),
            json!(["body", "textPreprocessing", "splitMethod"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'character', 'word', 'sentence', 'passage'",
        ),
        (
            json!({"annParameters": {"spaceType": "euclidean"}}),
            json!(["body", "annParameters", "parameters"]),
            "value_error.missing",
            "field required",
        ),
        (
            json!({"annParameters": {"spaceType": "cosine", "parameters": {"efConstruction": 8, "m": 4}}}),
            json!(["body", "annParameters", "spaceType"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'euclidean', 'angular', 'dotproduct', 'prenormalized-angular', 'geodegrees', 'hamming'",
        ),
        (
            json!({"annParameters": {"spaceType": "angular", "parameters": {"efConstruction": 0, "m": 4}}}),
            json!(["body", "annParameters", "parameters", "efConstruction"]),
            "value_error.number.not_gt",
            "ensure this value is greater than 0",
        ),
        (
            json!({"vectorNumericType": "int8"}),
            json!(["body", "vectorNumericType"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'float', 'bfloat16'",
        ),
        (
            s(
                json!([{"name": "p", "type": "float", "features": ["lexical_search"]}]),
                json!([]),
            ),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "p: Field with lexical_search feature must be of type text or array<text>",
        ),
        (
            s(
                json!([{"name": "t", "type": "text", "features": ["score_modifier"]}]),
                json!([]),
            ),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "t: Field with score_modifier feature must be of type float, int, double, long, map<text, float>, map<text, int>, map<text, double>, or map<text, long>",
        ),
        (
            s(
                json!([{"name": "m", "type": "multimodal_combination"}]),
                json!(["m"]),
            ),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "m: dependent_fields must be defined for a field of type multimodal_combination",
        ),
        (
            s(
                json!([{"name": "i", "type": "image_pointer", "features": ["filter"]}]),
                json!([]),
            ),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "i: Cannot specify features for field of type image_pointer",
        ),
        (
            s(
                json!([{"name": "t", "type": "text", "dependentFields": {"a": 1.0}}]),
                json!([]),
            ),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "t: dependent_fields must only be defined for fields of type multimodal_combination",
        ),
        (
            s(json!([{"name": "marqo__x", "type": "text"}]), json!([])),
            json!(["body", "allFields", 0, "__root__"]),
            "value_error",
            "marqo__x: Field name must not start with \"marqo__\"",
        ),
        (
            s(json!([{"name": "t", "type": "varchar"}]), json!([])),
            json!(["body", "allFields", 0, "type"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'text', 'bool', 'int', 'long', 'float', 'double', 'array<text>', 'array<int>', 'array<long>', 'array<float>', 'array<double>', 'image_pointer', 'video_pointer', 'audio_pointer', 'multimodal_combination', 'custom_vector', 'map<text, int>', 'map<text, long>', 'map<text, float>', 'map<text, double>'",
        ),
        (
            s(
                json!([{"name": "t", "type": "text", "features": ["sortable"]}]),
                json!([]),
            ),
            json!(["body", "allFields", 0, "features", 0]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'lexical_search', 'score_modifier', 'filter'",
        ),
    ]
}

/// Structured bodies whose failure is the core's `StructuredMarqoIndexRequest` (400).
fn core_refused() -> Vec<(Value, &'static str)> {
    let s = |fields: Value, tensor: Value| json!({"type": "structured", "allFields": fields, "tensorFields": tensor});
    vec![
        (
            s(json!([{"name": "t", "type": "text"}]), json!(["q"])),
            "Tensor field 'q' is not a defined field. Field names: [t]",
        ),
        (
            s(json!([{"name": "c", "type": "custom_vector"}]), json!([])),
            "Field 'c' has type 'custom_vector' and must be a tensor field.",
        ),
        (
            s(
                json!([{"name": "c", "type": "custom_vector"},
                   {"name": "m", "type": "multimodal_combination", "dependentFields": {"c": 1.0}}]),
                json!(["c", "m"]),
            ),
            "Field 'c' is a custom vector field and cannot be a dependent field of multimodal field 'm'.",
        ),
    ]
}

/// Create bodies and what `GET …/settings` answers for them.
fn echoed() -> Vec<(Value, Value)> {
    let defaults = json!({
        "type": "unstructured", "treatUrlsAndPointersAsImages": false, "treatUrlsAndPointersAsMedia": false,
        "filterStringMaxLength": 50, "model": "hf/e5-base-v2", "normalizeEmbeddings": true,
        "textPreprocessing": {"splitLength": 2, "splitOverlap": 0, "splitMethod": "sentence"},
        "imagePreprocessing": {}, "videoPreprocessing": {"splitLength": 20, "splitOverlap": 3},
        "audioPreprocessing": {"splitLength": 20, "splitOverlap": 3}, "vectorNumericType": "float",
        "annParameters": {"spaceType": "prenormalized-angular", "parameters": {"efConstruction": 512, "m": 16}}});
    let mut custom = defaults.clone();
    custom["model"] = json!("my-model");
    custom["modelProperties"] =
        json!({"name": "sentence-transformers/all-MiniLM-L6-v2", "dimensions": 384, "type": "hf"});
    custom["vectorNumericType"] = json!("bfloat16");
    custom["annParameters"] =
        json!({"spaceType": "euclidean", "parameters": {"efConstruction": 128, "m": 8}});
    let mut structured = defaults.clone();
    let o = structured.as_object_mut().unwrap();
    for k in [
        "treatUrlsAndPointersAsImages",
        "treatUrlsAndPointersAsMedia",
        "filterStringMaxLength",
    ] {
        o.remove(k);
    }
    o.insert("type".into(), json!("structured"));
    o.insert("allFields".into(), json!([
        {"name": "t", "type": "text", "features": ["filter", "lexical_search"]},
        {"name": "p", "type": "float", "features": []},
        {"name": "w", "type": "map<text, float>", "features": ["score_modifier"]},
        {"name": "m", "type": "multimodal_combination", "features": [], "dependentFields": {"t": 1.0}}]));
    o.insert("tensorFields".into(), json!(["m"]));
    vec![
        (json!({}), defaults),
        (
            json!({"model": "my-model", "modelProperties": {"name": "sentence-transformers/all-MiniLM-L6-v2",
            "dimensions": 384, "type": "hf"}, "vectorNumericType": "bfloat16",
            "annParameters": {"spaceType": "euclidean", "parameters": {"efConstruction": 128, "m": 8}}}),
            custom,
        ),
        (
            json!({"type": "structured", "allFields": [
            {"name": "t", "type": "text", "features": ["filter", "lexical_search"]},
            {"name": "p", "type": "float"},
            {"name": "w", "type": "map<text,float>", "features": ["score_modifier"]},
            {"name": "m", "type": "multimodal_combination", "dependentFields": {"t": 1.0}}],
            "tensorFields": ["m"]}),
            structured,
        ),
    ]
}

async fn run(req: impl AsyncFn(&str, &str, Value) -> (u16, Value)) {
    for (i, (body, loc, kind, msg)) in refused().into_iter().enumerate() {
        let (s, r) = req("POST", &format!("/indexes/bad{i}"), body.clone()).await;
        assert_eq!(s, 422, "{body}: {r}");
        let d = &r["detail"][0];
        assert_eq!(
            (&d["loc"], d["type"].as_str(), d["msg"].as_str()),
            (&loc, Some(kind), Some(msg)),
            "{body}: {r}"
        );
    }
    for (i, (body, msg)) in core_refused().into_iter().enumerate() {
        let (s, r) = req("POST", &format!("/indexes/core{i}"), body.clone()).await;
        assert_eq!(
            (s, r["code"].as_str(), &r["link"]),
            (400, Some("invalid_argument"), &json!("")),
            "{body}: {r}"
        );
        let items: Value = serde_json::from_str(r["message"].as_str().unwrap()).unwrap();
        assert_eq!(
            items,
            json!([{"loc": ["__root__"], "msg": msg, "type": "value_error"}]),
            "{body}: {r}"
        );
    }
    for (i, (body, want)) in echoed().into_iter().enumerate() {
        let (s, r) = req("POST", &format!("/indexes/echo{i}"), body.clone()).await;
        assert_eq!(s, 200, "{body}: {r}");
        let (s, got) = req("GET", &format!("/indexes/echo{i}/settings"), Value::Null).await;
        assert_eq!((s, &got), (200, &want), "{body}");
    }
}

#[tokio::test]
async fn index_settings_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    run(async |m: &str, p: &str, b: Value| {
        let body = (!b.is_null()).then(|| b.to_string());
        send(
            &app,
            Method::from_bytes(m.as_bytes()).unwrap(),
            p,
            body.as_deref(),
        )
        .await
    })
    .await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn index_settings_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    run(async |m: &str, p: &str, b: Value| {
        let body = (!b.is_null()).then_some(&b);
        call(
            reqwest::Method::from_bytes(m.as_bytes()).unwrap(),
            &format!("{}{p}", cell.url),
            None,
            body,
        )
        .await
    })
    .await;
}
