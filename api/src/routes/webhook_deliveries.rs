//! `/v1/webhook-deliveries`: the delivery log of events sent to the tenant's webhook, and a
//! new delivery of one on request; and [`emit_call_analyzed`], the ElevenLabs receiver's way of
//! sending `call.analyzed`.
//!
//! Events go to the webhook of `/v1/tenant/webhook`, signed as its `message.taken` events are
//! (`Switchboard-Signature`), with `Switchboard-Delivery: {event id}` on every attempt. Each is
//! delivered by its `event-{id}` workflow (`workflows::event_delivery` has the retry schedule).
//!
//! Why the start is written here as well as in `activities::events`: the API does not depend
//! on the activities crate, and the workflows crate does no I/O. What must agree lives lower
//! and is shared — the event (built once, in `store::events`), its workflow id
//! (`domain::events`) and the workflow itself — so only the start call is repeated.

use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use domain::{
    TenantId,
    events::{EventDeliveryInput, EventStatus, EventType},
};
use serde::{Deserialize, Serialize};
use store::{EventFilter, EventRecord, StoreError};
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
    errors::WorkflowStartError,
};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use workflows::{EventDeliveryWorkflow, search_attributes as sa};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-deliveries", get(list_deliveries))
        .route("/v1/webhook-deliveries/{id}", get(get_delivery))
        .route("/v1/webhook-deliveries/{id}/redeliver", post(redeliver))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListDeliveriesQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
    /// Only events in this state: `pending`, `delivered`, `failed` or `skipped`.
    pub status: Option<String>,
    /// Only events of this type: `call.analyzed`.
    pub event_type: Option<String>,
}

/// One event and where its delivery stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The event's id: the body's `id` and every attempt's `Switchboard-Delivery`.
    pub id: Uuid,
    /// `call.analyzed`.
    pub event_type: String,
    /// What the event is about (`call.analyzed`: the call SID).
    pub subject: String,
    /// `pending`, `delivered`, `failed` or `skipped` (the tenant had no webhook).
    pub status: String,
    /// Attempts made, over every delivery of the event.
    pub attempts: u32,
    /// The HTTP status of the last attempt, if the webhook answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, or why the event was skipped.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The body POSTed, as JSON.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl From<EventRecord> for DeliveryView {
    fn from(e: EventRecord) -> Self {
        Self {
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            id: e.id,
            event_type: e.event_type.as_str().to_owned(),
            subject: e.subject,
            status: e.status.as_str().to_owned(),
            attempts: e.attempts,
            last_status_code: e.last_status_code,
            last_error: e.last_error,
            delivered_at: e.delivered_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

fn filter(query: &ListDeliveriesQuery) -> Result<EventFilter, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            EventStatus::parse(s).ok_or_else(|| {
                let all = EventStatus::spellings().join(", ");
                ApiError::invalid("status", format!("must be one of: {all}"))
            })
        })
        .transpose()?;
    let event_type = query
        .event_type
        .as_deref()
        .map(|t| {
            EventType::parse(t).ok_or_else(|| {
                let all = EventType::spellings().join(", ");
                ApiError::invalid("event_type", format!("must be one of: {all}"))
            })
        })
        .transpose()?;
    Ok(EventFilter { status, event_type })
}

fn event_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("event"))
}

