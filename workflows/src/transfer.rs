//! `TransferWorkflow`: a warm transfer, child of `CallWorkflow`, id `transfer-{CallSid}-{n}`.
//!
//! The story, as `run` tells it: move the caller into the conference named after the
//! transfer, with hold music; ring the person (a call of its own, so only they hear the
//! whisper); when they answer, Twilio asks our answer webhook what to do, which asks this
//! workflow (the `employee_answered` Update): a machine is hung up on (`voicemail`), a person
//! hears who is calling and a summary, and presses or says a decision (the
//! `employee_decided` Update). Accepting joins them to the caller's conference — the agent is
//! no longer on the line — and the transfer is done once they are in. Anything else ends in a
//! typed [`TransferReason`]: the person's leg is hung up and the caller is brought back to the
//! agent, who says why and offers a message.
//!
//! Every step is an activity with its own timeout and retry policy; waiting is on durable
//! timers and on Signals from Twilio's callbacks (`leg_status`, `conference_event`) and from
//! the parent (`caller_gone`).

use crate::activities::{DialPerson, HoldCaller, RecordTransfer, ReturnCaller, TransferActivities};
use crate::options::unix_ms;
use domain::transfer::{
    AnswerPlan, Decision, DecisionPlan, LegStatus, TransferInput, TransferOutcome, TransferReason,
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

/// How often the "ringing (12 s)" detail is refreshed while the phone rings.
const RING_TICK: Duration = Duration::from_secs(5);
/// Beyond Twilio's own ring timeout, how long we wait for its verdict on the leg.
const RING_GRACE: Duration = Duration::from_secs(15);
/// Once accepted, how long the person's leg has to reach the conference.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Reading the whisper takes about this long per character (speech at ~15 chars/s).
const WHISPER_MS_PER_CHAR: u64 = 70;

/// Where the transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransferStage {
    Holding,
    Ringing,
    Whispering,
    Joining,
    Connected,
    Failed,
}

/// A conference status callback, as the caller's `<Conference statusCallback>` sends it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConferenceEvent {
    /// `conference-start`, `conference-end`, `participant-join`, `participant-leave` …
    pub event: String,
    pub call_sid: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TransferProgress {
    pub stage: TransferStage,
    pub leg_status: Option<String>,
    pub decision: Option<Decision>,
}

#[workflow]
pub struct TransferWorkflow {
    input: TransferInput,
    stage: TransferStage,
    started_at_ms: i64,
    leg: Option<String>,
    leg_status: Option<String>,
    ringing_at_ms: Option<i64>,
    answered: bool,
    machine: bool,
    decision: Option<Decision>,
    accepted_at_ms: Option<i64>,
    joined_at_ms: Option<i64>,
    caller_gone: bool,
}

