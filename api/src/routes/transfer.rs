//! The webhooks of a warm transfer (`TransferWorkflow`). Each URL carries `transfer` (the
//! workflow id, also the conference's name) and `tenant`; Twilio signs the whole URL, so both
//! are as we wrote them.
//!
//! - `/twilio/transfer/status`: the person's leg (`initiated` is recorded against the transfer
//!   so a retried dial finds the leg; every status goes to the workflow as a Signal).
//! - `/twilio/transfer/answer`: the person answered; the workflow (an Update) says whether to
//!   whisper and gather a decision, or hang up (a machine answered).
//! - `/twilio/transfer/decision`: what the person pressed or said; the workflow says whether
//!   to join the caller's conference.
//! - `/twilio/transfer/conference`: the caller's conference (participants joining, leaving).
//! - `/twilio/hold-music`: what a caller on hold hears.

use crate::{ApiError, AppState, twilio_signed::TwilioSigned};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use domain::{
    TenantId,
    transfer::{AnswerPlan, Decision, DecisionPlan, LegStatus},
};
use telephony::{
    TwiML,
    routes::{
        ANSWER_PATH, CONFERENCE_PATH, DECISION_PATH, HOLD_MUSIC_PATH, LEG_STATUS_PATH,
        transfer_webhook,
    },
    twiml::ConferenceOptions,
};
use temporalio_client::{
    WorkflowExecuteUpdateOptions, WorkflowSignalOptions, errors::WorkflowInteractionError,
};
use workflows::{TransferWorkflow, transfer::ConferenceEvent};

/// Music on hold: Twilio's own classical loop, which is what its default `waitUrl` plays.
const HOLD_MUSIC: &str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LEG_STATUS_PATH, post(leg_status))
        .route(ANSWER_PATH, post(answered))
        .route(DECISION_PATH, post(decided))
        .route(CONFERENCE_PATH, post(conference_event))
        .route(HOLD_MUSIC_PATH, post(hold_music))
}

fn twiml(twiml: &TwiML) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml.build(),
    )
        .into_response()
}

/// The transfer and tenant a webhook's URL names.
fn transfer_of(form: &TwilioSigned) -> Result<(String, TenantId), ApiError> {
    let transfer = form
        .query("transfer")
        .filter(|t| domain::transfer::call_sid_of_transfer(t).is_some())
        .ok_or_else(|| ApiError::invalid("transfer", "a transfer id is required"))?;
    let tenant = form
        .query("tenant")
        .and_then(|t| TenantId::parse(&t).ok())
        .ok_or_else(|| ApiError::invalid("tenant", "a tenant id is required"))?;
    Ok((transfer, tenant))
}

fn handle(
    state: &AppState,
    transfer: &str,
) -> temporalio_client::WorkflowHandle<temporalio_client::Client, TransferWorkflow> {
    state
        .temporal
        .get_workflow_handle::<TransferWorkflow>(transfer.to_owned())
}

/// A Signal's delivery: a transfer that has finished has nothing left to learn.
fn signalled(result: Result<(), WorkflowInteractionError>) -> Result<(), ApiError> {
    match result {
        Ok(()) | Err(WorkflowInteractionError::NotFound(_)) => Ok(()),
        Err(err) => Err(ApiError::Internal(
            anyhow::Error::new(err).context("signalling the transfer workflow"),
        )),
    }
}

