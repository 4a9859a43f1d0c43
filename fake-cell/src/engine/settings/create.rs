//! The camelCase create body (§3.1): parsed into a typed [`CreateBody`] (each setting checked by
//! a small validator, defaults filled in), then written as the settings JSON `GET settings`
//! answers (§3.3). Checks run in Marqo's order, so the first error reported is the same.

use serde_json::{Map, Value, json};

use super::fields::{fields_json, parse_fields};
use super::validate::{get_obj, only_keys, reject_snake, string_list, uint};
use super::{CLOUD_KEYS, registry};
use crate::error::{CellError, CellResult};

const TOP_KEYS: &[&str] = &[
    "type",
    "model",
    "modelProperties",
    "normalizeEmbeddings",
    "textPreprocessing",
    "imagePreprocessing",
    "videoPreprocessing",
    "audioPreprocessing",
    "vectorNumericType",
    "annParameters",
    "textQueryPrefix",
    "textChunkPrefix",
    "treatUrlsAndPointersAsImages",
    "treatUrlsAndPointersAsMedia",
    "filterStringMaxLength",
    "allFields",
    "tensorFields",
    "collapseFields",
];
const SPLIT_METHODS: &[&str] = &["character", "word", "sentence", "passage"];
pub(super) const PATCH_METHODS: &[&str] = &["simple", "frcnn", "dino-v1", "dino-v2", "marqo-yolo"];
const SPACE_TYPES: &[&str] = &[
    "euclidean",
    "angular",
    "dotproduct",
    "prenormalized-angular",
    "geodegrees",
    "hamming",
];

/// The settings every index type shares, validated and with defaults.
struct CreateBody {
    structured: bool,
    model: String,
    model_properties: Option<Value>,
    normalize: bool,
    /// `textPreprocessing` with defaults.
    text: Value,
    /// `imagePreprocessing.patchMethod`, `Null` when absent.
    patch: Value,
    video: Value,
    audio: Value,
    vector_numeric_type: String,
    ann: Value,
    images: bool,
    media: bool,
}

/// Validate a create body and return `(settings JSON with defaults, cloud options)`.
pub fn normalize_create(name: &str, body: &Value) -> CellResult<(Value, Map<String, Value>)> {
    let m = match body {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => {
            return Err(CellError::unprocessable(
                &["body"],
                "index settings must be a JSON object",
            ));
        }
    };
    reject_snake(body, &mut Vec::new())?;
    super::model::check(&m)?;
    // Read on as the model holds it: "yes" is a boolean, 5 a model name.
    let m = crate::engine::model::coerced(&m, super::model::INDEX_SETTINGS);
    let cloud = cloud_options(&m)?;
    let b = CreateBody::parse(&m)?;
    let mut out = Map::new();
    let kind = if b.structured {
        "structured"
    } else {
        "unstructured"
    };
    out.insert("type".into(), json!(kind));
    if b.structured {
        structured_fields(name, &m, &mut out)?;
    } else {
        unstructured_flags(name, &m, &b, &mut out)?;
    }
    b.write(&mut out);
    for k in ["textQueryPrefix", "textChunkPrefix"] {
        match m.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                out.insert(k.into(), json!(s));
            }
            Some(_) => return Err(CellError::unprocessable(&["body", k], "must be a string")),
        }
    }
    if let Some(c) = collapse_fields(&m)? {
        out.insert("collapseFields".into(), c);
    }
    // Last, as Marqo reads the registry only once the request is otherwise valid.
    let model = out["model"].as_str().unwrap_or_default().to_string();
    registry::check_model(&model, out.get("modelProperties"))?;
    // Marqo stores the model's default prefixes with the index unless the request set them.
    for (key, default) in registry::default_prefixes(&model, out.get("modelProperties")) {
        if !out.contains_key(key) {
            out.insert(key.into(), json!(default));
        }
    }
    Ok((Value::Object(out), cloud))
}

/// Split off the cloud-only options; any other key outside [`TOP_KEYS`] is an extra field.
fn cloud_options(m: &Map<String, Value>) -> CellResult<Map<String, Value>> {
    let mut cloud = Map::new();
    for (k, v) in m {
        if CLOUD_KEYS.contains(&k.as_str()) {
            cloud.insert(k.clone(), v.clone());
        } else if !TOP_KEYS.contains(&k.as_str()) {
            return Err(crate::engine::model::extra(&["body", k]));
        }
    }
    Ok(cloud)
}

/// An optional boolean setting.
fn bool_key(m: &Map<String, Value>, k: &str, default: bool) -> CellResult<bool> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(CellError::unprocessable(
            &["body", k],
            "value could not be parsed to a boolean",
        )),
    }
}

/// An optional string setting from `allowed` (any string when `allowed` is empty).
fn choice(
    v: Option<&Value>,
    loc: &[&str],
    default: &str,
    allowed: &[&str],
    msg: &str,
) -> CellResult<String> {
    match v {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(Value::String(s)) if allowed.is_empty() || allowed.contains(&s.as_str()) => {
            Ok(s.clone())
        }
        Some(_) => Err(CellError::unprocessable(loc, msg)),
    }
}

