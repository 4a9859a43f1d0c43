//! Documents as the data plane accepts and returns them: field validation for add and update
//! (per-item errors as Marqo reports them), the records an add request writes, and the JSON of
//! a stored document (with `_tensor_facets` on request). Plain Rust: the handlers in
//! `http/data/documents.rs` take the locks and journal the writes.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::embed;
use super::field_values;
use super::python;
use super::settings::Settings;
use super::store::{DocRecord, Store, StoredDoc};
use crate::error::{CellError, CellResult};

pub fn item_error(id: &str, err: &CellError) -> Value {
    let msg = err.to_string();
    json!({"_id": id, "status": err.status().as_u16(), "code": err.code(), "error": msg, "message": msg})
}

/// A body of document ids as Marqo's routes declare it (`List[str]`): a list, each id a string
/// or a number or boolean (pydantic 1 turns it into its text); anything else is FastAPI's 422.
pub fn id_list(body: &Value) -> CellResult<Vec<String>> {
    super::unions::str_list(body, &[json!("body")]).map_err(CellError::Validation)
}

/// Validate one document's fields for the index; returns the fields without `_id`.
pub fn validate_fields(
    doc: &Map<String, Value>,
    s: &Settings,
    tensor_fields: &[String],
    mappings: Option<&Map<String, Value>>,
) -> CellResult<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in doc {
        if k == "_id" {
            continue;
        }
        let v = if s.structured {
            check_structured(k, v, s)?
        } else {
            check_unstructured(k, v, s, tensor_fields, mappings)?;
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// A structured index's field as Marqo's structured add handler checks it: a valid name, a
/// declared field, not a multimodal combination, then its value's type and range
/// ([`field_values::check`]). Returns the value as Vespa stores it.
fn check_structured(k: &str, v: &Value, s: &Settings) -> CellResult<Value> {
    if let Some(msg) = super::settings::model::name_error(k) {
        return Err(CellError::InvalidFieldName(msg));
    }
    let f = s.field(k).ok_or_else(|| {
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        CellError::InvalidArgument(format!(
            "Field {k} is not a valid field for structured index {}. Valid fields are: {}",
            s.name,
            names.join(", ")
        ))
    })?;
    match f.kind.as_str() {
        "multimodal_combination" => Err(CellError::InvalidArgument(format!(
            "Field {k} is a multimodal combination field and cannot be assigned a value."
        ))),
        "custom_vector" if !custom_vector_ok(v, s.dim) => Err(CellError::BadRequest(format!(
            "Field '{k}' has a value of the wrong type for its declared type custom_vector"
        ))),
        _ => {
            field_values::check(f, v).map_err(CellError::InvalidArgument)?;
            Ok(field_values::stored(f, v))
        }
    }
}

/// An unstructured index's field: scalars, uniform lists, custom vectors (by mapping) or maps
/// of numbers; tensor fields are strings (or custom vectors).
fn check_unstructured(
    k: &str,
    v: &Value,
    s: &Settings,
    tensor_fields: &[String],
    mappings: Option<&Map<String, Value>>,
) -> CellResult<()> {
    let mapping = mappings
        .and_then(|m| m.get(k))
        .and_then(|m| m.get("type"))
        .and_then(Value::as_str);
    let is_tensor = tensor_fields.iter().any(|t| t == k);
    // Marqo's `_validate_field`, in its order: the name (a Vespa name), the content's type,
    // a list's element types, then an object by its mapping.
    if let Some(msg) = super::settings::model::name_error(k) {
        return Err(CellError::InvalidFieldName(msg));
    }
    match v {
        Value::String(_) | Value::Bool(_) | Value::Number(_) => {}
        Value::Array(a) => {
            if !list_types_valid(a) {
                return Err(CellError::InvalidArgument(format!(
                    "Field content '{}' of type list is not of valid content type! All list \
                     elements must be of the same type and that type must be int, float or string",
                    python::str_of(v)
                )));
            }
            if is_tensor {
                return Err(CellError::BadRequest(format!(
                    "Field '{k}': Lists cannot be tensor fields"
                )));
            }
        }
        Value::Object(o) => {
            if mapping == Some("custom_vector") {
                if !custom_vector_ok(v, s.dim) {
                    return Err(CellError::BadRequest(format!(
                        "Field '{k}': a custom vector needs {{\"vector\": [{} floats]}}",
                        s.dim
                    )));
                }
            } else if mapping == Some("multimodal_combination") {
                let weights = mappings
                    .and_then(|m| m.get(k))
                    .and_then(|m| m.get("weights"))
                    .and_then(Value::as_object);
                crate::engine::bodies::check_multimodal_field(o, weights, is_tensor)?;
                return Ok(());
            } else {
                crate::engine::bodies::check_map_field(o)?;
            }
        }
        Value::Null => {
            return Err(CellError::InvalidArgument(
                "Field content `None` \nof type `NoneType` is not of valid content type!Allowed content \
                 types: ['str', 'int', 'float', 'bool', 'list', 'dict']"
                    .into(),
            ));
        }
    }
    if is_tensor && !(v.is_string() || mapping == Some("custom_vector")) {
        return Err(CellError::BadRequest(format!(
            "Field '{k}' is a tensor field and must be a string"
        )));
    }
    Ok(())
}

/// `list_types_valid`: empty, or every element of one Python type among `int`, `float` and
/// `str` (so `[1, 2.5]` and `[true]` are not).
fn list_types_valid(a: &[Value]) -> bool {
    let Some(first) = a.first() else {
        return true;
    };
    let kind = python::type_name(first);
    matches!(kind, "int" | "float" | "str") && a.iter().all(|x| python::type_name(x) == kind)
}

fn custom_vector_ok(v: &Value, dim: usize) -> bool {
    v.get("vector")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() == dim && a.iter().all(Value::is_number))
        && v.get("content")
            .is_none_or(|c| c.is_string() || c.is_null())
}

fn parse_mappings(v: Option<&Value>) -> CellResult<Option<Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        // `Optional[dict]`: pydantic's `dict()` of an empty list or string is no mappings.
        Some(v) if super::model::as_dict(v).is_some_and(|m| m.is_empty()) => Ok(None),
        Some(Value::Object(m)) => {
            for (k, spec) in m {
                match spec.get("type").and_then(Value::as_str) {
                    Some("custom_vector") => {}
                    Some("multimodal_combination") => {
                        let ok = spec
                            .get("weights")
                            .and_then(Value::as_object)
                            .is_some_and(|w| !w.is_empty() && w.values().all(Value::is_number));
                        if !ok {
                            return Err(CellError::BadRequest(format!(
                                "mapping for {k}: multimodal_combination needs non-empty numeric weights"
                            )));
                        }
                    }
                    _ => {
                        return Err(CellError::BadRequest(format!(
                            "mapping for {k}: type must be multimodal_combination or custom_vector"
                        )));
                    }
                }
            }
            Ok(Some(m.clone()))
        }
        Some(_) => Err(CellError::unprocessable(
            &["body", "mappings"],
            "mappings must be an object or null",
        )),
    }
}

