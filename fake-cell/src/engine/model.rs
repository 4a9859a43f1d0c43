//! Marqo's request bodies are pydantic v1 models with `extra = "forbid"`; FastAPI turns their
//! failures into a 422 whose `detail` lists pydantic's error items. This module reproduces those
//! items (same `loc`, `msg`, `type`) so tests written against Marqo see the same answer: field
//! types in declaration order, then the unknown keys, then the model's root validators.

use serde_json::{Map, Value, json};

use crate::error::{CellError, CellResult};

/// What a model field accepts, with pydantic v1's lax coercions (`"10"` is an int, `1` a bool).
#[derive(Clone, Copy)]
pub enum Kind {
    Int,
    Float,
    Bool,
    Str,
    /// `List[str]`.
    StrList,
    /// Any list.
    List,
    /// A nested model checked elsewhere: an object.
    Dict,
    /// A plain `dict` field: an object, or what `dict()` makes of an empty list or string.
    Map,
    /// A `str` enum: the permitted values, case-sensitive as pydantic compares them.
    Enum(&'static [&'static str]),
    /// Marqo's `CaseInsensitiveEnum` (`InterpolationMethod`): a permitted value in any case.
    EnumNoCase(&'static [&'static str]),
    /// Anything (`Any`, unions checked by the engine).
    Any,
    /// A nested model (or union) with its own check: pydantic's items with `loc` relative to
    /// the field, or the `InvalidArgError` it raises, which ends the whole validation.
    Model(fn(&Value) -> CellResult<Vec<Value>>),
}

