//! What a fake model does, step by step.
//!
//! Both fakes run a [`Script`] on their first connection, one [`Step`] after the other, reading
//! the client's events only while a step waits for something. The first [`Step::Say`] is the
//! greeting: before playing it the fake waits for the client to ask for a response (OpenAI:
//! `response.create`; Gemini: `clientContent` with `turnComplete`). Later `Say`s play right away
//! (the model answers after the caller's turn or after a tool result, as a server-VAD model does).

/// One thing the fake model does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Wait until the client has sent at least `min_ms` of non-silent caller audio (10 ms
    /// windows whose RMS is above [`VOICE_RMS`] after decoding). As soon as voice begins the
    /// fake sends the engine's speech-started signal (OpenAI: `input_audio_buffer.speech_started`;
    /// Gemini: `serverContent.interrupted` if the model is still "speaking" — its last audio
    /// would still be playing in real time — and the first word as `inputTranscription`); once
    /// the caller has been quiet for [`END_OF_TURN_SILENCE_MS`] it sends the caller transcript
    /// `transcript` (Gemini: the remaining words as `inputTranscription` pieces).
    AwaitCaller { transcript: String, min_ms: u32 },
    /// Speak: `audio_ms` of a 440 Hz tone, all at once (faster than real time, like real models),
    /// with the transcript `text`, then the done / `turnComplete` events. OpenAI: μ-law deltas
    /// of 100 ms with a fresh `item_id`; Gemini: 24 kHz PCM16 `inlineData` parts of 100 ms.
    Say { text: String, audio_ms: u32 },
    /// Call function `name` with `arguments` and wait until the client returns its output
    /// (OpenAI: a `function_call_output` item and `response.create`; Gemini: `toolResponse`).
    CallTool {
        name: String,
        arguments: serde_json::Value,
    },
    /// Send this text frame as is (e.g. malformed JSON, or an event the fake does not model).
    Raw(String),
}

impl Step {
    pub fn await_caller(transcript: impl Into<String>, min_ms: u32) -> Self {
        Step::AwaitCaller {
            transcript: transcript.into(),
            min_ms,
        }
    }

    pub fn say(text: impl Into<String>, audio_ms: u32) -> Self {
        Step::Say {
            text: text.into(),
            audio_ms,
        }
    }

    pub fn call_tool(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Step::CallTool {
            name: name.into(),
            arguments,
        }
    }

    pub fn raw(text: impl Into<String>) -> Self {
        Step::Raw(text.into())
    }
}

/// A fake model's whole part of a call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script(pub Vec<Step>);

/// RMS (of 16-bit samples) above which a 10 ms window counts as voice (≈ −36 dBFS).
pub const VOICE_RMS: f64 = 500.0;
/// Silence after voice that ends the caller's turn.
pub const END_OF_TURN_SILENCE_MS: u32 = 200;

/// What the caller-side VAD saw in a chunk of audio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VadUpdate {
    /// The first voiced window of the turn was in this chunk.
    pub(crate) speech_started: bool,
    /// Enough voice followed by enough silence: the caller's turn is over.
    pub(crate) turn_ended: bool,
    /// The chunk held a voiced window.
    pub(crate) voiced: bool,
}

/// Energy VAD over 10 ms windows; counts durations in samples so chunk sizes do not matter.
#[derive(Debug)]
pub(crate) struct CallerVad {
    window_len: usize,
    min_voiced_samples: u64,
    end_silence_samples: u64,
    window: Vec<i16>,
    voiced_samples: u64,
    silent_samples_after_voice: u64,
    started: bool,
}

impl CallerVad {
    pub(crate) fn new(rate: u32, min_ms: u32) -> Self {
        let window_len = (rate / 100) as usize;
        Self {
            window_len,
            min_voiced_samples: u64::from(min_ms) * u64::from(rate) / 1000,
            end_silence_samples: u64::from(END_OF_TURN_SILENCE_MS) * u64::from(rate) / 1000,
            window: Vec::with_capacity(window_len),
            voiced_samples: 0,
            silent_samples_after_voice: 0,
            started: false,
        }
    }

    /// Feed decoded caller samples.
    pub(crate) fn push(&mut self, samples: &[i16]) -> VadUpdate {
        let mut update = VadUpdate::default();
        for &sample in samples {
            self.window.push(sample);
            if self.window.len() < self.window_len {
                continue;
            }
            let energy: f64 = self.window.iter().map(|&s| f64::from(s).powi(2)).sum();
            let rms = (energy / self.window_len as f64).sqrt();
            self.window.clear();
            if rms > VOICE_RMS {
                update.voiced = true;
                self.voiced_samples += self.window_len as u64;
                self.silent_samples_after_voice = 0;
                if !self.started {
                    self.started = true;
                    update.speech_started = true;
                }
            } else if self.started {
                self.silent_samples_after_voice += self.window_len as u64;
            }
        }
        update.turn_ended = self.started
            && self.voiced_samples >= self.min_voiced_samples
            && self.silent_samples_after_voice >= self.end_silence_samples;
        update
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, rate: u32) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                ((t * 1000.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
            })
            .collect()
    }

    #[test]
    fn vad_reports_start_then_end_after_silence() {
        let mut vad = CallerVad::new(8000, 300);
        let nothing = VadUpdate::default();
        assert_eq!(vad.push(&[0; 1600]), nothing);
        assert!(vad.push(&tone(160, 8000)).speech_started);
        let voice = VadUpdate {
            voiced: true,
            ..VadUpdate::default()
        };
        assert_eq!(vad.push(&tone(8000 * 3 / 10, 8000)), voice);
        assert_eq!(vad.push(&[0; 800]), nothing, "100 ms is not the end");
        assert!(vad.push(&[0; 800]).turn_ended);
    }

    #[test]
    fn a_short_blip_does_not_end_the_turn() {
        let mut vad = CallerVad::new(16000, 500);
        assert!(vad.push(&tone(1600, 16000)).speech_started);
        assert!(!vad.push(&[0; 16000]).turn_ended);
    }
}
