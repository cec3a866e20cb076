//! The phone side of a bidirectional Twilio Media Stream (`<Connect><Stream>`).
//!
//! [`MediaStreamClient`] connects to our `/twilio/media` WebSocket the way Twilio does and then
//! behaves like Twilio with a caller on the line:
//!
//! - The upgrade carries `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, public wss URL)),
//!   with no POST parameters.
//! - It sends `connected`, then `start` (sequence number 1), then one `media` frame of 160 μ-law
//!   bytes every 20 ms: caller audio queued with [`MediaStreamClient::say`], or silence (0xFF)
//!   when there is none, as a phone line does. `sequenceNumber` counts every message after
//!   `connected`; `chunk` counts media frames from 1; `timestamp` is the frame's media time in
//!   ms since the stream started (`(chunk - 1) * 20`).
//! - Audio the server sends is appended to a playout buffer that plays 160 bytes per 20 ms;
//!   what has finished playing is "heard" and kept.
//! - A `mark` is echoed (as an inbound `mark` event with the same name) once all audio queued
//!   before it has finished playing — at once if nothing is queued. A `clear` drops all
//!   unplayed audio, including the frame playing at that moment, and echoes every pending mark
//!   at once.
//! - A frame it cannot understand (not JSON, unknown event, bad base64, another stream's
//!   `streamSid`, binary) is logged, recorded as [`PhoneEventKind::Malformed`] and skipped.
//!
//! Two tasks run per stream. The *line* task owns the socket's write half and a 20 ms
//! [`tokio::time::interval`]: each tick finishes the frame that was playing, echoes the marks
//! it completed, starts the next frame and sends one caller frame. It also sends `dtmf`, mark
//! echoes triggered by the receiver, and `stop`. The *receiver* task reads the server's frames
//! and updates the shared state. Every message therefore leaves through one task, so sequence
//! numbers are in wire order.
//!
//! The interval uses [`MissedTickBehavior::Burst`]: a phone line's media clock does not slow
//! down when our process is descheduled — the late packets arrive back to back. Burst keeps the
//! long-run rate at exactly 50 frames/s, keeps `timestamp` (media time) in step with wall-clock
//! time since the start, and keeps playout (and so mark echoes) at real time. `Delay` would make
//! every stall permanent: fewer frames per second than a real call, timestamps drifting behind
//! the wall clock and marks echoed late.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use telephony::media_stream::{
    self, Dtmf, FRAME_BYTES, FRAME_MS, Inbound, InboundMedia, Mark, MediaFormat, Outbound,
    StartPayload, StopPayload,
};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::SimError;
use crate::person::{Turn, VoiceTurns, voiced_span};

/// μ-law silence: what a phone line carries when nobody speaks.
const SILENCE: u8 = 0xFF;
/// μ-law bytes per millisecond at 8 kHz.
const BYTES_PER_MS: u64 = 8;
/// How long `hang_up` waits for the server's answer to our close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;
type WsSink = SplitSink<WsStream, Message>;
type WsSource = SplitStream<WsStream>;

/// Where and as whom the simulated phone connects.
#[derive(Clone)]
pub struct StreamConfig {
    /// Where to connect, e.g. `ws://127.0.0.1:3000/twilio/media`.
    pub ws_url: String,
    /// The public URL Twilio would sign, e.g. `wss://voice.example/twilio/media`.
    pub signed_url: String,
    /// The account's auth token; `None` sends no `X-Twilio-Signature`.
    pub auth_token: Option<String>,
    pub account_sid: String,
    pub call_sid: String,
    pub stream_sid: String,
    /// The `<Parameter name=… value=…/>` of the `<Stream>`, sent in `start.customParameters`.
    pub custom_parameters: BTreeMap<String, String>,
}

impl StreamConfig {
    /// A config with placeholder SIDs, no auth token and no custom parameters.
    pub fn new(ws_url: impl Into<String>, signed_url: impl Into<String>) -> Self {
        Self {
            ws_url: ws_url.into(),
            signed_url: signed_url.into(),
            auth_token: None,
            account_sid: "AC00000000000000000000000000000000".into(),
            call_sid: "CA00000000000000000000000000000000".into(),
            stream_sid: "MZ00000000000000000000000000000000".into(),
            custom_parameters: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for StreamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamConfig")
            .field("ws_url", &self.ws_url)
            .field("signed_url", &self.signed_url)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("account_sid", &self.account_sid)
            .field("call_sid", &self.call_sid)
            .field("stream_sid", &self.stream_sid)
            .field("custom_parameters", &self.custom_parameters)
            .finish()
    }
}

/// Something the phone observed, `at_ms` milliseconds after the stream started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneEvent {
    pub at_ms: u64,
    pub kind: PhoneEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneEventKind {
    /// A `media` message from the server, with its decoded size.
    MediaReceived { bytes: usize },
    /// A `mark` message from the server.
    MarkReceived { name: String },
    /// We sent the mark back: its audio has played, or a `clear` flushed it.
    MarkEchoed { name: String },
    /// A `clear` message; `dropped_bytes` of unplayed audio were discarded.
    ClearReceived { dropped_bytes: usize },
    /// A frame we could not use; skipped.
    Malformed { reason: String },
    /// The server closed the stream (or the connection broke) without us hanging up.
    ServerClosed,
}

/// One `media` frame the phone sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFrame {
    pub sequence_number: u64,
    pub chunk: u64,
    /// Media time of the frame: `(chunk - 1) * 20`.
    pub timestamp_ms: u64,
    /// Wall-clock ms since the start when it was sent.
    pub sent_at_ms: u64,
    pub payload: Vec<u8>,
}

