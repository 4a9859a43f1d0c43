//! Integration tests for the webhook router: the real binary over real HTTP against real
//! targets, and the local pipe against a real moto.

mod pipe;
mod support;
mod webhook;
