//! Twilio webhooks. Every request must carry a valid `X-Twilio-Signature` computed over our
//! public URL ([`TwilioSigned`]); anything else gets 403 and starts nothing. Each webhook's
//! latency is recorded for every answer, errors included ([`time_webhook`]).

use crate::{
    ApiError, AppState,
    metrics::{Metrics, WebhookTimer, time_webhook},
    twilio_signed::TwilioSigned,
};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::post,
};
use domain::{
    AnsweredBy, CallDirection, CallSid, CallStatus, CallerId, E164,
    workflow_io::{CallStatusChanged, CallWorkflowInput, SESSION_TTL_MARGIN_SECS},
};
use std::sync::Arc;
use telephony::TwiML;
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{WorkflowInteractionError, WorkflowStartError},
};
use temporalio_common::search_attributes::SearchAttributes;
use workflows::{CallWorkflow, search_attributes as sa};

pub fn router(metrics: Arc<Metrics>) -> Router<AppState> {
    let timed = |webhook| {
        let timer = WebhookTimer {
            metrics: metrics.clone(),
            webhook,
        };
        middleware::from_fn_with_state(timer, time_webhook)
    };
    Router::new()
        .route("/twilio/voice", post(voice_webhook).layer(timed("voice")))
        .route(
            "/twilio/status",
            post(status_webhook).layer(timed("status")),
        )
}

fn twiml_response(twiml: &TwiML) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml.build(),
    )
        .into_response()
}

