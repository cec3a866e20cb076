//! The browser's media socket ("Talk to this agent") framing for the [bridge](voice::bridge):
//! the same bridge and engine a phone call uses, with the browser in Twilio's place.
//!
//! The wire protocol, from the browser:
//! - `{"event":"start","sampleRate":48000}` first: the rate of the microphone audio that follows
//!   (8000, 16000, 24000 or 48000 Hz);
//! - binary frames: the microphone, 16-bit little-endian mono PCM at that rate, any length;
//! - `{"event":"mark","name":"…"}`: everything sent before the mark of that name has played;
//! - `{"event":"dtmf","digit":"5"}`: a key of the page's keypad;
//! - `{"event":"stop"}`: the user hung up (closing the socket says the same).
//!
//! To the browser: binary frames of agent audio (16-bit little-endian mono PCM at 8000 Hz, what
//! the bridge plays to a phone), `{"event":"mark","name":"…"}` to echo once played, and
//! `{"event":"clear"}` to drop what has not played yet (the caller spoke over the agent).
//!
//! The microphone is resampled to 8 kHz and encoded as μ-law in 20 ms frames, exactly what
//! Twilio sends, so everything after this module is the phone call's path. Anything else (a
//! frame that is not this JSON, audio before `start`, an odd number of bytes) is
//! [`TransportEvent::Malformed`]: logged, counted and skipped.

use serde::Deserialize;
use voice::{
    bridge::{FRAME_BYTES, StreamStart, TransportCommand, TransportEvent},
    mulaw,
    resample::Resampler,
};

/// μ-law bytes in one 20 ms frame at 8 kHz.
/// The rate of the bridge's audio.
const BRIDGE_HZ: u32 = 8000;

/// A text frame from the browser.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Inbound {
    Start {
        #[serde(rename = "sampleRate")]
        sample_rate: u32,
    },
    Mark {
        name: String,
    },
    Dtmf {
        digit: String,
    },
    Stop,
}

/// One browser stream's inbound side: turns its frames into the bridge's events.
pub struct BrowserInbound {
    /// The stream's start, decided by the server (the call comes from the ticket, never from
    /// the browser); handed to the bridge when the browser says `start`.
    start: StreamStart,
    /// The microphone's rate to 8 kHz; `None` until `start`.
    resampler: Option<Resampler>,
    /// Resampled audio not yet a whole frame.
    pcm: Vec<i16>,
    resampled: Vec<i16>,
}

impl BrowserInbound {
    pub fn new(start: StreamStart) -> Self {
        Self {
            start,
            resampler: None,
            pcm: Vec::new(),
            resampled: Vec::new(),
        }
    }

    /// The events of one text frame.
    pub fn text(&mut self, text: &str) -> Vec<TransportEvent> {
        let inbound = match serde_json::from_str::<Inbound>(text) {
            Ok(inbound) => inbound,
            Err(e) => return vec![TransportEvent::Malformed(e.to_string())],
        };
        match inbound {
            Inbound::Start { .. } if self.resampler.is_some() => {
                vec![TransportEvent::Malformed("a second start".into())]
            }
            Inbound::Start { sample_rate } => match Resampler::new(sample_rate, BRIDGE_HZ) {
                Ok(resampler) => {
                    self.resampler = Some(resampler);
                    vec![TransportEvent::Start(self.start.clone())]
                }
                Err(e) => vec![TransportEvent::Malformed(e.to_string())],
            },
            Inbound::Mark { name } => vec![TransportEvent::Mark(name)],
            Inbound::Dtmf { digit } => vec![
                digit
                    .chars()
                    .next()
                    .map_or(TransportEvent::Ignored, TransportEvent::Dtmf),
            ],
            Inbound::Stop => vec![TransportEvent::Stop],
        }
    }