/// One model field: its key, what it accepts, and whether `null` is allowed (`Optional[...]`).
pub struct Field(pub &'static str, pub Kind, pub bool);

/// The error items of one model check, in pydantic's order, or the exception a validator
/// raised (Marqo's `InvalidArgError`, a 400): it propagates out of pydantic at once, so the
/// first one wins over every item.
#[derive(Default)]
pub struct Errors(Vec<Value>, Option<CellError>);

/// A `loc`: the prefix (keys, or list indexes as numbers) then `key`.
fn loc_of<P: serde::Serialize>(prefix: &[P], key: &str) -> Vec<Value> {
    let mut loc: Vec<Value> = prefix.iter().map(|s| json!(s)).collect();
    loc.push(json!(key));
    loc
}

impl Errors {
    pub fn push(&mut self, loc: Vec<Value>, msg: &str, kind: &str) {
        self.0.push(json!({"loc": loc, "msg": msg, "type": kind}));
    }

    /// A root validator's `ValueError` (pydantic puts it at `__root__`).
    pub fn root<P: serde::Serialize>(&mut self, prefix: &[P], msg: impl AsRef<str>) {
        self.push(loc_of(prefix, "__root__"), msg.as_ref(), "value_error");
    }

    /// A field validator's `ValueError`.
    pub fn value<P: serde::Serialize>(&mut self, prefix: &[P], key: &str, msg: impl AsRef<str>) {
        self.push(loc_of(prefix, key), msg.as_ref(), "value_error");
    }

    /// The items of a nested check (`loc` relative to it), under `prefix`.
    pub fn nested<P: serde::Serialize>(&mut self, prefix: &[P], items: Vec<Value>) {
        for mut item in items {
            if let Some(Value::Array(loc)) = item.get_mut("loc") {
                let mut full: Vec<Value> = prefix.iter().map(|s| json!(s)).collect();
                full.append(loc);
                *loc = full;
            }
            self.0.push(item);
        }
    }

    /// A ready-made item, its `loc` already complete.
    pub fn add(&mut self, item: Value) {
        self.0.push(item);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1.is_none()
    }

    /// How many items so far (a mark for [`Errors::failed_since`]).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The keys (at `depth` in `loc`) of the items pushed since `mark`: the fields that failed,
    /// which pydantic leaves out of the values its root validators see.
    pub fn failed_since(&self, mark: usize, depth: usize) -> Vec<String> {
        self.0[mark.min(self.0.len())..]
            .iter()
            .filter_map(|i| i["loc"].get(depth)?.as_str().map(str::to_string))
            .collect()
    }

    /// Whether a validator raised (nothing after it runs, root validators included).
    pub fn aborted(&self) -> bool {
        self.1.is_some()
    }

    /// `Ok` when nothing failed, else what raised, else the 422 FastAPI answers.
    pub fn into_result(self) -> CellResult<()> {
        match self {
            Errors(_, Some(raised)) => Err(raised),
            Errors(items, None) if items.is_empty() => Ok(()),
            Errors(items, None) => Err(CellError::Validation(items)),
        }
    }

    /// The items alone (for a nested model's check, whose `loc`s are relative to it).
    pub fn into_items(self) -> Vec<Value> {
        self.0
    }

    /// Check `obj` against `fields` (`required` ones must be present), then refuse unknown keys.
    pub fn check<P: serde::Serialize>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &[P],
        fields: &[Field],
        required: &[&str],
    ) {
        self.check_fields(obj, prefix, fields, required);
        if self.aborted() {
            return;
        }
        self.0.extend(extra_items(
            obj,
            |k| fields.iter().any(|f| f.0 == k),
            |k| Value::Array(loc_of(prefix, k)),
        ));
    }

    /// [`Errors::check`] without the unknown-key pass (a model whose other keys are checked
    /// elsewhere).
    pub fn check_fields<P: serde::Serialize>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &[P],
        fields: &[Field],
        required: &[&str],
    ) {
        for Field(key, kind, nullable) in fields {
            if self.aborted() {
                return;
            }
            match lookup(obj, key) {
                None if required.contains(key) => {
                    self.add(missing(Value::Array(loc_of(prefix, key))))
                }
                None => {}
                Some(Value::Null) if *nullable => {}
                Some(Value::Null) => self.add(none_item(Value::Array(loc_of(prefix, key)))),
                Some(v) => self.kind(|| loc_of(prefix, key), *kind, v),
            }
        }
    }

    /// One field's check; its location is built only for an error (most fields pass).
    fn kind(&mut self, loc: impl Fn() -> Vec<Value>, kind: Kind, v: &Value) {
        match kind {
            Kind::Model(check) => match check(v) {
                Ok(items) if items.is_empty() => {}
                Ok(items) => self.nested(&loc(), items),
                Err(raised) => self.1 = Some(raised),
            },
            Kind::Int if as_int(v).is_none() => {
                self.push(loc(), "value is not a valid integer", "type_error.integer")
            }
            Kind::Float if as_float(v).is_none() => {
                self.push(loc(), "value is not a valid float", "type_error.float")
            }
            Kind::Bool if as_bool(v).is_none() => self.push(
                loc(),
                "value could not be parsed to a boolean",
                "type_error.bool",
            ),
            Kind::Str if !is_str(v) => self.push(loc(), "str type expected", "type_error.str"),
            // Checked without its location first: only a list that fails needs it.
            Kind::StrList if super::unions::str_list(v, &[]).is_err() => {
                if let Err(items) = super::unions::str_list(v, &loc()) {
                    self.0.extend(items);
                }
            }
            Kind::List if !v.is_array() => {
                self.push(loc(), "value is not a valid list", "type_error.list")
            }
            Kind::Dict if !v.is_object() => self.0.push(not_a_dict(Value::Array(loc()))),
            Kind::Map if as_dict(v).is_none() => self.0.push(not_a_dict(Value::Array(loc()))),
            Kind::Enum(allowed) | Kind::EnumNoCase(allowed)
                if !v.as_str().is_some_and(|s| match kind {
                    Kind::EnumNoCase(_) => allowed.iter().any(|a| a.eq_ignore_ascii_case(s)),
                    _ => allowed.contains(&s),
                }) =>
            {
                self.0.push(enum_item(Value::Array(loc()), allowed));
            }
            _ => {}
        }
    }
}

/// `obj[key]`. A body of a few keys (nearly every request) is scanned: cheaper than hashing
/// each of a model's ~30 field names to find that most are absent (serde_json's ordered map
/// hashes every lookup with SipHash, ~1 µs of a search's body checks).
pub fn lookup<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if obj.len() <= 8 {
        obj.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        obj.get(key)
    }
}

