//! `EventDeliveryWorkflow`: delivers one event (`call.analyzed` …) to the tenant's webhook,
//! id `event-{event_id}`.
//!
//! The story: one activity POSTs the event's signed envelope and records the attempt on the
//! event's row. Temporal retries it on the schedule below while the webhook answers 5xx, 408 or
//! 429, times out or cannot be reached; a 4xx other than those settles the event `failed` at
//! once, and a tenant without a webhook settles it `skipped`. When the retries run out, the
//! event is recorded `failed`. The Temporal UI shows the attempt under way and the last
//! failure; the row shows every attempt's outcome to the tenant (`GET /v1/webhook-deliveries`).
//!
//! The first run is started with `RejectDuplicate`, so an event is delivered by one run
//! however often it is emitted; `POST /v1/webhook-deliveries/{id}/redeliver` starts a new run
//! after the last one closed. A run that finds its event delivered sends nothing.

use crate::activities::EventActivities;
use domain::events::{EventDeliveryInput, EventOutcome, EventStatus};
use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowContextView, WorkflowResult};

/// One attempt: the webhook has 8 s to answer (`activities::webhook::WEBHOOK_TIMEOUT`), plus
/// the database reads and writes around the request.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// The retry schedule: 1 s after the first failure, doubling up to every 10 minutes, 15
/// attempts in all. The waits add up to 1 + 2 + … + 512 s (about 17 minutes), then four of
/// 10 minutes: the endpoint gets about an hour to come back, as the message webhook does.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const BACKOFF_COEFFICIENT: f64 = 2.0;
const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(600);
const MAX_ATTEMPTS: u32 = 15;
/// Recording the failure is one database write, retried until it lands.
const RECORD_TIMEOUT: Duration = Duration::from_secs(30);

fn delivery_retry() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(FIRST_RETRY)
        .backoff_coefficient(BACKOFF_COEFFICIENT)
        .maximum_interval(MAX_RETRY_INTERVAL)
        .maximum_attempts(MAX_ATTEMPTS)
        .build()
}

#[workflow]
pub struct EventDeliveryWorkflow {
    input: EventDeliveryInput,
}

#[workflow_methods]
impl EventDeliveryWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: EventDeliveryInput) -> Self {
        Self { input }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<EventOutcome> {
        let input = ctx.state(|s| s.input);
        ctx.set_current_details("Delivering to the tenant's webhook");
        let delivered = ctx
            .execute_activity(
                EventActivities::deliver_event,
                input,
                ActivityOptions::with_start_to_close_timeout(ATTEMPT_TIMEOUT)
                    .summary("Deliver to the webhook".to_owned())
                    .retry_policy(delivery_retry())
                    .build(),
            )
            .await;
        let outcome = match delivered {
            Ok(outcome) => outcome,
            Err(_) => Self::give_up(ctx, input).await,
        };
        ctx.set_current_details(details(&outcome));
        Ok(outcome)
    }

    /// The retries ran out: the event is `failed`, with its last attempt's error.
    async fn give_up(ctx: &WorkflowContext<Self>, input: EventDeliveryInput) -> EventOutcome {
        let detail = format!("gave up after {MAX_ATTEMPTS} attempts");
        let recorded = ctx
            .execute_activity(
                EventActivities::record_event_failed,
                input,
                ActivityOptions::with_start_to_close_timeout(RECORD_TIMEOUT)
                    .summary("Record the delivery failed".to_owned())
                    .retry_policy(
                        RetryPolicy::builder()
                            .initial_interval(Duration::from_secs(1))
                            .maximum_interval(Duration::from_secs(60))
                            .build(),
                    )
                    .build(),
            )
            .await;
        if recorded.is_err() {
            ctx.set_current_details("Could not record the failure");
        }
        EventOutcome {
            status: EventStatus::Failed,
            detail: Some(detail),
        }
    }
}

/// "Done: delivered", "Done: failed (HTTP 410)".
fn details(outcome: &EventOutcome) -> String {
    match &outcome.detail {
        Some(detail) => format!("Done: {} ({detail})", outcome.status),
        None => format!("Done: {}", outcome.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_retries_span_about_an_hour() {
        let waits = (1..MAX_ATTEMPTS).map(|retry| {
            let backoff = FIRST_RETRY.as_secs_f64() * BACKOFF_COEFFICIENT.powi(retry as i32 - 1);
            Duration::from_secs_f64(backoff).min(MAX_RETRY_INTERVAL)
        });
        let total: Duration = waits.sum();
        assert!(total >= Duration::from_secs(50 * 60), "{total:?}");
        assert!(total <= Duration::from_secs(70 * 60), "{total:?}");
    }
}
