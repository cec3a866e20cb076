//! `CallWorkflow`: one durable workflow per phone call, id `call-{CallSid}`.
//!
//! The story of a call, as `run` tells it: record the call, open its session, then wait —
//! for Twilio's status callbacks, the media stream starting and stopping, transcript batches —
//! until Twilio reports a final status or the agent's maximum duration elapses (then we hang
//! up through Twilio and wait for the final status). Finally persist transcript and metrics,
//! close the session and return a summary.

use crate::options::unix_ms;
use crate::{
    activities::{CallActivities, ConversationActivities},
    search_attributes,
};
use domain::{
    CallStatus, TranscriptSegment,
    conversation::{
        ChatMessage, LlmTurnInput, LlmTurnOutput, ToolCallRequest, ToolCallResult, ToolName,
        TurnReply, UserTurn, agent_tool_specs, campaign_tool_specs, enabled_tools,
    },
    memory::ConversationMemory,
    workflow_io::{
        CallMetrics, CallStatusChanged, CallSummary, CallWorkflowInput, StreamStarted,
        TranscriptBatch,
    },
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, LocalActivityOptions, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};

mod finish;
mod long_calls;
mod tools;
mod transfer;

/// Each activity attempt must finish within this.
const ACTIVITY_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// After we ask Twilio to hang up, how long we wait for its final status callback.
const FINAL_STATUS_GRACE: Duration = Duration::from_secs(120);
/// After `end_call`, how long we wait for the goodbye to be heard before hanging up anyway.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(10);
/// Rounds of LLM → tools → LLM within one caller turn.
const MAX_TOOL_ROUNDS: usize = 4;
/// Each attempt of a conversation activity (LLM, tools) must finish within this: a caller waits.
const CONVERSATION_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// The patch that added starting `message-{id}` deliveries when a call ends.
const DELIVER_MESSAGES_PATCH: &str = "deliver-messages-when-the-call-ends";
/// Calls that end while a tool call is still running (the caller hung up as the agent booked
/// an appointment; the worker running the tool died) wait for it before they are saved.
const FINISH_TOOL_CALLS_PATCH: &str = "finish-tool-calls-before-the-call-ends";
/// Calls begun since the patch ask the LLM in a local activity: the Update's workflow task runs
/// it in the worker and completes with its result (a marker in history, with the reply), one
/// workflow task where a server-scheduled activity took three round trips through the server.
const LOCAL_LLM_TURN_PATCH: &str = "llm-turn-as-a-local-activity";
/// How long an ended call waits for its running tool calls: one conversation activity's
/// attempt timed out (its worker died) and two retries.
const TOOL_CALLS_GRACE: Duration = Duration::from_secs(75);
/// What the agent says when the LLM could not produce a reply.
const FALLBACK_REPLY: &str = "Sorry, I'm having trouble right now. Could you say that again?";

/// Where the call is, as operators see it in the Temporal UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CallPhase {
    WaitingForStream,
    Streaming,
    /// The agent called `end_call` and is saying goodbye.
    AgentEnding,
    /// A warm transfer: the caller is on hold while a person is rung.
    Transferring,
    StreamEnded,
    Ended,
}

/// Why [`CallWorkflow::serve_until_call_ends`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Twilio reported a final status (the caller hung up, or the call failed).
    Twilio,
    /// The agent ended the call (`end_call`) and the goodbye was heard or timed out.
    Agent,
    /// The agent's maximum call duration elapsed.
    MaxDuration,
    /// The call goes on in a new run (its history grew long).
    ContinueAsNew,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CallProgress {
    pub phase: CallPhase,
    pub last_status: Option<CallStatus>,
    pub transcript_segments: usize,
    pub tool_calls: u32,
    pub user_turns: u32,
    pub dtmf: String,
}