/// Whether `obj[key]` is an object with members: a dict Python finds truthy (the download
/// headers' validators treat an empty one as unset).
pub fn non_empty_map(obj: &Map<String, Value>, key: &str) -> bool {
    lookup(obj, key)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// `obj` with the scalar fields of `fields` as the model holds them once validated (a
/// `"yes"` bool is `true`, a number `str` its text, a numeric-string `int` a number), for code
/// that reads the body after the check passed.
pub fn coerced(obj: &Map<String, Value>, fields: &[Field]) -> Map<String, Value> {
    let mut out = obj.clone();
    for Field(key, kind, _) in fields {
        let Some(v) = given(obj, key) else {
            continue;
        };
        let fixed = match kind {
            Kind::Bool => as_bool(v).map(Value::Bool),
            Kind::Str => str_field(v).ok().map(Value::String),
            Kind::Int => as_int(v).map(|n| json!(n)),
            _ => None,
        };
        if let Some(fixed) = fixed {
            out.insert((*key).to_string(), fixed);
        }
    }
    out
}

/// pydantic's "extra fields not permitted" items for `obj`'s keys that `known` does not
/// take, sorted by key as pydantic reports them; `loc` places a key.
pub fn extra_items(
    obj: &Map<String, Value>,
    known: impl Fn(&str) -> bool,
    loc: impl Fn(&str) -> Value,
) -> Vec<Value> {
    let mut keys: Vec<&String> = obj.keys().filter(|k| !known(k)).collect();
    keys.sort();
    keys.into_iter()
        .map(|k| item(loc(k), "extra fields not permitted", "value_error.extra"))
        .collect()
}

/// One of pydantic's error items, `loc` relative to the model being checked.
pub fn item(loc: Value, msg: &str, kind: &str) -> Value {
    json!({"loc": loc, "msg": msg, "type": kind})
}

/// pydantic's "not a dict" item at `loc`.
pub fn not_a_dict(loc: Value) -> Value {
    item(loc, "value is not a valid dict", "type_error.dict")
}

/// pydantic's item for a `None` where the field is not `Optional`.
pub fn none_item(loc: Value) -> Value {
    item(loc, NONE.0, NONE.1)
}

/// pydantic's item for a required field that is absent.
pub fn missing(loc: Value) -> Value {
    item(loc, "field required", "value_error.missing")
}

/// pydantic's enum item, with the `ctx` FastAPI passes on.
pub fn enum_item(loc: Value, allowed: &[&str]) -> Value {
    let permitted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    json!({"loc": loc, "type": "type_error.enum", "ctx": {"enum_values": allowed},
           "msg": format!("value is not a valid enumeration member; permitted: {}", permitted.join(", "))})
}

/// A key that is present and not `null` (an `Optional` field given).
pub fn given<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    lookup(m, key).filter(|v| !v.is_null())
}

/// A required `List[float]` field at `loc` of `m`: the coerced numbers, or `None` with the
/// items pushed (absent, `None`, not a list, or an element that is not a float).
pub fn float_list(
    m: &Map<String, Value>,
    key: &str,
    loc: Value,
    items: &mut Vec<Value>,
) -> Option<Vec<f64>> {
    let at = |last: Option<Value>| {
        let mut l = loc.as_array().cloned().unwrap_or_default();
        l.push(json!(key));
        l.extend(last);
        Value::Array(l)
    };
    match m.get(key) {
        None => items.push(missing(at(None))),
        Some(Value::Array(xs)) => {
            let before = items.len();
            let floats: Vec<f64> = xs
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    float_field(x)
                        .map_err(|(msg, kind)| items.push(item(at(Some(json!(i))), msg, kind)))
                        .ok()
                })
                .collect();
            return (items.len() == before).then_some(floats);
        }
        Some(Value::Null) => items.push(item(at(None), NONE.0, NONE.1)),
        Some(_) => items.push(item(
            at(None),
            "value is not a valid list",
            "type_error.list",
        )),
    }
    None
}

/// A model's input as pydantic 1 reads it: an object, or what Python's `dict()` makes of a list
/// of pairs (each a two-element list, a two-character string or a two-key dict, whose first
/// part is a string) or of an empty string; `None` for anything else (its "not a valid dict").
/// So a list of one two-field document passed as a whole body is a dict with one key.
pub fn as_dict(v: &Value) -> Option<std::borrow::Cow<'_, Map<String, Value>>> {
    match v {
        Value::Object(m) => Some(std::borrow::Cow::Borrowed(m)),
        Value::String(s) if s.is_empty() => Some(std::borrow::Cow::Owned(Map::new())),
        Value::Array(items) => {
            let mut out = Map::new();
            for item in items {
                let (k, v) = pair(item)?;
                out.insert(k, v);
            }
            Some(std::borrow::Cow::Owned(out))
        }
        _ => None,
    }
}

