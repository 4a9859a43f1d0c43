//! The create-index body's nested models as Marqo 2.x's pydantic `IndexSettings` checks them
//! before anything is built: `textPreprocessing` / `videoPreprocessing` / `audioPreprocessing`
//! (every key required once the object is given, lengths > 0, overlaps ≥ 0), `annParameters`
//! (`spaceType` and `parameters.efConstruction`/`m` required, > 0), the enums
//! (`vectorNumericType`, `splitMethod`, `spaceType`, field `type` and `features`), and each
//! `allFields` item's `validate_structured_field` (422 at `["body","allFields",i,"__root__"]`).
//! The structured request's own root validator runs inside Marqo's core, so its failures are
//! the 400 `invalid_argument` whose message is pydantic's error list.

use serde_json::{Map, Value, json};

use super::fields::FIELD_TYPES;
use crate::engine::model::{self, Errors, Field, Kind, as_dict, as_int, enum_item, item};
use crate::error::{CellError, CellResult};

const SPLIT_METHODS: &[&str] = &["character", "word", "sentence", "passage"];
const SPACE_TYPES: &[&str] = &[
    "euclidean",
    "angular",
    "dotproduct",
    "prenormalized-angular",
    "geodegrees",
    "hamming",
];
const NUMERIC_TYPES: &[&str] = &["float", "bfloat16"];
const FEATURES: &[&str] = &["lexical_search", "score_modifier", "filter"];
const SCORE_TYPES: &[&str] = &[
    "float",
    "int",
    "double",
    "map<text, float>",
    "map<text, int>",
    "map<text, double>",
    "long",
    "map<text, long>",
];

const TEXT_PRE: &[Field] = &[
    Field("splitLength", Kind::Int, false),
    Field("splitOverlap", Kind::Int, false),
    Field("splitMethod", Kind::Enum(SPLIT_METHODS), false),
];
const MEDIA_PRE: &[Field] = &[
    Field("splitLength", Kind::Int, false),
    Field("splitOverlap", Kind::Int, false),
];
const ANN: &[Field] = &[
    Field("spaceType", Kind::Enum(SPACE_TYPES), false),
    Field("parameters", Kind::Dict, false),
];
const HNSW: &[Field] = &[
    Field("efConstruction", Kind::Int, false),
    Field("m", Kind::Int, false),
];
const FIELD_REQUEST: &[Field] = &[
    Field("name", Kind::Str, false),
    Field("type", Kind::Any, false),
    Field("features", Kind::List, false),
    Field("dependentFields", Kind::Dict, true),
];

const TYPES: &[&str] = &["structured", "unstructured", "semi-structured"];

/// `IndexSettings`' fields in declaration order (the cloud-only and 2.2x keys are checked by
/// `create`).
pub const INDEX_SETTINGS: &[Field] = &[
    Field("type", Kind::Enum(TYPES), false),
    Field("allFields", Kind::Model(all_fields), true),
    Field("tensorFields", Kind::StrList, true),
    Field("treatUrlsAndPointersAsImages", Kind::Bool, true),
    Field("treatUrlsAndPointersAsMedia", Kind::Bool, true),
    Field("filterStringMaxLength", Kind::Int, true),
    Field("model", Kind::Str, false),
    Field("modelProperties", Kind::Dict, true),
    Field("textQueryPrefix", Kind::Str, true),
    Field("textChunkPrefix", Kind::Str, true),
    Field("normalizeEmbeddings", Kind::Bool, false),
    Field("textPreprocessing", Kind::Model(text_preprocessing), false),
    Field(
        "imagePreprocessing",
        Kind::Model(image_preprocessing),
        false,
    ),
    Field("videoPreprocessing", Kind::Model(media_preprocessing), true),
    Field("audioPreprocessing", Kind::Model(media_preprocessing), true),
    Field("vectorNumericType", Kind::Enum(NUMERIC_TYPES), false),
    Field("annParameters", Kind::Model(ann_parameters), false),
];

/// `Field(gt=0)` / `Field(ge=0)` on an int.
fn bound(errs: &mut Errors, at: &[Value], o: &Map<String, Value>, key: &str, min: i64) {
    if o.get(key).and_then(as_int).is_some_and(|n| n < min) {
        let mut loc = at.to_vec();
        loc.push(json!(key));
        let (msg, kind) = if min == 1 {
            (
                "ensure this value is greater than 0",
                "value_error.number.not_gt",
            )
        } else {
            (
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            )
        };
        errs.nested(
            &loc,
            vec![json!({"loc": [], "msg": msg, "type": kind, "ctx": {"limit_value": 0}})],
        );
    }
}

/// Check the create body as `IndexSettings` does: 422 items in field order, nested models at
/// their fields. (The core request's own checks run later: [`core_request`].)
pub fn check(m: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    errs.check_fields(m, &["body"], INDEX_SETTINGS, &[]);
    errs.into_result()
}

