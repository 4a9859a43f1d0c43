//! The non-search bodies as Marqo's pydantic models check them (`extra = "forbid"`):
//! `AddDocsBodyParams`, `UpdateDocumentsBodyParams`, `RecommendQuery` and `EmbedRequest`.
//! Unknown keys, wrong types and non-object documents are 422 items before anything is read.
//! Where py-marqo 3.18 sends keys the stored model lacks (recommend's `allowMissingDocuments` /
//! `allowMissingEmbeddings`, embed's `imageDownloadHeaders` / `mediaDownloadHeaders`), they are
//! accepted: the real client wins.

use serde_json::{Map, Value, json};

use super::model::{Errors, Field, Kind};
use super::search::model::INTERPOLATION;
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

const UPDATE_FIELDS: &[Field] = &[Field("documents", Kind::List, false)];

const RECOMMEND_FIELDS: &[Field] = &[
    Field("documents", Kind::Any, false),
    Field("tensorFields", Kind::StrList, true),
    Field("interpolationMethod", Kind::Enum(INTERPOLATION), true),
    Field("excludeInputDocuments", Kind::Bool, false),
    Field("limit", Kind::Int, false),
    Field("offset", Kind::Int, false),
    Field("efSearch", Kind::Int, true),
    Field("approximate", Kind::Bool, true),
    Field("searchableAttributes", Kind::StrList, true),
    Field("showHighlights", Kind::Bool, false),
    Field("reRanker", Kind::Str, true),
    Field("filter", Kind::Str, true),
    Field("attributesToRetrieve", Kind::StrList, true),
    Field("scoreModifiers", Kind::Dict, true),
    Field("rerankDepth", Kind::Int, true),
    Field("allowMissingDocuments", Kind::Bool, true),
    Field("allowMissingEmbeddings", Kind::Bool, true),
];

const EMBED_FIELDS: &[Field] = &[
    Field("content", Kind::Any, false),
    Field("image_download_headers", Kind::Dict, true),
    Field("imageDownloadHeaders", Kind::Dict, true),
    Field("mediaDownloadHeaders", Kind::Dict, true),
    Field("modelAuth", Kind::Dict, true),
    Field("content_type", Kind::Enum(&["query", "document"]), true),
];

/// Every item of `documents` must be an object (`List[Dict[str, Any]]`).
fn documents_are_dicts(body: &Map<String, Value>, errs: &mut Errors) {
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
}

/// 422 unless `body` is a valid `AddDocsBodyParams`; `documents` is then a list of objects.
pub fn check_add_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], ADD_FIELDS, &["documents"]);
    documents_are_dicts(body, &mut errs);
    errs.into_result()
}

/// 422 unless `body` is a valid `UpdateDocumentsBodyParams`.
pub fn check_update_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], UPDATE_FIELDS, &["documents"]);
    documents_are_dicts(body, &mut errs);
    errs.into_result()
}

/// 422 unless `body` is a valid `RecommendQuery` (`rerankDepth` ≥ 0 by its validator).
pub fn check_recommend_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], RECOMMEND_FIELDS, &["documents"]);
    if errs.is_empty()
        && body
            .get("rerankDepth")
            .and_then(super::model::as_int)
            .is_some_and(|d| d < 0)
    {
        errs.root(&["body"], "rerankDepth cannot be negative.");
    }
    errs.into_result()
}

/// 422 unless `body` is a valid `EmbedRequest`, with its `content` validator's messages.
pub fn check_embed_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], EMBED_FIELDS, &["content"]);
    if let Some(content) = body.get("content").filter(|_| errs.is_empty()) {
        let items: Vec<&Value> = match content {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let empty = match content {
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        let msg = if empty {
            Some("Embed content list should not be empty")
        } else if items
            .iter()
            .any(|i| i.as_object().is_some_and(Map::is_empty))
        {
            Some("Dictionary content should not be empty")
        } else if items.iter().any(|i| {
            i.as_object()
                .is_some_and(|o| !o.values().all(Value::is_number))
        }) {
            Some("Values in dictionary content should all be floats")
        } else if items.iter().any(|i| !(i.is_string() || i.is_object())) {
            Some(
                "Embed content should be a string, a dictionary, or a list of strings or dictionaries",
            )
        } else {
            None
        };
        if let Some(msg) = msg {
            errs.value(&["body"], "content", msg);
        }
    }
    errs.into_result()
}
