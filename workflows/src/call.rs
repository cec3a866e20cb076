//! `CallWorkflow`: one durable workflow per phone call, id `call-{CallSid}`.
//!
//! The story of a call, as `run` tells it: record the call, open its session, then wait —
//! for Twilio's status callbacks, the media stream starting and stopping, transcript batches —
//! until Twilio reports a final status or the agent's maximum duration elapses (then we hang
//! up through Twilio and wait for the final status). Finally persist transcript and metrics,
//! close the session and return a summary.

use crate::{
    activities::{CallActivities, ConversationActivities, TakeMessageRequest},
    search_attributes,
};
use domain::{
    CallOutcome, CallStatus, TranscriptSegment,
    conversation::{
        ChatMessage, KnowledgeQuery, LlmTurnInput, TakeMessageInput, ToolCallRequest,
        ToolCallResult, ToolName, TurnReply, UserTurn, tool_specs,
    },
    workflow_io::{
        CallMetrics, CallRef, CallStatusChanged, CallSummary, CallWorkflowInput, FinishCallInput,
        FollowUpSms, OpenSessionInput, RecordCallInput, StreamStarted, TranscriptBatch,
    },
};
use std::time::{Duration, UNIX_EPOCH};
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

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
/// What the agent says when the LLM could not produce a reply.
const FALLBACK_REPLY: &str = "Sorry, I'm having trouble right now. Could you say that again?";

/// Where the call is, as operators see it in the Temporal UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CallPhase {
    WaitingForStream,
    Streaming,
    /// The agent called `end_call` and is saying goodbye.
    AgentEnding,
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
    transcript: Vec<TranscriptSegment>,
    /// The cascaded conversation as the LLM sees it (user, assistant and tool messages).
    conversation: Vec<ChatMessage>,
    end_requested: bool,
    goodbye_played: bool,
    tool_calls: u32,
    user_turns: u32,
    dtmf: String,
    /// Twilio's answering machine detection result.
    answered_by: Option<domain::AnsweredBy>,
}

#[workflow_methods]
impl CallWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CallWorkflowInput) -> Self {
        Self {
            input,
            last_status: None,
            final_status: None,
            answered_at_ms: None,
            stream_started_at_ms: None,
            stream_stopped: false,
            transcript: Vec::new(),
            conversation: Vec::new(),
            end_requested: false,
            goodbye_played: false,
            tool_calls: 0,
            user_turns: 0,
            dtmf: String::new(),
            answered_by: None,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<CallSummary> {
        let call = ctx.state(|s| s.input.clone());
        let workflow_id = call.call_sid.workflow_id();
        let call_ref = CallRef {
            tenant_id: call.tenant_id,
            call_sid: call.call_sid.clone(),
        };
        let started_at_ms = now_ms(ctx);

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
                ttl_secs: u64::from(call.max_duration_secs)
                    + domain::workflow_io::SESSION_TTL_MARGIN_SECS,
            },
            activity_options("Open session"),
        )
        .await?;

        let max_duration = Duration::from_secs(u64::from(call.max_duration_secs));
        let ending = Self::serve_until_call_ends(ctx, max_duration).await;
        let reached_max_duration = ending == Ending::MaxDuration;
        if ending != Ending::Twilio && ctx.state(|s| s.final_status.is_none()) {
            ctx.set_current_details(if reached_max_duration {
                "Maximum duration reached: hanging up"
            } else {
                "The agent ended the call: hanging up"
            });
            ctx.execute_activity(
                CallActivities::hang_up_call,
                call_ref.clone(),
                activity_options("Hang up"),
            )
            .await?;
            temporalio_sdk::workflows::select! {
                _ = ctx.wait_condition(|s: &Self| s.final_status.is_some()) => {}
                _ = ctx.timer(FINAL_STATUS_GRACE) => {}
            };
        }

