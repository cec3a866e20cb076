//! `MessageDeliveryWorkflow`: delivers one taken message to its recipient, id
//! `message-{message_id}`.
//!
//! The story: plan which channels apply (SMS to the recipient's phone, email to their address
//! when SMTP is configured, the tenant's webhook); the others are recorded `skipped`. Then each
//! channel is delivered concurrently, retried with its own backoff and bound — the workflow
//! drives the retries so that the Temporal UI says which channel is retrying and how often.
//! A channel whose retries run out is recorded `failed`. The message's own status (`new` /
//! `read` / `handled`) stays the operator's.
//!
//! Running it again for the same message (a new run after the first closed) re-plans: a
//! channel delivered before is not delivered again.

use crate::activities::MessageActivities;
use domain::message::{
    ChannelOutcome, DeliveryChannel, DeliveryFailure, DeliveryStatus, MessageDeliveryInput,
    MessageDeliveryResult,
};
use std::{collections::BTreeMap, time::Duration};
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowContextView, WorkflowResult};

/// Planning reads the database only.
const PLAN_TIMEOUT: Duration = Duration::from_secs(30);

/// How one channel is retried: each attempt's time limit, the first backoff (doubling up to
/// `max_backoff`) and how many attempts before the channel is recorded `failed`.
struct ChannelRetry {
    attempt_timeout: Duration,
    first_backoff: Duration,
    max_backoff: Duration,
    max_attempts: u32,
}

/// SMS: Twilio answers within seconds; an outage of ~20 minutes is ridden out.
const SMS_RETRY: ChannelRetry = ChannelRetry {
    attempt_timeout: Duration::from_secs(30),
    first_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(300),
    max_attempts: 10,
};
/// Email: an SMTP transaction may be slow (greylisting answers 451 for minutes).
const EMAIL_RETRY: ChannelRetry = ChannelRetry {
    attempt_timeout: Duration::from_secs(60),
    first_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(600),
    max_attempts: 12,
};
/// Webhook: the tenant's endpoint gets 10 s per request and about an hour of retries
/// (1 + 2 + … + 512 s, then every 10 minutes).
const WEBHOOK_RETRY: ChannelRetry = ChannelRetry {
    attempt_timeout: Duration::from_secs(10),
    first_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(600),
    max_attempts: 15,
};

fn retry_of(channel: DeliveryChannel) -> &'static ChannelRetry {
    match channel {
        DeliveryChannel::Sms => &SMS_RETRY,
        DeliveryChannel::Email => &EMAIL_RETRY,
        DeliveryChannel::Webhook => &WEBHOOK_RETRY,
    }
}

impl ChannelRetry {
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        doubled.min(self.max_backoff)
    }
}

#[workflow]
pub struct MessageDeliveryWorkflow {
    input: MessageDeliveryInput,
    /// What each channel still in flight is doing, for `set_current_details`.
    pending: BTreeMap<DeliveryChannel, String>,
}

