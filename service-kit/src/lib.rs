//! The one small library every Hippodrome service shares.
//!
//! Layout:
//! - [`cli`]: `--bind`/`--port`, `HIPPODROME_RANDOM_SEED`, and the `cli_main` every service binary runs;
//! - [`serve`]: bind a listener with a clear "port in use" error, serve a router until shutdown;
//! - [`shutdown`]: SIGINT | SIGTERM as one future, and a cloneable token for background work;
//! - [`health`]: the `/healthz` contract (200 + JSON only once ready, 503 + JSON otherwise);
//! - [`error`]: the JSON error body used by every API;
//! - [`body`]: read a request body up to a limit, so that a too-large one still gets its 413;
//! - [`state_file`]: atomic whole-file writes (unique temp file, fsync, rename, fsync dir) and safe loads;
//! - [`journal`]: an append-only, group-committed write journal, so an acknowledged write survives `kill -9`;
//! - [`restore_gate`]: hold writes back (or 503 them) while a snapshot restore swaps the state;
//! - [`write_guard`]: refuse writes (reads go on) while the journal cannot be written, and recover;
//! - [`telemetry`]: tracing to stdout in a form the orchestrator can prefix per service;
//! - [`faults`]: fault rules (error, latency, drop, timeout; next N, every Nth, seeded
//!   probability), the layer applying them and the `/_fake/faults` API;
//! - [`memory`]: hand memory freed after a load burst back to the kernel (glibc keeps it otherwise);
//! - [`background`]: a catch-up thread lowers its own priority below request handling (beside
//!   `memory`, the other libc call: the services themselves forbid `unsafe`).
//!
//! Rule of thumb: if only one crate needs it, it lives in that crate, not here.

pub mod background;
pub mod body;
pub mod cli;
pub mod coalesce;
pub mod error;
pub mod faults;
pub mod health;
pub mod journal;
pub mod memory;
pub mod restore_gate;
pub mod serve;
pub mod shutdown;
pub mod state_file;
pub mod telemetry;
pub mod write_guard;

pub use error::json_error;
pub use health::{HealthState, health_router};
pub use serve::{BindError, bind_listener, serve};
pub use shutdown::{Shutdown, shutdown_signal};
