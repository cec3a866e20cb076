//! "Talk to this agent": a call from the browser, served like a phone call.
//!
//! `POST /v1/agents/{id}/talk` starts the call's `CallWorkflow` (`call-{CallSid}`, channel
//! `browser`, on the agent's number as if dialled) and opens its session, then hands back a
//! ticket: a link token for `GET /v1/talk/{ticket}`, the call's media WebSocket (a browser
//! cannot put a bearer header on a WebSocket). The socket speaks the
//! [browser framing](crate::browser_media) and runs the same bridge, engine, recording and
//! live transcript a phone call's Twilio stream does.
//!
//! The socket plays Twilio's part for this call: when it closes (the user hung up, the tab went
//! away) it reports the call `completed`, as Twilio's status callback would; when the workflow
//! ends the call (the agent's goodbye, the maximum duration) the call's session closes and the
//! socket is closed for it.

use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, jwt::LinkPurpose, perm},
    browser_media::{BrowserInbound, Outbound, outbound_frame},
    routes::{
        media::{bridge, prepare, socket_outbound},
        twilio::{forward_status, start_call_workflow},
    },
};
use axum::{
    Json, Router,
    extract::{
        Path, State,
        ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use domain::{
    AgentId, CallDirection, CallSid, CallStatus, CallerId, TenantId,
    workflow_io::{CallChannel, CallStatusChanged, CallWorkflowInput, SESSION_TTL_MARGIN_SECS},
};
use futures::{StreamExt, stream};
use serde::Serialize;
use std::{collections::BTreeMap, time::Duration};
use utoipa::ToSchema;
use uuid::Uuid;
use voice::bridge::{StreamStart, TransportEvent, await_start};

/// How long a ticket opens the socket.
const TICKET_SECS: i64 = 60;
/// How long the browser may take between opening the socket and `start`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an open socket checks that its call is still on.
const SESSION_POLL: Duration = Duration::from_millis(500);
/// The socket's read buffer, which tungstenite zeroes before every read (128 KiB by default):
/// a browser frame is at most 20 ms of 48 kHz PCM, 1,920 bytes.
const READ_BUFFER: usize = 8 * 1024;
/// The caller id a browser call shows: the console, not a phone.
pub const BROWSER_CALLER: &str = "browser";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agents/{id}/talk", post(start_talk))
        .route("/v1/talk/{ticket}", get(talk_socket))
}

/// A browser call, started: where its audio goes.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalkTicket {
    pub call_sid: String,
    /// The call's workflow in Temporal.
    pub workflow_id: String,
    pub history_url: String,
    /// Open a WebSocket here (same origin) within `expires_in_secs`; see the module docs of
    /// `browser_media` for the frames.
    pub socket_path: String,
    pub expires_in_secs: i64,
    /// The rate of the agent's audio on the socket (16-bit PCM, mono).
    pub agent_sample_rate: u32,
}

/// Talk to the agent from the browser: starts a call (a `CallWorkflow` on the agent's number,
/// from `browser`) and returns the ticket of its media socket.
#[utoipa::path(post, path = "/v1/agents/{id}/talk", tag = "agents",
    params(("id" = Uuid, Path, description = "Agent id")),
    security(("bearer" = ["calls:write"])),
    responses((status = 201, body = TalkTicket),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem),
              (status = 409, description = "The agent has no phone number or is archived", body = crate::error::Problem)))]
pub async fn start_talk(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TalkTicket>), ApiError> {
    let agent_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("agent"))?;
    let agent_id = AgentId::from(agent_id);
    let agent = state.store.agent(auth.tenant, agent_id).await?;
    if agent.archived_at.is_some() {
        return Err(ApiError::Conflict("the agent is archived".into()));
    }
    let number = agent_number(&state, auth.tenant, agent_id).await?;
    let id = Uuid::new_v4();
    let call_sid = CallSid::parse(&format!("CA{}", id.simple()))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a browser call's SID: {e}")))?;
    let input = CallWorkflowInput {
        call_sid: call_sid.clone(),
        tenant_id: auth.tenant,
        agent_id,
        agent_name: agent.name.clone(),
        direction: CallDirection::Inbound,
        from: CallerId::Other(BROWSER_CALLER.into()),
        to: number,
        max_duration_secs: agent.max_call_duration_secs,
        followup_sms: None,
        carried: None,
        campaign: None,
        channel: CallChannel::Browser,
        tools: agent.settings().tools,
    };
    start_call_workflow(&state, input, format!("Browser call → {}", agent.name)).await?;
    open_session(&state, &agent, &call_sid).await;
    let now = chrono::Utc::now().timestamp();
    let ticket =
        state
            .config
            .auth
            .jwt
            .sign_link(LinkPurpose::Talk, auth.tenant, id, TICKET_SECS, now);
    let change = audit::Change {
        action: "call.talk",
        resource_type: "call",
        resource_id: Some(call_sid.to_string()),
        before: None,
        after: Some(serde_json::json!({"agent_id": agent_id.to_string(), "channel": "browser"})),
    };
    audit::record(&state, &auth.principal, change).await?;
    tracing::info!(%call_sid, agent = %agent_id, "browser call started");
    Ok((
        StatusCode::CREATED,
        Json(TalkTicket {
            history_url: format!("{}{}", state.config.history_url, call_sid.workflow_id()),
            workflow_id: call_sid.workflow_id(),
            call_sid: call_sid.to_string(),
            socket_path: format!("/v1/talk/{ticket}"),
            expires_in_secs: TICKET_SECS,
            agent_sample_rate: 8000,
        }),
    ))
}

