//! Warm transfer: the caller is held in a conference while a person is rung, told who is
//! calling, and decides. The types `TransferWorkflow` (`transfer-{CallSid}-{n}`), its
//! activities, the Twilio webhooks that feed it and the call workflow share.

use crate::{CallSid, TenantId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a transfer did not connect: one name per failure, in the history and in the `calls` and
/// `transfers` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferReason {
    /// The person's phone rang out.
    NoAnswer,
    Busy,
    /// The person pressed 2 or said no, or decided nothing in time.
    Declined,
    /// The person pressed 3: take a message instead.
    MessageRequested,
    /// The person's voicemail picked up (answering machine detection).
    Voicemail,
    /// The caller hung up while on hold.
    CallerHungUp,
    /// Twilio could not place or move a leg.
    Failed,
}

impl TransferReason {
    pub const ALL: [TransferReason; 7] = [
        Self::NoAnswer,
        Self::Busy,
        Self::Declined,
        Self::MessageRequested,
        Self::Voicemail,
        Self::CallerHungUp,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::Declined => "declined",
            Self::MessageRequested => "message_requested",
            Self::Voicemail => "voicemail",
            Self::CallerHungUp => "caller_hung_up",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// What the agent tells the caller who comes back from a transfer to `name`, ending with
    /// the offer of a message (a yes/no question).
    pub fn caller_sentence(self, name: &str) -> String {
        match self {
            Self::NoAnswer => format!(
                "I'm sorry, {name} isn't answering right now. Would you like to leave a message for them?"
            ),
            Self::Busy => format!(
                "I'm sorry, {name} is on another call right now. Would you like to leave a message for them?"
            ),
            Self::Declined => format!(
                "I'm sorry, {name} can't take your call right now. Would you like to leave a message for them?"
            ),
            Self::MessageRequested => format!(
                "{name} is tied up and asked me to take a message. Would you like to leave one?"
            ),
            Self::Voicemail => format!(
                "I'm sorry, I reached {name}'s voicemail. Would you like me to take a message for them instead?"
            ),
            Self::CallerHungUp | Self::Failed => format!(
                "I'm sorry, I couldn't connect you to {name}. Would you like to leave a message for them?"
            ),
        }
    }
}

impl fmt::Display for TransferReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first line of the system note the call workflow adds to the conversation when a caller
/// comes back from a transfer: `Transfer result: no_answer; target: Dr. Alice Smith`. The rule
/// dialog reads it to offer a message for the target.
pub const TRANSFER_RESULT_PREFIX: &str = "Transfer result:";

/// The note itself.
pub fn transfer_result_note(reason: TransferReason, target: &str) -> String {
    format!(
        "{TRANSFER_RESULT_PREFIX} {reason}; target: {target}\n\
         The caller is back with you after the transfer to {target} did not connect ({reason}). \
         You have just told them so and asked whether they want to leave a message for {target}. \
         If they do, take it with take_message (for_whom: {target})."
    )
}

/// Reads a [`transfer_result_note`]: `(reason, target)`.
pub fn parse_transfer_result_note(text: &str) -> Option<(TransferReason, String)> {
    let first = text.lines().next()?.strip_prefix(TRANSFER_RESULT_PREFIX)?;
    let (reason, target) = first.split_once(';')?;
    let target = target.trim().strip_prefix("target:")?.trim();
    Some((TransferReason::parse(reason.trim())?, target.to_owned()))
}

/// The person a transfer rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferTarget {
    /// The directory entry rung (an employee id).
    pub employee_id: uuid::Uuid,
    /// As the agent says it: "Dr. Alice Smith".
    pub name: String,
    /// E.164. Encrypted in Temporal payloads by the payload codec, like every phone number.
    pub phone: String,
    /// What the caller asked for ("billing") when it was a department.
    pub asked_for: String,
}

/// Input of `TransferWorkflow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferInput {
    pub tenant_id: TenantId,
    /// The caller's call.
    pub call_sid: CallSid,
    /// 1 for the call's first transfer.
    pub n: u32,
    pub target: TransferTarget,
    /// Our number the call is on: the person sees it as the caller ID.
    pub business_number: String,
    /// "Jordan" when the caller said, else "a caller".
    pub caller_label: String,
    /// What the person hears before deciding: who is calling and a summary so far.
    pub whisper: String,
    /// How long the person's phone rings.
    pub ring_timeout_secs: u32,
    /// How long the person has to decide once the whisper has been read.
    pub decision_timeout_secs: u32,
}

