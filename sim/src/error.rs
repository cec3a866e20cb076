//! What can go wrong when the simulator plays Twilio.

use std::time::Duration;

use tokio_tungstenite::tungstenite;

/// An error of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The server answered the WebSocket upgrade with a non-101 status (e.g. 403 for a bad
    /// `X-Twilio-Signature`).
    #[error("the WebSocket upgrade was refused with HTTP {status}")]
    UpgradeRefused {
        status: http::StatusCode,
        body: Option<String>,
    },
    /// Any other WebSocket or transport failure.
    #[error("WebSocket error: {0}")]
    WebSocket(Box<tungstenite::Error>),
    /// The stream configuration cannot be turned into a request (bad URL, bad header value).
    #[error("invalid stream configuration: {0}")]
    InvalidConfig(String),
    /// `press` was given something a phone keypad does not have.
    #[error("not a DTMF digit: {0:?}")]
    InvalidDigit(char),
    /// The stream has already ended (hung up or closed by the server).
    #[error("the media stream has already ended")]
    StreamEnded,
    /// An inbound call to a number the sim does not own (or that has no `VoiceUrl`).
    #[error("not a number of the simulated account: {0}")]
    UnknownNumber(String),
    /// The simulator could not start (bind failure…).
    #[error("the simulator could not start: {0}")]
    Start(String),
    /// A wait did not see its condition in time.
    #[error("condition not met within {0:?}")]
    Timeout(Duration),
}

impl SimError {
    /// The HTTP status of a refused upgrade.
    pub fn http_status(&self) -> Option<http::StatusCode> {
        match self {
            SimError::UpgradeRefused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<tungstenite::Error> for SimError {
    fn from(e: tungstenite::Error) -> Self {
        match e {
            tungstenite::Error::Http(response) => SimError::UpgradeRefused {
                status: response.status(),
                body: response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            },
            other => SimError::WebSocket(Box::new(other)),
        }
    }
}
