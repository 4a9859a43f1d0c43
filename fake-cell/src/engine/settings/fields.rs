//! Structured indexes' fields (`allFields`): the field types, feature rules per type, and the
//! `allFields` shape stored in the settings.

use serde_json::{Map, Value, json};

use super::validate::{only_keys, string_list};
use crate::error::{CellError, CellResult};

/// Marqo's `FieldType` values.
pub(super) const FIELD_TYPES: &[&str] = &[
    "text",
    "bool",
    "int",
    "long",
    "float",
    "double",
    "array<text>",
    "array<int>",
    "array<long>",
    "array<float>",
    "array<double>",
    "image_pointer",
    "video_pointer",
    "audio_pointer",
    "multimodal_combination",
    "custom_vector",
    "map<text, int>",
    "map<text, long>",
    "map<text, float>",
    "map<text, double>",
];

/// One structured field.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub kind: String,
    pub lexical: bool,
    pub filter: bool,
    pub score_modifier: bool,
    /// The features as given (Marqo answers them in that order).
    pub features: Vec<String>,
    pub dependent: Option<Map<String, Value>>,
}

/// `allFields` of a structured index: names, types, features allowed for each type,
/// `dependentFields` exactly for multimodal combinations, no duplicates.
pub fn parse_fields(v: Option<&Value>) -> CellResult<Vec<FieldDef>> {
    let arr = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "allFields"],
                "must be a list",
            ));
        }
    };
    let mut out: Vec<FieldDef> = Vec::new();
    for f in arr {
        let o = f.as_object().ok_or_else(|| {
            CellError::unprocessable(&["body", "allFields"], "fields must be objects")
        })?;
        only_keys(
            o,
            &["name", "type", "features", "dependentFields"],
            "allFields",
        )?;
        let name = o.get("name").and_then(Value::as_str).ok_or_else(|| {
            CellError::unprocessable(&["body", "allFields", "name"], "field required")
        })?;
        let kind = o
            .get("type")
            .and_then(Value::as_str)
            .map(super::model::normalize_type);
        let kind = kind
            .as_deref()
            .filter(|t| FIELD_TYPES.contains(t))
            .ok_or_else(|| {
                CellError::unprocessable(
                    &["body", "allFields", "type"],
                    format!("invalid field type for {name}"),
                )
            })?;
        let feats = string_list(o.get("features"), "features")?;
        let mut fd = FieldDef {
            name: name.to_string(),
            kind: kind.to_string(),
            lexical: false,
            filter: false,
            score_modifier: false,
            features: feats.clone(),
            dependent: o.get("dependentFields").and_then(Value::as_object).cloned(),
        };
        let numeric =
            matches!(kind, "int" | "long" | "float" | "double") || kind.starts_with("map<");
        for feat in &feats {
            match feat.as_str() {
                "lexical_search" if matches!(kind, "text" | "array<text>" | "custom_vector") => {
                    fd.lexical = true
                }
                "filter" if !matches!(kind, "image_pointer" | "multimodal_combination") => {
                    fd.filter = true
                }
                "score_modifier" if numeric => fd.score_modifier = true,
                other => {
                    return Err(CellError::InvalidArgument(format!(
                        "feature {other} is not allowed on field {name} of type {kind}"
                    )));
                }
            }
        }
        if (kind == "multimodal_combination") != fd.dependent.is_some() {
            return Err(CellError::InvalidArgument(format!(
                "dependentFields is required for multimodal_combination fields and invalid elsewhere (field {name})"
            )));
        }
        if out.iter().any(|x| x.name == name) {
            return Err(CellError::InvalidArgument(format!(
                "duplicate field name {name}"
            )));
        }
        out.push(fd);
    }
    Ok(out)
}

/// The stored `allFields`: each field with its type, features and dependent fields.
pub fn fields_json(fields: &[FieldDef]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|f| {
                let mut o = json!({"name": f.name, "type": f.kind, "features": f.features});
                if let Some(d) = &f.dependent {
                    o["dependentFields"] = Value::Object(d.clone());
                }
                o
            })
            .collect(),
    )
}
