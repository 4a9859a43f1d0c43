//! The nested models of a search body as Marqo 2.23's pydantic models check them: `facets`
//! (`FacetsParameters`), `sortBy` (`SortByModel`), `relevanceCutoff` (`RelevanceCutoffModel`),
//! `recencyParameters` (`RecencyParameters`, in `scoring_params`) and `collapseFields`
//! (`List[CollapseModel]`).
//! Each failure is a 422 item at the nested `loc`, with the validator's own words; what passes
//! is parsed by the module that applies it (`facets`, `sort`, `cutoff`, `recency`, `collapse`).

use serde_json::{Map, Value, json};

use crate::engine::model::{Errors, Field, Kind, as_float, as_int, given};

const FACET_TYPES: &[&str] = &["string", "array", "number"];
const ORDERS: &[&str] = &["asc", "desc"];
const MISSING: &[&str] = &["last", "first"];

const FACETS: &[Field] = &[
    Field("fields", Kind::Dict, false),
    Field("maxDepth", Kind::Int, true),
    Field("maxResults", Kind::Int, true),
    Field("order", Kind::Any, true),
];
const FACET_FIELD: &[Field] = &[
    Field("type", Kind::Any, false),
    Field("order", Kind::Any, true),
    Field("maxResults", Kind::Int, true),
    Field("ranges", Kind::List, true),
    Field("excludeTerms", Kind::StrList, true),
];
const RANGE: &[Field] = &[
    Field("from", Kind::Float, true),
    Field("to", Kind::Float, true),
    Field("name", Kind::Str, true),
];
const SORT_BY: &[Field] = &[
    Field("fields", Kind::List, false),
    Field("sortDepth", Kind::Int, true),
    Field("minSortCandidates", Kind::Int, true),
];
const SORT_FIELD: &[Field] = &[
    Field("fieldName", Kind::Str, false),
    Field("order", Kind::Enum(ORDERS), false),
    Field("missing", Kind::Enum(MISSING), false),
];
const COLLAPSE: &[Field] = &[
    Field("name", Kind::Str, false),
    Field("sortBy", Kind::Dict, true),
];
const COLLAPSE_SORT: &[Field] = &[
    Field("fields", Kind::List, false),
    Field("numThreadsPerSearch", Kind::Int, true),
    Field("disableIfMainSortByFields", Kind::StrList, true),
    Field("alwaysFetchVariants", Kind::Bool, false),
];
const COLLAPSE_SORT_FIELD: &[Field] = &[
    Field("fieldName", Kind::Str, false),
    Field("order", Kind::Enum(ORDERS), false),
];

/// A `loc` prefix: keys, and list indexes as numbers (as pydantic writes them).
pub(super) struct At(Vec<Value>);

impl At {
    pub(super) fn new(parts: &[&str]) -> At {
        At(parts.iter().map(|s| json!(s)).collect())
    }
    pub(super) fn key(&self, key: &str) -> At {
        let mut v = self.0.clone();
        v.push(json!(key));
        At(v)
    }
    pub(super) fn index(&self, i: usize) -> At {
        let mut v = self.0.clone();
        v.push(json!(i));
        At(v)
    }
    /// The whole path, as an item's `loc`.
    pub(super) fn path(&self) -> Vec<Value> {
        self.0.clone()
    }
    pub(super) fn refs(&self) -> &[Value] {
        &self.0
    }
    pub(super) fn loc(&self, key: &str) -> Vec<Value> {
        let mut l = self.0.clone();
        l.push(json!(key));
        l
    }
}

/// pydantic v1's `Literal[...]` failure.
pub(super) fn literal(errs: &mut Errors, at: &At, key: &str, allowed: &[&str]) {
    let permitted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    errs.push(
        at.loc(key),
        &format!("unexpected value; permitted: {}", permitted.join(", ")),
        "value_error.const",
    );
}

pub(super) fn ge(errs: &mut Errors, at: &At, o: &Map<String, Value>, key: &str, min: i64) {
    if given(o, key).and_then(as_int).is_some_and(|n| n < min) {
        errs.push(
            at.loc(key),
            &format!("ensure this value is greater than or equal to {min}"),
            "value_error.number.not_ge",
        );
    }
}

fn items(errs: &mut Errors, at: &At, o: &Map<String, Value>, key: &str, min: usize, max: usize) {
    let Some(list) = given(o, key).and_then(Value::as_array) else {
        return;
    };
    if list.len() < min {
        errs.push(
            at.loc(key),
            &format!("ensure this value has at least {min} items"),
            "value_error.list.min_items",
        );
    } else if list.len() > max {
        errs.push(
            at.loc(key),
            &format!("ensure this value has at most {max} items"),
            "value_error.list.max_items",
        );
    }
}

/// Each element of the list at `key` must be an object checked by `each`.
fn each_dict(
    errs: &mut Errors,
    at: &At,
    o: &Map<String, Value>,
    key: &str,
    mut each: impl FnMut(&mut Errors, &At, &Map<String, Value>),
) {
    let Some(list) = given(o, key).and_then(Value::as_array) else {
        return;
    };
    for (i, item) in list.iter().enumerate() {
        let at = at.key(key).index(i);
        match item.as_object() {
            Some(m) => each(errs, &at, m),
            None => errs.push(at.0.clone(), "value is not a valid dict", "type_error.dict"),
        }
    }
}

