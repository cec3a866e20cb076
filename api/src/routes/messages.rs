//! `/v1/messages`: messages the tenant's agents took for people at the business.

use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::MessageRecord;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/messages", get(list_messages))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListMessagesQuery {
    /// How many, 1 to 100 (default 20).
    pub limit: Option<u64>,
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
    pub status: String,
    pub created_at: DateTime<Utc>,
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
            status: m.status,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageView>,
}

/// The most recent messages the tenant's agents took, newest first.
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
    let messages = state.store.list_messages(auth.tenant, limit).await?;
    Ok(Json(MessageList {
        data: messages.into_iter().map(MessageView::from).collect(),
    }))
}
