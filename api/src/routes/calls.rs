//! `/v1/calls`: a tenant's calls, newest first.

use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};
use chrono::{DateTime, Utc};
use domain::{AgentId, CallDirection, CallOutcome, CallSid, E164};
use serde::{Deserialize, Serialize};
use store::call_insights::percentile;
use store::{CallFilter, CallRecord};
use telephony::{
    TwilioError,
    rest::{CallInstructions, CreateCall},
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/calls", get(list_calls).post(place_call))
        .route("/v1/calls/{id}", get(get_call))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListCallsQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Calls started on or after this time (RFC 3339) or day (`2026-12-05`, UTC).
    pub from: Option<String>,
    /// Calls started before this time (RFC 3339), or on or before this day (`2026-12-05`).
    pub until: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// `completed`, `voicemail`, `no_answer` …
    pub outcome: Option<String>,
    pub agent_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    /// Digits of the caller's or called number (`0100`): 2 to 15 digits.
    pub number: Option<String>,
}

/// A day (`2026-12-05`) or an RFC 3339 time; `end_of_day`: a day means its end.
fn parse_time(field: &'static str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    super::instant(field, raw)
        .map_err(|_| ApiError::invalid(field, "must be a day (2026-12-05) or an RFC 3339 time"))
}

impl ListCallsQuery {
    fn filter(&self) -> Result<CallFilter, ApiError> {
        let digits = match self.number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let digits: String = raw
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '+'))
                    .collect();
                if !(2..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(ApiError::invalid("number", "must be 2 to 15 digits"));
                }
                Some(digits)
            }
        };
        Ok(CallFilter {
            from: self
                .from
                .as_deref()
                .map(|t| parse_time("from", t, false))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|t| parse_time("until", t, true))
                .transpose()?,
            direction: self
                .direction
                .as_deref()
                .map(|d| {
                    CallDirection::parse(d).ok_or_else(|| {
                        ApiError::invalid("direction", "must be inbound or outbound")
                    })
                })
                .transpose()?,
            outcome: self
                .outcome
                .as_deref()
                .map(|o| {
                    CallOutcome::parse(o)
                        .ok_or_else(|| ApiError::invalid("outcome", "is not a call outcome"))
                })
                .transpose()?,
            agent_id: self.agent_id.map(AgentId::from),
            campaign_id: self.campaign_id,
            number_digits: digits,
        })
    }
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
    /// Who answered an outbound call: `human`, `machine_end_beep` … (answering machine detection).
    pub answered_by: Option<String>,
    /// How the call's last warm transfer ended: `transferred`, `no_answer`, `busy`,
    /// `declined`, `message_requested`, `voicemail`, `caller_hung_up` or `failed`.
    pub transfer_result: Option<String>,
    /// Open this workflow in the Temporal UI to read the call's history.
    pub workflow_id: String,
    /// The campaign that placed the call.
    pub campaign_id: Option<Uuid>,
    /// The post-call analysis flagged the call and nobody has resolved it yet.
    pub needs_attention: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptSegmentView {
    pub speaker: String,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub interrupted: bool,
}

/// One warm transfer attempt of the call.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    /// Its workflow: `transfer-{CallSid}-{n}`.
    pub id: String,
    pub target_name: String,
    /// How far it got: `ringing`, `connected`, `declined`, `no_answer` …
    pub stage: String,
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    pub transcript: Vec<TranscriptSegmentView>,
    /// The post-call analysis (summary, outcome class, what the caller wanted …), once it ran.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<serde_json::Value>,
    pub transfers: Vec<TransferView>,
    /// The call's workflow history in the Temporal UI.
    pub history_url: String,
    /// The call's recording, when it was recorded.
    pub recording: Option<super::recordings::RecordingView>,
    /// The agent's tool calls, oldest first.
    pub tool_calls: Vec<ToolCallView>,
    /// How fast the agent answered, as our media bridge measured it; absent when no reply
    /// followed the caller's words.
    pub voice_to_voice: Option<LatencyView>,
}

