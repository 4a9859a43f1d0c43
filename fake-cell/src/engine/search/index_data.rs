//! `IndexData`: one index's [`Store`] plus the search caches that are valid for the store's
//! current version (BM25 impacts, ranked result pages). Reads and writes of the store go through
//! `Deref`, so a caller holding the index's data lock sees one value with both.

use std::ops::{Deref, DerefMut};

use super::cache::ResultCache;
use super::impacts::ImpactCache;
use crate::engine::store::Store;
use crate::engine::typeahead::Suggestions;

#[derive(Default)]
pub struct IndexData {
    store: Store,
    /// BM25 contributions per (field, term) for the current version (see `impacts.rs`).
    pub impacts: ImpactCache,
    /// Ranked pages of recent search requests for the current version (see `cache.rs`).
    pub results: ResultCache,
    /// The index's typeahead queries (`engine::typeahead`); a write to them bumps the version
    /// too, so a snapshot restore sees the index changed.
    pub suggestions: Suggestions,
}

impl Deref for IndexData {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for IndexData {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}
