//! HYBRID search (§5.4/§5.5): `disjunction` retrieval fused with reciprocal rank fusion
//! (`alpha·(1/(rank_tensor + rrfK)) + (1 − alpha)·(1/(rank_lexical + rrfK))` in doubles, ranks
//! from 1), or retrieval by one side ranked by the other.

use std::collections::HashMap;

use serde_json::Value;

use super::modifiers::{Modifiers, parse_modifiers};
use super::topk::{Cand, top_k};
use crate::engine::model::lookup;
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Side {
    Disjunction,
    Rrf,
    Tensor,
    Lexical,
}

#[derive(Debug, Clone)]
pub struct Params {
    pub retrieval: Side,
    pub ranking: Side,
    pub alpha: f64,
    pub rrf_k: f64,
    pub searchable_lexical: Option<Vec<String>>,
    pub searchable_tensor: Option<Vec<String>>,
    pub modifiers_lexical: Option<Modifiers>,
    pub modifiers_tensor: Option<Modifiers>,
    /// `rerankDepthTensor`: how many tensor candidates the facet queries count (the page's
    /// `limit + offset` when absent).
    pub rerank_depth_tensor: Option<usize>,
}

fn bad(key: &str, msg: &str) -> CellError {
    CellError::unprocessable(&["body", "hybridParameters", key], msg)
}

impl Params {
    pub fn parse(v: Option<&Value>) -> CellResult<Params> {
        let mut p = Params {
            retrieval: Side::Disjunction,
            ranking: Side::Rrf,
            alpha: 0.5,
            rrf_k: 60.0,
            searchable_lexical: None,
            searchable_tensor: None,
            modifiers_lexical: None,
            modifiers_tensor: None,
            rerank_depth_tensor: None,
        };
        let Some(o) = v.filter(|v| !v.is_null()) else {
            return Ok(p);
        };
        let o = o
            .as_object()
            .ok_or_else(|| bad("", "hybridParameters must be an object"))?;
        let side = |key: &str, allowed: &[(&str, Side)]| -> CellResult<Option<Side>> {
            match lookup(o, key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => allowed
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(s))
                    .map(|(_, side)| Some(*side))
                    .ok_or_else(|| bad(key, "invalid value")),
                Some(_) => Err(bad(key, "must be a string")),
            }
        };
        if let Some(r) = side(
            "retrievalMethod",
            &[
                ("disjunction", Side::Disjunction),
                ("tensor", Side::Tensor),
                ("lexical", Side::Lexical),
            ],
        )? {
            p.retrieval = r;
            if r != Side::Disjunction {
                p.ranking = r;
            }
        }
        if let Some(r) = side(
            "rankingMethod",
            &[
                ("rrf", Side::Rrf),
                ("tensor", Side::Tensor),
                ("lexical", Side::Lexical),
            ],
        )? {
            p.ranking = r;
        }
        match (p.retrieval, p.ranking) {
            (Side::Disjunction, Side::Rrf) => {}
            (Side::Disjunction, _) => {
                return Err(bad(
                    "rankingMethod",
                    "disjunction retrieval requires rrf ranking",
                ));
            }
            (_, Side::Rrf) => {
                return Err(bad(
                    "rankingMethod",
                    "rrf ranking requires disjunction retrieval",
                ));
            }
            _ => {}
        }
        for (key, slot) in [("alpha", 0), ("rrfK", 1)] {
            match lookup(o, key) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    if p.ranking != Side::Rrf {
                        return Err(bad(key, "only valid with rrf ranking"));
                    }
                    let x = v.as_f64().ok_or_else(|| bad(key, "must be a number"))?;
                    if slot == 0 {
                        if !(0.0..=1.0).contains(&x) {
                            return Err(bad(key, "alpha must be between 0 and 1"));
                        }
                        p.alpha = x;
                    } else {
                        if x < 0.0 || v.as_i64().is_none() {
                            return Err(bad(key, "rrfK must be an integer >= 0"));
                        }
                        p.rrf_k = x;
                    }
                }
            }
        }
        p.rerank_depth_tensor = lookup(o, "rerankDepthTensor")
            .and_then(crate::engine::model::as_int)
            .and_then(|d| usize::try_from(d).ok());
        // As the model's `List[str]` holds them once validated (a number is its text).
        let list = |key: &str| -> CellResult<Option<Vec<String>>> {
            match lookup(o, key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => crate::engine::unions::str_list(v, &[])
                    .map(Some)
                    .map_err(|_| bad(key, "must be a list of strings")),
            }
        };
        p.searchable_lexical = list("searchableAttributesLexical")?;
        p.searchable_tensor = list("searchableAttributesTensor")?;
        p.modifiers_lexical =
            parse_modifiers(lookup(o, "scoreModifiersLexical"), "scoreModifiersLexical")?;
        p.modifiers_tensor =
            parse_modifiers(lookup(o, "scoreModifiersTensor"), "scoreModifiersTensor")?;
        Ok(p)
    }
}