/// Opens the call's session now, so the socket finds it at once (the workflow's `open_session`
/// writes the same record). A failure is logged: the socket waits for the workflow's copy.
async fn open_session(state: &AppState, agent: &store::Agent, call_sid: &CallSid) {
    let session = sessions::CallSession {
        tenant_id: agent.tenant_id,
        call_sid: call_sid.clone(),
        agent_id: agent.id,
        workflow_id: call_sid.workflow_id(),
        campaign: None,
    };
    let ttl =
        Duration::from_secs(u64::from(agent.max_call_duration_secs) + SESSION_TTL_MARGIN_SECS);
    if let Err(e) = state.sessions.open(&session, ttl).await {
        tracing::warn!(error = %e, "could not open the browser call's session");
    }
}

/// The number a browser call is "dialled" on: the agent's first, oldest number.
async fn agent_number(
    state: &AppState,
    tenant: TenantId,
    agent: AgentId,
) -> Result<domain::E164, ApiError> {
    let numbers = state
        .store
        .list_phone_numbers(tenant, false, 200, None)
        .await?;
    numbers
        .items
        .into_iter()
        .rev()
        .find(|n| n.agent_id == Some(agent))
        .map(|n| n.e164)
        .ok_or_else(|| {
            ApiError::Conflict(
                "the agent has no phone number: assign one, then talk to it from the browser"
                    .into(),
            )
        })
}

/// The media WebSocket of a browser call; the ticket from `POST /v1/agents/{id}/talk` is the
/// credential.
#[utoipa::path(get, path = "/v1/talk/{ticket}", tag = "agents",
    params(("ticket" = String, Path, description = "The ticket `POST /v1/agents/{id}/talk` returned")),
    responses((status = 101, description = "Switching protocols"),
              (status = 404, description = "No such ticket, or it expired", body = crate::error::Problem)))]
pub async fn talk_socket(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some((tenant, id)) = state
        .config
        .auth
        .jwt
        .verify_link(LinkPurpose::Talk, &ticket)
    else {
        return ApiError::NotFound("call").into_response();
    };
    let Ok(call_sid) = CallSid::parse(&format!("CA{}", id.simple())) else {
        return ApiError::NotFound("call").into_response();
    };
    match ws {
        Ok(ws) => ws.read_buffer_size(READ_BUFFER).on_upgrade(move |socket| {
            let span = tracing::info_span!("browser_stream", %call_sid);
            tracing::Instrument::instrument(serve(state, socket, tenant, call_sid), span)
        }),
        Err(rejection) => rejection.into_response(),
    }
}

async fn serve(state: AppState, socket: WebSocket, tenant: TenantId, call_sid: CallSid) {
    let (sink, socket) = socket.split();
    let start = StreamStart {
        stream_sid: format!("BR{}", Uuid::new_v4().simple()),
        call_sid: call_sid.to_string(),
        custom_parameters: BTreeMap::from([
            ("callSid".to_owned(), call_sid.to_string()),
            ("tenantId".to_owned(), tenant.to_string()),
        ]),
    };
    let mut framing = BrowserInbound::new(start);
    let mut inbound = Box::pin(
        socket
            .map(move |message| match message {
                Ok(Message::Text(text)) => Some(framing.text(&text)),
                Ok(Message::Binary(bytes)) => Some(framing.audio(&bytes)),
                Ok(Message::Close(_)) | Err(_) => None,
                Ok(_) => Some(Vec::new()),
            })
            .take_while(|events| std::future::ready(events.is_some()))
            .flat_map(|events| stream::iter(events.unwrap_or_default()))
            .take_until(call_over(state.clone(), call_sid.clone())),
    );
    let start = match await_start(&mut inbound, START_TIMEOUT).await {
        Ok(start) => start,
        Err(e) => {
            tracing::warn!(error = %e, "browser stream ended before it started");
            return;
        }
    };
    let Some(prepared) = prepare(&state, &start).await else {
        return;
    };
    let started = std::time::Instant::now();
    let outbound = socket_outbound(sink, |command| match outbound_frame(command) {
        Outbound::Binary(bytes) => Message::Binary(bytes.into()),
        Outbound::Text(text) => Message::Text(text.into()),
    });
    bridge(
        &state,
        start,
        prepared,
        inbound.chain(stream::iter([TransportEvent::Stop])),
        outbound,
    )
    .await;
    // Twilio's part: the call is over when its stream is. (If the workflow ended it first,
    // it has its final status and this changes nothing.)
    let ended = CallStatusChanged {
        status: CallStatus::Completed,
        duration_secs: u32::try_from(started.elapsed().as_secs()).ok(),
    };
    if let Err(e) = forward_status(&state, &call_sid, ended).await {
        tracing::warn!(error = %e, "could not report the browser call's end");
    }
}

/// Resolves once the call's session is closed: the workflow ended the call.
async fn call_over(state: AppState, call_sid: CallSid) {
    loop {
        tokio::time::sleep(SESSION_POLL).await;
        if let Ok(None) = state.sessions.get(&call_sid).await {
            return;
        }
    }
}
