//! Real-time audio, voice engines and the call bridge.
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (Twilio Media Streams' audio format).
//! - [`engine`]: the `VoiceEngine` trait — channels of [`engine::EngineInput`] in and
//!   [`engine::EngineEvent`] out, μ-law 8 kHz at the boundary.
//! - [`catalog`]: the engines a deployment offers, by the name agents store.
//! - [`echo`]: an engine that says back what it hears (benchmarks, line checks).
//! - [`bridge`]: the transport-agnostic call bridge between a Twilio media stream and an engine:
//!   pacing, marks, barge-in, tool calls and user turns as workflow Updates.

pub mod bridge;
pub mod catalog;
pub mod echo;
pub mod engine;
pub mod mulaw;