/// A custom vector whose length is not the model's dimension fails Marqo's `CustomVector`
/// model, and that pydantic error escapes the per-document loop: the whole request is a 400
/// `invalid_argument` whose message is pydantic's error list as JSON (documents are walked last
/// to first, as Marqo does).
fn check_custom_vector_dims(
    docs: &[Value],
    s: &Settings,
    mappings: Option<&Map<String, Value>>,
) -> CellResult<()> {
    let is_custom = |k: &str| {
        if s.structured {
            s.field(k).is_some_and(|f| f.kind == "custom_vector")
        } else {
            mappings
                .and_then(|m| m.get(k))
                .and_then(|m| m.get("type"))
                .and_then(Value::as_str)
                == Some("custom_vector")
        }
    };
    for doc in docs.iter().rev().filter_map(Value::as_object) {
        for (k, v) in doc {
            let Some(len) = v.get("vector").and_then(Value::as_array).map(Vec::len) else {
                continue;
            };
            if len != s.dim && is_custom(k) {
                let dim = s.dim;
                return Err(CellError::ModelArgument(format!(
                    r#"[{{"loc": ["__root__"], "msg": "Custom vector must have dimension of {dim}, but given vector is of length {len}", "type": "value_error"}}]"#
                )));
            }
        }
    }
    Ok(())
}

