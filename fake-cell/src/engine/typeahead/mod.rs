//! Marqo's typeahead (query suggestions, indexes of Marqo ≥ 2.23): each index keeps a store of
//! past queries, keyed by their normalised form (accents removed, lower-cased) with their
//! popularity and metadata; a suggestion request matches its words against the queries' words
//! by prefix, fuzzily (within `fuzzyEditDistance`) for words of at least `minFuzzyMatchLength`
//! letters. The request bodies are [`bodies`]'. Plain Rust: `http/data/suggestions.rs` takes the
//! locks and journals the writes.

mod bodies;

pub use bodies::{SuggestRequest, index_request, query_list, suggest_request};

use std::collections::BTreeMap;

use crate::engine::linguistics;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One indexed query, as `GET …/suggestions/queries` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// As given, trimmed.
    pub query: String,
    pub popularity: f64,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Milliseconds since the epoch of the last write of this query.
    #[serde(rename = "lastUpdatedAt", default)]
    pub last_updated_at: u64,
}

/// An index's typeahead store.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Suggestions {
    by_key: BTreeMap<String, QueryRecord>,
}

/// A query's key: Vespa's normalisation for the typeahead schema (NFKC, accents removed,
/// lower-cased, whitespace collapsed), so "Café" and "cafe" are one query.
pub fn normalise(text: &str) -> String {
    linguistics::fold(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(normalised: &str) -> Vec<&str> {
    normalised
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Every prefix of every word, Marqo's `queryIndex` field (`m ma mar …`).
fn prefixes(normalised: &str) -> String {
    words(normalised)
        .into_iter()
        .flat_map(|w| w.char_indices().map(move |(i, c)| &w[..i + c.len_utf8()]))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Suggestions {
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Add or replace queries (a query already there takes the new popularity and metadata).
    pub fn put(&mut self, records: Vec<QueryRecord>) {
        for r in records {
            self.by_key.insert(normalise(&r.query), r);
        }
    }

    /// Remove the queries named (normalised as stored); unknown ones are ignored, as Marqo does.
    pub fn remove(&mut self, queries: &[String]) {
        for q in queries {
            self.by_key.remove(&normalise(q));
        }
    }

    pub fn clear(&mut self) {
        self.by_key.clear();
    }

    /// Whether the store holds exactly `records`, in key order (a snapshot's, compared).
    pub fn holds(&self, records: &[QueryRecord]) -> bool {
        self.by_key.values().eq(records.iter())
    }

    /// Every record, in key order (for snapshots).
    pub fn records(&self) -> Vec<QueryRecord> {
        self.by_key.values().cloned().collect()
    }

    /// The records named, in the request's order, as `GET …/suggestions/queries` answers.
    pub fn get(&self, queries: &[String]) -> Value {
        let found: Vec<Value> = queries
            .iter()
            .filter_map(|q| {
                let key = normalise(q);
                self.by_key.get(&key).map(|r| shown(&key, r))
            })
            .collect();
        json!({ "queries": found })
    }

    /// The suggestions for a checked request, best first.
    pub fn suggest(&self, req: &SuggestRequest) -> Vec<Value> {
        let q = normalise(&req.q);
        let tokens = words(&q);
        let mut scored: Vec<(f64, &QueryRecord)> = self
            .by_key
            .iter()
            .filter_map(|(key, r)| {
                let query_words = words(key);
                let text = if tokens.is_empty() {
                    Some(0.0)
                } else {
                    text_score(&tokens, &query_words, req)
                }?;
                let mut score = text;
                if tokens.is_empty() || req.popularity_weight.is_some() {
                    score += req.popularity_weight.unwrap_or(1.0) * r.popularity;
                }
                if let Some(w) = req.bm25_weight {
                    score += w * exact_words(&tokens, &query_words);
                }
                Some((score, r))
            })
            .collect();
        // Ties by popularity, then by the query itself, so equal scores come in a stable order.
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(b.1.popularity.total_cmp(&a.1.popularity))
                .then(a.1.query.cmp(&b.1.query))
        });
        scored
            .into_iter()
            .take(req.limit)
            .map(|(score, r)| {
                json!({"suggestion": r.query, "_score": score, "metadata": r.metadata})
            })
            .collect()
    }
}

/// A record as the get route shows it, with the fields Marqo's schema derives.
fn shown(key: &str, r: &QueryRecord) -> Value {
    json!({
        "query": r.query,
        "queryWords": words(key),
        "queryIndex": prefixes(key),
        "popularity": r.popularity,
        "metadata": r.metadata,
        "lastUpdatedAt": r.last_updated_at,
    })
}

/// How well the request's words match a query's: for every request word, 1 for a query word it
/// is a prefix of, less the edits a fuzzy prefix needed; `None` when no word matches (or, with
/// `matchAllTokens`, when one does not).
fn text_score(tokens: &[&str], query_words: &[&str], req: &SuggestRequest) -> Option<f64> {
    let mut total = 0.0;
    let mut matched = 0;
    for t in tokens {
        let fuzzy = t.chars().count() >= req.min_fuzzy_match_length;
        let best = query_words
            .iter()
            .filter_map(|w| {
                if w.starts_with(t) {
                    Some(0)
                } else if fuzzy {
                    prefix_distance(t, w).filter(|d| *d <= req.fuzzy_edit_distance)
                } else {
                    None
                }
            })
            .min();
        match best {
            Some(d) => {
                matched += 1;
                total += 1.0 / (1.0 + d as f64);
            }
            None if req.match_all_tokens => return None,
            None => {}
        }
    }
    (matched > 0).then_some(total)
}

/// Request words equal to a whole query word (the exact matches BM25 rewards).
fn exact_words(tokens: &[&str], query_words: &[&str]) -> f64 {
    tokens.iter().filter(|t| query_words.contains(t)).count() as f64
}

/// The fewest edits that turn `token` into some prefix of `word` (Levenshtein against every
/// prefix at once: the last row's minimum).
fn prefix_distance(token: &str, word: &str) -> Option<usize> {
    let t: Vec<char> = token.chars().collect();
    let w: Vec<char> = word.chars().collect();
    // row[j]: edits between the token's first i letters and the word's first j.
    let mut row: Vec<usize> = (0..=w.len()).collect();
    for (i, tc) in t.iter().enumerate() {
        let mut next = vec![i + 1; w.len() + 1];
        for (j, wc) in w.iter().enumerate() {
            let sub = row[j] + usize::from(tc != wc);
            next[j + 1] = sub.min(row[j + 1] + 1).min(next[j] + 1);
        }
        row = next;
    }
    row.into_iter().min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CellError, CellResult};

    fn rec(q: &str, popularity: f64) -> QueryRecord {
        QueryRecord {
            query: q.into(),
            popularity,
            metadata: Map::new(),
            last_updated_at: 0,
        }
    }

    fn ask(store: &Suggestions, body: Value) -> Vec<String> {
        let req = suggest_request(&body).unwrap_or_else(|e| panic!("{e}"));
        store
            .suggest(&req)
            .iter()
            .map(|s| s["suggestion"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn queries_are_keyed_by_their_normal_form_and_replaced() {
        let mut s = Suggestions::default();
        s.put(vec![
            rec("Café Latte", 1.0),
            rec("cafe  latte", 5.0),
            rec("tea", 2.0),
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.get(&["CAFÉ LATTE".into()])["queries"][0]["popularity"],
            5.0
        );
        assert_eq!(
            s.get(&["tea".into()])["queries"][0]["queryIndex"],
            "t te tea"
        );
        s.remove(&["TEA".into(), "nothing".into()]);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn prefixes_fuzzy_words_and_popularity() {
        let mut s = Suggestions::default();
        s.put(vec![
            rec("machine learning algorithms", 10.0),
            rec("machine learning basics", 8.0),
            rec("machine learning tutorial", 6.0),
            rec("artificial intelligence", 9.0),
            rec("deep learning", 7.0),
        ]);
        // An empty q: the most popular queries.
        assert_eq!(
            ask(&s, json!({"q": "", "limit": 3})),
            [
                "machine learning algorithms",
                "artificial intelligence",
                "machine learning basics"
            ]
        );
        // A prefix: the matching queries, the popular first among equals.
        assert_eq!(
            ask(&s, json!({"q": "mach", "limit": 2})),
            ["machine learning algorithms", "machine learning basics"]
        );
        // A typo within two edits of a word's prefix, for a word of three letters or more.
        assert_eq!(
            ask(&s, json!({"q": "artifical"})),
            ["artificial intelligence"]
        );
        assert!(ask(&s, json!({"q": "artifical", "fuzzyEditDistance": 0})).is_empty());
        // Short words match by exact prefix only.
        assert!(ask(&s, json!({"q": "dx"})).is_empty());
        // Any word by default, all of them with matchAllTokens.
        assert_eq!(ask(&s, json!({"q": "deep basics"})).len(), 2);
        assert!(ask(&s, json!({"q": "deep basics", "matchAllTokens": true})).is_empty());
    }

    #[test]
    fn bodies_are_checked_as_marqos_models() {
        // pydantic 2's items (the routes' cases are in it::typeahead, both ways).
        let items = |r: CellResult<Vec<QueryRecord>>| match r {
            Err(CellError::Validation(items)) => items,
            other => panic!("{:?}", other.map(|v| v.len())),
        };
        let it = items(index_request(
            &json!({"queries": [{"query": "  "}, {"query": "a", "x": 1}]}),
            128,
            0,
        ));
        assert_eq!(it[0]["type"], "value_error");
        assert_eq!(it[0]["msg"], "Value error, query is required");
        assert_eq!(it[1]["loc"], json!(["body", "queries", 1, "x"]));
        assert_eq!(it[1]["type"], "extra_forbidden");
        match suggest_request(&json!({"q": "x", "limit": -1})) {
            Err(CellError::Validation(it)) => {
                assert_eq!(
                    (&it[0]["type"], &it[0]["ctx"]),
                    (&json!("greater_than_equal"), &json!({"ge": 0}))
                )
            }
            other => panic!("{:?}", other.map(|r| r.limit)),
        }
        let ok = index_request(&json!({"queries": [{"query": " abc "}]}), 128, 7).unwrap();
        assert_eq!(
            (
                ok[0].query.as_str(),
                ok[0].popularity,
                ok[0].last_updated_at
            ),
            ("abc", 0.0, 7)
        );
    }

    #[test]
    fn prefix_distance_is_the_best_prefix() {
        assert_eq!(prefix_distance("mach", "machine"), Some(0));
        assert_eq!(prefix_distance("mahc", "machine"), Some(1)); // "mac"
        assert_eq!(prefix_distance("artifical", "artificial"), Some(1));
    }
}