/// The phone's state as a [`MediaStreamClient::wait_for`] predicate sees it.
#[derive(Debug)]
pub struct Observation<'a> {
    pub events: &'a [PhoneEvent],
    /// Bytes of server audio that have finished playing.
    pub heard_bytes: usize,
    /// Bytes of server audio received and not yet played (including the frame playing now).
    pub unplayed_bytes: usize,
    pub sent_frames: usize,
    /// The stream has ended (either side).
    pub closed: bool,
}

impl Observation<'_> {
    pub fn mark_received(&self, name: &str) -> bool {
        self.events
            .iter()
            .any(|e| matches!(&e.kind, PhoneEventKind::MarkReceived { name: n } if n == name))
    }

    pub fn mark_echoed(&self, name: &str) -> bool {
        self.events
            .iter()
            .any(|e| matches!(&e.kind, PhoneEventKind::MarkEchoed { name: n } if n == name))
    }

    pub fn clear_received(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e.kind, PhoneEventKind::ClearReceived { .. }))
    }

    pub fn malformed(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, PhoneEventKind::Malformed { .. }))
            .count()
    }

    /// Milliseconds of server audio heard.
    pub fn heard_ms(&self) -> u64 {
        self.heard_bytes as u64 / BYTES_PER_MS
    }
}

struct State {
    /// Caller audio not yet sent.
    caller_audio: VecDeque<u8>,
    /// Server audio received, not yet started.
    playout: VecDeque<u8>,
    /// The frame playing during the current 20 ms.
    in_flight: Vec<u8>,
    /// Total bytes ever put into playout (minus what `clear` dropped): the offset marks wait for.
    enqueued_total: u64,
    /// Total bytes that have finished playing.
    played_total: u64,
    /// Marks waiting for their audio, with the offset they wait for, in arrival order.
    pending_marks: VecDeque<(u64, String)>,
    heard: Vec<u8>,
    events: Vec<PhoneEvent>,
    sent_frames: Vec<SentFrame>,
    media_bytes_received: u64,
    last_media_at: Option<Instant>,
    hung_up: bool,
    closed: bool,
    /// Caller audio bytes ever queued / ever sent (not counting padding).
    said_total: u64,
    sent_audio_total: u64,
    /// Where each queued utterance's voice starts (`true`) and ends, as offsets into all
    /// caller audio ever queued, in order.
    utterance_marks: VecDeque<(u64, bool)>,
    turns: VoiceTurns,
    /// Turns decided so far.
    turns_done: Vec<Turn>,
}

impl State {
    fn observation(&self) -> Observation<'_> {
        Observation {
            events: &self.events,
            heard_bytes: self.heard.len(),
            unplayed_bytes: self.playout.len() + self.in_flight.len(),
            sent_frames: self.sent_frames.len(),
            closed: self.closed,
        }
    }

    /// One 20 ms playout tick at media time `at_ms`: the playing frame finishes, then the next
    /// one starts. Returns the marks whose audio has now all played.
    fn play_tick(&mut self, at_ms: u64) -> Vec<String> {
        let finished = std::mem::take(&mut self.in_flight);
        self.played_total += finished.len() as u64;
        self.heard.extend_from_slice(&finished);
        let mut done = Vec::new();
        while let Some((offset, _)) = self.pending_marks.front() {
            if *offset > self.played_total {
                break;
            }
            if let Some((_, name)) = self.pending_marks.pop_front() {
                done.push(name);
            }
        }
        let n = self.playout.len().min(FRAME_BYTES);
        self.in_flight.extend(self.playout.drain(..n));
        if !self.in_flight.is_empty() {
            self.turns.heard(at_ms, &self.in_flight);
            self.turns_done.extend(self.turns.take());
        }
        done
    }

    /// The next caller frame, sent at media time `at_ms`: queued audio, padded with silence.
    fn next_caller_frame(&mut self, at_ms: u64) -> Vec<u8> {
        let n = self.caller_audio.len().min(FRAME_BYTES);
        let mut frame: Vec<u8> = self.caller_audio.drain(..n).collect();
        frame.resize(FRAME_BYTES, SILENCE);
        let before = self.sent_audio_total;
        let after = before + n as u64;
        self.sent_audio_total = after;
        // A start is in this frame when its byte is; an end when the byte before it is.
        while let Some(&(offset, is_start)) = self.utterance_marks.front() {
            if (is_start && offset >= after) || (!is_start && offset > after) {
                break;
            }
            self.utterance_marks.pop_front();
            let mark_ms = at_ms + offset.saturating_sub(before) / BYTES_PER_MS;
            if is_start {
                self.turns.utterance_started(mark_ms);
            } else {
                self.turns.utterance_ended(mark_ms);
            }
        }
        self.turns_done.extend(self.turns.take());
        frame
    }
}

struct Shared {
    start: Instant,
    state: Mutex<State>,
    /// Bumped on every change a waiter may care about.
    changed: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn record(&self, kind: PhoneEventKind) {
        let at_ms = self.elapsed_ms();
        self.lock().events.push(PhoneEvent { at_ms, kind });
        self.notify();
    }
}

enum Command {
    Dtmf(char),
    EchoMark(String),
    HangUp,
    /// The receiver saw the stream end.
    Shutdown,
}

struct Ids {
    account_sid: String,
    call_sid: String,
    stream_sid: String,
}

/// A simulated caller on a Twilio Media Stream. Dropping it aborts its tasks without `stop`;
/// use [`MediaStreamClient::hang_up`] to end the call the way Twilio does.
pub struct MediaStreamClient {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    stream_sid: String,
    line: Option<JoinHandle<Result<(), SimError>>>,
    receiver: Option<JoinHandle<()>>,
}