#[workflow_methods]
impl TransferWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: TransferInput) -> Self {
        Self {
            input,
            stage: TransferStage::Holding,
            started_at_ms: 0,
            leg: None,
            leg_status: None,
            ringing_at_ms: None,
            answered: false,
            machine: false,
            decision: None,
            accepted_at_ms: None,
            joined_at_ms: None,
            caller_gone: false,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<TransferOutcome> {
        let input = ctx.state(|s| s.input.clone());
        let name = input.target.name.clone();
        let now = now_ms(ctx);
        ctx.state_mut(|s| s.started_at_ms = now);
        Self::record(ctx, None).await;
        let reason = Self::connect(ctx, &input).await.err();
        if let Some(reason) = reason {
            ctx.state_mut(|s| s.stage = TransferStage::Failed);
            ctx.set_current_details(format!("Not connected ({reason}): back to the agent"));
            Self::release(ctx, &input, reason).await;
        } else {
            ctx.set_current_details(format!("Connected: the caller is talking to {name}"));
        }
        Self::record(ctx, reason).await;
        Ok(ctx.state(|s| s.outcome(reason)))
    }

    /// Twilio's status callback for the person's leg.
    #[signal]
    pub fn leg_status(&mut self, ctx: &mut SyncWorkflowContext<Self>, status: LegStatus) {
        if self.leg.is_none() {
            self.leg = Some(status.call_sid.clone());
        }
        if self.leg.as_deref() != Some(status.call_sid.as_str()) {
            return;
        }
        if status.status == "ringing" && self.ringing_at_ms.is_none() {
            self.ringing_at_ms = Some(unix_ms(ctx.workflow_time()));
        }
        if status.status == "in-progress" {
            self.answered = true;
        }
        if self.leg_status.as_deref().is_none_or(|s| !leg_over(s)) {
            self.leg_status = Some(status.status);
        }
    }

    /// The caller hung up (from the parent, or the conference saw them leave).
    #[signal]
    pub fn caller_gone(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.caller_gone = true;
    }

    /// The caller's conference changed.
    #[signal]
    pub fn conference_event(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        event: ConferenceEvent,
    ) {
        let ours = event.call_sid.is_some() && event.call_sid == self.leg;
        match event.event.as_str() {
            "participant-join" if ours => {
                self.joined_at_ms
                    .get_or_insert(unix_ms(ctx.workflow_time()));
            }
            "participant-leave"
                if event.call_sid.as_deref() == Some(self.input.call_sid.as_str())
                    && !matches!(self.stage, TransferStage::Connected | TransferStage::Failed) =>
            {
                self.caller_gone = true;
            }
            _ => {}
        }
    }

    /// The person's phone was answered (Twilio's `AnsweredBy`, when it detected): what the
    /// leg does now.
    #[update]
    pub async fn employee_answered(
        ctx: &mut WorkflowContext<Self>,
        answered_by: Option<String>,
    ) -> Result<AnswerPlan, Box<dyn std::error::Error + Send + Sync>> {
        let machine = answered_by
            .as_deref()
            .is_some_and(|a| a.starts_with("machine") || a == "fax");
        let plan = ctx.state_mut(|s| {
            s.answered = true;
            if machine {
                s.machine = true;
            }
            if machine || s.caller_gone || s.stage != TransferStage::Ringing {
                AnswerPlan::HangUp
            } else {
                s.stage = TransferStage::Whispering;
                AnswerPlan::Whisper(s.input.whisper.clone())
            }
        });
        if matches!(plan, AnswerPlan::Whisper(_)) {
            let name = ctx.state(|s| s.input.target.name.clone());
            ctx.set_current_details(format!("Whispering to {name}"));
        }
        Ok(plan)
    }

    /// What the person decided after the whisper: join the caller, or not.
    #[update]
    pub async fn employee_decided(
        ctx: &mut WorkflowContext<Self>,
        decision: Decision,
    ) -> Result<DecisionPlan, Box<dyn std::error::Error + Send + Sync>> {
        let now = now_ms(ctx);
        let plan = ctx.state_mut(|s| {
            if s.decision.is_none() && s.stage == TransferStage::Whispering {
                s.decision = Some(decision);
            }
            match (s.decision, s.caller_gone, s.stage) {
                (Some(Decision::Accept), false, TransferStage::Whispering) => {
                    s.stage = TransferStage::Joining;
                    s.accepted_at_ms = Some(now);
                    DecisionPlan::Join {
                        conference: s.input.workflow_id(),
                    }
                }
                (_, true, _) => {
                    DecisionPlan::Release("Sorry, the caller has hung up. Goodbye.".into())
                }
                (Some(Decision::Message), _, _) => {
                    DecisionPlan::Release("Okay, I'll take a message for you. Goodbye.".into())
                }
                _ => DecisionPlan::Release(
                    "Okay, I'll let the caller know and offer to take a message. Goodbye.".into(),
                ),
            }
        });
        if matches!(plan, DecisionPlan::Join { .. }) {
            ctx.set_current_details("Accepted: joining the caller");
        }
        Ok(plan)
    }

    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> TransferProgress {
        TransferProgress {
            stage: self.stage,
            leg_status: self.leg_status.clone(),
            decision: self.decision,
        }
    }
}

impl TransferWorkflow {
    /// Hold, ring, whisper, join: `Ok` once the person is in the caller's conference.
    async fn connect(
        ctx: &mut WorkflowContext<Self>,
        input: &TransferInput,
    ) -> Result<(), TransferReason> {
        let name = input.target.name.clone();
        ctx.set_current_details(format!("Putting the caller on hold for {name}"));
        ctx.execute_activity(
            TransferActivities::hold_caller,
            HoldCaller {
                tenant_id: input.tenant_id,
                call_sid: input.call_sid.clone(),
                conference: input.workflow_id(),
                announcement: format!("Please hold while I connect you to {name}."),
            },
            crate::options::twilio("Hold the caller"),
        )
        .await
        .map_err(|_| TransferReason::Failed)?;

        ctx.state_mut(|s| s.stage = TransferStage::Ringing);
        ctx.set_current_details(format!("Ringing {name}"));
        let leg = ctx
            .execute_activity(
                TransferActivities::dial_person,
                DialPerson {
                    tenant_id: input.tenant_id,
                    transfer_id: input.workflow_id(),
                    to: input.target.phone.clone(),
                    from: input.business_number.clone(),
                    ring_timeout_secs: input.ring_timeout_secs,
                },
                crate::options::twilio("Ring the person"),
            )
            .await
            .map_err(|_| TransferReason::Failed)?;
        ctx.state_mut(|s| {
            s.leg.get_or_insert(leg);
        });

        Self::wait_for_answer(ctx, input).await?;
        Self::wait_for_decision(ctx, input).await?;
        Self::wait_for_join(ctx).await
    }