    /// The events of one binary frame: the whole 20 ms frames it completes.
    pub fn audio(&mut self, bytes: &[u8]) -> Vec<TransportEvent> {
        let Some(resampler) = self.resampler.as_mut() else {
            return vec![TransportEvent::Malformed("audio before start".into())];
        };
        if !bytes.len().is_multiple_of(2) {
            return vec![TransportEvent::Malformed(format!(
                "{} bytes is not 16-bit PCM",
                bytes.len()
            ))];
        }
        let samples = voice::pcm::i16_from_le_bytes(bytes);
        self.resampled.clear();
        resampler.process(&samples, &mut self.resampled);
        self.pcm.extend_from_slice(&self.resampled);
        let whole = self.pcm.len() / FRAME_BYTES * FRAME_BYTES;
        let events = self.pcm[..whole]
            .chunks_exact(FRAME_BYTES)
            .map(|frame| {
                let mut encoded = Vec::with_capacity(FRAME_BYTES);
                mulaw::encode(frame, &mut encoded);
                TransportEvent::Media(encoded)
            })
            .collect();
        self.pcm.drain(..whole);
        events
    }
}

/// A frame to the browser.
pub enum Outbound {
    Binary(Vec<u8>),
    Text(String),
}

/// The frame that carries `command` to the browser.
pub fn outbound_frame(command: TransportCommand) -> Outbound {
    match command {
        TransportCommand::Media(frame) => {
            let mut pcm = Vec::with_capacity(frame.len());
            mulaw::decode(&frame, &mut pcm);
            Outbound::Binary(voice::pcm::i16_to_le_bytes(&pcm))
        }
        TransportCommand::Mark(name) => {
            Outbound::Text(serde_json::json!({"event": "mark", "name": name}).to_string())
        }
        TransportCommand::Clear => Outbound::Text(r#"{"event":"clear"}"#.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn inbound() -> BrowserInbound {
        BrowserInbound::new(StreamStart {
            stream_sid: "BR1".into(),
            call_sid: "CA1".into(),
            custom_parameters: BTreeMap::new(),
        })
    }

    #[test]
    fn microphone_audio_becomes_twilio_frames_after_start() {
        let mut browser = inbound();
        assert!(matches!(
            browser.audio(&[0; 960])[..],
            [TransportEvent::Malformed(_)]
        ));
        assert!(matches!(
            browser.text(r#"{"event":"start","sampleRate":48000}"#)[..],
            [TransportEvent::Start(ref s)] if s.call_sid == "CA1"
        ));
        // 30 ms at 48 kHz: one 20 ms frame now, the rest with the next chunk.
        let tone = voice::pcm::sine(440.0, 48_000, 30, 0.5);
        let bytes = voice::pcm::i16_to_le_bytes(&tone);
        let mut frames = browser.audio(&bytes);
        frames.extend(browser.audio(&bytes));
        frames.extend(browser.audio(&bytes));
        assert!(frames.len() >= 3, "{} frames", frames.len());
        assert!(
            frames
                .iter()
                .all(|f| matches!(f, TransportEvent::Media(m) if m.len() == FRAME_BYTES))
        );
    }

    #[test]
    fn bad_frames_are_malformed_and_marks_keys_and_stop_pass() {
        let mut browser = inbound();
        for bad in [
            "not json",
            r#"{"event":"start","sampleRate":44100}"#,
            r#"{"event":"launch"}"#,
        ] {
            assert!(
                matches!(browser.text(bad)[..], [TransportEvent::Malformed(_)]),
                "{bad}"
            );
        }
        browser.text(r#"{"event":"start","sampleRate":16000}"#);
        assert!(matches!(
            browser.text(r#"{"event":"start","sampleRate":16000}"#)[..],
            [TransportEvent::Malformed(_)]
        ));
        assert!(matches!(
            browser.audio(&[0; 3])[..],
            [TransportEvent::Malformed(_)]
        ));
        assert_eq!(
            browser.text(r#"{"event":"mark","name":"m1"}"#),
            vec![TransportEvent::Mark("m1".into())]
        );
        assert_eq!(
            browser.text(r#"{"event":"dtmf","digit":"5"}"#),
            vec![TransportEvent::Dtmf('5')]
        );
        assert_eq!(
            browser.text(r#"{"event":"stop"}"#),
            vec![TransportEvent::Stop]
        );
    }

    #[test]
    fn agent_audio_goes_out_as_pcm_and_marks_as_json() {
        let Outbound::Binary(pcm) = outbound_frame(TransportCommand::Media(vec![0xff; 160])) else {
            panic!("audio is binary");
        };
        assert_eq!(pcm.len(), 320);
        let Outbound::Text(mark) = outbound_frame(TransportCommand::Mark("m7".into())) else {
            panic!("a mark is text");
        };
        assert_eq!(mark, r#"{"event":"mark","name":"m7"}"#);
    }
}