impl MediaStreamClient {
    /// Opens the stream, sends `connected` and `start`, and starts the real-time tasks.
    pub async fn connect(cfg: StreamConfig) -> Result<MediaStreamClient, SimError> {
        let mut request = cfg
            .ws_url
            .as_str()
            .into_client_request()
            .map_err(|e| SimError::InvalidConfig(format!("ws_url {:?}: {e}", cfg.ws_url)))?;
        if let Some(token) = &cfg.auth_token {
            let signature = telephony::compute_signature(token, &cfg.signed_url, &[]);
            let value = HeaderValue::from_str(&signature)
                .map_err(|e| SimError::InvalidConfig(format!("signature header: {e}")))?;
            request.headers_mut().insert("X-Twilio-Signature", value);
        }
        let (ws, _response) = tokio_tungstenite::connect_async(request).await?;
        let (mut sink, source) = ws.split();

        let connected = Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        };
        let start = Inbound::Start {
            sequence_number: 1,
            stream_sid: cfg.stream_sid.clone(),
            start: StartPayload {
                account_sid: cfg.account_sid.clone(),
                stream_sid: cfg.stream_sid.clone(),
                call_sid: cfg.call_sid.clone(),
                tracks: vec!["inbound".into()],
                custom_parameters: cfg.custom_parameters.clone(),
                media_format: MediaFormat::twilio_mulaw(),
            },
        };
        sink.send(Message::text(connected.to_json())).await?;
        sink.send(Message::text(start.to_json())).await?;

        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            start: Instant::now(),
            state: Mutex::new(State {
                caller_audio: VecDeque::new(),
                playout: VecDeque::new(),
                in_flight: Vec::new(),
                enqueued_total: 0,
                played_total: 0,
                pending_marks: VecDeque::new(),
                heard: Vec::new(),
                events: Vec::new(),
                sent_frames: Vec::new(),
                media_bytes_received: 0,
                last_media_at: None,
                hung_up: false,
                closed: false,
                said_total: 0,
                sent_audio_total: 0,
                utterance_marks: VecDeque::new(),
                turns: VoiceTurns::new(),
                turns_done: Vec::new(),
            }),
            changed,
        });
        let (commands, command_rx) = mpsc::unbounded_channel();
        let ids = Ids {
            account_sid: cfg.account_sid,
            call_sid: cfg.call_sid,
            stream_sid: cfg.stream_sid.clone(),
        };
        let line = tokio::spawn(run_line(shared.clone(), sink, command_rx, ids));
        let receiver = tokio::spawn(run_receiver(
            shared.clone(),
            source,
            commands.clone(),
            cfg.stream_sid.clone(),
        ));
        Ok(MediaStreamClient {
            shared,
            commands,
            stream_sid: cfg.stream_sid,
            line: Some(line),
            receiver: Some(receiver),
        })
    }

    pub fn stream_sid(&self) -> &str {
        &self.stream_sid
    }

    /// Time since the stream started (the zero of every `at_ms` and `timestamp`).
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// Queues caller audio (8 kHz μ-law); it goes out 160 bytes per 20 ms after what is
    /// already queued. Each call is one utterance for [`MediaStreamClient::voice_turns`].
    pub fn say(&self, mulaw: Vec<u8>) {
        let span = voiced_span(&mulaw);
        let mut state = self.shared.lock();
        let queued_at = state.said_total;
        if let Some((from, to)) = span {
            state
                .utterance_marks
                .push_back((queued_at + from as u64, true));
            state
                .utterance_marks
                .push_back((queued_at + to as u64, false));
        }
        state.said_total += mulaw.len() as u64;
        state.caller_audio.extend(mulaw);
    }

    /// The caller turns decided so far, in order ([`VoiceTurns`] on the stream's media clock:
    /// an utterance's voice ends where its last voiced 20 ms frame was sent; the answer is the
    /// first voiced frame of the server's audio to start playing after that).
    pub fn voice_turns(&self) -> Vec<Turn> {
        self.shared.lock().turns_done.clone()
    }

    /// The call is over for turn-taking: a turn still waiting for an answer is unanswered.
    /// Returns every turn, as [`MediaStreamClient::voice_turns`].
    pub fn finish_voice_turns(&self) -> Vec<Turn> {
        let mut state = self.shared.lock();
        state.turns.finish();
        let decided = state.turns.take();
        state.turns_done.extend(decided);
        state.turns_done.clone()
    }

    /// Queues `ms` milliseconds of a sine tone at `freq_hz`.
    pub fn say_tone(&self, freq_hz: f32, ms: u64) {
        self.say(tone(freq_hz, ms));
    }

    /// Presses a key: a `dtmf` event on track `inbound_track`. Keys: `0-9`, `*`, `#`, `A-D`.
    pub fn press(&self, digit: char) -> Result<(), SimError> {
        let digit = digit.to_ascii_uppercase();
        if !(digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D')) {
            return Err(SimError::InvalidDigit(digit));
        }
        if self.shared.lock().closed {
            return Err(SimError::StreamEnded);
        }
        self.commands
            .send(Command::Dtmf(digit))
            .map_err(|_| SimError::StreamEnded)
    }

    /// Hangs up: sends `stop`, closes the WebSocket and waits (briefly) for the server's
    /// close. Fails with [`SimError::StreamEnded`] if the stream had already ended.
    pub async fn hang_up(mut self) -> Result<(), SimError> {
        if self.shared.lock().closed {
            return Err(SimError::StreamEnded);
        }
        self.commands
            .send(Command::HangUp)
            .map_err(|_| SimError::StreamEnded)?;
        let result = match self.line.take() {
            Some(line) => match line.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => Err(SimError::StreamEnded),
            },
            None => Ok(()),
        };
        if let Some(mut receiver) = self.receiver.take()
            && tokio::time::timeout(CLOSE_GRACE, &mut receiver)
                .await
                .is_err()
        {
            tracing::debug!("server did not answer our close frame; dropping the connection");
            receiver.abort();
        }
        result
    }

    /// Waits until the stream has ended (normally: the server closed it).
    pub async fn wait_closed(&self, timeout: Duration) -> Result<(), SimError> {
        self.wait_for(|o| o.closed, timeout).await.map(|_| ())
    }

    /// Waits until `predicate` holds; returns the events at that moment.
    pub async fn wait_for<F>(
        &self,
        predicate: F,
        timeout: Duration,
    ) -> Result<Vec<PhoneEvent>, SimError>
    where
        F: Fn(&Observation<'_>) -> bool,
    {
        let mut changed = self.shared.changed.subscribe();
        let wait = async {
            loop {
                {
                    let state = self.shared.lock();
                    if predicate(&state.observation()) {
                        return state.events.clone();
                    }
                }
                // The sender lives in `shared`, which we hold: `changed` cannot fail.
                let _ = changed.changed().await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| SimError::Timeout(timeout))
    }

    /// Waits until no `media` has arrived for `quiet` (counting from the start if none ever did).
    pub async fn wait_until_quiet(
        &self,
        quiet: Duration,
        timeout: Duration,
    ) -> Result<(), SimError> {
        let wait = async {
            loop {
                let last = self
                    .shared
                    .lock()
                    .last_media_at
                    .unwrap_or(self.shared.start);
                let until = last + quiet;
                if Instant::now() >= until {
                    return;
                }
                tokio::time::sleep_until(until).await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| SimError::Timeout(timeout))
    }

    /// Everything of the server's audio that has finished playing, in order.
    pub fn heard_mulaw(&self) -> Vec<u8> {
        self.shared.lock().heard.clone()
    }

    pub fn events(&self) -> Vec<PhoneEvent> {
        self.shared.lock().events.clone()
    }

    /// Total decoded bytes of `media` received from the server (played or not).
    pub fn media_bytes_received(&self) -> u64 {
        self.shared.lock().media_bytes_received
    }

    /// Every `media` frame sent so far.
    pub fn sent_frames(&self) -> Vec<SentFrame> {
        self.shared.lock().sent_frames.clone()
    }

    /// How many frames were skipped as malformed or unknown.
    pub fn malformed_count(&self) -> usize {
        self.shared.lock().observation().malformed()
    }
}

impl Drop for MediaStreamClient {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.abort();
        }
        if let Some(receiver) = self.receiver.take() {
            receiver.abort();
        }
    }
}

