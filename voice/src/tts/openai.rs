//! OpenAI text-to-speech (`POST {base_url}/audio/speech`) streamed as raw PCM.
//!
//! With `response_format: "pcm"` the body is headerless 24 kHz 16-bit little-endian mono PCM,
//! delivered chunk by chunk while the model speaks. Each chunk is converted at once — an odd
//! trailing byte is carried over to the next chunk, 24 kHz is resampled to 8 kHz and encoded
//! to μ-law — and sent on, so the first audio leaves long before synthesis ends.

use std::time::Duration;

use domain::Secret;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::debug;

use super::{TtsError, TtsProvider, TtsStream};
use crate::{mulaw, resample::Resampler};

/// OpenAI's PCM output rate.
const SOURCE_HZ: u32 = 24_000;
const TARGET_HZ: u32 = 8_000;
/// Chunks buffered between the HTTP body and the consumer.
const STREAM_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub struct OpenAiTtsConfig {
    /// API root, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub api_key: Secret<String>,
    /// e.g. `gpt-4o-mini-tts`.
    pub model: String,
    /// Default voice, e.g. `alloy`.
    pub voice: String,
    /// Time allowed to connect, until the response headers arrive, and between two body
    /// chunks; a stalled synthesis fails with [`TtsError::Transport`] instead of hanging.
    pub stall_timeout: Duration,
}

impl OpenAiTtsConfig {
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            api_key: Secret::new(api_key.into()),
            model: "gpt-4o-mini-tts".into(),
            voice: "alloy".into(),
            stall_timeout: Duration::from_secs(10),
        }
    }
}

/// [`TtsProvider`] for OpenAI's speech endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiTts {
    http: reqwest::Client,
    config: OpenAiTtsConfig,
}

impl OpenAiTts {
    pub fn new(config: OpenAiTtsConfig) -> Result<Self, TtsError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.stall_timeout)
            .build()
            .map_err(|e| TtsError::NotConfigured(e.to_string()))?;
        Ok(Self { http, config })
    }
}

#[async_trait::async_trait]
impl TtsProvider for OpenAiTts {
    fn name(&self) -> &'static str {
        "openai"
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<TtsStream, TtsError> {
        let response = self.request_speech(text, voice).await?;
        let resampler = Resampler::new(SOURCE_HZ, TARGET_HZ)
            .map_err(|e| TtsError::NotConfigured(e.to_string()))?;
        let (tx, stream) = TtsStream::channel(STREAM_CAPACITY);
        let chars = text.chars().count();
        let stall_timeout = self.config.stall_timeout;
        tokio::spawn(async move {
            let Some(total) = stream_speech(response, resampler, &tx, stall_timeout).await else {
                return;
            };
            debug!(
                chars,
                audio_ms = total / 8,
                "openai tts: synthesis complete"
            );
        });
        Ok(stream)
    }
}

impl OpenAiTts {
    /// `POST /audio/speech` for raw PCM; the response once its status says the audio follows.
    async fn request_speech(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<reqwest::Response, TtsError> {
        let voice = voice.unwrap_or(&self.config.voice);
        let url = format!(
            "{}/audio/speech",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": self.config.model,
            "voice": voice,
            "input": text,
            "response_format": "pcm",
        });
        let send = self
            .http
            .post(&url)
            .bearer_auth(self.config.api_key.expose())
            .json(&body)
            .send();
        let response = tokio::time::timeout(self.config.stall_timeout, send)
            .await
            .map_err(|_| TtsError::Transport("timed out waiting for the response".into()))?
            .map_err(|e| TtsError::Transport(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(TtsError::Status {
                status: status.as_u16(),
                message: openai_error_message(&body),
            });
        }
        Ok(response)
    }
}

/// Decodes the response body as it comes and sends it as 8 kHz μ-law. `Some(samples sent)` at
/// the end of the audio; `None` when the stream was dropped or the body failed (reported).
async fn stream_speech(
    mut response: reqwest::Response,
    mut resampler: Resampler,
    tx: &mpsc::Sender<Result<Vec<u8>, TtsError>>,
    stall_timeout: Duration,
) -> Option<usize> {
    let mut decoder = PcmDecoder::new(resampler.delay_samples());
    let mut total = 0usize;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(stall_timeout, response.chunk()) => next,
            _ = tx.closed() => {
                debug!("openai tts: stream dropped; cancelling synthesis");
                return None;
            }
        };
        let chunk = match next {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                let _ = tx.send(Err(TtsError::Transport(e.to_string()))).await;
                return None;
            }
            Err(_) => {
                let _ = tx
                    .send(Err(TtsError::Transport("audio stream stalled".into())))
                    .await;
                return None;
            }
        };
        let mulaw = decoder.push(&chunk, &mut resampler);
        total += mulaw.len();
        if !mulaw.is_empty() && tx.send(Ok(mulaw)).await.is_err() {
            debug!("openai tts: stream dropped; cancelling synthesis");
            return None; // dropping `response` closes the body
        }
    }
    let tail = decoder.finish(&mut resampler);
    total += tail.len();
    if !tail.is_empty() {
        let _ = tx.send(Ok(tail)).await;
    }
    Some(total)
}