/// One tool call of the agent, for the call's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolCallView {
    pub name: String,
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The model's arguments and the result it got, as JSON text (cut when long).
    pub arguments: String,
    pub result: String,
}

/// The warm transfers of `call`, oldest first.
async fn transfers_of(
    state: &AppState,
    tenant: domain::TenantId,
    call: &CallRecord,
) -> Result<Vec<TransferView>, ApiError> {
    Ok(state
        .store
        .call_transfers(tenant, call.call_sid.as_str())
        .await?
        .into_iter()
        .map(|t| TransferView {
            id: t.id,
            target_name: t.target_name,
            stage: t.stage,
            reason: t.reason,
            started_at: t.started_at,
            ended_at: t.ended_at,
        })
        .collect())
}

impl ToolCallView {
    fn of(t: &domain::workflow_io::ToolCallRecord, call: &CallRecord) -> Self {
        Self {
            name: t.name.clone(),
            at: DateTime::from_timestamp_millis(t.at_ms).unwrap_or(call.started_at),
            duration_ms: t.duration_ms,
            arguments: t.arguments.clone(),
            result: t.result.clone(),
        }
    }
}

/// Voice-to-voice latency of a call's replies: from the caller's last voiced audio to the
/// agent's first audio of the reply (ms).
#[derive(Debug, Serialize, ToSchema)]
pub struct LatencyView {
    pub p50_ms: u32,
    pub p90_ms: u32,
    pub max_ms: u32,
    pub replies: u32,
}

impl LatencyView {
    fn of(samples: &[u32]) -> Option<Self> {
        Some(Self {
            p50_ms: percentile(samples, 50)?,
            p90_ms: percentile(samples, 90)?,
            max_ms: samples.iter().copied().max()?,
            replies: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        })
    }
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
            call_sid: c.call_sid.to_string(),
            agent_id: c.agent_id.map(|a| a.as_uuid()),
            direction: c.direction.as_str().to_owned(),
            from: c.from_number.to_string(),
            to: c.to_number.to_string(),
            status: c.status.as_str().to_owned(),
            outcome: c.outcome.map(|o| o.as_str().to_owned()),
            started_at: c.started_at,
            answered_at: c.answered_at,
            ended_at: c.ended_at,
            duration_secs: c.duration_secs,
            answered_by: c.answered_by.map(String::from),
            transfer_result: c.transfer_result,
            workflow_id: c.workflow_id,
            campaign_id: c.campaign_id,
            needs_attention: c.needs_attention,
        }
    }
}

