//! Declarations of the activities workflows call. Bodies are never run: the `activities`
//! crate implements each one with `#[activity(definition = …)]`, which checks the types match.
#![allow(clippy::unimplemented)]

use domain::{
    conversation::{KnowledgeHit, KnowledgeQuery, LlmTurnInput, LlmTurnOutput, TakeMessageInput},
    events::{EventDeliveryInput, EventOutcome},
    message::{ChannelOutcome, DeliveryFailure, DeliveryPlan, MessageDeliveryInput},
    workflow_io::{
        CallRef, FinishCallInput, FollowUpSms, OpenSessionInput, RecordCallInput,
        SaveTranscriptInput,
    },
};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;

pub mod agent_build;
pub use agent_build::AgentBuildActivities;

pub struct CallActivities;

#[activity_definitions]
impl CallActivities {
    /// Insert the `calls` row (idempotent on the call SID).
    #[activity(name = "record_call")]
    pub fn record_call(_input: RecordCallInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Open the live session that API nodes read while the call's media stream runs.
    #[activity(name = "open_session")]
    pub fn open_session(_input: OpenSessionInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// End the call through the Twilio REST API (`Status=completed`).
    #[activity(name = "hang_up_call")]
    pub fn hang_up_call(_call: CallRef) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Persist the final status, transcript and metrics.
    #[activity(name = "finish_call")]
    pub fn finish_call(_input: FinishCallInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Save transcript segments from `first_seq` on, replacing any saved there before: a long
    /// call saves its transcript as it continues as new.
    #[activity(name = "save_transcript")]
    pub fn save_transcript(_input: SaveTranscriptInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Text the caller once after the call (idempotent: a retry finds the SMS already sent).
    #[activity(name = "send_followup_sms")]
    pub fn send_followup_sms(_input: FollowUpSms) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Drop the live session.
    #[activity(name = "close_session")]
    pub fn close_session(_call: CallRef) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

pub struct RetentionActivities;

#[activity_definitions]
impl RetentionActivities {
    /// Delete the recordings past their tenant's retention (a bounded batch); how many went.
    #[activity(name = "purge_expired_recordings")]
    pub fn purge_expired_recordings(_input: ()) -> Result<u64, ActivityError> {
        unimplemented!()
    }
}

pub struct ConversationActivities;

/// Idempotent `take_message`: the key makes a retried attempt return the first row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TakeMessageRequest {
    pub request_key: String,
    pub message: TakeMessageInput,
}

#[activity_definitions]
impl ConversationActivities {
    /// One LLM completion (OpenAI-compatible chat with tools) for a cascaded turn.
    #[activity(name = "llm_turn")]
    pub fn llm_turn(_input: LlmTurnInput) -> Result<LlmTurnOutput, ActivityError> {
        unimplemented!()
    }

    /// Store a message the caller left; returns the message id.
    #[activity(name = "take_message")]
    pub fn take_message(_input: TakeMessageRequest) -> Result<String, ActivityError> {
        unimplemented!()
    }

    /// Search the tenant's knowledge base.
    #[activity(name = "lookup_knowledge")]
    pub fn lookup_knowledge(_input: KnowledgeQuery) -> Result<Vec<KnowledgeHit>, ActivityError> {
        unimplemented!()
    }
}

/// Input of `hold_caller`: move the caller's live call into the transfer's conference, with
/// hold music until the person joins.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HoldCaller {
    pub tenant_id: domain::TenantId,
    pub call_sid: domain::CallSid,
    pub conference: String,
    /// Said to the caller first.
    pub announcement: String,
}

/// Input of `dial_person`: ring the person (idempotent per transfer: a retry finds the leg
/// Twilio already created, by the `initiated` callback recorded against `transfer_id`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DialPerson {
    pub tenant_id: domain::TenantId,
    pub transfer_id: String,
    pub to: String,
    pub from: String,
    pub ring_timeout_secs: u32,
}

/// Input of `return_caller`: a fresh media stream whose first words are `sentence`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReturnCaller {
    pub tenant_id: domain::TenantId,
    pub call_sid: domain::CallSid,
    pub sentence: String,
}

/// Input of `record_transfer`: the `transfers` row as it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecordTransfer {
    pub tenant_id: domain::TenantId,
    pub transfer_id: String,
    pub call_sid: domain::CallSid,
    pub employee_id: uuid::Uuid,
    pub target_name: String,
    pub stage: String,
    pub reason: Option<domain::transfer::TransferReason>,
    pub employee_call_sid: Option<String>,
    pub ring_after_ms: Option<i64>,
    pub connect_after_ms: Option<i64>,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
}