/// The events sent (or to be sent) to the tenant's webhook, newest first.
#[utoipa::path(get, path = "/v1/webhook-deliveries", tag = "tenant",
    params(ListDeliveriesQuery),
    security(("bearer" = ["tenant:read"])),
    responses((status = 200, body = DeliveryList),
              (status = 400, description = "Invalid parameter", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantRead>,
    Query(query): Query<ListDeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let filter = filter(&query)?;
    let page = state
        .store
        .list_events(auth.tenant, filter, limit, before)
        .await?;
    Ok(Json(DeliveryList {
        data: page.items.into_iter().map(DeliveryView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One event and where its delivery stands.
#[utoipa::path(get, path = "/v1/webhook-deliveries/{id}", tag = "tenant",
    params(("id" = Uuid, Path, description = "Event id")),
    security(("bearer" = ["tenant:read"])),
    responses((status = 200, body = DeliveryView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_delivery(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantRead>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let event = state.store.event(auth.tenant, event_id(&id)?).await?;
    Ok(Json(event.into()))
}

/// Deliver an event again: a new run of its `event-{id}` workflow, with the full retry
/// schedule, to the webhook configured now (same id, same body). For an event that `failed`,
/// was `skipped`, or whose delivery never started; 409 while a delivery is under way and for
/// an event already delivered.
#[utoipa::path(post, path = "/v1/webhook-deliveries/{id}/redeliver", tag = "tenant",
    params(("id" = Uuid, Path, description = "Event id")),
    security(("bearer" = ["tenant:write"])),
    responses((status = 202, description = "Delivery started", body = DeliveryView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem),
              (status = 409, description = "Delivered already, or a delivery is under way",
               body = crate::error::Problem)))]
pub async fn redeliver(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let event = state.store.event(auth.tenant, event_id(&id)?).await?;
    if event.status == EventStatus::Delivered {
        return Err(ApiError::Conflict(
            "the event was delivered; its receiver has it".into(),
        ));
    }
    // A closed run may be followed by a new one; a running one is left alone.
    match start(&state, &event, WorkflowIdReusePolicy::AllowDuplicate).await {
        Ok(()) => {}
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            return Err(ApiError::Conflict(
                "a delivery of this event is under way".into(),
            ));
        }
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("starting the event delivery workflow"),
            ));
        }
    }
    let change = Change {
        action: "webhook_delivery.redeliver",
        resource_type: "webhook_delivery",
        resource_id: Some(event.id.to_string()),
        before: Some(serde_json::json!({"status": event.status, "attempts": event.attempts})),
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::ACCEPTED, Json(event.into())))
}

/// Starts `event-{id}` on the API's task queue under `reuse`.
async fn start(
    state: &AppState,
    event: &EventRecord,
    reuse: WorkflowIdReusePolicy,
) -> Result<(), WorkflowStartError> {
    let input = EventDeliveryInput {
        tenant_id: event.tenant_id,
        event_id: event.id,
    };
    let options = WorkflowStartOptions::new(state.config.task_queue.clone(), input.workflow_id())
        .id_reuse_policy(reuse)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(event.tenant_id.to_string())
        ]))
        .static_summary(format!("Deliver {} {}", event.event_type, event.subject))
        .build();
    state
        .temporal
        .start_workflow(EventDeliveryWorkflow::run, input, options)
        .await
        .map(|_| ())
}

/// Records call `call_id`'s `call.analyzed` event (once per call) and starts its delivery
/// (once per event: `RejectDuplicate`, and a run started before is success), as
/// `activities::events::emit_call_analyzed` does for the worker. Safe to repeat: the receiver
/// calls it for a redelivered conversation too, which mends a start that failed the first
/// time. An unreachable database or Temporal is an error (the sender retries); a call whose
/// row cannot make an event is logged, not refused.
pub async fn emit_call_analyzed(
    state: &AppState,
    tenant: TenantId,
    call_id: Uuid,
) -> Result<(), ApiError> {
    let event = match state.store.call_analyzed_event(tenant, call_id).await {
        Ok((event, _)) => event,
        Err(err @ StoreError::Db(_)) => return Err(err.into()),
        Err(err) => {
            tracing::error!(%call_id, error = %err, "no call.analyzed event for this call");
            return Ok(());
        }
    };
    match start(state, &event, WorkflowIdReusePolicy::RejectDuplicate).await {
        Ok(()) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(err) => Err(ApiError::Internal(
            anyhow::Error::new(err).context("starting the event delivery workflow"),
        )),
    }
}
