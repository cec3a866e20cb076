//! The end of a call: hanging up when we end it, what is saved (status, outcome, duration,
//! transcript, metrics) and the follow-up SMS.

use super::{CallWorkflow, FINAL_STATUS_GRACE, activity_options};
use crate::activities::{CallActivities, NotifyActivities};
use domain::message::MessageDeliveryInput;
use domain::{
    CallDirection, CallOutcome, CallStatus,
    workflow_io::{CallChannel, CallMetrics, FinishCallInput, FollowUpSms},
};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

impl CallWorkflow {
    /// We end the call (the agent's goodbye, or the maximum duration): hang up through Twilio
    /// and give its final status callback a while to arrive.
    pub(super) async fn hang_up(
        ctx: &mut WorkflowContext<Self>,
        reached_max_duration: bool,
    ) -> WorkflowResult<()> {
        ctx.set_current_details(if reached_max_duration {
            "Maximum duration reached: hanging up"
        } else {
            "The agent ended the call: hanging up"
        });
        let call_ref = ctx.state(|s| s.input.call_ref());
        if ctx.state(|s| s.input.channel == CallChannel::Browser) {
            // A browser call's carrier is its socket, which closes when the call's session
            // does: the bridge then sends the last words and the socket reports the call
            // completed, as Twilio would after a hang-up.
            ctx.execute_activity(
                CallActivities::close_session,
                call_ref,
                activity_options("Hang up the browser call"),
            )
            .await?;
        } else {
            ctx.execute_activity(
                CallActivities::hang_up_call,
                call_ref,
                activity_options("Hang up"),
            )
            .await?;
        }
        temporalio_sdk::workflows::select! {
            _ = ctx.wait_condition(|s: &Self| s.final_status.is_some()) => {}
            _ = ctx.timer(FINAL_STATUS_GRACE) => {}
        };
        Ok(())
    }

    /// Texts the caller after an answered, completed inbound call when the agent has a
    /// follow-up SMS. No caller ID, no SMS: a withheld number cannot be texted.
    pub(super) async fn send_followup_sms(
        ctx: &mut WorkflowContext<Self>,
        finish: &FinishCallInput,
    ) -> WorkflowResult<()> {
        let call = ctx.state(|s| s.input.clone());
        let wanted = finish.answered_at_ms.is_some()
            && call.direction == CallDirection::Inbound
            && finish.outcome == CallOutcome::Completed;
        let (Some(body), Some(caller)) = (
            call.followup_sms.clone().filter(|_| wanted),
            call.from.number().cloned(),
        ) else {
            return Ok(());
        };
        ctx.set_current_details("Texting the caller a follow-up");
        ctx.execute_activity(
            CallActivities::send_followup_sms,
            FollowUpSms {
                tenant_id: call.tenant_id,
                call_sid: call.call_sid.clone(),
                from: call.to.clone(),
                to: caller,
                body,
            },
            activity_options("Follow-up SMS"),
        )
        .await?;
        Ok(())
    }

    /// Starts the delivery of every message taken in the call (`message-{id}`), once the
    /// caller can no longer correct them.
    pub(super) async fn deliver_messages(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let (tenant_id, ids) = ctx.state(|s| (s.input.tenant_id, s.messages_taken.clone()));
        for id in ids {
            let Ok(message_id) = uuid::Uuid::parse_str(&id) else {
                continue;
            };
            ctx.execute_activity(
                NotifyActivities::start_message_delivery,
                MessageDeliveryInput {
                    tenant_id,
                    message_id,
                },
                activity_options("Deliver the message"),
            )
            .await?;
        }
        Ok(())
    }

    pub(super) fn finish_input(
        &self,
        reached_max_duration: bool,
        ended_at_ms: i64,
    ) -> FinishCallInput {
        let final_status = self
            .final_status
            .as_ref()
            .map(|f| f.status)
            .unwrap_or(CallStatus::Completed);
        let measured_secs =
            |from: i64| u32::try_from((ended_at_ms - from).max(0) / 1000).unwrap_or(0);
        let duration_secs = self
            .final_status
            .as_ref()
            .and_then(|f| f.duration_secs)
            .unwrap_or_else(|| self.answered_at_ms.map(measured_secs).unwrap_or(0));
        let started_at_ms = self.started_at_ms.unwrap_or(0);
        let mut metrics = self
            .saved_metrics
            .plus(&CallMetrics::from_transcript(&self.transcript));
        metrics.stream_connect_ms = self
            .stream_started_at_ms
            .map(|s| (s - started_at_ms).max(0) as u64);
        FinishCallInput {
            tenant_id: self.input.tenant_id,
            call_sid: self.input.call_sid.clone(),
            final_status,
            outcome: self.outcome(reached_max_duration, final_status),
            duration_secs,
            answered_at_ms: self.answered_at_ms,
            ended_at_ms,
            answered_by: self.answered_by.clone(),
            transcript: self.transcript.clone(),
            transcript_first_seq: self.transcript_saved,
            metrics,
            transfer_result: self.transfer_results.last().cloned(),
            tool_calls: self.tool_log.clone(),
        }
    }

