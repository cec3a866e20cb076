//! Events to the tenant's webhook: [`emit_call_analyzed`], which the campaign's
//! `conclude_attempt` calls once a call's analysis is recorded, and the activities of
//! `EventDeliveryWorkflow`, which POST the signed event and record each attempt on its row.
//!
//! The API's ElevenLabs receiver emits the same event without this crate
//! (`api::routes::webhook_deliveries`): both build the event in `store` and name the workflow
//! from `domain::events`, so all that is repeated is the start call and its policies.

use crate::{
    call::store_failure,
    webhook::{WebhookError, post_signed},
};
use domain::{
    TenantId,
    events::{EventDeliveryInput, EventOutcome, EventStatus},
};
use std::sync::Arc;
use store::{EventAttempt, EventRecord, Store, StoreError};
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
    errors::WorkflowStartError,
};
use temporalio_common::{error::ApplicationFailure, search_attributes::SearchAttributes};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;
use workflows::{EventDeliveryWorkflow, activities::events as defs, search_attributes as sa};

/// Why an event is `skipped`.
pub const NO_WEBHOOK: &str = "no webhook is configured";

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the event's delivery: {0}")]
    Start(#[from] WorkflowStartError),
}

impl EmitError {
    /// Whether emitting again may succeed (the database or Temporal was unreachable), as
    /// opposed to a row that cannot make an event, which no retry mends.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(StoreError::Db(_)) | Self::Start(_))
    }
}

/// Records call `call_id`'s `call.analyzed` event (once per call: a second analysis finds the
/// first event) and starts its delivery (once per event: `RejectDuplicate`, and a run already
/// started or finished is success). Safe to repeat, as a retried activity does.
pub async fn emit_call_analyzed(
    store: &Store,
    temporal: &Client,
    task_queue: &str,
    tenant: TenantId,
    call_id: Uuid,
) -> Result<EventRecord, EmitError> {
    let (event, created) = store.call_analyzed_event(tenant, call_id).await?;
    let started = start_event_delivery(temporal, task_queue, &event).await?;
    tracing::info!(event_id = %event.id, tenant_id = %tenant, created, started, "call.analyzed emitted");
    Ok(event)
}

/// Starts `event-{id}` unless a run of it was ever started: `Ok(false)` then.
async fn start_event_delivery(
    temporal: &Client,
    task_queue: &str,
    event: &EventRecord,
) -> Result<bool, WorkflowStartError> {
    let input = EventDeliveryInput {
        tenant_id: event.tenant_id,
        event_id: event.id,
    };
    let options = WorkflowStartOptions::new(task_queue.to_owned(), input.workflow_id())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(event.tenant_id.to_string())
        ]))
        .static_summary(format!("Deliver {} {}", event.event_type, event.subject))
        .build();
    match temporal
        .start_workflow(EventDeliveryWorkflow::run, input, options)
        .await
    {
        Ok(_) => Ok(true),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}

#[derive(Debug)]
pub struct EventActivitiesImpl {
    store: Store,
    http: reqwest::Client,
}

impl EventActivitiesImpl {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            http: reqwest::Client::new(),
        }
    }
}

fn settled(row: &EventRecord) -> EventOutcome {
    EventOutcome {
        status: row.status,
        detail: row.last_error.clone(),
    }
}

/// What a POST's result says about the event.
fn attempt_of(sent: &Result<u16, WebhookError>) -> EventAttempt {
    match sent {
        Ok(status) => EventAttempt {
            status: EventStatus::Delivered,
            status_code: Some(*status),
            error: None,
        },
        Err(err) => EventAttempt {
            status: match err {
                WebhookError::Refused(_) => EventStatus::Failed,
                WebhookError::Retryable { .. } => EventStatus::Pending,
            },
            status_code: err.status(),
            error: Some(err.to_string()),
        },
    }
}

#[activities]
impl EventActivitiesImpl {
    /// One attempt. The body is the row's payload, byte for byte the same on every attempt,
    /// signed afresh; `Switchboard-Delivery` is the event's id. Should recording a delivered
    /// attempt fail, the retry sends it again with that id: receivers de-duplicate on it.
    #[activity(definition = defs::DeliverEvent)]
    pub async fn deliver_event(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: EventDeliveryInput,
    ) -> Result<EventOutcome, ActivityError> {
        let (tenant, id) = (input.tenant_id, input.event_id);
        let event = self.store.event(tenant, id).await.map_err(store_failure)?;
        if event.status == EventStatus::Delivered {
            return Ok(settled(&event));
        }
        let webhook = self
            .store
            .tenant_webhook(tenant)
            .await
            .map_err(store_failure)?;
        let Some(webhook) = webhook else {
            let row = self
                .store
                .settle_event(tenant, id, EventStatus::Skipped, Some(NO_WEBHOOK))
                .await
                .map_err(store_failure)?;
            return Ok(settled(&row));
        };
        let now = chrono::Utc::now().timestamp();
        let secret = webhook.secret.expose();
        let body = event.payload.into_bytes();
        let sent = post_signed(&self.http, &webhook.url, secret, &id.to_string(), body, now).await;
        let attempt = attempt_of(&sent);
        let row = self
            .store
            .record_event_attempt(tenant, id, &attempt)
            .await
            .map_err(store_failure)?;
        match sent {
            Ok(_) => Ok(settled(&row)),
            Err(err) => {
                let permanent = matches!(err, WebhookError::Refused(_));
                tracing::warn!(event_id = %id, tenant_id = %tenant, error = %err, permanent, "event delivery attempt failed");
                if permanent {
                    Ok(settled(&row))
                } else {
                    Err(ApplicationFailure::new(err).into())
                }
            }
        }
    }

    #[activity(definition = defs::RecordEventFailed)]
    pub async fn record_event_failed(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: EventDeliveryInput,
    ) -> Result<(), ActivityError> {
        self.store
            .settle_event(input.tenant_id, input.event_id, EventStatus::Failed, None)
            .await
            .map_err(store_failure)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_final_and_a_server_error_or_timeout_is_tried_again() {
        let refused = attempt_of(&Err(WebhookError::Refused(410)));
        assert_eq!(
            (refused.status, refused.status_code),
            (EventStatus::Failed, Some(410))
        );
        let server = attempt_of(&Err(WebhookError::Retryable {
            status: Some(503),
            reason: "HTTP 503".into(),
        }));
        assert_eq!(
            (server.status, server.status_code),
            (EventStatus::Pending, Some(503))
        );
        let timeout = attempt_of(&Err(WebhookError::Retryable {
            status: None,
            reason: "timeout".into(),
        }));
        assert_eq!(
            (timeout.status, timeout.status_code),
            (EventStatus::Pending, None)
        );
        assert_eq!(
            timeout.error.as_deref(),
            Some("the webhook failed: timeout")
        );
        let delivered = attempt_of(&Ok(204));
        assert_eq!(
            (delivered.status, delivered.status_code, delivered.error),
            (EventStatus::Delivered, Some(204), None)
        );
    }
}
