//! The typeahead request bodies as Marqo's pydantic 2 models check them (`TypeaheadRequest`,
//! `TypeaheadIndexRequest`, `TypeaheadAddQueryRequest`): unknown keys, strict types, bounds and an
//! empty query are 422 items in pydantic 2's shape (`type`, `loc`, `msg`, `input`, `ctx`).

use serde_json::{Map, Value, json};

use super::QueryRecord;
use crate::error::{CellError, CellResult};

/// A checked `POST …/suggestions` body.
#[derive(Debug, Clone)]
pub struct SuggestRequest {
    pub q: String,
    pub limit: usize,
    pub fuzzy_edit_distance: usize,
    pub min_fuzzy_match_length: usize,
    pub popularity_weight: Option<f64>,
    pub bm25_weight: Option<f64>,
    pub match_all_tokens: bool,
}

/// pydantic 2's error items, as FastAPI answers them (422 `{"detail": [...]}`).
struct Errors(Vec<Value>);

impl Errors {
    fn push(&mut self, kind: &str, loc: Value, msg: &str, input: &Value, ctx: Option<Value>) {
        let mut item = json!({"type": kind, "loc": loc, "msg": msg, "input": input});
        if let Some(c) = ctx {
            item["ctx"] = c;
        }
        self.0.push(item);
    }

    fn into_result(self) -> CellResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CellError::Validation(self.0))
        }
    }
}

fn loc(path: &[Value]) -> Value {
    let mut l = vec![json!("body")];
    l.extend(path.iter().cloned());
    Value::Array(l)
}

/// A strict model's `int` field `>= 0` (pydantic 2 in strict mode: no strings, no floats).
fn non_negative(o: &Map<String, Value>, key: &str, default: usize, errs: &mut Errors) -> usize {
    match o.get(key) {
        None => default,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => n as usize,
            Some(_) => {
                errs.push(
                    "greater_than_equal",
                    loc(&[json!(key)]),
                    "Input should be greater than or equal to 0",
                    v,
                    Some(json!({"ge": 0})),
                );
                default
            }
            None => {
                errs.push(
                    "int_type",
                    loc(&[json!(key)]),
                    "Input should be a valid integer",
                    v,
                    None,
                );
                default
            }
        },
    }
}

fn optional_float(o: &Map<String, Value>, key: &str, errs: &mut Errors) -> Option<f64> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => v.as_f64().or_else(|| {
            errs.push(
                "float_type",
                loc(&[json!(key)]),
                "Input should be a valid number",
                v,
                None,
            );
            None
        }),
    }
}

fn forbid_unknown(o: &Map<String, Value>, known: &[&str], path: &[Value], errs: &mut Errors) {
    for (k, v) in o {
        if !known.contains(&k.as_str()) {
            let mut p = path.to_vec();
            p.push(json!(k));
            errs.push(
                "extra_forbidden",
                loc(&p),
                "Extra inputs are not permitted",
                v,
                None,
            );
        }
    }
}

fn not_an_object(body: &Value) -> CellError {
    if body.is_null() {
        return CellError::Validation(vec![json!({
            "type": "missing", "loc": ["body"], "msg": "Field required", "input": null,
        })]);
    }
    CellError::Validation(vec![json!({
        "type": "model_attributes_type", "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from", "input": body,
    })])
}

/// `TypeaheadRequest`. An empty `q` (after trimming) asks for the most popular queries.
pub fn suggest_request(body: &Value) -> CellResult<SuggestRequest> {
    let o = body.as_object().ok_or_else(|| not_an_object(body))?;
    let mut errs = Errors(Vec::new());
    let q = match o.get("q") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(v) => {
            errs.push(
                "string_type",
                loc(&[json!("q")]),
                "Input should be a valid string",
                v,
                None,
            );
            String::new()
        }
        None => {
            errs.push("missing", loc(&[json!("q")]), "Field required", body, None);
            String::new()
        }
    };
    let req = SuggestRequest {
        q,
        limit: non_negative(o, "limit", 10, &mut errs),
        fuzzy_edit_distance: non_negative(o, "fuzzyEditDistance", 2, &mut errs),
        min_fuzzy_match_length: non_negative(o, "minFuzzyMatchLength", 3, &mut errs),
        popularity_weight: optional_float(o, "popularityWeight", &mut errs),
        bm25_weight: optional_float(o, "bm25Weight", &mut errs),
        match_all_tokens: match o.get("matchAllTokens") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                errs.push(
                    "bool_type",
                    loc(&[json!("matchAllTokens")]),
                    "Input should be a valid boolean",
                    v,
                    None,
                );
                false
            }
        },
    };
    forbid_unknown(
        o,
        &[
            "q",
            "limit",
            "fuzzyEditDistance",
            "minFuzzyMatchLength",
            "popularityWeight",
            "bm25Weight",
            "matchAllTokens",
        ],
        &[],
        &mut errs,
    );
    errs.into_result()?;
    Ok(req)
}

