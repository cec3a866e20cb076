//! Real-time audio, voice engines and the call bridge.
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (Twilio Media Streams' audio format).
//! - [`pcm`]: 16-bit PCM helpers — little-endian bytes, RMS level in dBFS, test tones, and a
//!   windowed-sinc resampler between any two rates ([`pcm::resample_any`]).
//! - [`recording`]: both sides of a call as stereo Ogg/Opus, encoded 20 ms at a time.
//! - [`resample`]: streaming [`resample::Resampler`] between 8/16/24/48 kHz (rubato FFT).
//! - [`vad`]: energy-based voice activity detection on 20 ms frames, adaptive noise floor.
//! - [`wav`]: read/write 16-bit PCM WAV files and in-memory WAV bytes (hound), and a lenient
//!   reader for WAV streamed to a pipe ([`wav::parse_streamed_wav`]).
//! - [`engine`]: the `VoiceEngine` trait — channels of [`engine::EngineInput`] in and
//!   [`engine::EngineEvent`] out, μ-law 8 kHz at the boundary — and [`engine::EngineName`].
//! - [`catalog`]: the engines a deployment offers, by the name agents store.
//! - [`echo`]: an engine that says back what it hears (benchmarks, line checks).
//! - [`bridge`]: the transport-agnostic call bridge between a media transport (typed
//!   [`bridge::TransportEvent`]s in, [`bridge::TransportCommand`]s out; the API holds the Twilio
//!   framing) and an engine: pacing, marks, barge-in, tool calls and user turns as Updates.
//! - [`stt`]: streaming speech-to-text ([`stt::SttProvider`]; Deepgram).
//! - [`tts`]: streaming text-to-speech ([`tts::TtsProvider`]; OpenAI, and offline espeak-ng).
//! - [`engines`]: `VoiceEngine` implementations: OpenAI Realtime and Gemini Live
//!   (speech-to-speech), and [`engines::cascaded::Cascaded`] (STT → workflow LLM → TTS).

pub mod bridge;
pub mod catalog;
pub mod echo;
pub mod engine;
pub mod engines;
pub mod mulaw;
pub mod pcm;
pub mod recording;
pub mod resample;
pub mod stt;
pub mod tts;
pub mod vad;
pub mod wav;
