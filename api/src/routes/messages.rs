//! `/v1/messages`: messages the tenant's agents took for people at the business, and their
//! status (`new` → `read` → `handled`).

use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use domain::{
    MessageStatus,
    message::{DeliveryStatus, MessageDeliveryInput},
};
use serde::{Deserialize, Serialize};
use store::{DeliveryRecord, MessageRecord};
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
    errors::WorkflowStartError,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use workflows::MessageDeliveryWorkflow;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", get(list_messages))
        .route("/v1/messages/{id}", get(get_message).patch(update_message))
        .route("/v1/messages/{id}/deliver", post(deliver_message))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListMessagesQuery {
    /// How many, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
    /// Only messages with this status: `new`, `read` or `handled`.
    pub status: Option<String>,
}

/// The message's new status.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MessagePatch {
    /// `new`, `read` or `handled`.
    pub status: String,
}

/// `text` as a message status, or a problem naming `status`.
fn status(text: &str) -> Result<MessageStatus, ApiError> {
    MessageStatus::parse(text).ok_or_else(|| {
        let all = MessageStatus::spellings().join(", ");
        ApiError::invalid("status", format!("must be one of: {all}"))
    })
}

fn message_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("message"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    /// The call the message was taken on.
    pub call_sid: Option<String>,
    /// The person or department it is for.
    pub for_whom: Option<String>,
    pub caller_name: String,
    /// Digits as the caller gave them.
    pub callback_number: Option<String>,
    pub body: String,
    /// `new`, `read` or `handled`.
    pub status: String,
    /// Who it is for, as the directory had them when the message was taken.
    pub recipient: Option<RecipientView>,
    /// Each delivery channel's state.
    pub deliveries: Vec<DeliveryView>,
    /// The channels it was delivered on.
    pub delivered_via: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    /// `employee` or `department`.
    pub kind: String,
    pub id: Option<Uuid>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One channel's delivery of the message.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `sms`, `email` or `webhook`.
    pub channel: String,
    /// `pending`, `sending`, `delivered`, `failed` or `skipped`.
    pub status: String,
    pub attempts: u32,
    /// Why it was skipped, or why the last attempt failed.
    pub detail: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            channel: d.channel.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            detail: d.last_error.clone(),
            delivered_at: d.delivered_at,
        }
    }
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        Self {
            id: m.id,
            call_sid: m.call_sid.map(|sid| sid.to_string()),
            for_whom: m.for_whom,
            caller_name: m.caller_name,
            callback_number: m.callback_number,
            body: m.body,
            status: m.status.as_str().to_owned(),
            recipient: m.recipient.map(|r| RecipientView {
                kind: r.kind,
                id: r.id,
                name: r.name,
                phone: r.phone,
                email: r.email,
            }),
            delivered_via: m
                .deliveries
                .iter()
                .filter(|d| d.status == DeliveryStatus::Delivered)
                .map(|d| d.channel.as_str().to_owned())
                .collect(),
            deliveries: m.deliveries.iter().map(DeliveryView::from).collect(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// The messages the tenant's agents took, newest first, of one status if asked.
#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(ListMessagesQuery),
    security(("bearer" = ["messages:read"])),
    responses((status = 200, body = MessageList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_messages(
    State(state): State<AppState>,
    auth: Authorized<perm::MessagesRead>,
    Query(query): Query<ListMessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let status = query.status.as_deref().map(status).transpose()?;
    let page = state
        .store
        .list_messages_page(auth.tenant, status, limit, before)
        .await?;
    Ok(Json(MessageList {
        data: page.items.into_iter().map(MessageView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One message.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = Uuid, Path, description = "Message id")),
    security(("bearer" = ["messages:read"])),
    responses((status = 200, body = MessageView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_message(
    State(state): State<AppState>,
    auth: Authorized<perm::MessagesRead>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let message = state.store.message(auth.tenant, message_id(&id)?).await?;
    Ok(Json(message.into()))
}

/// Mark a message `new`, `read` or `handled`.
#[utoipa::path(patch, path = "/v1/messages/{id}", tag = "messages", request_body = MessagePatch,
    params(("id" = Uuid, Path, description = "Message id")),
    security(("bearer" = ["messages:write"])),
    responses((status = 200, body = MessageView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn update_message(
    State(state): State<AppState>,
    auth: Authorized<perm::MessagesWrite>,
    Path(id): Path<String>,
    patch: Result<Json<MessagePatch>, JsonRejection>,
) -> Result<Json<MessageView>, ApiError> {
    let id = message_id(&id)?;
    let Json(patch) = patch.map_err(|e| ApiError::invalid("body", e.body_text()))?;
    let new_status = status(&patch.status)?;
    let (before, after) = state
        .store
        .set_message_status(auth.tenant, id, new_status)
        .await?;
    let change = Change {
        action: "message.update",
        resource_type: "message",
        resource_id: Some(id.to_string()),
        before: Some(serde_json::json!({"status": before.status})),
        after: Some(serde_json::json!({"status": after.status})),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Deliver a message to its recipient (SMS, email, the tenant's webhook), or retry the
/// channels not delivered yet: starts the message's delivery workflow (`message-{id}`); a run
/// in progress is left alone. Channels already delivered are not delivered again.
#[utoipa::path(post, path = "/v1/messages/{id}/deliver", tag = "messages",
    params(("id" = Uuid, Path, description = "Message id")),
    security(("bearer" = ["messages:write"])),
    responses((status = 202, description = "Delivery started, or already in progress"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn deliver_message(
    State(state): State<AppState>,
    auth: Authorized<perm::MessagesWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let message = state.store.message(auth.tenant, message_id(&id)?).await?;
    let input = MessageDeliveryInput {
        tenant_id: auth.tenant,
        message_id: message.id,
    };
    // A closed run may be followed by a new one: it re-plans and skips delivered channels.
    let options = WorkflowStartOptions::new(state.config.task_queue.clone(), input.workflow_id())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .static_summary(format!("Deliver message {}", message.id))
        .build();
    let started = match state
        .temporal
        .start_workflow(MessageDeliveryWorkflow::run, input, options)
        .await
    {
        Ok(_) => true,
        Err(WorkflowStartError::AlreadyStarted { .. }) => false,
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("starting the message delivery workflow"),
            ));
        }
    };
    let change = Change {
        action: "message.deliver",
        resource_type: "message",
        resource_id: Some(message.id.to_string()),
        before: None,
        after: Some(serde_json::json!({"started": started})),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::ACCEPTED)
}
