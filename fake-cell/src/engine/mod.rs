//! The search engine: plain Rust with no HTTP types, depending only on [`crate::error`].
//! Arrows point down: [`search`] reads [`store`] (wrapped with its caches in
//! [`search::index_data`]); [`store`] uses [`embed`], [`linguistics`] and [`settings`] only.
//!
//! - [`settings`]: index settings (create-body validation, defaults, the derived [`settings::Settings`]);
//! - [`model`]: pydantic-style request model checks (unknown keys, types) with Marqo's 422 items;
//! - [`model_auth`]: the `modelAuth` object every body that takes one checks as Marqo does;
//! - [`python`]: JSON values printed as Marqo's Python prints them, for messages that quote a body;
//! - [`embed`]: tokenising, chunking and feature-hashed embeddings;
//! - [`linguistics`]: the terms lexical search indexes and looks up (Vespa's lower-casing, accent
//!   removal and stemming);
//! - [`store`]: one index's documents with their inverted indexes (storage);
//! - [`ann`]: the HNSW graph over tensor chunks for approximate search (kept by [`store`]);
//! - [`bodies`]: the add / update / recommend / embed body models (unknown keys, types);
//! - [`unions`]: the `Union[...]` fields of those bodies, tried member by member as pydantic does;
//! - [`documents`]: document validation for add / update and the JSON shape of a stored document;
//! - [`search`]: request parsing, LEXICAL / TENSOR / HYBRID retrieval, filters, top-k, answers.

pub mod ann;
pub mod bodies;
pub mod documents;
pub mod embed;
pub mod field_values;
pub mod linguistics;
pub mod model;
pub mod model_auth;
pub mod python;
pub mod search;
pub mod settings;
pub mod store;
pub mod typeahead;
pub mod unions;