    /// Until the person answers, refreshing "Ringing Dr. Smith (12 s)".
    async fn wait_for_answer(
        ctx: &mut WorkflowContext<Self>,
        input: &TransferInput,
    ) -> Result<(), TransferReason> {
        let give_up = Duration::from_secs(u64::from(input.ring_timeout_secs)) + RING_GRACE;
        let mut waited = Duration::ZERO;
        loop {
            if let Some(end) = ctx.state(|s| s.ring_verdict()) {
                return end;
            }
            if waited >= give_up {
                return Err(TransferReason::NoAnswer);
            }
            temporalio_sdk::workflows::select! {
                _ = ctx.wait_condition(|s: &Self| s.ring_verdict().is_some()) => {}
                _ = ctx.timer(RING_TICK) => {
                    waited += RING_TICK;
                    ctx.set_current_details(format!(
                        "Ringing {} ({} s)",
                        input.target.name,
                        waited.as_secs()
                    ));
                }
            };
        }
    }

    /// Until the person decides (no decision in time is a decline).
    async fn wait_for_decision(
        ctx: &mut WorkflowContext<Self>,
        input: &TransferInput,
    ) -> Result<(), TransferReason> {
        let whisper_ms = input.whisper.chars().count() as u64 * WHISPER_MS_PER_CHAR;
        let timeout = Duration::from_millis(whisper_ms)
            + Duration::from_secs(u64::from(input.decision_timeout_secs) + 5);
        temporalio_sdk::workflows::select! {
            _ = ctx.wait_condition(|s: &Self| s.decision_verdict().is_some()) => {}
            _ = ctx.timer(timeout) => {}
        };
        ctx.state(|s| s.decision_verdict())
            .unwrap_or(Err(TransferReason::Declined))
    }

    /// Until the accepting person is in the conference.
    async fn wait_for_join(ctx: &mut WorkflowContext<Self>) -> Result<(), TransferReason> {
        temporalio_sdk::workflows::select! {
            _ = ctx.wait_condition(|s: &Self| s.joined_at_ms.is_some() || s.caller_gone || s.leg_ended()) => {}
            _ = ctx.timer(JOIN_TIMEOUT) => {}
        };
        ctx.state(|s| {
            if s.caller_gone {
                Err(TransferReason::CallerHungUp)
            } else if s.joined_at_ms.is_some() {
                Ok(())
            } else {
                Err(TransferReason::Failed)
            }
        })
        .inspect(|()| ctx.state_mut(|s| s.stage = TransferStage::Connected))
    }

