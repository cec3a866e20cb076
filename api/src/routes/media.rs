//! `GET /twilio/media`: Twilio's bidirectional Media Stream for a call.
//!
//! The upgrade must carry a valid `X-Twilio-Signature` over the `wss://` URL built from
//! `PUBLIC_URL` (never from the `Host` header); otherwise 403 and no WebSocket. After Twilio's
//! `start`, the stream is matched to its live call session (the `callSid` and `tenantId`
//! parameters we put in the TwiML must agree with the session), the agent's engine is started,
//! and the [bridge](voice::bridge) runs until the stream stops.

use crate::{
    AppState,
    control::{LiveTranscript, TemporalCallControl},
    recording::RecordingTarget,
    twilio_media,
    twilio_signed::TwilioSigned,
};
use axum::{
    Router,
    extract::{
        State,
        ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    response::{IntoResponse, Response},
    routing::get,
};
use domain::{
    CallSid, TenantId,
    conversation::{CAMPAIGN_GUIDANCE, agent_tool_specs, campaign_tool_specs},
};
use futures::{SinkExt, Stream, StreamExt, stream::SplitSink};
use std::{sync::Arc, time::Duration};
use voice::{
    bridge::{
        BridgeEnds, Outbound, StreamStart, TransportClosed, TransportCommand, TransportEvent,
        await_start, run_recorded_bridge,
    },
    engine::EngineCall,
    recording::{CallRecorder, RECORDING_DISCLOSURE},
};

/// How long Twilio may take between the upgrade and `start`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new().route("/twilio/media", get(media_stream))
}

#[utoipa::path(get, path = "/twilio/media", tag = "twilio",
    summary = "Twilio Media Streams WebSocket",
    description = "Bidirectional Media Stream of a call (`<Connect><Stream>`). Requires a valid `X-Twilio-Signature` over the wss URL.",
    responses((status = 101, description = "Switching protocols"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub(crate) async fn media_stream(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    _signed: TwilioSigned,
) -> Response {
    match ws {
        Ok(ws) => ws
            .read_buffer_size(telephony::media_stream::SOCKET_READ_BUFFER)
            .on_upgrade(move |socket| serve_stream(state, socket)),
        Err(rejection) => rejection.into_response(),
    }
}

async fn serve_stream(state: AppState, socket: WebSocket) {
    let (sink, stream) = socket.split();
    // Twilio speaks text frames; pings are answered by axum, binary frames are not Twilio's.
    let mut inbound = Box::pin(stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) => Some(Some(twilio_media::inbound_event(&text))),
            Ok(Message::Close(_)) | Err(_) => Some(None),
            Ok(_) => None,
        }
    }))
    .take_while(|m| std::future::ready(m.is_some()))
    .filter_map(std::future::ready);

    let start = match await_start(&mut inbound, START_TIMEOUT).await {
        Ok(start) => start,
        Err(e) => {
            tracing::warn!(error = %e, "media stream ended before it started");
            return;
        }
    };
    let call_sid = start.call_sid.clone();
    let span = tracing::info_span!("media_stream", %call_sid, stream_sid = %start.stream_sid);
    let _ = tracing::Instrument::instrument(
        async move {
            let Some(prepared) = prepare(&state, &start).await else {
                return;
            };
            let stream_sid = start.stream_sid.clone();
            let outbound = socket_outbound(sink, move |command| {
                Message::Text(twilio_media::outbound_frame(&stream_sid, command).into())
            });
            bridge(&state, start, prepared, inbound, outbound).await;
        },
        span,
    )
    .await;
}

/// Starts the agent's engine and bridges the stream to it until it ends; then saves the
/// recording, if the agent records. The bridge writes its commands to the socket through
/// `outbound`, and closes it.
pub(crate) async fn bridge<S>(
    state: &AppState,
    start: StreamStart,
    prepared: Prepared,
    inbound: S,
    outbound: Outbound,
) where
    S: Stream<Item = TransportEvent> + Unpin,
{
    let Prepared {
        control,
        call,
        engine: engine_name,
        record,
        tenant,
        call_sid,
    } = prepared;
    let Some(engine) = state.engines.get(&engine_name) else {
        tracing::error!(engine = %engine_name, available = ?state.engines.names(), "the agent's voice engine is not available");
        return;
    };
    let session = match engine.start(call).await {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(engine = %engine_name, error = %e, "could not start the voice engine");
            return;
        }
    };
    let stream_sid = start.stream_sid.clone();
    let recorder = record.as_ref().and_then(|_| {
        CallRecorder::new()
            .inspect_err(|e| tracing::error!(error = %e, "could not start the recording"))
            .ok()
    });
    state.metrics.active_streams.inc();
    let ends = BridgeEnds { inbound, outbound };
    let (report, recording) =
        run_recorded_bridge(start, session, Arc::new(control), ends, recorder).await;
    state.metrics.active_streams.dec();
    state.metrics.record_bridge(&report);
    if let Err(e) = state
        .store
        .record_reply_latencies(tenant, &call_sid, &report.reply_latencies_ms)
        .await
    {
        tracing::warn!(error = %e, "could not store the stream's reply latencies");
    }
    if let (Some(target), Some(recording)) = (record, recording) {
        crate::recording::save(state, &target, &stream_sid, recording).await;
    }
}

