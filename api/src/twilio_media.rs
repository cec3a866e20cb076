//! Twilio Media Streams framing for the [bridge](voice::bridge): Twilio's JSON text frames in,
//! [`TransportEvent`]s out; the bridge's [`TransportCommand`]s in, Twilio's frames out.
//!
//! Only the caller's track is bridged. A frame that is not Twilio JSON, or whose media payload
//! is not base64, becomes [`TransportEvent::Malformed`]: the bridge logs it, counts it and goes
//! on. This file uses nothing of the API crate, so `voice/benches/bench_bridge` compiles it as
//! is and measures the framing the API runs.

use telephony::media_stream::{Inbound, MediaStreamError, Outbound, parse_inbound, parse_media};
use voice::bridge::{FRAME_BYTES, StreamStart, TransportCommand, TransportEvent};

/// One text frame from Twilio, as the bridge sees it. `media` frames, fifty a second, take the
/// borrowed fast path; everything else the full parse.
pub fn inbound_event(text: &str) -> TransportEvent {
    if let Some(media) = parse_media(text) {
        return caller_audio(media.track, |audio| media.decode_payload_into(audio));
    }
    let inbound = match parse_inbound(text) {
        Ok(Some(inbound)) => inbound,
        Ok(None) => return TransportEvent::Ignored,
        Err(e) => return TransportEvent::Malformed(e.to_string()),
    };
    match inbound {
        Inbound::Connected { .. } | Inbound::Unknown => TransportEvent::Ignored,
        Inbound::Start {
            stream_sid, start, ..
        } => TransportEvent::Start(StreamStart {
            stream_sid,
            call_sid: start.call_sid,
            custom_parameters: start.custom_parameters,
        }),
        Inbound::Media { media, .. } => caller_audio(&media.track, |audio| {
            *audio = media.decode_payload()?;
            Ok(())
        }),
        Inbound::Dtmf { dtmf, .. } => dtmf
            .digit
            .chars()
            .next()
            .map_or(TransportEvent::Ignored, TransportEvent::Dtmf),
        Inbound::Mark { mark, .. } => TransportEvent::Mark(mark.name),
        Inbound::Stop { .. } => TransportEvent::Stop,
    }
}

/// The caller's audio of a `media` frame on `track`; another track's is ignored.
fn caller_audio(
    track: &str,
    decode: impl FnOnce(&mut Vec<u8>) -> Result<(), MediaStreamError>,
) -> TransportEvent {
    if track != "inbound" && !track.is_empty() {
        return TransportEvent::Ignored;
    }
    let mut audio = Vec::with_capacity(FRAME_BYTES);
    match decode(&mut audio) {
        Ok(()) => TransportEvent::Media(audio),
        Err(e) => TransportEvent::Malformed(e.to_string()),
    }
}

/// The text frame that carries `command` to Twilio on stream `stream_sid`.
pub fn outbound_frame(stream_sid: &str, command: TransportCommand) -> String {
    match command {
        TransportCommand::Media(mulaw) => return Outbound::media_json(stream_sid, &mulaw),
        TransportCommand::Mark(name) => Outbound::mark(stream_sid, name),
        TransportCommand::Clear => Outbound::clear(stream_sid),
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed_and_unknown_events_are_ignored() {
        for garbage in [
            "not json",
            r#"{"event":"media","streamSid":"MZ1"}"#,
            r#"{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"%%%"}}"#,
        ] {
            assert!(
                matches!(inbound_event(garbage), TransportEvent::Malformed(_)),
                "{garbage}"
            );
        }
        for ignored in [
            r#"{"event":"something_new"}"#,
            r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
            r#"{"event":"media","streamSid":"MZ1","media":{"track":"outbound","chunk":"1","timestamp":"0","payload":"/w=="}}"#,
            r#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":""}}"#,
        ] {
            assert_eq!(inbound_event(ignored), TransportEvent::Ignored, "{ignored}");
        }
    }

    #[test]
    fn twilio_frames_become_transport_events() {
        let start = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"callSid":"CA1","tenantId":"t"}},"streamSid":"MZ1"}"#;
        let TransportEvent::Start(start) = inbound_event(start) else {
            panic!("not a start")
        };
        assert_eq!(
            (start.stream_sid.as_str(), start.call_sid.as_str()),
            ("MZ1", "CA1")
        );
        assert_eq!(start.custom_parameters["tenantId"], "t");
        let media = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="},"streamSid":"MZ1"}"#;
        assert_eq!(inbound_event(media), TransportEvent::Media(vec![0xFF]));
        let dtmf = r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"7"}}"#;
        assert_eq!(inbound_event(dtmf), TransportEvent::Dtmf('7'));
        let mark =
            r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"1:a"}}"#;
        assert_eq!(inbound_event(mark), TransportEvent::Mark("1:a".into()));
        let stop = r#"{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}"#;
        assert_eq!(inbound_event(stop), TransportEvent::Stop);
    }

    #[test]
    fn commands_leave_as_twilio_frames() {
        assert_eq!(
            outbound_frame("MZ1", TransportCommand::Media(vec![0xFF, 0x7F])),
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"/38="}}"#
        );
        assert_eq!(
            outbound_frame("MZ1", TransportCommand::Mark("1:a".into())),
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"1:a"}}"#
        );
        assert_eq!(
            outbound_frame("MZ1", TransportCommand::Clear),
            r#"{"event":"clear","streamSid":"MZ1"}"#
        );
    }
}
