//! Real-time audio and, later, voice engines.
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (Twilio Media Streams' audio format).
//!
//! Still to come (real-time audio issue), sans-I/O where it can be: resampling with rubato,
//! voice activity detection, WAV; the `VoiceEngine` trait with OpenAI Realtime, Gemini Live and
//! cascaded STT → LLM → TTS engines; and the bridge between a media stream and an engine.
//! Until then the API answers calls with a media stream URL that nothing serves yet.

pub mod mulaw;
