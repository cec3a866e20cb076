//! Real-time audio, voice engines and the call bridge.
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (Twilio Media Streams' audio format).
//! - [`pcm`]: 16-bit PCM helpers — little-endian bytes, RMS level in dBFS, test tones.
//! - [`resample`]: streaming [`resample::Resampler`] between 8/16/24/48 kHz (rubato FFT).
//! - [`engine`]: the `VoiceEngine` trait — channels of [`engine::EngineInput`] in and
//!   [`engine::EngineEvent`] out, μ-law 8 kHz at the boundary.
//! - [`stt`]: streaming speech-to-text ([`stt::SttProvider`]; Deepgram).
//! - [`tts`]: streaming text-to-speech ([`tts::TtsProvider`]; OpenAI).
//! - [`engines`]: `VoiceEngine` implementations ([`engines::cascaded::Cascaded`]: STT + TTS).

pub mod engine;
pub mod engines;
pub mod mulaw;
pub mod pcm;
pub mod resample;
pub mod stt;
pub mod tts;