/// Check every nested model present in the body.
pub fn check(o: &Map<String, Value>, errs: &mut Errors) {
    let body = At::new(&["body"]);
    if let Some(f) = given(o, "facets").and_then(Value::as_object) {
        facets(errs, &body.key("facets"), f);
    }
    if let Some(s) = given(o, "sortBy").and_then(Value::as_object) {
        sort_by(errs, &body.key("sortBy"), s);
    }
    if let Some(c) = given(o, "relevanceCutoff").and_then(Value::as_object) {
        super::scoring_params::cutoff(errs, &body.key("relevanceCutoff"), c);
    }
    if let Some(r) = given(o, "recencyParameters").and_then(Value::as_object) {
        super::scoring_params::recency(errs, &body.key("recencyParameters"), r);
    }
    each_dict(errs, &body, o, "collapseFields", |errs, at, c| {
        errs.check(c, at.refs(), COLLAPSE, &["name"]);
        if let Some(s) = given(c, "sortBy").and_then(Value::as_object) {
            let at = at.key("sortBy");
            errs.check(s, at.refs(), COLLAPSE_SORT, &["fields"]);
            items(errs, &at, s, "fields", 1, 1);
            ge(errs, &at, s, "numThreadsPerSearch", 1);
            each_dict(errs, &at, s, "fields", |errs, at, f| {
                errs.check(f, at.refs(), COLLAPSE_SORT_FIELD, &["fieldName"]);
            });
        }
    });
}

fn facets(errs: &mut Errors, at: &At, f: &Map<String, Value>) {
    errs.check(f, at.refs(), FACETS, &["fields"]);
    if given(f, "order").is_some_and(|v| !v.as_str().is_some_and(|s| ORDERS.contains(&s))) {
        literal(errs, at, "order", ORDERS);
    }
    if given(f, "maxDepth")
        .and_then(as_int)
        .is_some_and(|n| n <= 0)
    {
        errs.value(at.refs(), "maxDepth", "'maxDepth' must be greater than 0");
    }
    max_results(errs, at, f);
    let Some(fields) = given(f, "fields").and_then(Value::as_object) else {
        return;
    };
    for (name, cfg) in fields {
        let at = at.key("fields").key(name);
        let Some(cfg) = cfg.as_object() else {
            errs.push(at.0.clone(), "value is not a valid dict", "type_error.dict");
            continue;
        };
        facet_field(errs, &at, cfg);
    }
}

fn max_results(errs: &mut Errors, at: &At, o: &Map<String, Value>) {
    match given(o, "maxResults").and_then(as_int) {
        Some(n) if n <= 0 => errs.value(
            at.refs(),
            "maxResults",
            "'maxResults' must be greater than 0",
        ),
        Some(n) if n > 10_000 => errs.value(
            at.refs(),
            "maxResults",
            "'maxResults' must be less than or equal to 10000",
        ),
        _ => {}
    }
}

fn facet_field(errs: &mut Errors, at: &At, cfg: &Map<String, Value>) {
    errs.check(cfg, at.refs(), FACET_FIELD, &["type"]);
    let kind = given(cfg, "type").and_then(Value::as_str);
    if given(cfg, "type").is_some() && !kind.is_some_and(|k| FACET_TYPES.contains(&k)) {
        literal(errs, at, "type", FACET_TYPES);
    }
    if given(cfg, "order").is_some_and(|v| !v.as_str().is_some_and(|s| ORDERS.contains(&s))) {
        literal(errs, at, "order", ORDERS);
    }
    max_results(errs, at, cfg);
    let mut ranges = Vec::new();
    each_dict(errs, at, cfg, "ranges", |errs, at, r| {
        errs.check(r, at.refs(), RANGE, &[]);
        let from = given(r, "from").and_then(as_float);
        let to = given(r, "to").and_then(as_float);
        if let (Some(a), Some(b)) = (from, to)
            && b <= a
        {
            errs.value(
                at.refs(),
                "to",
                "'to' value must be greater than 'from' value",
            );
        }
        ranges.push((from, to));
    });
    if ranges.is_empty() {
        return;
    }
    // Validators on `ranges` in declaration order; the first failure ends the field.
    ranges.sort_by(|a, b| {
        a.0.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY))
    });
    let overlap = ranges.windows(2).find_map(|w| match (w[0].1, w[1].0) {
        (None, _) => {
            Some("Open-ended ranges (missing 'to' value) will overlap with subsequent ranges")
        }
        (_, None) => {
            Some("Open-ended ranges (missing 'from' value) will overlap with previous ranges")
        }
        (Some(to), Some(from)) if to > from => Some("Range configurations must not overlap"),
        _ => None,
    });
    if let Some(msg) = overlap {
        errs.value(at.refs(), "ranges", msg);
    } else if kind != Some("number") {
        errs.value(
            at.refs(),
            "ranges",
            "Ranges can only be used for 'number' facets",
        );
    }
}

fn sort_by(errs: &mut Errors, at: &At, s: &Map<String, Value>) {
    errs.check(s, at.refs(), SORT_BY, &["fields"]);
    items(errs, at, s, "fields", 1, 3);
    ge(errs, at, s, "sortDepth", 1);
    ge(errs, at, s, "minSortCandidates", 1);
    each_dict(errs, at, s, "fields", |errs, at, f| {
        errs.check(f, at.refs(), SORT_FIELD, &["fieldName"]);
        if let Some(name) = given(f, "fieldName").and_then(Value::as_str)
            && let Some(msg) = field_name_error(name)
        {
            errs.value(at.refs(), "fieldName", msg);
        }
    });
}

/// `validate_field_name` of the unstructured index (the reasons a name is refused).
pub fn field_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("field name can't be empty! ".into())
    } else if name.starts_with("__") {
        Some(format!(
            "{name} field name can't start with the reserved prefix `__`"
        ))
    } else if name == "_id" || name.starts_with("_") {
        Some(format!(
            "{name} field name can't be a protected field. Please rename this field."
        ))
    } else {
        None
    }
}
