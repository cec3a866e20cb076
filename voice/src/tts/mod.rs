//! Streaming text-to-speech: text in, μ-law 8 kHz audio chunks out as they are synthesized.
//!
//! [`TtsProvider::synthesize`] returns once the service has accepted the request (so request
//! errors surface there) and hands back a [`TtsStream`] that yields audio while the rest is still
//! being produced. Dropping the stream cancels the synthesis: the provider's task notices on its
//! next send and drops the upstream connection.

pub mod cache;
pub mod espeak;
pub mod flite;
pub mod openai;

use tokio::sync::mpsc;

pub use cache::CachedTts;
pub use espeak::{EspeakTts, EspeakTtsConfig};
pub use flite::{FliteTts, FliteTtsConfig};
pub use openai::{OpenAiTts, OpenAiTtsConfig};

#[derive(Debug, Clone, thiserror::Error)]
pub enum TtsError {
    #[error("text-to-speech is not configured: {0}")]
    NotConfigured(String),
    /// The service answered with an error status (message from its error body).
    #[error("text-to-speech request failed: HTTP {status}: {message}")]
    Status { status: u16, message: String },
    /// Connection, timeout or an interrupted body.
    #[error("text-to-speech transport error: {0}")]
    Transport(String),
}

/// Audio of one synthesis: μ-law 8 kHz chunks of any length, in order. Ends with `None` after
/// the last chunk; an `Err` item means the synthesis broke off and nothing more follows.
#[derive(Debug)]
pub struct TtsStream {
    rx: mpsc::Receiver<Result<Vec<u8>, TtsError>>,
}

impl TtsStream {
    /// A stream and the sender a provider's task feeds. `capacity` counts chunks.
    pub fn channel(capacity: usize) -> (mpsc::Sender<Result<Vec<u8>, TtsError>>, TtsStream) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, TtsStream { rx })
    }

    /// The next chunk, `None` once the synthesis is complete.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, TtsError>> {
        self.rx.recv().await
    }

    /// All remaining audio (for tests and non-streaming use).
    pub async fn collect(mut self) -> Result<Vec<u8>, TtsError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next().await {
            all.extend(chunk?);
        }
        Ok(all)
    }
}

/// A text-to-speech service that streams its audio.
#[async_trait::async_trait]
pub trait TtsProvider: Send + Sync {
    /// Stable name for logs and configuration, e.g. `openai`, `espeak`.
    fn name(&self) -> &'static str;

    /// Start synthesizing `text` with `voice` (the provider's default when `None`).
    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<TtsStream, TtsError>;
}
