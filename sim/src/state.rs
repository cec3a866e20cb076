//! The simulator's state: Twilio resources as the REST API shows them, plus what the sim
//! observed (call transcripts, error notifications).
//!
//! Resources are kept as the JSON Twilio would return (`serde` field names are Twilio's), so
//! the REST layer serializes them as they are. Everything sits behind one mutex; nothing
//! awaits while holding it. A `watch` counter is bumped on every change so waiters (handles,
//! the control API's long-poll) wake up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use domain::{CallStatus, Secret};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::faults::FaultState;
use crate::mixer::MixCmd;
use crate::person::{Ear, PersonScript, Turn, TurnOutcome};

/// Twilio's REST API version, in paths and webhook parameters.
pub const API_VERSION: &str = "2010-04-01";

/// A new resource SID: two-letter prefix + 32 lowercase hex digits.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// A timestamp the way Twilio writes them: RFC 2822 in GMT, e.g. `Tue, 04 Aug 2020 08:02:17 +0000`.
pub fn rfc2822_now() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

/// A call as `GET …/Calls/{Sid}.json` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    pub sid: String,
    pub date_created: String,
    pub date_updated: String,
    pub parent_call_sid: Option<String>,
    pub account_sid: String,
    pub to: String,
    pub to_formatted: String,
    pub from: String,
    pub from_formatted: String,
    pub phone_number_sid: Option<String>,
    pub status: CallStatus,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: Option<String>,
    pub price: Option<String>,
    pub price_unit: String,
    pub direction: String,
    pub answered_by: Option<String>,
    pub annotation: Option<String>,
    pub api_version: String,
    pub forwarded_from: Option<String>,
    pub group_sid: Option<String>,
    pub caller_name: Option<String>,
    pub queue_time: String,
    pub trunk_sid: Option<String>,
    pub uri: String,
    pub subresource_uris: serde_json::Value,
}

impl CallRecord {
    pub(crate) fn new(
        account_sid: &str,
        from: &str,
        to: &str,
        direction: &str,
        parent: Option<&str>,
    ) -> Self {
        let sid = new_sid("CA");
        let now = rfc2822_now();
        let base = format!("/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}");
        let sub = |name: &str| format!("{base}/{name}.json");
        Self {
            date_created: now.clone(),
            date_updated: now,
            parent_call_sid: parent.map(str::to_owned),
            account_sid: account_sid.to_owned(),
            to: to.to_owned(),
            to_formatted: to.to_owned(),
            from: from.to_owned(),
            from_formatted: from.to_owned(),
            phone_number_sid: None,
            status: CallStatus::Queued,
            start_time: None,
            end_time: None,
            duration: None,
            price: None,
            price_unit: "USD".into(),
            direction: direction.to_owned(),
            answered_by: None,
            annotation: None,
            api_version: API_VERSION.into(),
            forwarded_from: None,
            group_sid: None,
            caller_name: None,
            queue_time: "0".into(),
            trunk_sid: None,
            uri: format!("{base}.json"),
            subresource_uris: serde_json::json!({
                "feedback": sub("Feedback"),
                "notifications": sub("Notifications"),
                "recordings": sub("Recordings"),
                "streams": sub("Streams"),
                "payments": sub("Payments"),
                "user_defined_message_subscriptions": sub("UserDefinedMessageSubscriptions"),
                "user_defined_messages": sub("UserDefinedMessages"),
                "events": sub("Events"),
                "siprec": sub("Siprec"),
            }),
            sid,
        }
    }

    /// Whether the call has reached a final status.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// A message as `GET …/Messages/{Sid}.json` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageRecord {
    pub sid: String,
    pub account_sid: String,
    pub api_version: String,
    pub body: String,
    pub date_created: String,
    pub date_updated: String,
    pub date_sent: Option<String>,
    pub direction: String,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub from: Option<String>,
    pub to: String,
    pub messaging_service_sid: Option<String>,
    pub num_media: String,
    pub num_segments: String,
    pub price: Option<String>,
    pub price_unit: String,
    pub status: String,
    pub uri: String,
    pub subresource_uris: serde_json::Value,
    /// Where delivery status goes (not part of Twilio's JSON).
    #[serde(skip)]
    pub status_callback: Option<String>,
}