/// What an add request writes: one answer item per document (none for an `_id` that a later
/// document of the same batch repeats: the last occurrence wins) and the valid records.
pub struct AddBatch {
    pub items: Vec<Value>,
    pub records: Vec<DocRecord>,
}

impl AddBatch {
    /// Answer the documents `failed` names with their message (400 `invalid_argument`, as
    /// Marqo's `AddDocumentsError`) and write none of them.
    pub fn fail(&mut self, failed: &HashMap<String, String>) {
        if failed.is_empty() {
            return;
        }
        self.records.retain(|r| !failed.contains_key(&r.id));
        for item in &mut self.items {
            if item["status"] != 200 {
                continue;
            }
            if let Some((id, msg)) = item["_id"].as_str().and_then(|id| failed.get_key_value(id)) {
                *item = item_error(id, &CellError::InvalidArgument(msg.clone()));
            }
        }
    }
}

/// Validate every document of an add request (`body` is the request object, `docs` its
/// non-empty `documents` list).
pub fn validate_add(
    body: &Map<String, Value>,
    docs: &[Value],
    s: &Settings,
    max_doc_bytes: usize,
) -> CellResult<AddBatch> {
    let tensor_fields = add_tensor_fields(body, s)?;
    let mappings = if s.structured {
        None
    } else {
        parse_mappings(body.get("mappings"))?
    };
    check_custom_vector_dims(docs, s, mappings.as_ref())?;
    // The request's `textChunkPrefix` overrides the index's for these documents' chunks.
    let chunk_prefix =
        super::model::given(body, "textChunkPrefix").and_then(|v| super::model::str_field(v).ok());
    let chunk_prefix = chunk_prefix.as_deref();
    // Marqo walks the batch backwards: the first document it meets that passes `validate_doc`
    // claims its `_id`, and the others with that `_id` are dropped without an item.
    let checked: Vec<Result<Checked, Value>> =
        docs.iter().map(|d| check_doc(d, max_doc_bytes)).collect();
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, c) in checked.iter().enumerate() {
        if let Ok((_, Some(id))) = c {
            last.insert(id, i);
        }
    }
    let mut batch = AddBatch {
        items: Vec::with_capacity(docs.len()),
        records: Vec::new(),
    };
    for (i, c) in checked.into_iter().enumerate() {
        let (doc, original) = match c {
            Err(item) => {
                batch.items.push(item);
                continue;
            }
            Ok((_, Some(id))) if last.get(id) != Some(&i) => continue,
            Ok(checked) => checked,
        };
        let id = original.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
        match validate_fields(doc, s, &tensor_fields, mappings.as_ref()) {
            // Vespa refuses the feed of this one document: Marqo's item carries Vespa's words.
            Ok(ref fields) if let Some((field, cp)) = field_values::illegal_code_point(fields) => {
                let message = field_values::illegal_message(&s.name, &id, field, cp);
                let err = CellError::Coded {
                    status: axum::http::StatusCode::BAD_REQUEST,
                    code: "vespa_error",
                    message,
                };
                batch.items.push(item_error(original.unwrap_or(""), &err));
            }
            Ok(fields) => {
                batch.items.push(json!({"_id": id, "status": 200}));
                batch.records.push(add_record(
                    id,
                    fields,
                    s,
                    &tensor_fields,
                    mappings.as_ref(),
                    chunk_prefix,
                ));
            }
            // A document without an `_id` is answered with an empty one, as Marqo's collector does.
            Err(e) => batch.items.push(item_error(original.unwrap_or(""), &e)),
        }
    }
    Ok(batch)
}

/// A document that passed `validate_doc`, and its `_id` when it has one.
type Checked<'a> = (&'a Map<String, Value>, Option<&'a str>);