#[workflow]
pub struct CallWorkflow {
    input: CallWorkflowInput,
    last_status: Option<CallStatus>,
    final_status: Option<CallStatusChanged>,
    answered_at_ms: Option<i64>,
    stream_started_at_ms: Option<i64>,
    stream_stopped: bool,
    /// Segments received and not yet saved (a long call saves them as it continues as new).
    transcript: Vec<TranscriptSegment>,
    /// Segments saved before `transcript`: the `seq` of its first one.
    transcript_saved: u32,
    /// Counts over the saved segments.
    saved_metrics: CallMetrics,
    /// The cascaded conversation as the LLM sees it: a window of recent messages and notes on
    /// the earlier ones.
    memory: ConversationMemory,
    /// Which run of the call this is (continue-as-new starts the next).
    run: u32,
    /// Unix ms (workflow time) at which the call's first run started.
    started_at_ms: Option<i64>,
    /// Unix ms at which the maximum call duration is reached.
    max_duration_deadline_ms: Option<i64>,
    /// Bytes of LLM requests this run has put into history.
    llm_request_bytes: usize,
    end_requested: bool,
    goodbye_played: bool,
    tool_calls: u32,
    user_turns: u32,
    dtmf: String,
    /// Twilio's answering machine detection result.
    answered_by: Option<domain::AnsweredBy>,
    /// Transfers attempted (the n of `transfer-{CallSid}-{n}`).
    transfers: u32,
    /// The transfer asked for and not finished yet.
    transfer: Option<domain::transfer::TransferInput>,
    /// A transfer connected the caller to a person.
    transferred: bool,
    /// How each transfer ended (`transferred`, `no_answer` …).
    transfer_results: Vec<String>,
    /// Ids of the messages taken in this call.
    messages_taken: Vec<String>,
    /// The tool calls so far (at most [`ToolCallRecord::MAX_PER_CALL`]), for the timeline.
    tool_log: Vec<domain::workflow_io::ToolCallRecord>,
}

#[workflow_methods]
impl CallWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CallWorkflowInput) -> Self {
        Self::from_input(input)
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<CallSummary> {
        if ctx.state(|s| s.run == 0) {
            Self::open_call(ctx).await?;
        }
        let ending = Self::serve_until_call_ends(ctx).await;
        if ending == Ending::ContinueAsNew {
            return Self::continue_as_new(ctx).await;
        }
        if ending != Ending::Twilio && ctx.state(|s| s.final_status.is_none()) {
            Self::hang_up(ctx, ending == Ending::MaxDuration).await?;
        }

        Self::finish_running_tool_calls(ctx).await;
        ctx.set_current_details("Saving transcript and metrics");
        let ended_at_ms = now_ms(ctx);
        let finish = ctx.state(|s| s.finish_input(ending == Ending::MaxDuration, ended_at_ms));
        ctx.execute_activity(
            CallActivities::finish_call,
            finish.clone(),
            activity_options("Save call"),
        )
        .await?;
        let call_ref = ctx.state(|s| s.input.call_ref());
        ctx.execute_activity(
            CallActivities::close_session,
            call_ref,
            activity_options("Close session"),
        )
        .await?;
        Self::send_followup_sms(ctx, &finish).await?;
        // Calls that began before message delivery existed end as they began.
        if ctx.patched(DELIVER_MESSAGES_PATCH) {
            Self::deliver_messages(ctx).await?;
        }
        ctx.upsert_search_attributes([
            search_attributes::CALL_OUTCOME.value_set(finish.outcome.as_str().to_owned())
        ]);
        ctx.set_current_details(format!(
            "Ended: {} after {} s",
            finish.outcome, finish.duration_secs
        ));
        Ok(CallSummary {
            call_sid: finish.call_sid,
            outcome: finish.outcome,
            final_status: finish.final_status,
            duration_secs: finish.duration_secs,
            turns: finish.transcript_first_seq + finish.transcript.len() as u32,
        })
    }

    /// A tool call still running when the call ends (an appointment being booked, a message
    /// being taken) finishes first, within [`TOOL_CALLS_GRACE`]: what the caller asked for is
    /// done even though they are gone. Nothing is waited for (and nothing recorded) otherwise.
    async fn finish_running_tool_calls(ctx: &mut WorkflowContext<Self>) {
        if ctx.all_handlers_finished() || !ctx.patched(FINISH_TOOL_CALLS_PATCH) {
            return;
        }
        ctx.set_current_details("The call ended: finishing the tool calls still running");
        let handlers = ctx.clone();
        temporalio_sdk::workflows::select! {
            _ = ctx.wait_condition(move |_: &Self| handlers.all_handlers_finished()) => {}
            _ = ctx.timer(TOOL_CALLS_GRACE) => {}
        };
    }

