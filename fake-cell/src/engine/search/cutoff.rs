//! `relevanceCutoff` (HYBRID), as Vespa's `HybridSearcher.detectCutoffCount` does it: a probe
//! lexical search (`probeDepth` hits, no lexical score modifiers) gives descending scores, and
//! the method says how many of them are relevant; the hybrid candidates are then cut to that
//! count (`min(relevant, limit + offset)`, or `max(relevant, minSortCandidates)` with `sortBy`).

use serde_json::Value;

use crate::engine::model::{as_bool, as_float, as_int};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Keep scores ≥ top score × factor.
    RelativeMaxScore(f64),
    /// Keep scores ≥ mean + factor × standard deviation.
    MeanStdDev(f64),
    /// Cut at the largest drop between neighbours.
    GapDetection,
}

#[derive(Debug, Clone)]
pub struct Cutoff {
    pub method: Method,
    pub probe_depth: usize,
    /// Facets and `totalHits` count only the relevant candidates.
    pub affect_facets: bool,
    /// `overrideSortCandidatesWithRelevantCandidates`: with `sortBy`, only the relevant
    /// candidates (at least `minSortCandidates`) are sorted.
    pub override_sort: bool,
}

impl Cutoff {
    /// A body the model check accepted.
    pub fn parse(v: Option<&Value>) -> Option<Cutoff> {
        let o = v?.as_object()?;
        let param = |k: &str| {
            o.get("parameters")
                .and_then(|p| p.get(k))
                .and_then(as_float)
                .unwrap_or(0.0)
        };
        let method = match o.get("method")?.as_str()? {
            "relative_max_score" => Method::RelativeMaxScore(param("relativeScoreFactor")),
            "mean_std_dev" => Method::MeanStdDev(param("stdDevFactor")),
            _ => Method::GapDetection,
        };
        Some(Cutoff {
            method,
            probe_depth: o
                .get("probeDepth")
                .and_then(as_int)
                .map_or(1000, |n| n.max(1) as usize),
            affect_facets: o.get("affectFacets").and_then(as_bool).unwrap_or(false),
            override_sort: o
                .get("overrideSortCandidatesWithRelevantCandidates")
                .and_then(as_bool)
                .unwrap_or(false),
        })
    }
}

/// How many of the descending `scores` are relevant.
pub fn detect(scores: &[f64], method: Method) -> usize {
    let Some(&top) = scores.first() else {
        return 0;
    };
    match method {
        Method::GapDetection => {
            let mut best = (-1.0, scores.len());
            for (i, w) in scores.windows(2).enumerate() {
                let delta = w[0] - w[1];
                if delta > best.0 {
                    best = (delta, i + 1);
                }
            }
            best.1
        }
        Method::MeanStdDev(k) => {
            let n = scores.len() as f64;
            let mean = scores.iter().sum::<f64>() / n;
            // Sample standard deviation, as commons-statistics computes it (0 for one value).
            let sd = if scores.len() > 1 {
                (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            count_at_least(scores, mean + k * sd)
        }
        Method::RelativeMaxScore(f) => count_at_least(scores, top * f),
    }
}

/// Elements ≥ `threshold` in a descending list.
fn count_at_least(desc: &[f64], threshold: f64) -> usize {
    desc.partition_point(|s| *s >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_count_as_the_java_searcher() {
        let s = [10.0, 9.0, 8.5, 3.0, 2.5, 2.0];
        assert_eq!(detect(&s, Method::GapDetection), 3);
        assert_eq!(detect(&s, Method::RelativeMaxScore(0.8)), 3);
        assert_eq!(detect(&s, Method::RelativeMaxScore(0.0)), 6);
        assert_eq!(detect(&s, Method::MeanStdDev(0.0)), 3);
        assert_eq!(detect(&[], Method::GapDetection), 0);
        assert_eq!(detect(&[4.0], Method::GapDetection), 1);
    }
}
