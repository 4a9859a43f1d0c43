//! Index settings: validation of the camelCase create body (§3.1), defaults, the `GET settings`
//! shape (§3.3), the strict control-plane list entry (§9.2) and the derived `Settings` used by the
//! data plane.

use serde_json::{Map, Value, json};

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
/// Cloud-only options, kept outside the immutable settings.
pub const CLOUD_KEYS: &[&str] = &[
    "numberOfShards",
    "numberOfReplicas",
    "storageClass",
    "inferenceType",
    "numberOfInferences",
];
const FIELD_TYPES: &[&str] = &[
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
    pub dependent: Option<Map<String, Value>>,
}

/// Settings as the data plane uses them; derived from the stored JSON, immutable after creation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The full `GET settings` body.
    pub json: Value,
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

/// Model dimensions from §3.5; `None` for an unknown model.
pub fn model_dim(model: &str, props: Option<&Value>) -> Option<usize> {
    if let Some(d) = props
        .and_then(|p| p.get("dimensions"))
        .and_then(Value::as_u64)
    {
        return Some(d as usize);
    }
    Some(match model {
        "hf/e5-base-v2"
        | "hf/multilingual-e5-base"
        | "hf/bge-base-en-v1.5"
        | "ViT-L/14"
        | "open_clip/ViT-B-16-SigLIP/webli"
        | "Marqo/marqo-fashionSigLIP"
        | "random/large" => 768,
        "hf/e5-small-v2"
        | "hf/multilingual-e5-small"
        | "hf/all-MiniLM-L6-v2"
        | "hf/all_datasets_v4_MiniLM-L6"
        | "hf/bge-small-en-v1.5"
        | "random" => 384,
        "hf/e5-large-v2" | "hf/multilingual-e5-large" => 1024,
        "open_clip/ViT-B-32/laion2b_s34b_b79k" | "ViT-B/32" => 512,
        "random/small" => 32,
        // Other open_clip / hf names: accept them with a common dimension rather than refuse.
        m if m.starts_with("open_clip/") || m.starts_with("hf/") || m.starts_with("Marqo/") => 512,
        _ => return None,
    })
}

/// Index names: `[a-zA-Z_-][a-zA-Z0-9_-]*`, not starting with `marqo__`.
pub fn validate_index_name(name: &str) -> CellResult<()> {
    let mut chars = name.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok_first || !ok_rest || name.starts_with("marqo__") || name.len() > 128 {
        return Err(CellError::InvalidArgument(format!(
            "{name} is not a valid index name. Index names must match [a-zA-Z_-][a-zA-Z0-9_-]* and must not start with marqo__"
        )));
    }
    Ok(())
}

fn reject_snake(v: &Value, path: &mut Vec<String>) -> CellResult<()> {
    if let Value::Object(m) = v {
        for (k, child) in m {
            if k.contains('_') {
                let mut loc: Vec<&str> = vec!["body"];
                loc.extend(path.iter().map(String::as_str));
                loc.push(k);
                return Err(CellError::unprocessable(
                    &loc,
                    format!("extra fields not permitted: {k} (settings keys are camelCase)"),
                ));
            }
            if k == "modelProperties" || k == "dependentFields" {
                continue;
            }
            path.push(k.clone());
            reject_snake(child, path)?;
            path.pop();
        }
    } else if let Value::Array(a) = v {
        for child in a {
            reject_snake(child, path)?;
        }
    }
    Ok(())
}

fn get_obj<'a>(m: &'a Map<String, Value>, key: &str) -> CellResult<Option<&'a Map<String, Value>>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(CellError::unprocessable(
            &["body", key],
            "value is not a valid dict",
        )),
    }
}

fn uint(
    m: &Map<String, Value>,
    key: &str,
    parent: &str,
    default: u64,
    min: u64,
) -> CellResult<u64> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if n >= min => Ok(n),
            _ => Err(CellError::unprocessable(
                &["body", parent, key],
                format!("{key} must be an integer >= {min}"),
            )),
        },
    }
}

fn only_keys(m: &Map<String, Value>, allowed: &[&str], parent: &str) -> CellResult<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(CellError::unprocessable(
                &["body", parent, k],
                format!("extra fields not permitted: {k}"),
            ));
        }
    }
    Ok(())
}

