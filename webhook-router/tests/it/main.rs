//! Integration tests for the webhook router: the real binary over real HTTP against real
//! targets, the local pipe against a real moto, and AWS mode against moto.

mod aws_mode;
mod pipe;
mod support;
mod webhook;