impl CreateBody {
    fn parse(m: &Map<String, Value>) -> CellResult<CreateBody> {
        let structured = match m.get("type") {
            None | Some(Value::Null) => false,
            // Marqo's default type; fake-cell's unstructured indexes are semi-structured inside.
            Some(Value::String(s)) if s == "unstructured" || s == "semi-structured" => false,
            Some(Value::String(s)) if s == "structured" => true,
            Some(_) => {
                return Err(CellError::unprocessable(
                    &["body", "type"],
                    "type must be 'structured' or 'unstructured'",
                ));
            }
        };
        let model = choice(
            m.get("model"),
            &["body", "model"],
            "hf/e5-base-v2",
            &[],
            "model must be a string",
        )?;
        let model_properties = get_obj(m, "modelProperties")?.map(|p| Value::Object(p.clone()));
        let normalize = bool_key(m, "normalizeEmbeddings", true)?;
        let text = text_preprocessing(m)?;
        let patch = patch_method(m)?;
        let video = media_preprocessing(m, "videoPreprocessing", 20, 3)?;
        let audio = media_preprocessing(m, "audioPreprocessing", 20, 3)?;
        let vector_numeric_type = choice(
            m.get("vectorNumericType"),
            &["body", "vectorNumericType"],
            "float",
            &["float", "bfloat16"],
            "vectorNumericType must be float or bfloat16",
        )?;
        let ann = ann_parameters(m)?;
        Ok(CreateBody {
            structured,
            model,
            model_properties,
            normalize,
            text,
            patch,
            video,
            audio,
            vector_numeric_type,
            ann,
            images: bool_key(m, "treatUrlsAndPointersAsImages", false)?,
            media: bool_key(m, "treatUrlsAndPointersAsMedia", false)?,
        })
    }

    /// The shared settings, in the order `GET settings` lists them.
    fn write(self, out: &mut Map<String, Value>) {
        out.insert("model".into(), json!(self.model));
        if let Some(p) = self.model_properties {
            out.insert("modelProperties".into(), p);
        }
        out.insert("normalizeEmbeddings".into(), json!(self.normalize));
        out.insert("textPreprocessing".into(), self.text);
        let image = if self.patch.is_null() {
            json!({})
        } else {
            json!({"patchMethod": self.patch})
        };
        out.insert("imagePreprocessing".into(), image);
        out.insert("videoPreprocessing".into(), self.video);
        out.insert("audioPreprocessing".into(), self.audio);
        out.insert("vectorNumericType".into(), json!(self.vector_numeric_type));
        out.insert("annParameters".into(), self.ann);
    }
}

/// `textPreprocessing`: split length (>= 1, default 2), overlap (default 0) and method
/// (default sentence).
fn text_preprocessing(m: &Map<String, Value>) -> CellResult<Value> {
    let tp = get_obj(m, "textPreprocessing")?
        .cloned()
        .unwrap_or_default();
    only_keys(
        &tp,
        &["splitLength", "splitOverlap", "splitMethod"],
        "textPreprocessing",
    )?;
    let split_length = uint(&tp, "splitLength", "textPreprocessing", 2, 1)?;
    let split_overlap = uint(&tp, "splitOverlap", "textPreprocessing", 0, 0)?;
    let split_method = choice(
        tp.get("splitMethod"),
        &["body", "textPreprocessing", "splitMethod"],
        "sentence",
        SPLIT_METHODS,
        "splitMethod must be one of character, word, sentence, passage",
    )?;
    Ok(
        json!({"splitLength": split_length, "splitOverlap": split_overlap, "splitMethod": split_method}),
    )
}

/// `imagePreprocessing.patchMethod`, `Null` when absent.
fn patch_method(m: &Map<String, Value>) -> CellResult<Value> {
    let ip = get_obj(m, "imagePreprocessing")?
        .cloned()
        .unwrap_or_default();
    only_keys(&ip, &["patchMethod"], "imagePreprocessing")?;
    let patch = ip.get("patchMethod").cloned().unwrap_or(Value::Null);
    if !(patch.is_null() || patch.as_str().is_some_and(|s| PATCH_METHODS.contains(&s))) {
        return Err(CellError::unprocessable(
            &["body", "imagePreprocessing", "patchMethod"],
            "unknown patchMethod",
        ));
    }
    Ok(patch)
}

/// `videoPreprocessing` / `audioPreprocessing`: split length and overlap with defaults.
fn media_preprocessing(
    m: &Map<String, Value>,
    key: &str,
    default_length: u64,
    default_overlap: u64,
) -> CellResult<Value> {
    let o = get_obj(m, key)?.cloned().unwrap_or_default();
    only_keys(&o, &["splitLength", "splitOverlap"], key)?;
    Ok(json!({
        "splitLength": uint(&o, "splitLength", key, default_length, 1)?,
        "splitOverlap": uint(&o, "splitOverlap", key, default_overlap, 0)?,
    }))
}