/// `ms` milliseconds of a sine at `freq_hz`, 8 kHz μ-law, at about -10 dBFS.
fn tone(freq_hz: f32, ms: u64) -> Vec<u8> {
    let samples: Vec<i16> = (0..ms * BYTES_PER_MS)
        .map(|n| {
            let t = n as f32 / 8000.0;
            ((std::f32::consts::TAU * freq_hz * t).sin() * 10_000.0) as i16
        })
        .collect();
    let mut out = Vec::with_capacity(samples.len());
    voice::mulaw::encode(&samples, &mut out);
    out
}

/// The line task: the 20 ms clock (playout + caller frames) and every message we send.
async fn run_line(
    shared: Arc<Shared>,
    mut sink: WsSink,
    mut commands: mpsc::UnboundedReceiver<Command>,
    ids: Ids,
) -> Result<(), SimError> {
    // `start` was number 1.
    let mut sequence_number = 1u64;
    let mut next_seq = || {
        sequence_number += 1;
        sequence_number
    };
    let mut chunk = 0u64;
    let mut interval = tokio::time::interval_at(shared.start, Duration::from_millis(FRAME_MS));
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);

    loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Command::Dtmf(digit)) => {
                    let msg = Inbound::Dtmf {
                        sequence_number: next_seq(),
                        stream_sid: ids.stream_sid.clone(),
                        dtmf: Dtmf { track: "inbound_track".into(), digit: digit.to_string() },
                    };
                    send(&mut sink, &msg).await?;
                }
                Some(Command::EchoMark(name)) => {
                    send(&mut sink, &mark_echo(next_seq(), &ids.stream_sid, &name)).await?;
                    shared.record(PhoneEventKind::MarkEchoed { name });
                }
                Some(Command::HangUp) => {
                    shared.lock().hung_up = true;
                    let msg = Inbound::Stop {
                        sequence_number: next_seq(),
                        stream_sid: ids.stream_sid.clone(),
                        stop: StopPayload {
                            account_sid: ids.account_sid.clone(),
                            call_sid: ids.call_sid.clone(),
                        },
                    };
                    send(&mut sink, &msg).await?;
                    sink.close().await?;
                    return Ok(());
                }
                Some(Command::Shutdown) | None => return Ok(()),
            },
            _ = interval.tick() => {
                chunk += 1;
                let timestamp_ms = (chunk - 1) * FRAME_MS;
                let (echoes, frame) = {
                    let mut state = shared.lock();
                    (state.play_tick(timestamp_ms), state.next_caller_frame(timestamp_ms))
                };
                for name in echoes {
                    send(&mut sink, &mark_echo(next_seq(), &ids.stream_sid, &name)).await?;
                    shared.record(PhoneEventKind::MarkEchoed { name });
                }
                let sequence_number = next_seq();
                let msg = Inbound::Media {
                    sequence_number,
                    stream_sid: ids.stream_sid.clone(),
                    media: InboundMedia {
                        track: "inbound".into(),
                        chunk,
                        timestamp: timestamp_ms,
                        payload: STANDARD.encode(&frame),
                    },
                };
                send(&mut sink, &msg).await?;
                let sent_at_ms = shared.elapsed_ms();
                shared.lock().sent_frames.push(SentFrame {
                    sequence_number,
                    chunk,
                    timestamp_ms,
                    sent_at_ms,
                    payload: frame,
                });
                shared.notify();
            }
        }
    }
}

