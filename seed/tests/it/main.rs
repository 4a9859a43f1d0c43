//! Integration tests of the seed against real services: moto as a child process, fake-cell and
//! fake-cognito in-process on 127.0.0.1:0.

mod determinism;
mod moto;
mod services;
mod support;
mod team;