/// `annParameters`: a space type and `parameters{efConstruction, m}`.
fn ann_parameters(m: &Map<String, Value>) -> CellResult<Value> {
    let Some(a) = get_obj(m, "annParameters")? else {
        return Ok(
            json!({"spaceType":"prenormalized-angular","parameters":{"efConstruction":512,"m":16}}),
        );
    };
    only_keys(a, &["spaceType", "parameters"], "annParameters")?;
    let st = a
        .get("spaceType")
        .and_then(Value::as_str)
        .filter(|s| SPACE_TYPES.contains(s));
    let params = a.get("parameters").and_then(Value::as_object);
    let (Some(st), Some(params)) = (st, params) else {
        return Err(CellError::unprocessable(
            &["body", "annParameters"],
            "annParameters needs a valid spaceType and parameters{efConstruction, m}",
        ));
    };
    only_keys(params, &["efConstruction", "m"], "annParameters")?;
    Ok(json!({"spaceType": st, "parameters": {
        "efConstruction": uint(params, "efConstruction", "annParameters", 512, 1)?,
        "m": uint(params, "m", "annParameters", 16, 1)?,
    }}))
}

fn given(m: &Map<String, Value>, k: &str) -> bool {
    m.get(k).is_some_and(|v| !v.is_null())
}

/// A structured index: `allFields` and `tensorFields` (each tensor field declared); the
/// unstructured-only flags are refused.
fn structured_fields(
    name: &str,
    m: &Map<String, Value>,
    out: &mut Map<String, Value>,
) -> CellResult<()> {
    // `validate_url_pointer_treatment` sets the images flag whenever media is true.
    let images = given(m, "treatUrlsAndPointersAsImages")
        || m.get("treatUrlsAndPointersAsMedia") == Some(&Value::Bool(true));
    for (k, set) in [
        ("treatUrlsAndPointersAsImages", images),
        (
            "treatUrlsAndPointersAsMedia",
            given(m, "treatUrlsAndPointersAsMedia"),
        ),
        ("filterStringMaxLength", given(m, "filterStringMaxLength")),
    ] {
        if set {
            return Err(CellError::InvalidArgument(format!(
                "{k} is not a valid parameter for structured indexes"
            )));
        }
    }
    super::model::core_request(name, m)?;
    let fields = parse_fields(m.get("allFields"))?;
    let tensor = string_list(m.get("tensorFields"), "tensorFields")?;
    for t in &tensor {
        if !fields.iter().any(|f| &f.name == t) {
            return Err(CellError::InvalidArgument(format!(
                "Tensor field {t} is not defined in allFields"
            )));
        }
    }
    out.insert("allFields".into(), fields_json(&fields));
    out.insert("tensorFields".into(), json!(tensor));
    Ok(())
}

/// An unstructured index: the URL/media flags and `filterStringMaxLength`; `allFields` and
/// `tensorFields` are refused.
fn unstructured_flags(
    name: &str,
    m: &Map<String, Value>,
    b: &CreateBody,
    out: &mut Map<String, Value>,
) -> CellResult<()> {
    for k in ["allFields", "tensorFields"] {
        if given(m, k) {
            return Err(CellError::InvalidArgument(format!(
                "{k} is not a valid parameter for unstructured indexes"
            )));
        }
    }
    super::model::core_request(name, m)?;
    if !b.images && b.media && m.get("treatUrlsAndPointersAsImages") == Some(&Value::Bool(false)) {
        return Err(CellError::InvalidArgument(
            "treatUrlsAndPointersAsImages cannot be false when treatUrlsAndPointersAsMedia is true"
                .into(),
        ));
    }
    out.insert(
        "treatUrlsAndPointersAsImages".into(),
        json!(b.images || b.media),
    );
    out.insert("treatUrlsAndPointersAsMedia".into(), json!(b.media));
    // `Optional[int]`, no bound in the model.
    let fsl = m
        .get("filterStringMaxLength")
        .and_then(Value::as_i64)
        .unwrap_or(50);
    out.insert("filterStringMaxLength".into(), json!(fsl));
    Ok(())
}

/// `collapseFields`: `[{name, minGroups}]`, `None` when absent.
fn collapse_fields(m: &Map<String, Value>) -> CellResult<Option<Value>> {
    let Some(c) = m.get("collapseFields").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let arr = c
        .as_array()
        .ok_or_else(|| CellError::unprocessable(&["body", "collapseFields"], "must be a list"))?;
    let mut cf = Vec::new();
    for item in arr {
        let o = item.as_object().ok_or_else(|| {
            CellError::unprocessable(&["body", "collapseFields"], "must be objects")
        })?;
        only_keys(o, &["name", "minGroups"], "collapseFields")?;
        let name = o.get("name").and_then(Value::as_str).ok_or_else(|| {
            CellError::unprocessable(&["body", "collapseFields", "name"], "field required")
        })?;
        cf.push(
            json!({"name": name, "minGroups": uint(o, "minGroups", "collapseFields", 500, 0)?}),
        );
    }
    Ok(Some(Value::Array(cf)))
}