        ctx.set_current_details("Saving transcript and metrics");
        let ended_at_ms = now_ms(ctx);
        let finish =
            ctx.state(|s| s.finish_input(reached_max_duration, started_at_ms, ended_at_ms));
        ctx.execute_activity(
            CallActivities::finish_call,
            finish.clone(),
            activity_options("Save call"),
        )
        .await?;
        ctx.execute_activity(
            CallActivities::close_session,
            call_ref,
            activity_options("Close session"),
        )
        .await?;
        let answered = finish.answered_at_ms.is_some();
        // No caller ID, no SMS: a withheld number cannot be texted.
        let caller = call.from.number().cloned();
        if let (Some(body), Some(caller)) = (
            call.followup_sms.clone().filter(|_| {
                answered
                    && call.direction == domain::CallDirection::Inbound
                    && finish.outcome == CallOutcome::Completed
            }),
            caller,
        ) {
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
            turns: finish.transcript.len() as u32,
        })
    }

    /// Follows the call through its phases until Twilio reports a final status, the agent ends
    /// the call, or the maximum duration elapses.
    async fn serve_until_call_ends(
        ctx: &mut WorkflowContext<Self>,
        max_duration: Duration,
    ) -> Ending {
        let max_duration_timer = ctx.timer(max_duration);
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
                _ => {}
            }
            temporalio_sdk::workflows::select! {
                _ = ctx.wait_condition(move |s: &Self| s.phase() != phase) => {}
                _ = max_duration_timer.as_mut() => return Ending::MaxDuration,
            };
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
            end_call: ctx.state(|s| s.end_requested),
        })
    }

    #[update_validator(tool_call)]
    pub fn validate_tool_call(
        &self,
        _ctx: &WorkflowContextView,
        request: &ToolCallRequest,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.accepting_conversation()?;
        if ToolName::parse(&request.name).is_none() {
            return Err(format!("unknown tool `{}`", request.name).into());
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
            s.conversation.push(ChatMessage::user(turn.text.trim()));
            (s.input.tenant_id, s.input.agent_id, s.input.other_party())
        });
        ctx.set_current_details("Thinking about the caller's turn");
        let mut reply = None;
        for _ in 0..MAX_TOOL_ROUNDS {
            let messages = ctx.state(|s| s.conversation.clone());
            let llm = ctx
                .execute_activity(
                    ConversationActivities::llm_turn,
                    LlmTurnInput {
                        tenant_id,
                        agent_id,
                        messages,
                        tools: tool_specs(),
                        caller_id: Some(caller_id.clone()),
                    },
                    conversation_activity_options("LLM turn"),
                )
                .await;
            let Ok(llm) = llm else {
                break;
            };
            let message = llm.message;
            ctx.state_mut(|s| s.conversation.push(message.clone()));
            if message.tool_calls.is_empty() {
                // An empty answer is the model choosing silence (the rule dialog's, while the
                // caller keys in digits): nothing is said, and that is not a failure.
                reply = Some(message.content.unwrap_or_default().trim().to_owned());
                break;
            }
            for call in &message.tool_calls {
                let output = Self::run_tool(ctx, &call.id, &call.name, &call.arguments).await;
                ctx.state_mut(|s| {
                    s.conversation
                        .push(ChatMessage::tool_result(call.id.clone(), output))
                });
            }
        }
        let text = reply.unwrap_or_else(|| FALLBACK_REPLY.to_owned());
        ctx.set_current_details(CallPhase::Streaming.describe());
        Ok(TurnReply {
            text,
            end_call: ctx.state(|s| s.end_requested),
        })
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

    #[signal]
    pub fn stream_started(&mut self, ctx: &mut SyncWorkflowContext<Self>, _started: StreamStarted) {
        let now = sync_now_ms(ctx);
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
            transcript_segments: self.transcript.len(),
            tool_calls: self.tool_calls,
            user_turns: self.user_turns,
            dtmf: self.dtmf.clone(),
        }
    }
}