pub struct TransferActivities;

#[activity_definitions]
impl TransferActivities {
    #[activity(name = "hold_caller")]
    pub fn hold_caller(_input: HoldCaller) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Returns the person's leg (a call SID).
    #[activity(name = "dial_person")]
    pub fn dial_person(_input: DialPerson) -> Result<String, ActivityError> {
        unimplemented!()
    }

    /// Hang up a leg (already gone is done).
    #[activity(name = "hang_up_leg")]
    pub fn hang_up_leg(_call_sid: String) -> Result<(), ActivityError> {
        unimplemented!()
    }

    #[activity(name = "return_caller")]
    pub fn return_caller(_input: ReturnCaller) -> Result<(), ActivityError> {
        unimplemented!()
    }

    #[activity(name = "record_transfer")]
    pub fn record_transfer(_input: RecordTransfer) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// Input of the directory tools: what the caller asked for, at workflow time `now_ms`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryQuery {
    pub tenant_id: domain::TenantId,
    pub call_sid: domain::CallSid,
    pub query: String,
    pub now_ms: i64,
}

/// What `plan_transfer` found for a `transfer_call`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TransferPlan {
    /// Ring this person.
    Ring {
        target: domain::transfer::TransferTarget,
        business_number: String,
    },
    /// Not rung: the tool's answer to the model (`{"ok": false, "reason": …}`).
    Refused(serde_json::Value),
}

pub struct DirectoryActivities;

#[activity_definitions]
impl DirectoryActivities {
    /// `find_person_or_department`: the tool's JSON answer.
    #[activity(name = "find_in_directory")]
    pub fn find_in_directory(_input: DirectoryQuery) -> Result<serde_json::Value, ActivityError> {
        unimplemented!()
    }

    /// `check_availability`: the tool's JSON answer.
    #[activity(name = "check_availability")]
    pub fn check_availability(_input: DirectoryQuery) -> Result<serde_json::Value, ActivityError> {
        unimplemented!()
    }

    /// `transfer_call`: whom to ring, or why nobody.
    #[activity(name = "plan_transfer")]
    pub fn plan_transfer(_input: DirectoryQuery) -> Result<TransferPlan, ActivityError> {
        unimplemented!()
    }
}

/// The generated definition types, named so implementations can bind to them.
pub mod call {
    pub use super::call_activities::{
        CloseSession, FinishCall, HangUpCall, OpenSession, RecordCall, SaveTranscript,
        SendFollowupSms,
    };
}

/// The generated definition types of [`ConversationActivities`].
pub mod conversation {
    pub use super::conversation_activities::{LlmTurn, LookupKnowledge, TakeMessage};
}

/// The generated definition types of [`TransferActivities`].
pub mod transfer {
    pub use super::transfer_activities::{
        DialPerson, HangUpLeg, HoldCaller, RecordTransfer, ReturnCaller,
    };
}

/// The generated definition types of [`DirectoryActivities`].
pub mod directory {
    pub use super::directory_activities::{CheckAvailability, FindInDirectory, PlanTransfer};
}

/// Activities of `MessageDeliveryWorkflow`. Each `deliver_*` records its outcome in
/// `message_deliveries`; it returns `Ok` once the channel is settled (delivered, or refused for
/// good) and fails, to be retried, when another attempt may succeed.
pub struct MessageActivities;

#[activity_definitions]
impl MessageActivities {
    /// Which channels apply to the message; the others are recorded `skipped` with the reason.
    #[activity(name = "plan_message_delivery")]
    pub fn plan_message_delivery(
        _input: MessageDeliveryInput,
    ) -> Result<DeliveryPlan, ActivityError> {
        unimplemented!()
    }

    /// Text the recipient (Twilio Messages; a retry looks for the SMS an earlier attempt sent).
    #[activity(name = "deliver_sms")]
    pub fn deliver_sms(_input: MessageDeliveryInput) -> Result<ChannelOutcome, ActivityError> {
        unimplemented!()
    }

