//! Integration tests: the real `orchestrator` binary against real services and fixture scripts,
//! each stack in a temp project root at a free port offset; AWS mode (`events`) also against a
//! real moto.

mod aws_gateway;
mod doctor;
mod doctor_messages;
mod events;
mod export;
mod harness;
mod hot_reload;
mod lifecycle;
mod seed_hooks;
mod signals;
mod skeleton;
