//! Long calls: opening the call on its first run, and continuing as new before Temporal's history
//! limits, handing the next run the call's clock, what Twilio said, the conversation memory and
//! how much of the transcript is already saved.

use super::{CallPhase, CallWorkflow, activity_options, now_ms};
use crate::activities::CallActivities;
use domain::workflow_io::{
    CallCarryOver, CallMetrics, CallSummary, OpenSessionInput, RecordCallInput,
    SESSION_TTL_MARGIN_SECS, SaveTranscriptInput,
};
use temporalio_sdk::{ContinueAsNewOptions, WorkflowContext, WorkflowResult};

/// A run continues as new once its history has this many events …
const CONTINUE_AS_NEW_AT_EVENTS: u32 = 1_500;
/// … or its LLM requests have put this many bytes into it (each request is bounded by the
/// conversation window, but tool outputs can be large), or the server suggests it.
const CONTINUE_AS_NEW_AT_LLM_BYTES: usize = 2 * 1024 * 1024;

impl CallWorkflow {
    /// The first run: record the call and open its session; the call's clock starts.
    pub(super) async fn open_call(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let call = ctx.state(|s| s.input.clone());
        let workflow_id = call.call_sid.workflow_id();
        let started_at_ms = now_ms(ctx);
        ctx.state_mut(|s| s.started_at_ms = Some(started_at_ms));
        ctx.set_current_details("Recording the call");
        ctx.execute_activity(
            CallActivities::record_call,
            RecordCallInput {
                call: call.clone(),
                workflow_id: workflow_id.clone(),
                started_at_ms,
            },
            activity_options("Record call"),
        )
        .await?;
        ctx.execute_activity(
            CallActivities::open_session,
            OpenSessionInput {
                tenant_id: call.tenant_id,
                call_sid: call.call_sid.clone(),
                agent_id: call.agent_id,
                workflow_id,
                ttl_secs: u64::from(call.max_duration_secs) + SESSION_TTL_MARGIN_SECS,
                campaign: call.campaign.clone(),
            },
            activity_options("Open session"),
        )
        .await?;
        let deadline = now_ms(ctx) + i64::from(call.max_duration_secs) * 1000;
        ctx.state_mut(|s| s.max_duration_deadline_ms = Some(deadline));
        Ok(())
    }

    /// True when this run's history is long enough to hand over, and handing over is safe: the
    /// call is in conversation and no Update or Signal handler is running.
    pub(super) fn time_for_a_new_run(&self, history: &WorkflowContext<Self>) -> bool {
        let long = history.history_length() >= CONTINUE_AS_NEW_AT_EVENTS
            || self.llm_request_bytes >= CONTINUE_AS_NEW_AT_LLM_BYTES
            || history.continue_as_new_suggested();
        long && self.phase() == CallPhase::Streaming && history.all_handlers_finished()
    }

    /// Saves the transcript so far, then continues as new with what the next run needs.
    pub(super) async fn continue_as_new(
        ctx: &mut WorkflowContext<Self>,
    ) -> WorkflowResult<CallSummary> {
        ctx.set_current_details("Long call: saving the transcript and starting a new run");
        let save = ctx.state(|s| SaveTranscriptInput {
            tenant_id: s.input.tenant_id,
            call_sid: s.input.call_sid.clone(),
            first_seq: s.transcript_saved,
            segments: s.transcript.clone(),
        });
        let saved = save.segments.len();
        if saved > 0 {
            ctx.execute_activity(
                CallActivities::save_transcript,
                save,
                activity_options("Save transcript"),
            )
            .await?;
            ctx.state_mut(|s| {
                let metrics = CallMetrics::from_transcript(&s.transcript[..saved]);
                s.saved_metrics = s.saved_metrics.plus(&metrics);
                s.transcript_saved += saved as u32;
                s.transcript.drain(..saved);
            });
        }
        // Handlers that started while the transcript was saved finish in this run.
        let handlers = ctx.clone();
        ctx.wait_condition(move |_: &Self| handlers.all_handlers_finished())
            .await?;
        let next = ctx.state(|s| s.next_run_input());
        match ctx.continue_as_new(next, ContinueAsNewOptions::default()) {
            Err(termination) => Err(termination),
            Ok(never) => match never {},
        }
    }

    pub(super) fn next_run_input(&self) -> domain::workflow_io::CallWorkflowInput {
        let mut input = self.input.clone();
        input.carried = Some(Box::new(CallCarryOver {
            run: self.run + 1,
            started_at_ms: self.started_at_ms.unwrap_or(0),
            max_duration_deadline_ms: self.max_duration_deadline_ms.unwrap_or(0),
            last_status: self.last_status,
            answered_at_ms: self.answered_at_ms,
            stream_started_at_ms: self.stream_started_at_ms,
            answered_by: self.answered_by.clone(),
            tool_calls: self.tool_calls,
            user_turns: self.user_turns,
            dtmf: self.dtmf.clone(),
            memory: self.memory.clone(),
            transcript_saved: self.transcript_saved,
            saved_metrics: self.saved_metrics.clone(),
            transcript: self.transcript.clone(),
            transfers: self.transfers,
            transfer_results: self.transfer_results.clone(),
            messages_taken: self.messages_taken.clone(),
            tool_log: self.tool_log.clone(),
        }));
        input
    }

    /// A continued run takes over from the previous one.
    pub(super) fn resume(&mut self, carried: CallCarryOver) {
        self.run = carried.run;
        self.started_at_ms = Some(carried.started_at_ms);
        self.max_duration_deadline_ms = Some(carried.max_duration_deadline_ms);
        self.last_status = carried.last_status;
        self.answered_at_ms = carried.answered_at_ms;
        self.stream_started_at_ms = carried.stream_started_at_ms;
        self.answered_by = carried.answered_by;
        self.tool_calls = carried.tool_calls;
        self.user_turns = carried.user_turns;
        self.dtmf = carried.dtmf;
        self.memory = carried.memory;
        self.transcript_saved = carried.transcript_saved;
        self.saved_metrics = carried.saved_metrics;
        self.transcript = carried.transcript;
        self.transfers = carried.transfers;
        self.transfer_results = carried.transfer_results;
        self.transferred = self.transfer_results.iter().any(|r| r == "transferred");
        self.messages_taken = carried.messages_taken;
        self.tool_log = carried.tool_log;
    }
}
