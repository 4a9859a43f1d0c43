//! The non-search bodies as Marqo's pydantic models check them (`extra = "forbid"`):
//! `AddDocsBodyParams`, `UpdateDocumentsBodyParams`, `RecommendQuery` and `EmbedRequest`.
//! Unknown keys, wrong types and non-object documents are 422 items before anything is read.
//! Where py-marqo 3.18 sends keys the stored model lacks (recommend's `allowMissingDocuments` /
//! `allowMissingEmbeddings`, embed's `imageDownloadHeaders` / `mediaDownloadHeaders`), they are
//! accepted: the real client wins. Also the object-valued document fields Marqo's
//! `validate_dict` accepts (maps of numbers, multimodal combinations) and its messages.

use serde_json::{Map, Value, json};

use super::model::{Errors, Field, Kind, item, not_a_dict};
use super::python;
use super::search::model::INTERPOLATION;
use super::unions;
use crate::error::{CellError, CellResult};

const ADD_FIELDS: &[Field] = &[
    Field("tensorFields", Kind::List, true),
    Field("useExistingTensors", Kind::Bool, false),
    Field("imageDownloadHeaders", Kind::Map, false),
    Field("mediaDownloadHeaders", Kind::Map, true),
    Field(
        "modelAuth",
        Kind::Model(crate::engine::model_auth::check),
        true,
    ),
    Field("mappings", Kind::Map, true),
    Field(
        "documents",
        Kind::Model(|v| Ok(unions::documents_sequence(v))),
        false,
    ),
    Field("imageDownloadThreadCount", Kind::Int, true),
    Field("mediaDownloadThreadCount", Kind::Int, true),
    Field("textChunkPrefix", Kind::Str, true),
    Field(
        "batchVectorisationMode",
        Kind::Enum(&["per_field", "per_document", "per_batch"]),
        false,
    ),
];

/// Marqo's default `imageDownloadThreadCount` (`MARQO_IMAGE_DOWNLOAD_THREAD_COUNT_PER_REQUEST`).
const IMAGE_THREADS: i64 = 20;

const UPDATE_FIELDS: &[Field] = &[Field("documents", Kind::List, false)];

const RECOMMEND_FIELDS: &[Field] = &[
    Field(
        "documents",
        Kind::Model(|v| Ok(unions::recommend_documents(v).err().unwrap_or_default())),
        false,
    ),
    Field("tensorFields", Kind::StrList, true),
    Field("interpolationMethod", Kind::EnumNoCase(INTERPOLATION), true),
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
    Field(
        "scoreModifiers",
        Kind::Model(crate::engine::search::modifiers::check),
        true,
    ),
    Field("rerankDepth", Kind::Int, true),
    Field("allowMissingDocuments", Kind::Bool, true),
    Field("allowMissingEmbeddings", Kind::Bool, true),
];

const EMBED_FIELDS: &[Field] = &[
    Field("content", Kind::Model(embed_content), false),
    Field("image_download_headers", Kind::Map, true),
    Field("imageDownloadHeaders", Kind::Map, true),
    Field("mediaDownloadHeaders", Kind::Map, true),
    Field(
        "modelAuth",
        Kind::Model(crate::engine::model_auth::check),
        true,
    ),
    Field("content_type", Kind::Enum(&["query", "document"]), true),
];

/// Every item of an update's `documents` must be an object (`List[Dict[str, Any]]`).
fn documents_are_dicts(body: &Map<String, Value>, errs: &mut Errors) {
    if let Some(Value::Array(docs)) = body.get("documents") {
        for (i, d) in docs.iter().enumerate() {
            if !d.is_object() {
                errs.add(not_a_dict(json!(["body", "documents", i])));
            }
        }
    }
}

/// 422 unless `body` is a valid `AddDocsBodyParams`. Its `documents` is a list of anything
/// (`Sequence[Union[dict, Any]]`): a document that is not an object gets its own 400 item.
pub fn check_add_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], ADD_FIELDS, &["documents"]);
    // `validate_thread_counts` (no `skip_on_failure`) sees a count that failed as `None`, which
    // is what `as_int` gives for a value the field refused.
    let count =
        |key: &str, default: Option<i64>| body.get(key).map_or(default, super::model::as_int);
    let image = count("imageDownloadThreadCount", Some(IMAGE_THREADS));
    let media = count("mediaDownloadThreadCount", None);
    if !errs.aborted() && media.is_some() && image != Some(IMAGE_THREADS) {
        errs.root(
            &["body"],
            "Cannot set both imageDownloadThreadCount and mediaDownloadThreadCount",
        );
    }
    both_download_headers(body, &mut errs);
    errs.into_result()
}

/// How many downloads a checked add body runs at once: its `mediaDownloadThreadCount`, else
/// its `imageDownloadThreadCount`, else Marqo's default.
pub fn download_threads(body: &Map<String, Value>) -> usize {
    let threads = ["mediaDownloadThreadCount", "imageDownloadThreadCount"]
        .iter()
        .find_map(|k| body.get(*k).and_then(super::model::as_int))
        .unwrap_or(IMAGE_THREADS);
    usize::try_from(threads).unwrap_or(1)
}

