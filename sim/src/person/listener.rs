//! The person's ear as a VAD: [`Listener`] tells when the other side talks and how long it
//! has been quiet; [`QuietWait`] is one [`Action::WaitForQuiet`](super::Action::WaitForQuiet)(super::Action::WaitForQuiet).

use voice::mulaw;
use voice::vad::{Vad, VadConfig, VadEvent};

use super::{FRAME, FRAME_MS, SAMPLES_PER_MS};

/// A change in what the listener hears. Times are when it happened on the timeline (the VAD's
/// confirmation delay and hangover are taken off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    SpeechStarted { at_ms: u64 },
    SpeechEnded { at_ms: u64 },
}

/// The ear of a simulated person: tracks whether the other side is talking.
#[derive(Debug, Clone)]
pub struct Listener {
    vad: Vad,
    start_frames: u64,
    end_frames: u64,
    /// Decoded samples not yet a whole frame.
    pending: Vec<i16>,
    /// Timeline position (in samples) of the next sample to be appended.
    pos: u64,
    talking: bool,
    /// When the last speech ended (or 0 if none yet).
    quiet_since_ms: u64,
    utterances: u64,
}

impl Default for Listener {
    fn default() -> Self {
        Self::new()
    }
}

impl Listener {
    /// A listener with the product's VAD settings (speech ends after a 400 ms hangover, so
    /// pauses at commas and full stops stay within one utterance). Quiet time is measured from
    /// the real end of speech, hangover taken off, so it can be known from 400 ms on.
    pub fn new() -> Self {
        Self::with_config(VadConfig::default())
    }

    pub fn with_config(config: VadConfig) -> Self {
        let start_frames = u64::from(config.start_frames.max(1));
        let end_frames = u64::from(config.end_frames.max(1));
        Self {
            vad: Vad::new(config),
            start_frames,
            end_frames,
            pending: Vec::with_capacity(FRAME),
            pos: 0,
            talking: false,
            quiet_since_ms: 0,
            utterances: 0,
        }
    }

    /// Hears μ-law audio that started playing at `at_ms`. A gap since the previous audio is
    /// heard as silence; audio that overlaps the previous is heard after it.
    pub fn push(&mut self, at_ms: u64, mulaw_audio: &[u8]) -> Vec<Heard> {
        let mut events = self.fill_silence_to(at_ms);
        let mut pcm = Vec::with_capacity(mulaw_audio.len());
        mulaw::decode(mulaw_audio, &mut pcm);
        events.extend(self.feed(&pcm));
        events
    }

    /// Time passes with nothing heard until `now_ms`: silence.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Heard> {
        self.fill_silence_to(now_ms)
    }

    /// Whether the other side is talking now.
    pub fn is_talking(&self) -> bool {
        self.talking
    }

    /// How long the other side has been quiet at `now_ms` (0 while talking).
    pub fn quiet_for_ms(&self, now_ms: u64) -> u64 {
        if self.talking {
            0
        } else {
            now_ms.saturating_sub(self.quiet_since_ms)
        }
    }

    /// Quiet for at least `ms` at `now_ms`?
    pub fn is_quiet_for(&self, now_ms: u64, ms: u64) -> bool {
        !self.talking && self.quiet_for_ms(now_ms) >= ms
    }

    /// Utterances started so far.
    pub fn utterances(&self) -> u64 {
        self.utterances
    }

    fn fill_silence_to(&mut self, at_ms: u64) -> Vec<Heard> {
        let target = at_ms * SAMPLES_PER_MS;
        if target <= self.pos {
            return Vec::new();
        }
        let gap = target - self.pos;
        // Enough silence to close any utterance; beyond that silence changes nothing but the
        // clock (and the noise floor, which only follows quieter frames down).
        let cap = (self.end_frames + 2) * FRAME as u64;
        let fill = gap.min(cap) as usize;
        let events = self.feed(&vec![0; fill]);
        self.pos = target;
        events
    }

    fn feed(&mut self, pcm: &[i16]) -> Vec<Heard> {
        let mut events = Vec::new();
        // `pos` counts samples appended; the frame being completed ends at `frame_end`.
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (FRAME - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.pos += take as u64;
            if self.pending.len() == FRAME {
                let frame_end_ms = self.pos / SAMPLES_PER_MS;
                match self.vad.push(&self.pending) {
                    Some(VadEvent::SpeechStarted) => {
                        let at_ms = frame_end_ms.saturating_sub(self.start_frames * FRAME_MS);
                        self.talking = true;
                        self.utterances += 1;
                        events.push(Heard::SpeechStarted { at_ms });
                    }
                    Some(VadEvent::SpeechEnded) => {
                        let at_ms = frame_end_ms.saturating_sub(self.end_frames * FRAME_MS);
                        self.talking = false;
                        self.quiet_since_ms = at_ms;
                        events.push(Heard::SpeechEnded { at_ms });
                    }
                    None => {}
                }
                self.pending.clear();
            }
        }
        events
    }
}

/// How an [`Action::WaitForQuiet`](super::Action::WaitForQuiet) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The other side talked, then was quiet for the required time.
    Quiet,
    /// Nothing of the kind within the timeout.
    TimedOut,
}

/// The state of one [`Action::WaitForQuiet`](super::Action::WaitForQuiet): it is satisfied once the other side has talked
/// (since the wait began, or was talking when it began) and then been quiet for `quiet_ms`.
/// Waiting for talk first keeps a person from speaking into a greeting that has not begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietWait {
    started_ms: u64,
    utterances_at_start: u64,
    talking_at_start: bool,
    quiet_ms: u64,
    timeout_ms: u64,
}

impl QuietWait {
    pub fn begin(listener: &Listener, now_ms: u64, quiet_ms: u32, timeout_ms: u32) -> Self {
        Self {
            started_ms: now_ms,
            utterances_at_start: listener.utterances(),
            talking_at_start: listener.is_talking(),
            quiet_ms: u64::from(quiet_ms),
            timeout_ms: u64::from(timeout_ms),
        }
    }

    /// `None` while still waiting.
    pub fn poll(&self, listener: &Listener, now_ms: u64) -> Option<WaitOutcome> {
        let talked = self.talking_at_start || listener.utterances() > self.utterances_at_start;
        if talked && listener.is_quiet_for(now_ms, self.quiet_ms) {
            Some(WaitOutcome::Quiet)
        } else if now_ms.saturating_sub(self.started_ms) >= self.timeout_ms {
            Some(WaitOutcome::TimedOut)
        } else {
            None
        }
    }
}
