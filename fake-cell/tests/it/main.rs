//! Integration tests for fake-cell: the real binary over real HTTP (process behaviour: kill -9,
//! restart, watchdog exit, disk errors), the router in-process where no process matters, and
//! property tests for the filter parser.

mod add_items;
mod ann;
mod api;
mod auth;
mod field_limits;
mod filter_props;
mod ids;
mod in_process;
mod internal_routes;
mod lifecycle;
mod marqo_api_tests;
mod marqo_limits;
mod media;
mod model_answers;
mod ranking_fidelity;
mod score_modifiers;
mod search_params;
mod settings_model;
mod snapshot;
mod strict;
mod support;
mod system_routes;
mod typeahead;