/// One element of `dict(list)`: its key and value, when it has exactly two parts and a string
/// key (`cls(**d)` takes no other keys).
fn pair(item: &Value) -> Option<(String, Value)> {
    match item {
        Value::Array(kv) if kv.len() == 2 => Some((kv[0].as_str()?.to_string(), kv[1].clone())),
        Value::String(s) if s.chars().count() == 2 => {
            let mut chars = s.chars().map(String::from);
            Some((chars.next()?, Value::String(chars.next()?)))
        }
        Value::Object(m) if m.len() == 2 => {
            let mut keys = m.keys().cloned();
            Some((keys.next()?, Value::String(keys.next()?)))
        }
        _ => None,
    }
}

/// A required or optional `str` field of a nested model: its coerced text, or the item's
/// message and type.
pub fn str_field(v: &Value) -> Result<String, (&'static str, &'static str)> {
    match v {
        Value::Null => Err(NONE),
        v if is_str(v) => Ok(super::python::str_of(v)),
        _ => Err(("str type expected", "type_error.str")),
    }
}

/// A `float` field (or list item): the coerced number, or the item's message and type.
pub fn float_field(v: &Value) -> Result<f64, (&'static str, &'static str)> {
    match v {
        Value::Null => Err(NONE),
        v => as_float(v).ok_or(("value is not a valid float", "type_error.float")),
    }
}

const NONE: (&str, &str) = (
    "none is not an allowed value",
    "type_error.none.not_allowed",
);

/// pydantic v1's `str` accepts strings, numbers and booleans (turned into their text).
fn is_str(v: &Value) -> bool {
    v.is_string() || v.is_number() || v.is_boolean()
}

/// pydantic v1's `int`: integers, floats (truncated), booleans and numeric strings.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f.trunc() as i64)
        }),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// pydantic v1's `float`: numbers, booleans and numeric strings.
pub fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => super::python::parse_float(s),
        _ => None,
    }
}

/// pydantic v1's `bool`: booleans, 0/1 and the usual yes/no words.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// One unknown key at `loc`, as pydantic reports it.
pub fn extra(loc: &[&str]) -> CellError {
    CellError::Validation(vec![item(
        json!(loc),
        "extra fields not permitted",
        "value_error.extra",
    )])
}

/// The body as its model reads it ([`as_dict`]; a list of pairs is replaced by its dict, so
/// the handler reads the same keys), else pydantic's dict error at `["body"]`.
pub fn body_object(body: &mut Value) -> CellResult<&Map<String, Value>> {
    if !body.is_object() {
        let dict = as_dict(body)
            .ok_or_else(|| CellError::Validation(vec![not_a_dict(json!(["body"]))]))?
            .into_owned();
        *body = Value::Object(dict);
    }
    body.as_object()
        .ok_or_else(|| CellError::Validation(vec![not_a_dict(json!(["body"]))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercions_follow_pydantic_v1() {
        assert_eq!(as_int(&json!("10")), Some(10));
        assert_eq!(as_int(&json!(2.7)), Some(2));
        assert_eq!(as_int(&json!("x")), None);
        assert_eq!(as_bool(&json!("yes")), Some(true));
        assert_eq!(as_bool(&json!(2)), None);
        assert_eq!(as_float(&json!([1])), None);
    }

    #[test]
    fn lookup_finds_what_get_finds_in_small_and_large_bodies() {
        for n in [0, 1, 8, 9, 40] {
            let body: Map<String, Value> = (0..n).map(|i| (format!("k{i}"), json!(i))).collect();
            for key in ["k0", "k7", "k8", "k39", "absent", ""] {
                assert_eq!(lookup(&body, key), body.get(key), "{n} keys, {key}");
            }
        }
        let body = json!({"q": null, "limit": 3});
        let body = body.as_object().unwrap();
        assert_eq!(given(body, "q"), None, "null is not given");
        assert_eq!(given(body, "limit"), Some(&json!(3)));
    }

    #[test]
    fn extra_and_type_errors_in_order() {
        let mut e = Errors::default();
        let obj = json!({"limit": "x", "bogus": 1});
        let fields = [Field("limit", Kind::Int, false)];
        e.check(obj.as_object().unwrap(), &["body"], &fields, &[]);
        let Err(CellError::Validation(items)) = e.into_result() else {
            panic!("expected errors")
        };
        assert_eq!(items[0]["type"], "type_error.integer");
        assert_eq!(items[1]["loc"], json!(["body", "bogus"]));
        assert_eq!(items[1]["msg"], "extra fields not permitted");
    }
}
