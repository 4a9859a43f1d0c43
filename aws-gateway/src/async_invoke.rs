//! `Event` invocations: accepted into a bounded in-memory queue (202 at once), run with a
//! bounded concurrency, retried twice with exponential backoff as AWS does (AWS waits about
//! 1 minute, then 2; here `--event-retry-base-ms`, then twice that), then handed to the
//! function's destinations and dead-letter queue as configured on moto (see [`crate::destinations`]).
//! Nothing survives a gateway restart: like an SQS queue in moto, the queue is in memory.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use lambda_invoke::{InvokeOutcome, LambdaTarget};
use tokio::sync::Semaphore;

use crate::AppState;
use crate::destinations;
use crate::error::GatewayError;
use crate::recent::{InvocationRecord, InvocationType};

/// One accepted `Event` invocation.
#[derive(Debug, Clone)]
pub struct EventJob {
    pub target: Arc<LambdaTarget>,
    pub qualifier: Option<String>,
    pub payload: Bytes,
    pub request_id: String,
}

pub struct EventQueue {
    /// One permit per job alive (queued, running or waiting to retry): the queue's bound.
    slots: Arc<Semaphore>,
    /// One permit per running invocation.
    running: Arc<Semaphore>,
    capacity: usize,
    retry_base: Duration,
}

impl EventQueue {
    pub fn new(capacity: usize, concurrency: usize, retry_base: Duration) -> EventQueue {
        let capacity = capacity.max(1);
        EventQueue {
            slots: Arc::new(Semaphore::new(capacity)),
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            capacity,
            retry_base,
        }
    }

    /// Accept `job` or answer 429 when the queue is full.
    pub fn enqueue(&self, state: &AppState, job: EventJob) -> Result<(), GatewayError> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| GatewayError::QueueFull(self.capacity))?;
        let state = state.clone();
        tokio::spawn(async move {
            run(&state, job).await;
            drop(slot);
        });
        Ok(())
    }

    /// Jobs queued, running or waiting to retry.
    pub fn depth(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The wait before retry `n` (1-based): base, then twice that.
    pub fn retry_delay(&self, n: u32) -> Duration {
        self.retry_base * 2u32.pow(n.saturating_sub(1).min(16))
    }
}

async fn run(state: &AppState, job: EventJob) {
    let config = destinations::async_config(state, &job).await;
    let mut attempt = 0u32;
    let outcome = loop {
        attempt += 1;
        let outcome = invoke_once(state, &job, attempt).await;
        if outcome.is_success() || attempt > config.max_retries {
            break outcome;
        }
        let delay = state.events().retry_delay(attempt);
        tracing::info!(
            function = %job.target.name,
            request_id = %job.request_id,
            attempt,
            delay_ms = delay.as_millis() as u64,
            error = outcome.error_summary().unwrap_or_default(),
            "Event invocation failed; retrying"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = state.shutdown().wait() => return,
        }
    };
    destinations::after_event(state, &job, &config, &outcome, attempt).await;
}

async fn invoke_once(state: &AppState, job: &EventJob, attempt: u32) -> InvokeOutcome {
    let Ok(_running) = state.events().running.clone().acquire_owned().await else {
        return InvokeOutcome::Unreachable {
            message: "the gateway is shutting down".into(),
        };
    };
    let started_at = SystemTime::now();
    let started = Instant::now();
    let faulted = crate::faults::internal_invoke(state, &job.target).await;
    let outcome = match faulted {
        Some(outcome) => outcome,
        None => {
            state
                .invoker()
                .invoke_with_id(
                    &job.target,
                    job.payload.clone(),
                    started + job.target.timeout,
                    &job.request_id,
                )
                .await
        }
    };
    state.recent().record(
        &job.target.name,
        InvocationRecord::new(
            &job.request_id,
            InvocationType::Event,
            started_at,
            started.elapsed(),
            &outcome,
            attempt,
        ),
    );
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let q = EventQueue::new(2, 1, Duration::from_millis(100));
        assert_eq!(q.retry_delay(1), Duration::from_millis(100));
        assert_eq!(q.retry_delay(2), Duration::from_millis(200));
        assert_eq!(q.depth(), 0);
    }
}
