//! `facets` (HYBRID): counts over every document the hybrid retrieval matches (lexical matches
//! and/or the tensor candidates, with the filter), as Marqo's grouping queries return them:
//! `string` → `{value: {"count"}}`, `array` → one count per element, `number` → `{min, max, avg,
//! count, sum}` or, with `ranges`, those stats per bucket keyed by `name` or `"from:to"`
//! (`-Inf`/`Inf` for open ends). Counts are descending unless `order: asc`, at most
//! `maxResults` (100) values per field; `excludeTerms` drop filter terms for that field. With
//! `collapseFields` a count is of collapse groups (each group once per value) and a range
//! bucket is only its count, as py-marqo's collapse tests expect of Marqo.

use std::collections::{HashMap, HashSet};

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
/// What a facet counts once: a collapse group (its field's value) or a document on its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Group {
    Doc(u32),
    Value(String),
}

/// One field's facet over `slots`; `group` is the collapse field, when the search collapses.
pub fn field(
    data: &IndexData,
    slots: &[u32],
    ff: &FacetField,
    all: &Facets,
    group: Option<&str>,
) -> Value {
    // Each document is its own group unless the search collapses (a document without the
    // collapse field is one on its own, as it is a hit on its own).
    let docs = slots.iter().filter_map(|s| {
        let d = data.slot(*s)?;
        let g = group
            .and_then(|g| super::collapse::key(data, *s, g))
            .map_or(Group::Doc(*s), Group::Value);
        Some((g, &d.rec.fields))
    });
    if ff.kind == Kind::Number {
        return match group {
            Some(_) if !ff.ranges.is_empty() => grouped_ranges(docs, ff),
            _ => number(docs.map(|(_, d)| d), ff),
        };
    }
    let mut groups: HashMap<String, HashSet<Group>> = HashMap::new();
    for (g, doc) in docs {
        match (ff.kind, doc.get(&ff.name)) {
            (Kind::String, Some(Value::String(s))) => {
                groups.entry(s.clone()).or_default().insert(g);
            }
            (Kind::Array, Some(Value::Array(a))) => {
                for s in a.iter().filter_map(Value::as_str) {
                    groups.entry(s.to_string()).or_default().insert(g.clone());
                }
            }
            _ => {}
        }
    }
    let asc = ff.asc.or(all.asc).unwrap_or(false);
    let mut v: Vec<(String, u64)> = groups
        .into_iter()
        .map(|(k, g)| (k, g.len() as u64))
        .collect();
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

/// Range buckets counting collapse groups: `{"count"}` only.
fn grouped_ranges<'a>(
    docs: impl Iterator<Item = (Group, &'a Map<String, Value>)>,
    ff: &FacetField,
) -> Value {
    let mut buckets: Vec<HashSet<Group>> = ff.ranges.iter().map(|_| HashSet::new()).collect();
    for (g, d) in docs {
        let Some(v) = d
            .get(&ff.name)
            .filter(|v| !v.is_boolean())
            .and_then(Value::as_f64)
        else {
            continue;
        };
        if let Some(i) = ff.ranges.iter().position(|r| r.contains(v)) {
            buckets[i].insert(g);
        }
    }
    let m: Map<String, Value> = ff
        .ranges
        .iter()
        .zip(&buckets)
        .filter(|(_, b)| !b.is_empty())
        .map(|(r, b)| (r.key(), json!({"count": b.len()})))
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
        if let Some(i) = ff.ranges.iter().position(|r| r.contains(v)) {
            buckets[i].add(v);
        }
    }
    let mut m = Map::new();
    for (r, st) in ff.ranges.iter().zip(&buckets) {
        if st.count > 0 {
            m.insert(r.key(), st.json());
        }
    }
    Value::Object(m)
}

impl Range {
    /// Vespa's `bucket(from, to)` is half-open: from ≤ v < to.
    fn contains(&self, v: f64) -> bool {
        self.from.is_none_or(|f| v >= f) && self.to.is_none_or(|t| v < t)
    }

    /// The bucket's key: its `name`, else `"from:to"`.
    fn key(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}:{}", bound(self.from, "-Inf"), bound(self.to, "Inf")))
    }
}
