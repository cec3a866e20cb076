//! Placeholder for `simparts`' simulated person (replaced on merge).

use serde::{Deserialize, Serialize};

/// How the phone answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    Human,
    Machine { greeting_ms: u32 },
    Busy,
    Fail,
    NoAnswer,
}

/// One step of what the person does once the call is up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    Say(String),
    SayAudio { mulaw: Vec<u8> },
    WaitForQuiet { quiet_ms: u32, timeout_ms: u32 },
    Digits(String),
    Pause(u32),
    HangUp,
}

/// A simulated phone's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonScript {
    pub answer: Answer,
    pub actions: Vec<Action>,
    pub answer_after_ms: u32,
}