fn mark_echo(sequence_number: u64, stream_sid: &str, name: &str) -> Inbound {
    Inbound::Mark {
        sequence_number,
        stream_sid: stream_sid.to_owned(),
        mark: Mark {
            name: name.to_owned(),
        },
    }
}

async fn send(sink: &mut WsSink, msg: &Inbound) -> Result<(), SimError> {
    sink.send(Message::text(msg.to_json())).await.map_err(|e| {
        tracing::debug!(error = %e, "media stream send failed; the line stops");
        SimError::from(e)
    })
}

/// The receiver task: reads the server's frames until the stream ends.
async fn run_receiver(
    shared: Arc<Shared>,
    mut source: WsSource,
    commands: mpsc::UnboundedSender<Command>,
    stream_sid: String,
) {
    while let Some(frame) = source.next().await {
        match frame {
            Ok(Message::Text(text)) => handle_text(&shared, &commands, &stream_sid, &text),
            Ok(Message::Binary(bytes)) => {
                malformed(&shared, format!("binary frame of {} bytes", bytes.len()))
            }
            Ok(Message::Close(_)) => break,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Err(e) => {
                tracing::debug!(error = %e, "media stream read failed");
                break;
            }
        }
    }
    let hung_up = {
        let mut state = shared.lock();
        state.closed = true;
        state.hung_up
    };
    if hung_up {
        shared.notify();
    } else {
        shared.record(PhoneEventKind::ServerClosed);
    }
    let _ = commands.send(Command::Shutdown);
}

fn malformed(shared: &Shared, reason: String) {
    tracing::warn!(%reason, "skipping a media stream frame the phone cannot use");
    shared.record(PhoneEventKind::Malformed { reason });
}