/// Fuse or re-rank `need` candidates per leg; returns them sorted (RRF: the union of both).
pub fn run(
    p: &Params,
    need: usize,
    lexical: impl FnOnce(Option<usize>) -> Vec<Cand>,
    tensor: impl FnOnce(Option<usize>) -> Vec<Cand>,
    tensor_rank: impl Fn(u32) -> Option<(f32, u32)>,
) -> Vec<Cand> {
    match (p.retrieval, p.ranking) {
        (Side::Lexical, Side::Tensor) => {
            let cands = lexical(Some(need));
            let ranked: Vec<Cand> = cands
                .into_iter()
                .map(|mut c| {
                    match tensor_rank(c.slot) {
                        Some((s, cid)) => {
                            c.score = f64::from(s);
                            c.tensor = Some(s);
                            c.chunk = Some(cid);
                        }
                        None => c.score = 0.0,
                    }
                    c
                })
                .collect();
            top_k(ranked, need)
        }
        (Side::Tensor, Side::Lexical) => {
            let lex: HashMap<u32, f64> = lexical(None)
                .into_iter()
                .map(|c| (c.slot, c.score))
                .collect();
            let ranked: Vec<Cand> = tensor(Some(need))
                .into_iter()
                .map(|mut c| {
                    let l = lex.get(&c.slot).copied();
                    c.lexical = l.map(|l| l as f32);
                    c.score = l.unwrap_or(0.0);
                    c
                })
                .collect();
            top_k(ranked, need)
        }
        (Side::Lexical, _) => lexical(Some(need)),
        (Side::Tensor, _) => tensor(Some(need)),
        _ => {
            let lex = if p.alpha < 1.0 {
                lexical(Some(need))
            } else {
                Vec::new()
            };
            let ten = if p.alpha > 0.0 {
                tensor(Some(need))
            } else {
                Vec::new()
            };
            rrf(p, ten, lex)
        }
    }
}

/// Reciprocal rank fusion of the two legs (each best first, one candidate per document): the
/// whole union, as HybridSearcher.rrf returns it (up to 2 × `need`). A lexical hit finds its
/// tensor twin by a binary search over the tensor leg's slots (a leg is `limit + offset` long,
/// ten for most searches: too few to be worth a hash map, whose SipHash showed in profiles).
/// Scores are doubles computed as HybridSearcher computes them (`alpha * (1.0 / (rank + k))`,
/// the lexical side's added to the tensor side's), so `_score` has Marqo's digits.
fn rrf(p: &Params, ten: Vec<Cand>, lex: Vec<Cand>) -> Vec<Cand> {
    let reciprocal = |rank: usize| 1.0 / ((rank + 1) as f64 + p.rrf_k);
    let mut fused: Vec<Cand> = Vec::with_capacity(ten.len() + lex.len());
    for (rank, c) in ten.into_iter().enumerate() {
        let s = p.alpha * reciprocal(rank);
        fused.push(Cand { score: s, ..c });
    }
    let mut by_slot: Vec<(u32, usize)> =
        fused.iter().enumerate().map(|(i, c)| (c.slot, i)).collect();
    by_slot.sort_unstable();
    for (rank, c) in lex.into_iter().enumerate() {
        let s = (1.0 - p.alpha) * reciprocal(rank);
        match by_slot.binary_search_by_key(&c.slot, |e| e.0) {
            Ok(j) => {
                let f = &mut fused[by_slot[j].1];
                f.score += s;
                f.lexical = c.lexical;
            }
            Err(_) => fused.push(Cand {
                score: s,
                chunk: None,
                ..c
            }),
        }
    }
    let all = fused.len();
    top_k(fused, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexical_hit(slot: u32, score: f32) -> Cand {
        Cand {
            slot,
            score: f64::from(score),
            chunk: None,
            lexical: Some(score),
            tensor: None,
        }
    }

    #[test]
    fn rrf_sums_a_document_found_by_both_legs_and_keeps_the_union() {
        let p = Params::parse(None).unwrap();
        // Tensor ranks 7, 3, 9; lexical ranks 3, 5.
        let ten = vec![
            Cand::tensor(7, 70, 0.9),
            Cand::tensor(3, 30, 0.8),
            Cand::tensor(9, 90, 0.7),
        ];
        let lex = vec![lexical_hit(3, 4.0), lexical_hit(5, 2.0)];
        let got = rrf(&p, ten, lex);
        let order: Vec<u32> = got.iter().map(|c| c.slot).collect();
        assert_eq!(order, [3, 7, 5, 9]);
        // In doubles, as HybridSearcher: alpha * (1.0 / (rank + k)), the tensor side's first.
        let three = &got[0];
        assert_eq!(three.score, 0.5 * (1.0 / 62.0) + 0.5 * (1.0 / 61.0));
        assert_eq!((three.chunk, three.lexical), (Some(30), Some(4.0)));
        // 7 is the tensor leg's first alone; 5, the lexical leg's second, beats 9, the tensor's third.
        assert_eq!(got[1].score, 0.5 * (1.0 / 61.0));
        assert_eq!(got[2].score, 0.5 * (1.0 / 62.0));
        assert_eq!(got[2].chunk, None);
        // What Marqo answers for a first rank with the default alpha and rrfK (Python's repr).
        assert_eq!(got[1].score.to_string(), "0.00819672131147541");
        assert_eq!(three.score.to_string(), "0.01626123744050767");
    }
}
