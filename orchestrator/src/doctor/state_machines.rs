//! `[[state_machines]]`: each definition file exists, its `${...}` placeholders resolve (every
//! `${lambda:NAME}` is a `[[lambdas]]` entry) and it is a States Language document — the same
//! check the seed makes before creating the machine, so a broken file shows here first.

use super::{Check, Inputs};

const FIX: &str = "see TROUBLESHOOTING.md#state-machine-not-created";

pub fn check(i: &Inputs) -> Vec<Check> {
    let cfg = i.config();
    let lambdas: Vec<String> = cfg.lambdas.iter().map(|l| l.name.clone()).collect();
    let ctx = seed::moto::asl::Context {
        region: &i.ctx.region,
        table_prefix: &i.ctx.table_prefix,
        lambdas: &lambdas,
    };
    cfg.state_machines
        .iter()
        .map(|m| {
            let file = m.for_seed(&i.paths.project_root).definition;
            match seed::moto::asl::load(&file, &ctx) {
                Ok(_) => Check::ok(
                    "state_machines",
                    format!("{}: {} parses", m.name, m.definition.display()),
                ),
                Err(e) => Check::fail("state_machines", format!("{}: {e}", m.name), FIX),
            }
        })
        .collect()
}
