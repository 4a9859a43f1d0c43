//! Index settings: the derived [`Settings`] the engine uses, index names, the strict
//! control-plane list entry (§9.2) and cloud options. Validation of the camelCase create body
//! (§3.1) is in [`create`], structured fields in [`fields`], Marqo's model registry in
//! [`registry`], the small shared validators in [`validate`].

pub mod create;
pub mod fields;
pub mod model;
pub mod registry;
pub mod validate;

use serde_json::{Map, Value, json};

pub use self::create::normalize_create;
pub use self::fields::FieldDef;
use self::fields::parse_fields;
use crate::error::{CellError, CellResult};

/// Cloud-only options, kept outside the immutable settings.
pub const CLOUD_KEYS: &[&str] = &[
    "numberOfShards",
    "numberOfReplicas",
    "storageClass",
    "inferenceType",
    "numberOfInferences",
];

/// Settings as the data plane uses them; derived from the stored JSON, immutable after creation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The index's name (Marqo's messages name it); empty until the index is built.
    pub name: String,
    /// The full settings (`GET settings` answers them without the two prefixes).
    pub json: Value,
    /// Put before every text chunk before it is embedded (`textChunkPrefix`, else the model's
    /// default when the index was created; empty for an index created before fake-cell had
    /// them, as Marqo's older indexes).
    pub chunk_prefix: String,
    /// Whether URLs and pointers are media (not text) in an unstructured index.
    pub media_urls: bool,
    pub structured: bool,
    pub model: String,
    pub dim: usize,
    pub normalize: bool,
    pub split_method: String,
    pub split_length: usize,
    pub split_overlap: usize,
    pub filter_string_max_length: usize,
    pub fields: Vec<FieldDef>,
    pub tensor_fields: Vec<String>,
}

impl Settings {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// An index's vector size: its custom `modelProperties.dimensions`, else the registry's.
/// Indexes created before fake-cell had Marqo's registry could name any `open_clip/`, `hf/` or
/// `Marqo/` model and got 512 dimensions; they keep them, so their stored vectors still fit.
fn index_dim(model: &str, props: Option<&Value>) -> usize {
    let custom = props
        .and_then(|p| p.get("dimensions"))
        .and_then(Value::as_u64)
        .map(|d| d as usize);
    custom
        .or_else(|| registry::lookup(model).and_then(|m| m.dimensions))
        .unwrap_or(
            if ["open_clip/", "hf/", "Marqo/"]
                .iter()
                .any(|p| model.starts_with(p))
            {
                512
            } else {
                768
            },
        )
}

/// Marqo's `validate_index_name` (the index request model's `name` validator): its message,
/// or `None` for a valid name. fake-cell also caps names at 128 characters.
pub fn index_name_error(name: &str) -> Option<String> {
    if !name_shape_ok(name) {
        return Some(format!(
            "\"{name}\" is not a valid index name. Index name must match [a-zA-Z_-][a-zA-Z0-9_-]* and must not start with \"marqo__\""
        ));
    }
    name.starts_with("marqo__")
        .then(|| "Index name must not start with \"marqo__\"".to_string())
}

/// `[a-zA-Z_-][a-zA-Z0-9_-]*`, at most 128 characters.
fn name_shape_ok(name: &str) -> bool {
    let mut chars = name.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
    ok_first
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 128
}

/// Index names: `[a-zA-Z_-][a-zA-Z0-9_-]*`, not starting with `marqo__` (aliases).
pub fn validate_index_name(name: &str) -> CellResult<()> {
    if !name_shape_ok(name) || name.starts_with("marqo__") {
        return Err(CellError::InvalidArgument(format!(
            "{name} is not a valid index name. Index names must match [a-zA-Z_-][a-zA-Z0-9_-]* and must not start with marqo__"
        )));
    }
    Ok(())
}

/// Derive the runtime view from the stored settings JSON (already validated).
pub fn derive(json: &Value) -> Settings {
    let s = |k: &str| {
        json.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let tp = &json["textPreprocessing"];
    let model = s("model");
    let fields = if json["type"] == "structured" {
        parse_fields(json.get("allFields")).unwrap_or_default()
    } else {
        Vec::new()
    };
    Settings {
        name: String::new(),
        chunk_prefix: json["textChunkPrefix"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        media_urls: json["treatUrlsAndPointersAsImages"] == true
            || json["treatUrlsAndPointersAsMedia"] == true,
        structured: json["type"] == "structured",
        dim: index_dim(&model, json.get("modelProperties")).clamp(1, 8192),
        model,
        normalize: json["normalizeEmbeddings"].as_bool().unwrap_or(true),
        split_method: tp["splitMethod"].as_str().unwrap_or("sentence").to_string(),
        split_length: tp["splitLength"].as_u64().unwrap_or(2).max(1) as usize,
        split_overlap: tp["splitOverlap"].as_u64().unwrap_or(0) as usize,
        filter_string_max_length: json["filterStringMaxLength"].as_u64().unwrap_or(50) as usize,
        fields,
        tensor_fields: json["tensorFields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        json: json.clone(),
    }
}

/// Settings keys that pass the client's strict models in a control-plane list entry (§9.2).
pub fn list_entry_settings(json: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for k in [
        "type",
        "model",
        "modelProperties",
        "normalizeEmbeddings",
        "textPreprocessing",
        "videoPreprocessing",
        "audioPreprocessing",
        "vectorNumericType",
        "annParameters",
        "textQueryPrefix",
        "textChunkPrefix",
        "treatUrlsAndPointersAsImages",
        "treatUrlsAndPointersAsMedia",
        "filterStringMaxLength",
        "collapseFields",
    ] {
        if let Some(v) = json.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let patch = json["imagePreprocessing"]
        .get("patchMethod")
        .cloned()
        .unwrap_or(Value::Null);
    // The client's enum knows only simple and frcnn.
    let patch = if patch == "simple" || patch == "frcnn" {
        patch
    } else {
        Value::Null
    };
    out.insert("imagePreprocessing".into(), json!({"patchMethod": patch}));
    out.insert(
        "tensorFields".into(),
        json.get("tensorFields").cloned().unwrap_or(json!([])),
    );
    out.insert(
        "allFields".into(),
        json.get("allFields").cloned().unwrap_or(json!([])),
    );
    out
}

/// Cloud options with defaults filled in, validated.
pub fn normalize_cloud(
    given: &Map<String, Value>,
    base: Option<&Map<String, Value>>,
) -> CellResult<Map<String, Value>> {
    let mut out = base.cloned().unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("numberOfShards".into(), json!(1));
        m.insert("numberOfReplicas".into(), json!(0));
        m.insert("numberOfInferences".into(), json!(1));
        m.insert("storageClass".into(), json!("marqo.basic"));
        m.insert("inferenceType".into(), json!("marqo.CPU.large"));
        m
    });
    for (k, v) in given {
        if v.is_null() {
            continue;
        }
        let ok = match k.as_str() {
            "numberOfShards" | "numberOfInferences" => v.as_u64().is_some_and(|n| n >= 1),
            "numberOfReplicas" => v.as_u64().is_some(),
            "storageClass" | "inferenceType" => v.as_str().is_some_and(|s| s.starts_with("marqo.")),
            _ => false,
        };
        if !ok {
            return Err(CellError::InvalidArgument(format!(
                "invalid value for {k}: {v}"
            )));
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}
