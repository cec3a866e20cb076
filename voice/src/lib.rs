//! Real-time audio, voice engines and the call bridge.
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (Twilio Media Streams' audio format).
//! - [`engine`]: the `VoiceEngine` trait — channels of [`engine::EngineInput`] in and
//!   [`engine::EngineEvent`] out, μ-law 8 kHz at the boundary.

pub mod engine;
pub mod mulaw;
pub mod stt;