/// List the caller's calls, newest first.
#[utoipa::path(get, path = "/v1/calls", tag = "calls", params(ListCallsQuery),
    security(("bearer" = ["calls:read"])),
    responses((status = 200, body = CallList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_calls(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Query(query): Query<ListCallsQuery>,
) -> Result<Json<CallList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| {
            Uuid::parse_str(c)
                .map_err(|_| ApiError::invalid("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let filter = query.filter()?;
    let page = state
        .store
        .list_calls(auth.tenant, &filter, limit, cursor)
        .await?;
    Ok(Json(CallList {
        data: page.calls.into_iter().map(CallView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// An outbound call to place.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceCall {
    /// Who to call, E.164 (`+14155550100`).
    pub to: String,
    /// One of your numbers, E.164; its agent talks.
    pub from: String,
    /// Detect answering machines: a machine gets the agent's voicemail message
    /// (`voicemail_message` setting) after the beep, and the call's outcome is `voicemail`.
    #[serde(default)]
    pub machine_detection: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedCall {
    pub call_sid: String,
    /// Twilio's status when the call was created (`queued`).
    pub status: String,
    /// The call's workflow in Temporal.
    pub workflow_id: String,
}

/// Place an outbound call from one of your numbers; its `CallWorkflow` starts at once and
/// follows the call through Twilio's status callbacks.
#[utoipa::path(post, path = "/v1/calls", tag = "calls",
    security(("bearer" = ["calls:write"])),
    request_body = PlaceCall,
    responses((status = 201, body = PlacedCall),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 502, description = "Twilio refused the call", body = crate::error::Problem)))]
pub async fn place_call(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsWrite>,
    body: Result<Json<PlaceCall>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<PlacedCall>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::invalid("body", e.body_text()))?;
    let to = E164::parse(&body.to).map_err(|e| ApiError::invalid("to", e.to_string()))?;
    let from = E164::parse(&body.from).map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let route = state
        .store
        .route_inbound_number(&from)
        .await?
        .filter(|route| route.tenant_id == auth.tenant)
        .ok_or_else(|| ApiError::invalid("from", "is not one of your numbers"))?;
    let created = state
        .twilio
        .create_call(&CreateCall {
            to: to.to_string(),
            from: from.to_string(),
            instructions: CallInstructions::Url(state.config.public_url_for("/twilio/voice")),
            status_callback: Some(state.config.public_url_for("/twilio/status")),
            status_callback_events: ["initiated", "ringing", "answered", "completed"]
                .map(str::to_owned)
                .to_vec(),
            machine_detection: body
                .machine_detection
                .then(|| "DetectMessageEnd".to_owned()),
            timeout_secs: Some(30),
        })
        .await
        .map_err(|e| match e {
            TwilioError::Api {
                code: 21211 | 21214 | 21215 | 21216 | 21217,
                message,
                ..
            } => ApiError::invalid("to", message),
            other => ApiError::Upstream {
                service: "Twilio",
                detail: other.to_string(),
            },
        })?;
    let call_sid = CallSid::parse(&created.sid).map_err(|e| ApiError::Upstream {
        service: "Twilio",
        detail: format!("unexpected call SID: {e}"),
    })?;
    let input =
        crate::routes::twilio::call_input(&route, call_sid.clone(), true, from.into(), to.clone());
    let summary = format!("Outbound {} → {}", route.tenant_name, to.masked());
    crate::routes::twilio::start_call_workflow(&state, input, summary).await?;
    tracing::info!(%call_sid, to = %to.masked(), "outbound call placed");
    Ok((
        axum::http::StatusCode::CREATED,
        Json(PlacedCall {
            workflow_id: call_sid.workflow_id(),
            call_sid: call_sid.to_string(),
            status: created.status,
        }),
    ))
}

/// One call with its transcript. `id` is the call's id or its Twilio call SID.
#[utoipa::path(get, path = "/v1/calls/{id}", tag = "calls",
    params(("id" = String, Path, description = "Call id (UUID) or Twilio call SID")),
    security(("bearer" = ["calls:read"])),
    responses((status = 200, body = CallDetail),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_call(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    let call = if let Ok(sid) = CallSid::parse(&id) {
        state.store.call_by_sid(auth.tenant, &sid).await?
    } else if let Ok(uuid) = Uuid::parse_str(&id) {
        state.store.call(auth.tenant, uuid).await?
    } else {
        return Err(ApiError::invalid(
            "id",
            "must be a call id (UUID) or a Twilio call SID",
        ));
    };
    let call = call.ok_or(ApiError::NotFound("call"))?;
    let transcript = state
        .store
        .transcript(auth.tenant, call.id)
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
    let transfers = transfers_of(&state, auth.tenant, &call).await?;
    let analysis = call.analysis.clone();
    let tool_calls = call
        .tool_calls
        .iter()
        .map(|t| ToolCallView::of(t, &call))
        .collect();
    let voice_to_voice = LatencyView::of(&call.reply_latencies_ms);
    let recording = state
        .store
        .call_recording(auth.tenant, call.id)
        .await?
        .map(|r| super::recordings::RecordingView::new(&state, auth.tenant, call.id, &r));
    let history_url = format!("{}{}", state.config.history_url, call.workflow_id);
    Ok(Json(CallDetail {
        history_url,
        call: call.into(),
        transcript,
        analysis,
        transfers,
        recording,
        tool_calls,
        voice_to_voice,
    }))
}
