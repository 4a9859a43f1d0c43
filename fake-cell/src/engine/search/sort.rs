//! `sortBy` (HYBRID), as Vespa's `HybridSearcher.postProcessBySort`: the first `sortDepth`
//! candidates (all by default) are ordered by up to three numeric fields (`asc`/`desc`,
//! `missing` first or last), ties broken by relevance; the rest keep their order after them;
//! then every score becomes `1 / position` (1, 0.5, 0.333…), as Marqo returns them.

use std::cmp::Ordering;

use serde_json::Value;

use super::index_data::IndexData;
use super::topk::Cand;
use crate::engine::model::as_int;

#[derive(Debug, Clone)]
pub struct SortField {
    pub name: String,
    pub desc: bool,
    pub missing_first: bool,
}

#[derive(Debug, Clone)]
pub struct SortBy {
    pub fields: Vec<SortField>,
    pub depth: Option<usize>,
    pub min_candidates: Option<usize>,
}

impl SortBy {
    /// A body the model check accepted.
    pub fn parse(v: Option<&Value>) -> Option<SortBy> {
        let o = v?.as_object()?;
        let fields = o
            .get("fields")?
            .as_array()?
            .iter()
            .filter_map(|f| {
                Some(SortField {
                    name: f.get("fieldName")?.as_str()?.to_string(),
                    desc: f.get("order").and_then(Value::as_str) != Some("asc"),
                    missing_first: f.get("missing").and_then(Value::as_str) == Some("first"),
                })
            })
            .collect();
        let count = |k: &str| o.get(k).and_then(as_int).map(|n| n.max(1) as usize);
        Some(SortBy {
            fields,
            depth: count("sortDepth"),
            min_candidates: count("minSortCandidates"),
        })
    }

    fn compare(&self, a: &[Option<f64>], b: &[Option<f64>]) -> Ordering {
        for (i, f) in self.fields.iter().enumerate() {
            let o = match (a[i], b[i]) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) if f.missing_first => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) if f.missing_first => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) if f.desc => y.total_cmp(&x),
                (Some(x), Some(y)) => x.total_cmp(&y),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// A numeric field value (booleans and strings do not sort).
fn value(data: &IndexData, slot: u32, field: &str) -> Option<f64> {
    data.slot(slot)?.rec.fields.get(field)?.as_f64()
}

/// Sort the candidates and give them positional scores.
pub fn apply(cands: Vec<Cand>, data: &IndexData, sort: &SortBy) -> Vec<Cand> {
    let depth = sort.depth.unwrap_or(cands.len()).min(cands.len());
    let mut keyed: Vec<(Vec<Option<f64>>, Cand)> = cands
        .into_iter()
        .map(|c| {
            let key = sort
                .fields
                .iter()
                .map(|f| value(data, c.slot, &f.name))
                .collect();
            (key, c)
        })
        .collect();
    keyed[..depth].sort_by(|(ka, a), (kb, b)| {
        sort.compare(ka, kb)
            .then_with(|| b.score.total_cmp(&a.score))
    });
    keyed
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut c))| {
            c.score = 1.0 / (i as f64 + 1.0);
            c
        })
        .collect()
}