    /// Follows the call through its phases until Twilio reports a final status, the agent ends
    /// the call, the maximum duration elapses, or a long call's history asks for a new run.
    async fn serve_until_call_ends(ctx: &mut WorkflowContext<Self>) -> Ending {
        let deadline = ctx.state(|s| s.max_duration_deadline_ms.unwrap_or(0));
        let remaining = u64::try_from(deadline - now_ms(ctx)).unwrap_or(0);
        let max_duration_timer = ctx.timer(Duration::from_millis(remaining));
        let mut max_duration_timer = std::pin::pin!(max_duration_timer);
        loop {
            let phase = ctx.state(|s| s.phase());
            ctx.set_current_details(phase.describe());
            match phase {
                CallPhase::Ended => return Ending::Twilio,
                CallPhase::AgentEnding => {
                    temporalio_sdk::workflows::select! {
                        _ = ctx.wait_condition(|s: &Self| s.goodbye_played || s.stream_stopped || s.final_status.is_some()) => {}
                        _ = ctx.timer(GOODBYE_TIMEOUT) => {}
                        _ = max_duration_timer.as_mut() => return Ending::MaxDuration,
                    };
                    return Ending::Agent;
                }
                CallPhase::Transferring => Self::serve_transfer(ctx).await,
                CallPhase::Streaming => {
                    let history = ctx.clone();
                    temporalio_sdk::workflows::select! {
                        _ = ctx.wait_condition(move |s: &Self| s.phase() != phase) => {}
                        _ = ctx.wait_condition(move |s: &Self| s.time_for_a_new_run(&history)) => return Ending::ContinueAsNew,
                        _ = max_duration_timer.as_mut() => return Ending::MaxDuration,
                    };
                }
                _ => {
                    temporalio_sdk::workflows::select! {
                        _ = ctx.wait_condition(move |s: &Self| s.phase() != phase) => {}
                        _ = max_duration_timer.as_mut() => return Ending::MaxDuration,
                    };
                }
            }
        }
    }

    /// A model asks for a tool (speech-to-speech engines). Validated first: unknown tools,
    /// arguments that are not a JSON object, and calls after the call ended are rejected
    /// without touching history.
    #[update]
    pub async fn tool_call(
        ctx: &mut WorkflowContext<Self>,
        request: ToolCallRequest,
    ) -> Result<ToolCallResult, Box<dyn std::error::Error + Send + Sync>> {
        let output = Self::run_tool(ctx, &request.call_id, &request.name, &request.arguments).await;
        Ok(ToolCallResult {
            output,
            end_call: ctx.state(|s| s.stream_ends_after_reply()),
        })
    }

