//! Integration tests for the AWS gateway: a real moto, the fixture Lambda process
//! (`fixtures/lambdas/fixture_lambda.py`), the gateway in process on a free port, driven with
//! the official AWS SDK for Rust. Each test skips when moto is not installed (fails under CI).

mod dead_letter;
mod event;
mod invoke;
mod proxy;
mod restore_gate;
mod sfn;
mod sqs;
mod support;
