//! `facets` (HYBRID): counts over every document the hybrid retrieval matches (lexical matches
//! and/or the tensor candidates, with the filter), as Marqo's grouping queries return them:
//! `string` → `{value: {"count"}}`, `array` → one count per element, `number` → `{min, max, avg,
//! count, sum}` or, with `ranges`, those stats per bucket keyed by `name` or `"from:to"`
//! (`-Inf`/`Inf` for open ends). Counts are descending unless `order: asc`, at most
//! `maxResults` (100) values per field; `excludeTerms` drop filter terms for that field.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::filter::{self, Filter};
use super::index_data::IndexData;
use crate::engine::model::{as_float, as_int};
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    String,
    Array,
    Number,
}

#[derive(Debug, Clone)]
pub struct Range {
    from: Option<f64>,
    to: Option<f64>,
    name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FacetField {
    pub name: String,
    kind: Kind,
    asc: Option<bool>,
    max_results: Option<usize>,
    ranges: Vec<Range>,
    pub exclude: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Facets {
    pub fields: Vec<FacetField>,
    pub max_depth: Option<usize>,
    max_results: usize,
    asc: Option<bool>,
}

fn asc_of(v: Option<&Value>) -> Option<bool> {
    v.and_then(Value::as_str).map(|o| o == "asc")
}

impl Facets {
    /// A body the model check accepted.
    pub fn parse(v: Option<&Value>) -> Option<Facets> {
        let o = v?.as_object()?;
        let fields = o
            .get("fields")?
            .as_object()?
            .iter()
            .map(|(name, c)| FacetField {
                name: name.clone(),
                kind: match c.get("type").and_then(Value::as_str) {
                    Some("array") => Kind::Array,
                    Some("number") => Kind::Number,
                    _ => Kind::String,
                },
                asc: asc_of(c.get("order")),
                max_results: c.get("maxResults").and_then(as_int).map(|n| n as usize),
                ranges: c
                    .get("ranges")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|r| Range {
                                from: r.get("from").and_then(as_float),
                                to: r.get("to").and_then(as_float),
                                name: r.get("name").and_then(Value::as_str).map(str::to_string),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                exclude: c.get("excludeTerms").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                }),
            })
            .collect();
        Some(Facets {
            fields,
            max_depth: o.get("maxDepth").and_then(as_int).map(|n| n as usize),
            max_results: o
                .get("maxResults")
                .and_then(as_int)
                .map_or(100, |n| n as usize),
            asc: asc_of(o.get("order")),
        })
    }
}

/// The filter without the terms `exclude` names (each parsed as a filter of one term);
/// 400 when there is no filter or a term is not in it.
pub fn without_terms(
    f: Option<&Filter>,
    exclude: &[String],
    field: &str,
) -> CellResult<Option<Filter>> {
    let Some(f) = f else {
        return Err(CellError::InvalidArgument(
            "Exclude terms can only be used when a filter string is provided".into(),
        ));
    };
    let mut terms = Vec::new();
    let mut missing = Vec::new();
    for t in exclude {
        match filter::parse(t) {
            Ok(p) if contains(f, &p) => terms.push(p),
            _ => missing.push(t.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(CellError::InvalidArgument(format!(
            "Facet field '{field}' has exclude terms {missing:?} that do not appear in the filter string"
        )));
    }
    Ok(strip(f, &terms))
}

fn contains(f: &Filter, term: &Filter) -> bool {
    f == term
        || match f {
            Filter::And(a, b) | Filter::Or(a, b) => contains(a, term) || contains(b, term),
            Filter::Not(a) => contains(a, term),
            _ => false,
        }
}

fn strip(f: &Filter, terms: &[Filter]) -> Option<Filter> {
    if terms.contains(f) {
        return None;
    }
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => match (strip(a, terms), strip(b, terms)) {
            (Some(x), Some(y)) => Some(if matches!(f, Filter::And(..)) {
                Filter::And(Box::new(x), Box::new(y))
            } else {
                Filter::Or(Box::new(x), Box::new(y))
            }),
            (x, y) => x.or(y),
        },
        Filter::Not(a) => strip(a, terms).map(|x| Filter::Not(Box::new(x))),
        other => Some(other.clone()),
    }
}

#[derive(Default)]
struct Stats {
    min: f64,
    max: f64,
    sum: f64,
    count: u64,
}

impl Stats {
    fn add(&mut self, v: f64) {
        if self.count == 0 {
            (self.min, self.max) = (v, v);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
    }
    fn json(&self) -> Value {
        json!({"min": self.min, "max": self.max, "avg": self.sum / self.count as f64,
            "count": self.count, "sum": self.sum})
    }
}

/// Python's `str(float)` for bucket names (`50.0`, `-Inf`).
fn bound(v: Option<f64>, open: &str) -> String {
    match v {
        None => open.into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
        Some(x) => format!("{x}"),
    }
}

/// One field's facet over the matched slots.
pub fn field(data: &IndexData, slots: &[u32], ff: &FacetField, all: &Facets) -> Value {
    let docs = slots
        .iter()
        .filter_map(|s| data.slot(*s))
        .map(|d| &d.rec.fields);
    if ff.kind == Kind::Number {
        return number(docs, ff);
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    for doc in docs {
        match (ff.kind, doc.get(&ff.name)) {
            (Kind::String, Some(Value::String(s))) => *counts.entry(s.clone()).or_default() += 1,
            (Kind::Array, Some(Value::Array(a))) => {
                let mut seen: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                seen.sort_unstable();
                seen.dedup();
                for s in seen {
                    *counts.entry(s.to_string()).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    let asc = ff.asc.or(all.asc).unwrap_or(false);
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| {
        let by = if asc { a.1.cmp(&b.1) } else { b.1.cmp(&a.1) };
        by.then_with(|| a.0.cmp(&b.0))
    });
    v.truncate(ff.max_results.unwrap_or(all.max_results));
    let m: Map<String, Value> = v
        .into_iter()
        .map(|(k, n)| (k, json!({"count": n})))
        .collect();
    Value::Object(m)
}

fn number<'a>(docs: impl Iterator<Item = &'a Map<String, Value>>, ff: &FacetField) -> Value {
    let values = docs.filter_map(|d| {
        d.get(&ff.name)
            .and_then(Value::as_f64)
            .filter(|_| !d.get(&ff.name).is_some_and(Value::is_boolean))
    });
    if ff.ranges.is_empty() {
        let mut st = Stats::default();
        values.for_each(|v| st.add(v));
        return if st.count == 0 { json!({}) } else { st.json() };
    }
    let mut buckets: Vec<Stats> = ff.ranges.iter().map(|_| Stats::default()).collect();
    for v in values {
        // Vespa's `bucket(from, to)` is half-open: from ≤ v < to.
        if let Some(i) = ff
            .ranges
            .iter()
            .position(|r| r.from.is_none_or(|f| v >= f) && r.to.is_none_or(|t| v < t))
        {
            buckets[i].add(v);
        }
    }
    let mut m = Map::new();
    for (r, st) in ff.ranges.iter().zip(&buckets) {
        if st.count > 0 {
            let key = r
                .name
                .clone()
                .unwrap_or_else(|| format!("{}:{}", bound(r.from, "-Inf"), bound(r.to, "Inf")));
            m.insert(key, st.json());
        }
    }
    Value::Object(m)
}