    /// Email the recipient over SMTP, with a Message-ID stable across attempts.
    #[activity(name = "deliver_email")]
    pub fn deliver_email(_input: MessageDeliveryInput) -> Result<ChannelOutcome, ActivityError> {
        unimplemented!()
    }

    /// POST the signed `message.taken` event to the tenant's webhook.
    #[activity(name = "deliver_webhook")]
    pub fn deliver_webhook(_input: MessageDeliveryInput) -> Result<ChannelOutcome, ActivityError> {
        unimplemented!()
    }

    /// Record a channel `failed` once its retries ran out.
    #[activity(name = "record_delivery_failed")]
    pub fn record_delivery_failed(_input: DeliveryFailure) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// Activities other workflows call to notify people.
pub struct NotifyActivities;

#[activity_definitions]
impl NotifyActivities {
    /// Start `message-{message_id}` (`MessageDeliveryWorkflow`); one already started (or
    /// finished) is success, so a retry or a second call does nothing.
    #[activity(name = "start_message_delivery")]
    pub fn start_message_delivery(_input: MessageDeliveryInput) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The generated definition types of [`MessageActivities`].
pub mod message {
    pub use super::message_activities::{
        DeliverEmail, DeliverSms, DeliverWebhook, PlanMessageDelivery, RecordDeliveryFailed,
    };
}

/// The generated definition types of [`NotifyActivities`].
pub mod notify {
    pub use super::notify_activities::StartMessageDelivery;
}

/// Activities of `EventDeliveryWorkflow`: each records its outcome in `event_deliveries`.
pub struct EventActivities;

#[activity_definitions]
impl EventActivities {
    /// POST the event's signed envelope to the tenant's webhook, once. `Ok` once the event is
    /// settled (delivered, refused for good, or skipped: no webhook); fails, to be retried,
    /// when another attempt may succeed (5xx, 408, 429, timeout, no connection).
    #[activity(name = "deliver_event")]
    pub fn deliver_event(_input: EventDeliveryInput) -> Result<EventOutcome, ActivityError> {
        unimplemented!()
    }

    /// Record the event `failed` once its retries ran out.
    #[activity(name = "record_event_failed")]
    pub fn record_event_failed(_input: EventDeliveryInput) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The generated definition types of [`RetentionActivities`].
pub mod retention {
    pub use super::retention_activities::PurgeExpiredRecordings;
}

/// The generated definition types of [`EventActivities`].
pub mod events {
    pub use super::event_activities::{DeliverEvent, RecordEventFailed};
}

/// A campaign, by tenant and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignRef {
    pub tenant_id: domain::TenantId,
    pub campaign_id: uuid::Uuid,
}

/// What a campaign run needs to know, read once per run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignPlan {
    pub name: String,
    pub agent_id: domain::AgentId,
    pub agent_name: String,
    pub max_duration_secs: u32,
    /// The number calls come from.
    pub from: domain::E164,
    pub settings: domain::campaign::CampaignSettings,
}

/// Input of `due_targets`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DueTargetsRequest {
    pub campaign: CampaignRef,
    /// The campaign's calling window, checked in each recipient's zone.
    pub window: domain::campaign::CallingWindow,
    /// Targets the workflow holds already.
    pub exclude: Vec<uuid::Uuid>,
    pub limit: u32,
}

/// A target that may be dialled now: due, and inside its calling window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DueTarget {
    pub id: uuid::Uuid,
    /// Dials made so far.
    pub attempts: u32,
    /// `+1•••••0199`, for the workflow's details.
    pub masked: String,
}

/// The answer of `due_targets`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DueTargets {
    pub targets: Vec<DueTarget>,
    /// Due targets found outside their window: each now waits for its window to open.
    pub parked: u64,
    /// The earliest time a waiting target is due (Unix ms).
    pub next_due_ms: Option<i64>,
    /// Targets not in a final state.
    pub remaining: u64,
}

/// Input of `dial_target`: the `attempt`-th dial of a target, made at most once.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DialTarget {
    pub campaign: CampaignRef,
    pub target_id: uuid::Uuid,
    pub attempt: u32,
    pub from: domain::E164,
    pub ring_timeout_secs: u32,
    pub machine: domain::campaign::MachinePolicy,
    pub agent_name: String,
}