/// The socket as the bridge's [`Outbound`]: each command framed by `frame` (Twilio's JSON, or
/// the browser's frames) and written by the bridge's own task.
pub(crate) fn socket_outbound(
    sink: SplitSink<WebSocket, Message>,
    mut frame: impl FnMut(TransportCommand) -> Message + Send + 'static,
) -> Outbound {
    Box::pin(
        sink.with(move |command| std::future::ready(Ok::<_, axum::Error>(frame(command))))
            .sink_map_err(|_| TransportClosed),
    )
}

/// The call's live session, waiting briefly for it: the stream may arrive a moment before
/// the session is visible (e.g. a Redis replica).
async fn wait_for_session(state: &AppState, call_sid: &CallSid) -> Option<sessions::CallSession> {
    let deadline = tokio::time::Instant::now() + SESSION_WAIT;
    loop {
        match state.sessions.get(call_sid).await {
            Ok(Some(session)) => return Some(session),
            Ok(None) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(None) => {
                tracing::warn!("media stream for a call without a live session");
                return None;
            }
            Err(e) => {
                tracing::error!(error = %e, "session store unavailable");
                return None;
            }
        }
    }
}

/// The bridge's handle on the call's workflow, storing its live transcript as it goes.
fn control_for(
    state: &AppState,
    session: &sessions::CallSession,
    stream_sid: &str,
    call_sid: &CallSid,
) -> TemporalCallControl {
    TemporalCallControl::new(
        state.temporal.clone(),
        session.workflow_id.clone(),
        stream_sid.to_owned(),
        LiveTranscript {
            store: state.store.clone(),
            tenant: session.tenant_id,
            call_sid: call_sid.clone(),
        },
    )
}

/// How long a stream waits for its call's session to appear.
const SESSION_WAIT: Duration = Duration::from_secs(5);

/// What a stream that is ours needs to be bridged.
pub(crate) struct Prepared {
    control: TemporalCallControl,
    call: EngineCall,
    engine: String,
    /// Where the recording goes; `None` when the agent does not record.
    record: Option<RecordingTarget>,
    tenant: TenantId,
    call_sid: CallSid,
}

/// Matches the stream to its call session and agent. `None` (logged) when it is not ours.
pub(crate) async fn prepare(state: &AppState, start: &StreamStart) -> Option<Prepared> {
    let params = &start.custom_parameters;
    let Ok(call_sid) = CallSid::parse(&start.call_sid) else {
        tracing::warn!("media stream with a malformed callSid");
        return None;
    };
    if params.get("callSid").map(String::as_str) != Some(call_sid.as_str()) {
        tracing::warn!("media stream whose callSid parameter does not match its call");
        return None;
    }
    let session = wait_for_session(state, &call_sid).await?;
    let tenant_param = params.get("tenantId").and_then(|t| TenantId::parse(t).ok());
    if tenant_param != Some(session.tenant_id) {
        tracing::warn!("media stream whose tenantId parameter does not match the session");
        return None;
    }
    let agent = match state.store.agent(session.tenant_id, session.agent_id).await {
        Ok(agent) => agent,
        Err(e) => {
            tracing::error!(error = %e, "could not load the call's agent");
            return None;
        }
    };
    let control = control_for(state, &session, &start.stream_sid, &call_sid);
    let (instructions, tools) = instructions_and_tools(&session, &agent);
    let greeting = first_words(params.get("greeting"), &session, &agent);
    let call = EngineCall {
        call_sid: call_sid.to_string(),
        instructions,
        greeting,
        settings: agent.engine_settings.clone(),
        tools,
    };
    let record = agent.record_calls.then_some(RecordingTarget {
        tenant: session.tenant_id,
        call_sid: call_sid.clone(),
    });
    Some(Prepared {
        control,
        call,
        engine: agent.engine,
        record,
        tenant: session.tenant_id,
        call_sid,
    })
}

/// A campaign's call follows its script: the instructions gain the script's line and the tools
/// are the campaign's (the agent opens with the script's first words). Any other call has the
/// agent's instructions and the tools it offers.
fn instructions_and_tools(
    session: &sessions::CallSession,
    agent: &store::Agent,
) -> (String, Vec<domain::conversation::ToolSpec>) {
    match &session.campaign {
        Some(campaign) => (
            format!(
                "{}\n\n{}\n{}",
                agent.instructions.trim(),
                CAMPAIGN_GUIDANCE,
                campaign.instruction_line
            ),
            campaign_tool_specs(),
        ),
        None => (
            agent.instructions.clone(),
            agent_tool_specs(agent.settings().tools.as_deref()),
        ),
    }
}

/// What the agent says first. A caller back from a transfer hears why, not the greeting (nor
/// the recording disclosure, heard at the start of the call) again; a campaign's call opens
/// with its script's first words.
fn first_words(
    back_from_transfer: Option<&String>,
    session: &sessions::CallSession,
    agent: &store::Agent,
) -> String {
    if let Some(why) = back_from_transfer {
        return why.clone();
    }
    let opening = session.campaign.as_ref().map(|c| c.opening.clone());
    disclosed(
        opening.unwrap_or_else(|| agent.greeting.clone()),
        agent.record_calls,
    )
}

/// The greeting, opened with the recording disclosure when the call is recorded.
fn disclosed(greeting: String, recorded: bool) -> String {
    if recorded {
        format!("{RECORDING_DISCLOSURE} {greeting}")
    } else {
        greeting
    }
}
