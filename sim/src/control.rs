//! The `/_sim/` control API's wire types, shared by the sim's server ([`crate::server`]) and
//! its clients (`switchboard sim call` / `load`). JSON, no auth: it is a local test tool.
//!
//! - `POST /_sim/calls` [`PlaceCall`] → `201` [`Placed`]: an inbound call from a simulated
//!   person to one of the sim's numbers.
//! - `GET /_sim/calls/{sid}/events?`[`EventsQuery`] → [`EventPage`]: the call's transcript
//!   from event `after`; with `wait_ms` it long-polls until there is something new or the call
//!   has ended.
//! - `GET /_sim/calls/{sid}/heard.wav`: what the person has heard so far (8 kHz WAV).
//! - `POST /_sim/phones` [`RegisterPhone`] → `201` [`Registered`]: registers a phone (the
//!   callee of outbound calls).
//! - `GET /_sim/summary` → [`Summary`]: counts of calls by status, messages, conferences,
//!   numbers, errors.
//!
//! Errors are `4xx` with a [`ControlError`].

use std::collections::BTreeMap;

use domain::CallStatus;
use serde::{Deserialize, Serialize};

use crate::faults::FaultCounts;
use crate::person::PersonScript;
use crate::state::CallEvent;

/// Paths of the control API.
pub const CALLS_PATH: &str = "/_sim/calls";
pub const PHONES_PATH: &str = "/_sim/phones";
pub const SUMMARY_PATH: &str = "/_sim/summary";

/// `/_sim/calls/{sid}/events`.
pub fn events_path(sid: &str) -> String {
    format!("{CALLS_PATH}/{sid}/events")
}

/// `/_sim/calls/{sid}/heard.wav`.
pub fn heard_wav_path(sid: &str) -> String {
    format!("{CALLS_PATH}/{sid}/heard.wav")
}

/// `POST /_sim/calls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceCall {
    pub from: String,
    pub to: String,
    pub person: PersonScript,
}

/// The call `POST /_sim/calls` placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    pub sid: String,
}

/// The query of `GET /_sim/calls/{sid}/events`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsQuery {
    /// Events from this position on.
    #[serde(default)]
    pub after: usize,
    /// Wait up to this long (capped at 60 s) for a new event or the end of the call.
    #[serde(default)]
    pub wait_ms: u64,
}

/// A page of a call's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<CallEvent>,
    pub status: CallStatus,
    /// The call has reached a final status.
    pub ended: bool,
    /// Where the next page starts (`after` of the next request).
    pub next: usize,
}

/// `POST /_sim/phones`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterPhone {
    pub number: String,
    pub person: PersonScript,
}

/// The phone `POST /_sim/phones` registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub number: String,
}

/// `GET /_sim/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub calls: usize,
    pub calls_by_status: BTreeMap<String, u64>,
    pub conferences: usize,
    pub faults_injected: FaultCounts,
    pub messages: usize,
    pub notifications: usize,
    pub numbers: Vec<String>,
    pub phones: Vec<String>,
}

/// A refused control request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlError {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CallEventKind;

    #[test]
    fn an_event_page_is_the_json_the_server_always_sent() {
        let page = EventPage {
            events: vec![CallEvent {
                seq: 0,
                at_ms: 5,
                kind: CallEventKind::Status {
                    status: CallStatus::InProgress,
                },
            }],
            status: CallStatus::NoAnswer,
            ended: true,
            next: 1,
        };
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "events": [{"seq": 0, "at_ms": 5, "type": "status", "status": "in-progress"}],
                "status": "no-answer",
                "ended": true,
                "next": 1,
            })
        );
        assert_eq!(serde_json::from_value::<EventPage>(json).unwrap(), page);
    }

    #[test]
    fn place_call_and_query_shapes() {
        let place = PlaceCall {
            from: "+14155550123".into(),
            to: "+15005550006".into(),
            person: PersonScript::human().say("hi"),
        };
        let json = serde_json::to_value(&place).unwrap();
        assert_eq!(json["from"], "+14155550123");
        assert_eq!(json["person"]["actions"][0]["say"], "hi");
        assert_eq!(serde_json::from_value::<PlaceCall>(json).unwrap(), place);
        let q: EventsQuery = serde_urlencoded::from_str("after=3").unwrap();
        assert_eq!(
            q,
            EventsQuery {
                after: 3,
                wait_ms: 0
            }
        );
        assert_eq!(events_path("CA1"), "/_sim/calls/CA1/events");
        assert_eq!(heard_wav_path("CA1"), "/_sim/calls/CA1/heard.wav");
    }
}
