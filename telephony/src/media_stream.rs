//! Twilio Media Streams messages (bidirectional `<Connect><Stream>`), both directions.
//!
//! Twilio → us: `connected`, `start`, `media`, `dtmf`, `mark`, `stop`. Us → Twilio: `media`,
//! `mark`, `clear`. Both directions serialize *and* deserialize so the simulator can play
//! Twilio's side with the same types. Twilio sends `sequenceNumber`, `chunk` and `timestamp` as
//! JSON strings; we accept strings or numbers and write strings, as Twilio does.
//!
//! Parsing never fails the stream: [`parse_inbound`] returns `Ok(None)` for an event we do not
//! know (logged at debug) and an error for a malformed frame, which the caller logs and skips.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Audio of one 20 ms frame at 8 kHz μ-law.
pub const FRAME_BYTES: usize = 160;
/// Duration of one frame.
pub const FRAME_MS: u64 = 20;
/// Read buffer of a Media Streams WebSocket, either end. tungstenite zeroes its whole read
/// buffer before every read: at its default (128 KiB) that was a quarter of the bridge's CPU,
/// for frames of about 400 bytes.
pub const SOCKET_READ_BUFFER: usize = 4096;

/// A message Twilio sends on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Inbound {
    Connected {
        #[serde(default)]
        protocol: String,
        #[serde(default)]
        version: String,
    },
    Start {
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        sequence_number: u64,
        #[serde(rename = "streamSid")]
        stream_sid: String,
        start: StartPayload,
    },
    Media {
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        sequence_number: u64,
        #[serde(rename = "streamSid")]
        stream_sid: String,
        media: InboundMedia,
    },
    Dtmf {
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        sequence_number: u64,
        #[serde(rename = "streamSid")]
        stream_sid: String,
        dtmf: Dtmf,
    },
    Mark {
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        sequence_number: u64,
        #[serde(rename = "streamSid")]
        stream_sid: String,
        mark: Mark,
    },
    Stop {
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        sequence_number: u64,
        #[serde(rename = "streamSid")]
        stream_sid: String,
        stop: StopPayload,
    },
    /// Any event this version does not know.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartPayload {
    pub account_sid: String,
    pub stream_sid: String,
    pub call_sid: String,
    #[serde(default)]
    pub tracks: Vec<String>,
    /// `<Parameter name=… value=…/>` of the `<Stream>`.
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    pub media_format: MediaFormat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    pub encoding: String,
    pub sample_rate: u32,
    pub channels: u16,
}