/// Marqo's `validate_doc` and `validate_id`, in its order: an object, not empty, at most
/// `max_bytes` (`MARQO_MAX_DOC_BYTES`) as Python's `json.dumps` writes it, and an `_id` (if any) that is a
/// non-empty string. The document with its own `_id`, or the error item (whose `_id` is empty:
/// Marqo has not read it yet).
fn check_doc(d: &Value, max_bytes: usize) -> Result<Checked<'_>, Value> {
    let Some(doc) = d.as_object() else {
        return Err(item_error(
            "",
            &CellError::InvalidArgument("Docs must be dicts".into()),
        ));
    };
    if doc.is_empty() {
        let err = CellError::InvalidArgument("Can't index an empty dict.".into());
        return Err(item_error("", &err));
    }
    let size = python::json_dumps(d).len();
    if size > max_bytes {
        let maybe_id = doc
            .get("_id")
            .map(|v| format!(" _id:`{}`", python::str_of(v)))
            .unwrap_or_default();
        let msg = format!(
            "Document{maybe_id} with length `{size}` exceeds the allowed document size limit of [{max_bytes}]."
        );
        return Err(json!({"_id": "", "status": 400, "code": "doc_too_large",
            "error": msg, "message": msg}));
    }
    match doc.get("_id") {
        None => Ok((doc, None)),
        Some(Value::String(id)) if !id.is_empty() => Ok((doc, Some(id))),
        Some(Value::String(_)) => Err(item_error(
            "",
            &CellError::InvalidDocumentId("Document ID can't be empty".into()),
        )),
        Some(v) => Err(item_error(
            "",
            &CellError::InvalidDocumentId(format!(
                "Document _id must be a string type! Received _id {} of type `{}`",
                python::str_of(v),
                python::type_name(v)
            )),
        )),
    }
}

/// The tensor fields of an add request: the index's (structured) or the request's
/// `tensorFields`, which unstructured indexes require.
fn add_tensor_fields(body: &Map<String, Value>, s: &Settings) -> CellResult<Vec<String>> {
    if s.structured {
        if body.get("tensorFields").is_some_and(|v| !v.is_null()) {
            return Err(CellError::BadRequest(
                "tensorFields must not be given for structured indexes (they come from the index settings)".into(),
            ));
        }
        return Ok(s.tensor_fields.clone());
    }
    match body.get("tensorFields") {
        Some(Value::Array(a)) => {
            let mut v = Vec::new();
            // `Optional[List]` takes any items; one that is not a string names no field.
            for t in a.iter().filter_map(Value::as_str) {
                if t == "_id" {
                    return Err(CellError::BadRequest("_id cannot be a tensor field".into()));
                }
                v.push(t.to_string());
            }
            Ok(v)
        }
        _ => Err(CellError::BadRequest(
            "tensor_fields must be explicitly provided for unstructured indexes (use [] for none)"
                .into(),
        )),
    }
}

