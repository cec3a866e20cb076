//! The Twilio simulator: a local Twilio the product cannot tell from the real one.
//!
//! It serves Twilio's REST paths, sends signed webhooks, interprets TwiML and runs simulated
//! phones (scripted people) over Media Streams, seeing the product only over HTTP and
//! WebSocket. Start it with [`Sim::start`]; point the product's Twilio base URL at
//! [`SimHandle::base_url`].
//!
//! Module map:
//! - [`server`]: [`Sim::start`] / [`SimConfig`], the [`SimHandle`] and [`CallHandle`] tests
//!   drive, and the `/_sim/` control API, whose request and response types are [`control`]'s
//!   (shared with the `switchboard sim` client).
//! - `rest` (private): Twilio's REST API — Calls, Messages, Conferences + Participants,
//!   AvailablePhoneNumbers, IncomingPhoneNumbers, Recordings — with Basic auth (auth token or
//!   API key), Twilio's error JSON and codes, paging fields, and fault injection.
//! - `call` (private): the call lifecycle (ringing, answer, AMD, status callbacks, typed
//!   [`CallStatus`]), the person on the line, and the TwiML interpreter with one module per
//!   verb (Say, Play, Pause, Gather, Dial Number/Conference, Connect/Stream, Record,
//!   Redirect, Hangup, Reject).
//! - `conference` (private): conferences and their participants, each live conference with a
//!   mixer task ([`mixer`]).
//! - `webhooks` (private): signed form POSTs / GETs, `#rc=` and configured retries, delays,
//!   duplicates.
//! - [`state`]: the resources as Twilio's JSON ([`CallRecord`], [`MessageRecord`], …), call
//!   transcripts ([`CallEvent`]) and error [`Notification`]s.
//! - [`faults`]: [`FaultConfig`] — seeded REST failures (429/500/timeout), webhook delay,
//!   duplicates and retries, dropped media streams.
//! - [`media_client`]: the phone side of a bidirectional Media Stream — connects to our
//!   `/twilio/media` exactly as Twilio does, sends caller audio in real time, plays what the
//!   server sends at real time and echoes marks when their audio has played.
//! - [`twiml`]: TwiML documents → a verb AST ([`twiml::Verb`], one struct per verb) with
//!   Twilio's attribute names, defaults, nesting rules and error codes (12100 parse failure,
//!   12200 schema).
//! - [`speech`]: what the simulated network says — deterministic speech-like audio whose
//!   duration follows the text, `espeak-ng` speech for simulated callers when installed
//!   ([`speech::speak`], `SIM_VOICE`), tones, the beep, silence.
//! - [`mixer`]: conference audio per 20 ms tick — everyone hears the other unmuted speakers
//!   (saturating sum), held participants hear hold music, coaches are heard only by their
//!   coachee.
//! - [`person`]: simulated phones and scripted people — how a phone answers
//!   ([`person::Answer`]), what its person does ([`person::PersonScript`], JSON-serializable),
//!   a VAD-based [`person::Listener`] that knows when the other side is quiet, a
//!   [`person::Recording`] of everything heard with timestamped events (WAV + JSON), and
//!   [`person::VoiceTurns`]: voice-to-voice latency per caller utterance, which the media
//!   stream phone measures and calls log as `AgentAnswered` / `TurnUnanswered` /
//!   `TurnOverlapped` events.

mod call;
mod conference;
pub mod control;
pub mod error;
pub mod faults;
pub mod media_client;
pub mod mixer;
pub mod person;
mod rest;
pub mod server;
pub mod speech;
pub mod state;
pub mod twiml;
mod webhooks;

pub use domain::CallStatus;
pub use error::SimError;
pub use faults::{FaultConfig, FaultCounts, RestFailure, ScriptedTimeout};
pub use media_client::{
    MediaStreamClient, Observation, PhoneEvent, PhoneEventKind, SentFrame, StreamConfig,
};
pub use server::{CallHandle, NumberConfig, Sim, SimConfig, SimHandle};
pub use state::{
    CallEvent, CallEventKind, CallRecord, ConferenceRecord, ConferenceStatus, MessageRecord,
    Notification, NumberRecord, ParticipantRecord, ParticipantStatus,
};
