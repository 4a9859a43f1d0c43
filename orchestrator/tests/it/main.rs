//! Integration tests: the real `orchestrator` binary against real services and fixture scripts,
//! each stack in a temp project root at a free port offset.

mod doctor;
mod doctor_messages;
mod harness;
mod lifecycle;
mod signals;
mod skeleton;
