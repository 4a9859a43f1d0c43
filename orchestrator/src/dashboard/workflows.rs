//! `GET /api/workflows` (recent executions across every state machine, newest first) and
//! `GET /api/workflows/executions/{execution_arn}` (one execution, its history and the states it
//! ran), read with the official Step Functions SDK from the stack's AWS endpoint, where moto's
//! engine runs them. `history.rs` shapes the events.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::aws::{sdk_error, unavailable};
use super::extract::{ApiPath, ApiQuery};
use super::history::{EventView, StateRun, current_state, rfc3339, state_runs};

/// Executions listed unless `?limit=` says otherwise, and the most it may say.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// State machines looked at (a stack declares a handful; this only bounds a runaway account).
const MAX_MACHINES: usize = 500;
/// History events kept for one execution (a long Map can have many thousands).
const MAX_EVENTS: usize = 2000;
/// SDK calls in flight at once for one page load.
const CONCURRENCY: usize = 4;

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

/// One execution in the list.
#[derive(Serialize)]
pub struct ExecutionSummary {
    pub state_machine: String,
    pub state_machine_arn: String,
    pub execution_arn: String,
    pub name: String,
    pub status: String,
    /// RFC 3339.
    pub start_date: String,
    pub stop_date: Option<String>,
    /// The state a RUNNING execution is in (its history's last `…StateEntered`).
    pub current_state: Option<String>,
    #[serde(skip)]
    start_ms: i64,
}

/// `GET /api/workflows`.
#[derive(Serialize)]
pub struct WorkflowsView {
    pub state_machines: usize,
    pub limit: usize,
    pub executions: Vec<ExecutionSummary>,
}

/// `GET /api/workflows/executions/{execution_arn}`.
#[derive(Serialize)]
pub struct ExecutionDetail {
    pub execution_arn: String,
    pub name: String,
    pub state_machine: String,
    pub state_machine_arn: String,
    pub status: String,
    pub start_date: String,
    pub stop_date: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The state a RUNNING execution is in (`null` once it has stopped).
    pub current_state: Option<String>,
    /// Each state run, in the order entered, with its input, output and failure.
    pub states: Vec<StateRun>,
    /// The history, oldest first.
    pub events: Vec<EventView>,
    /// More than `MAX_EVENTS` events: the newest ones are missing.
    pub truncated: bool,
}

/// The last `:`-separated part of an ARN (`…:stateMachine:NAME`, `…:execution:MACHINE:NAME`).
fn arn_tail(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// The machine's name inside an execution ARN (`arn:aws:states:R:A:execution:MACHINE:NAME`).
fn machine_of_execution(arn: &str) -> String {
    arn.split(':').nth(6).unwrap_or_default().to_owned()
}

/// `GET /api/workflows[?limit=N]`.
pub async fn list(State(st): State<AppState>, ApiQuery(q): ApiQuery<ListQuery>) -> Response {
    if let Some(r) = unavailable(&st) {
        return r;
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let sfn = st.aws.sfn().await;
    let machines = match machines(sfn).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    // Owned arguments: futures borrowing from an iterator's closure are not `Send` enough for axum.
    let calls: Vec<_> = machines
        .iter()
        .map(|(arn, name)| executions_of(sfn.clone(), arn.clone(), name.clone(), limit))
        .collect();
    let lists: Vec<Result<Vec<ExecutionSummary>, Response>> = futures::stream::iter(calls)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut executions = Vec::new();
    for l in lists {
        match l {
            Ok(v) => executions.extend(v),
            Err(r) => return r,
        }
    }
    executions.sort_by_key(|e| std::cmp::Reverse(e.start_ms));
    executions.truncate(limit);
    let calls: Vec<_> = executions
        .iter()
        .enumerate()
        .filter(|(_, e)| e.status == ExecutionStatus::Running.as_str())
        .map(|(i, e)| current_state_of(sfn.clone(), i, e.execution_arn.clone()))
        .collect();
    let running: Vec<(usize, Option<String>)> = futures::stream::iter(calls)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (i, state) in running {
        executions[i].current_state = state;
    }
    Json(WorkflowsView {
        state_machines: machines.len(),
        limit,
        executions,
    })
    .into_response()
}

/// Every state machine: (ARN, name).
async fn machines(sfn: &Client) -> Result<Vec<(String, String)>, Response> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_state_machines()
            .set_next_token(token)
            .max_results(100)
            .send()
            .await
            .map_err(|e| sdk_error("ListStateMachines", "not_found", &e))?;
        out.extend(
            page.state_machines
                .into_iter()
                .map(|m| (m.state_machine_arn, m.name)),
        );
        token = page.next_token;
        if token.is_none() || out.len() >= MAX_MACHINES {
            out.truncate(MAX_MACHINES);
            return Ok(out);
        }
    }
}

