//! The activities of `TransferWorkflow`: Twilio requests that move the caller, ring the person
//! and bring the caller back, and the `transfers` row.
//!
//! The webhooks Twilio calls for the person's leg and the caller's conference carry the
//! transfer id and the tenant in their query (Twilio signs the whole URL), so the API can
//! route them to `transfer-{CallSid}-{n}` without a lookup.

use crate::call::{store_failure, twilio_failure};
use chrono::{TimeZone, Utc};
use domain::TenantId;
use std::{sync::Arc, time::Duration};
use store::{Store, TransferRow};
use telephony::{
    PublicUrl, TwiML, TwilioClient, TwilioError,
    rest::{CallInstructions, CreateCall, UpdateCall},
    routes::{
        ANSWER_PATH, CONFERENCE_PATH, HOLD_MUSIC_PATH, LEG_STATUS_PATH, conversation_twiml,
        transfer_webhook,
    },
    twiml::ConferenceOptions,
};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::{
    DialPerson, HoldCaller, RecordTransfer, ReturnCaller, transfer as defs,
};

/// How long a retried dial waits for Twilio's `initiated` callback of an earlier attempt.
const LEG_WITNESS_WAIT: Duration = Duration::from_secs(3);

/// Twilio's "resource not found" and "call is not in progress".
const CALL_ALREADY_GONE: [u32; 2] = [20404, 21220];

#[derive(Debug)]
pub struct TransferActivitiesImpl {
    store: Store,
    twilio: TwilioClient,
    public: PublicUrl,
}

impl TransferActivitiesImpl {
    pub fn new(store: Store, twilio: TwilioClient, public: PublicUrl) -> Self {
        Self {
            store,
            twilio,
            public,
        }
    }

    /// The leg an earlier attempt of this dial created, as Twilio's `initiated` callback
    /// recorded it; waits briefly for the callback of a request that may have just succeeded.
    async fn leg_created_before(
        &self,
        tenant: TenantId,
        transfer_id: &str,
    ) -> Result<Option<String>, ActivityError> {
        let deadline = tokio::time::Instant::now() + LEG_WITNESS_WAIT;
        loop {
            let row = self
                .store
                .transfer(tenant, transfer_id)
                .await
                .map_err(store_failure)?;
            if let Some(leg) = row.and_then(|r| r.employee_call_sid) {
                return Ok(Some(leg));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[activities]
impl TransferActivitiesImpl {
    /// Moves the caller's live call into the conference: they hear the announcement, then hold
    /// music until the person joins; the conference ends when the caller leaves.
    #[activity(definition = defs::HoldCaller)]
    pub async fn hold_caller(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: HoldCaller,
    ) -> Result<(), ActivityError> {
        let wait = self.public.http(HOLD_MUSIC_PATH);
        let events = transfer_webhook(
            &self.public,
            CONFERENCE_PATH,
            &input.conference,
            input.tenant_id,
        );
        let twiml = TwiML::new()
            .say(&input.announcement)
            .dial_conference(
                &input.conference,
                &ConferenceOptions {
                    wait_url: Some(&wait),
                    start_on_enter: false,
                    end_on_exit: true,
                    status_callback: Some(&events),
                },
            )
            .hangup();
        self.twilio
            .update_call(input.call_sid.as_str(), &UpdateCall::Twiml(twiml.build()))
            .await
            .map_err(twilio_failure)?;
        Ok(())
    }

    /// Rings the person, once per transfer: a retry first looks for the leg an earlier attempt
    /// created (Twilio reports every new leg to our `initiated` callback, which records it).
    #[activity(definition = defs::DialPerson)]
    pub async fn dial_person(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: DialPerson,
    ) -> Result<String, ActivityError> {
        if ctx.info().attempt > 1
            && let Some(leg) = self
                .leg_created_before(input.tenant_id, &input.transfer_id)
                .await?
        {
            tracing::info!(transfer = %input.transfer_id, "the person's leg was created by an earlier attempt");
            return Ok(leg);
        }
        let call = CreateCall {
            to: input.to.clone(),
            from: input.from.clone(),
            instructions: CallInstructions::Url(transfer_webhook(
                &self.public,
                ANSWER_PATH,
                &input.transfer_id,
                input.tenant_id,
            )),
            status_callback: Some(transfer_webhook(
                &self.public,
                LEG_STATUS_PATH,
                &input.transfer_id,
                input.tenant_id,
            )),
            status_callback_events: ["initiated", "ringing", "answered", "completed"]
                .map(String::from)
                .to_vec(),
            machine_detection: Some("Enable".into()),
            timeout_secs: Some(input.ring_timeout_secs),
        };
        let leg = self
            .twilio
            .create_call(&call)
            .await
            .map_err(twilio_failure)?;
        self.store
            .set_transfer_leg(input.tenant_id, &input.transfer_id, &leg.sid)
            .await
            .map_err(store_failure)?;
        tracing::info!(transfer = %input.transfer_id, leg = %leg.sid, "ringing the person");
        Ok(leg.sid)
    }

    #[activity(definition = defs::HangUpLeg)]
    pub async fn hang_up_leg(
        self: Arc<Self>,
        _ctx: ActivityContext,
        call_sid: String,
    ) -> Result<(), ActivityError> {
        match self
            .twilio
            .update_call(&call_sid, &UpdateCall::Hangup)
            .await
        {
            Ok(_) => Ok(()),
            Err(TwilioError::Api { code, .. }) if CALL_ALREADY_GONE.contains(&code) => Ok(()),
            Err(err) => Err(twilio_failure(err)),
        }
    }

    /// Back to the agent: a new media stream whose first words say what happened. A caller
    /// who has hung up meanwhile has nothing to come back to.
    #[activity(definition = defs::ReturnCaller)]
    pub async fn return_caller(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ReturnCaller,
    ) -> Result<(), ActivityError> {
        let twiml = conversation_twiml(
            &self.public,
            input.call_sid.as_str(),
            input.tenant_id,
            Some(&input.sentence),
        );
        match self
            .twilio
            .update_call(input.call_sid.as_str(), &UpdateCall::Twiml(twiml.build()))
            .await
        {
            Ok(_) => Ok(()),
            Err(TwilioError::Api { code, .. }) if CALL_ALREADY_GONE.contains(&code) => Ok(()),
            Err(err) => Err(twilio_failure(err)),
        }
    }

    #[activity(definition = defs::RecordTransfer)]
    pub async fn record_transfer(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: RecordTransfer,
    ) -> Result<(), ActivityError> {
        let at = |ms: i64| {
            Utc.timestamp_millis_opt(ms)
                .single()
                .unwrap_or_else(Utc::now)
        };
        let row = TransferRow {
            id: input.transfer_id,
            call_sid: input.call_sid.to_string(),
            employee_id: input.employee_id,
            target_name: input.target_name,
            employee_call_sid: input.employee_call_sid,
            stage: input.stage,
            reason: input.reason.map(|r| r.as_str().to_owned()),
            ring_after_ms: input.ring_after_ms,
            connect_after_ms: input.connect_after_ms,
            started_at: at(input.started_at_ms),
            ended_at: input.ended_at_ms.map(at),
        };
        self.store
            .record_transfer(input.tenant_id, &row)
            .await
            .map_err(store_failure)
    }
}