/// `TextPreProcessing`: every key required, `splitLength` > 0, `splitOverlap` ≥ 0.
fn text_preprocessing(v: &Value) -> CellResult<Vec<Value>> {
    preprocessing(v, TEXT_PRE)
}

/// `VideoPreProcessing` / `AudioPreProcessing`.
fn media_preprocessing(v: &Value) -> CellResult<Vec<Value>> {
    preprocessing(v, MEDIA_PRE)
}

fn preprocessing(v: &Value, fields: &[Field]) -> CellResult<Vec<Value>> {
    let Some(o) = as_dict(v) else {
        return Ok(vec![model::not_a_dict(json!([]))]);
    };
    let mut errs = Errors::default();
    let at: [Value; 0] = [];
    errs.check(
        &o,
        &at,
        fields,
        &["splitLength", "splitOverlap", "splitMethod"],
    );
    bound(&mut errs, &at, &o, "splitLength", 1);
    bound(&mut errs, &at, &o, "splitOverlap", 0);
    Ok(errs.into_items())
}

/// `ImagePreProcessing`: an optional `patchMethod` from its enum.
fn image_preprocessing(v: &Value) -> CellResult<Vec<Value>> {
    const IMAGE_PRE: &[Field] = &[Field(
        "patchMethod",
        Kind::Enum(super::create::PATCH_METHODS),
        true,
    )];
    let Some(o) = as_dict(v) else {
        return Ok(vec![model::not_a_dict(json!([]))]);
    };
    let mut errs = Errors::default();
    errs.check(&o, &[] as &[Value], IMAGE_PRE, &[]);
    Ok(errs.into_items())
}

/// `AnnParameters`: `spaceType` and `parameters` (`HnswConfig`: `efConstruction`, `m` > 0).
fn ann_parameters(v: &Value) -> CellResult<Vec<Value>> {
    let Some(a) = as_dict(v) else {
        return Ok(vec![model::not_a_dict(json!([]))]);
    };
    let mut errs = Errors::default();
    errs.check(&a, &[] as &[Value], ANN, &["spaceType", "parameters"]);
    if let Some(p) = a.get("parameters").and_then(Value::as_object) {
        let at = [json!("parameters")];
        errs.check(p, &at, HNSW, &["efConstruction", "m"]);
        bound(&mut errs, &at, p, "efConstruction", 1);
        bound(&mut errs, &at, p, "m", 1);
    }
    Ok(errs.into_items())
}

/// `Optional[List[FieldRequest]]`, each item with its `check_all_fields` root validator.
fn all_fields(v: &Value) -> CellResult<Vec<Value>> {
    let Value::Array(list) = v else {
        return Ok(vec![item(
            json!([]),
            "value is not a valid list",
            "type_error.list",
        )]);
    };
    let mut errs = Errors::default();
    for (i, f) in list.iter().enumerate() {
        let at = [json!(i)];
        let Some(f) = f.as_object() else {
            errs.add(model::not_a_dict(json!(at)));
            continue;
        };
        let mark = errs.len();
        errs.check(f, &at, FIELD_REQUEST, &["name", "type"]);
        let kind = f.get("type").and_then(Value::as_str).map(normalize_type);
        if f.contains_key("type") && !kind.as_deref().is_some_and(|k| FIELD_TYPES.contains(&k)) {
            errs.add(enum_item(json!([i, "type"]), FIELD_TYPES));
        }
        let features: Vec<&str> = f
            .get("features")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (j, feat) in features.iter().enumerate() {
            if !FEATURES.contains(feat) {
                let loc = json!([i, "features", j]);
                errs.add(enum_item(loc, FEATURES));
            }
        }
        // `check_all_fields` has `skip_on_failure=True`.
        if errs.len() == mark
            && let (Some(name), Some(kind)) = (f.get("name").and_then(Value::as_str), kind)
            && let Some(msg) = field_error(name, &kind, &features, f.get("dependentFields"))
        {
            errs.root(&at, msg);
        }
    }
    Ok(errs.into_items())
}

/// FieldRequest's `normalize_type`: no spaces around `<`, `>`, one after `,`.
pub(super) fn normalize_type(t: &str) -> String {
    let mut s = String::new();
    for part in t.split(',') {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(part.trim());
    }
    s.replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("> ", ">")
}

