//! Calls: direction, Twilio's call status, who answered, how a call ended, and transcript
//! segments.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    Inbound,
    Outbound,
}

impl CallDirection {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "inbound" => Some(Self::Inbound),
            "outbound" => Some(Self::Outbound),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

impl fmt::Display for CallDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Twilio's `CallStatus` values, spelled as Twilio spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    Failed,
    NoAnswer,
    Canceled,
}

impl CallStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "failed" => Self::Failed,
            "no-answer" => Self::NoAnswer,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NoAnswer => "no-answer",
            Self::Canceled => "canceled",
        }
    }

    /// A final status: Twilio sends nothing more for this call.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call ended, from the business point of view. Also the `CallOutcome` search attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Connected and ended normally by either side.
    Completed,
    /// We ended it because the agent's maximum call duration elapsed.
    MaxDurationReached,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    /// An answering machine picked up (Twilio's `AnsweredBy=machine_*`); we left a message.
    Voicemail,
    /// The agent warm-transferred the caller to a person, who took the call.
    Transferred,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 8] = [
        Self::Completed,
        Self::MaxDurationReached,
        Self::Busy,
        Self::NoAnswer,
        Self::Failed,
        Self::Canceled,
        Self::Voicemail,
        Self::Transferred,
    ];

    pub fn from_final_status(status: CallStatus) -> Self {
        match status {
            CallStatus::Busy => Self::Busy,
            CallStatus::NoAnswer => Self::NoAnswer,
            CallStatus::Failed => Self::Failed,
            CallStatus::Canceled => Self::Canceled,
            _ => Self::Completed,
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::MaxDurationReached => "max_duration_reached",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Voicemail => "voicemail",
            Self::Transferred => "transferred",
        }
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who picked up, by Twilio's answering machine detection (`AnsweredBy`).
///
/// Serialized as Twilio's spelling: the `answered_by` signal and [`FinishCallInput`] carry it
/// in workflow histories as that JSON string, and the calls table stores it. A spelling Twilio
/// adds later is kept as [`AnsweredBy::Other`] rather than refused.
///
/// [`FinishCallInput`]: crate::workflow_io::FinishCallInput
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum AnsweredBy {
    Human,
    MachineStart,
    MachineEndBeep,
    MachineEndSilence,
    MachineEndOther,
    Fax,
    Unknown,
    Other(String),
}

impl AnsweredBy {
    /// Reads Twilio's `AnsweredBy`: never fails.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "human" => Self::Human,
            "machine_start" => Self::MachineStart,
            "machine_end_beep" => Self::MachineEndBeep,
            "machine_end_silence" => Self::MachineEndSilence,
            "machine_end_other" => Self::MachineEndOther,
            "fax" => Self::Fax,
            "unknown" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Human => "human",
            Self::MachineStart => "machine_start",
            Self::MachineEndBeep => "machine_end_beep",
            Self::MachineEndSilence => "machine_end_silence",
            Self::MachineEndOther => "machine_end_other",
            Self::Fax => "fax",
            Self::Unknown => "unknown",
            Self::Other(raw) => raw,
        }
    }

    /// An answering machine: the caller gets the voicemail message, the outcome is
    /// [`CallOutcome::Voicemail`]. A spelling we do not know counts when it starts `machine`.
    pub fn is_machine(&self) -> bool {
        match self {
            Self::MachineStart
            | Self::MachineEndBeep
            | Self::MachineEndSilence
            | Self::MachineEndOther => true,
            Self::Other(raw) => raw.starts_with("machine"),
            Self::Human | Self::Fax | Self::Unknown => false,
        }
    }
}

impl From<String> for AnsweredBy {
    fn from(value: String) -> Self {
        Self::parse(&value)
    }
}

impl From<AnsweredBy> for String {
    fn from(value: AnsweredBy) -> Self {
        match value {
            AnsweredBy::Other(raw) => raw,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for AnsweredBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Caller,
    Agent,
}

impl Speaker {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "caller" => Some(Self::Caller),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Caller => "caller",
            Self::Agent => "agent",
        }
    }
}

/// One utterance. Offsets are milliseconds from the start of the media stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptSegment {
    pub speaker: Speaker,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The caller spoke over this agent turn and it was cut off.
    #[serde(default)]
    pub interrupted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_status_parses_every_twilio_spelling() {
        for s in [
            "queued",
            "initiated",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "failed",
            "no-answer",
            "canceled",
        ] {
            assert_eq!(CallStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(CallStatus::parse("done").is_none());
    }

    #[test]
    fn directions_outcomes_and_speakers_parse_their_own_spelling() {
        for d in [CallDirection::Inbound, CallDirection::Outbound] {
            assert_eq!(CallDirection::parse(d.as_str()), Some(d));
        }
        for o in CallOutcome::ALL {
            assert_eq!(CallOutcome::parse(o.as_str()), Some(o));
        }
        for s in [Speaker::Caller, Speaker::Agent] {
            assert_eq!(Speaker::parse(s.as_str()), Some(s));
        }
        assert_eq!(CallDirection::parse("sideways"), None);
        assert_eq!(CallOutcome::parse("max-duration-reached"), None);
        assert_eq!(Speaker::parse("narrator"), None);
    }

    #[test]
    fn answered_by_keeps_twilios_spelling_on_the_wire() {
        for raw in [
            "human",
            "machine_start",
            "machine_end_beep",
            "machine_end_silence",
            "machine_end_other",
            "fax",
            "unknown",
            "machine_end_whistle",
            "robot",
        ] {
            let json = format!("\"{raw}\"");
            let parsed: AnsweredBy = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, AnsweredBy::parse(raw));
            assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
            assert_eq!(parsed.to_string(), raw);
        }
        assert_eq!(
            AnsweredBy::parse("machine_end_beep"),
            AnsweredBy::MachineEndBeep
        );
    }

    #[test]
    fn machines_are_the_machine_spellings_known_or_not() {
        assert!(AnsweredBy::MachineStart.is_machine());
        assert!(AnsweredBy::MachineEndBeep.is_machine());
        assert!(AnsweredBy::parse("machine_end_whistle").is_machine());
        assert!(!AnsweredBy::Human.is_machine());
        assert!(!AnsweredBy::Fax.is_machine());
        assert!(!AnsweredBy::Unknown.is_machine());
        assert!(!AnsweredBy::parse("robot").is_machine());
    }

    #[test]
    fn only_terminal_statuses_are_final() {
        assert!(CallStatus::Completed.is_final());
        assert!(CallStatus::NoAnswer.is_final());
        assert!(!CallStatus::InProgress.is_final());
        assert!(!CallStatus::Ringing.is_final());
    }
}
