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