    /// A transfer that did not connect: hang up the person's leg if it is up, and bring the
    /// caller back to the agent with the reason (unless they have hung up).
    async fn release(
        ctx: &mut WorkflowContext<Self>,
        input: &TransferInput,
        reason: TransferReason,
    ) {
        let (leg, leg_up) = ctx.state(|s| (s.leg.clone(), !s.leg_ended()));
        if let (Some(leg), true) = (leg, leg_up) {
            let _ = ctx
                .execute_activity(
                    TransferActivities::hang_up_leg,
                    leg,
                    crate::options::twilio("Hang up the person's leg"),
                )
                .await;
        }
        if reason == TransferReason::CallerHungUp || ctx.state(|s| s.caller_gone) {
            return;
        }
        let _ = ctx
            .execute_activity(
                TransferActivities::return_caller,
                ReturnCaller {
                    tenant_id: input.tenant_id,
                    call_sid: input.call_sid.clone(),
                    sentence: reason.caller_sentence(&input.target.name),
                },
                crate::options::twilio("Bring the caller back to the agent"),
            )
            .await;
    }

    /// Writes the transfer's row (started, or how it ended). A failure to record does not
    /// change what happened on the phones.
    async fn record(ctx: &mut WorkflowContext<Self>, reason: Option<TransferReason>) {
        let now = now_ms(ctx);
        let record = ctx.state(|s| RecordTransfer {
            tenant_id: s.input.tenant_id,
            transfer_id: s.input.workflow_id(),
            call_sid: s.input.call_sid.clone(),
            employee_id: s.input.target.employee_id,
            target_name: s.input.target.name.clone(),
            stage: format!("{:?}", s.stage).to_lowercase(),
            reason,
            employee_call_sid: s.leg.clone(),
            ring_after_ms: s.ringing_at_ms.map(|r| r - s.started_at_ms),
            connect_after_ms: s.connect_after_ms(),
            started_at_ms: s.started_at_ms,
            ended_at_ms: (s.stage == TransferStage::Connected || s.stage == TransferStage::Failed)
                .then_some(now),
        });
        let _ = ctx
            .execute_activity(
                TransferActivities::record_transfer,
                record,
                crate::options::twilio("Record the transfer"),
            )
            .await;
    }

    /// `Some` once ringing has a verdict: answered (`Ok`) or why not.
    fn ring_verdict(&self) -> Option<Result<(), TransferReason>> {
        if self.caller_gone {
            return Some(Err(TransferReason::CallerHungUp));
        }
        if self.machine {
            return Some(Err(TransferReason::Voicemail));
        }
        if self.stage == TransferStage::Whispering || (self.answered && !self.leg_ended()) {
            return Some(Ok(()));
        }
        match self.leg_status.as_deref() {
            Some("no-answer" | "canceled") => Some(Err(TransferReason::NoAnswer)),
            Some("busy") => Some(Err(TransferReason::Busy)),
            Some("failed") => Some(Err(TransferReason::Failed)),
            Some("completed") => Some(Err(TransferReason::Declined)),
            _ => None,
        }
    }

    /// `Some` once the whisper has a verdict: accepted (`Ok`) or why not.
    fn decision_verdict(&self) -> Option<Result<(), TransferReason>> {
        if self.caller_gone {
            return Some(Err(TransferReason::CallerHungUp));
        }
        if self.machine {
            return Some(Err(TransferReason::Voicemail));
        }
        match self.decision {
            Some(Decision::Accept) => Some(Ok(())),
            Some(Decision::Message) => Some(Err(TransferReason::MessageRequested)),
            Some(Decision::Decline | Decision::None) => Some(Err(TransferReason::Declined)),
            // Hung up without deciding.
            None if self.leg_ended() => Some(Err(TransferReason::Declined)),
            None => None,
        }
    }

    fn leg_ended(&self) -> bool {
        self.leg_status.as_deref().is_some_and(leg_over)
    }

    /// From the person's accept to their joining the caller.
    fn connect_after_ms(&self) -> Option<i64> {
        Some((self.joined_at_ms? - self.accepted_at_ms?).max(0))
    }

    fn outcome(&self, reason: Option<TransferReason>) -> TransferOutcome {
        TransferOutcome {
            reason,
            target_name: self.input.target.name.clone(),
            employee_call_sid: self.leg.clone(),
            ring_after_ms: self.ringing_at_ms.map(|r| r - self.started_at_ms),
            connect_after_ms: self.connect_after_ms(),
        }
    }
}

/// Whether a leg status is final.
fn leg_over(status: &str) -> bool {
    matches!(
        status,
        "completed" | "no-answer" | "busy" | "failed" | "canceled"
    )
}

fn now_ms(ctx: &WorkflowContext<TransferWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}
