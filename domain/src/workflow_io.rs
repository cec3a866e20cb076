//! What flows in and out of `CallWorkflow`: its input, its signals, its result, and the inputs
//! of the activities it schedules. Serialized as JSON into Temporal history, so field names are
//! part of the history format: rename with care.

use crate::{
    AgentId, AnsweredBy, CallDirection, CallOutcome, CallSid, CallStatus, CallerId, E164, TenantId,
    TranscriptSegment,
};
use serde::{Deserialize, Serialize};

/// The maximum call duration when an agent does not set one.
pub const DEFAULT_MAX_CALL_DURATION_SECS: u32 = 30 * 60;

/// A call's live session outlives the call's maximum duration by this much, whether the
/// webhook or the workflow opens it.
pub const SESSION_TTL_MARGIN_SECS: u64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallWorkflowInput {
    pub call_sid: CallSid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub agent_name: String,
    pub direction: CallDirection,
    /// Twilio's `From`: the caller on an inbound call (possibly withheld), our number on an
    /// outbound one.
    pub from: CallerId,
    pub to: E164,
    pub max_duration_secs: u32,
    /// Text the caller gets by SMS after an answered inbound call (the agent's `followup_sms`
    /// setting); `None`: no SMS.
    #[serde(default)]
    pub followup_sms: Option<String>,
    /// Set when a long call continues as new: what the previous run hands over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<Box<CallCarryOver>>,
    /// Set on a call a campaign placed: the script it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignCall>,
    /// What carries the call's audio: the phone network (Twilio), or a browser.
    #[serde(default, skip_serializing_if = "CallChannel::is_phone")]
    pub channel: CallChannel,
    /// The receptionist tools the agent offers (its `tools` setting when the call started);
    /// `None`: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
}

/// What carries a call's audio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallChannel {
    /// A phone call through Twilio: Twilio hangs up, reports the call's status and bridges
    /// transfers.
    #[default]
    Phone,
    /// A console user talking to an agent from the browser ("Talk to this agent"): the API's
    /// browser media socket is the call's carrier. It reports the hang-up as Twilio would; the
    /// workflow ends the call by closing its session, and there is nobody to transfer to.
    Browser,
}

impl CallChannel {
    pub fn is_phone(&self) -> bool {
        *self == Self::Phone
    }
}

/// A campaign's call: which dial of which target it is, and the script the agent follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCall {
    pub campaign_id: uuid::Uuid,
    pub target_id: uuid::Uuid,
    /// The `campaign_attempts` row of this dial.
    pub attempt_id: uuid::Uuid,
    /// 1 for the first dial of the target.
    pub attempt: u32,
    /// `Campaign script: {…}`, added to the agent's instructions (the rule dialog reads it).
    pub instruction_line: String,
    /// What the agent says first.
    pub opening: String,
    /// The customer the target is, when the list named one.
    #[serde(default)]
    pub customer_id: Option<uuid::Uuid>,
    /// The recipient's IANA zone.
    pub time_zone: String,
}

/// What a call's run hands to the next when it continues as new (long calls keep their history
/// bounded this way): the call's clock, what Twilio said, the conversation memory and how much of
/// the transcript is already saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallCarryOver {
    /// Which run this is (the first run is 0).
    pub run: u32,
    /// Unix milliseconds (workflow time) at which the first run started.
    pub started_at_ms: i64,
    /// Unix milliseconds at which the maximum call duration is reached.
    pub max_duration_deadline_ms: i64,
    pub last_status: Option<CallStatus>,
    pub answered_at_ms: Option<i64>,
    pub stream_started_at_ms: Option<i64>,
    pub answered_by: Option<AnsweredBy>,
    pub tool_calls: u32,
    pub user_turns: u32,
    pub dtmf: String,
    pub memory: crate::memory::ConversationMemory,
    /// Transcript segments already saved (`save_transcript`): the next one's `seq`.
    pub transcript_saved: u32,
    /// Counts over the saved segments.
    pub saved_metrics: CallMetrics,
    /// Segments received but not yet saved when the run ended.
    pub transcript: Vec<TranscriptSegment>,
    /// Transfers attempted so far (the next is `transfer-{CallSid}-{transfers + 1}`) and how
    /// each ended.
    #[serde(default)]
    pub transfers: u32,
    #[serde(default)]
    pub transfer_results: Vec<String>,
    /// Messages taken so far (delivered when the call ends).
    #[serde(default)]
    pub messages_taken: Vec<String>,
    /// The tool calls so far, for the timeline.
    #[serde(default)]
    pub tool_log: Vec<ToolCallRecord>,
}

impl CallWorkflowInput {
    /// The call, for activities that need only which call it is.
    pub fn call_ref(&self) -> CallRef {
        CallRef {
            tenant_id: self.tenant_id,
            call_sid: self.call_sid.clone(),
        }
    }