/// `POST /twilio/transfer/status`: the person's leg changed.
#[utoipa::path(post, path = "/twilio/transfer/status", tag = "twilio",
    responses((status = 204, description = "Delivered to the transfer's workflow"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn leg_status(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<StatusCode, ApiError> {
    let (transfer, tenant) = transfer_of(&form)?;
    let call_sid = form.call_sid()?.to_string();
    let status = form.required("CallStatus")?.to_owned();
    if status == "initiated" || status == "queued" || status == "ringing" {
        state
            .store
            .set_transfer_leg(tenant, &transfer, &call_sid)
            .await?;
    }
    tell_leg_status(&state, &transfer, LegStatus { call_sid, status }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signals the person's leg status to the transfer.
async fn tell_leg_status(
    state: &AppState,
    transfer: &str,
    status: LegStatus,
) -> Result<(), ApiError> {
    signalled(
        handle(state, transfer)
            .signal(
                TransferWorkflow::leg_status,
                status,
                WorkflowSignalOptions::default(),
            )
            .await,
    )
}

/// `POST /twilio/transfer/answer`: the person's phone was answered.
#[utoipa::path(post, path = "/twilio/transfer/answer", tag = "twilio",
    responses((status = 200, description = "TwiML: the whisper and the decision prompt, or a hang-up", content_type = "text/xml"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn answered(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<Response, ApiError> {
    let (transfer, tenant) = transfer_of(&form)?;
    let call_sid = form.call_sid()?.to_string();
    state
        .store
        .set_transfer_leg(tenant, &transfer, &call_sid)
        .await?;
    // The leg is up whatever the answer: tell the workflow before asking it.
    let up = LegStatus {
        call_sid: call_sid.clone(),
        status: "in-progress".into(),
    };
    tell_leg_status(&state, &transfer, up).await?;
    let answered_by = form.get("AnsweredBy").map(str::to_owned);
    let options = WorkflowExecuteUpdateOptions::builder()
        .update_id(format!("answered-{call_sid}"))
        .build();
    let plan = handle(&state, &transfer)
        .execute_update(TransferWorkflow::employee_answered, answered_by, options)
        .await
        .unwrap_or(AnswerPlan::HangUp);
    Ok(twiml(&match plan {
        AnswerPlan::Whisper(text) => {
            let action = transfer_webhook(&state.config.public(), DECISION_PATH, &transfer, tenant);
            TwiML::new().gather_one_key(&action, &text, 10)
        }
        AnswerPlan::HangUp => TwiML::new().hangup(),
    }))
}

/// `POST /twilio/transfer/decision`: what the person pressed or said (nothing, when the
/// gather timed out).
#[utoipa::path(post, path = "/twilio/transfer/decision", tag = "twilio",
    responses((status = 200, description = "TwiML: join the caller's conference, or a goodbye", content_type = "text/xml"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn decided(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<Response, ApiError> {
    let (transfer, tenant) = transfer_of(&form)?;
    let call_sid = form.call_sid()?.to_string();
    let decision = Decision::read(
        form.get("Digits").unwrap_or_default(),
        form.get("SpeechResult").unwrap_or_default(),
    );
    let options = WorkflowExecuteUpdateOptions::builder()
        .update_id(format!("decided-{call_sid}"))
        .build();
    let plan = handle(&state, &transfer)
        .execute_update(TransferWorkflow::employee_decided, decision, options)
        .await
        .unwrap_or_else(|_| {
            DecisionPlan::Release("Sorry, the call is no longer waiting. Goodbye.".into())
        });
    Ok(twiml(&match plan {
        DecisionPlan::Join { conference } => {
            let events =
                transfer_webhook(&state.config.public(), CONFERENCE_PATH, &transfer, tenant);
            TwiML::new().dial_conference(
                &conference,
                &ConferenceOptions {
                    wait_url: None,
                    start_on_enter: true,
                    end_on_exit: true,
                    status_callback: Some(&events),
                },
            )
        }
        DecisionPlan::Release(text) => TwiML::new().say(&text).hangup(),
    }))
}

/// `POST /twilio/transfer/conference`: a participant joined or left the caller's conference.
#[utoipa::path(post, path = "/twilio/transfer/conference", tag = "twilio",
    responses((status = 204, description = "Delivered to the transfer's workflow"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn conference_event(
    State(state): State<AppState>,
    form: TwilioSigned,
) -> Result<StatusCode, ApiError> {
    let (transfer, _) = transfer_of(&form)?;
    let event = ConferenceEvent {
        event: form.required("StatusCallbackEvent")?.to_owned(),
        call_sid: form.get("CallSid").map(str::to_owned),
    };
    signalled(
        handle(&state, &transfer)
            .signal(
                TransferWorkflow::conference_event,
                event,
                WorkflowSignalOptions::default(),
            )
            .await,
    )?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/hold-music`: the caller's `waitUrl` while the person is rung.
#[utoipa::path(post, path = "/twilio/hold-music", tag = "twilio",
    responses((status = 200, description = "TwiML that plays music on hold", content_type = "text/xml"),
              (status = 403, description = "Invalid Twilio signature", body = crate::error::Problem)))]
pub async fn hold_music(_form: TwilioSigned) -> Response {
    twiml(&TwiML::new().play(HOLD_MUSIC, 0))
}