fn handle_text(
    shared: &Shared,
    commands: &mpsc::UnboundedSender<Command>,
    stream_sid: &str,
    text: &str,
) {
    let msg = match media_stream::parse_outbound(text) {
        Ok(Some(msg)) => msg,
        Ok(None) => return malformed(shared, "unknown event".into()),
        Err(e) => return malformed(shared, e.to_string()),
    };
    let sid = match &msg {
        Outbound::Media { stream_sid, .. }
        | Outbound::Mark { stream_sid, .. }
        | Outbound::Clear { stream_sid } => stream_sid,
    };
    if sid != stream_sid {
        return malformed(shared, format!("streamSid {sid:?} is not this stream's"));
    }
    match msg {
        Outbound::Media { media, .. } => {
            let bytes = match STANDARD.decode(media.payload.as_bytes()) {
                Ok(bytes) => bytes,
                Err(e) => return malformed(shared, format!("media payload is not base64: {e}")),
            };
            let n = bytes.len();
            {
                let mut state = shared.lock();
                state.enqueued_total += n as u64;
                state.media_bytes_received += n as u64;
                state.playout.extend(bytes);
                state.last_media_at = Some(Instant::now());
            }
            shared.record(PhoneEventKind::MediaReceived { bytes: n });
        }
        Outbound::Mark { mark, .. } => {
            shared.record(PhoneEventKind::MarkReceived {
                name: mark.name.clone(),
            });
            let mut state = shared.lock();
            if state.enqueued_total <= state.played_total {
                // Nothing queued before it: Twilio echoes at once.
                drop(state);
                let _ = commands.send(Command::EchoMark(mark.name));
            } else {
                let offset = state.enqueued_total;
                state.pending_marks.push_back((offset, mark.name));
            }
        }
        Outbound::Clear { .. } => {
            let (dropped, flushed) = {
                let mut state = shared.lock();
                let dropped = state.playout.len() + state.in_flight.len();
                state.playout.clear();
                state.in_flight.clear();
                state.enqueued_total = state.played_total;
                let flushed: Vec<String> = state
                    .pending_marks
                    .drain(..)
                    .map(|(_, name)| name)
                    .collect();
                (dropped, flushed)
            };
            shared.record(PhoneEventKind::ClearReceived {
                dropped_bytes: dropped,
            });
            for name in flushed {
                let _ = commands.send(Command::EchoMark(name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

    const SIGNED_URL: &str = "wss://voice.example/twilio/media";
    const TOKEN: &str = "test-auth-token";
    const STEP: Duration = Duration::from_secs(5);

    type ServerWs = WebSocketStream<TcpStream>;

    struct Accepted {
        ws: ServerWs,
        signature: Option<String>,
    }

    /// A one-connection WebSocket server on 127.0.0.1:0 that, like our API, refuses the
    /// upgrade with 403 unless `X-Twilio-Signature` is right for `TOKEN` and `SIGNED_URL`.
    async fn serve_one() -> (String, oneshot::Receiver<Accepted>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/twilio/media", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let expected = telephony::compute_signature(TOKEN, SIGNED_URL, &[]);
            let mut seen = None;
            #[allow(
                clippy::result_large_err,
                reason = "the handshake callback signature is tungstenite's"
            )]
            let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                seen = req
                    .headers()
                    .get("X-Twilio-Signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if seen.as_deref() == Some(expected.as_str()) {
                    Ok(resp)
                } else {
                    let mut refusal = ErrorResponse::new(Some("bad signature".into()));
                    *refusal.status_mut() = http::StatusCode::FORBIDDEN;
                    Err(refusal)
                }
            };
            if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                let _ = tx.send(Accepted {
                    ws,
                    signature: seen,
                });
            }
        });
        (url, rx)
    }

    fn config(ws_url: &str) -> StreamConfig {
        let mut cfg = StreamConfig::new(ws_url, SIGNED_URL);
        cfg.auth_token = Some(TOKEN.into());
        cfg.account_sid = "ACtest".into();
        cfg.call_sid = "CAtest".into();
        cfg.stream_sid = "MZtest".into();
        cfg.custom_parameters = BTreeMap::from([
            ("callSid".to_owned(), "CAtest".to_owned()),
            ("tenantId".to_owned(), "tenant-1".to_owned()),
        ]);
        cfg
    }

    /// Connects a phone and reads `connected` and `start` on the server side.
    async fn call() -> (MediaStreamClient, ServerWs, Value) {
        let (url, accepted) = serve_one().await;
        let client = MediaStreamClient::connect(config(&url)).await.unwrap();
        let mut ws = accepted.await.unwrap().ws;
        let connected = next_json(&mut ws).await;
        assert_eq!(connected["event"], "connected");
        let start = next_json(&mut ws).await;
        assert_eq!(start["event"], "start");
        (client, ws, start)
    }

    /// The next text frame from the phone, as JSON; `Value::Null` once the stream ended.
    async fn next_json(ws: &mut ServerWs) -> Value {
        loop {
            let frame = tokio::time::timeout(STEP, ws.next())
                .await
                .expect("the phone went silent");
            match frame {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Value::Null,
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next frame that is not `media`.
    async fn next_non_media(ws: &mut ServerWs) -> Value {
        loop {
            let msg = next_json(ws).await;
            if msg["event"] != "media" {
                return msg;
            }
        }
    }

    async fn send_out(ws: &mut ServerWs, msg: Outbound) {
        ws.send(Message::text(msg.to_json())).await.unwrap();
    }

    /// `n` bytes of recognisable (non-silent) μ-law.
    fn audio(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 200) as u8).collect()
    }

    fn payload_of(media: &Value) -> Vec<u8> {
        STANDARD
            .decode(media["media"]["payload"].as_str().unwrap())
            .unwrap()
    }

    #[tokio::test]
    async fn refused_upgrade_exposes_the_http_status() {
        let (url, _accepted) = serve_one().await;
        let mut cfg = config(&url);
        cfg.auth_token = Some("wrong-token".into());
        let err = MediaStreamClient::connect(cfg).await.err().unwrap();
        assert_eq!(
            err.http_status(),
            Some(http::StatusCode::FORBIDDEN),
            "{err}"
        );

        let (url, _accepted) = serve_one().await;
        let mut cfg = config(&url);
        cfg.auth_token = None;
        let err = MediaStreamClient::connect(cfg).await.err().unwrap();
        assert_eq!(
            err.http_status(),
            Some(http::StatusCode::FORBIDDEN),
            "{err}"
        );
    }

    #[tokio::test]
    async fn signs_the_upgrade_and_opens_with_connected_then_start() {
        let (url, accepted) = serve_one().await;
        let _client = MediaStreamClient::connect(config(&url)).await.unwrap();
        let Accepted { mut ws, signature } = accepted.await.unwrap();
        assert_eq!(
            signature.unwrap(),
            telephony::compute_signature(TOKEN, SIGNED_URL, &[])
        );
        assert_eq!(
            next_json(&mut ws).await,
            serde_json::json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        );
        assert_eq!(
            next_json(&mut ws).await,
            serde_json::json!({
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": "MZtest",
                "start": {
                    "accountSid": "ACtest",
                    "streamSid": "MZtest",
                    "callSid": "CAtest",
                    "tracks": ["inbound"],
                    "customParameters": {"callSid": "CAtest", "tenantId": "tenant-1"},
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                }
            })
        );
        let first = next_json(&mut ws).await;
        assert_eq!(first["event"], "media");
        assert_eq!(first["sequenceNumber"], "2");
        assert_eq!(first["media"]["track"], "inbound");
        assert_eq!(first["media"]["chunk"], "1");
        assert_eq!(first["media"]["timestamp"], "0");
        assert_eq!(payload_of(&first), vec![SILENCE; FRAME_BYTES]);
    }

    #[tokio::test]
    async fn sends_a_frame_every_20ms_with_twilio_numbering() {
        let (client, mut ws, _) = call().await;
        let window = Instant::now();
        let mut frames = Vec::new();
        while window.elapsed() < Duration::from_secs(1) {
            let msg = next_json(&mut ws).await;
            assert_eq!(msg["event"], "media");
            frames.push(msg);
        }
        // Loose: CI machines are busy. The numbering below is exact.
        assert!(
            (40..=60).contains(&frames.len()),
            "{} frames in 1 s",
            frames.len()
        );
        let num = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
        for (i, pair) in frames.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            assert_eq!(
                num(&b["sequenceNumber"]),
                num(&a["sequenceNumber"]) + 1,
                "frame {i}"
            );
            assert_eq!(num(&b["media"]["chunk"]), num(&a["media"]["chunk"]) + 1);
            assert_eq!(
                num(&b["media"]["timestamp"]),
                num(&a["media"]["timestamp"]) + FRAME_MS
            );
        }
        for frame in &frames {
            let chunk = num(&frame["media"]["chunk"]);
            assert_eq!(num(&frame["media"]["timestamp"]), (chunk - 1) * FRAME_MS);
            assert_eq!(num(&frame["sequenceNumber"]), chunk + 1, "start was 1");
            assert_eq!(payload_of(frame), vec![SILENCE; FRAME_BYTES]);
        }
        let sent = client.sent_frames();
        assert!(sent.len() >= frames.len());
        assert_eq!(sent[0].chunk, 1);
        assert_eq!(sent[0].sequence_number, 2);
    }

    #[tokio::test]
    async fn caller_audio_goes_out_in_order_padded_with_silence() {
        let (client, mut ws, _) = call().await;
        let speech = audio(400);
        client.say(speech.clone());
        let mut got = Vec::new();
        while got.len() < 3 * FRAME_BYTES {
            let msg = next_json(&mut ws).await;
            let payload = payload_of(&msg);
            assert_eq!(payload.len(), FRAME_BYTES);
            if got.is_empty() && payload.iter().all(|&b| b == SILENCE) {
                continue;
            }
            got.extend(payload);
        }
        assert_eq!(&got[..400], &speech[..]);
        assert!(got[400..].iter().all(|&b| b == SILENCE));

        client.say_tone(440.0, 100);
        let mut tone_frames = 0;
        loop {
            let payload = payload_of(&next_json(&mut ws).await);
            if payload.iter().all(|&b| b == SILENCE) {
                if tone_frames > 0 {
                    break;
                }
            } else {
                tone_frames += 1;
            }
        }
        assert_eq!(tone_frames, 5, "100 ms of tone is five frames");
    }

    #[test]
    fn tone_is_8_bytes_per_ms_and_not_silence() {
        let t = tone(440.0, 100);
        assert_eq!(t.len(), 800);
        assert!(t.iter().filter(|&&b| b != SILENCE).count() > 700);
    }

    #[tokio::test]
    async fn mark_is_echoed_only_after_its_audio_has_played() {
        let (client, mut ws, _) = call().await;
        let sent = audio(8000);
        let t0 = Instant::now();
        for frame in sent.chunks(FRAME_BYTES) {
            send_out(&mut ws, Outbound::media("MZtest", frame)).await;
        }
        send_out(&mut ws, Outbound::mark("MZtest", "one-second")).await;

        // Half way: received, partly heard, not echoed.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let heard = client.heard_mulaw().len();
        assert!(heard > 0 && heard < 8000, "heard {heard} after 0.5 s");
        assert!(
            !client
                .events()
                .iter()
                .any(|e| matches!(e.kind, PhoneEventKind::MarkEchoed { .. }))
        );

        let echo = next_non_media(&mut ws).await;
        let waited = t0.elapsed();
        assert_eq!(echo["event"], "mark");
        assert_eq!(echo["mark"]["name"], "one-second");
        assert_eq!(echo["streamSid"], "MZtest");
        // 50 frames at 20 ms: never early; 900 ms allows for a burst after a stalled runtime.
        assert!(
            waited >= Duration::from_millis(900),
            "echoed after {waited:?}"
        );
        assert_eq!(client.heard_mulaw(), sent);
        assert_eq!(client.media_bytes_received(), 8000);
        let events = client.events();
        let received = events
            .iter()
            .position(|e| {
                e.kind
                    == PhoneEventKind::MarkReceived {
                        name: "one-second".into(),
                    }
            })
            .unwrap();
        let echoed = events
            .iter()
            .position(|e| {
                e.kind
                    == PhoneEventKind::MarkEchoed {
                        name: "one-second".into(),
                    }
            })
            .unwrap();
        assert!(received < echoed);
        assert!(events[echoed].at_ms - events[received].at_ms >= 900);
    }

    #[tokio::test]
    async fn clear_drops_unplayed_audio_and_echoes_pending_marks_at_once() {
        let (client, mut ws, _) = call().await;
        send_out(&mut ws, Outbound::media("MZtest", &audio(16_000))).await;
        send_out(&mut ws, Outbound::mark("MZtest", "two-seconds")).await;
        client
            .wait_for(|o| o.heard_ms() >= 200, STEP)
            .await
            .unwrap();

        let t_clear = Instant::now();
        send_out(&mut ws, Outbound::clear("MZtest")).await;
        let echo = next_non_media(&mut ws).await;
        assert_eq!(echo["mark"]["name"], "two-seconds");
        assert!(
            t_clear.elapsed() < Duration::from_millis(500),
            "{:?}",
            t_clear.elapsed()
        );

        let heard = client.heard_mulaw();
        assert!(heard.len() < 16_000);
        assert_eq!(heard, audio(16_000)[..heard.len()].to_vec());
        let dropped = client
            .events()
            .iter()
            .find_map(|e| match e.kind {
                PhoneEventKind::ClearReceived { dropped_bytes } => Some(dropped_bytes),
                _ => None,
            })
            .unwrap();
        assert_eq!(heard.len() + dropped, 16_000);

        // Playback goes on normally after a clear.
        send_out(&mut ws, Outbound::media("MZtest", &audio(320))).await;
        send_out(&mut ws, Outbound::mark("MZtest", "after-clear")).await;
        let echo = next_non_media(&mut ws).await;
        assert_eq!(echo["mark"]["name"], "after-clear");
        assert_eq!(client.heard_mulaw().len(), heard.len() + 320);
    }

    #[tokio::test]
    async fn mark_with_nothing_queued_is_echoed_at_once() {
        let (client, mut ws, _) = call().await;
        send_out(&mut ws, Outbound::mark("MZtest", "empty")).await;
        let t0 = Instant::now();
        let echo = next_non_media(&mut ws).await;
        assert_eq!(echo["mark"]["name"], "empty");
        assert!(t0.elapsed() < Duration::from_millis(500));
        assert!(client.heard_mulaw().is_empty());
    }

    #[tokio::test]
    async fn garbage_frames_are_counted_and_the_call_goes_on() {
        let (client, mut ws, _) = call().await;
        ws.send(Message::text("not json")).await.unwrap();
        ws.send(Message::text(r#"{"event":"party"}"#))
            .await
            .unwrap();
        ws.send(Message::text(r#"{"event":"media","streamSid":"MZtest"}"#))
            .await
            .unwrap();
        ws.send(Message::text(
            r#"{"event":"media","streamSid":"MZtest","media":{"payload":"@@@"}}"#,
        ))
        .await
        .unwrap();
        send_out(&mut ws, Outbound::media("MZother", &audio(160))).await;
        ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
        send_out(&mut ws, Outbound::mark("MZtest", "still-here")).await;

        let echo = next_non_media(&mut ws).await;
        assert_eq!(echo["mark"]["name"], "still-here");
        assert_eq!(client.malformed_count(), 6, "{:?}", client.events());
        assert_eq!(client.media_bytes_received(), 0);
        for _ in 0..3 {
            assert_eq!(next_json(&mut ws).await["event"], "media");
        }
    }

    #[tokio::test]
    async fn dtmf_then_hang_up_sends_stop_and_closes() {
        let (client, mut ws, _) = call().await;
        client.press('5').unwrap();
        assert!(matches!(
            client.press('x'),
            Err(SimError::InvalidDigit('X'))
        ));
        let dtmf = next_non_media(&mut ws).await;
        assert_eq!(
            dtmf["dtmf"],
            serde_json::json!({"track": "inbound_track", "digit": "5"})
        );
        assert_eq!(dtmf["streamSid"], "MZtest");
        let dtmf_seq: u64 = dtmf["sequenceNumber"].as_str().unwrap().parse().unwrap();

        let server = async move {
            let stop = next_non_media(&mut ws).await;
            let after = next_non_media(&mut ws).await;
            (stop, after)
        };
        let (hung_up, (stop, after)) = tokio::join!(client.hang_up(), server);
        hung_up.unwrap();
        assert_eq!(stop["event"], "stop");
        assert_eq!(
            stop["stop"],
            serde_json::json!({"accountSid": "ACtest", "callSid": "CAtest"})
        );
        let stop_seq: u64 = stop["sequenceNumber"].as_str().unwrap().parse().unwrap();
        assert!(stop_seq > dtmf_seq);
        assert_eq!(after, Value::Null, "the socket closes after stop");
    }

    #[tokio::test]
    async fn server_close_is_observed() {
        let (client, mut ws, _) = call().await;
        ws.close(None).await.unwrap();
        client.wait_closed(STEP).await.unwrap();
        assert!(
            client
                .events()
                .iter()
                .any(|e| e.kind == PhoneEventKind::ServerClosed)
        );
        assert!(matches!(client.press('1'), Err(SimError::StreamEnded)));
        assert!(matches!(client.hang_up().await, Err(SimError::StreamEnded)));
    }

    #[tokio::test]
    async fn wait_until_quiet_waits_for_the_server_to_stop_talking() {
        let (client, mut ws, _) = call().await;
        send_out(&mut ws, Outbound::media("MZtest", &audio(160))).await;
        client
            .wait_for(
                |o| {
                    o.events
                        .iter()
                        .any(|e| matches!(e.kind, PhoneEventKind::MediaReceived { .. }))
                },
                STEP,
            )
            .await
            .unwrap();
        let t0 = Instant::now();
        client
            .wait_until_quiet(Duration::from_millis(200), STEP)
            .await
            .unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(150));
        assert!(matches!(
            client
                .wait_for(|o| o.clear_received(), Duration::from_millis(50))
                .await,
            Err(SimError::Timeout(_))
        ));
    }

    #[tokio::test]
    async fn voice_turns_time_the_answer_on_the_media_clock() {
        let (client, mut ws, _) = call().await;
        let mut utterance = crate::speech::silence(100);
        utterance.extend(crate::speech::tone(440.0, 400));
        utterance.extend(crate::speech::silence(100));
        client.say(utterance);
        // The server waits for the caller's voice to end, then answers 300 ms later.
        let mut voiced = false;
        let end_ts = loop {
            let msg = next_json(&mut ws).await;
            if msg["event"] != "media" {
                continue;
            }
            let frame_voiced = crate::person::is_voiced(&payload_of(&msg));
            if frame_voiced {
                voiced = true;
            } else if voiced {
                break msg["media"]["timestamp"]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap();
            }
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut answer = crate::speech::silence(40);
        answer.extend(crate::speech::tone(300.0, 200));
        send_out(&mut ws, Outbound::media("MZtest", &answer)).await;
        client
            .wait_for(|o| o.heard_bytes >= answer.len(), STEP)
            .await
            .unwrap();
        let turns = client.voice_turns();
        assert_eq!(turns.len(), 1, "{turns:?}");
        assert_eq!((turns[0].turn, turns[0].said_end_ms), (1, end_ts));
        // 300 ms of the server's wait + 40 ms of leading silence, up to one 20 ms tick late
        // (plus scheduling).
        let after = turns[0].after_ms().unwrap();
        assert!((340..=400).contains(&after), "{turns:?}");
        // A second utterance nobody answers is unanswered once the call is over.
        client.say(crate::speech::tone(440.0, 100));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let turns = client.finish_voice_turns();
        assert_eq!(turns.len(), 2, "{turns:?}");
        assert_eq!(turns[1].outcome, crate::person::TurnOutcome::Unanswered);
    }
}
