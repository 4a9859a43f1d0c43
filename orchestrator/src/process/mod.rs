//! Everything that touches OS processes: preflight checks, spawning into process groups, signals.
//! Only the orchestrator spawns or signals processes (an architecture invariant).

pub mod preflight;
pub mod signal;
pub mod spawn;
