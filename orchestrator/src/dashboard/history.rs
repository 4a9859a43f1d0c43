//! An execution's history as the Workflows panel shows it: each event flattened to the few fields
//! a person reads (state, input, output, error, cause, resource), and the states it ran, with
//! each `…StateEntered` paired with its `…StateExited` and the failures that happened inside.
//! No I/O here: `workflows.rs` fetches, this shapes (and is unit-tested on plain values).

use std::collections::HashMap;

use aws_sdk_sfn::primitives::{DateTime, DateTimeFormat};
use aws_sdk_sfn::types::HistoryEvent;
use serde::Serialize;

/// One history event, flattened.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EventView {
    pub id: i64,
    pub previous_event_id: i64,
    /// RFC 3339.
    pub timestamp: String,
    /// AWS's event type, e.g. `TaskStateEntered`, `LambdaFunctionFailed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The state entered or exited (or the one an evaluation failed in).
    pub state: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// `lambda:invoke`, an activity or Lambda ARN… for task events.
    pub resource: Option<String>,
}

/// One run of a state: entered, maybe exited, maybe failed.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StateRun {
    pub name: String,
    /// `entered` (no exit yet), `exited`, or `failed` (an error and no exit).
    pub status: &'static str,
    pub entered_event_id: i64,
    pub exited_event_id: Option<i64>,
    pub entered_at: String,
    pub exited_at: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// The last failure inside this state (also when a Retry or Catch dealt with it).
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// RFC 3339 (`2026-01-01T10:00:00.123Z`); the raw seconds if a date is out of range.
pub fn rfc3339(t: &DateTime) -> String {
    t.fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

impl EventView {
    pub fn of(e: &HistoryEvent) -> EventView {
        let mut v = EventView {
            id: e.id,
            previous_event_id: e.previous_event_id,
            timestamp: rfc3339(&e.timestamp),
            kind: e.r#type.as_str().to_owned(),
            ..EventView::default()
        };
        v.read_io(e);
        v.read_failure(e);
        v
    }

    fn read_io(&mut self, e: &HistoryEvent) {
        if let Some(d) = &e.state_entered_event_details {
            self.state = Some(d.name.clone());
            self.input = d.input.clone();
        }
        if let Some(d) = &e.state_exited_event_details {
            self.state = Some(d.name.clone());
            self.output = d.output.clone();
        }
        if let Some(d) = &e.execution_started_event_details {
            self.input = d.input.clone();
        }
        if let Some(d) = &e.execution_succeeded_event_details {
            self.output = d.output.clone();
        }
        if let Some(d) = &e.task_scheduled_event_details {
            self.resource = Some(format!("{}:{}", d.resource_type, d.resource));
            self.input = Some(d.parameters.clone());
        }
        if let Some(d) = &e.task_succeeded_event_details {
            self.resource = Some(format!("{}:{}", d.resource_type, d.resource));
            self.output = d.output.clone();
        }
        if let Some(d) = &e.lambda_function_scheduled_event_details {
            self.resource = Some(d.resource.clone());
            self.input = d.input.clone();
        }
        if let Some(d) = &e.lambda_function_succeeded_event_details {
            self.output = d.output.clone();
        }
        if let Some(d) = &e.activity_succeeded_event_details {
            self.output = d.output.clone();
        }
    }

    /// Every kind of event that carries an error and a cause.
    fn read_failure(&mut self, e: &HistoryEvent) {
        let mut set = |error: &Option<String>, cause: &Option<String>| {
            self.error = error.clone();
            self.cause = cause.clone();
        };
        if let Some(d) = &e.execution_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.execution_aborted_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.execution_timed_out_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.task_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.task_start_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.task_submit_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.task_timed_out_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.lambda_function_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.lambda_function_schedule_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.lambda_function_start_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.lambda_function_timed_out_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.activity_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.activity_schedule_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.activity_timed_out_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.map_run_failed_event_details {
            set(&d.error, &d.cause);
        }
        if let Some(d) = &e.evaluation_failed_event_details {
            set(&d.error, &d.cause);
            self.state = Some(d.state.clone());
        }
    }

    fn entered(&self) -> bool {
        self.kind.ends_with("StateEntered")
    }

    fn exited(&self) -> bool {
        self.kind.ends_with("StateExited")
    }
}

/// The state entered last (the one a RUNNING execution is in): the `…StateEntered` event with
/// the highest id, whatever order the events came in.
pub fn current_state(events: &[EventView]) -> Option<String> {
    events
        .iter()
        .filter(|e| e.entered())
        .max_by_key(|e| e.id)
        .and_then(|e| e.state.clone())
}

/// The states the execution ran, in the order they were entered. An event belongs to the state
/// its `previous_event_id` chain leads back to; an exit whose chain is broken closes the latest
/// open run of a state with the same name. The execution's own failure (`ExecutionFailed`) is
/// not a state's: it only counts where it follows a state's events (a `Fail` state).
pub fn state_runs(events: &[EventView]) -> Vec<StateRun> {
    let mut ordered: Vec<&EventView> = events.iter().collect();
    ordered.sort_by_key(|e| e.id);
    let mut runs: Vec<StateRun> = Vec::new();
    // event id → index of the run it happened in
    let mut owner: HashMap<i64, usize> = HashMap::new();
    for e in ordered {
        if e.entered() {
            owner.insert(e.id, runs.len());
            runs.push(StateRun {
                name: e.state.clone().unwrap_or_default(),
                status: "entered",
                entered_event_id: e.id,
                exited_event_id: None,
                entered_at: e.timestamp.clone(),
                exited_at: None,
                input: e.input.clone(),
                output: None,
                error: None,
                cause: None,
            });
            continue;
        }
        let inherited = owner.get(&e.previous_event_id).copied();
        let run = if e.exited() {
            inherited
                .filter(|&i| {
                    runs[i].exited_event_id.is_none() && Some(&runs[i].name) == e.state.as_ref()
                })
                .or_else(|| {
                    runs.iter().rposition(|r| {
                        r.exited_event_id.is_none() && Some(&r.name) == e.state.as_ref()
                    })
                })
        } else {
            inherited.filter(|&i| runs[i].exited_event_id.is_none())
        };
        let Some(i) = run else { continue };
        owner.insert(e.id, i);
        let r = &mut runs[i];
        if e.exited() {
            r.exited_event_id = Some(e.id);
            r.exited_at = Some(e.timestamp.clone());
            r.output = e.output.clone();
            r.status = "exited";
        } else if e.error.is_some() || e.cause.is_some() {
            r.error = e.error.clone();
            r.cause = e.cause.clone();
            r.status = "failed";
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, prev: i64, kind: &str, state: Option<&str>) -> EventView {
        EventView {
            id,
            previous_event_id: prev,
            timestamp: format!("t{id}"),
            kind: kind.into(),
            state: state.map(str::to_owned),
            ..EventView::default()
        }
    }

    fn with(mut e: EventView, f: impl FnOnce(&mut EventView)) -> EventView {
        f(&mut e);
        e
    }

    #[test]
    fn entered_and_exited_pair_up_with_input_and_output() {
        let events = vec![
            ev(1, 0, "ExecutionStarted", None),
            with(ev(2, 0, "TaskStateEntered", Some("Call")), |e| {
                e.input = Some(r#"{"order":1}"#.into())
            }),
            ev(3, 2, "TaskScheduled", None),
            ev(4, 3, "TaskSucceeded", None),
            with(ev(5, 4, "TaskStateExited", Some("Call")), |e| {
                e.output = Some(r#"{"echo":1}"#.into())
            }),
            ev(6, 5, "WaitStateEntered", Some("Wait")),
        ];
        let runs = state_runs(&events);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].name, "Call");
        assert_eq!(runs[0].status, "exited");
        assert_eq!(runs[0].input.as_deref(), Some(r#"{"order":1}"#));
        assert_eq!(runs[0].output.as_deref(), Some(r#"{"echo":1}"#));
        assert_eq!(runs[0].exited_at.as_deref(), Some("t5"));
        assert_eq!((runs[1].name.as_str(), runs[1].status), ("Wait", "entered"));
        assert_eq!(current_state(&events).as_deref(), Some("Wait"));
    }

    #[test]
    fn a_failure_inside_a_state_is_shown_on_that_state() {
        let failed = |e: &mut EventView| {
            e.error = Some("ValueError".into());
            e.cause = Some("fixture was told to fail".into());
        };
        let events = vec![
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 0, "TaskStateEntered", Some("Explode")),
            ev(3, 2, "TaskScheduled", None),
            with(ev(4, 3, "TaskFailed", None), failed),
            with(ev(5, 4, "ExecutionFailed", None), failed),
        ];
        let runs = state_runs(&events);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, "failed");
        assert_eq!(runs[0].error.as_deref(), Some("ValueError"));
        assert_eq!(runs[0].cause.as_deref(), Some("fixture was told to fail"));
    }

    #[test]
    fn events_in_reverse_order_and_broken_chains_still_pair() {
        // Newest first (reverseOrder), and an exit whose previous id points nowhere known.
        let events = vec![
            ev(7, 99, "PassStateExited", Some("B")),
            ev(6, 5, "PassStateEntered", Some("B")),
            ev(5, 4, "PassStateExited", Some("A")),
            ev(2, 0, "PassStateEntered", Some("A")),
        ];
        let runs = state_runs(&events);
        assert_eq!(
            runs.iter()
                .map(|r| (r.name.as_str(), r.status, r.exited_event_id))
                .collect::<Vec<_>>(),
            [("A", "exited", Some(5)), ("B", "exited", Some(7))]
        );
        assert_eq!(current_state(&events).as_deref(), Some("B"));
        assert_eq!(current_state(&[]), None);
    }
}
