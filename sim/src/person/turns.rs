//! Voice-to-voice latency: which 20 ms frames are voiced, and [`VoiceTurns`], the latency of
//! each caller turn.

use serde::{Deserialize, Serialize};
use voice::mulaw;

use super::ear::is_silent;
use super::{FRAME, SAMPLES_PER_MS};

/// A 20 ms frame is *voiced* (speech, not silence or a quiet line) when its RMS level is at
/// least this many dBFS: the level below which the product's VAD never hears speech
/// ([`voice::vad::VadConfig::min_speech_dbfs`]). μ-law silence (0xFF / 0x7F) decodes to 0 and low comfort
/// noise stays below it.
pub const VOICED_DBFS: f32 = -50.0;

/// Whether a μ-law frame (up to 20 ms) has speech-like energy ([`VOICED_DBFS`]).
pub fn is_voiced(mulaw_frame: &[u8]) -> bool {
    if is_silent(mulaw_frame) {
        return false;
    }
    let mut pcm = Vec::with_capacity(mulaw_frame.len());
    mulaw::decode(mulaw_frame, &mut pcm);
    voice::pcm::rms_dbfs(&pcm) >= VOICED_DBFS
}

/// Where the voice is in an utterance's audio: byte offsets `(start, end)` from the first
/// voiced 20 ms frame's start to the last voiced frame's end (frames counted from the start
/// of the audio), so leading and trailing silence a synthesizer adds is not speech. `None`
/// when no frame is voiced.
pub fn voiced_span(mulaw_audio: &[u8]) -> Option<(usize, usize)> {
    let voiced: Vec<usize> = mulaw_audio
        .chunks(FRAME)
        .enumerate()
        .filter(|(_, frame)| is_voiced(frame))
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (*voiced.first()?, *voiced.last()?);
    Some((first * FRAME, ((last + 1) * FRAME).min(mulaw_audio.len())))
}

/// How one caller turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TurnOutcome {
    /// The agent's first voiced frame after the caller's last one started `after_ms` later.
    Answered { after_ms: u64 },
    /// No voiced agent frame between the caller's last frame and the caller's next utterance
    /// (or the end of the call).
    Unanswered,
    /// The agent was still talking when the caller stopped (a voiced agent frame within
    /// [`OVERLAP_MS`] before the caller's last frame ended): no answer latency can be told.
    Overlapped,
}

/// An agent frame this close before the caller stops makes the turn [`TurnOutcome::Overlapped`].
pub const OVERLAP_MS: u64 = 100;

/// One caller utterance and what came of it. Times are on the phone's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based: the caller's n-th (voiced) utterance.
    pub turn: usize,
    /// End of the caller's last voiced frame of the utterance.
    pub said_end_ms: u64,
    pub outcome: TurnOutcome,
}

impl Turn {
    pub fn after_ms(&self) -> Option<u64> {
        match self.outcome {
            TurnOutcome::Answered { after_ms } => Some(after_ms),
            _ => None,
        }
    }
}

/// Voice-to-voice latency per caller turn (sans-I/O): fed, in timeline order, when each of the
/// caller's utterances starts and ends (their voiced spans, see [`voiced_span`]) and every frame
/// the caller hears with its start time.
///
/// A turn opens when an utterance ends at `E`. The first heard frame starting at `t ≥ E` that
/// is voiced ([`is_voiced`]) answers it: `after_ms = t − E`. If the caller's next utterance
/// starts (or the call ends, [`VoiceTurns::finish`]) first, the turn is
/// [`TurnOutcome::Unanswered`]. If the agent was heard talking within [`OVERLAP_MS`] before `E`,
/// the turn is [`TurnOutcome::Overlapped`] (no latency: the agent had not stopped).
#[derive(Debug, Clone, Default)]
pub struct VoiceTurns {
    utterances: usize,
    /// The turn waiting for an answer: (turn, caller's end).
    open: Option<(usize, u64)>,
    /// End of the last voiced frame heard.
    last_voiced_heard_end_ms: Option<u64>,
    done: Vec<Turn>,
}

impl VoiceTurns {
    pub fn new() -> Self {
        Self::default()
    }

    /// The caller's next utterance starts (its first voiced frame) at `at_ms`: a turn still
    /// waiting for an answer goes unanswered.
    pub fn utterance_started(&mut self, _at_ms: u64) {
        self.close_unanswered();
    }

    /// The caller's utterance ends (its last voiced frame) at `at_ms`: a turn opens.
    pub fn utterance_ended(&mut self, at_ms: u64) {
        self.close_unanswered();
        self.utterances += 1;
        let turn = self.utterances;
        let overlapped = self
            .last_voiced_heard_end_ms
            .is_some_and(|end| end + OVERLAP_MS > at_ms);
        if overlapped {
            self.done.push(Turn {
                turn,
                said_end_ms: at_ms,
                outcome: TurnOutcome::Overlapped,
            });
        } else {
            self.open = Some((turn, at_ms));
        }
    }

    /// A whole utterance (its voiced span).
    pub fn said(&mut self, start_ms: u64, end_ms: u64) {
        self.utterance_started(start_ms);
        self.utterance_ended(end_ms);
    }

    /// The caller hears `mulaw_frame` (up to 20 ms) starting at `at_ms`.
    pub fn heard(&mut self, at_ms: u64, mulaw_frame: &[u8]) {
        if !is_voiced(mulaw_frame) {
            return;
        }
        let end = at_ms + mulaw_frame.len() as u64 / SAMPLES_PER_MS;
        self.last_voiced_heard_end_ms =
            Some(self.last_voiced_heard_end_ms.map_or(end, |e| e.max(end)));
        if let Some((turn, said_end_ms)) = self.open
            && at_ms >= said_end_ms
        {
            self.open = None;
            self.done.push(Turn {
                turn,
                said_end_ms,
                outcome: TurnOutcome::Answered {
                    after_ms: at_ms - said_end_ms,
                },
            });
        }
    }

    /// The call is over: a turn still waiting goes unanswered.
    pub fn finish(&mut self) {
        self.close_unanswered();
    }

    /// Turns decided since the last call.
    pub fn take(&mut self) -> Vec<Turn> {
        std::mem::take(&mut self.done)
    }

    fn close_unanswered(&mut self) {
        if let Some((turn, said_end_ms)) = self.open.take() {
            self.done.push(Turn {
                turn,
                said_end_ms,
                outcome: TurnOutcome::Unanswered,
            });
        }
    }
}
