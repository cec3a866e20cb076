//! Twilio, as seen from our side of the wire.
//!
//! - [`signature`]: `X-Twilio-Signature` computation and constant-time validation.
//! - [`twiml`]: a TwiML builder with correct XML escaping.
//! - [`media_stream`]: Media Streams WebSocket messages, both directions.
//! - [`rest`]: the REST client (calls, SMS, phone numbers) against a configurable base URL, with Twilio's
//!   error bodies parsed into [`rest::TwilioError`].

pub mod media_stream;
pub mod public_url;
pub mod rest;
pub mod routes;
pub mod signature;
pub mod twiml;

pub use public_url::PublicUrl;
pub use rest::{TwilioAuth, TwilioClient, TwilioError};
pub use signature::{compute_signature, validate_signature};
pub use twiml::TwiML;
