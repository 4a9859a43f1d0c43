//! Domains.