/// `validate_structured_field`'s first failure.
fn field_error(
    name: &str,
    kind: &str,
    features: &[&str],
    dependent: Option<&Value>,
) -> Option<String> {
    if let Some(msg) = name_error(name) {
        return Some(msg);
    }
    if matches!(kind, "image_pointer" | "multimodal_combination") && !features.is_empty() {
        return Some(format!(
            "{name}: Cannot specify features for field of type {kind}"
        ));
    }
    let has_dependent = dependent
        .and_then(Value::as_object)
        .is_some_and(|d| !d.is_empty());
    if kind == "multimodal_combination" && !has_dependent {
        return Some(format!(
            "{name}: dependent_fields must be defined for a field of type {kind}"
        ));
    }
    if kind != "multimodal_combination" && has_dependent {
        return Some(format!(
            "{name}: dependent_fields must only be defined for fields of type multimodal_combination"
        ));
    }
    if features.contains(&"lexical_search")
        && !matches!(kind, "text" | "array<text>" | "custom_vector")
    {
        return Some(format!(
            "{name}: Field with lexical_search feature must be of type text or array<text>"
        ));
    }
    if features.contains(&"score_modifier") && !SCORE_TYPES.contains(&kind) {
        return Some(format!(
            "{name}: Field with score_modifier feature must be of type float, int, double, long, map<text, float>, map<text, int>, map<text, double>, or map<text, long>"
        ));
    }
    None
}

/// `validate_field_name` (structured fields, and every field of an unstructured document).
pub fn name_error(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Some(format!(
            "\"{name}\": Field name must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with \"marqo__\""
        ));
    }
    if name.starts_with("marqo__") {
        return Some(format!(
            "{name}: Field name must not start with \"marqo__\""
        ));
    }
    const PROTECTED: [&str; 5] = ["_id", "_tensor_facets", "_highlights", "_score", "_found"];
    if PROTECTED.contains(&name) {
        return Some(format!(
            "{name}: Field name must not be one of {}",
            PROTECTED.join(", ")
        ));
    }
    None
}

/// The core's index request model (`MarqoIndexRequest` and its two kinds), built after the body
/// validated: its field errors as one 400 with pydantic's list, then
/// `StructuredMarqoIndexRequest.validate_model`: tensor fields defined, multimodal and custom
/// vector fields are tensor fields, no custom vector feeds a multimodal.
pub fn core_request(name: &str, m: &Map<String, Value>) -> CellResult<()> {
    let structured = m.get("type").and_then(Value::as_str) == Some("structured");
    // The request model's field errors, in its declaration order: the name's validator, the
    // media preprocessing `IndexSettings` lets be `None`, then a structured index's lists.
    let none = |field: &str| model::none_item(json!([field]));
    let mut items = Vec::new();
    if let Some(msg) = super::index_name_error(name) {
        items.push(item(json!(["name"]), &msg, "value_error"));
    }
    for (key, field) in [
        ("videoPreprocessing", "video_preprocessing"),
        ("audioPreprocessing", "audio_preprocessing"),
    ] {
        if m.get(key) == Some(&Value::Null) {
            items.push(none(field));
        }
    }
    if structured {
        for (key, field) in [("allFields", "fields"), ("tensorFields", "tensor_fields")] {
            if m.get(key).is_none_or(Value::is_null) {
                items.push(none(field));
            }
        }
    }
    if !items.is_empty() {
        return Err(CellError::ModelArgument(crate::engine::python::json_dumps(
            &Value::Array(items),
        )));
    }
    if !structured {
        return Ok(());
    }
    let fields: Vec<&Map<String, Value>> = m
        .get("allFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let name = |f: &Map<String, Value>| {
        f.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let kind = |f: &Map<String, Value>| {
        f.get("type")
            .and_then(Value::as_str)
            .map(normalize_type)
            .unwrap_or_default()
    };
    let tensor: Vec<&str> = m
        .get("tensorFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let names: Vec<String> = fields.iter().map(|f| name(f)).collect();
    let msg = tensor
        .iter()
        .find(|t| !names.iter().any(|n| n == *t))
        .map(|t| format!("Tensor field '{t}' is not a defined field. Field names: [{}]", names.join(", ")))
        .or_else(|| {
            fields
                .iter()
                .find(|f| {
                    matches!(kind(f).as_str(), "multimodal_combination" | "custom_vector")
                        && !tensor.contains(&name(f).as_str())
                })
                .map(|f| format!("Field '{}' has type '{}' and must be a tensor field.", name(f), kind(f)))
        })
        .or_else(|| {
            let vectors: Vec<String> = fields.iter().filter(|f| kind(f) == "custom_vector").map(|f| name(f)).collect();
            fields.iter().filter(|f| kind(f) == "multimodal_combination").find_map(|f| {
                let dep = f.get("dependentFields")?.as_object()?;
                dep.keys().find(|k| vectors.contains(k)).map(|k| {
                    format!(
                        "Field '{k}' is a custom vector field and cannot be a dependent field of multimodal field '{}'.",
                        name(f)
                    )
                })
            })
        });
    match msg {
        None => Ok(()),
        // `json.dumps` of pydantic's items (Python's separators).
        Some(msg) => Err(CellError::ModelArgument(crate::engine::python::json_dumps(
            &json!([{"loc": ["__root__"], "msg": msg, "type": "value_error"}]),
        ))),
    }
}