/// A participant as `…/Conferences/{Sid}/Participants/{CallSid}.json` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantRecord {
    pub account_sid: String,
    pub call_sid: String,
    pub label: Option<String>,
    pub call_sid_to_coach: Option<String>,
    pub coaching: bool,
    pub conference_sid: String,
    pub date_created: String,
    pub date_updated: String,
    pub end_conference_on_exit: bool,
    pub muted: bool,
    pub hold: bool,
    pub start_conference_on_enter: bool,
    pub status: ParticipantStatus,
    pub queue_time: Option<String>,
    pub uri: String,
}

/// A participant's status: `queued` while its call rings (added over REST), `connected`, and
/// `complete` once it has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParticipantStatus {
    Queued,
    Connected,
    Complete,
}

/// A conference's status: `init` until a participant who starts it is in, `in-progress`,
/// then `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConferenceStatus {
    Init,
    InProgress,
    Completed,
}

impl ConferenceStatus {
    /// Twilio's spelling (`Status` filter of `GET Conferences.json`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConferenceStatus::Init => "init",
            ConferenceStatus::InProgress => "in-progress",
            ConferenceStatus::Completed => "completed",
        }
    }
}

/// A conference as `…/Conferences/{Sid}.json` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConferenceRecord {
    pub account_sid: String,
    pub date_created: String,
    pub date_updated: String,
    pub api_version: String,
    pub friendly_name: String,
    pub region: String,
    pub sid: String,
    pub status: ConferenceStatus,
    pub uri: String,
    pub subresource_uris: serde_json::Value,
    pub reason_conference_ended: Option<String>,
    pub call_sid_ending_conference: Option<String>,
    #[serde(skip)]
    pub participants: Vec<ParticipantRecord>,
    /// Conference status callback (from the first participant that set one).
    #[serde(skip)]
    pub status_callback: Option<String>,
}

/// An owned number as `…/IncomingPhoneNumbers/{Sid}.json` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NumberRecord {
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub phone_number: String,
    pub voice_url: Option<String>,
    pub voice_method: String,
    pub voice_fallback_url: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub sms_url: Option<String>,
    pub sms_method: String,
    pub capabilities: serde_json::Value,
    pub date_created: String,
    pub date_updated: String,
    pub api_version: String,
    pub origin: String,
    pub status: String,
    pub uri: String,
}

impl NumberRecord {
    pub(crate) fn new(account_sid: &str, phone_number: &str) -> Self {
        let sid = new_sid("PN");
        let now = rfc2822_now();
        Self {
            uri: format!("/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json"),
            sid,
            account_sid: account_sid.to_owned(),
            friendly_name: phone_number.to_owned(),
            phone_number: phone_number.to_owned(),
            voice_url: None,
            voice_method: "POST".into(),
            voice_fallback_url: None,
            status_callback: None,
            status_callback_method: "POST".into(),
            sms_url: None,
            sms_method: "POST".into(),
            capabilities: serde_json::json!({"voice": true, "sms": true, "mms": true, "fax": false}),
            date_created: now.clone(),
            date_updated: now,
            api_version: API_VERSION.into(),
            origin: "twilio".into(),
            status: "in-use".into(),
        }
    }
}

/// An error the sim hit while running a call, as Twilio's debugger would log it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Notification {
    pub sid: String,
    pub call_sid: Option<String>,
    /// Twilio error code: 11200 (HTTP retrieval failure), 12100 (document parse failure),
    /// 12200 (schema validation), 11205 (connection failure), 31920 (stream), …
    pub error_code: u32,
    pub message: String,
    pub request_url: Option<String>,
    pub date_created: String,
}