/// `TypeaheadIndexRequest`: the queries to index, each checked as `TypeaheadAddQueryRequest`
/// (`query` a non-empty string once trimmed, `popularity` a number (default 0), `metadata` a
/// map of numbers). At most `max` queries (Marqo's document batch limit).
pub fn index_request(body: &Value, max: usize, now_ms: u64) -> CellResult<Vec<QueryRecord>> {
    let o = body.as_object().ok_or_else(|| not_an_object(body))?;
    let mut errs = Errors(Vec::new());
    forbid_unknown(o, &["queries"], &[], &mut errs);
    let Some(list) = o.get("queries") else {
        errs.push(
            "missing",
            loc(&[json!("queries")]),
            "Field required",
            body,
            None,
        );
        errs.into_result()?;
        return Ok(Vec::new());
    };
    let Some(items) = list.as_array() else {
        errs.push(
            "list_type",
            loc(&[json!("queries")]),
            "Input should be a valid list",
            list,
            None,
        );
        errs.into_result()?;
        return Ok(Vec::new());
    };
    let out: Vec<QueryRecord> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| query_item(i, item, now_ms, &mut errs))
        .collect();
    errs.into_result()?;
    if out.is_empty() {
        return Err(CellError::InvalidArgument(
            "queries must contain at least one query".into(),
        ));
    }
    if out.len() > max {
        return Err(CellError::BadRequest(format!(
            "Number of queries in the typeahead index request ({}) exceeds limit of {max}",
            out.len()
        )));
    }
    Ok(out)
}

/// A JSON list of query strings (the get and delete routes' body).
pub fn query_list(body: &Value) -> CellResult<Vec<String>> {
    match body {
        Value::Array(a) => {
            let mut errs = Errors(Vec::new());
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                match v.as_str() {
                    Some(s) => out.push(s.to_string()),
                    None => errs.push(
                        "string_type",
                        loc(&[json!(i)]),
                        "Input should be a valid string",
                        v,
                        None,
                    ),
                }
            }
            errs.into_result()?;
            Ok(out)
        }
        Value::Null => Err(CellError::Validation(vec![json!({
            "type": "missing", "loc": ["body"], "msg": "Field required", "input": null,
        })])),
        other => Err(CellError::Validation(vec![json!({
            "type": "list_type", "loc": ["body"], "msg": "Input should be a valid list", "input": other,
        })])),
    }
}

/// One `TypeaheadAddQueryRequest` of the list (its items go to `errs`).
fn query_item(i: usize, item: &Value, now_ms: u64, errs: &mut Errors) -> Option<QueryRecord> {
    let at = |k: &str| vec![json!("queries"), json!(i), json!(k)];
    let Some(q) = item.as_object() else {
        errs.push(
            "model_type",
            loc(&[json!("queries"), json!(i)]),
            "Input should be a valid dictionary or instance of TypeaheadAddQueryRequest",
            item,
            None,
        );
        return None;
    };
    forbid_unknown(
        q,
        &["query", "popularity", "metadata"],
        &[json!("queries"), json!(i)],
        errs,
    );
    let query = match q.get("query") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(s)) => {
            errs.push(
                "value_error",
                loc(&at("query")),
                "Value error, query is required",
                &json!(s),
                Some(json!({"error": {}})),
            );
            return None;
        }
        Some(v) => {
            errs.push(
                "string_type",
                loc(&at("query")),
                "Input should be a valid string",
                v,
                None,
            );
            return None;
        }
        None => {
            errs.push("missing", loc(&at("query")), "Field required", item, None);
            return None;
        }
    };
    let popularity = match q.get("popularity") {
        None => 0.0,
        Some(v) => match v.as_f64() {
            Some(p) => p,
            None => {
                errs.push(
                    "float_type",
                    loc(&at("popularity")),
                    "Input should be a valid number",
                    v,
                    None,
                );
                return None;
            }
        },
    };
    let metadata = match q.get("metadata") {
        None => Map::new(),
        Some(Value::Object(m)) => {
            let bad: Vec<(&String, &Value)> = m.iter().filter(|(_, v)| !v.is_number()).collect();
            for (k, v) in &bad {
                let mut p = at("metadata");
                p.push(json!(k));
                errs.push(
                    "float_type",
                    loc(&p),
                    "Input should be a valid number",
                    v,
                    None,
                );
            }
            if !bad.is_empty() {
                return None;
            }
            m.clone()
        }
        Some(v) => {
            errs.push(
                "dict_type",
                loc(&at("metadata")),
                "Input should be a valid dictionary",
                v,
                None,
            );
            return None;
        }
    };
    Some(QueryRecord {
        query,
        popularity,
        metadata,
        last_updated_at: now_ms,
    })
}
