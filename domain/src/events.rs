//! Events the platform POSTs to a tenant's webhook, other than a taken message: for now
//! `call.analyzed`, sent once per call after its post-call analysis.
//!
//! An event is a row (`event_deliveries`) before it is a request: its id is created once, and
//! is the envelope's `id`, the `Switchboard-Delivery` header of every attempt and the suffix of
//! its delivery workflow's id (`event-{id}`), so a receiver de-duplicates on one value whatever
//! retried. The envelope's field names are the webhook's contract; [`EventDeliveryInput`] and
//! [`EventOutcome`] are part of the history format of `EventDeliveryWorkflow`.

use crate::{
    CallDirection, CallOutcome, CallSid, TenantId,
    campaign::analysis::{OutcomeClass, PostCallAnalysis},
    platform::closed_enum,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

closed_enum!(
    /// What happened, as the envelope's `type` says it.
    EventType {
        /// A call's post-call analysis was recorded (subject: the call SID).
        CallAnalyzed = "call.analyzed",
    }
);

closed_enum!(
    /// Where an event's delivery stands.
    EventStatus {
        /// Not delivered yet: no attempt made, or the last one failed and another will follow.
        Pending = "pending",
        /// The webhook answered 2xx.
        Delivered = "delivered",
        /// Refused for good (a 4xx other than 408/429), or the retries ran out.
        Failed = "failed",
        /// The tenant had no webhook when delivery was tried.
        Skipped = "skipped",
    }
);

/// What every event's body looks like: `{"type", "id", "created_at", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub data: T,
}

/// `data` of `call.analyzed`. Never a full phone number (only [`CallAnalyzed::phone_masked`])
/// and never the transcript: a tenant fetches those through the API, which checks who asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAnalyzed {
    pub call_sid: CallSid,
    pub direction: CallDirection,
    pub campaign_id: Option<Uuid>,
    /// How the call ended technically (`completed`, `voicemail` …), when it is known.
    pub outcome: Option<CallOutcome>,
    /// How it ended for the business (`appointment_booked`, `do_not_call` …).
    pub outcome_class: OutcomeClass,
    pub summary: String,
    /// 0 to 1.
    pub confidence: f32,
    pub appointment_at: Option<DateTime<Utc>>,
    /// Whether a person should look at the call (the review queue's flag).
    pub needs_attention: bool,
    /// The other party's number, masked: `+1•••••0199` (`withheld number` when withheld).
    pub phone_masked: String,
}

/// What a call's row says, for [`CallAnalyzed::new`].
#[derive(Debug, Clone)]
pub struct AnalyzedCall<'a> {
    pub call_sid: &'a CallSid,
    pub direction: CallDirection,
    pub campaign_id: Option<Uuid>,
    pub outcome: Option<CallOutcome>,
    pub needs_attention: bool,
    pub phone_masked: String,
}

impl CallAnalyzed {
    pub fn new(call: AnalyzedCall<'_>, analysis: &PostCallAnalysis) -> Self {
        Self {
            call_sid: call.call_sid.clone(),
            direction: call.direction,
            campaign_id: call.campaign_id,
            outcome: call.outcome,
            outcome_class: analysis.outcome,
            summary: analysis.summary.clone(),
            confidence: analysis.confidence,
            appointment_at: analysis.appointment_at,
            needs_attention: call.needs_attention,
            phone_masked: call.phone_masked,
        }
    }
}

/// Input of `EventDeliveryWorkflow` (`event-{event_id}`) and of its activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDeliveryInput {
    pub tenant_id: TenantId,
    pub event_id: Uuid,
}

impl EventDeliveryInput {
    /// `event-{event_id}`.
    pub fn workflow_id(&self) -> String {
        format!("event-{}", self.event_id)
    }
}

/// How a delivery run ended (the result of `deliver_event` and of the workflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub status: EventStatus,
    /// Why it failed or was skipped (short, no personal data).
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{E164, campaign::analysis::PostCallAnalysis};

    fn analysis() -> PostCallAnalysis {
        PostCallAnalysis {
            summary: "Booked for Tuesday.".into(),
            outcome: OutcomeClass::AppointmentBooked,
            confidence: 0.9,
            appointment_at: None,
            appointment_local: Some("Tuesday at 10:00".into()),
            vehicle: Some("Civic".into()),
            notes: None,
            needs_attention: false,
        }
    }

    #[test]
    fn call_analyzed_is_an_envelope_with_a_masked_number_and_exact_confidence() {
        let sid = CallSid::parse(&format!("CA{}", "a".repeat(32))).unwrap();
        let number = E164::parse("+14155550142").unwrap();
        let call = AnalyzedCall {
            call_sid: &sid,
            direction: CallDirection::Outbound,
            campaign_id: None,
            outcome: Some(CallOutcome::Completed),
            needs_attention: true,
            phone_masked: number.masked(),
        };
        let event = Envelope {
            event_type: EventType::CallAnalyzed,
            id: Uuid::nil(),
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            data: CallAnalyzed::new(call, &analysis()),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(
            json.starts_with(r#"{"type":"call.analyzed","id":"00000000-"#),
            "{json}"
        );
        assert!(
            json.contains(r#""outcome_class":"appointment_booked""#),
            "{json}"
        );
        assert!(json.contains(r#""confidence":0.9,"#), "{json}");
        assert!(json.contains(r#""needs_attention":true"#), "{json}");
        assert!(!json.contains("4155550142"), "{json}");
        assert!(!json.contains("Civic"), "only the listed fields: {json}");
    }

    #[test]
    fn an_event_delivery_workflow_is_named_after_its_event() {
        let input = EventDeliveryInput {
            tenant_id: TenantId::from(Uuid::nil()),
            event_id: Uuid::nil(),
        };
        assert_eq!(
            input.workflow_id(),
            "event-00000000-0000-0000-0000-000000000000"
        );
    }
}
