//! One dial of a target, at most once per attempt (see the module above for the witness).

use super::CampaignActivitiesImpl;
use crate::call::{store_failure, twilio_failure};
use domain::{CallSid, TenantId, crm::TargetState, workflow_io::CampaignCall};
use std::time::Duration;
use store::{
    StoreError,
    crm::{engine::Attempt, targets::CampaignTarget},
};
use telephony::{
    rest::{CallInstructions, CreateCall},
    routes::{CAMPAIGN_ANSWER_PATH, CAMPAIGN_STATUS_PATH, campaign_webhook},
};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use workflows::activities::{DialResult, DialTarget};

/// How long a retried dial waits for the `initiated` callback of a call an earlier try may
/// have placed.
const DIAL_WITNESS_WAIT: Duration = Duration::from_secs(3);

impl CampaignActivitiesImpl {
    /// Re-checks the target and the do-not-call list, then places the attempt's call or adopts
    /// the one an earlier try placed. `retry`: an earlier try of this activity ran.
    pub(super) async fn dial(
        &self,
        retry: bool,
        input: DialTarget,
    ) -> Result<DialResult, ActivityError> {
        let tenant = input.campaign.tenant_id;
        let target = match self
            .store
            .campaign_target(tenant, input.target_id)
            .await
            .map_err(store_failure)?
        {
            Some(target) if !target.state.is_final() => target,
            _ => return Ok(DialResult::Gone),
        };
        if self.listed_at_dial(tenant, &target).await? {
            return Ok(DialResult::DoNotCall);
        }
        let (script, attempt_script) = self
            .script_for(&input.campaign, &target, &input.agent_name, input.machine)
            .await?;
        let attempt = self
            .store
            .begin_attempt(
                tenant,
                input.campaign.campaign_id,
                target.id,
                i32::try_from(input.attempt).unwrap_or(i32::MAX),
                attempt_script,
            )
            .await
            .map_err(store_failure)?;
        let earlier = match (&attempt.call_sid, retry) {
            (Some(sid), _) => Some(sid.clone()),
            (None, true) => self.placed_before(tenant, attempt.id).await?,
            (None, false) => None,
        };
        let call_sid = match earlier {
            Some(sid) => {
                tracing::info!(target = %target.id, attempt = input.attempt, "adopting the call an earlier try placed");
                sid
            }
            None => self.place(&input, &target, &attempt).await?,
        };
        dialed(
            &call_sid,
            &input,
            &target,
            &attempt,
            script.recipient.time_zone,
        )
    }

    /// A number put on the list since the upload is never called: the target ends
    /// `do_not_call`.
    async fn listed_at_dial(
        &self,
        tenant: TenantId,
        target: &CampaignTarget,
    ) -> Result<bool, ActivityError> {
        let listed = self
            .store
            .is_dnc(tenant, &target.target.phone)
            .await
            .map_err(store_failure)?;
        if listed {
            self.store
                .set_targets_state(tenant, &[target.id], TargetState::DoNotCall, None)
                .await
                .map_err(store_failure)?;
            tracing::info!(target = %target.id, "on the do-not-call list at dial time: not called");
        }
        Ok(listed)
    }

    /// Asks Twilio for the call; its SID is recorded on the attempt at once.
    async fn place(
        &self,
        input: &DialTarget,
        target: &CampaignTarget,
        attempt: &Attempt,
    ) -> Result<String, ActivityError> {
        let tenant = input.campaign.tenant_id;
        self.store
            .set_targets_state(tenant, &[target.id], TargetState::Dialing, None)
            .await
            .map_err(store_failure)?;
        let webhook = |path| campaign_webhook(&self.public, path, attempt.id, tenant);
        let request = CreateCall {
            to: target.target.phone.as_str().to_owned(),
            from: input.from.as_str().to_owned(),
            instructions: CallInstructions::Url(webhook(CAMPAIGN_ANSWER_PATH)),
            status_callback: Some(webhook(CAMPAIGN_STATUS_PATH)),
            status_callback_events: ["initiated", "ringing", "answered", "completed"]
                .map(String::from)
                .to_vec(),
            machine_detection: Some("Enable".into()),
            timeout_secs: Some(input.ring_timeout_secs),
        };
        let placed = self
            .twilio
            .create_call(&request)
            .await
            .map_err(twilio_failure)?;
        self.store
            .witness_attempt(tenant, attempt.id, &placed.sid, None)
            .await
            .map_err(store_failure)?;
        tracing::info!(target = %target.id, attempt = input.attempt, to = %target.target.phone.masked(), "campaign call placed");
        Ok(placed.sid)
    }

    /// The call SID an earlier try of this attempt placed, waiting briefly for Twilio's
    /// `initiated` callback to land.
    async fn placed_before(
        &self,
        tenant: TenantId,
        attempt: uuid::Uuid,
    ) -> Result<Option<String>, ActivityError> {
        let deadline = tokio::time::Instant::now() + DIAL_WITNESS_WAIT;
        loop {
            let row = self
                .store
                .attempt(tenant, attempt)
                .await
                .map_err(store_failure)?;
            if row.call_sid.is_some() || tokio::time::Instant::now() >= deadline {
                return Ok(row.call_sid);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The dial's answer: the call and the script it runs.
fn dialed(
    call_sid: &str,
    input: &DialTarget,
    target: &CampaignTarget,
    attempt: &Attempt,
    time_zone: String,
) -> Result<DialResult, ActivityError> {
    let call_sid = CallSid::parse(call_sid).map_err(|_| {
        ApplicationFailure::non_retryable(StoreError::Corrupt("campaign_attempts.call_sid".into()))
    })?;
    Ok(DialResult::Dialed {
        call_sid,
        to: target.target.phone.clone(),
        call: CampaignCall {
            campaign_id: input.campaign.campaign_id,
            target_id: target.id,
            attempt_id: attempt.id,
            attempt: input.attempt,
            instruction_line: attempt.instruction_line.clone(),
            opening: attempt.opening.clone(),
            customer_id: target.target.customer_id,
            time_zone,
        },
    })
}
