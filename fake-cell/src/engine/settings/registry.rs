//! Marqo's model registry: which model names an index may name without `modelProperties`, and
//! their dimensions. `model_registry.json` is Marqo 2.13.0's `load_model_properties()` (every
//! name with its dimensions, type, default text prefixes and modalities), written by
//! `fake-cell/tools/model_registry.py` from Marqo's `model_registry.py` and `clip_utils.py`.
//! Also Marqo's `validate_model_properties` for a custom model's properties.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::engine::python;
use crate::error::{CellError, CellResult};

/// One registry entry: what fake-cell needs of Marqo's model properties.
#[derive(Debug, serde::Deserialize)]
pub struct Model {
    /// `None` for `no_model`, whose dimensions the index must give.
    pub dimensions: Option<usize>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "textQueryPrefix")]
    pub text_query_prefix: Option<String>,
    #[serde(rename = "textChunkPrefix")]
    pub text_chunk_prefix: Option<String>,
}

static REGISTRY: LazyLock<HashMap<String, Model>> = LazyLock::new(|| {
    // Compiled in and checked by a test, so a parse failure is a build defect, not input.
    serde_json::from_str(include_str!("model_registry.json")).unwrap_or_default()
});

/// The registry's entry for `name`, exactly as Marqo looks it up (case and slashes matter).
pub fn lookup(name: &str) -> Option<&'static Model> {
    REGISTRY.get(name)
}

