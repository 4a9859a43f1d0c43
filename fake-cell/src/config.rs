//! The one clap `Config` for the cell (also what `orchestrator serve fake-cell ...` passes through).

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{CellError, CellResult};

/// Command-line configuration.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "fake-cell",
    version,
    about = "Marqo-compatible cell: cloud control plane on :9001 and one HTTP server per index."
)]
pub struct Config {
    // `--bind` (main port and index servers) and `--port` (the control plane and single-URL
    // data plane).
    #[command(flatten)]
    pub listen: service_kit::cli::BindArgs<9001>,
    /// Where all state lives (snapshot; journal files sit beside it).
    #[arg(
        long,
        env = "FAKE_CELL_STATE_FILE",
        default_value = "/tmp/fake_cell_state.json"
    )]
    pub state_file: PathBuf,
    /// Port range for the per-index servers, `LOW-HIGH` inclusive.
    #[arg(long, default_value = "9100-9199")]
    pub index_ports: PortRange,
    /// Host written into each index's `marqoEndpoint`.
    #[arg(long, default_value = "127.0.0.1")]
    pub public_host: String,
    /// Accept every request without an API key; indexes then belong to the account `open`.
    #[arg(long)]
    pub open: bool,
    /// How long a new (or modified) index reports CREATING (MODIFYING) before READY.
    #[arg(long, default_value_t = 0)]
    pub creation_delay_ms: u64,
    /// Watchdog probe interval.
    #[arg(long, default_value_t = 5000)]
    pub watchdog_interval_ms: u64,
    /// Consecutive failed probe rounds before the watchdog saves state and exits with code 1.
    #[arg(long, default_value_t = 2)]
    pub watchdog_failures: u32,
    /// Do not start the watchdog thread.
    #[arg(long)]
    pub no_watchdog: bool,
    /// Most documents one index may hold; adds beyond it answer 400 `bad_request`.
    #[arg(long, default_value_t = 100_000)]
    pub max_docs_per_index: usize,
    /// Do not download media: every URL in an index that treats URLs as images is taken as an
    /// image without looking (for a machine without the network its URLs need). By default
    /// images are downloaded as Marqo downloads them, and one that cannot be is Marqo's error.
    #[arg(
        long,
        env = "FAKE_CELL_NO_MEDIA_DOWNLOADS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_media_downloads: bool,
    /// Marqo's switch for its batch routes (`/batch/indexes/{create,delete}`, `DELETE
    /// …/documents/delete-all`): off (403, as Marqo's default) unless `true` in any case.
    #[arg(long, env = "MARQO_ENABLE_BATCH_APIS", default_value = "FALSE")]
    pub enable_batch_apis: String,
    /// Marqo's request limits (its environment variables, same names and defaults).
    #[command(flatten)]
    pub limits: MarqoLimits,
    /// Worker threads of each index server's own runtime. 1 runs the index on its one thread
    /// (a current-thread runtime); the default 2 lets one busy index use both cores of a small
    /// machine, while every index still has its own runtime and threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub index_workers: u16,
    /// Journal bytes after which a new snapshot is written and old journal files are removed.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub compact_after_bytes: u64,
}

