//! Delivering a message the receptionist took: who it is for, the channels it goes out on, the
//! state of each, and the texts delivered. Field names are part of the history format (they
//! are activity inputs and results of `MessageDeliveryWorkflow`).

use crate::{TenantId, platform::closed_enum};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who a message is for, snapshotted from the company directory when it is taken: a later
/// change to the directory does not redirect a message already taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecipient {
    /// `employee` or `department` ([`RecipientKind`]).
    pub kind: String,
    /// The directory entry's id, if it came from the directory.
    pub id: Option<Uuid>,
    pub name: String,
    /// E.164: the SMS goes here.
    pub phone: Option<String>,
    /// The email goes here.
    pub email: Option<String>,
}

closed_enum!(
    /// What a [`MessageRecipient`] is in the directory.
    RecipientKind {
        Employee = "employee",
        Department = "department",
    }
);

closed_enum!(
    /// A way a taken message reaches its recipient.
    DeliveryChannel {
        Sms = "sms",
        Email = "email",
        Webhook = "webhook",
    }
);

closed_enum!(
    /// Where one channel's delivery of one message stands.
    DeliveryStatus {
        /// Planned, not tried yet.
        Pending = "pending",
        /// An attempt is under way (or died without recording its outcome).
        Sending = "sending",
        Delivered = "delivered",
        /// Given up: a permanent refusal, or retries exhausted.
        Failed = "failed",
        /// Does not apply to this message (no phone, no SMTP, no webhook).
        Skipped = "skipped",
    }
);

/// Input of `MessageDeliveryWorkflow` (`message-{message_id}`) and of each of its activities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeliveryInput {
    pub tenant_id: TenantId,
    pub message_id: Uuid,
}

impl MessageDeliveryInput {
    /// `message-{message_id}`.
    pub fn workflow_id(&self) -> String {
        format!("message-{}", self.message_id)
    }
}

/// What `plan_message_delivery` decided: the channels to deliver on now; the others are
/// recorded (skipped with their reason, or delivered by an earlier run).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryPlan {
    pub deliver: Vec<DeliveryChannel>,
    pub settled: Vec<ChannelOutcome>,
}

/// How one channel ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelOutcome {
    pub channel: DeliveryChannel,
    pub status: DeliveryStatus,
    /// Why it was skipped or failed (short, no personal data).
    pub detail: Option<String>,
}

/// Input of `record_delivery_failed`: a channel whose retries ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFailure {
    pub tenant_id: TenantId,
    pub message_id: Uuid,
    pub channel: DeliveryChannel,
    /// Short, no personal data.
    pub detail: String,
}

/// Result of `MessageDeliveryWorkflow`: every channel's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeliveryResult {
    pub message_id: Uuid,
    pub channels: Vec<ChannelOutcome>,
}

/// The longest SMS body we send (Twilio's limit is 1,600 characters; ten segments is plenty
/// for a message and keeps the cost bounded).
pub const MAX_SMS_CHARS: usize = 640;

/// The reference that ends a message's SMS: how a retry recognises the SMS an earlier attempt
/// sent.
pub fn sms_reference(message_id: Uuid) -> String {
    let hex = message_id.simple().to_string();
    format!("(ref {})", &hex[hex.len() - 8..])
}

/// "Message for Dana from Jordan (+14155550199): Please call back about the invoice", cut to
/// fit [`MAX_SMS_CHARS`] together with `reference`. The callback number is whole here (the
/// recipient needs it), and so never logged.
pub fn sms_text(
    recipient: &str,
    caller: &str,
    callback: Option<&str>,
    text: &str,
    reference: &str,
) -> String {
    let callback = callback.map(|c| format!(" ({c})")).unwrap_or_default();
    let head = format!("Message for {recipient} from {caller}{callback}: ");
    let room = MAX_SMS_CHARS.saturating_sub(head.chars().count() + reference.chars().count() + 2);
    let text = text.trim();
    let text = if text.chars().count() > room {
        let cut: String = text.chars().take(room.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        text.to_owned()
    };
    format!("{head}{text} {reference}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_to_fit_one_sms_budget_and_keeps_its_reference() {
        let id = Uuid::now_v7();
        let reference = sms_reference(id);
        let body = sms_text(
            "Dana",
            "Jordan",
            Some("+14155550199"),
            &"x".repeat(2000),
            &reference,
        );
        assert!(body.chars().count() <= MAX_SMS_CHARS);
        assert!(body.ends_with(&reference));
        assert!(body.starts_with("Message for Dana from Jordan (+14155550199): xxx"));
    }

    #[test]
    fn the_spellings_are_the_database_values() {
        assert_eq!(DeliveryChannel::spellings(), ["sms", "email", "webhook"]);
        assert_eq!(
            DeliveryStatus::parse("delivered"),
            Some(DeliveryStatus::Delivered)
        );
        assert_eq!(RecipientKind::parse("team"), None);
    }
}
