//! [`crate::engine::VoiceEngine`] implementations.
//!
//! - [`cascaded`]: speech-to-text → (the call workflow's LLM) → text-to-speech.

pub mod cascaded;