/// 24 kHz PCM16LE bytes in arbitrary splits → 8 kHz μ-law.
struct PcmDecoder {
    /// A byte of a sample split across chunks.
    carry: Option<u8>,
    /// Leading output samples still to drop: the resampler's filter delay, so the audio starts
    /// at once and its length matches the input.
    skip: usize,
    samples: Vec<i16>,
    resampled: Vec<i16>,
}

impl PcmDecoder {
    fn new(skip: usize) -> Self {
        Self {
            carry: None,
            skip,
            samples: Vec::new(),
            resampled: Vec::new(),
        }
    }

    fn push(&mut self, mut bytes: &[u8], resampler: &mut Resampler) -> Vec<u8> {
        self.samples.clear();
        if let Some(low) = self.carry.take() {
            match bytes.split_first() {
                Some((&high, rest)) => {
                    self.samples.push(i16::from_le_bytes([low, high]));
                    bytes = rest;
                }
                None => {
                    self.carry = Some(low);
                    return Vec::new();
                }
            }
        }
        let whole = bytes.len() / 2 * 2;
        self.samples
            .extend(crate::pcm::i16_from_le_bytes(&bytes[..whole]));
        if whole < bytes.len() {
            self.carry = Some(bytes[whole]);
        }
        self.resampled.clear();
        resampler.process(&self.samples, &mut self.resampled);
        self.encode()
    }

    fn finish(&mut self, resampler: &mut Resampler) -> Vec<u8> {
        // A dangling odd byte is half a sample: drop it.
        self.carry = None;
        self.resampled.clear();
        resampler.flush(&mut self.resampled);
        self.encode()
    }

    fn encode(&mut self) -> Vec<u8> {
        let skip = self.skip.min(self.resampled.len());
        self.skip -= skip;
        let mut out = Vec::with_capacity(self.resampled.len() - skip);
        mulaw::encode(&self.resampled[skip..], &mut out);
        out
    }
}

/// OpenAI's `{"error": {"message": …}}`, or the start of the body.
fn openai_error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

/// Never prints the API key.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_api_key() {
        let config = OpenAiTtsConfig::new("sk-live-123");
        assert!(!format!("{config:?}").contains("sk-live-123"));
    }

    #[test]
    fn odd_splits_decode_like_one_chunk() {
        let pcm = crate::pcm::sine(440.0, SOURCE_HZ, 200, 0.3);
        let bytes = crate::pcm::i16_to_le_bytes(&pcm);

        let mut r1 = Resampler::new(SOURCE_HZ, TARGET_HZ).unwrap();
        let mut d1 = PcmDecoder::new(r1.delay_samples());
        let mut whole = d1.push(&bytes, &mut r1);
        whole.extend(d1.finish(&mut r1));

        let mut r2 = Resampler::new(SOURCE_HZ, TARGET_HZ).unwrap();
        let mut d2 = PcmDecoder::new(r2.delay_samples());
        let mut split = Vec::new();
        for piece in bytes.chunks(333) {
            split.extend(d2.push(piece, &mut r2));
        }
        split.extend(d2.finish(&mut r2));

        assert_eq!(whole, split);
        assert_eq!(whole.len(), 1600, "200 ms at 8 kHz");
    }

    #[test]
    fn error_message_from_openai_body() {
        assert_eq!(
            openai_error_message(
                r#"{"error":{"message":"Invalid voice","type":"invalid_request_error"}}"#
            ),
            "Invalid voice"
        );
    }
}