/// The model's default text prefixes as Marqo's `get_default_text_query_prefix` and
/// `…_chunk_prefix` read them: from custom `modelProperties` (`text_query_prefix`,
/// `text_chunk_prefix`), else from the registry; only those it has.
pub fn default_prefixes(model: &str, props: Option<&Value>) -> Vec<(&'static str, String)> {
    let custom = props.and_then(Value::as_object).filter(|p| !p.is_empty());
    let (query, chunk) = match custom {
        Some(p) => (
            p.get("text_query_prefix")
                .and_then(Value::as_str)
                .map(str::to_string),
            p.get("text_chunk_prefix")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        None => lookup(model).map_or((None, None), |m| {
            (m.text_query_prefix.clone(), m.text_chunk_prefix.clone())
        }),
    };
    [("textQueryPrefix", query), ("textChunkPrefix", chunk)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

/// The model types Marqo's `ModelType` enum has, in the order its error message lists them.
const TYPES: &[&str] = &[
    "sbert",
    "open_clip",
    "clip",
    "hf",
    "hf_stella",
    "no_model",
    "test",
    "random",
    "multilingual_clip",
    "fp16_clip",
    "sbert_onnx",
    "clip_onnx",
];

/// An index's model and its `modelProperties`, checked as Marqo's `Model` does when the index is
/// created: custom properties by `validate_model_properties` (a 400 `invalid_argument` whose
/// message is pydantic's items, as the `Model` root validator raises it), a registry name by
/// `_update_model_properties_from_registry` (Marqo's "Could not find model properties" 400).
/// Returns the model's dimensions.
pub fn check_model(name: &str, props: Option<&Value>) -> CellResult<usize> {
    match props {
        // An empty dict is falsy: Marqo then reads the registry, as for no properties.
        Some(Value::Object(p)) if !p.is_empty() => custom_dimensions(name, p).map_err(|reason| {
            let msg = format!("Invalid model properties for model={name}. Reason: {reason}.");
            CellError::ModelArgument(python::json_dumps(
                &json!([{"loc": ["__root__"], "msg": msg, "type": "value_error"}]),
            ))
        }),
        _ => registry_dimensions(name),
    }
}

fn registry_dimensions(name: &str) -> CellResult<usize> {
    let Some(model) = lookup(name) else {
        return Err(CellError::InvalidArgument(format!(
            "Could not find model properties for model={name}. Please check that the model name is correct. \
             Please provide model_properties if the model is a custom model and is not supported by default"
        )));
    };
    model.dimensions.filter(|d| *d >= 1).ok_or_else(|| {
        // `no_model` from the registry has no dimensions: its own required-key check fails.
        CellError::InvalidArgument(format!(
            "Invalid model properties for model={name}. Reason: {}.",
            missing_key("dimensions", "")
        ))
    })
}

/// `validate_model_properties` for properties the request gave, then its dimension check.
fn custom_dimensions(name: &str, p: &serde_json::Map<String, Value>) -> Result<usize, String> {
    let postfix = if p.contains_key("type") {
        ""
    } else {
        "Marqo is loading the model with default type 'sbert' as the type was not provided."
    };
    let kind = p.get("type");
    let required: &[&str] = match kind.and_then(Value::as_str) {
        _ if kind.is_none() || kind == Some(&Value::Null) => &["dimensions", "name"],
        Some("sbert") => &["dimensions", "name"],
        Some("open_clip" | "clip") => &["name", "dimensions"],
        Some("hf" | "hf_stella") => &["dimensions"],
        Some("no_model") => {
            if name != "no_model" {
                return Err(format!(
                    "To use the 'no_model' feature, you must provide 'model = no_model' and 'type = no_model', \
                     but received 'model = {name}' and 'type = no_model'."
                ));
            }
            &["dimensions"]
        }
        Some(t) if TYPES.contains(&t) || t == "languagebind" => &[],
        _ => {
            let listed: Vec<String> = TYPES.iter().map(|t| format!("'{t}'")).collect();
            return Err(format!(
                "Invalid model type. Please check the model type in model_properties. Supported model types are {} ",
                listed.join(", ")
            ));
        }
    };
    if let Some(key) = required.iter().find(|k| !p.contains_key(**k)) {
        return Err(missing_key(key, postfix));
    }
    match p.get("dimensions") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|d| d >= 1) => {
            Ok(n.as_u64().unwrap_or(1) as usize)
        }
        // Python's `True` is the int 1.
        Some(Value::Bool(true)) => Ok(1),
        other => Err(format!(
            "Invalid model properties: 'dimensions' must be a positive integer, but received {}",
            other.map_or("None".to_string(), python::str_of)
        )),
    }
}

fn missing_key(key: &str, postfix: &str) -> String {
    format!(
        "model_properties has missing key '{key}'. please update your model properties with required key `{key}`. \
         {postfix} check https://docs.marqo.ai/2.23/models/marqo/list-of-models/, \
         https://docs.marqo.ai/2.23/models/marqo/bring-your-own-model for more info"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_registry_parses_and_has_marqos_names() {
        let n = REGISTRY.len();
        assert!(n > 200, "{n} models");
        // load_model_properties also files sbert models under their last path part.
        for (name, dims) in [
            ("hf/e5-base-v2", 768),
            ("sentence-transformers/all-MiniLM-L6-v2", 384),
            ("all-MiniLM-L6-v2", 384),
            ("open_clip/ViT-L-14/laion2b_s32b_b82k", 768),
            ("open_clip/ViT-H-14/laion2b_s32b_b79k", 1024),
        ] {
            assert_eq!(
                lookup(name).and_then(|m| m.dimensions),
                Some(dims),
                "{name}"
            );
        }
        assert_eq!(
            lookup("hf/e5-base-v2").and_then(|m| m.text_query_prefix.as_deref()),
            Some("query: ")
        );
        assert_eq!(
            lookup("no_model").map(|m| m.kind.as_str()),
            Some("no_model")
        );
        assert!(lookup("hf/not-a-model").is_none());
    }

    #[test]
    fn registry_names_give_their_dimensions_and_others_marqos_error() {
        assert_eq!(
            check_model("open_clip/ViT-B-32/openai", None).ok(),
            Some(512)
        );
        assert_eq!(check_model("random/small", Some(&json!({}))).ok(), Some(32));
        let e = check_model("hf/my-own-model", None).unwrap_err();
        assert!(matches!(&e, CellError::InvalidArgument(m) if m.starts_with(
            "Could not find model properties for model=hf/my-own-model. Please check that the model name is correct. Please provide model_properties")));
        let e = check_model("no_model", None).unwrap_err();
        assert!(
            matches!(&e, CellError::InvalidArgument(m) if m.contains("missing key 'dimensions'"))
        );
    }

    #[test]
    fn custom_properties_are_checked_as_validate_model_properties_does() {
        let ok = |name: &str, p: Value| check_model(name, Some(&p)).ok();
        assert_eq!(
            ok("hf/my-own", json!({"type": "hf", "dimensions": 256})),
            Some(256)
        );
        assert_eq!(
            ok("no_model", json!({"type": "no_model", "dimensions": 3})),
            Some(3)
        );
        assert_eq!(ok("mine", json!({"name": "x", "dimensions": 8})), Some(8));
        let reason = |name: &str, p: Value| match check_model(name, Some(&p)) {
            Err(CellError::ModelArgument(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(reason("mine", json!({"dimensions": 8})).contains(
            "model_properties has missing key 'name'. please update your model properties with required key `name`. Marqo is loading the model with default type 'sbert'"));
        assert!(
            reason("x", json!({"type": "no_model", "dimensions": 3}))
                .contains("but received 'model = x' and 'type = no_model'")
        );
        assert!(reason("x", json!({"type": "onnx", "dimensions": 3})).contains(
            "Supported model types are 'sbert', 'open_clip', 'clip', 'hf', 'hf_stella', 'no_model', 'test'"));
        let m = reason("x", json!({"type": "hf", "dimensions": 0}));
        assert!(m.starts_with(r#"[{"loc": ["__root__"], "msg": "Invalid model properties for model=x. Reason: Invalid model properties: 'dimensions' must be a positive integer, but received 0."#), "{m}");
        assert!(reason("x", json!({"type": "hf", "dimensions": "8"})).contains("but received 8."));
    }
}
