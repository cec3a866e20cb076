//! Test doubles for Switchboard's real-time path.
//!
//! - [`FakeOpenAiRealtime`] and [`FakeGeminiLive`]: WebSocket servers on `127.0.0.1:0` speaking
//!   the server side of the OpenAI Realtime (GA) and Gemini Live protocols, driven by a
//!   [`Script`] of [`Step`]s, and recording what the client sent.
//! - [`deepgram::FakeDeepgram`], [`openai_tts::FakeOpenAiTts`], [`openai_chat::FakeOpenAiChat`]:
//!   Deepgram live STT, OpenAI speech and chat completions, for the cascaded engine and the LLM.
//! - [`smtp::SmtpSink`]: a minimal SMTP server recording the messages it accepts, with faults.
//! - [`audio`]: μ-law frames of silence and tone to play the caller.
//! - [`timing::ModelSpans`]: when each fake did its own work, for benchmarks.
//! - [`website::FixtureSite`]: a small business's website (Bayside Plumbing & Heating) for the
//!   agent builder's crawler and extractors, with its [`website::answer_key`].

pub mod audio;
pub mod deepgram;
pub mod gemini_live;
mod http_server;
pub mod openai_chat;
pub mod openai_realtime;
pub mod openai_tts;
pub mod script;
mod server;
pub mod smtp;
pub mod timing;
pub mod website;

pub use gemini_live::FakeGeminiLive;
pub use openai_realtime::FakeOpenAiRealtime;
pub use script::{Script, Step};