/// Something that happened on a call, `at_ms` after the call was created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallEvent {
    /// Position in the call's event list (0-based).
    pub seq: usize,
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: CallEventKind,
}

/// What happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallEventKind {
    /// The call's status changed.
    Status { status: CallStatus },
    /// Answering machine detection finished.
    AnsweredBy { answered_by: String },
    /// The sim fetched TwiML or posted a callback.
    Webhook {
        purpose: String,
        url: String,
        status: Option<u16>,
        /// From sending the request to the whole answer (body included).
        #[serde(default)]
        latency_ms: u64,
    },
    /// A TwiML verb started.
    Verb { verb: String, detail: String },
    /// The call said this to the person (`<Say>`).
    CallSaid { text: String },
    /// The call played audio to the person (`<Play>`, hold music, a beep).
    CallPlayed { what: String, ms: u64 },
    /// The person heard `ms` of audio from a media stream (one stretch between pauses).
    StreamAudio { ms: u64 },
    /// The person said something.
    PersonSaid { text: String },
    /// On a media stream, the agent answered the person's `turn`-th utterance (1-based)
    /// `after_ms` after its last voiced frame: voice-to-voice latency, see
    /// [`crate::person::VoiceTurns`].
    AgentAnswered { turn: usize, after_ms: u64 },
    /// Nothing voiced came back before the person's next utterance or the end of the stream.
    TurnUnanswered { turn: usize },
    /// The agent was still talking when the person stopped: no latency to tell.
    TurnOverlapped { turn: usize },
    /// The person pressed keys.
    PersonPressed { digits: String },
    /// What a `<Gather>` or `<Record>` collected.
    Gathered {
        digits: Option<String>,
        speech: Option<String>,
    },
    /// A media stream opened / closed.
    Stream { event: String, detail: String },
    /// The call joined or left a conference / dialed leg.
    Bridge { event: String, detail: String },
    /// Something went wrong (Twilio error code).
    Error { code: u32, message: String },
    /// The call ended; `by` is `person`, `call` (TwiML), `api` or `system`.
    HungUp { by: String },
}

impl From<Turn> for CallEventKind {
    fn from(t: Turn) -> Self {
        match t.outcome {
            TurnOutcome::Answered { after_ms } => CallEventKind::AgentAnswered {
                turn: t.turn,
                after_ms,
            },
            TurnOutcome::Unanswered => CallEventKind::TurnUnanswered { turn: t.turn },
            TurnOutcome::Overlapped => CallEventKind::TurnOverlapped { turn: t.turn },
        }
    }
}

/// Commands a running call accepts (REST update).
#[derive(Debug)]
pub(crate) enum CallCommand {
    /// Run this TwiML instead of the current verb.
    Twiml(String),
    /// Fetch TwiML from this URL (method) instead of the current verb.
    Url(String, String),
    /// `Status=completed` / `canceled`.
    Hangup(CallStatus),
}

/// Per-call bookkeeping beside the public record.
pub(crate) struct CallSlot {
    pub record: CallRecord,
    pub events: Vec<CallEvent>,
    pub created: Instant,
    pub answered_at: Option<Instant>,
    pub commands: Option<mpsc::UnboundedSender<CallCommand>>,
    /// Status callback sequence number (next to use).
    pub callback_seq: u32,
    /// Conference the call is in (conference sid), with a way to kick it out.
    pub conference_kick: Option<mpsc::UnboundedSender<()>>,
    /// What the person on this call has heard.
    pub heard: Option<Ear>,
}

/// Everything the sim holds.
#[derive(Default)]
pub(crate) struct SimState {
    /// Calls in creation order.
    pub calls: Vec<CallSlot>,
    pub messages: Vec<MessageRecord>,
    pub conferences: Vec<ConferenceRecord>,
    pub numbers: Vec<NumberRecord>,
    pub phones: HashMap<String, PersonScript>,
    pub notifications: Vec<Notification>,
    /// Recordings by sid: 8 kHz μ-law audio.
    pub recordings: HashMap<String, Vec<u8>>,
    /// Per live conference: its mixer task; per conference: requested callback events,
    /// callback sequence.
    pub conference_mixers: HashMap<String, mpsc::UnboundedSender<MixCmd>>,
    pub conference_events: HashMap<String, Vec<String>>,
    pub conference_seq: HashMap<String, u32>,
}