    #[update_validator(tool_call)]
    pub fn validate_tool_call(
        &self,
        _ctx: &WorkflowContextView,
        request: &ToolCallRequest,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.accepting_conversation()?;
        let Some(tool) = ToolName::parse(&request.name) else {
            return Err(format!("unknown tool `{}`", request.name).into());
        };
        if !self.offers(tool) {
            return Err(format!("`{}` is not one of this agent's tools", request.name).into());
        }
        match serde_json::from_str::<serde_json::Value>(&request.arguments) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(format!("arguments of `{}` are not a JSON object", request.name).into()),
        }
    }

    /// A finished caller turn of a cascaded engine: ask the LLM (an activity), run the tools it
    /// calls, and return what the agent says.
    #[update]
    pub async fn user_turn(
        ctx: &mut WorkflowContext<Self>,
        turn: UserTurn,
    ) -> Result<TurnReply, Box<dyn std::error::Error + Send + Sync>> {
        let (tenant_id, agent_id, caller_id) = ctx.state_mut(|s| {
            s.user_turns += 1;
            s.memory.push(ChatMessage::user(turn.text.trim()));
            (s.input.tenant_id, s.input.agent_id, s.input.other_party())
        });
        if ctx.state(|s| s.transfer.is_some()) {
            return Ok(TurnReply::quiet_until_the_stream_ends());
        }
        ctx.set_current_details("Thinking about the caller's turn");
        let mut reply = None;
        for _ in 0..MAX_TOOL_ROUNDS {
            let input = ctx.state_mut(|s| {
                let input = LlmTurnInput {
                    tenant_id,
                    agent_id,
                    messages: s.memory.request(),
                    tools: s.offered_tools(),
                    caller_id: Some(caller_id.clone()),
                    earlier_messages: s.memory.earlier,
                    campaign_line: s.campaign_line(),
                };
                s.llm_request_bytes += serde_json::to_vec(&input).map_or(0, |b| b.len());
                input
            });
            let Some(llm) = Self::ask_llm(ctx, input).await else {
                break;
            };
            let message = llm.message;
            ctx.state_mut(|s| s.memory.push(message.clone()));
            if message.tool_calls.is_empty() {
                // An empty answer is the model choosing silence (the rule dialog's, while the
                // caller keys in digits): nothing is said, and that is not a failure.
                reply = Some(message.content.unwrap_or_default().trim().to_owned());
                break;
            }
            for call in &message.tool_calls {
                let output = Self::run_tool(ctx, &call.id, &call.name, &call.arguments).await;
                ctx.state_mut(|s| {
                    s.memory
                        .push(ChatMessage::tool_result(call.id.clone(), output))
                });
            }
        }
        ctx.set_current_details(CallPhase::Streaming.describe());
        Ok(TurnReply {
            text: reply.unwrap_or_else(|| FALLBACK_REPLY.to_owned()),
            end_call: ctx.state(|s| s.stream_ends_after_reply()),
        })
    }

    /// One model call: a local activity for calls begun since [`LOCAL_LLM_TURN_PATCH`], a
    /// server-scheduled one before. `None` once its attempts have failed.
    async fn ask_llm(
        ctx: &mut WorkflowContext<Self>,
        input: LlmTurnInput,
    ) -> Option<LlmTurnOutput> {
        let llm = if ctx.patched(LOCAL_LLM_TURN_PATCH) {
            ctx.execute_local_activity(
                ConversationActivities::llm_turn,
                input,
                conversation_local_options("LLM turn"),
            )
            .await
        } else {
            ctx.execute_activity(
                ConversationActivities::llm_turn,
                input,
                conversation_activity_options("LLM turn"),
            )
            .await
        };
        llm.ok()
    }

    #[update_validator(user_turn)]
    pub fn validate_user_turn(
        &self,
        _ctx: &WorkflowContextView,
        turn: &UserTurn,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.accepting_conversation()?;
        if turn.text.trim().is_empty() {
            return Err("a user turn needs text".into());
        }
        Ok(())
    }

    /// The goodbye after `end_call` has been heard: hang up now.
    #[signal]
    pub fn goodbye_played(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.goodbye_played = true;
    }

    /// Twilio's answering machine detection said who picked up (`human`, `machine_end_beep` …).
    #[signal]
    pub fn answered_by(
        &mut self,
        _ctx: &mut SyncWorkflowContext<Self>,
        answered_by: domain::AnsweredBy,
    ) {
        self.answered_by.get_or_insert(answered_by);
    }

    /// A DTMF digit the caller pressed.
    #[signal]
    pub fn dtmf(&mut self, _ctx: &mut SyncWorkflowContext<Self>, digit: String) {
        if let Some(d) = digit
            .chars()
            .next()
            .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
        {
            self.dtmf.push(d);
        }
    }

    /// A Twilio call status callback.
    #[signal]
    pub fn call_status_changed(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        update: CallStatusChanged,
    ) {
        self.apply_status(update, sync_now_ms(ctx));
    }

    /// A media stream started: the call's first, or the caller back from a transfer.
    #[signal]
    pub fn stream_started(&mut self, ctx: &mut SyncWorkflowContext<Self>, _started: StreamStarted) {
        let now = sync_now_ms(ctx);
        self.stream_stopped = false;
        self.stream_started_at_ms.get_or_insert(now);
        // A connected media stream means the call was answered, whatever callbacks say.
        self.answered_at_ms.get_or_insert(now);
    }

    #[signal]
    pub fn stream_stopped(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.stream_stopped = true;
    }

    #[signal]
    pub fn transcript_batch(
        &mut self,
        _ctx: &mut SyncWorkflowContext<Self>,
        batch: TranscriptBatch,
    ) {
        self.transcript.extend(batch.segments);
    }

    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> CallProgress {
        CallProgress {
            phase: self.phase(),
            last_status: self.last_status,
            transcript_segments: self.transcript_saved as usize + self.transcript.len(),
            tool_calls: self.tool_calls,
            user_turns: self.user_turns,
            dtmf: self.dtmf.clone(),
        }
    }
}

impl CallWorkflow {
    /// The state of a new run: the first, or one continuing a long call.
    fn from_input(mut input: CallWorkflowInput) -> Self {
        let carried = input.carried.take();
        let mut call = Self {
            input,
            last_status: None,
            final_status: None,
            answered_at_ms: None,
            stream_started_at_ms: None,
            stream_stopped: false,
            transcript: Vec::new(),
            transcript_saved: 0,
            saved_metrics: CallMetrics::default(),
            memory: ConversationMemory::default(),
            run: 0,
            started_at_ms: None,
            max_duration_deadline_ms: None,
            llm_request_bytes: 0,
            end_requested: false,
            goodbye_played: false,
            tool_calls: 0,
            user_turns: 0,
            dtmf: String::new(),
            answered_by: None,
            transfers: 0,
            transfer: None,
            transferred: false,
            transfer_results: Vec::new(),
            messages_taken: Vec::new(),
            tool_log: Vec::new(),
        };
        if let Some(carried) = carried {
            call.resume(*carried);
        }
        call
    }

