//! A [`PersonScript`]: how a simulated phone answers ([`Answer`]) and what its person then
//! does ([`Action`]s). Plain data with JSON (serde) forms.

use domain::CallStatus;
use serde::{Deserialize, Serialize};

use super::SAMPLES_PER_MS;
use crate::speech;

/// How the phone answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    /// A person picks up and follows the script.
    Human,
    /// Voicemail: plays a greeting of `greeting_ms`, then a beep, then records (the script's
    /// actions are ignored).
    Machine { greeting_ms: u32 },
    /// The line is busy (Twilio `CallStatus=busy`).
    Busy,
    /// The call cannot be completed (`CallStatus=failed`).
    Fail,
    /// Rings until the caller gives up (`CallStatus=no-answer`).
    NoAnswer,
}

impl Answer {
    /// Whether the call is answered (by a person or a machine).
    pub fn answers(&self) -> bool {
        matches!(self, Answer::Human | Answer::Machine { .. })
    }

    /// Twilio's final `CallStatus` when the call is not answered; `None` when it is.
    pub fn refusal_status(&self) -> Option<CallStatus> {
        match self {
            Answer::Human | Answer::Machine { .. } => None,
            Answer::Busy => Some(CallStatus::Busy),
            Answer::Fail => Some(CallStatus::Failed),
            Answer::NoAnswer => Some(CallStatus::NoAnswer),
        }
    }

    /// Twilio's `AnsweredBy` for answering-machine detection (`human` / `machine_end_beep`).
    pub fn answered_by(&self) -> Option<&'static str> {
        match self {
            Answer::Human => Some("human"),
            Answer::Machine { .. } => Some("machine_end_beep"),
            _ => None,
        }
    }
}

/// What an answering machine plays: speech-like greeting of exactly `greeting_ms`, a short
/// pause, then the beep.
pub fn machine_greeting(greeting_ms: u32) -> Vec<u8> {
    const TEXT: &str = "Hi, you have reached the voicemail of Alex. I can't take your call \
                        right now. Please leave a message after the tone.";
    let want = (u64::from(greeting_ms) * SAMPLES_PER_MS) as usize;
    let mut audio = Vec::with_capacity(want + 4800);
    while audio.len() < want {
        audio.extend(speech::synthesize(TEXT));
        audio.extend(speech::silence(300));
    }
    audio.truncate(want);
    audio.extend(speech::silence(300));
    audio.extend(speech::beep());
    audio
}

/// One step of a scripted person, after answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Say this text. On a call the person speaks it with [`speech::speak`] (espeak-ng when
    /// installed, see [`speech::VOICE_ENV`]); [`Action::audio`] gives the synthetic voice.
    Say(String),
    /// Play prepared μ-law audio (base64 in JSON); `label` names it in the events.
    SayAudio {
        label: String,
        #[serde(with = "base64_bytes")]
        mulaw: Vec<u8>,
    },
    /// Wait until the other side has talked and then been quiet for `quiet_ms`, giving up
    /// after `timeout_ms` (see [`QuietWait`](super::QuietWait)).
    WaitForQuiet { quiet_ms: u32, timeout_ms: u32 },
    /// Press DTMF digits (`0-9`, `*`, `#`, `A-D`).
    Digits(String),
    /// Do nothing for this many milliseconds.
    Pause(u32),
    /// Hang up.
    HangUp,
}

impl Action {
    /// The audio this action speaks, if it speaks.
    pub fn audio(&self) -> Option<Vec<u8>> {
        match self {
            Action::Say(text) => Some(speech::synthesize(text)),
            Action::SayAudio { mulaw, .. } => Some(mulaw.clone()),
            _ => None,
        }
    }
}

/// Default quiet time of [`PersonScript::wait_quiet`]: the other side has finished a turn.
pub const DEFAULT_QUIET_MS: u32 = 800;
/// Default give-up time of [`PersonScript::wait_quiet`].
pub const DEFAULT_WAIT_TIMEOUT_MS: u32 = 15_000;

/// How a simulated phone answers and what its person does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonScript {
    pub answer: Answer,
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Ringing time before answering (or before busy/failed is reported). Default 0.
    #[serde(default)]
    pub answer_after_ms: u32,
}

impl PersonScript {
    pub fn new(answer: Answer) -> Self {
        Self {
            answer,
            actions: Vec::new(),
            answer_after_ms: 0,
        }
    }

    /// A person who answers.
    pub fn human() -> Self {
        Self::new(Answer::Human)
    }

    /// An answering machine with a greeting of `greeting_ms` before the beep.
    pub fn machine(greeting_ms: u32) -> Self {
        Self::new(Answer::Machine { greeting_ms })
    }

    pub fn busy() -> Self {
        Self::new(Answer::Busy)
    }

    pub fn fail() -> Self {
        Self::new(Answer::Fail)
    }

    pub fn no_answer() -> Self {
        Self::new(Answer::NoAnswer)
    }

    /// Rings for `ms` before answering.
    pub fn answer_after(mut self, ms: u32) -> Self {
        self.answer_after_ms = ms;
        self
    }

    pub fn then(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    pub fn say(self, text: &str) -> Self {
        self.then(Action::Say(text.to_owned()))
    }

    pub fn say_audio(self, label: &str, mulaw: Vec<u8>) -> Self {
        self.then(Action::SayAudio {
            label: label.to_owned(),
            mulaw,
        })
    }

    /// Waits for the other side to finish talking ([`DEFAULT_QUIET_MS`] of quiet, at most
    /// [`DEFAULT_WAIT_TIMEOUT_MS`]).
    pub fn wait_quiet(self) -> Self {
        self.wait_quiet_for(DEFAULT_QUIET_MS, DEFAULT_WAIT_TIMEOUT_MS)
    }

    pub fn wait_quiet_for(self, quiet_ms: u32, timeout_ms: u32) -> Self {
        self.then(Action::WaitForQuiet {
            quiet_ms,
            timeout_ms,
        })
    }

    pub fn digits(self, digits: &str) -> Self {
        self.then(Action::Digits(digits.to_owned()))
    }

    pub fn pause(self, ms: u32) -> Self {
        self.then(Action::Pause(ms))
    }

    pub fn hang_up(self) -> Self {
        self.then(Action::HangUp)
    }

    /// Checks what serde cannot: digits are DTMF keys.
    pub fn validate(&self) -> Result<(), String> {
        for action in &self.actions {
            if let Action::Digits(d) = action
                && let Some(bad) = d
                    .chars()
                    .find(|c| !(c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')))
            {
                return Err(format!("not a DTMF digit: {bad:?}"));
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script always serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
