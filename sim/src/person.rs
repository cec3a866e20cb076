//! Simulated phones and the scripted people who answer them (sans-I/O).
//!
//! A [`PersonScript`] says how a called (or calling) phone behaves: how it answers
//! ([`Answer`]: a human, an answering machine, busy, failed, no answer), after how long, and
//! what the person then does ([`Action`]s: talk, wait until the other side is quiet, press
//! digits, pause, hang up). Scripts are plain data with JSON (serde) forms, so a test or the
//! sim's control API can send them.
//!
//! A [`Listener`] is the person's ear: fed the μ-law frames it hears with their timestamps, it
//! runs an energy VAD and tells when the other side starts and stops talking and how long it
//! has been quiet; [`QuietWait`] turns that into the outcome of [`Action::WaitForQuiet`].
//! A [`Recording`] keeps everything heard (and said) on a timeline, plus timestamped events,
//! and writes them as a WAV file and a JSON events file.
//!
//! Nothing here does I/O on a network or sleeps: the driver feeds time in.

use std::path::Path;

use serde::{Deserialize, Serialize};
use voice::mulaw;
use voice::vad::{Vad, VadConfig, VadEvent};

use crate::speech;

/// Samples per millisecond at 8 kHz.
const SAMPLES_PER_MS: u64 = 8;
/// One VAD frame: 20 ms at 8 kHz.
const FRAME: usize = 160;
const FRAME_MS: u64 = 20;
/// μ-law silence.
const SILENCE: u8 = 0xFF;

/// How the phone answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    /// A person picks up and follows the script.
    Human,
    /// Voicemail: plays a greeting of `greeting_ms`, then a beep, then records (the script's
    /// actions are ignored).
    Machine { greeting_ms: u32 },
    /// The line is busy (Twilio `CallStatus=busy`).
    Busy,
    /// The call cannot be completed (`CallStatus=failed`).
    Fail,
    /// Rings until the caller gives up (`CallStatus=no-answer`).
    NoAnswer,
}

impl Answer {
    /// Whether the call is answered (by a person or a machine).
    pub fn answers(&self) -> bool {
        matches!(self, Answer::Human | Answer::Machine { .. })
    }

    /// Twilio's final `CallStatus` when the call is not answered; `None` when it is.
    pub fn refusal_status(&self) -> Option<&'static str> {
        match self {
            Answer::Human | Answer::Machine { .. } => None,
            Answer::Busy => Some("busy"),
            Answer::Fail => Some("failed"),
            Answer::NoAnswer => Some("no-answer"),
        }
    }

    /// Twilio's `AnsweredBy` for answering-machine detection (`human` / `machine_end_beep`).
    pub fn answered_by(&self) -> Option<&'static str> {
        match self {
            Answer::Human => Some("human"),
            Answer::Machine { .. } => Some("machine_end_beep"),
            _ => None,
        }
    }
}

/// What an answering machine plays: speech-like greeting of exactly `greeting_ms`, a short
/// pause, then the beep.
pub fn machine_greeting(greeting_ms: u32) -> Vec<u8> {
    const TEXT: &str = "Hi, you have reached the voicemail of Alex. I can't take your call \
                        right now. Please leave a message after the tone.";
    let want = (u64::from(greeting_ms) * SAMPLES_PER_MS) as usize;
    let mut audio = Vec::with_capacity(want + 4800);
    while audio.len() < want {
        audio.extend(speech::synthesize(TEXT));
        audio.extend(speech::silence(300));
    }
    audio.truncate(want);
    audio.extend(speech::silence(300));
    audio.extend(speech::beep());
    audio
}

