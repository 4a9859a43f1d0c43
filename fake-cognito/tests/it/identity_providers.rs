//! Identity providers.
