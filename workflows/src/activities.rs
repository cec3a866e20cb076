//! Declarations of the activities workflows call. Bodies are never run: the `activities`
//! crate implements each one with `#[activity(definition = …)]`, which checks the types match.
#![allow(clippy::unimplemented)]

use domain::{
    conversation::{KnowledgeHit, KnowledgeQuery, LlmTurnInput, LlmTurnOutput, TakeMessageInput},
    message::{ChannelOutcome, DeliveryFailure, DeliveryPlan, MessageDeliveryInput},
    workflow_io::{
        CallRef, FinishCallInput, FollowUpSms, OpenSessionInput, RecordCallInput,
        SaveTranscriptInput,
    },
};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;

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