/// Marqo's request limits, read from Marqo's own environment variables (`api/configs.py`'s
/// defaults), so a team's Marqo settings carry over unchanged.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct MarqoLimits {
    /// Most hits a search asks for (`limit`).
    #[arg(
        long = "max-search-limit",
        env = "MARQO_MAX_SEARCH_LIMIT",
        default_value_t = MarqoLimits::SEARCH_LIMIT
    )]
    pub search_limit: u64,
    /// Largest search `offset`.
    #[arg(
        long = "max-search-offset",
        env = "MARQO_MAX_SEARCH_OFFSET",
        default_value_t = MarqoLimits::SEARCH_OFFSET
    )]
    pub search_offset: u64,
    /// Most of `limit + offset` in a search, and most ids one get-documents asks for.
    #[arg(
        long = "max-retrievable-docs",
        env = "MARQO_MAX_RETRIEVABLE_DOCS",
        default_value_t = MarqoLimits::RETRIEVABLE_DOCS
    )]
    pub retrievable_docs: u64,
    /// Largest document, as the length of its `json.dumps`.
    #[arg(
        long = "max-doc-bytes",
        env = "MARQO_MAX_DOC_BYTES",
        default_value_t = MarqoLimits::DOC_BYTES
    )]
    pub doc_bytes: usize,
    /// Most documents one add or update takes.
    #[arg(
        long = "max-documents-batch-size",
        env = "MARQO_MAX_DOCUMENTS_BATCH_SIZE",
        default_value_t = MarqoLimits::DOCUMENTS_BATCH
    )]
    pub documents_batch: usize,
    /// Most ids one delete-batch takes.
    #[arg(
        long = "max-delete-docs-count",
        env = "MARQO_MAX_DELETE_DOCS_COUNT",
        default_value_t = MarqoLimits::DELETE_DOCS
    )]
    pub delete_docs: usize,
    /// `efSearch` of a search that gives none (raised to `limit + offset`).
    #[arg(
        long = "default-ef-search",
        env = "MARQO_DEFAULT_EF_SEARCH",
        default_value_t = MarqoLimits::DEFAULT_EF_SEARCH
    )]
    pub default_ef_search: usize,
    /// Most `searchableAttributes` a TENSOR search names; when set, it must name some.
    #[arg(
        long = "max-searchable-tensor-attributes",
        env = "MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES"
    )]
    pub searchable_tensor_attributes: Option<usize>,
    /// Most string fields a semi-structured index takes.
    #[arg(
        long = "max-lexical-fields",
        env = "MARQO_MAX_LEXICAL_FIELD_COUNT_UNSTRUCTURED",
        default_value_t = MarqoLimits::LEXICAL_FIELDS
    )]
    pub lexical_fields: usize,
    /// Most vectorised fields a semi-structured index takes.
    #[arg(
        long = "max-tensor-fields",
        env = "MARQO_MAX_TENSOR_FIELD_COUNT_UNSTRUCTURED",
        default_value_t = MarqoLimits::TENSOR_FIELDS
    )]
    pub tensor_fields: usize,
    /// Most documents a search's `context.documents` names.
    #[arg(
        long = "max-search-context-docs",
        env = "MARQO_MAX_SEARCH_CONTEXT_DOCS",
        default_value_t = MarqoLimits::SEARCH_CONTEXT_DOCS
    )]
    pub search_context_docs: usize,
}

impl MarqoLimits {
    // Marqo's defaults (`api/configs.py`), which the flags default to.
    pub const SEARCH_LIMIT: u64 = 1000;
    pub const SEARCH_OFFSET: u64 = 10_000;
    pub const RETRIEVABLE_DOCS: u64 = 10_000;
    pub const DOC_BYTES: usize = 100_000;
    pub const DOCUMENTS_BATCH: usize = 128;
    pub const DELETE_DOCS: usize = 10_000;
    pub const DEFAULT_EF_SEARCH: usize = 2000;
    pub const LEXICAL_FIELDS: usize = 100;
    pub const TENSOR_FIELDS: usize = 100;
    pub const SEARCH_CONTEXT_DOCS: usize = 10;
}

impl Default for MarqoLimits {
    fn default() -> Self {
        MarqoLimits {
            search_limit: MarqoLimits::SEARCH_LIMIT,
            search_offset: MarqoLimits::SEARCH_OFFSET,
            retrievable_docs: MarqoLimits::RETRIEVABLE_DOCS,
            doc_bytes: MarqoLimits::DOC_BYTES,
            documents_batch: MarqoLimits::DOCUMENTS_BATCH,
            delete_docs: MarqoLimits::DELETE_DOCS,
            default_ef_search: MarqoLimits::DEFAULT_EF_SEARCH,
            lexical_fields: MarqoLimits::LEXICAL_FIELDS,
            tensor_fields: MarqoLimits::TENSOR_FIELDS,
            searchable_tensor_attributes: None,
            search_context_docs: MarqoLimits::SEARCH_CONTEXT_DOCS,
        }
    }
}

impl Config {
    /// Marqo's batch routes answer 403 unless this holds (`… .lower() != 'true'` in Marqo).
    pub fn check_batch_apis(&self) -> CellResult<()> {
        if self.enable_batch_apis.eq_ignore_ascii_case("true") {
            Ok(())
        } else {
            Err(CellError::Disabled("MARQO_ENABLE_BATCH_API"))
        }
    }
}

/// An inclusive port range given as `LOW-HIGH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    pub fn ports(&self) -> RangeInclusive<u16> {
        self.low..=self.high
    }
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("expected LOW-HIGH, got {s:?}"))?;
        let low: u16 = a.trim().parse().map_err(|e| format!("bad low port: {e}"))?;
        let high: u16 = b
            .trim()
            .parse()
            .map_err(|e| format!("bad high port: {e}"))?;
        if low == 0 || low > high {
            return Err(format!("empty or invalid port range {s:?}"));
        }
        Ok(PortRange { low, high })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn media_downloads_are_on_unless_the_flag_is_given() {
        // The environment variable (1/true/yes/on) goes through the same boolish parser; it is
        // not set here because tests share the process environment.
        let parse = |args: &[&str]| Config::try_parse_from([&["fake-cell"], args].concat());
        assert!(!parse(&[]).unwrap().no_media_downloads);
        assert!(parse(&["--no-media-downloads"]).unwrap().no_media_downloads);
    }
}