/// `POST /twilio/voice`: a call arrived at one of our numbers, or one we placed was answered.
///
/// Inbound calls route by the dialled number (`To`); outbound ones (`Direction=outbound-api`)
/// by our number (`From`). With answering machine detection, `AnsweredBy=machine_*` gets the
/// agent's voicemail message and a hang-up instead of the conversation.
#[utoipa::path(post, path = "/twilio/voice", tag = "twilio",
    responses((status = 200, description = "TwiML that connects the call to its media stream", content_type = "text/xml"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn voice_webhook(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<Response, ApiError> {
    let call_sid = form.call_sid()?;
    let span = tracing::Span::current();
    span.record("call_sid", tracing::field::display(&call_sid));
    let parties = CallParties::read(&form)?;
    let Some(route) = state.store.route_inbound_number(&parties.ours).await? else {
        tracing::warn!(number = %parties.ours.masked(), outbound = parties.outbound, "call on a number that routes to no agent");
        return Ok(twiml_response(
            &TwiML::new()
                .say("Sorry, the number you have called is not in service. Goodbye.")
                .hangup(),
        ));
    };
    span.record("tenant_id", tracing::field::display(route.tenant_id));
    if route.tenant_status == domain::TenantStatus::Suspended {
        tracing::info!("call to a suspended tenant: polite goodbye, no workflow");
        return Ok(twiml_response(
            &TwiML::new()
                .say(&format!(
                    "Thank you for calling {}. We cannot take your call right now. Please try again later. Goodbye.",
                    route.tenant_name
                ))
                .hangup(),
        ));
    }

    let summary = parties.summary(&route.tenant_name);
    let input = call_input(
        &route,
        call_sid.clone(),
        parties.outbound,
        parties.from,
        parties.to,
    );
    // Both before the TwiML, side by side: Twilio opens the stream as soon as it has the TwiML.
    let (started, ()) = tokio::join!(
        start_call_workflow(&state, input, summary),
        open_session_now(&state, &route, &call_sid),
    );
    started?;

    if let Some(answered_by) = form.get("AnsweredBy").map(AnsweredBy::parse) {
        signal_answered_by(&state, &call_sid, &answered_by).await;
        if answered_by.is_machine() {
            let message = voicemail_message(&route);
            return Ok(twiml_response(&TwiML::new().say(&message).hangup()));
        }
    }
    Ok(twiml_response(&connect_stream(&state, &route, &call_sid)))
}

/// Who a voice webhook's call is between, as Twilio's `Direction`, `From` and `To` say.
struct CallParties {
    outbound: bool,
    /// Twilio's `From`: the caller (possibly withheld), or our number on an outbound call.
    from: CallerId,
    to: E164,
    /// Our number: the one dialled, or the one an outbound call comes from.
    ours: E164,
    /// The other party, masked, for the workflow's summary.
    theirs: String,
}

impl CallParties {
    fn read(form: &TwilioSigned) -> Result<Self, ApiError> {
        let outbound = form
            .get("Direction")
            .is_some_and(|d| d.starts_with("outbound"));
        // An inbound caller may withhold their number (`From=anonymous`, `Restricted`, empty…):
        // the call goes ahead without caller ID. Our own number is always E.164.
        let from = CallerId::parse(form.get("From").unwrap_or_default());
        let to = form.phone("To")?;
        let (ours, theirs) = if outbound {
            let ours = from.number().cloned().ok_or_else(|| {
                ApiError::invalid("From", "an outbound call comes from our E.164 number")
            })?;
            (ours, to.masked())
        } else {
            (to.clone(), from.masked())
        };
        Ok(Self {
            outbound,
            from,
            to,
            ours,
            theirs,
        })
    }

    /// The workflow's static summary: `Inbound +1•••••0199 → Acme Dental`.
    fn summary(&self, tenant_name: &str) -> String {
        if self.outbound {
            format!("Outbound {tenant_name} → {}", self.theirs)
        } else {
            format!("Inbound {} → {tenant_name}", self.theirs)
        }
    }
}

/// `<Connect><Stream>` to our media stream URL, with the parameters the stream handler checks
/// against the call's session.
fn connect_stream(state: &AppState, route: &store::InboundRoute, call_sid: &CallSid) -> TwiML {
    telephony::routes::conversation_twiml(
        &state.config.public(),
        call_sid.as_str(),
        route.tenant_id,
        None,
    )
}

/// Twilio opens the media stream as soon as it has our TwiML, often before the workflow's
/// `open_session` activity has run; so the webhook opens the session too (the same record —
/// the activity then refreshes it). A failure here is logged: the stream handler still waits
/// for the workflow's copy.
async fn open_session_now(state: &AppState, route: &store::InboundRoute, call_sid: &CallSid) {
    let session = sessions::CallSession {
        tenant_id: route.tenant_id,
        call_sid: call_sid.clone(),
        agent_id: route.agent.id,
        workflow_id: call_sid.workflow_id(),
        campaign: None,
    };
    let ttl = std::time::Duration::from_secs(
        u64::from(route.agent.max_call_duration_secs) + SESSION_TTL_MARGIN_SECS,
    );
    if let Err(e) = state.sessions.open(&session, ttl).await {
        tracing::warn!(error = %e, "could not open the call session from the webhook");
    }
}

/// The workflow input of a call on one of our numbers.
pub fn call_input(
    route: &store::InboundRoute,
    call_sid: CallSid,
    outbound: bool,
    from: CallerId,
    to: E164,
) -> CallWorkflowInput {
    CallWorkflowInput {
        call_sid,
        tenant_id: route.tenant_id,
        agent_id: route.agent.id,
        agent_name: route.agent.name.clone(),
        direction: if outbound {
            CallDirection::Outbound
        } else {
            CallDirection::Inbound
        },
        from,
        to,
        max_duration_secs: route.agent.max_call_duration_secs,
        followup_sms: route.agent.settings().followup_sms,
        carried: None,
        campaign: None,
        channel: Default::default(),
        tools: route.agent.settings().tools,
    }
}

/// What an answering machine hears: the agent's `voicemail_message` setting, or a default.
fn voicemail_message(route: &store::InboundRoute) -> String {
    route.agent.settings().voicemail_message.unwrap_or_else(|| {
        format!(
            "Hello, this is {} from {}. Sorry we missed you; please call us back. Goodbye.",
            route.agent.name, route.tenant_name
        )
    })
}

pub(crate) async fn signal_answered_by(
    state: &AppState,
    call_sid: &CallSid,
    answered_by: &AnsweredBy,
) {
    let handle = state
        .temporal
        .get_workflow_handle::<CallWorkflow>(call_sid.workflow_id());
    if let Err(e) = handle
        .signal(
            CallWorkflow::answered_by,
            answered_by.clone(),
            WorkflowSignalOptions::default(),
        )
        .await
    {
        tracing::warn!(error = %e, "could not tell the call workflow who answered");
    }
}

/// Starts `call-{CallSid}`. A webhook Twilio retries finds the workflow already there and
/// starts nothing: the id may never be reused, even after the call has ended.
pub async fn start_call_workflow(
    state: &AppState,
    input: CallWorkflowInput,
    summary: String,
) -> Result<(), ApiError> {
    let workflow_id = input.call_sid.workflow_id();
    let attributes = SearchAttributes::new([
        sa::TENANT_ID.value_set(input.tenant_id.to_string()),
        sa::CALL_DIRECTION.value_set(input.direction.as_str().to_owned()),
        sa::AGENT_ID.value_set(input.agent_id.to_string()),
    ]);
    let options = WorkflowStartOptions::new(state.config.task_queue.clone(), workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(attributes)
        .static_summary(summary)
        .build();
    match state
        .temporal
        .start_workflow(CallWorkflow::run, input, options)
        .await
    {
        Ok(_) => {
            state.metrics.workflows_started.inc();
            state.metrics.active_calls.inc();
            tracing::info!(workflow_id, "call workflow started");
            Ok(())
        }
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            tracing::info!(
                workflow_id,
                "duplicate webhook: call workflow already exists"
            );
            Ok(())
        }
        Err(err) => Err(ApiError::Internal(
            anyhow::Error::new(err).context("starting the call workflow"),
        )),
    }
}

/// `POST /twilio/status`: a call status callback, forwarded to the call's workflow as a Signal.
#[utoipa::path(post, path = "/twilio/status", tag = "twilio",
    responses((status = 204, description = "Delivered to the call's workflow"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn status_webhook(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<StatusCode, ApiError> {
    let call_sid = form.call_sid()?;
    tracing::Span::current().record("call_sid", tracing::field::display(&call_sid));
    let update = status_changed(&form)?;
    forward_status(&state, &call_sid, update).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hands a status callback to `call-{CallSid}` as a Signal (a call with no workflow is
/// logged and ignored).
pub(crate) async fn forward_status(
    state: &AppState,
    call_sid: &CallSid,
    update: CallStatusChanged,
) -> Result<(), ApiError> {
    let status = update.status;
    let handle = state
        .temporal
        .get_workflow_handle::<CallWorkflow>(call_sid.workflow_id());
    match handle
        .signal(
            CallWorkflow::call_status_changed,
            update,
            WorkflowSignalOptions::default(),
        )
        .await
    {
        Ok(()) => {
            if status.is_final() {
                state.metrics.active_calls.dec();
            }
            Ok(())
        }
        Err(WorkflowInteractionError::NotFound(_)) => {
            tracing::info!(call_sid = %call_sid, status = %status, "status callback for a call with no workflow");
            Ok(())
        }
        Err(err) => Err(ApiError::Internal(
            anyhow::Error::new(err).context("signalling the call workflow"),
        )),
    }
}

/// The Signal of a status callback: Twilio's `CallStatus` and, on the last one, `CallDuration`.
pub(crate) fn status_changed(form: &TwilioSigned) -> Result<CallStatusChanged, ApiError> {
    let raw_status = form.required("CallStatus")?;
    let status = CallStatus::parse(raw_status).ok_or_else(|| {
        ApiError::invalid(
            "CallStatus",
            format!("`{raw_status}` is not a Twilio call status"),
        )
    })?;
    let duration_secs = match form.get("CallDuration") {
        Some(raw) => Some(
            raw.parse::<u32>()
                .map_err(|_| ApiError::invalid("CallDuration", "must be whole seconds"))?,
        ),
        None => None,
    };
    Ok(CallStatusChanged {
        status,
        duration_secs,
    })
}