/// What `dial_target` did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DialResult {
    /// Twilio is calling (this attempt's call, placed now or by an earlier try).
    Dialed {
        call_sid: domain::CallSid,
        to: domain::E164,
        call: domain::workflow_io::CampaignCall,
    },
    /// The number is on the do-not-call list: not dialled, the target is final.
    DoNotCall,
    /// The target is gone or final already: nothing to do.
    Gone,
}

/// Input of `hand_over_status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandOverStatus {
    pub tenant_id: domain::TenantId,
    pub attempt_id: uuid::Uuid,
    pub call_sid: domain::CallSid,
}

/// Input of `conclude_attempt`: how the call went, and what the campaign's policy makes of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConcludeAttempt {
    pub campaign: CampaignRef,
    pub target_id: uuid::Uuid,
    /// `None` when the dial itself failed past its retries.
    pub attempt_id: Option<uuid::Uuid>,
    pub attempt: u32,
    pub call_sid: Option<domain::CallSid>,
    /// The call's result; `None` when its workflow could not be run.
    pub summary: Option<domain::workflow_io::CallSummary>,
    pub retry: domain::campaign::RetryPolicy,
    pub customer_id: Option<uuid::Uuid>,
    pub now_ms: i64,
}

/// Where the target stands after an attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Concluded {
    pub state: domain::crm::TargetState,
    /// When it is tried again (Unix ms), if it is.
    pub next_attempt_ms: Option<i64>,
    /// The post-call analysis' outcome (`appointment_booked` …), when the call was answered.
    pub outcome_class: Option<String>,
}

/// Input of `set_campaign_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignStatusChange {
    pub campaign: CampaignRef,
    pub status: domain::crm::CampaignStatus,
}

/// A campaign tool the model called during a campaign's call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignToolRequest {
    pub tenant_id: domain::TenantId,
    pub call_sid: domain::CallSid,
    /// The engine's id for the tool call: with the call SID, what makes a retry a repeat.
    pub tool_call_id: String,
    pub campaign: domain::workflow_io::CampaignCall,
    pub tool: domain::conversation::ToolName,
    /// The model's arguments, a JSON object as text.
    pub arguments: String,
    pub now_ms: i64,
}

/// Activities of `CampaignWorkflow`, and the campaign tools of its calls.
pub struct CampaignActivities;

#[activity_definitions]
impl CampaignActivities {
    /// The campaign's agent, number and settings (fails for good when it cannot run).
    #[activity(name = "load_campaign")]
    pub fn load_campaign(_input: CampaignRef) -> Result<CampaignPlan, ActivityError> {
        unimplemented!()
    }

    #[activity(name = "set_campaign_status")]
    pub fn set_campaign_status(_input: CampaignStatusChange) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Targets that may be dialled now, and when the next waiting one is due. Due targets
    /// outside their calling window (checked here, on the clock, in each recipient's zone)
    /// are parked until it opens. The check is an activity's, not the workflow's: its answer
    /// is in the history, so no replay can decide it differently.
    #[activity(name = "due_targets")]
    pub fn due_targets(_input: DueTargetsRequest) -> Result<DueTargets, ActivityError> {
        unimplemented!()
    }

    /// Re-checks the do-not-call list and places the attempt's call, or adopts the one an
    /// earlier try placed (the attempt row's call SID, written by Twilio's `initiated`
    /// callback or by the try itself).
    #[activity(name = "dial_target")]
    pub fn dial_target(_input: DialTarget) -> Result<DialResult, ActivityError> {
        unimplemented!()
    }

    /// Gives the call's workflow the final status Twilio reported before it existed.
    #[activity(name = "hand_over_status")]
    pub fn hand_over_status(_input: HandOverStatus) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Post-call analysis, then the target's next step under the retry policy.
    #[activity(name = "conclude_attempt")]
    pub fn conclude_attempt(_input: ConcludeAttempt) -> Result<Concluded, ActivityError> {
        unimplemented!()
    }

    /// `book_appointment`, `request_callback`, `do_not_call`: the tool's JSON answer.
    #[activity(name = "campaign_tool")]
    pub fn campaign_tool(_input: CampaignToolRequest) -> Result<serde_json::Value, ActivityError> {
        unimplemented!()
    }
}

/// The generated definition types of [`CampaignActivities`].
pub mod campaign {
    pub use super::campaign_activities::{
        CampaignTool, ConcludeAttempt, DialTarget, DueTargets, HandOverStatus, LoadCampaign,
        SetCampaignStatus,
    };
}
