//! The phone's two tasks and the state they share. The *line* task owns the socket's write
//! half and the 20 ms clock: each tick finishes the frame that was playing, echoes the marks it
//! completed, starts the next frame and sends one caller frame; it also sends `dtmf`, mark
//! echoes and `stop`. The *receiver* task reads the server's frames and updates the state.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use telephony::media_stream::{
    self, Dtmf, FRAME_BYTES, FRAME_MS, Inbound, Mark, Outbound, OutboundMedia, StopPayload,
};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voice::mulaw::SILENCE;

use super::{BYTES_PER_MS, Observation, PhoneEvent, PhoneEventKind, SentFrame};
use crate::SimError;
use crate::person::{Turn, VoiceTurns};

pub(super) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;
type WsSink = SplitSink<WsStream, Message>;
type WsSource = SplitStream<WsStream>;

pub(super) struct State {
    /// Caller audio not yet sent.
    pub(super) caller_audio: VecDeque<u8>,
    /// Server audio received, not yet started.
    pub(super) playout: VecDeque<u8>,
    /// The frame playing during the current 20 ms.
    pub(super) in_flight: Vec<u8>,
    /// Total bytes ever put into playout (minus what `clear` dropped): the offset marks wait for.
    pub(super) enqueued_total: u64,
    /// Total bytes that have finished playing.
    pub(super) played_total: u64,
    /// Marks waiting for their audio, with the offset they wait for, in arrival order.
    pub(super) pending_marks: VecDeque<(u64, String)>,
    pub(super) heard: Vec<u8>,
    pub(super) events: Vec<PhoneEvent>,
    pub(super) sent_frames: Vec<SentFrame>,
    pub(super) media_bytes_received: u64,
    pub(super) last_media_at: Option<Instant>,
    pub(super) hung_up: bool,
    pub(super) closed: bool,
    /// Caller audio bytes ever queued / ever sent (not counting padding).
    pub(super) said_total: u64,
    pub(super) sent_audio_total: u64,
    /// Where each queued utterance's voice starts (`true`) and ends, as offsets into all
    /// caller audio ever queued, in order.
    pub(super) utterance_marks: VecDeque<(u64, bool)>,
    pub(super) turns: VoiceTurns,
    /// Turns decided so far.
    pub(super) turns_done: Vec<Turn>,
}

impl State {
    pub(super) fn observation(&self) -> Observation<'_> {
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

pub(super) struct Shared {
    pub(super) start: Instant,
    state: Mutex<State>,
    /// Bumped on every change a waiter may care about.
    pub(super) changed: watch::Sender<u64>,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub(super) fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(super) fn record(&self, kind: PhoneEventKind) {
        let at_ms = self.elapsed_ms();
        self.lock().events.push(PhoneEvent { at_ms, kind });
        self.notify();
    }
}

impl State {
    fn new() -> Self {
        Self {
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
        }
    }
}

impl Shared {
    pub(super) fn new(start: Instant) -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            start,
            state: Mutex::new(State::new()),
            changed,
        }
    }
}

pub(super) enum Command {
    Dtmf(char),
    EchoMark(String),
    HangUp,
    /// The receiver saw the stream end.
    Shutdown,
}

pub(super) struct Ids {
    pub account_sid: String,
    pub call_sid: String,
    pub stream_sid: String,
}

/// The line task's side of the wire: the sink and the sequence numbers.
struct Line {
    shared: Arc<Shared>,
    sink: WsSink,
    ids: Ids,
    /// The last sequence number sent (`start` was number 1).
    sequence_number: u64,
    /// Media frames sent.
    chunk: u64,
}

impl Line {
    fn next_seq(&mut self) -> u64 {
        self.sequence_number += 1;
        self.sequence_number
    }