impl TransferInput {
    /// `transfer-{CallSid}-{n}`: the workflow's id, and the conference's name.
    pub fn workflow_id(&self) -> String {
        transfer_id(&self.call_sid, self.n)
    }
}

/// `transfer-{CallSid}-{n}`.
pub fn transfer_id(call_sid: &CallSid, n: u32) -> String {
    format!("transfer-{call_sid}-{n}")
}

/// The call SID inside a transfer id.
pub fn call_sid_of_transfer(transfer_id: &str) -> Option<CallSid> {
    let rest = transfer_id.strip_prefix("transfer-")?;
    let (sid, n) = rest.rsplit_once('-')?;
    n.parse::<u32>().ok()?;
    CallSid::parse(sid).ok()
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferOutcome {
    /// `None`: the caller and the person are talking.
    pub reason: Option<TransferReason>,
    pub target_name: String,
    /// The person's leg, once Twilio created it.
    pub employee_call_sid: Option<String>,
    /// From the request to the person's phone ringing.
    pub ring_after_ms: Option<i64>,
    /// From the person's accept to both parties in the conference.
    pub connect_after_ms: Option<i64>,
}

impl TransferOutcome {
    pub fn connected(&self) -> bool {
        self.reason.is_none()
    }
}

/// The person's leg, as Twilio's status callbacks tell it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegStatus {
    pub call_sid: String,
    /// Twilio's `CallStatus`: `initiated`, `ringing`, `in-progress`, `no-answer`, `busy`,
    /// `failed`, `canceled`, `completed`.
    pub status: String,
}

/// What the person decided after the whisper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Decline,
    Message,
    /// Nothing pressed or said in time.
    None,
}

impl Decision {
    /// From a `<Gather>`'s `Digits` and `SpeechResult`: 1 / yes accepts, 2 / no declines, 3 /
    /// "message" asks for a message. Anything else is no decision.
    pub fn read(digits: &str, speech: &str) -> Self {
        match digits.trim().chars().next() {
            Some('1') => return Self::Accept,
            Some('2') => return Self::Decline,
            Some('3') => return Self::Message,
            _ => {}
        }
        let speech = speech.to_lowercase();
        let words: Vec<&str> = speech
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        if has(&["message", "messages"]) {
            Self::Message
        } else if has(&["no", "nope", "decline", "can't", "cannot", "busy", "later"]) {
            Self::Decline
        } else if has(&[
            "yes", "yeah", "yep", "sure", "ok", "okay", "accept", "connect", "one",
        ]) || speech.contains("put them through")
        {
            Self::Accept
        } else {
            Self::None
        }
    }
}

/// What the person's answered leg does next (the answer of the `employee_answered` Update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnswerPlan {
    /// Read this whisper and gather the decision.
    Whisper(String),
    /// Hang up the leg (a machine answered, or the transfer is already over).
    HangUp,
}

/// What the person's leg does after deciding (the answer of the `employee_decided` Update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DecisionPlan {
    /// Join the caller's conference.
    Join { conference: String },
    /// Say this and hang up.
    Release(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_from_keys_and_words() {
        assert_eq!(Decision::read("1", ""), Decision::Accept);
        assert_eq!(Decision::read("2", "yes"), Decision::Decline);
        assert_eq!(Decision::read("3", ""), Decision::Message);
        assert_eq!(
            Decision::read("", "Yes, put them through."),
            Decision::Accept
        );
        assert_eq!(Decision::read("", "No, not now."), Decision::Decline);
        assert_eq!(
            Decision::read("", "Take a message please"),
            Decision::Message
        );
        assert_eq!(Decision::read("", "hmm"), Decision::None);
        assert_eq!(Decision::read("", ""), Decision::None);
    }

    #[test]
    fn a_result_note_reads_back() {
        let note = transfer_result_note(TransferReason::NoAnswer, "Dr. Alice Smith");
        assert_eq!(
            parse_transfer_result_note(&note),
            Some((TransferReason::NoAnswer, "Dr. Alice Smith".to_owned()))
        );
        assert_eq!(parse_transfer_result_note("hello"), None);
    }

    #[test]
    fn transfer_ids_carry_the_call() {
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        let id = transfer_id(&sid, 2);
        assert_eq!(id, "transfer-CA0123456789abcdef0123456789abcdef-2");
        assert_eq!(call_sid_of_transfer(&id), Some(sid));
        assert_eq!(call_sid_of_transfer("transfer-x"), None);
        for r in TransferReason::ALL {
            assert_eq!(TransferReason::parse(r.as_str()), Some(r));
        }
    }
}
