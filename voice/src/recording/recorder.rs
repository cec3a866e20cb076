//! [`CallRecorder`]: the two sides of a call, kept time-aligned by the wall clock.
//!
//! The caller's μ-law is queued as it arrives; the agent's as the bridge sends it to the
//! transport (pacing is real time, so sent is heard, give or take the one frame the pacer runs
//! ahead). Every 20 ms slot of wall clock then takes one frame from each queue, or silence
//! when a side had nothing, and encodes the pair. Slots are encoded [`JITTER_SLOTS`] behind
//! the clock so a frame that arrives a little late still lands in its slot. A barge-in's
//! `clear` drops the agent audio still queued: the caller never heard it.
//!
//! Sans-I/O: the caller gives `now_ms` (milliseconds since the stream started).

use super::{
    RecordingError,
    ogg_opus::{FRAME_SAMPLES, OggOpusWriter},
};
use crate::mulaw::{SILENCE, decode_sample};
use std::collections::VecDeque;

/// Milliseconds per slot.
const SLOT_MS: u64 = 20;
/// How far behind the clock slots are encoded: absorbs network jitter on the caller's side.
const JITTER_SLOTS: u64 = 5;
/// A side more than this far ahead of the clock (a burst after a stall) loses its oldest
/// audio, so the two sides never drift apart by more than this.
const MAX_BACKLOG_BYTES: usize = FRAME_SAMPLES * 25;

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The Ogg/Opus file.
    pub ogg: Vec<u8>,
    pub duration_ms: u64,
    pub channels: u8,
}

pub struct CallRecorder {
    writer: OggOpusWriter,
    caller: VecDeque<u8>,
    agent: VecDeque<u8>,
    /// Slots encoded so far.
    slots: u64,
    /// One slot of interleaved PCM, reused: the hot path does not allocate.
    interleaved: Box<[i16; 2 * FRAME_SAMPLES]>,
}

impl CallRecorder {
    pub fn new() -> Result<Self, RecordingError> {
        Ok(Self {
            writer: OggOpusWriter::new()?,
            caller: VecDeque::with_capacity(MAX_BACKLOG_BYTES + FRAME_SAMPLES),
            agent: VecDeque::with_capacity(MAX_BACKLOG_BYTES + FRAME_SAMPLES),
            slots: 0,
            interleaved: Box::new([0; 2 * FRAME_SAMPLES]),
        })
    }

    /// Caller audio as it arrived.
    pub fn caller_audio(&mut self, mulaw: &[u8]) {
        push_bounded(&mut self.caller, mulaw);
    }

    /// Agent audio as it was sent to the caller.
    pub fn agent_audio(&mut self, mulaw: &[u8]) {
        push_bounded(&mut self.agent, mulaw);
    }

    /// The transport was told to drop what it had not played: so does the recording, keeping
    /// only the agent audio whose slot has already come (it was heard).
    pub fn agent_cleared(&mut self, now_ms: u64) {
        let heard_slots = (now_ms / SLOT_MS).saturating_sub(self.slots);
        let keep = usize::try_from(heard_slots)
            .unwrap_or(usize::MAX)
            .saturating_mul(FRAME_SAMPLES);
        self.agent.truncate(keep);
    }

    /// Encodes the slots the clock has passed, less the jitter allowance.
    pub fn advance(&mut self, now_ms: u64) -> Result<(), RecordingError> {
        let due = (now_ms / SLOT_MS).saturating_sub(JITTER_SLOTS);
        while self.slots < due {
            self.encode_slot()?;
        }
        Ok(())
    }

    /// Encodes everything up to `now_ms` and what is still queued: the finished file.
    pub fn finish(mut self, now_ms: u64) -> Result<Recording, RecordingError> {
        let due = now_ms / SLOT_MS;
        while self.slots < due || !self.caller.is_empty() || !self.agent.is_empty() {
            self.encode_slot()?;
        }
        let duration_ms = self.writer.duration_ms().max(SLOT_MS);
        Ok(Recording {
            ogg: self.writer.finish()?,
            duration_ms,
            channels: super::RECORDING_CHANNELS,
        })
    }

    /// One slot: a frame of each side (silence where a side said nothing), caller left.
    fn encode_slot(&mut self) -> Result<(), RecordingError> {
        for pair in self.interleaved.chunks_exact_mut(2) {
            pair[0] = decode_sample(self.caller.pop_front().unwrap_or(SILENCE));
            pair[1] = decode_sample(self.agent.pop_front().unwrap_or(SILENCE));
        }
        self.slots += 1;
        self.writer.push_frame(&self.interleaved[..])
    }
}

fn push_bounded(queue: &mut VecDeque<u8>, mulaw: &[u8]) {
    queue.extend(mulaw);
    let excess = queue.len().saturating_sub(MAX_BACKLOG_BYTES);
    queue.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mulaw;

    #[test]
    fn silence_fills_the_slots_a_side_said_nothing_in() {
        let mut recorder = CallRecorder::new().unwrap();
        recorder.agent_audio(&mulaw::tone(440.0, 100, 0.5));
        recorder.advance(1_000).unwrap();
        let recording = recorder.finish(1_000).unwrap();
        assert_eq!(recording.duration_ms, 1_000);
        assert_eq!(&recording.ogg[..4], b"OggS");
    }

    #[test]
    fn a_clear_drops_the_agent_audio_not_yet_heard() {
        let mut recorder = CallRecorder::new().unwrap();
        recorder.agent_audio(&mulaw::tone(440.0, 400, 0.5));
        recorder.advance(200).unwrap();
        recorder.agent_cleared(200);
        // 5 slots encoded, the clock at slot 10: 5 frames were heard, the other 10 were not.
        assert_eq!(recorder.agent.len(), 5 * FRAME_SAMPLES);
        let recording = recorder.finish(200).unwrap();
        assert_eq!(recording.duration_ms, 200);
    }

    #[test]
    fn a_burst_after_a_stall_cannot_drift_a_side_by_more_than_the_backlog() {
        let mut recorder = CallRecorder::new().unwrap();
        recorder.caller_audio(&mulaw::silence(5_000));
        assert_eq!(recorder.caller.len(), MAX_BACKLOG_BYTES);
    }
}