/// Current Marqo's `_validate_image_download_headers_and_media_download_headers` on the add
/// and embed bodies (`skip_on_failure`; empty maps are falsy in Python).
fn both_download_headers(body: &Map<String, Value>, errs: &mut Errors) {
    let set = |k: &str| super::model::non_empty_map(body, k);
    if errs.is_empty() && set("imageDownloadHeaders") && set("mediaDownloadHeaders") {
        errs.root(
            &["body"],
            "Cannot set both imageDownloadHeaders and mediaDownloadHeaders. \
             'imageDownloadHeaders' is deprecated and will be removed in the future. \
             Use mediaDownloadHeaders instead.",
        );
    }
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

/// 422 unless `body` is a valid `EmbedRequest`.
pub fn check_embed_body(body: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check(body, &["body"], EMBED_FIELDS, &["content"]);
    both_download_headers(body, &mut errs);
    errs.into_result()
}

/// `EmbedRequest.content`: its union, then its `validate_content` on the coerced value (a
/// `ValueError` at the field).
fn embed_content(v: &Value) -> CellResult<Vec<Value>> {
    let content = match unions::embed_content(v) {
        Ok(c) => c,
        Err(items) => return Ok(items),
    };
    let empty = |c: &Value| match c {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    let msg = if empty(&content) {
        Some("Embed content list should not be empty")
    } else if match &content {
        Value::Array(a) => a.iter().any(|i| i.is_object() && empty(i)),
        _ => false,
    } {
        Some("Dictionary content should not be empty")
    } else {
        None
    };
    Ok(msg
        .map(|m| vec![item(json!([]), m, "value_error")])
        .unwrap_or_default())
}

/// Marqo's docs page for the mappings object (`marqo_docs.mappings()` for 2.23).
const MAPPINGS_DOCS: &str = "https://docs.marqo.ai/2.23/reference/api/documents/mappings/";

/// A document field whose value is an object without a `custom_vector` /
/// `multimodal_combination` mapping: Marqo (≥ 2.9, `validate_dict`) takes it as a map of
/// numbers — one level, string keys, int/float values (booleans are Python ints) — and refuses
/// anything else with `InvalidArgError`, a per-document 400 `invalid_argument`.
pub fn check_map_field(content: &Map<String, Value>) -> CellResult<()> {
    if content.values().any(Value::is_object) {
        return Err(CellError::InvalidArgument(
            "Nested dictionaries are not allowed in map fields. Each value must be a single int, float, or double."
                .into(),
        ));
    }
    for (key, value) in content {
        if !(value.is_number() || value.is_boolean()) {
            return Err(CellError::InvalidArgument(format!(
                "Value '{}' for key '{key}' in map field is not of type int or float. If you are using an \
                 unstructured index and attempting to index another type of object field (e.g. custom_vector field), \
                 please use the 'mappings' object. See '{MAPPINGS_DOCS}' for more info on object fields.",
                python::str_of(value)
            )));
        }
    }
    Ok(())
}

/// A `multimodal_combination` field given as an object (`validate_multimodal_combination`):
/// not empty, string keys and values each named in the mapping's weights, and a tensor field.
pub fn check_multimodal_field(
    content: &Map<String, Value>,
    weights: Option<&Map<String, Value>>,
    is_tensor: bool,
) -> CellResult<()> {
    let docs = "https://docs.marqo.ai/2.23/reference/api/documents/mappings/#multimodal-combination-object";
    // Only the error messages print the field, so it is printed (and copied) only for them.
    let whole = || python::str_of(&Value::Object(content.clone()));
    if content.is_empty() {
        return Err(CellError::InvalidArgument(format!(
            "The multimodal_combination field `{}` is an empty dictionary.This is not a valid format of field content.If you aim to use multimodal_combination, it must contain at least 1 field. please check `{docs}` for more info.",
            whole()
        )));
    }
    for (key, value) in content {
        if !value.is_string() {
            let kind = python::type_name(value);
            return Err(CellError::InvalidArgument(format!(
                "Multimodal-combination field content `{key}:{}` \n  of type `str : {kind}` is not of valid content type (one of [<class 'str'>]).",
                python::str_of(value)
            )));
        }
        if !weights.is_some_and(|w| w.contains_key(key)) {
            let w = weights.map_or_else(
                || "{}".to_string(),
                |w| python::str_of(&Value::Object(w.clone())),
            );
            return Err(CellError::InvalidArgument(format!(
                "Multimodal-combination field content `{key}:{}` \n  is not in the multimodal_field mappings weights `{w}`. Each sub_field requires a weight.Please add `{key}` to the mappings.Please check `{docs}` for more info.",
                python::str_of(value)
            )));
        }
    }
    if !is_tensor {
        return Err(CellError::InvalidArgument(format!(
            "Field content `{}` \n  of type `dict` is the content for a multimodal_combination.It must be a tensor field. Add this field to `tensorFields` or add it as a normal field to fix this problem.",
            whole()
        )));
    }
    Ok(())
}
