//! The Twilio simulator.
//!
//! It will serve Twilio's REST paths, send signed webhooks, interpret TwiML and run simulated
//! phones over Media Streams, seeing the product only over HTTP and WebSocket. Today the
//! integration tests use a small local fake of the REST API (`tests/…/helpers.rs`) and
//! `switchboard demo-call` posts signed webhooks by hand.
//!
//! Built so far:
//! - [`media_client`]: the phone side of a bidirectional Media Stream — connects to our
//!   `/twilio/media` exactly as Twilio does, sends caller audio in real time, plays what the
//!   server sends at real time and echoes marks when their audio has played.
//! - [`twiml`]: TwiML documents → a verb AST ([`twiml::Verb`]) with Twilio's attribute names,
//!   defaults, nesting rules and error codes (12100 parse failure, 12200 schema).
//! - [`speech`]: what the simulated network says — deterministic speech-like audio whose
//!   duration follows the text, optional `espeak-ng` speech, tones, the beep, silence.
//! - [`mixer`]: conference audio per 20 ms tick — everyone hears the other unmuted speakers
//!   (saturating sum), held participants hear hold music, coaches are heard only by their
//!   coachee.

pub mod error;
pub mod faults;
pub mod media_client;
pub mod mixer;
pub mod person;
mod rest;
mod runner;
pub mod server;
pub mod speech;
pub mod state;
pub mod twiml;
mod webhooks;

pub use error::SimError;
pub use faults::{FaultConfig, RestFailure};
pub use media_client::{
    MediaStreamClient, Observation, PhoneEvent, PhoneEventKind, SentFrame, StreamConfig,
};
pub use server::{CallHandle, NumberConfig, Sim, SimConfig, SimHandle};
pub use state::{
    CallEvent, CallEventKind, CallRecord, ConferenceRecord, MessageRecord, Notification,
    NumberRecord, ParticipantRecord,
};