impl MediaFormat {
    /// What Twilio always sends on a Media Stream: μ-law, 8 kHz, mono.
    pub fn twilio_mulaw() -> Self {
        Self {
            encoding: "audio/x-mulaw".into(),
            sample_rate: 8000,
            channels: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMedia {
    /// `inbound` (the caller) or `outbound` (what we sent).
    pub track: String,
    #[serde(with = "stringly")]
    pub chunk: u64,
    /// Milliseconds since the stream started.
    #[serde(with = "stringly")]
    pub timestamp: u64,
    /// Base64 of the μ-law bytes.
    pub payload: String,
}

impl InboundMedia {
    pub fn decode_payload(&self) -> Result<Vec<u8>, MediaStreamError> {
        STANDARD
            .decode(self.payload.as_bytes())
            .map_err(|e| MediaStreamError::Payload(e.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dtmf {
    #[serde(default)]
    pub track: String,
    pub digit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopPayload {
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub call_sid: String,
}

/// A message we send to Twilio on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Outbound {
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        media: OutboundMedia,
    },
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        mark: Mark,
    },
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMedia {
    /// Base64 of μ-law 8 kHz bytes.
    pub payload: String,
}

impl Outbound {
    pub fn media(stream_sid: &str, mulaw: &[u8]) -> Self {
        Outbound::Media {
            stream_sid: stream_sid.to_owned(),
            media: OutboundMedia {
                payload: STANDARD.encode(mulaw),
            },
        }
    }
    pub fn mark(stream_sid: &str, name: impl Into<String>) -> Self {
        Outbound::Mark {
            stream_sid: stream_sid.to_owned(),
            mark: Mark { name: name.into() },
        }
    }
    pub fn clear(stream_sid: &str) -> Self {
        Outbound::Clear {
            stream_sid: stream_sid.to_owned(),
        }
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("outbound media stream messages always serialize")
    }
}

impl Inbound {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("inbound media stream messages always serialize")
    }

    /// What Twilio sends first on a new stream: `connected`, then `start` (sequence number 1)
    /// for the caller's track in 8 kHz μ-law, with the `<Stream>`'s `<Parameter>`s.
    pub fn opening(
        account_sid: &str,
        call_sid: &str,
        stream_sid: &str,
        custom_parameters: BTreeMap<String, String>,
    ) -> [Inbound; 2] {
        let connected = Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        };
        let start = Inbound::Start {
            sequence_number: 1,
            stream_sid: stream_sid.to_owned(),
            start: StartPayload {
                account_sid: account_sid.to_owned(),
                stream_sid: stream_sid.to_owned(),
                call_sid: call_sid.to_owned(),
                tracks: vec!["inbound".into()],
                custom_parameters,
                media_format: MediaFormat::twilio_mulaw(),
            },
        };
        [connected, start]
    }

    /// Twilio's `media` event for the caller's track: the `chunk`-th 20 ms frame (from 1), its
    /// `timestamp` the frame's media time, `(chunk − 1) · 20` ms.
    pub fn media(sequence_number: u64, stream_sid: &str, chunk: u64, mulaw: &[u8]) -> Inbound {
        Inbound::Media {
            sequence_number,
            stream_sid: stream_sid.to_owned(),
            media: InboundMedia {
                track: "inbound".into(),
                chunk,
                timestamp: chunk.saturating_sub(1) * FRAME_MS,
                payload: STANDARD.encode(mulaw),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaStreamError {
    #[error("malformed media stream frame: {0}")]
    Malformed(String),
    #[error("media payload is not base64: {0}")]
    Payload(String),
}

/// Parse one text frame from Twilio. `Ok(None)`: a well-formed event we do not handle.
pub fn parse_inbound(text: &str) -> Result<Option<Inbound>, MediaStreamError> {
    match serde_json::from_str::<Inbound>(text) {
        Ok(Inbound::Unknown) => {
            tracing::debug!(
                frame_len = text.len(),
                "skipping unknown media stream event"
            );
            Ok(None)
        }
        Ok(msg) => Ok(Some(msg)),
        Err(e) => Err(MediaStreamError::Malformed(e.to_string())),
    }
}

/// A `media` frame from Twilio, borrowed from its text: the hot path's parse, which builds no
/// message and allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaFrame<'a> {
    pub track: &'a str,
    /// Base64 of the μ-law bytes.
    pub payload: &'a str,
}

impl MediaFrame<'_> {
    /// Appends the decoded μ-law bytes to `out`.
    pub fn decode_payload_into(&self, out: &mut Vec<u8>) -> Result<(), MediaStreamError> {
        STANDARD
            .decode_vec(self.payload.as_bytes(), out)
            .map_err(|e| MediaStreamError::Payload(e.to_string()))
    }
}

/// Reads a `media` frame of the shape Twilio sends (fields in any order, numbers as strings or
/// numbers, unknown fields ignored) without building an [`Inbound`]. `None` for anything else:
/// another event, a string with escapes, a malformed frame. [`parse_inbound`] then reads it in
/// full and says what is wrong; the two accept the same media frames.
pub fn parse_media(text: &str) -> Option<MediaFrame<'_>> {
    #[derive(Deserialize)]
    struct Frame<'a> {
        #[serde(borrow)]
        event: &'a str,
        #[serde(rename = "sequenceNumber", with = "stringly", default)]
        _sequence_number: u64,
        #[serde(rename = "streamSid", borrow)]
        _stream_sid: &'a str,
        #[serde(borrow)]
        media: Body<'a>,
    }
    #[derive(Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        track: &'a str,
        #[serde(rename = "chunk", with = "stringly")]
        _chunk: u64,
        #[serde(rename = "timestamp", with = "stringly")]
        _timestamp: u64,
        #[serde(borrow)]
        payload: &'a str,
    }
    let frame: Frame<'_> = serde_json::from_str(text).ok()?;
    (frame.event == "media").then_some(MediaFrame {
        track: frame.media.track,
        payload: frame.media.payload,
    })
}

impl Outbound {
    /// `Outbound::media(stream_sid, mulaw).to_json()`, written straight into one string: the
    /// hot path's encoder.
    pub fn media_json(stream_sid: &str, mulaw: &[u8]) -> String {
        if !stream_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Outbound::media(stream_sid, mulaw).to_json();
        }
        const HEAD: &str = r#"{"event":"media","streamSid":""#;
        const MIDDLE: &str = r#"","media":{"payload":""#;
        const TAIL: &str = r#""}}"#;
        let mut json = String::with_capacity(
            HEAD.len() + stream_sid.len() + MIDDLE.len() + mulaw.len().div_ceil(3) * 4 + TAIL.len(),
        );
        json.push_str(HEAD);
        json.push_str(stream_sid);
        json.push_str(MIDDLE);
        STANDARD.encode_string(mulaw, &mut json);
        json.push_str(TAIL);
        json
    }
}

/// Parse one text frame we sent (the simulator's side). `Ok(None)`: unknown event.
pub fn parse_outbound(text: &str) -> Result<Option<Outbound>, MediaStreamError> {
    #[derive(Deserialize)]
    struct Probe {
        event: String,
    }
    let probe: Probe =
        serde_json::from_str(text).map_err(|e| MediaStreamError::Malformed(e.to_string()))?;
    if !matches!(probe.event.as_str(), "media" | "mark" | "clear") {
        tracing::debug!(event = %probe.event, "skipping unknown outbound media stream event");
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| MediaStreamError::Malformed(e.to_string()))
}

/// Numbers that Twilio writes as JSON strings.
mod stringly {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// A number or a string of one, read by a visitor: no untagged enum buffering the value,
    /// since the media fast path ([`parse_media`]) reads three per frame.
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative integer, or one in a string")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<u64, E> {
                Ok(n)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_twilio_start_with_custom_parameters() {
        let text = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"callSid":"CA1","tenantId":"t"}},"streamSid":"MZ1"}"#;
        let Some(Inbound::Start {
            sequence_number,
            start,
            ..
        }) = parse_inbound(text).unwrap()
        else {
            panic!("not a start")
        };
        assert_eq!(sequence_number, 1);
        assert_eq!(start.custom_parameters["tenantId"], "t");
        assert_eq!(start.media_format, MediaFormat::twilio_mulaw());
    }

    #[test]
    fn media_numbers_arrive_as_strings_and_leave_as_strings() {
        let text = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="},"streamSid":"MZ1"}"#;
        let msg = parse_inbound(text).unwrap().unwrap();
        let Inbound::Media { media, .. } = &msg else {
            panic!()
        };
        assert_eq!((media.chunk, media.timestamp), (1, 5));
        assert_eq!(media.decode_payload().unwrap(), vec![0xFF]);
        let back: serde_json::Value = serde_json::from_str(&msg.to_json()).unwrap();
        assert_eq!(back["media"]["timestamp"], "5");
        assert_eq!(back["sequenceNumber"], "3");
    }

    #[test]
    fn dtmf_mark_stop_connected() {
        let dtmf = r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}"#;
        assert!(
            matches!(parse_inbound(dtmf).unwrap(), Some(Inbound::Dtmf { dtmf, .. }) if dtmf.digit == "1")
        );
        let mark =
            r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"a1"}}"#;
        assert!(
            matches!(parse_inbound(mark).unwrap(), Some(Inbound::Mark { mark, .. }) if mark.name == "a1")
        );
        let stop = r#"{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}"#;
        assert!(matches!(
            parse_inbound(stop).unwrap(),
            Some(Inbound::Stop { .. })
        ));
        let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
        assert!(matches!(
            parse_inbound(connected).unwrap(),
            Some(Inbound::Connected { .. })
        ));
    }

    #[test]
    fn unknown_events_are_skipped_and_garbage_is_an_error() {
        assert_eq!(
            parse_inbound(r#"{"event":"future_thing","x":1}"#).unwrap(),
            None
        );
        assert!(parse_inbound("not json").is_err());
        assert!(parse_inbound(r#"{"event":"media","streamSid":"MZ1"}"#).is_err());
        assert!(
            parse_inbound(r#"{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"x","timestamp":"1","payload":""}}"#)
                .is_err()
        );
    }

    #[test]
    fn outbound_messages_have_twilio_shapes() {
        let media: serde_json::Value =
            serde_json::from_str(&Outbound::media("MZ1", &[0xFF, 0x7F]).to_json()).unwrap();
        assert_eq!(
            media,
            serde_json::json!({"event":"media","streamSid":"MZ1","media":{"payload":"/38="}})
        );
        let clear: serde_json::Value =
            serde_json::from_str(&Outbound::clear("MZ1").to_json()).unwrap();
        assert_eq!(
            clear,
            serde_json::json!({"event":"clear","streamSid":"MZ1"})
        );
        let mark = Outbound::mark("MZ1", "agent-1").to_json();
        assert_eq!(
            parse_outbound(&mark).unwrap(),
            Some(Outbound::mark("MZ1", "agent-1"))
        );
        assert_eq!(parse_outbound(r#"{"event":"noise"}"#).unwrap(), None);
    }

    #[test]
    fn the_media_fast_path_accepts_what_the_full_parse_accepts() {
        let accepted = [
            r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="},"streamSid":"MZ1"}"#,
            r#"{"streamSid":"MZ1","media":{"payload":"/38=","timestamp":5,"chunk":1,"track":"inbound","extra":[1,{"a":2}]},"event":"media"}"#,
            r#" { "event" : "media" , "streamSid" : "MZ1" , "media" : { "track" : "" , "chunk" : "1" , "timestamp" : "5" , "payload" : "" } } "#,
        ];
        for text in accepted {
            let fast = parse_media(text).unwrap_or_else(|| panic!("fast path: {text}"));
            let Some(Inbound::Media { media, .. }) = parse_inbound(text).unwrap() else {
                panic!("full parse: {text}")
            };
            assert_eq!(
                (fast.track, fast.payload),
                (media.track.as_str(), media.payload.as_str())
            );
            let mut audio = Vec::new();
            fast.decode_payload_into(&mut audio).unwrap();
            assert_eq!(audio, media.decode_payload().unwrap());
        }
        // Anything else is left to the full parse: other events, escapes, malformed frames.
        let refused = [
            r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"a1"}}"#,
            r#"{"event":"media","streamSid":"MZ\u0031","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="}}"#,
            r#"{"event":"media","streamSid":"MZ1"}"#,
            r#"{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"x","timestamp":"1","payload":""}}"#,
            r#"{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"1","payload":"/w=="}"#,
            "not json",
        ];
        for text in refused {
            assert_eq!(parse_media(text), None, "{text}");
        }
        let escaped = refused[1];
        assert!(
            matches!(parse_inbound(escaped).unwrap(), Some(Inbound::Media { stream_sid, .. }) if stream_sid == "MZ1")
        );
    }

    #[test]
    fn the_media_encoder_writes_what_serde_writes() {
        for (sid, audio) in [
            ("MZ1", vec![0xFF, 0x7F]),
            ("MZ00ff", vec![0u8; 160]),
            ("M\"Z", vec![1, 2, 3]),
            ("MZ", vec![]),
        ] {
            assert_eq!(
                Outbound::media_json(sid, &audio),
                Outbound::media(sid, &audio).to_json()
            );
        }
    }
}
