//! After a call: what Twilio and the call say happened, the post-call analysis (which may put
//! the number on the do-not-call list or book what was agreed, and is announced to the
//! tenant's webhook as `call.analyzed`), and the target's next step.

use super::{CampaignActivitiesImpl, at_ms};
use crate::call::store_failure;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::{
    CallOutcome, CallStatus, TenantId,
    campaign::{AttemptOutcome, NextStep, analyse_call, analysis::OutcomeClass},
    crm::TargetState,
};
use store::crm::{engine::Attempt, targets::TargetProgress};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use workflows::activities::{ConcludeAttempt, Concluded};

/// A target deleted while its call ran.
const GONE: Concluded = Concluded {
    state: TargetState::Skipped,
    next_attempt_ms: None,
    outcome_class: None,
};

impl CampaignActivitiesImpl {
    pub(super) async fn conclude(
        &self,
        input: ConcludeAttempt,
    ) -> Result<Concluded, ActivityError> {
        let tenant = input.campaign.tenant_id;
        let Some(target) = self
            .store
            .campaign_target(tenant, input.target_id)
            .await
            .map_err(store_failure)?
        else {
            return Ok(GONE);
        };
        let attempt = match input.attempt_id {
            Some(id) => Some(
                self.store
                    .attempt(tenant, id)
                    .await
                    .map_err(store_failure)?,
            ),
            None => None,
        };
        let outcome = outcome_of(&input, attempt.as_ref());
        let now = at_ms(input.now_ms);
        let zone = target.target.zone();
        let outcome_class = self.analyse(tenant, &input, outcome, zone, now).await?;
        let listed = self
            .store
            .is_dnc(tenant, &target.target.phone)
            .await
            .map_err(store_failure)?;
        let refused = listed || outcome_class.as_deref() == Some(OutcomeClass::DoNotCall.as_str());
        let step = next_step(&input, attempt.as_ref(), outcome, refused, now);
        let (state, next) = match step {
            NextStep::RetryAt(at) => (TargetState::Scheduled, Some(at)),
            NextStep::Final(state) => (state, None),
        };
        let progress = TargetProgress {
            state,
            attempts: i32::try_from(input.attempt).unwrap_or(i32::MAX),
            last_call_sid: input.call_sid.clone(),
            last_outcome: input.summary.as_ref().map(|s| s.outcome),
            next_attempt_at: next,
        };
        self.store
            .update_target(tenant, target.id, progress)
            .await
            .map_err(store_failure)?;
        Ok(Concluded {
            state,
            next_attempt_ms: next.map(|n| n.timestamp_millis()),
            outcome_class,
        })
    }

    /// The post-call analysis of the call, recorded with its effects; its outcome class.
    async fn analyse(
        &self,
        tenant: TenantId,
        input: &ConcludeAttempt,
        outcome: AttemptOutcome,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, ActivityError> {
        let Some(sid) = &input.call_sid else {
            return Ok(None);
        };
        let Some(call) = self
            .store
            .call_by_sid(tenant, sid)
            .await
            .map_err(store_failure)?
        else {
            return Ok(None);
        };
        let transcript = self
            .store
            .transcript(tenant, call.id)
            .await
            .map_err(store_failure)?;
        let analysis = analyse_call(&transcript, outcome, zone, now);
        self.store
            .record_analysis(
                tenant,
                call.id,
                &analysis,
                Some(input.campaign.campaign_id),
                input.customer_id,
            )
            .await
            .map_err(store_failure)?;
        self.emit_call_analyzed(tenant, call.id).await?;
        Ok(Some(analysis.outcome.as_str().to_owned()))
    }

    /// Sends the call's `call.analyzed` event to the tenant's webhook (once per call). When the
    /// database or Temporal is unreachable the activity fails, to be retried whole (the
    /// analysis too: it is safe to repeat); an event the call's row cannot make is logged, and
    /// the attempt concluded all the same.
    async fn emit_call_analyzed(
        &self,
        tenant: TenantId,
        call_id: uuid::Uuid,
    ) -> Result<(), ActivityError> {
        let emitted = crate::events::emit_call_analyzed(
            &self.store,
            &self.temporal,
            &self.task_queue,
            tenant,
            call_id,
        )
        .await;
        match emitted {
            Ok(_) => Ok(()),
            Err(err) if err.is_retryable() => Err(ApplicationFailure::new(err).into()),
            Err(err) => {
                tracing::error!(%call_id, error = %err, "no call.analyzed event for this call");
                Ok(())
            }
        }
    }
}

/// How the attempt went: the call's summary, else the last status Twilio reported for it.
fn outcome_of(input: &ConcludeAttempt, attempt: Option<&Attempt>) -> AttemptOutcome {
    let twilio_status = input.summary.as_ref().map(|s| s.final_status).or_else(|| {
        attempt
            .and_then(|a| a.status.as_deref())
            .and_then(CallStatus::parse)
    });
    attempt_outcome(twilio_status, input.summary.as_ref().map(|s| s.outcome))
}

/// A refusal is final; a callback the person asked for comes next; else the retry policy.
fn next_step(
    input: &ConcludeAttempt,
    attempt: Option<&Attempt>,
    outcome: AttemptOutcome,
    refused: bool,
    now: DateTime<Utc>,
) -> NextStep {
    if refused {
        return NextStep::Final(TargetState::DoNotCall);
    }
    match attempt.and_then(|a| a.callback_at).filter(|at| *at > now) {
        Some(at) => NextStep::RetryAt(at),
        None => input.retry.after_attempt(outcome, input.attempt, now),
    }
}

/// What Twilio's final status (and the call's outcome) make of the attempt.
fn attempt_outcome(status: Option<CallStatus>, outcome: Option<CallOutcome>) -> AttemptOutcome {
    if outcome == Some(CallOutcome::Voicemail) {
        return AttemptOutcome::Voicemail;
    }
    match status {
        Some(CallStatus::Busy) => AttemptOutcome::Busy,
        Some(CallStatus::NoAnswer | CallStatus::Canceled) => AttemptOutcome::NoAnswer,
        Some(CallStatus::Completed | CallStatus::InProgress) => AttemptOutcome::Completed,
        _ => AttemptOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_statuses_become_attempt_outcomes() {
        let of = |s, o| attempt_outcome(Some(s), o);
        assert_eq!(of(CallStatus::Busy, None), AttemptOutcome::Busy);
        assert_eq!(of(CallStatus::NoAnswer, None), AttemptOutcome::NoAnswer);
        assert_eq!(of(CallStatus::Failed, None), AttemptOutcome::Failed);
        assert_eq!(
            of(CallStatus::Completed, Some(CallOutcome::Completed)),
            AttemptOutcome::Completed
        );
        assert_eq!(
            of(CallStatus::Completed, Some(CallOutcome::Voicemail)),
            AttemptOutcome::Voicemail
        );
        assert_eq!(attempt_outcome(None, None), AttemptOutcome::Failed);
    }
}