    fn apply_status(&mut self, update: CallStatusChanged, now: i64) {
        if self.final_status.is_some() {
            return;
        }
        if update.status == CallStatus::InProgress && self.answered_at_ms.is_none() {
            self.answered_at_ms = Some(now);
        }
        // Twilio's `completed` means the call was answered and ended normally, even if no
        // `in-progress` callback was asked for (a number's callback gets only the final
        // status) and the media stream never connected: it was answered `CallDuration` ago.
        if update.status == CallStatus::Completed && self.answered_at_ms.is_none() {
            let duration_ms = i64::from(update.duration_secs.unwrap_or(0)) * 1000;
            self.answered_at_ms = Some(now - duration_ms);
        }
        self.last_status = Some(update.status);
        if update.status.is_final() {
            self.final_status = Some(update);
        }
    }

    fn phase(&self) -> CallPhase {
        if self.final_status.is_some() {
            CallPhase::Ended
        } else if self.end_requested {
            CallPhase::AgentEnding
        } else if self.transfer.is_some() {
            CallPhase::Transferring
        } else if self.stream_stopped {
            CallPhase::StreamEnded
        } else if self.stream_started_at_ms.is_some() {
            CallPhase::Streaming
        } else {
            CallPhase::WaitingForStream
        }
    }

    /// The tools the model is offered: a campaign's call has its own.
    fn offered_tools(&self) -> Vec<domain::conversation::ToolSpec> {
        match self.input.campaign {
            Some(_) => campaign_tool_specs(),
            None => agent_tool_specs(self.input.tools.as_deref()),
        }
    }

    /// Whether the agent offers `tool` on this call: a receptionist tool it has enabled (all,
    /// unless it chose), or any other (a campaign's tools are the campaign's).
    fn offers(&self, tool: ToolName) -> bool {
        self.input.campaign.is_some()
            || !ToolName::RECEPTIONIST.contains(&tool)
            || enabled_tools(self.input.tools.as_deref()).contains(&tool)
    }

    /// A campaign's call: the script line the LLM's system prompt gets.
    fn campaign_line(&self) -> Option<String> {
        let campaign = self.input.campaign.as_ref()?;
        Some(campaign.instruction_line.clone())
    }

    /// Whether a media stream is up now.
    fn stream_live(&self) -> bool {
        self.stream_started_at_ms.is_some() && !self.stream_stopped
    }

    /// The agent's reply is its last words on this stream: a goodbye, or "please hold".
    fn stream_ends_after_reply(&self) -> bool {
        self.end_requested || self.transfer.is_some()
    }

    fn accepting_conversation(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if self.final_status.is_some() {
            return Err("the call has ended".into());
        }
        Ok(())
    }
}

impl CallPhase {
    fn describe(self) -> &'static str {
        match self {
            Self::WaitingForStream => "Ringing: waiting for the media stream",
            Self::Streaming => "In conversation",
            Self::AgentEnding => "The agent is saying goodbye",
            Self::Transferring => "Transferring the caller",
            Self::StreamEnded => "Media stream ended: waiting for Twilio's final status",
            Self::Ended => "Call ended",
        }
    }
}

fn activity_options(summary: &str) -> ActivityOptions {
    crate::options::retried(
        summary,
        ACTIVITY_ATTEMPT_TIMEOUT,
        Duration::from_millis(200),
        Duration::from_secs(30),
        None,
    )
}

/// Conversation activities: each attempt within [`CONVERSATION_ATTEMPT_TIMEOUT`], three
/// attempts 200 ms to 2 s apart.
const CONVERSATION_RETRY: crate::options::Retry = crate::options::Retry {
    attempt_timeout: CONVERSATION_ATTEMPT_TIMEOUT,
    first_retry: Duration::from_millis(200),
    max_interval: Duration::from_secs(2),
    max_attempts: Some(3),
};

fn conversation_activity_options(summary: &str) -> ActivityOptions {
    CONVERSATION_RETRY.activity(summary)
}

fn conversation_local_options(summary: &str) -> LocalActivityOptions {
    CONVERSATION_RETRY.local_activity(summary)
}

pub(super) fn now_ms(ctx: &WorkflowContext<CallWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}

fn sync_now_ms(ctx: &SyncWorkflowContext<CallWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}