/// A machine's newest executions (one page: the list keeps only the newest `limit` overall).
async fn executions_of(
    sfn: Client,
    arn: String,
    machine: String,
    limit: usize,
) -> Result<Vec<ExecutionSummary>, Response> {
    let page = match sfn
        .list_executions()
        .state_machine_arn(arn)
        .max_results(limit as i32)
        .send()
        .await
    {
        Ok(p) => p,
        // Deleted between the two calls: it has no executions to show.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_state_machine_does_not_exist()) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(sdk_error("ListExecutions", "not_found", &e)),
    };
    Ok(page
        .executions
        .into_iter()
        .map(|e| summary(e, &machine))
        .collect())
}

fn summary(e: ExecutionListItem, machine: &str) -> ExecutionSummary {
    // moto leaves `name` out of ListExecutions; the SDK then fills in "".
    let name = if e.name.is_empty() {
        arn_tail(&e.execution_arn).to_owned()
    } else {
        e.name
    };
    ExecutionSummary {
        state_machine: machine.to_owned(),
        state_machine_arn: e.state_machine_arn,
        name,
        status: e.status.as_str().to_owned(),
        start_date: rfc3339(&e.start_date),
        stop_date: e.stop_date.as_ref().map(rfc3339),
        current_state: None,
        start_ms: e.start_date.to_millis().unwrap_or(0),
        execution_arn: e.execution_arn,
    }
}

/// The state running execution `i` is in; `None` when its history cannot be read (the list
/// still answers). Newest events first with a small page: AWS returns just those, moto all.
async fn current_state_of(sfn: Client, i: usize, arn: String) -> (usize, Option<String>) {
    let page = sfn
        .get_execution_history()
        .execution_arn(arn)
        .reverse_order(true)
        .max_results(25)
        .send()
        .await;
    let events: Vec<EventView> = match page {
        Ok(p) => p.events.iter().map(EventView::of).collect(),
        Err(_) => Vec::new(),
    };
    (i, current_state(&events))
}

/// `GET /api/workflows/executions/{execution_arn}`.
pub async fn detail(State(st): State<AppState>, ApiPath(arn): ApiPath<String>) -> Response {
    if let Some(r) = unavailable(&st) {
        return r;
    }
    let sfn = st.aws.sfn().await;
    let d = match sfn.describe_execution().execution_arn(&arn).send().await {
        Ok(d) => d,
        Err(e) => return sdk_error("DescribeExecution", "execution_not_found", &e),
    };
    let (events, truncated) = match history(sfn, &arn).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let name = d
        .name
        .unwrap_or_else(|| arn_tail(&d.execution_arn).to_owned());
    Json(ExecutionDetail {
        state_machine: machine_of_execution(&d.execution_arn),
        name,
        state_machine_arn: d.state_machine_arn,
        status: d.status.as_str().to_owned(),
        start_date: rfc3339(&d.start_date),
        stop_date: d.stop_date.as_ref().map(rfc3339),
        input: d.input,
        output: d.output,
        error: d.error,
        cause: d.cause,
        current_state: (d.status == ExecutionStatus::Running)
            .then(|| current_state(&events))
            .flatten(),
        states: state_runs(&events),
        events,
        truncated,
        execution_arn: d.execution_arn,
    })
    .into_response()
}

/// The whole history, oldest first, at most `MAX_EVENTS` events (and whether some were left).
async fn history(sfn: &Client, arn: &str) -> Result<(Vec<EventView>, bool), Response> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .map_err(|e| sdk_error("GetExecutionHistory", "execution_not_found", &e))?;
        events.extend(page.events.iter().map(EventView::of));
        token = page.next_token;
        if events.len() > MAX_EVENTS {
            events.sort_by_key(|e| e.id);
            events.truncate(MAX_EVENTS);
            return Ok((events, true));
        }
        if token.is_none() {
            events.sort_by_key(|e| e.id);
            return Ok((events, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_out_of_arns() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:order-flow:run-1";
        assert_eq!(arn_tail(arn), "run-1");
        assert_eq!(machine_of_execution(arn), "order-flow");
        assert_eq!(machine_of_execution("garbage"), "");
    }
}