/// Validate a create body and return `(settings JSON with defaults, cloud options)`.
pub fn normalize_create(body: &Value) -> CellResult<(Value, Map<String, Value>)> {
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
    let mut cloud = Map::new();
    for (k, v) in &m {
        if CLOUD_KEYS.contains(&k.as_str()) {
            cloud.insert(k.clone(), v.clone());
        } else if !TOP_KEYS.contains(&k.as_str()) {
            return Err(CellError::unprocessable(
                &["body", k],
                format!("extra fields not permitted: {k}"),
            ));
        }
    }
    let structured = match m.get("type") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "unstructured" => false,
        Some(Value::String(s)) if s == "structured" => true,
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "type"],
                "type must be 'structured' or 'unstructured'",
            ));
        }
    };
    let model = match m.get("model") {
        None | Some(Value::Null) => "hf/e5-base-v2".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "model"],
                "model must be a string",
            ));
        }
    };
    let props = get_obj(&m, "modelProperties")?;
    let props_val = props.map(|p| Value::Object(p.clone()));
    if model_dim(&model, props_val.as_ref()).is_none() {
        return Err(CellError::BadRequest(format!(
            "Could not find model properties for model={model}. Please check that the model name is correct or provide modelProperties with dimensions."
        )));
    }
    let bool_key = |k: &str, d: bool| -> CellResult<bool> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(d),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(CellError::unprocessable(
                &["body", k],
                "value could not be parsed to a boolean",
            )),
        }
    };
    let normalize = bool_key("normalizeEmbeddings", true)?;
    let tp = get_obj(&m, "textPreprocessing")?
        .cloned()
        .unwrap_or_default();
    only_keys(
        &tp,
        &["splitLength", "splitOverlap", "splitMethod"],
        "textPreprocessing",
    )?;
    let split_length = uint(&tp, "splitLength", "textPreprocessing", 2, 1)?;
    let split_overlap = uint(&tp, "splitOverlap", "textPreprocessing", 0, 0)?;
    let split_method = match tp.get("splitMethod") {
        None | Some(Value::Null) => "sentence".to_string(),
        Some(Value::String(s))
            if ["character", "word", "sentence", "passage"].contains(&s.as_str()) =>
        {
            s.clone()
        }
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "textPreprocessing", "splitMethod"],
                "splitMethod must be one of character, word, sentence, passage",
            ));
        }
    };
    let ip = get_obj(&m, "imagePreprocessing")?
        .cloned()
        .unwrap_or_default();
    only_keys(&ip, &["patchMethod"], "imagePreprocessing")?;
    let patch = ip.get("patchMethod").cloned().unwrap_or(Value::Null);
    if !(patch.is_null()
        || patch
            .as_str()
            .is_some_and(|s| ["simple", "frcnn", "dino-v1", "dino-v2", "marqo-yolo"].contains(&s)))
    {
        return Err(CellError::unprocessable(
            &["body", "imagePreprocessing", "patchMethod"],
            "unknown patchMethod",
        ));
    }
    let mut media = Vec::new();
    for (key, dl, dov) in [("videoPreprocessing", 20, 3), ("audioPreprocessing", 10, 3)] {
        let o = get_obj(&m, key)?.cloned().unwrap_or_default();
        only_keys(&o, &["splitLength", "splitOverlap"], key)?;
        media.push(json!({
            "splitLength": uint(&o, "splitLength", key, dl, 1)?,
            "splitOverlap": uint(&o, "splitOverlap", key, dov, 0)?,
        }));
    }
    let vnt = match m.get("vectorNumericType") {
        None | Some(Value::Null) => "float".to_string(),
        Some(Value::String(s)) if s == "float" || s == "bfloat16" => s.clone(),
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "vectorNumericType"],
                "vectorNumericType must be float or bfloat16",
            ));
        }
    };
    let ann = match get_obj(&m, "annParameters")? {
        None => {
            json!({"spaceType":"prenormalized-angular","parameters":{"efConstruction":512,"m":16}})
        }
        Some(a) => {
            only_keys(a, &["spaceType", "parameters"], "annParameters")?;
            let st = a.get("spaceType").and_then(Value::as_str).filter(|s| {
                [
                    "euclidean",
                    "angular",
                    "dotproduct",
                    "prenormalized-angular",
                    "geodegrees",
                    "hamming",
                ]
                .contains(s)
            });
            let params = a.get("parameters").and_then(Value::as_object);
            let (Some(st), Some(params)) = (st, params) else {
                return Err(CellError::unprocessable(
                    &["body", "annParameters"],
                    "annParameters needs a valid spaceType and parameters{efConstruction, m}",
                ));
            };
            only_keys(params, &["efConstruction", "m"], "annParameters")?;
            json!({"spaceType": st, "parameters": {
                "efConstruction": uint(params, "efConstruction", "annParameters", 512, 1)?,
                "m": uint(params, "m", "annParameters", 16, 1)?,
            }})
        }
    };
    let images = bool_key("treatUrlsAndPointersAsImages", false)?;
    let media_flag = bool_key("treatUrlsAndPointersAsMedia", false)?;
    let has = |k: &str| m.get(k).is_some_and(|v| !v.is_null());
    let mut out = Map::new();
    out.insert(
        "type".into(),
        json!(if structured {
            "structured"
        } else {
            "unstructured"
        }),
    );
    if structured {
        for k in [
            "treatUrlsAndPointersAsImages",
            "treatUrlsAndPointersAsMedia",
            "filterStringMaxLength",
        ] {
            if has(k) {
                return Err(CellError::InvalidArgument(format!(
                    "{k} is not a valid setting for structured indexes"
                )));
            }
        }
        let fields = parse_fields(m.get("allFields"))?;
        let tensor = string_list(m.get("tensorFields"), "tensorFields")?;
        for t in &tensor {
            if !fields.iter().any(|f| &f.name == t) {
                return Err(CellError::InvalidArgument(format!(
                    "Tensor field {t} is not defined in allFields"
                )));
            }
        }
        out.insert(
            "allFields".into(),
            Value::Array(
                fields
                    .iter()
                    .map(|f| {
                        let mut feats = Vec::new();
                        if f.lexical {
                            feats.push("lexical_search")
                        }
                        if f.filter {
                            feats.push("filter")
                        }
                        if f.score_modifier {
                            feats.push("score_modifier")
                        }
                        let mut o = json!({"name": f.name, "type": f.kind, "features": feats});
                        if let Some(d) = &f.dependent {
                            o["dependentFields"] = Value::Object(d.clone());
                        }
                        o
                    })
                    .collect(),
            ),
        );
        out.insert("tensorFields".into(), json!(tensor));
    } else {
        if has("allFields") || has("tensorFields") {
            return Err(CellError::InvalidArgument(
                "allFields and tensorFields are only valid for structured indexes".into(),
            ));
        }
        if !images
            && media_flag
            && m.get("treatUrlsAndPointersAsImages") == Some(&Value::Bool(false))
        {
            return Err(CellError::InvalidArgument(
                "treatUrlsAndPointersAsImages cannot be false when treatUrlsAndPointersAsMedia is true".into(),
            ));
        }
        out.insert(
            "treatUrlsAndPointersAsImages".into(),
            json!(images || media_flag),
        );
        out.insert("treatUrlsAndPointersAsMedia".into(), json!(media_flag));
        let fsl = uint(&m, "filterStringMaxLength", "filterStringMaxLength", 50, 0)?;
        out.insert("filterStringMaxLength".into(), json!(fsl));
    }
    out.insert("model".into(), json!(model));
    if let Some(p) = props_val {
        out.insert("modelProperties".into(), p);
    }
    out.insert("normalizeEmbeddings".into(), json!(normalize));
    out.insert(
        "textPreprocessing".into(),
        json!({"splitLength": split_length, "splitOverlap": split_overlap, "splitMethod": split_method}),
    );
    out.insert(
        "imagePreprocessing".into(),
        if patch.is_null() {
            json!({})
        } else {
            json!({"patchMethod": patch})
        },
    );
    out.insert("videoPreprocessing".into(), media[0].clone());
    out.insert("audioPreprocessing".into(), media[1].clone());
    out.insert("vectorNumericType".into(), json!(vnt));
    out.insert("annParameters".into(), ann);
    for k in ["textQueryPrefix", "textChunkPrefix"] {
        match m.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                out.insert(k.into(), json!(s));
            }
            Some(_) => return Err(CellError::unprocessable(&["body", k], "must be a string")),
        }
    }
    if let Some(c) = m.get("collapseFields").filter(|v| !v.is_null()) {
        let arr = c.as_array().ok_or_else(|| {
            CellError::unprocessable(&["body", "collapseFields"], "must be a list")
        })?;
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
        out.insert("collapseFields".into(), Value::Array(cf));
    }
    Ok((Value::Object(out), cloud))
}

fn string_list(v: Option<&Value>, key: &str) -> CellResult<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    CellError::unprocessable(&["body", key], "must be a list of strings")
                })
            })
            .collect(),
        Some(_) => Err(CellError::unprocessable(
            &["body", key],
            "must be a list of strings",
        )),
    }
}

fn parse_fields(v: Option<&Value>) -> CellResult<Vec<FieldDef>> {
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
            dependent: o.get("dependentFields").and_then(Value::as_object).cloned(),
        };
        let numeric =
            matches!(kind, "int" | "long" | "float" | "double") || kind.starts_with("map<");
        for feat in &feats {
            match feat.as_str() {
                "lexical_search" if matches!(kind, "text" | "array<text>" | "custom_vector") => {
                    fd.lexical = true
                }
                "filter"
                    if !matches!(
                        kind,
                        "image_pointer"
                            | "multimodal_combination"
                            | "video_pointer"
                            | "audio_pointer"
                    ) =>
                {
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
        structured: json["type"] == "structured",
        dim: model_dim(&model, json.get("modelProperties"))
            .unwrap_or(768)
            .clamp(1, 8192),
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
