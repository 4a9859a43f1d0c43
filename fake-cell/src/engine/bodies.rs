//! The add-documents body as Marqo's `AddDocsBodyParams` model checks it (`extra = "forbid"`):
//! unknown keys, wrong types and non-object documents are 422 items, before any document is
//! looked at. py-marqo sends `useExistingTensors`, `mappings` and `modelAuth` (often `null`) on
//! every call, which the model allows.

use serde_json::{Map, Value, json};

use super::model::{Errors, Field, Kind};
use crate::error::CellResult;

const ADD_FIELDS: &[Field] = &[
    Field("tensorFields", Kind::List, true),
    Field("useExistingTensors", Kind::Bool, false),
    Field("imageDownloadHeaders", Kind::Dict, false),
    Field("mediaDownloadHeaders", Kind::Dict, true),
    Field("modelAuth", Kind::Dict, true),
    Field("mappings", Kind::Dict, true),
    Field("documents", Kind::List, false),
    Field("imageDownloadThreadCount", Kind::Int, true),
    Field("mediaDownloadThreadCount", Kind::Int, true),
    Field("textChunkPrefix", Kind::Str, true),
];

/// 422 unless `body` is a valid `AddDocsBodyParams`; `documents` is then a list of objects.
pub fn check_add_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], ADD_FIELDS, &["documents"]);
    if let Some(Value::Array(docs)) = body.get("documents") {
        for (i, d) in docs.iter().enumerate() {
            if !d.is_object() {
                errs.push(
                    vec![json!("body"), json!("documents"), json!(i)],
                    "value is not a valid dict",
                    "type_error.dict",
                );
            }
        }
    }
    errs.into_result()
}
