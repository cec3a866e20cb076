//! A [`Recording`]: everything a simulated phone heard and said on one timeline, with
//! timestamped events, written as WAV and JSON.

use std::path::Path;

use serde::{Deserialize, Serialize};
use voice::mulaw;

use super::SAMPLES_PER_MS;
use super::listener::Heard;
use crate::speech;

/// Something that happened on a simulated phone, for the events file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Answered,
    Said {
        text: String,
    },
    SaidAudio {
        label: String,
    },
    HeardSpeechStarted,
    HeardSpeechEnded,
    Digits {
        digits: String,
    },
    HungUp,
    /// Anything else worth a line (a wait timed out, the other side hung up, …).
    Note {
        text: String,
    },
}

/// A timestamped [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingEvent {
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl From<Heard> for RecordingEvent {
    fn from(h: Heard) -> Self {
        match h {
            Heard::SpeechStarted { at_ms } => RecordingEvent {
                at_ms,
                kind: EventKind::HeardSpeechStarted,
            },
            Heard::SpeechEnded { at_ms } => RecordingEvent {
                at_ms,
                kind: EventKind::HeardSpeechEnded,
            },
        }
    }
}

/// Everything a simulated phone heard and said, on one 8 kHz timeline, plus events.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    heard: Vec<u8>,
    said: Vec<u8>,
    events: Vec<RecordingEvent>,
}

/// Writes `audio` at `at_ms` on a μ-law track: gaps become silence; audio that would overlap
/// what is already there goes after it (nothing heard is lost).
fn place(track: &mut Vec<u8>, at_ms: u64, audio: &[u8]) {
    let at = (at_ms * SAMPLES_PER_MS) as usize;
    if at > track.len() {
        track.resize(at, mulaw::SILENCE);
    }
    track.extend_from_slice(audio);
}

fn decode(track: &[u8]) -> Vec<i16> {
    let mut pcm = Vec::with_capacity(track.len());
    mulaw::decode(track, &mut pcm);
    pcm
}

impl Recording {
    pub fn new() -> Self {
        Self::default()
    }

    /// Audio heard, starting at `at_ms`.
    pub fn hear(&mut self, at_ms: u64, mulaw_audio: &[u8]) {
        place(&mut self.heard, at_ms, mulaw_audio);
    }

    /// Audio the phone sent, starting at `at_ms` (kept on its own track).
    pub fn speak(&mut self, at_ms: u64, mulaw_audio: &[u8]) {
        place(&mut self.said, at_ms, mulaw_audio);
    }

    pub fn event(&mut self, at_ms: u64, kind: EventKind) {
        self.events.push(RecordingEvent { at_ms, kind });
    }

    /// Adds what a [`Listener`](super::Listener) reported.
    pub fn heard_events(&mut self, heard: impl IntoIterator<Item = Heard>) {
        self.events
            .extend(heard.into_iter().map(RecordingEvent::from));
    }

    /// Events in the order they were recorded.
    pub fn events(&self) -> &[RecordingEvent] {
        &self.events
    }

    /// The heard track (μ-law, 8 kHz, from time 0).
    pub fn heard_mulaw(&self) -> &[u8] {
        &self.heard
    }

    pub fn heard_pcm(&self) -> Vec<i16> {
        decode(&self.heard)
    }

    pub fn said_pcm(&self) -> Vec<i16> {
        decode(&self.said)
    }

    /// Both sides summed (saturating), as a call recording would sound.
    pub fn mixed_pcm(&self) -> Vec<i16> {
        let (heard, said) = (self.heard_pcm(), self.said_pcm());
        (0..heard.len().max(said.len()))
            .map(|i| {
                let a = i32::from(heard.get(i).copied().unwrap_or(0));
                let b = i32::from(said.get(i).copied().unwrap_or(0));
                (a + b).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
            })
            .collect()
    }

    /// Length of the longer track, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.heard.len().max(self.said.len()) as u64 / SAMPLES_PER_MS
    }

    /// The heard track as an 8 kHz 16-bit WAV file.
    pub fn write_wav(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        voice::wav::write_wav(path, speech::SAMPLE_RATE, &self.heard_pcm())
            .map_err(std::io::Error::other)
    }

    /// Both sides mixed, as an 8 kHz 16-bit WAV file.
    pub fn write_mixed_wav(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        voice::wav::write_wav(path, speech::SAMPLE_RATE, &self.mixed_pcm())
            .map_err(std::io::Error::other)
    }

    /// The events as a pretty JSON array (`[{"at_ms": 0, "event": "answered"}, …]`).
    pub fn events_json(&self) -> String {
        serde_json::to_string_pretty(&self.events).expect("events always serialize")
    }

    pub fn write_events_json(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.events_json())
    }

    /// Writes `<stem>.wav` (heard), `<stem>.mixed.wav` and `<stem>.events.json`.
    pub fn save(&self, dir: impl AsRef<Path>, stem: &str) -> std::io::Result<()> {
        let dir = dir.as_ref();
        self.write_wav(dir.join(format!("{stem}.wav")))?;
        self.write_mixed_wav(dir.join(format!("{stem}.mixed.wav")))?;
        self.write_events_json(dir.join(format!("{stem}.events.json")))
    }
}
