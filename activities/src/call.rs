//! The activities of `CallWorkflow`.

use crate::sms::{SmsOnce, SmsSent, send_sms_once};
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    CallStatus,
    workflow_io::{
        CallRef, FinishCallInput, FollowUpSms, OpenSessionInput, RecordCallInput,
        SaveTranscriptInput,
    },
};
use sessions::{CallSession, SessionStore};
use std::{sync::Arc, time::Duration};
use store::{CallCounts, FinishedCall, NewCall, Store, StoreError};
use telephony::{TwilioClient, TwilioError, rest::UpdateCall};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::call as call_activities;

/// Twilio's "resource not found" and "call is not in progress": a hang-up that finds the call
/// already gone has nothing left to do.
const TWILIO_CALL_ALREADY_GONE: [u32; 2] = [20404, 21220];

#[derive(Debug)]
pub struct CallActivitiesImpl {
    store: Store,
    sessions: Arc<dyn SessionStore>,
    twilio: TwilioClient,
}

impl CallActivitiesImpl {
    pub fn new(store: Store, sessions: Arc<dyn SessionStore>, twilio: TwilioClient) -> Self {
        Self {
            store,
            sessions,
            twilio,
        }
    }
}

pub(crate) fn store_failure(err: StoreError) -> ActivityError {
    match err {
        StoreError::NotFound { .. }
        | StoreError::UnknownReference { .. }
        | StoreError::Corrupt(_)
        | StoreError::Conflict(_) => ApplicationFailure::non_retryable(err).into(),
        StoreError::Db(_) => ApplicationFailure::new(err).into(),
    }
}

pub(crate) fn twilio_failure(err: TwilioError) -> ActivityError {
    if err.is_retryable() {
        ApplicationFailure::new(err).into()
    } else {
        ApplicationFailure::non_retryable(err).into()
    }
}

/// Workflow time (Unix milliseconds) as a timestamp; a value out of range reads as now.
fn from_unix_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// What the store writes when the workflow closes the call.
fn finished_call(input: FinishCallInput) -> FinishedCall {
    let m = input.metrics;
    FinishedCall {
        tenant_id: input.tenant_id,
        call_sid: input.call_sid,
        final_status: input.final_status,
        outcome: input.outcome,
        duration_secs: input.duration_secs,
        answered_at: input.answered_at_ms.map(from_unix_ms),
        ended_at: from_unix_ms(input.ended_at_ms),
        answered_by: input.answered_by,
        transcript: input.transcript,
        transcript_first_seq: input.transcript_first_seq,
        metrics: CallCounts {
            caller_turns: m.caller_turns,
            agent_turns: m.agent_turns,
            interruptions: m.interruptions,
            stream_connect_ms: m.stream_connect_ms,
        },
        transfer_result: input.transfer_result,
        tool_calls: input.tool_calls,
    }
}

#[activities]
impl CallActivitiesImpl {
    #[activity(definition = call_activities::RecordCall)]
    pub async fn record_call(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: RecordCallInput,
    ) -> Result<(), ActivityError> {
        let call = input.call;
        let started_at = from_unix_ms(input.started_at_ms);
        self.store
            .record_call_started(
                call.tenant_id,
                NewCall {
                    call_sid: call.call_sid,
                    agent_id: Some(call.agent_id),
                    direction: call.direction,
                    from: call.from,
                    to: call.to,
                    status: CallStatus::InProgress,
                    started_at,
                    workflow_id: input.workflow_id,
                },
            )
            .await
            .map_err(store_failure)
    }

    #[activity(definition = call_activities::OpenSession)]
    pub async fn open_session(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: OpenSessionInput,
    ) -> Result<(), ActivityError> {
        let session = CallSession {
            tenant_id: input.tenant_id,
            call_sid: input.call_sid,
            agent_id: input.agent_id,
            workflow_id: input.workflow_id,
            campaign: input.campaign,
        };
        self.sessions
            .open(&session, Duration::from_secs(input.ttl_secs))
            .await
            .map_err(|e| ApplicationFailure::new(e).into())
    }

    #[activity(definition = call_activities::HangUpCall)]
    pub async fn hang_up_call(
        self: Arc<Self>,
        _ctx: ActivityContext,
        call: CallRef,
    ) -> Result<(), ActivityError> {
        match self
            .twilio
            .update_call(call.call_sid.as_str(), &UpdateCall::Hangup)
            .await
        {
            Ok(_) => Ok(()),
            Err(TwilioError::Api { code, .. }) if TWILIO_CALL_ALREADY_GONE.contains(&code) => {
                Ok(())
            }
            Err(err) => Err(twilio_failure(err)),
        }
    }

    /// Sends the follow-up SMS at most once ([`crate::sms`]): the reference is made from the
    /// call SID, and a retry first looks for it among the messages already sent.
    #[activity(definition = call_activities::SendFollowupSms)]
    pub async fn send_followup_sms(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: FollowUpSms,
    ) -> Result<(), ActivityError> {
        let sid = input.call_sid.as_str();
        let reference = format!("(ref {})", &sid[sid.len().saturating_sub(6)..]);
        let body = format!("{} {reference}", input.body.trim());
        let sms = SmsOnce {
            to: input.to.as_str(),
            from: input.from.as_str(),
            body: &body,
            reference: &reference,
        };
        match send_sms_once(&self.twilio, &sms, ctx.info().attempt > 1)
            .await
            .map_err(twilio_failure)?
        {
            SmsSent::Earlier(_) => {
                tracing::info!(call_sid = %input.call_sid, "follow-up SMS already sent by an earlier attempt");
            }
            SmsSent::Now(message_sid) => {
                tracing::info!(call_sid = %input.call_sid, %message_sid, "follow-up SMS sent");
            }
        }
        Ok(())
    }

    #[activity(definition = call_activities::FinishCall)]
    pub async fn finish_call(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: FinishCallInput,
    ) -> Result<(), ActivityError> {
        self.store
            .finish_call(&finished_call(input))
            .await
            .map_err(store_failure)
    }

    #[activity(definition = call_activities::SaveTranscript)]
    pub async fn save_transcript(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: SaveTranscriptInput,
    ) -> Result<(), ActivityError> {
        self.store
            .save_transcript(
                input.tenant_id,
                &input.call_sid,
                input.first_seq,
                &input.segments,
            )
            .await
            .map_err(store_failure)
    }

    #[activity(definition = call_activities::CloseSession)]
    pub async fn close_session(
        self: Arc<Self>,
        _ctx: ActivityContext,
        call: CallRef,
    ) -> Result<(), ActivityError> {
        self.sessions
            .close(&call.call_sid)
            .await
            .map_err(|e| ApplicationFailure::new(e).into())
    }
}
