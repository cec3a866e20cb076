//! Simulated phones and the scripted people who answer them (sans-I/O).
//!
//! A [`PersonScript`] says how a called (or calling) phone behaves: how it answers
//! ([`Answer`]: a human, an answering machine, busy, failed, no answer), after how long, and
//! what the person then does ([`Action`]s: talk, wait until the other side is quiet, press
//! digits, pause, hang up). Scripts are plain data with JSON (serde) forms, so a test or the
//! sim's control API can send them.
//!
//! A [`Listener`] is the person's ear: fed the μ-law frames it hears with their timestamps, it
//! runs an energy VAD and tells when the other side starts and stops talking and how long it
//! has been quiet; [`QuietWait`] turns that into the outcome of [`Action::WaitForQuiet`].
//! A [`Recording`] keeps everything heard (and said) on a timeline, plus timestamped events,
//! and writes them as a WAV file and a JSON events file.
//!
//! Nothing here does I/O on a network or sleeps: the driver feeds time in.
//!
//! Module map: [`script`] (how the phone answers, what its person does), [`listener`] (the VAD
//! ear and [`QuietWait`]), [`turns`] (voice-to-voice latency per caller turn), [`recording`]
//! (what a phone heard and said, as WAV + JSON), and the call-side ear (`ear`, crate-private)
//! that the call plays into and the person's runtime waits on.

mod ear;
pub mod listener;
pub mod recording;
pub mod script;
pub mod turns;

pub(crate) use ear::{Ear, is_silent};
pub use listener::{Heard, Listener, QuietWait, WaitOutcome};
pub use recording::{EventKind, Recording, RecordingEvent};
pub use script::{
    Action, Answer, DEFAULT_QUIET_MS, DEFAULT_WAIT_TIMEOUT_MS, PersonScript, machine_greeting,
};
pub use turns::{OVERLAP_MS, Turn, TurnOutcome, VOICED_DBFS, VoiceTurns, is_voiced, voiced_span};

/// Samples per millisecond at 8 kHz.
const SAMPLES_PER_MS: u64 = 8;
/// One VAD frame: 20 ms at 8 kHz.
const FRAME: usize = 160;
const FRAME_MS: u64 = 20;

#[cfg(test)]
mod tests;
