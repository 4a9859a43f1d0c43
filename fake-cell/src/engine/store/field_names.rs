//! The fields a semi-structured index has taken, and Marqo's limits on them
//! (`semi_structured_add_document_handler.py`): every string field a document brings becomes one
//! of the index's lexical fields and every vectorised field one of its tensor fields, at most
//! `MARQO_MAX_LEXICAL_FIELD_COUNT_UNSTRUCTURED` / `MARQO_MAX_TENSOR_FIELD_COUNT_UNSTRUCTURED`
//! (100 each). An add that would pass either limit fails whole with Marqo's `TooManyFieldsError`.
//! Marqo's schema only grows, so a name stays when its documents are deleted, and the names are
//! saved with the index's documents (snapshots) to outlive a restart.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::{Prepared, shown_value};
use crate::config::MarqoLimits;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldNames {
    #[serde(default)]
    lexical: BTreeSet<String>,
    #[serde(default)]
    tensor: BTreeSet<String>,
}

/// A document's string fields (a custom vector's `content` too), in its order.
fn lexical_names(p: &Prepared) -> impl Iterator<Item = &str> + '_ {
    p.rec
        .fields
        .iter()
        .filter(|(_, v)| shown_value(v).is_string())
        .map(|(k, _)| k.as_str())
}

fn remember(set: &mut BTreeSet<String>, names: impl Iterator<Item = impl AsRef<str>>) {
    for k in names {
        if !set.contains(k.as_ref()) {
            set.insert(k.as_ref().to_string());
        }
    }
}

impl FieldNames {
    pub fn is_empty(&self) -> bool {
        self.lexical.is_empty() && self.tensor.is_empty()
    }

    /// Take saved names (a snapshot's) into the index's.
    pub fn extend(&mut self, saved: FieldNames) {
        self.lexical.extend(saved.lexical);
        self.tensor.extend(saved.tensor);
    }

    /// Take a stored document's fields into the index's.
    pub fn record(&mut self, p: &Prepared) {
        remember(&mut self.lexical, lexical_names(p));
        remember(&mut self.tensor, p.tensor_field_names());
    }

    /// Whether `batch` brings fields the index has not taken yet (Marqo then updates the
    /// index's schema), or Marqo's message for the first field that would take the index past a
    /// limit. Marqo reads a batch's documents last to first, every document's string fields
    /// before any tensor field.
    pub fn check(
        &self,
        batch: &[Prepared],
        limits: &MarqoLimits,
        index: &str,
    ) -> Result<bool, String> {
        let docs = || batch.iter().rev();
        let lexical = docs().flat_map(lexical_names);
        let tensor = docs().flat_map(|p| p.tensor_field_names());
        let new_lexical = admit(
            &self.lexical,
            lexical,
            limits.lexical_fields,
            "lexical",
            index,
        )?;
        let new_tensor = admit(&self.tensor, tensor, limits.tensor_fields, "tensor", index)?;
        Ok(new_lexical + new_tensor > 0)
    }
}

/// How many of `names` are new to `taken` (each counted once), or Marqo's message for the first
/// that would take it past `limit`.
fn admit<'a>(
    taken: &BTreeSet<String>,
    names: impl Iterator<Item = &'a str>,
    limit: usize,
    kind: &str,
    index: &str,
) -> Result<usize, String> {
    let mut new: HashSet<&str> = HashSet::new();
    for name in names {
        if taken.contains(name) || new.contains(name) {
            continue;
        }
        let has = taken.len() + new.len();
        if has >= limit {
            return Err(too_many(index, has, name, kind, limit));
        }
        new.insert(name);
    }
    Ok(new.len())
}

fn too_many(index: &str, has: usize, field: &str, kind: &str, limit: usize) -> String {
    let var = kind.to_uppercase();
    format!(
        "Index {index} has {has} {kind} fields. Your request to add {field} as a {kind} field is \
         rejected since it exceeds the limit of {limit}. Please set a larger limit in \
         MARQO_MAX_{var}_FIELD_COUNT_UNSTRUCTURED environment variable."
    )
}