    /// The person on the other end: the caller of an inbound call, the callee of an outbound one.
    pub fn other_party(&self) -> CallerId {
        match self.direction {
            CallDirection::Inbound => self.from.clone(),
            CallDirection::Outbound => CallerId::Number(self.to.clone()),
        }
    }
}

/// Signal: a Twilio call status callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStatusChanged {
    pub status: CallStatus,
    /// Twilio's `CallDuration` (seconds), present on the final callback.
    pub duration_secs: Option<u32>,
}

/// Signal: the media stream for this call connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStarted {
    pub stream_sid: String,
}

/// Signal: transcript segments produced since the previous batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptBatch {
    pub segments: Vec<TranscriptSegment>,
}

/// Activity input: close out the call's row, transcript and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishCallInput {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    pub final_status: CallStatus,
    pub outcome: CallOutcome,
    pub duration_secs: u32,
    /// Unix milliseconds (workflow time) at which the call was answered / ended.
    pub answered_at_ms: Option<i64>,
    pub ended_at_ms: i64,
    /// Twilio's answering machine detection result (`human`, `machine_end_beep` …), if any.
    #[serde(default)]
    pub answered_by: Option<AnsweredBy>,
    /// The segments not saved before (a long call saves as it continues as new) …
    pub transcript: Vec<TranscriptSegment>,
    /// … starting at this `seq`; earlier ones are kept.
    #[serde(default)]
    pub transcript_first_seq: u32,
    pub metrics: CallMetrics,
    /// How the call's last transfer ended (`transferred`, `no_answer` …), if it had one.
    #[serde(default)]
    pub transfer_result: Option<String>,
    /// The tool calls of the whole call (every run), oldest first.
    #[serde(default)]
    pub tool_calls: Vec<ToolCallRecord>,
}

/// One tool call the agent made, for the call's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    pub name: String,
    /// Unix milliseconds (workflow time) at which the workflow took the call, and how long it
    /// ran.
    pub at_ms: i64,
    pub duration_ms: i64,
    /// The model's arguments and the result it got (JSON text, each cut to
    /// [`ToolCallRecord::MAX_TEXT`] characters).
    pub arguments: String,
    pub result: String,
}

impl ToolCallRecord {
    /// The longest `arguments` or `result` kept.
    pub const MAX_TEXT: usize = 400;
    /// The most tool calls a call keeps (a history stays bounded).
    pub const MAX_PER_CALL: usize = 100;

    /// `text` cut to [`Self::MAX_TEXT`] characters, marked with `…` when cut.
    pub fn cut(text: &str) -> String {
        match text.char_indices().nth(Self::MAX_TEXT) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text.to_owned(),
        }
    }
}

/// Activity input: save transcript segments from `first_seq` on (replacing any saved there
/// before, so a retry changes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveTranscriptInput {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    pub first_seq: u32,
    pub segments: Vec<TranscriptSegment>,
}

/// Activity input: a call identified within its tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRef {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMetrics {
    pub caller_turns: u32,
    pub agent_turns: u32,
    pub interruptions: u32,
    /// Milliseconds from call start to the media stream connecting.
    pub stream_connect_ms: Option<u64>,
}

impl CallMetrics {
    pub fn from_transcript(transcript: &[TranscriptSegment]) -> Self {
        let count = |speaker| transcript.iter().filter(|s| s.speaker == speaker).count() as u32;
        Self {
            caller_turns: count(crate::Speaker::Caller),
            agent_turns: count(crate::Speaker::Agent),
            interruptions: transcript.iter().filter(|s| s.interrupted).count() as u32,
            stream_connect_ms: None,
        }
    }

    /// These counts plus `other`'s (the stream connect time is kept).
    pub fn plus(&self, other: &CallMetrics) -> Self {
        Self {
            caller_turns: self.caller_turns + other.caller_turns,
            agent_turns: self.agent_turns + other.agent_turns,
            interruptions: self.interruptions + other.interruptions,
            stream_connect_ms: self.stream_connect_ms.or(other.stream_connect_ms),
        }
    }
}

/// The result of `CallWorkflow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub call_sid: CallSid,
    pub outcome: CallOutcome,
    pub final_status: CallStatus,
    pub duration_secs: u32,
    pub turns: u32,
}

/// Activity input: create the call's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordCallInput {
    pub call: CallWorkflowInput,
    pub workflow_id: String,
    /// Unix milliseconds (workflow time) at which the workflow started.
    pub started_at_ms: i64,
}

/// Activity input: open the call's live session (shared state for the API nodes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSessionInput {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    pub agent_id: AgentId,
    pub workflow_id: String,
    /// How long the session may live: the call's max duration plus a margin.
    pub ttl_secs: u64,
    /// A campaign's call: the script the media bridge gives the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignCall>,
}

/// Input of the `send_followup_sms` activity: one SMS per call, sent at most once even when
/// Twilio requests time out after taking effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpSms {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    /// Our number (the SMS sender).
    pub from: E164,
    /// The caller.
    pub to: E164,
    pub body: String,
}
