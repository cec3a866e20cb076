//! Twilio webhooks. Every request must carry a valid `X-Twilio-Signature` computed over our
//! public URL; anything else gets 403 and starts nothing.

use crate::{ApiError, AppState, metrics::WebhookLabels};
use axum::{
    Router,
    extract::{OriginalUri, RawForm, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use domain::{
    AnsweredBy, CallDirection, CallSid, CallStatus, CallerId, E164,
    workflow_io::{CallStatusChanged, CallWorkflowInput, SESSION_TTL_MARGIN_SECS},
};
use std::time::Instant;
use telephony::{TwiML, twiml::StreamParameter, validate_signature};
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{WorkflowInteractionError, WorkflowStartError},
};
use temporalio_common::search_attributes::SearchAttributes;
use workflows::{CallWorkflow, search_attributes as sa};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/twilio/voice", post(voice_webhook))
        .route("/twilio/status", post(status_webhook))
}

/// The form fields of a signed Twilio request.
struct SignedForm(Vec<(String, String)>);

impl SignedForm {
    fn verify(
        state: &AppState,
        headers: &HeaderMap,
        uri: &OriginalUri,
        body: &[u8],
    ) -> Result<Self, ApiError> {
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::invalid("body", e.to_string()))?;
        let provided = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::InvalidSignature)?;
        let path_and_query = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = state.config.public_url_for(path_and_query);
        if !validate_signature(&state.config.twilio_auth_token, &url, &params, provided) {
            tracing::warn!(
                path = uri.0.path(),
                "rejected webhook with an invalid Twilio signature"
            );
            return Err(ApiError::InvalidSignature);
        }
        Ok(Self(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid(name, "is required"))
    }

    fn call_sid(&self) -> Result<CallSid, ApiError> {
        CallSid::parse(self.required("CallSid")?)
            .map_err(|e| ApiError::invalid("CallSid", e.to_string()))
    }

    fn phone(&self, name: &'static str) -> Result<E164, ApiError> {
        E164::parse(self.required(name)?).map_err(|e| ApiError::invalid(name, e.to_string()))
    }
}

fn twiml_response(twiml: &TwiML) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml.build(),
    )
        .into_response()
}

fn observe(state: &AppState, webhook: &'static str, started: Instant) {
    state
        .metrics
        .webhook_latency
        .get_or_create(&WebhookLabels { webhook })
        .observe(started.elapsed().as_secs_f64());
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
    headers: HeaderMap,
    uri: OriginalUri,
    RawForm(body): RawForm,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let form = SignedForm::verify(&state, &headers, &uri, &body)?;
    let call_sid = form.call_sid()?;
    let span = tracing::Span::current();
    span.record("call_sid", tracing::field::display(&call_sid));
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
    let ours = &ours;

    let Some(route) = state.store.route_inbound_number(ours).await? else {
        tracing::warn!(number = %ours.masked(), outbound, "call on a number that routes to no agent");
        observe(&state, "voice", started);
        return Ok(twiml_response(
            &TwiML::new()
                .say("Sorry, the number you have called is not in service. Goodbye.")
                .hangup(),
        ));
    };
    span.record("tenant_id", tracing::field::display(route.tenant_id));

    let input = call_input(&route, call_sid.clone(), outbound, from.clone(), to.clone());
    let summary = if outbound {
        format!("Outbound {} → {theirs}", route.tenant_name)
    } else {
        format!("Inbound {theirs} → {}", route.tenant_name)
    };
    start_call_workflow(&state, input, summary).await?;
    open_session_now(&state, &route, &call_sid).await;

    if let Some(answered_by) = form.get("AnsweredBy").map(AnsweredBy::parse) {
        signal_answered_by(&state, &call_sid, &answered_by).await;
        if answered_by.is_machine() {
            observe(&state, "voice", started);
            let message = voicemail_message(&route);
            return Ok(twiml_response(&TwiML::new().say(&message).hangup()));
        }
    }

    let parameters = [
        StreamParameter {
            name: "callSid".into(),
            value: call_sid.to_string(),
        },
        StreamParameter {
            name: "tenantId".into(),
            value: route.tenant_id.to_string(),
        },
    ];
    let twiml = TwiML::new().connect_stream(&state.config.media_stream_url(), None, &parameters);
    observe(&state, "voice", started);
    Ok(twiml_response(&twiml))
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

async fn signal_answered_by(state: &AppState, call_sid: &CallSid, answered_by: &AnsweredBy) {
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
    headers: HeaderMap,
    uri: OriginalUri,
    RawForm(body): RawForm,
) -> Result<StatusCode, ApiError> {
    let started = Instant::now();
    let form = SignedForm::verify(&state, &headers, &uri, &body)?;
    let call_sid = form.call_sid()?;
    tracing::Span::current().record("call_sid", tracing::field::display(&call_sid));
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
    let handle = state
        .temporal
        .get_workflow_handle::<CallWorkflow>(call_sid.workflow_id());
    let update = CallStatusChanged {
        status,
        duration_secs,
    };
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
        }
        Err(WorkflowInteractionError::NotFound(_)) => {
            tracing::info!(call_sid = %call_sid, status = %status, "status callback for a call with no workflow");
        }
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("signalling the call workflow"),
            ));
        }
    }
    observe(&state, "status", started);
    Ok(StatusCode::NO_CONTENT)
}
