//! Calling a team's local Lambda processes, shared by the AWS gateway and (later) fake-cognito's
//! triggers. No HTTP server types here: only a client.
//!
//! - [`name`]: AWS's `FunctionName` rules (name, `NAME:QUALIFIER`, partial and full ARNs);
//! - [`table`]: the function table (`name → url, timeout`) and name resolution against it;
//! - [`invoke`]: one invocation over the Runtime Interface Emulator's path, classified the way
//!   AWS reports it (success, handler error, timeout, crash, process down);
//! - [`error`]: the crate's error enum.

pub mod error;
pub mod invoke;
pub mod name;
pub mod table;

pub use error::LambdaError;
pub use invoke::{INVOKE_PATH, InvokeOutcome, Invoker};
pub use name::FunctionRef;
pub use table::{
    DEFAULT_ACCOUNT, DEFAULT_REGION, DEFAULT_TIMEOUT, FunctionTable, LambdaTarget, Resolved,
};
