//! Twilio webhooks of a campaign's calls (`?attempt={attempt_id}&tenant={tenant}`).
//!
//! - `/twilio/campaign/status`: each status callback records the call's SID (the `initiated`
//!   one is the witness a retried dial adopts instead of dialling again) and its latest status
//!   on the attempt, then goes to `call-{CallSid}` like any status callback. A final status
//!   that arrives before the campaign has started the call's workflow is handed over by the
//!   campaign (`hand_over_status`), from the attempt row.
//! - `/twilio/campaign/answer`: the call was answered. The campaign starts `call-{CallSid}` as
//!   its child right after the dial; if Twilio is quicker, the person hears silence while we
//!   wait for it: up to [`IN_HANDLER_WAIT`] in the handler, then a `<Pause>` and a
//!   `<Redirect>` back here, at most [`MAX_WAITS`] times (a worker restarting).
//!   A machine gets the script's voicemail message (or nothing, per campaign) and a hang-up;
//!   a person gets the conversation, whose first words are the script's opening.

use crate::{ApiError, AppState, twilio_signed::TwilioSigned};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use domain::{AnsweredBy, CallSid, TenantId, workflow_io::CampaignCall};
use store::crm::{campaigns::Campaigns, engine::Attempt};
use telephony::{
    TwiML,
    routes::{CAMPAIGN_ANSWER_PATH, CAMPAIGN_STATUS_PATH, campaign_webhook, conversation_twiml},
};
use temporalio_client::{WorkflowDescribeOptions, errors::WorkflowInteractionError};
use workflows::CallWorkflow;

/// How long the answer webhook itself waits for the call's workflow before answering with a
/// one-second pause and a redirect back here.
const IN_HANDLER_WAIT: std::time::Duration = std::time::Duration::from_secs(4);
/// Redirects (each after [`IN_HANDLER_WAIT`] and a second's pause) before giving up.
pub const MAX_WAITS: u32 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(CAMPAIGN_STATUS_PATH, post(status))
        .route(CAMPAIGN_ANSWER_PATH, post(answered))
}

fn twiml(twiml: &TwiML) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml.build(),
    )
        .into_response()
}

fn attempt_of(form: &TwilioSigned) -> Result<(uuid::Uuid, TenantId), ApiError> {
    let attempt = form
        .query("attempt")
        .and_then(|a| uuid::Uuid::parse_str(&a).ok())
        .ok_or_else(|| ApiError::invalid("attempt", "an attempt id is required"))?;
    let tenant = form
        .query("tenant")
        .and_then(|t| TenantId::parse(&t).ok())
        .ok_or_else(|| ApiError::invalid("tenant", "a tenant id is required"))?;
    Ok((attempt, tenant))
}

