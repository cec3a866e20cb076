//! Streaming speech-to-text: μ-law 8 kHz caller audio in, speech and transcript events out.
//!
//! A provider opens one [`SttSession`] per call. The session is a pair of channels, like
//! [`crate::engine::EngineSession`]: send audio frames on [`SttSession::audio`] and read
//! [`SttEvent`]s from [`SttSession::events`]. Dropping the audio sender finishes the stream: the
//! provider flushes what it still has, sends its last events and closes the event channel.

pub mod deepgram;
pub mod sidecar;

use tokio::sync::mpsc;

pub use deepgram::{DeepgramConfig, DeepgramStt};
pub use sidecar::SttSidecar;

/// Per-session options. `None` means "the provider's configured default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SttOptions {
    /// BCP-47 language tag, e.g. `en-US`.
    pub language: Option<String>,
    /// Model name, e.g. `nova-3`.
    pub model: Option<String>,
}

/// What a speech-to-text session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SttEvent {
    /// The caller started speaking (the provider's voice activity detection). Used for barge-in,
    /// so it comes before any transcript of the utterance.
    SpeechStarted,
    /// A tentative transcript of the current turn so far (finalized pieces plus the tentative
    /// tail). May change; for display and logs only.
    Interim(String),
    /// Finalized text of the current turn so far (all finalized pieces, joined by spaces). When
    /// `end_of_turn` is true the caller has finished the turn and `text` is the whole turn; the
    /// next event starts a new turn. Consumers that only want whole turns look at
    /// `end_of_turn == true` and ignore the rest. A turn is never ended with empty text.
    Final { text: String, end_of_turn: bool },
    /// The session failed and is over; the event channel closes after this.
    Failed(String),
}

/// A running speech-to-text session.
#[derive(Debug)]
pub struct SttSession {
    /// μ-law 8 kHz mono audio, normally 20 ms (160 byte) frames. Drop it to finish the stream.
    pub audio: mpsc::Sender<Vec<u8>>,
    /// Events in order; closed once the stream has finished or failed.
    pub events: mpsc::Receiver<SttEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum SttError {
    #[error("speech-to-text is not configured: {0}")]
    NotConfigured(String),
    #[error("could not connect to the speech-to-text service: {0}")]
    Connect(String),
    #[error("speech-to-text service rejected the request: HTTP {status}: {message}")]
    Rejected { status: u16, message: String },
}

/// A streaming speech-to-text service.
#[async_trait::async_trait]
pub trait SttProvider: Send + Sync {
    /// Stable name for logs and configuration, e.g. `deepgram`.
    fn name(&self) -> &'static str;

    /// Connect and start a session. Returns once the service is ready for audio.
    async fn start(&self, opts: SttOptions) -> Result<SttSession, SttError>;
}