    async fn send(&mut self, msg: &Inbound) -> Result<(), SimError> {
        self.sink
            .send(Message::text(msg.to_json()))
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "media stream send failed; the line stops");
                SimError::from(e)
            })
    }

    async fn echo_mark(&mut self, name: String) -> Result<(), SimError> {
        let msg = Inbound::Mark {
            sequence_number: self.next_seq(),
            stream_sid: self.ids.stream_sid.clone(),
            mark: Mark { name: name.clone() },
        };
        self.send(&msg).await?;
        self.shared.record(PhoneEventKind::MarkEchoed { name });
        Ok(())
    }

    /// Carries out a command; `false` when the line is done.
    async fn command(&mut self, command: Option<Command>) -> Result<bool, SimError> {
        match command {
            Some(Command::Dtmf(digit)) => {
                let msg = Inbound::Dtmf {
                    sequence_number: self.next_seq(),
                    stream_sid: self.ids.stream_sid.clone(),
                    dtmf: Dtmf {
                        track: "inbound_track".into(),
                        digit: digit.to_string(),
                    },
                };
                self.send(&msg).await?;
            }
            Some(Command::EchoMark(name)) => self.echo_mark(name).await?,
            Some(Command::HangUp) => {
                self.shared.lock().hung_up = true;
                let msg = Inbound::Stop {
                    sequence_number: self.next_seq(),
                    stream_sid: self.ids.stream_sid.clone(),
                    stop: StopPayload {
                        account_sid: self.ids.account_sid.clone(),
                        call_sid: self.ids.call_sid.clone(),
                    },
                };
                self.send(&msg).await?;
                self.sink.close().await?;
                return Ok(false);
            }
            Some(Command::Shutdown) | None => return Ok(false),
        }
        Ok(true)
    }

    /// One 20 ms tick: playout advances (echoing the marks it completed), one caller frame
    /// goes out.
    async fn tick(&mut self) -> Result<(), SimError> {
        self.chunk += 1;
        let timestamp_ms = (self.chunk - 1) * FRAME_MS;
        let (echoes, frame) = {
            let mut state = self.shared.lock();
            (
                state.play_tick(timestamp_ms),
                state.next_caller_frame(timestamp_ms),
            )
        };
        for name in echoes {
            self.echo_mark(name).await?;
        }
        let sequence_number = self.next_seq();
        let msg = Inbound::media(sequence_number, &self.ids.stream_sid, self.chunk, &frame);
        self.send(&msg).await?;
        let sent_at_ms = self.shared.elapsed_ms();
        self.shared.lock().sent_frames.push(SentFrame {
            sequence_number,
            chunk: self.chunk,
            timestamp_ms,
            sent_at_ms,
            payload: frame,
        });
        self.shared.notify();
        Ok(())
    }
}

/// The line task: the 20 ms clock (playout + caller frames) and every message we send.
pub(super) async fn run_line(
    shared: Arc<Shared>,
    sink: WsSink,
    mut commands: mpsc::UnboundedReceiver<Command>,
    ids: Ids,
) -> Result<(), SimError> {
    let mut interval = tokio::time::interval_at(shared.start, Duration::from_millis(FRAME_MS));
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut line = Line {
        shared,
        sink,
        ids,
        sequence_number: 1,
        chunk: 0,
    };
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => {
                if !line.command(command).await? {
                    return Ok(());
                }
            }
            _ = interval.tick() => line.tick().await?,
        }
    }
}

/// The receiver task: reads the server's frames until the stream ends.
pub(super) async fn run_receiver(
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
        Outbound::Media { media, .. } => on_media(shared, &media),
        Outbound::Mark { mark, .. } => on_mark(shared, commands, mark.name),
        Outbound::Clear { .. } => on_clear(shared, commands),
    }
}

/// Server audio joins the playout buffer.
fn on_media(shared: &Shared, media: &OutboundMedia) {
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

/// A mark waits for the audio queued before it (echoed at once when there is none).
fn on_mark(shared: &Shared, commands: &mpsc::UnboundedSender<Command>, name: String) {
    shared.record(PhoneEventKind::MarkReceived { name: name.clone() });
    let mut state = shared.lock();
    if state.enqueued_total <= state.played_total {
        // Nothing queued before it: Twilio echoes at once.
        drop(state);
        let _ = commands.send(Command::EchoMark(name));
    } else {
        let offset = state.enqueued_total;
        state.pending_marks.push_back((offset, name));
    }
}

/// `clear` drops all unplayed audio and echoes every pending mark at once.
fn on_clear(shared: &Shared, commands: &mpsc::UnboundedSender<Command>) {
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