impl CallWorkflow {
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
        } else if self.stream_stopped {
            CallPhase::StreamEnded
        } else if self.stream_started_at_ms.is_some() {
            CallPhase::Streaming
        } else {
            CallPhase::WaitingForStream
        }
    }

    fn accepting_conversation(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if self.final_status.is_some() {
            return Err("the call has ended".into());
        }
        Ok(())
    }

    /// Runs one tool and returns the JSON text the model gets back. Tool failures are answers
    /// too (`{"error": …}`), so the model can tell the caller instead of the call breaking.
    async fn run_tool(
        ctx: &mut WorkflowContext<Self>,
        call_id: &str,
        name: &str,
        arguments: &str,
    ) -> String {
        let (tenant_id, call_sid) = ctx.state_mut(|s| {
            s.tool_calls += 1;
            (s.input.tenant_id, s.input.call_sid.clone())
        });
        let args: serde_json::Value =
            serde_json::from_str(arguments).unwrap_or(serde_json::Value::Null);
        let text = |key: &str| {
            args.get(key)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let output = match ToolName::parse(name) {
            None => serde_json::json!({"error": format!("unknown tool {name}")}),
            Some(ToolName::EndCall) => {
                ctx.state_mut(|s| s.end_requested = true);
                ctx.set_current_details(CallPhase::AgentEnding.describe());
                serde_json::json!({"ok": true, "next": "Say a short goodbye now; the call ends after it."})
            }
            Some(ToolName::TransferCall) => serde_json::json!({
                "ok": false,
                "error": "Transfers are not available yet. Offer to take a message instead."
            }),
            Some(ToolName::LookupKnowledge) => match text("query") {
                None => serde_json::json!({"error": "query is required"}),
                Some(query) => {
                    ctx.set_current_details("Looking up the knowledge base");
                    let hits = ctx
                        .execute_activity(
                            ConversationActivities::lookup_knowledge,
                            KnowledgeQuery {
                                tenant_id,
                                query,
                                limit: 3,
                            },
                            conversation_activity_options("Look up knowledge"),
                        )
                        .await;
                    match hits {
                        Ok(hits) if hits.is_empty() => serde_json::json!({
                            "results": [],
                            "note": "Nothing in the knowledge base answers this. Say you don't know; offer to take a message."
                        }),
                        Ok(hits) => serde_json::json!({"results": hits}),
                        Err(_) => serde_json::json!({"error": "the knowledge base is unavailable"}),
                    }
                }
            },
            Some(ToolName::TakeMessage) => match (text("caller_name"), text("message")) {
                (Some(caller_name), Some(message)) => {
                    ctx.set_current_details("Taking a message");
                    let taken = ctx
                        .execute_activity(
                            ConversationActivities::take_message,
                            TakeMessageRequest {
                                request_key: format!("{call_sid}/{call_id}"),
                                message: TakeMessageInput {
                                    tenant_id,
                                    call_sid,
                                    for_whom: text("for_whom"),
                                    caller_name,
                                    callback_number: text("callback_number"),
                                    message,
                                    replaces: text("replaces"),
                                },
                            },
                            conversation_activity_options("Take message"),
                        )
                        .await;
                    match taken {
                        Ok(id) => serde_json::json!({"ok": true, "message_id": id}),
                        Err(_) => {
                            serde_json::json!({"ok": false, "error": "the message could not be saved"})
                        }
                    }
                }
                _ => serde_json::json!({"error": "caller_name and message are required"}),
            },
        };
        if !ctx.state(|s| s.end_requested) {
            ctx.set_current_details(CallPhase::Streaming.describe());
        }
        output.to_string()
    }

    fn finish_input(
        &self,
        reached_max_duration: bool,
        started_at_ms: i64,
        ended_at_ms: i64,
    ) -> FinishCallInput {
        let final_status = self
            .final_status
            .as_ref()
            .map(|f| f.status)
            .unwrap_or(CallStatus::Completed);
        let outcome = if reached_max_duration {
            CallOutcome::MaxDurationReached
        } else if self
            .answered_by
            .as_ref()
            .is_some_and(domain::AnsweredBy::is_machine)
        {
            CallOutcome::Voicemail
        } else {
            CallOutcome::from_final_status(final_status)
        };
        let measured_secs =
            |from: i64| u32::try_from((ended_at_ms - from).max(0) / 1000).unwrap_or(0);
        let duration_secs = self
            .final_status
            .as_ref()
            .and_then(|f| f.duration_secs)
            .unwrap_or_else(|| self.answered_at_ms.map(measured_secs).unwrap_or(0));
        let mut metrics = CallMetrics::from_transcript(&self.transcript);
        metrics.stream_connect_ms = self
            .stream_started_at_ms
            .map(|s| (s - started_at_ms).max(0) as u64);
        FinishCallInput {
            tenant_id: self.input.tenant_id,
            call_sid: self.input.call_sid.clone(),
            final_status,
            outcome,
            duration_secs,
            answered_at_ms: self.answered_at_ms,
            ended_at_ms,
            answered_by: self.answered_by.clone(),
            transcript: self.transcript.clone(),
            metrics,
        }
    }
}

impl CallPhase {
    fn describe(self) -> &'static str {
        match self {
            Self::WaitingForStream => "Ringing: waiting for the media stream",
            Self::Streaming => "In conversation",
            Self::AgentEnding => "The agent is saying goodbye",
            Self::StreamEnded => "Media stream ended: waiting for Twilio's final status",
            Self::Ended => "Call ended",
        }
    }
}

fn activity_options(summary: &str) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(ACTIVITY_ATTEMPT_TIMEOUT)
        .summary(summary.to_owned())
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_millis(200))
                .maximum_interval(Duration::from_secs(30))
                .build(),
        )
        .build()
}

fn conversation_activity_options(summary: &str) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(CONVERSATION_ATTEMPT_TIMEOUT)
        .summary(summary.to_owned())
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_millis(200))
                .maximum_interval(Duration::from_secs(2))
                .maximum_attempts(3)
                .build(),
        )
        .build()
}

fn unix_ms(t: Option<std::time::SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn now_ms(ctx: &WorkflowContext<CallWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}

fn sync_now_ms(ctx: &SyncWorkflowContext<CallWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AgentId, CallDirection, CallSid, E164, TenantId};

    fn answered_call(final_status: Option<CallStatusChanged>) -> CallWorkflow {
        CallWorkflow {
            input: CallWorkflowInput {
                call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
                tenant_id: TenantId::new(),
                agent_id: AgentId::new(),
                agent_name: "Receptionist".into(),
                direction: CallDirection::Inbound,
                from: E164::parse("+14155550199").unwrap().into(),
                to: E164::parse("+15005550006").unwrap(),
                max_duration_secs: 60,
                followup_sms: None,
            },
            last_status: None,
            final_status,
            answered_at_ms: Some(2_000),
            stream_started_at_ms: Some(2_500),
            stream_stopped: false,
            transcript: Vec::new(),
            conversation: Vec::new(),
            end_requested: false,
            goodbye_played: false,
            tool_calls: 0,
            user_turns: 0,
            dtmf: String::new(),
            answered_by: None,
        }
    }

    #[test]
    fn without_twilios_call_duration_the_duration_is_measured_from_answer_to_end() {
        let finish = answered_call(None).finish_input(true, 1_000, 62_000);
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
        let finish = answered_call(Some(reported)).finish_input(false, 1_000, 62_000);
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
}
