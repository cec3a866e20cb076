//! Real-time audio and voice engines — not built yet.
//!
//! This crate will own, sans-I/O where it can: G.711 μ-law, resampling (rubato), voice
//! activity detection, WAV; the `VoiceEngine` trait with OpenAI Realtime, Gemini Live and
//! cascaded STT → LLM → TTS engines; and the transport-agnostic bridge between a Twilio media
//! stream and an engine. Until then the API answers calls with a media stream URL that
//! nothing serves yet (see the real-time audio issue).