#[utoipa::path(post, path = "/twilio/campaign/status", tag = "twilio",
    responses((status = 204, description = "Recorded on the attempt and delivered to the call's workflow"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn status(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<StatusCode, ApiError> {
    let (attempt, tenant) = attempt_of(&form)?;
    let call_sid = form.call_sid()?;
    tracing::Span::current().record("call_sid", tracing::field::display(&call_sid));
    let update = super::twilio::status_changed(&form)?;
    let raw = form.required("CallStatus")?;
    match state
        .store
        .witness_attempt(tenant, attempt, call_sid.as_str(), Some(raw))
        .await
    {
        Ok(_) => {}
        Err(store::StoreError::NotFound { .. }) => {
            tracing::warn!("status callback for an unknown campaign attempt");
            return Ok(StatusCode::NO_CONTENT);
        }
        Err(e) => return Err(e.into()),
    }
    super::twilio::forward_status(&state, &call_sid, update).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/twilio/campaign/answer", tag = "twilio",
    responses((status = 200, description = "TwiML: the conversation, a voicemail message, or a short wait", content_type = "text/xml"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn answered(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<Response, ApiError> {
    let (attempt_id, tenant) = attempt_of(&form)?;
    let call_sid = form.call_sid()?;
    tracing::Span::current().record("call_sid", tracing::field::display(&call_sid));
    let attempt = match state
        .store
        .witness_attempt(tenant, attempt_id, call_sid.as_str(), Some("in-progress"))
        .await
    {
        Ok(attempt) => attempt,
        Err(store::StoreError::NotFound { .. }) => {
            tracing::warn!("answer webhook for an unknown campaign attempt");
            return Ok(twiml(&TwiML::new().hangup()));
        }
        Err(e) => return Err(e.into()),
    };
    if attempt.call_sid.as_deref() != Some(call_sid.as_str()) {
        tracing::warn!("a second call answered for one campaign attempt: hung up");
        return Ok(twiml(&TwiML::new().hangup()));
    }
    if !wait_for_call_workflow(&state, &call_sid).await {
        return Ok(twiml(&wait_again(&state, &form, attempt_id, tenant)));
    }
    if let Some(answered_by) = form.get("AnsweredBy").map(AnsweredBy::parse) {
        super::twilio::signal_answered_by(&state, &call_sid, &answered_by).await;
        if answered_by.is_machine() {
            let doc = match &attempt.voicemail {
                Some(message) => TwiML::new().pause(1).say(message).hangup(),
                None => TwiML::new().hangup(),
            };
            return Ok(twiml(&doc));
        }
    }
    open_campaign_session(&state, tenant, &call_sid, &attempt).await?;
    Ok(twiml(&conversation_twiml(
        &state.config.public(),
        call_sid.as_str(),
        tenant,
        Some(&attempt.opening),
    )))
}

/// The call's workflow is not there yet: a second's pause and back here, or, after
/// [`MAX_WAITS`] of those, an apology (the campaign's worker is down).
fn wait_again(
    state: &AppState,
    form: &TwilioSigned,
    attempt_id: uuid::Uuid,
    tenant: TenantId,
) -> TwiML {
    let waited = form
        .query("wait")
        .and_then(|w| w.parse::<u32>().ok())
        .unwrap_or(0);
    if waited >= MAX_WAITS {
        tracing::warn!(waited, "the campaign never started the call's workflow");
        return TwiML::new()
            .say("Sorry, we are unable to continue this call. We will call you back. Goodbye.")
            .hangup();
    }
    let again = format!(
        "{}&wait={}",
        campaign_webhook(
            &state.config.public(),
            CAMPAIGN_ANSWER_PATH,
            attempt_id,
            tenant
        ),
        waited + 1
    );
    TwiML::new().pause(1).redirect(&again)
}

/// Waits up to [`IN_HANDLER_WAIT`] for `call-{CallSid}`: the campaign starts it a moment
/// after Twilio accepts the dial, so it is nearly always there at once.
async fn wait_for_call_workflow(state: &AppState, call_sid: &CallSid) -> bool {
    let deadline = tokio::time::Instant::now() + IN_HANDLER_WAIT;
    loop {
        if call_workflow_exists(state, call_sid).await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Whether `call-{CallSid}` exists. Only "not found" says no: the description of a child
/// workflow carries a summary the worker's payload codec encoded, which this client may not
/// decode, and that failure still means the workflow is there.
async fn call_workflow_exists(state: &AppState, call_sid: &CallSid) -> bool {
    match state
        .temporal
        .get_workflow_handle::<CallWorkflow>(call_sid.workflow_id())
        .describe(WorkflowDescribeOptions::default())
        .await
    {
        Ok(_) => true,
        Err(WorkflowInteractionError::NotFound(_)) => false,
        Err(e) => {
            tracing::debug!(error = %e, "the call's workflow exists (its description did not decode)");
            true
        }
    }
}

/// The call's live session with its campaign script, opened before the stream connects (the
/// workflow's `open_session` writes the same record).
async fn open_campaign_session(
    state: &AppState,
    tenant: TenantId,
    call_sid: &CallSid,
    attempt: &Attempt,
) -> Result<(), ApiError> {
    let campaign = state
        .store
        .resource::<Campaigns>(tenant, attempt.campaign_id)
        .await?;
    let Some(agent_id) = campaign.stored.fields.agent_id else {
        return Err(ApiError::Conflict("the campaign has no agent".into()));
    };
    let agent = state.store.agent(tenant, agent_id.into()).await?;
    let target = state
        .store
        .campaign_target(tenant, attempt.target_id)
        .await?;
    let session = sessions::CallSession {
        tenant_id: tenant,
        call_sid: call_sid.clone(),
        agent_id: agent.id,
        workflow_id: call_sid.workflow_id(),
        campaign: Some(CampaignCall {
            campaign_id: attempt.campaign_id,
            target_id: attempt.target_id,
            attempt_id: attempt.id,
            attempt: u32::try_from(attempt.attempt).unwrap_or(0),
            instruction_line: attempt.instruction_line.clone(),
            opening: attempt.opening.clone(),
            customer_id: target.as_ref().and_then(|t| t.target.customer_id),
            time_zone: target
                .and_then(|t| t.target.time_zone)
                .map_or_else(String::new, |z| z.name().to_owned()),
        }),
    };
    let ttl = std::time::Duration::from_secs(
        u64::from(agent.max_call_duration_secs) + domain::workflow_io::SESSION_TTL_MARGIN_SECS,
    );
    if let Err(e) = state.sessions.open(&session, ttl).await {
        tracing::warn!(error = %e, "could not open the campaign call's session from the webhook");
    }
    Ok(())
}