    fn outcome(&self, reached_max_duration: bool, final_status: CallStatus) -> CallOutcome {
        if self.transferred {
            CallOutcome::Transferred
        } else if reached_max_duration {
            CallOutcome::MaxDurationReached
        } else if self
            .answered_by
            .as_ref()
            .is_some_and(domain::AnsweredBy::is_machine)
        {
            CallOutcome::Voicemail
        } else {
            CallOutcome::from_final_status(final_status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{
        AgentId, CallSid, E164, TenantId,
        workflow_io::{CallStatusChanged, CallWorkflowInput},
    };

    fn answered_call(final_status: Option<CallStatusChanged>) -> CallWorkflow {
        let mut call = CallWorkflow::from_input(CallWorkflowInput {
            call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            tenant_id: TenantId::new(),
            agent_id: AgentId::new(),
            agent_name: "Receptionist".into(),
            direction: CallDirection::Inbound,
            from: E164::parse("+14155550199").unwrap().into(),
            to: E164::parse("+15005550006").unwrap(),
            max_duration_secs: 60,
            followup_sms: None,
            carried: None,
            campaign: None,
            channel: Default::default(),
            tools: None,
        });
        call.final_status = final_status;
        call.started_at_ms = Some(1_000);
        call.answered_at_ms = Some(2_000);
        call.stream_started_at_ms = Some(2_500);
        call
    }

    #[test]
    fn an_agent_offers_the_tools_it_chose_and_always_end_call() {
        use domain::conversation::ToolName;
        let mut call = answered_call(None);
        assert!(call.offers(ToolName::TransferCall), "all, unless it chose");
        call.input.tools = Some(vec!["take_message".into()]);
        assert!(call.offers(ToolName::TakeMessage));
        assert!(call.offers(ToolName::EndCall));
        assert!(!call.offers(ToolName::TransferCall));
        let offered: Vec<String> = call.offered_tools().into_iter().map(|t| t.name).collect();
        assert_eq!(offered, ["end_call", "take_message"]);
    }

    #[test]
    fn without_twilios_call_duration_the_duration_is_measured_from_answer_to_end() {
        let finish = answered_call(None).finish_input(true, 62_000);
        assert_eq!(finish.duration_secs, 60);
        assert_eq!(finish.ended_at_ms, 62_000);
        assert_eq!(finish.outcome, CallOutcome::MaxDurationReached);
        assert_eq!(finish.metrics.stream_connect_ms, Some(1_500));
    }

    #[test]
    fn twilios_call_duration_wins_over_the_measured_one() {
        let reported = CallStatusChanged {
            status: CallStatus::Completed,
            duration_secs: Some(42),
        };
        let finish = answered_call(Some(reported)).finish_input(false, 62_000);
        assert_eq!(finish.duration_secs, 42);
        assert_eq!(finish.outcome, CallOutcome::Completed);
    }

    #[test]
    fn a_completed_call_was_answered_even_if_its_stream_never_connected() {
        let mut call = answered_call(None);
        call.answered_at_ms = None;
        call.stream_started_at_ms = None;
        call.apply_status(
            CallStatusChanged {
                status: CallStatus::Completed,
                duration_secs: Some(3),
            },
            10_000,
        );
        assert_eq!(call.answered_at_ms, Some(7_000));

        let mut unanswered = answered_call(None);
        unanswered.answered_at_ms = None;
        unanswered.apply_status(
            CallStatusChanged {
                status: CallStatus::NoAnswer,
                duration_secs: Some(0),
            },
            10_000,
        );
        assert_eq!(unanswered.answered_at_ms, None);
    }

    #[test]
    fn a_continued_run_takes_over_the_call_and_saves_only_the_new_segments() {
        use domain::{Speaker, TranscriptSegment, conversation::ChatMessage};
        let segment = |speaker, text: &str| TranscriptSegment {
            speaker,
            text: text.into(),
            start_ms: 0,
            end_ms: 1,
            interrupted: false,
        };
        let mut call = answered_call(None);
        call.max_duration_deadline_ms = Some(61_000);
        call.memory.push(ChatMessage::user("I'm Alice."));
        call.transcript = vec![segment(Speaker::Caller, "I'm Alice.")];
        call.transcript_saved = 40;
        call.saved_metrics = CallMetrics {
            caller_turns: 20,
            agent_turns: 20,
            interruptions: 2,
            stream_connect_ms: None,
        };
        call.user_turns = 21;
        let json = serde_json::to_string(&call.next_run_input()).unwrap();
        let next = CallWorkflow::from_input(serde_json::from_str(&json).unwrap());
        assert_eq!(next.run, 1);
        assert!(
            next.input.carried.is_none(),
            "the input is not carried twice"
        );
        assert_eq!(next.memory, call.memory);
        assert_eq!(next.max_duration_deadline_ms, Some(61_000));
        assert_eq!(next.user_turns, 21);
        let finish = next.finish_input(false, 70_000);
        assert_eq!(finish.transcript_first_seq, 40);
        assert_eq!(finish.transcript.len(), 1);
        assert_eq!(finish.metrics.caller_turns, 21);
        assert_eq!(finish.metrics.interruptions, 2);
        assert_eq!(finish.metrics.stream_connect_ms, Some(1_500));
    }
}