/// One step of a scripted person, after answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Say this text. On a call the runner speaks it with [`speech::speak`] (espeak-ng when
    /// installed, see [`speech::VOICE_ENV`]); [`Action::audio`] gives the synthetic voice.
    Say(String),
    /// Play prepared μ-law audio (base64 in JSON); `label` names it in the events.
    SayAudio {
        label: String,
        #[serde(with = "base64_bytes")]
        mulaw: Vec<u8>,
    },
    /// Wait until the other side has talked and then been quiet for `quiet_ms`, giving up
    /// after `timeout_ms` (see [`QuietWait`]).
    WaitForQuiet { quiet_ms: u32, timeout_ms: u32 },
    /// Press DTMF digits (`0-9`, `*`, `#`, `A-D`).
    Digits(String),
    /// Do nothing for this many milliseconds.
    Pause(u32),
    /// Hang up.
    HangUp,
}

impl Action {
    /// The audio this action speaks, if it speaks.
    pub fn audio(&self) -> Option<Vec<u8>> {
        match self {
            Action::Say(text) => Some(speech::synthesize(text)),
            Action::SayAudio { mulaw, .. } => Some(mulaw.clone()),
            _ => None,
        }
    }
}

/// Default quiet time of [`PersonScript::wait_quiet`]: the other side has finished a turn.
pub const DEFAULT_QUIET_MS: u32 = 800;
/// Default give-up time of [`PersonScript::wait_quiet`].
pub const DEFAULT_WAIT_TIMEOUT_MS: u32 = 15_000;

/// How a simulated phone answers and what its person does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonScript {
    pub answer: Answer,
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Ringing time before answering (or before busy/failed is reported). Default 0.
    #[serde(default)]
    pub answer_after_ms: u32,
}

impl PersonScript {
    pub fn new(answer: Answer) -> Self {
        Self {
            answer,
            actions: Vec::new(),
            answer_after_ms: 0,
        }
    }

    /// A person who answers.
    pub fn human() -> Self {
        Self::new(Answer::Human)
    }

    /// An answering machine with a greeting of `greeting_ms` before the beep.
    pub fn machine(greeting_ms: u32) -> Self {
        Self::new(Answer::Machine { greeting_ms })
    }

    pub fn busy() -> Self {
        Self::new(Answer::Busy)
    }

    pub fn fail() -> Self {
        Self::new(Answer::Fail)
    }

    pub fn no_answer() -> Self {
        Self::new(Answer::NoAnswer)
    }

    /// Rings for `ms` before answering.
    pub fn answer_after(mut self, ms: u32) -> Self {
        self.answer_after_ms = ms;
        self
    }

