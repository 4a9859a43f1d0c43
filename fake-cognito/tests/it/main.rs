//! Integration tests: the real `fake-cognito` binary over real HTTP, driven by the AWS SDK for
//! Rust's Cognito client (and reqwest for the non-AWS routes).

mod local;
mod support;

mod account;
mod attributes;
mod auth;
mod clock;
mod custom_attributes;
mod disk_full;
mod domains;
mod filter;
mod hosted_ui;
mod hosted_ui_steps;
mod hosted_ui_support;
mod hosted_ui_tokens;
mod identity_providers;
mod in_process;
mod lifecycle;
mod mfa;
mod oauth;
mod persistence;
mod recovery;
mod resource_servers;
mod rotation;
mod rotation_persist;
mod schema;
mod sdk_surface;
mod sign_out;
mod snapshot;
mod tokens;
mod triggers;
mod triggers_auth;
