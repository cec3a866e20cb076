//! Call recording: both sides of a call as one stereo Ogg/Opus file (caller left, agent right),
//! encoded incrementally, one 20 ms Opus packet at a time, so a long call holds only its
//! compressed bytes in memory.
//!
//! - [`ogg_opus`]: the container — `OpusHead`/`OpusTags`, granule positions at 48 kHz,
//!   pre-skip — around an Opus encoder fed 8 kHz PCM (Opus takes 8 kHz input as it is).
//! - [`recorder`]: [`CallRecorder`], the sans-I/O clock that keeps the two sides
//!   time-aligned: each side's μ-law is queued as it is heard or sent, and every 20 ms slot of
//!   wall clock (given as `now_ms`) takes one frame of each, or silence.

mod ogg_opus;
mod recorder;

pub use ogg_opus::{OGG_OPUS_CONTENT_TYPE, OggOpusWriter, RECORDING_CHANNELS};
pub use recorder::{CallRecorder, Recording};

/// What a recorded call's agent says first, before its greeting.
pub const RECORDING_DISCLOSURE: &str = "This call may be recorded.";

/// The encoder refused its settings or a frame (libopus's error, as text).
#[derive(Debug, thiserror::Error)]
#[error("recording: {0}")]
pub struct RecordingError(String);

impl From<opus::Error> for RecordingError {
    fn from(e: opus::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<std::io::Error> for RecordingError {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}