#[workflow_methods]
impl MessageDeliveryWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: MessageDeliveryInput) -> Self {
        Self {
            input,
            pending: BTreeMap::new(),
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<MessageDeliveryResult> {
        let input = ctx.state(|s| s.input.clone());
        ctx.set_current_details("Planning delivery");
        let plan = ctx
            .execute_activity(
                MessageActivities::plan_message_delivery,
                input.clone(),
                ActivityOptions::with_start_to_close_timeout(PLAN_TIMEOUT)
                    .summary("Plan delivery".to_owned())
                    .retry_policy(
                        RetryPolicy::builder()
                            .initial_interval(Duration::from_millis(500))
                            .maximum_interval(Duration::from_secs(30))
                            .build(),
                    )
                    .build(),
            )
            .await?;
        for channel in &plan.deliver {
            ctx.state_mut(|s| s.pending.insert(*channel, "sending".to_owned()));
        }
        Self::show_pending(ctx);
        let deliveries = plan
            .deliver
            .iter()
            .map(|channel| Self::deliver(ctx.clone(), *channel));
        let mut channels = plan.settled;
        channels.extend(temporalio_sdk::workflows::join_all(deliveries).await);
        channels.sort_by_key(|c| c.channel);
        ctx.set_current_details(summary(&channels));
        Ok(MessageDeliveryResult {
            message_id: input.message_id,
            channels,
        })
    }

    /// Delivers on one channel, retrying with its backoff until it settles or its attempts run
    /// out (then it is recorded `failed`).
    async fn deliver(ctx: WorkflowContext<Self>, channel: DeliveryChannel) -> ChannelOutcome {
        let input = ctx.state(|s| s.input.clone());
        let retry = retry_of(channel);
        let mut attempt = 1;
        let detail = loop {
            let options = ActivityOptions::with_start_to_close_timeout(retry.attempt_timeout)
                .summary(format!("Deliver by {channel}"))
                .retry_policy(RetryPolicy::builder().maximum_attempts(1).build())
                .build();
            let result = match channel {
                DeliveryChannel::Sms => {
                    ctx.execute_activity(MessageActivities::deliver_sms, input.clone(), options)
                        .await
                }
                DeliveryChannel::Email => {
                    ctx.execute_activity(MessageActivities::deliver_email, input.clone(), options)
                        .await
                }
                DeliveryChannel::Webhook => {
                    ctx.execute_activity(MessageActivities::deliver_webhook, input.clone(), options)
                        .await
                }
            };
            match result {
                Ok(outcome) => {
                    ctx.state_mut(|s| s.pending.remove(&channel));
                    Self::show_pending(&ctx);
                    return outcome;
                }
                Err(_) if attempt >= retry.max_attempts => {
                    break format!("gave up after {attempt} attempts");
                }
                Err(_) => {
                    attempt += 1;
                    ctx.state_mut(|s| {
                        s.pending
                            .insert(channel, format!("retrying (attempt {attempt})"))
                    });
                    Self::show_pending(&ctx);
                    ctx.timer(retry.backoff(attempt - 1)).await;
                }
            }
        };
        Self::record_failure(&ctx, channel, detail).await
    }

    async fn record_failure(
        ctx: &WorkflowContext<Self>,
        channel: DeliveryChannel,
        detail: String,
    ) -> ChannelOutcome {
        let input = ctx.state(|s| s.input.clone());
        let failure = DeliveryFailure {
            tenant_id: input.tenant_id,
            message_id: input.message_id,
            channel,
            detail: detail.clone(),
        };
        let recorded = ctx
            .execute_activity(
                MessageActivities::record_delivery_failed,
                failure,
                ActivityOptions::with_start_to_close_timeout(PLAN_TIMEOUT)
                    .summary(format!("Record {channel} failed"))
                    .build(),
            )
            .await;
        if recorded.is_err() {
            ctx.set_current_details(format!("{channel}: could not record the failure"));
        }
        ctx.state_mut(|s| s.pending.remove(&channel));
        Self::show_pending(ctx);
        ChannelOutcome {
            channel,
            status: DeliveryStatus::Failed,
            detail: Some(detail),
        }
    }

    /// "sms: sending; email: retrying (attempt 3)".
    fn show_pending(ctx: &WorkflowContext<Self>) {
        let details = ctx.state(|s| {
            s.pending
                .iter()
                .map(|(channel, what)| format!("{channel}: {what}"))
                .collect::<Vec<_>>()
                .join("; ")
        });
        if !details.is_empty() {
            ctx.set_current_details(details);
        }
    }
}

/// "Done: sms delivered, email skipped, webhook delivered".
fn summary(channels: &[ChannelOutcome]) -> String {
    let each: Vec<String> = channels
        .iter()
        .map(|c| format!("{} {}", c.channel, c.status))
        .collect();
    format!("Done: {}", each.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_retries_span_about_an_hour() {
        let total: Duration = (1..WEBHOOK_RETRY.max_attempts)
            .map(|a| WEBHOOK_RETRY.backoff(a))
            .sum();
        assert!(total >= Duration::from_secs(45 * 60), "{total:?}");
        assert!(total <= Duration::from_secs(75 * 60), "{total:?}");
    }
}
