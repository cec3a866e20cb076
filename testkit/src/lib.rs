//! Fake upstream services for tests: real servers on 127.0.0.1 that speak the vendors' wire
//! protocols, so the production clients are exercised end to end without network or keys.

pub mod deepgram;
pub mod openai_chat;
pub mod openai_tts;
mod server;
