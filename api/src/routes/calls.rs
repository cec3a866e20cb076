//! `/v1/calls`: a tenant's calls, newest first.

use crate::{ApiError, AppState, auth::Tenant};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    routing::get,
};
use chrono::{DateTime, Utc};
use domain::CallSid;
use serde::{Deserialize, Serialize};
use store::CallRecord;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/calls", get(list_calls))
        .route("/v1/calls/{id}", get(get_call))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListCallsQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: Uuid,
    pub call_sid: String,
    pub agent_id: Option<Uuid>,
    pub direction: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub outcome: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u32>,
    /// Open this workflow in the Temporal UI to read the call's history.
    pub workflow_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptSegmentView {
    pub speaker: String,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub interrupted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    pub transcript: Vec<TranscriptSegmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallList {
    pub data: Vec<CallView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

impl From<CallRecord> for CallView {
    fn from(c: CallRecord) -> Self {
        Self {
            id: c.id,
            call_sid: c.call_sid,
            agent_id: c.agent_id.map(|a| a.as_uuid()),
            direction: c.direction,
            from: c.from_number,
            to: c.to_number,
            status: c.status,
            outcome: c.outcome,
            started_at: c.started_at,
            answered_at: c.answered_at,
            ended_at: c.ended_at,
            duration_secs: c.duration_secs,
            workflow_id: c.workflow_id,
        }
    }
}

/// List the caller's calls, newest first.
#[utoipa::path(get, path = "/v1/calls", tag = "calls", params(ListCallsQuery),
    security(("api_key" = [])),
    responses((status = 200, body = CallList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem)))]
pub async fn list_calls(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Query(query): Query<ListCallsQuery>,
) -> Result<Json<CallList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| {
            Uuid::parse_str(c)
                .map_err(|_| ApiError::invalid("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let page = state.store.list_calls(tenant, limit, cursor).await?;
    Ok(Json(CallList {
        data: page.calls.into_iter().map(CallView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One call with its transcript. `id` is the call's id or its Twilio call SID.
#[utoipa::path(get, path = "/v1/calls/{id}", tag = "calls",
    params(("id" = String, Path, description = "Call id (UUID) or Twilio call SID")),
    security(("api_key" = [])),
    responses((status = 200, body = CallDetail),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_call(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    let call = if let Ok(sid) = CallSid::parse(&id) {
        state.store.call_by_sid(tenant, &sid).await?
    } else if let Ok(uuid) = Uuid::parse_str(&id) {
        state.store.call(tenant, uuid).await?
    } else {
        return Err(ApiError::invalid(
            "id",
            "must be a call id (UUID) or a Twilio call SID",
        ));
    };
    let call = call.ok_or(ApiError::NotFound("call"))?;
    let transcript = state
        .store
        .transcript(tenant, call.id)
        .await?
        .into_iter()
        .map(|s| TranscriptSegmentView {
            speaker: s.speaker.as_str().to_owned(),
            text: s.text,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            interrupted: s.interrupted,
        })
        .collect();
    Ok(Json(CallDetail {
        call: call.into(),
        transcript,
    }))
}
