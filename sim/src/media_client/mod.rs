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
//! The interval uses [`MissedTickBehavior::Burst`](tokio::time::MissedTickBehavior::Burst): a phone line's media clock does not slow
//! down when our process is descheduled — the late packets arrive back to back. Burst keeps the
//! long-run rate at exactly 50 frames/s, keeps `timestamp` (media time) in step with wall-clock
//! time since the start, and keeps playout (and so mark echoes) at real time. `Delay` would make
//! every stall permanent: fewer frames per second than a real call, timestamps drifting behind
//! the wall clock and marks echoed late.
//!
//! `line` (private) holds the two tasks and the state they share.

mod line;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use domain::Secret;
use futures::{SinkExt as _, StreamExt as _};
use telephony::media_stream::Inbound;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::SimError;
use crate::person::{Turn, voiced_span};
use line::{Command, Ids, Shared, WsStream};

/// μ-law bytes per millisecond at 8 kHz.
const BYTES_PER_MS: u64 = 8;
/// How long `hang_up` waits for the server's answer to our close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Level of [`MediaStreamClient::say_tone`]: about -10 dBFS.
const TONE_AMPLITUDE: f32 = 10_000.0 / 32_767.0;

/// Where and as whom the simulated phone connects.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// Where to connect, e.g. `ws://127.0.0.1:3000/twilio/media`.
    pub ws_url: String,
    /// The public URL Twilio would sign, e.g. `wss://voice.example/twilio/media`.
    pub signed_url: String,
    /// The account's auth token; `None` sends no `X-Twilio-Signature`.
    pub auth_token: Option<Secret<String>>,
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
        let ws = open(&cfg).await?;
        let (sink, source) = ws.split();
        let shared = Arc::new(Shared::new(Instant::now()));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let ids = Ids {
            account_sid: cfg.account_sid,
            call_sid: cfg.call_sid,
            stream_sid: cfg.stream_sid.clone(),
        };
        let line = tokio::spawn(line::run_line(shared.clone(), sink, command_rx, ids));
        let receiver = tokio::spawn(line::run_receiver(
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

    /// The caller turns decided so far, in order ([`VoiceTurns`](crate::person::VoiceTurns) on the stream's media clock:
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

/// Connects (signed when there is an auth token) and sends `connected` and `start`.
async fn open(cfg: &StreamConfig) -> Result<WsStream, SimError> {
    let mut request = cfg
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| SimError::InvalidConfig(format!("ws_url {:?}: {e}", cfg.ws_url)))?;
    if let Some(token) = &cfg.auth_token {
        let signature = telephony::compute_signature(token.expose(), &cfg.signed_url, &[]);
        let value = HeaderValue::from_str(&signature)
            .map_err(|e| SimError::InvalidConfig(format!("signature header: {e}")))?;
        request.headers_mut().insert("X-Twilio-Signature", value);
    }
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(telephony::media_stream::SOCKET_READ_BUFFER);
    let (mut ws, _response) =
        // A phone line sends each packet as it is due (no Nagle batching of a mark after a frame).
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    for message in Inbound::opening(
        &cfg.account_sid,
        &cfg.call_sid,
        &cfg.stream_sid,
        cfg.custom_parameters.clone(),
    ) {
        ws.send(Message::text(message.to_json())).await?;
    }
    Ok(ws)
}

/// `ms` milliseconds of a sine at `freq_hz`, 8 kHz μ-law, at about -10 dBFS.
fn tone(freq_hz: f32, ms: u64) -> Vec<u8> {
    voice::mulaw::tone(
        freq_hz,
        u32::try_from(ms).unwrap_or(u32::MAX),
        TONE_AMPLITUDE,
    )
}

#[cfg(test)]
mod tests;