impl SimState {
    pub(crate) fn call(&self, sid: &str) -> Option<&CallSlot> {
        self.calls.iter().find(|c| c.record.sid == sid)
    }

    pub(crate) fn call_mut(&mut self, sid: &str) -> Option<&mut CallSlot> {
        self.calls.iter_mut().find(|c| c.record.sid == sid)
    }

    pub(crate) fn number_by_phone(&self, phone: &str) -> Option<&NumberRecord> {
        self.numbers.iter().find(|n| n.phone_number == phone)
    }
}

/// The resolved configuration the server and calls share.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub account_sid: String,
    pub auth_token: Secret<String>,
    pub api_keys: Vec<(String, Secret<String>)>,
    /// Where the sim's REST API listens (what the product uses as its Twilio base URL).
    pub base_url: String,
}

/// What every part of the sim holds an `Arc` of.
pub(crate) struct Inner {
    pub settings: Settings,
    pub state: Mutex<SimState>,
    pub changed: watch::Sender<u64>,
    pub faults: Mutex<FaultState>,
    pub http: reqwest::Client,
}

pub(crate) type Shared = Arc<Inner>;

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes everyone waiting for a change.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Appends an event to a call's transcript.
    pub(crate) fn event(&self, call_sid: &str, kind: CallEventKind) {
        {
            let mut state = self.lock();
            let Some(slot) = state.call_mut(call_sid) else {
                return;
            };
            let at_ms = slot.created.elapsed().as_millis() as u64;
            let seq = slot.events.len();
            tracing::debug!(call_sid, ?kind, "call event");
            slot.events.push(CallEvent { seq, at_ms, kind });
        }
        self.bump();
    }

    /// Records an error notification (and a call event when it belongs to a call).
    pub(crate) fn notify_error(
        &self,
        call_sid: Option<&str>,
        code: u32,
        message: impl Into<String>,
        url: Option<&str>,
    ) {
        let message = message.into();
        tracing::warn!(?call_sid, code, %message, "sim error notification");
        self.lock().notifications.push(Notification {
            sid: new_sid("NO"),
            call_sid: call_sid.map(str::to_owned),
            error_code: code,
            message: message.clone(),
            request_url: url.map(str::to_owned),
            date_created: rfc2822_now(),
        });
        if let Some(sid) = call_sid {
            self.event(sid, CallEventKind::Error { code, message });
        }
        self.bump();
    }

    /// Waits until `check` returns `Some`, or the timeout passes.
    pub(crate) async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&SimState) -> Option<T>,
    ) -> Option<T> {
        let mut rx = self.changed.subscribe();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(&self.lock()) {
                return Some(v);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(&self.lock()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_spelled_as_twilio_spells_them() {
        let json = |v: &dyn erased::Json| v.json();
        assert_eq!(json(&CallStatus::NoAnswer), "\"no-answer\"");
        assert_eq!(json(&ConferenceStatus::InProgress), "\"in-progress\"");
        assert_eq!(json(&ConferenceStatus::Init), "\"init\"");
        assert_eq!(json(&ParticipantStatus::Complete), "\"complete\"");
        assert_eq!(json(&ParticipantStatus::Queued), "\"queued\"");
        for status in [
            ConferenceStatus::Init,
            ConferenceStatus::InProgress,
            ConferenceStatus::Completed,
        ] {
            assert_eq!(json(&status), format!("\"{}\"", status.as_str()));
        }
        let event = CallEventKind::Status {
            status: CallStatus::Ringing,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "status", "status": "ringing"})
        );
    }

    mod erased {
        pub(super) trait Json {
            fn json(&self) -> String;
        }

        impl<T: serde::Serialize> Json for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }
}