/// The stored record of one valid document: an unstructured document keeps the tensor fields
/// (and their mappings) that apply to it.
fn add_record(
    id: String,
    fields: Map<String, Value>,
    s: &Settings,
    tensor_fields: &[String],
    mappings: Option<&Map<String, Value>>,
    chunk_prefix: Option<&str>,
) -> DocRecord {
    let rec_tensor: Vec<String> = if s.structured {
        Vec::new()
    } else {
        tensor_fields
            .iter()
            .filter(|t| fields.contains_key(*t) || mappings.is_some_and(|m| m.contains_key(*t)))
            .cloned()
            .collect()
    };
    let rec_mappings = mappings
        .map(|m| {
            m.iter()
                .filter(|(k, _)| rec_tensor.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>()
        })
        .filter(|m| !m.is_empty());
    DocRecord {
        id,
        fields,
        tensor_fields: rec_tensor,
        mappings: rec_mappings,
        chunk_prefix: chunk_prefix.map(str::to_string),
    }
}

/// Apply a partial update to a stored document: the merged record, or the item to answer.
/// A structured index's update is parsed first, as Marqo's `to_vespa_partial_document` does
/// (so a bad field is reported even for a missing document), then applied.
pub fn update_one(doc: &Value, store: &Store, s: &Settings) -> Result<DocRecord, Value> {
    let Some(doc) = doc.as_object() else {
        return Err(item_error(
            "",
            &CellError::BadRequest("Docs must be dicts".into()),
        ));
    };
    let fields = if s.structured {
        Some(structured_update(doc, s)?)
    } else {
        None
    };
    let Some(id) = doc
        .get("_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Err(item_error(
            "",
            &CellError::InvalidDocumentId("Document _id must be a non-empty string".into()),
        ));
    };
    let Some(existing) = store.get(id).map(|d| d.rec.clone()) else {
        return Err(
            json!({"_id": id, "status": 404, "message": "Document does not exist in the index"}),
        );
    };
    let fields = match fields {
        Some(fields) => fields,
        None => {
            let tensor = &existing.tensor_fields;
            if let Some(k) = doc.keys().find(|k| tensor.contains(k)) {
                return Err(item_error(
                    id,
                    &CellError::BadRequest(format!(
                        "Field '{k}' is a tensor field and cannot be updated"
                    )),
                ));
            }
            validate_fields(doc, s, &[], existing.mappings.as_ref())
                .map_err(|e| item_error(id, &e))?
        }
    };
    let mut rec = existing;
    rec.fields.extend(fields);
    Ok(rec)
}

/// Marqo's `to_vespa_partial_document` for a structured index: the `_id`, then each field (not
/// a tensor field or a multimodal field's dependency, a declared field, of its type and range).
fn structured_update(doc: &Map<String, Value>, s: &Settings) -> Result<Map<String, Value>, Value> {
    let shown_id = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
    let fail = |msg: String| item_error(shown_id, &CellError::InvalidArgument(msg));
    match doc.get("_id") {
        None => {
            return Err(fail(
                "'_id' is a required field but it does not exist".into(),
            ));
        }
        Some(Value::String(id)) if id.is_empty() => {
            return Err(fail("Document ID can't be empty".into()));
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err(fail(format!(
                "Document _id must be a string type! Received _id {} of type `{}`",
                python::str_of(other),
                python::type_name(other)
            )));
        }
    }
    let dependent = |k: &str| {
        s.fields
            .iter()
            .filter_map(|f| f.dependent.as_ref())
            .any(|d| d.contains_key(k))
    };
    let mut out = Map::new();
    for (k, v) in doc.iter().filter(|(k, _)| *k != "_id") {
        let refused = if k == "marqo__tensors" {
            Some(format!("You cannot modify '{k}' field. "))
        } else if s.tensor_fields.contains(k) {
            Some(format!(
                "You cannot modify '{k}' field as this is a tensor field"
            ))
        } else if dependent(k) {
            Some(format!(
                "You cannot modify '{k}' field as this is a dependent field of a multimodal combination field"
            ))
        } else {
            None
        };
        if let Some(msg) = refused {
            return Err(fail(msg));
        }
        let Some(f) = s.field(k) else {
            let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(fail(format!(
                "Invalid field name {k} for index {}. Valid field names are {}",
                s.name,
                names.join(", ")
            )));
        };
        field_values::check(f, v).map_err(fail)?;
        out.insert(k.clone(), field_values::stored(f, v));
    }
    Ok(out)
}

/// A stored document as the get routes answer it: `_id` then its fields.
pub fn doc_json(doc: &StoredDoc) -> Value {
    let mut out = Map::new();
    out.insert("_id".into(), json!(doc.rec.id));
    for (k, v) in &doc.rec.fields {
        out.insert(k.clone(), crate::engine::store::shown_value(v).clone());
    }
    Value::Object(out)
}

/// Add `_tensor_facets`: each chunk's text and embedding.
pub fn add_facets(v: &mut Value, store: &Store, doc: &StoredDoc, dim: usize) {
    let f: Vec<Value> = store
        .chunks_of(doc)
        .map(|c| json!({ c.field.clone(): c.text, "_embedding": embed::dense(&c.vec, dim) }))
        .collect();
    v["_tensor_facets"] = Value::Array(f);
}