    pub fn then(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    pub fn say(self, text: &str) -> Self {
        self.then(Action::Say(text.to_owned()))
    }

    pub fn say_audio(self, label: &str, mulaw: Vec<u8>) -> Self {
        self.then(Action::SayAudio {
            label: label.to_owned(),
            mulaw,
        })
    }

    /// Waits for the other side to finish talking ([`DEFAULT_QUIET_MS`] of quiet, at most
    /// [`DEFAULT_WAIT_TIMEOUT_MS`]).
    pub fn wait_quiet(self) -> Self {
        self.wait_quiet_for(DEFAULT_QUIET_MS, DEFAULT_WAIT_TIMEOUT_MS)
    }

    pub fn wait_quiet_for(self, quiet_ms: u32, timeout_ms: u32) -> Self {
        self.then(Action::WaitForQuiet {
            quiet_ms,
            timeout_ms,
        })
    }

    pub fn digits(self, digits: &str) -> Self {
        self.then(Action::Digits(digits.to_owned()))
    }

    pub fn pause(self, ms: u32) -> Self {
        self.then(Action::Pause(ms))
    }

    pub fn hang_up(self) -> Self {
        self.then(Action::HangUp)
    }

    /// Checks what serde cannot: digits are DTMF keys.
    pub fn validate(&self) -> Result<(), String> {
        for action in &self.actions {
            if let Action::Digits(d) = action
                && let Some(bad) = d
                    .chars()
                    .find(|c| !(c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')))
            {
                return Err(format!("not a DTMF digit: {bad:?}"));
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script always serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// A change in what the listener hears. Times are when it happened on the timeline (the VAD's
/// confirmation delay and hangover are taken off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    SpeechStarted { at_ms: u64 },
    SpeechEnded { at_ms: u64 },
}

/// The ear of a simulated person: tracks whether the other side is talking.
#[derive(Debug, Clone)]
pub struct Listener {
    vad: Vad,
    start_frames: u64,
    end_frames: u64,
    /// Decoded samples not yet a whole frame.
    pending: Vec<i16>,
    /// Timeline position (in samples) of the next sample to be appended.
    pos: u64,
    talking: bool,
    /// When the last speech ended (or 0 if none yet).
    quiet_since_ms: u64,
    utterances: u64,
}

impl Default for Listener {
    fn default() -> Self {
        Self::new()
    }
}

impl Listener {
    /// A listener with the product's VAD settings (speech ends after a 400 ms hangover, so
    /// pauses at commas and full stops stay within one utterance). Quiet time is measured from
    /// the real end of speech, hangover taken off, so it can be known from 400 ms on.
    pub fn new() -> Self {
        Self::with_config(VadConfig::default())
    }

    pub fn with_config(config: VadConfig) -> Self {
        let start_frames = u64::from(config.start_frames.max(1));
        let end_frames = u64::from(config.end_frames.max(1));
        Self {
            vad: Vad::new(config),
            start_frames,
            end_frames,
            pending: Vec::with_capacity(FRAME),
            pos: 0,
            talking: false,
            quiet_since_ms: 0,
            utterances: 0,
        }
    }

    /// Hears μ-law audio that started playing at `at_ms`. A gap since the previous audio is
    /// heard as silence; audio that overlaps the previous is heard after it.
    pub fn push(&mut self, at_ms: u64, mulaw_audio: &[u8]) -> Vec<Heard> {
        let mut events = self.fill_silence_to(at_ms);
        let mut pcm = Vec::with_capacity(mulaw_audio.len());
        mulaw::decode(mulaw_audio, &mut pcm);
        events.extend(self.feed(&pcm));
        events
    }

    /// Time passes with nothing heard until `now_ms`: silence.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Heard> {
        self.fill_silence_to(now_ms)
    }

    /// Whether the other side is talking now.
    pub fn is_talking(&self) -> bool {
        self.talking
    }

    /// How long the other side has been quiet at `now_ms` (0 while talking).
    pub fn quiet_for_ms(&self, now_ms: u64) -> u64 {
        if self.talking {
            0
        } else {
            now_ms.saturating_sub(self.quiet_since_ms)
        }
    }

    /// Quiet for at least `ms` at `now_ms`?
    pub fn is_quiet_for(&self, now_ms: u64, ms: u64) -> bool {
        !self.talking && self.quiet_for_ms(now_ms) >= ms
    }

    /// Utterances started so far.
    pub fn utterances(&self) -> u64 {
        self.utterances
    }

    fn fill_silence_to(&mut self, at_ms: u64) -> Vec<Heard> {
        let target = at_ms * SAMPLES_PER_MS;
        if target <= self.pos {
            return Vec::new();
        }
        let gap = target - self.pos;
        // Enough silence to close any utterance; beyond that silence changes nothing but the
        // clock (and the noise floor, which only follows quieter frames down).
        let cap = (self.end_frames + 2) * FRAME as u64;
        let fill = gap.min(cap) as usize;
        let events = self.feed(&vec![0; fill]);
        self.pos = target;
        events
    }

    fn feed(&mut self, pcm: &[i16]) -> Vec<Heard> {
        let mut events = Vec::new();
        // `pos` counts samples appended; the frame being completed ends at `frame_end`.
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (FRAME - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.pos += take as u64;
            if self.pending.len() == FRAME {
                let frame_end_ms = self.pos / SAMPLES_PER_MS;
                match self.vad.push(&self.pending) {
                    Some(VadEvent::SpeechStarted) => {
                        let at_ms = frame_end_ms.saturating_sub(self.start_frames * FRAME_MS);
                        self.talking = true;
                        self.utterances += 1;
                        events.push(Heard::SpeechStarted { at_ms });
                    }
                    Some(VadEvent::SpeechEnded) => {
                        let at_ms = frame_end_ms.saturating_sub(self.end_frames * FRAME_MS);
                        self.talking = false;
                        self.quiet_since_ms = at_ms;
                        events.push(Heard::SpeechEnded { at_ms });
                    }
                    None => {}
                }
                self.pending.clear();
            }
        }
        events
    }
}

/// How an [`Action::WaitForQuiet`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The other side talked, then was quiet for the required time.
    Quiet,
    /// Nothing of the kind within the timeout.
    TimedOut,
}

/// The state of one [`Action::WaitForQuiet`]: it is satisfied once the other side has talked
/// (since the wait began, or was talking when it began) and then been quiet for `quiet_ms`.
/// Waiting for talk first keeps a person from speaking into a greeting that has not begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietWait {
    started_ms: u64,
    utterances_at_start: u64,
    talking_at_start: bool,
    quiet_ms: u64,
    timeout_ms: u64,
}

impl QuietWait {
    pub fn begin(listener: &Listener, now_ms: u64, quiet_ms: u32, timeout_ms: u32) -> Self {
        Self {
            started_ms: now_ms,
            utterances_at_start: listener.utterances(),
            talking_at_start: listener.is_talking(),
            quiet_ms: u64::from(quiet_ms),
            timeout_ms: u64::from(timeout_ms),
        }
    }

    /// `None` while still waiting.
    pub fn poll(&self, listener: &Listener, now_ms: u64) -> Option<WaitOutcome> {
        let talked = self.talking_at_start || listener.utterances() > self.utterances_at_start;
        if talked && listener.is_quiet_for(now_ms, self.quiet_ms) {
            Some(WaitOutcome::Quiet)
        } else if now_ms.saturating_sub(self.started_ms) >= self.timeout_ms {
            Some(WaitOutcome::TimedOut)
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------------------
// Voice-to-voice latency.

/// A 20 ms frame is *voiced* (speech, not silence or a quiet line) when its RMS level is at
/// least this many dBFS: the level below which the product's VAD never hears speech
/// ([`VadConfig::min_speech_dbfs`]). μ-law silence (0xFF / 0x7F) decodes to 0 and low comfort
/// noise stays below it.
pub const VOICED_DBFS: f32 = -50.0;

/// Whether a μ-law frame (up to 20 ms) has speech-like energy ([`VOICED_DBFS`]).
pub fn is_voiced(mulaw_frame: &[u8]) -> bool {
    if mulaw_frame.iter().all(|&b| b == SILENCE || b == 0x7F) {
        return false;
    }
    let mut pcm = Vec::with_capacity(mulaw_frame.len());
    mulaw::decode(mulaw_frame, &mut pcm);
    voice::pcm::rms_dbfs(&pcm) >= VOICED_DBFS
}

/// Where the voice is in an utterance's audio: byte offsets `(start, end)` from the first
/// voiced 20 ms frame's start to the last voiced frame's end (frames counted from the start
/// of the audio), so leading and trailing silence a synthesizer adds is not speech. `None`
/// when no frame is voiced.
pub fn voiced_span(mulaw_audio: &[u8]) -> Option<(usize, usize)> {
    let voiced: Vec<usize> = mulaw_audio
        .chunks(FRAME)
        .enumerate()
        .filter(|(_, frame)| is_voiced(frame))
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (*voiced.first()?, *voiced.last()?);
    Some((first * FRAME, ((last + 1) * FRAME).min(mulaw_audio.len())))
}

/// How one caller turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TurnOutcome {
    /// The agent's first voiced frame after the caller's last one started `after_ms` later.
    Answered { after_ms: u64 },
    /// No voiced agent frame between the caller's last frame and the caller's next utterance
    /// (or the end of the call).
    Unanswered,
    /// The agent was still talking when the caller stopped (a voiced agent frame within
    /// [`OVERLAP_MS`] before the caller's last frame ended): no answer latency can be told.
    Overlapped,
}

/// An agent frame this close before the caller stops makes the turn [`TurnOutcome::Overlapped`].
pub const OVERLAP_MS: u64 = 100;

/// One caller utterance and what came of it. Times are on the phone's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based: the caller's n-th (voiced) utterance.
    pub turn: usize,
    /// End of the caller's last voiced frame of the utterance.
    pub said_end_ms: u64,
    pub outcome: TurnOutcome,
}

impl Turn {
    pub fn after_ms(&self) -> Option<u64> {
        match self.outcome {
            TurnOutcome::Answered { after_ms } => Some(after_ms),
            _ => None,
        }
    }
}

/// Voice-to-voice latency per caller turn (sans-I/O): fed, in timeline order, when each of the
/// caller's utterances starts and ends (their voiced spans, see [`voiced_span`]) and every frame
/// the caller hears with its start time.
///
/// A turn opens when an utterance ends at `E`. The first heard frame starting at `t ≥ E` that
/// is voiced ([`is_voiced`]) answers it: `after_ms = t − E`. If the caller's next utterance
/// starts (or the call ends, [`VoiceTurns::finish`]) first, the turn is
/// [`TurnOutcome::Unanswered`]. If the agent was heard talking within [`OVERLAP_MS`] before `E`,
/// the turn is [`TurnOutcome::Overlapped`] (no latency: the agent had not stopped).
#[derive(Debug, Clone, Default)]
pub struct VoiceTurns {
    utterances: usize,
    /// The turn waiting for an answer: (turn, caller's end).
    open: Option<(usize, u64)>,
    /// End of the last voiced frame heard.
    last_voiced_heard_end_ms: Option<u64>,
    done: Vec<Turn>,
}

impl VoiceTurns {
    pub fn new() -> Self {
        Self::default()
    }

    /// The caller's next utterance starts (its first voiced frame) at `at_ms`: a turn still
    /// waiting for an answer goes unanswered.
    pub fn utterance_started(&mut self, _at_ms: u64) {
        self.close_unanswered();
    }

    /// The caller's utterance ends (its last voiced frame) at `at_ms`: a turn opens.
    pub fn utterance_ended(&mut self, at_ms: u64) {
        self.close_unanswered();
        self.utterances += 1;
        let turn = self.utterances;
        let overlapped = self
            .last_voiced_heard_end_ms
            .is_some_and(|end| end + OVERLAP_MS > at_ms);
        if overlapped {
            self.done.push(Turn {
                turn,
                said_end_ms: at_ms,
                outcome: TurnOutcome::Overlapped,
            });
        } else {
            self.open = Some((turn, at_ms));
        }
    }

    /// A whole utterance (its voiced span).
    pub fn said(&mut self, start_ms: u64, end_ms: u64) {
        self.utterance_started(start_ms);
        self.utterance_ended(end_ms);
    }

    /// The caller hears `mulaw_frame` (up to 20 ms) starting at `at_ms`.
    pub fn heard(&mut self, at_ms: u64, mulaw_frame: &[u8]) {
        if !is_voiced(mulaw_frame) {
            return;
        }
        let end = at_ms + mulaw_frame.len() as u64 / SAMPLES_PER_MS;
        self.last_voiced_heard_end_ms =
            Some(self.last_voiced_heard_end_ms.map_or(end, |e| e.max(end)));
        if let Some((turn, said_end_ms)) = self.open
            && at_ms >= said_end_ms
        {
            self.open = None;
            self.done.push(Turn {
                turn,
                said_end_ms,
                outcome: TurnOutcome::Answered {
                    after_ms: at_ms - said_end_ms,
                },
            });
        }
    }

    /// The call is over: a turn still waiting goes unanswered.
    pub fn finish(&mut self) {
        self.close_unanswered();
    }

    /// Turns decided since the last call.
    pub fn take(&mut self) -> Vec<Turn> {
        std::mem::take(&mut self.done)
    }

    fn close_unanswered(&mut self) {
        if let Some((turn, said_end_ms)) = self.open.take() {
            self.done.push(Turn {
                turn,
                said_end_ms,
                outcome: TurnOutcome::Unanswered,
            });
        }
    }
}

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
        track.resize(at, SILENCE);
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

    /// Adds what a [`Listener`] reported.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `audio` to the listener in 20 ms frames from `start_ms`; returns the end time.
    fn play(listener: &mut Listener, start_ms: u64, audio: &[u8], out: &mut Vec<Heard>) -> u64 {
        let mut t = start_ms;
        for frame in audio.chunks(FRAME) {
            out.extend(listener.push(t, frame));
            t += FRAME_MS;
        }
        t
    }

    #[test]
    fn builder_makes_the_script() {
        let s = PersonScript::human()
            .answer_after(2000)
            .say("Hi")
            .wait_quiet()
            .digits("1#")
            .pause(500)
            .hang_up();
        assert_eq!(s.answer, Answer::Human);
        assert_eq!(s.answer_after_ms, 2000);
        assert_eq!(
            s.actions,
            vec![
                Action::Say("Hi".into()),
                Action::WaitForQuiet {
                    quiet_ms: DEFAULT_QUIET_MS,
                    timeout_ms: DEFAULT_WAIT_TIMEOUT_MS
                },
                Action::Digits("1#".into()),
                Action::Pause(500),
                Action::HangUp,
            ]
        );
        assert!(s.validate().is_ok());
        assert!(PersonScript::human().digits("1x").validate().is_err());
        assert_eq!(
            PersonScript::machine(3000).answer,
            Answer::Machine { greeting_ms: 3000 }
        );
        assert_eq!(PersonScript::busy().answer.refusal_status(), Some("busy"));
        assert_eq!(PersonScript::fail().answer.refusal_status(), Some("failed"));
        assert_eq!(
            PersonScript::no_answer().answer.refusal_status(),
            Some("no-answer")
        );
        assert!(Answer::Machine { greeting_ms: 1 }.answers());
        assert_eq!(Answer::Human.answered_by(), Some("human"));
    }

    #[test]
    fn script_json_round_trip_and_shape() {
        let s = PersonScript::machine(2500)
            .say("leave it")
            .say_audio("beep", vec![1, 2, 255])
            .wait_quiet_for(500, 4000)
            .hang_up();
        let json = s.to_json();
        assert_eq!(PersonScript::from_json(&json).unwrap(), s);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["answer"],
            serde_json::json!({"type": "machine", "greeting_ms": 2500})
        );
        assert_eq!(v["actions"][0], serde_json::json!({"say": "leave it"}));
        assert_eq!(
            v["actions"][1],
            serde_json::json!({"say_audio": {"label": "beep", "mulaw": "AQL/"}})
        );
        assert_eq!(
            v["actions"][2],
            serde_json::json!({"wait_for_quiet": {"quiet_ms": 500, "timeout_ms": 4000}})
        );
        assert_eq!(v["actions"][3], serde_json::json!("hang_up"));
        // Hand-written JSON with defaults.
        let s = PersonScript::from_json(r#"{"answer": {"type": "busy"}}"#).unwrap();
        assert_eq!(s, PersonScript::busy());
    }

    #[test]
    fn machine_greeting_is_greeting_then_beep() {
        let g = machine_greeting(2000);
        assert_eq!(g.len(), (2000 + 300 + speech::BEEP_MS as usize) * 8);
        assert!(g.ends_with(&speech::beep()));
    }

    #[test]
    fn action_audio() {
        assert_eq!(
            Action::Say("hello".into()).audio().unwrap().len(),
            5 * 65 * 8
        );
        assert_eq!(
            Action::SayAudio {
                label: "x".into(),
                mulaw: vec![7; 3]
            }
            .audio(),
            Some(vec![7; 3])
        );
        assert_eq!(Action::HangUp.audio(), None);
    }

    #[test]
    fn listener_tracks_talk_and_quiet() {
        let mut l = Listener::new();
        let mut events = Vec::new();
        let t = play(&mut l, 0, &speech::silence(500), &mut events);
        assert!(events.is_empty());
        assert!(!l.is_talking());
        let utterance = speech::synthesize("Thanks for calling, how can I help you today");
        let utterance_ms = utterance.len() as u64 / 8;
        let t_end = play(&mut l, t, &utterance, &mut events);
        assert!(l.is_talking());
        assert_eq!(l.quiet_for_ms(t_end), 0);
        assert_eq!(events.len(), 1);
        let Heard::SpeechStarted { at_ms } = events[0] else {
            panic!("{events:?}")
        };
        assert!(at_ms.abs_diff(500) <= 40, "started at {at_ms}");
        // The other side stops sending: time passes in silence.
        events.extend(l.tick(t_end + 1000));
        assert!(!l.is_talking());
        let Heard::SpeechEnded { at_ms } = events[1] else {
            panic!("{events:?}")
        };
        assert!(at_ms.abs_diff(500 + utterance_ms) <= 60, "ended at {at_ms}");
        assert!(l.is_quiet_for(t_end + 1000, 900));
        assert!(!l.is_quiet_for(t_end + 1000, 1200));
        assert_eq!(l.utterances(), 1);
    }

    #[test]
    fn listener_treats_gaps_between_frames_as_silence() {
        let mut l = Listener::new();
        let mut events = Vec::new();
        let end = play(&mut l, 0, &speech::synthesize("hello there"), &mut events);
        // Next audio arrives two seconds later: the gap closed the first utterance.
        events.extend(l.push(end + 2000, &speech::silence(20)));
        assert!(
            matches!(events.as_slice(), [Heard::SpeechStarted { .. }, Heard::SpeechEnded { at_ms }] if at_ms.abs_diff(end) <= 60),
            "{events:?}"
        );
    }

    #[test]
    fn quiet_wait_needs_talk_then_quiet_or_times_out() {
        let mut l = Listener::new();
        let wait = QuietWait::begin(&l, 0, 600, 10_000);
        // Silence alone does not satisfy the wait...
        l.tick(3000);
        assert_eq!(wait.poll(&l, 3000), None);
        // ...talk followed by enough quiet does.
        let mut events = Vec::new();
        let end = play(
            &mut l,
            3000,
            &speech::synthesize("one moment please"),
            &mut events,
        );
        assert_eq!(wait.poll(&l, end), None);
        l.tick(end + 300);
        assert_eq!(wait.poll(&l, end + 300), None);
        l.tick(end + 700);
        assert_eq!(wait.poll(&l, end + 700), Some(WaitOutcome::Quiet));
        // A new wait with nobody talking times out.
        let wait = QuietWait::begin(&l, end + 700, 600, 2000);
        l.tick(end + 2699);
        assert_eq!(wait.poll(&l, end + 2699), None);
        l.tick(end + 2700);
        assert_eq!(wait.poll(&l, end + 2700), Some(WaitOutcome::TimedOut));
    }

    #[test]
    fn recording_fills_gaps_and_writes_wav_and_events() {
        let mut r = Recording::new();
        r.event(0, EventKind::Answered);
        r.hear(100, &speech::tone(440.0, 100));
        r.hear(500, &speech::tone(440.0, 100));
        // Overlapping audio goes after what is there.
        r.hear(550, &[0x00; 8]);
        r.speak(50, &speech::synthesize("hi"));
        r.event(50, EventKind::Said { text: "hi".into() });
        r.heard_events([
            Heard::SpeechStarted { at_ms: 100 },
            Heard::SpeechEnded { at_ms: 600 },
        ]);
        r.event(700, EventKind::Digits { digits: "1".into() });
        r.event(800, EventKind::HungUp);
        let heard = r.heard_pcm();
        assert_eq!(heard.len(), 600 * 8 + 8);
        assert!(heard[..800].iter().all(|&s| s == 0));
        assert!(heard[200 * 8..500 * 8].iter().all(|&s| s == 0));
        assert!(voice::pcm::rms_dbfs(&heard[800..1600]) > -20.0);
        assert_eq!(r.duration_ms(), 601);
        assert_eq!(r.mixed_pcm().len(), heard.len());

        let dir = std::env::temp_dir().join(format!("sim-person-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        r.save(&dir, "call").unwrap();
        let (rate, samples) = voice::wav::read_wav(dir.join("call.wav")).unwrap();
        assert_eq!((rate, samples), (8000, heard));
        let (_, mixed) = voice::wav::read_wav(dir.join("call.mixed.wav")).unwrap();
        assert_eq!(mixed, r.mixed_pcm());
        let json = std::fs::read_to_string(dir.join("call.events.json")).unwrap();
        let events: Vec<RecordingEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(events, r.events());
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0], serde_json::json!({"at_ms": 0, "event": "answered"}));
        assert_eq!(
            v[1],
            serde_json::json!({"at_ms": 50, "event": "said", "text": "hi"})
        );
        assert_eq!(
            v[2],
            serde_json::json!({"at_ms": 100, "event": "heard_speech_started"})
        );
        assert_eq!(
            v[4],
            serde_json::json!({"at_ms": 700, "event": "digits", "digits": "1"})
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Line noise at about -63 dBFS, the way comfort noise sounds: never voiced.
    fn comfort_noise(ms: u32) -> Vec<u8> {
        let pcm = voice::pcm::sine(150.0, 8000, ms, 0.001);
        let mut out = Vec::new();
        mulaw::encode(&pcm, &mut out);
        out
    }

    #[test]
    fn voiced_frames_and_spans() {
        assert!(is_voiced(&speech::tone(440.0, 20)));
        assert!(!is_voiced(&speech::silence(20)));
        assert!(!is_voiced(&[0x7F; 160]));
        assert!(!is_voiced(&comfort_noise(20)));
        let mut audio = speech::silence(100);
        audio.extend(speech::tone(440.0, 1000));
        audio.extend(speech::silence(200));
        assert_eq!(voiced_span(&audio), Some((800, 8800)));
        assert_eq!(voiced_span(&speech::silence(500)), None);
        assert_eq!(voiced_span(&comfort_noise(500)), None);
    }

    #[test]
    fn voice_turns_answered_unanswered_overlapped() {
        let mut t = VoiceTurns::new();
        // Heard before any utterance: no turn.
        t.heard(0, &speech::tone(440.0, 20));
        t.said(500, 1500);
        // Silence, 0x7F and comfort noise after the caller stopped do not answer...
        t.heard(1500, &speech::silence(20));
        t.heard(1520, &[0x7F; 160]);
        t.heard(1540, &comfort_noise(20));
        assert!(t.take().is_empty());
        // ...the first voiced frame does: 1980 - 1500.
        t.heard(1980, &speech::tone(440.0, 20));
        t.heard(2000, &speech::tone(440.0, 20));
        // Turn 2: nothing voiced before the caller's next utterance.
        t.said(3000, 3800);
        t.heard(3900, &speech::silence(20));
        t.utterance_started(4500);
        // Agent speech while the caller talks does not answer; it is still playing when the
        // caller stops at 5000: overlapped.
        t.heard(4960, &speech::tone(440.0, 20));
        t.utterance_ended(5000);
        // Turn 4 gets no answer before the call ends.
        t.said(6000, 7000);
        t.heard(6500, &speech::tone(440.0, 20));
        t.finish();
        let turns = t.take();
        let outcomes: Vec<(usize, u64, TurnOutcome)> = turns
            .iter()
            .map(|t| (t.turn, t.said_end_ms, t.outcome))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (1, 1500, TurnOutcome::Answered { after_ms: 480 }),
                (2, 3800, TurnOutcome::Unanswered),
                (3, 5000, TurnOutcome::Overlapped),
                (4, 7000, TurnOutcome::Unanswered),
            ]
        );
        assert_eq!(turns[0].after_ms(), Some(480));
        assert_eq!(turns[1].after_ms(), None);
        assert_eq!(
            serde_json::to_value(turns[0]).unwrap(),
            serde_json::json!({"turn": 1, "said_end_ms": 1500, "outcome": {"outcome": "answered", "after_ms": 480}})
        );
    }
}
