//! The call bridge: pumps one Twilio media stream to and from one voice engine.
//!
//! Transport-agnostic: the bridge reads Twilio's text frames from any `Stream<Item = String>`
//! and writes ours to an `mpsc::Sender<String>`, so the API's WebSocket handler, the tests and
//! the benchmark all drive the same code. What it does:
//!
//! - caller audio (`media`) goes to the engine as it arrives; a full engine drops the frame
//!   (counted) rather than stall the socket;
//! - agent audio is queued and **paced** at real time, one 160-byte μ-law frame per 20 ms;
//!   after the last frame of each utterance a `mark` is sent, and Twilio's echo of it says the
//!   caller heard the whole utterance;
//! - **barge-in**: when the engine hears the caller start speaking while agent audio is queued
//!   or playing, the bridge sends `clear` at once, drops what is queued, tells the engine how much
//!   of the utterance was heard ([`EngineInput::Interrupt`]), and records the agent's transcript
//!   segment as interrupted at that point;
//! - tool calls and cascaded user turns go to the call workflow as Updates ([`CallControl`]),
//!   concurrently, and their results go back to the engine; DTMF, transcript batches, stream
//!   start/stop and "the goodbye was heard" go to the workflow as Signals, in order;
//! - a malformed frame is logged and skipped; it never ends the call.

use crate::{
    engine::{EngineEvent, EngineInput, EngineSession},
    mulaw::SILENCE,
};
use domain::{
    Speaker, TranscriptSegment,
    conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn},
};
use futures::{Stream, StreamExt};
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};
use telephony::media_stream::{
    FRAME_BYTES, FRAME_MS, Inbound, Outbound, StartPayload, parse_inbound,
};
use tokio::{
    sync::mpsc,
    time::{Instant, MissedTickBehavior},
};

/// Segments are sent to the workflow when this many are waiting …
const TRANSCRIPT_BATCH_SEGMENTS: usize = 4;
/// … or when the oldest has waited this long.
const TRANSCRIPT_BATCH_DELAY: Duration = Duration::from_secs(2);
/// What the agent says when the workflow could not answer a turn.
const TURN_FAILED_REPLY: &str = "Sorry, something went wrong on my side. Could you repeat that?";

/// The call workflow, as the bridge sees it. The API implements it with Temporal Signals and
/// Updates on `call-{CallSid}`; tests and benchmarks use their own.
#[async_trait::async_trait]
pub trait CallControl: Send + Sync + 'static {
    async fn stream_started(&self, stream_sid: &str) -> Result<(), ControlError>;
    async fn transcript(&self, segments: Vec<TranscriptSegment>) -> Result<(), ControlError>;
    async fn dtmf(&self, digit: char) -> Result<(), ControlError>;
    /// Run a tool the model asked for (a workflow Update).
    async fn tool_call(&self, request: ToolCallRequest) -> Result<ToolCallResult, ControlError>;
    /// Answer a cascaded engine's user turn (a workflow Update running the LLM activity).
    async fn user_turn(&self, turn: UserTurn) -> Result<TurnReply, ControlError>;
    /// The agent's goodbye after `end_call` has been heard; the workflow hangs up.
    async fn goodbye_played(&self) -> Result<(), ControlError>;
    async fn stream_stopped(&self) -> Result<(), ControlError>;
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ControlError(pub String);

/// A stream whose `start` has arrived.
#[derive(Debug, Clone)]
pub struct StreamStart {
    pub stream_sid: String,
    pub start: StartPayload,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the media stream closed before `start`")]
    ClosedBeforeStart,
    #[error("no `start` within {0:?}")]
    Timeout(Duration),
}

/// Reads frames until Twilio's `start`, skipping `connected`, unknown and malformed frames.
pub async fn await_start<S>(inbound: &mut S, timeout: Duration) -> Result<StreamStart, StartError>
where
    S: Stream<Item = String> + Unpin,
{
    let wait = async {
        while let Some(text) = inbound.next().await {
            match parse_inbound(&text) {
                Ok(Some(Inbound::Start {
                    stream_sid, start, ..
                })) => return Ok(StreamStart { stream_sid, start }),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "skipping malformed frame before start"),
            }
        }
        Err(StartError::ClosedBeforeStart)
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or(Err(StartError::Timeout(timeout)))
}

/// Counters of one bridged stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeReport {
    pub frames_in: u64,
    pub frames_out: u64,
    /// Caller frames dropped because the engine was not keeping up.
    pub frames_dropped: u64,
    pub malformed_frames: u64,
    pub marks_sent: u64,
    pub marks_heard: u64,
    pub barge_ins: u64,
    pub tool_calls: u64,
    pub user_turns: u64,
    pub dtmf_digits: u64,
    /// Why the bridge stopped.
    pub ended_by: EndedBy,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EndedBy {
    /// Twilio sent `stop`.
    #[default]
    Stop,
    /// The socket closed without `stop`.
    SocketClosed,
    /// The engine failed or closed.
    Engine,
}

/// Runs the bridge until the stream stops, the socket closes or the engine ends.
pub async fn run_bridge<S>(
    start: StreamStart,
    engine: EngineSession,
    control: Arc<dyn CallControl>,
    mut inbound: S,
    outbound: mpsc::Sender<String>,
) -> BridgeReport
where
    S: Stream<Item = String> + Unpin,
{
    let EngineSession {
        input: engine_input,
        events: mut engine_events,
        local_barge_in,
    } = engine;
    let mut local_vad = local_barge_in.then(crate::vad::Vad::default);
    let mut pcm = Vec::with_capacity(FRAME_BYTES);
    let call_sid = start.start.call_sid.clone();
    let signals = SignalQueue::spawn(control.clone());
    signals.send(Signal::StreamStarted(start.stream_sid.clone()));
    let (results_tx, mut results_rx) = mpsc::channel::<WorkflowAnswer>(16);
    let mut state = BridgeState::new(start.stream_sid, Instant::now());
    let mut pacer = tokio::time::interval(Duration::from_millis(FRAME_MS));
    pacer.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut report = BridgeReport::default();
    // A cascaded turn's latency, in two parts: the workflow's answer (Update, LLM activity,
    // tools), then the engine's first audio of the reply (text-to-speech).
    let mut reply_pending_since: Option<Instant> = None;

    loop {
        tokio::select! {
            frame = inbound.next() => {
                let Some(text) = frame else {
                    report.ended_by = EndedBy::SocketClosed;
                    break;
                };
                match parse_inbound(&text) {
                    Err(e) => {
                        report.malformed_frames += 1;
                        tracing::warn!(%call_sid, error = %e, "skipping malformed media stream frame");
                    }
                    Ok(None) | Ok(Some(Inbound::Connected { .. } | Inbound::Start { .. } | Inbound::Unknown)) => {}
                    Ok(Some(Inbound::Media { media, .. })) => {
                        if media.track != "inbound" && !media.track.is_empty() {
                            continue;
                        }
                        match media.decode_payload() {
                            Ok(audio) => {
                                report.frames_in += 1;
                                if let Some(vad) = local_vad.as_mut() {
                                    pcm.clear();
                                    crate::mulaw::decode(&audio, &mut pcm);
                                    if vad.push(&pcm) == Some(crate::vad::VadEvent::SpeechStarted)
                                        && !caller_started_speaking(&mut state, &outbound, &engine_input, &mut report).await
                                    {
                                        report.ended_by = EndedBy::SocketClosed;
                                        break;
                                    }
                                }
                                if engine_input.try_send(EngineInput::Audio(audio)).is_err() {
                                    report.frames_dropped += 1;
                                }
                            }
                            Err(e) => {
                                report.malformed_frames += 1;
                                tracing::warn!(%call_sid, error = %e, "skipping media frame with a bad payload");
                            }
                        }
                    }
                    Ok(Some(Inbound::Dtmf { dtmf, .. })) => {
                        if let Some(digit) = dtmf.digit.chars().next() {
                            report.dtmf_digits += 1;
                            let _ = engine_input.send(EngineInput::Dtmf(digit)).await;
                            signals.send(Signal::Dtmf(digit));
                        }
                    }
                    Ok(Some(Inbound::Mark { mark, .. })) => {
                        if let Some(item) = state.mark_heard(&mark.name) {
                            report.marks_heard += 1;
                            state.finish_agent_segment(&item, false);
                            if state.goodbye_heard(&item) {
                                signals.send(Signal::GoodbyePlayed);
                            }
                        }
                    }
                    Ok(Some(Inbound::Stop { .. })) => {
                        report.ended_by = EndedBy::Stop;
                        break;
                    }
                }
            }
            event = engine_events.recv() => {
                let Some(event) = event else {
                    tracing::warn!(%call_sid, "voice engine closed");
                    report.ended_by = EndedBy::Engine;
                    break;
                };
                match event {
                    EngineEvent::AgentAudio { item_id, mulaw } => {
                        if let Some(since) = reply_pending_since.take() {
                            tracing::info!(%call_sid, %item_id, tts_first_audio_ms = since.elapsed().as_millis() as u64, "first audio of the reply");
                        }
                        state.queue_audio(&item_id, &mulaw);
                        // Whatever the wall clock already allows goes out now, not on the next tick.
                        if !send_due(&mut state, &outbound, &mut report).await {
                            report.ended_by = EndedBy::SocketClosed;
                            break;
                        }
                    }
                    EngineEvent::AgentAudioDone { item_id } => state.queue_mark(&item_id),
                    EngineEvent::AgentTranscript { item_id, text } => state.agent_text(&item_id, text),
                    EngineEvent::CallerSpeechStarted => {
                        if !caller_started_speaking(&mut state, &outbound, &engine_input, &mut report).await {
                            report.ended_by = EndedBy::SocketClosed;
                            break;
                        }
                    }
                    EngineEvent::CallerTranscript { text } => state.caller_text(text),
                    EngineEvent::UserTurn { text } => {
                        report.user_turns += 1;
                        let turn = UserTurn { text, at_ms: state.now_ms() };
                        let (control, results) = (control.clone(), results_tx.clone());
                        let call_sid = call_sid.clone();
                        tokio::spawn(async move {
                            let asked = Instant::now();
                            let answer = control.user_turn(turn).await;
                            tracing::info!(%call_sid, workflow_ms = asked.elapsed().as_millis() as u64, ok = answer.is_ok(), "user turn answered");
                            let _ = results.send(WorkflowAnswer::Turn(answer)).await;
                        });
                    }
                    EngineEvent::ToolCall { call_id, name, arguments } => {
                        report.tool_calls += 1;
                        let request = ToolCallRequest { call_id, name, arguments };
                        let (control, results) = (control.clone(), results_tx.clone());
                        tokio::spawn(async move {
                            let answer = control.tool_call(request.clone()).await;
                            let _ = results.send(WorkflowAnswer::Tool(request, answer)).await;
                        });
                    }
                    EngineEvent::Failed { message } => {
                        tracing::error!(%call_sid, %message, "voice engine failed");
                        report.ended_by = EndedBy::Engine;
                        break;
                    }
                }
            }
            Some(answer) = results_rx.recv() => {
                let input = match answer {
                    WorkflowAnswer::Tool(request, Ok(result)) => {
                        if result.end_call {
                            state.end_after_next_utterance();
                        }
                        EngineInput::ToolResult { call_id: request.call_id, name: request.name, output: result.output }
                    }
                    WorkflowAnswer::Tool(request, Err(e)) => {
                        tracing::warn!(%call_sid, tool = %request.name, error = %e, "tool call rejected");
                        let output = serde_json::json!({"error": e.0}).to_string();
                        EngineInput::ToolResult { call_id: request.call_id, name: request.name, output }
                    }
                    WorkflowAnswer::Turn(Ok(reply)) => {
                        if reply.end_call {
                            state.end_after_next_utterance();
                        }
                        if reply.text.trim().is_empty() {
                            // The agent stays quiet on purpose (the caller is keying digits).
                            continue;
                        }
                        reply_pending_since = Some(Instant::now());
                        EngineInput::Say { text: reply.text }
                    }
                    WorkflowAnswer::Turn(Err(e)) => {
                        tracing::warn!(%call_sid, error = %e, "user turn failed");
                        EngineInput::Say { text: TURN_FAILED_REPLY.into() }
                    }
                };
                let _ = engine_input.send(input).await;
            }
            _ = pacer.tick() => {
                if !send_due(&mut state, &outbound, &mut report).await {
                    report.ended_by = EndedBy::SocketClosed;
                    break;
                }
                if state.transcript_due() {
                    signals.send(Signal::Transcript(state.take_segments()));
                }
            }
        }
    }

    drop(engine_input);
    state.finish_all_agent_segments();
    let segments = state.take_segments();
    if !segments.is_empty() {
        signals.send(Signal::Transcript(segments));
    }
    signals.send(Signal::StreamStopped);
    signals.finish().await;
    tracing::info!(%call_sid, ?report, "media stream bridged");
    report
}

/// The caller started talking. If agent audio is queued or playing, Twilio is told to `clear`
/// at once and the engine how much of the utterance was heard. `false`: the socket is gone.
async fn caller_started_speaking(
    state: &mut BridgeState,
    outbound: &mpsc::Sender<String>,
    engine_input: &mpsc::Sender<EngineInput>,
    report: &mut BridgeReport,
) -> bool {
    state.caller_started();
    let Some((item_id, heard_ms)) = state.barge_in() else {
        return true;
    };
    report.barge_ins += 1;
    if outbound
        .send(Outbound::clear(&state.stream_sid).to_json())
        .await
        .is_err()
    {
        return false;
    }
    let _ = engine_input
        .send(EngineInput::Interrupt { item_id, heard_ms })
        .await;
    true
}

/// Sends what the pacer says is due. `false`: the socket is gone.
async fn send_due(
    state: &mut BridgeState,
    outbound: &mpsc::Sender<String>,
    report: &mut BridgeReport,
) -> bool {
    for message in state.next_frame() {
        let json = match &message {
            Paced::Frame(frame) => {
                report.frames_out += 1;
                Outbound::media(&state.stream_sid, frame).to_json()
            }
            Paced::Mark(name) => {
                report.marks_sent += 1;
                Outbound::mark(&state.stream_sid, name.as_str()).to_json()
            }
        };
        if outbound.send(json).await.is_err() {
            return false;
        }
    }
    true
}

enum WorkflowAnswer {
    Tool(ToolCallRequest, Result<ToolCallResult, ControlError>),
    Turn(Result<TurnReply, ControlError>),
}

/// Signals to the workflow, delivered in order by one task so a transcript batch never
/// overtakes `stream_started` or follows `stream_stopped`.
enum Signal {
    StreamStarted(String),
    Transcript(Vec<TranscriptSegment>),
    Dtmf(char),
    GoodbyePlayed,
    StreamStopped,
}

struct SignalQueue {
    tx: mpsc::UnboundedSender<Signal>,
    task: tokio::task::JoinHandle<()>,
}

impl SignalQueue {
    fn spawn(control: Arc<dyn CallControl>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Signal>();
        let task = tokio::spawn(async move {
            while let Some(signal) = rx.recv().await {
                let (what, result) = match signal {
                    Signal::StreamStarted(sid) => {
                        ("stream_started", control.stream_started(&sid).await)
                    }
                    Signal::Transcript(segments) => {
                        ("transcript", control.transcript(segments).await)
                    }
                    Signal::Dtmf(digit) => ("dtmf", control.dtmf(digit).await),
                    Signal::GoodbyePlayed => ("goodbye_played", control.goodbye_played().await),
                    Signal::StreamStopped => ("stream_stopped", control.stream_stopped().await),
                };
                if let Err(e) = result {
                    tracing::warn!(signal = what, error = %e, "could not signal the call workflow");
                }
            }
        });
        Self { tx, task }
    }

    fn send(&self, signal: Signal) {
        // The task only ends after `finish`, so this cannot fail before then.
        let _ = self.tx.send(signal);
    }

    async fn finish(self) {
        drop(self.tx);
        if tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .is_err()
        {
            tracing::warn!("gave up delivering the last signals of a media stream");
        }
    }
}

/// One thing the pacer sends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Paced {
    Frame(Vec<u8>),
    Mark(String),
}

/// Queued agent output: audio of an utterance, or the mark that closes it.
#[derive(Debug)]
enum Queued {
    Audio { item: String, bytes: VecDeque<u8> },
    Mark { item: String },
}

/// An agent utterance from its first audio to the mark echo (or barge-in).
#[derive(Debug, Default)]
struct Utterance {
    seq: u64,
    text: Option<String>,
    /// Milliseconds since stream start when its first frame was sent.
    started_ms: Option<u64>,
    sent_bytes: u64,
    heard: bool,
    finished: bool,
}

/// Everything the bridge knows; no I/O, so it can be unit-tested frame by frame.
struct BridgeState {
    stream_sid: String,
    epoch: Instant,
    queue: VecDeque<Queued>,
    utterances: HashMap<String, Utterance>,
    /// When the current run of agent audio started playing, and how much of it has been sent:
    /// frames go out as fast as the wall clock allows, so a late tick is caught up on the next
    /// one instead of becoming permanent delay. `None` while nothing is queued.
    playout: Option<(Instant, u64)>,
    /// Utterances cut off by the caller: their late audio is dropped.
    interrupted: HashSet<String>,
    /// The utterance whose frames are being sent (or were sent last and not yet heard).
    playing: Option<String>,
    marks_outstanding: HashMap<String, String>,
    mark_counter: u64,
    next_seq: u64,
    /// `end_call`: the first utterance with a seq at or above this is the goodbye.
    goodbye_from_seq: Option<u64>,
    goodbye_signalled: bool,
    caller_started_ms: Option<u64>,
    segments: Vec<TranscriptSegment>,
    oldest_segment_ms: Option<u64>,
}

impl BridgeState {
    fn new(stream_sid: String, epoch: Instant) -> Self {
        Self {
            stream_sid,
            epoch,
            queue: VecDeque::new(),
            playout: None,
            utterances: HashMap::new(),
            interrupted: HashSet::new(),
            playing: None,
            marks_outstanding: HashMap::new(),
            mark_counter: 0,
            next_seq: 0,
            goodbye_from_seq: None,
            goodbye_signalled: false,
            caller_started_ms: None,
            segments: Vec::new(),
            oldest_segment_ms: None,
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn utterance(&mut self, item: &str) -> &mut Utterance {
        if !self.utterances.contains_key(item) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.utterances.insert(
                item.to_owned(),
                Utterance {
                    seq,
                    ..Utterance::default()
                },
            );
        }
        self.utterances.get_mut(item).expect("inserted above")
    }

    fn queue_audio(&mut self, item: &str, mulaw: &[u8]) {
        if self.interrupted.contains(item) || mulaw.is_empty() {
            return;
        }
        self.utterance(item);
        match self.queue.back_mut() {
            Some(Queued::Audio { item: last, bytes }) if last == item => bytes.extend(mulaw),
            _ => self.queue.push_back(Queued::Audio {
                item: item.to_owned(),
                bytes: mulaw.iter().copied().collect(),
            }),
        }
    }

    fn queue_mark(&mut self, item: &str) {
        if self.interrupted.contains(item) {
            return;
        }
        if !self.utterances.contains_key(item) {
            // An utterance without audio (e.g. text only): nothing for the caller to hear.
            return;
        }
        self.queue.push_back(Queued::Mark {
            item: item.to_owned(),
        });
    }

    fn agent_text(&mut self, item: &str, text: String) {
        if text.trim().is_empty() {
            return;
        }
        let utterance = self.utterance(item);
        match &mut utterance.text {
            Some(existing) => {
                existing.push(' ');
                existing.push_str(text.trim());
            }
            None => utterance.text = Some(text.trim().to_owned()),
        }
        // The words came after the utterance was heard or cut off: record it now.
        if utterance.heard {
            let interrupted = self.interrupted.contains(item);
            self.finish_agent_segment(item, interrupted);
        }
    }

    /// The frames (each followed by any marks that close an utterance) due by now: one per
    /// 20 ms of wall clock since the current run of audio started, so pacing is real time and
    /// a late tick catches up instead of adding delay for the rest of the call.
    fn next_frame(&mut self) -> Vec<Paced> {
        let mut out = Vec::new();
        // Marks at the head (an utterance whose last frame went out on the previous tick).
        self.drain_marks(&mut out);
        if !self.has_audio() {
            self.playout = None;
            return out;
        }
        let now = Instant::now();
        let (started, sent_ms) = *self.playout.get_or_insert((now, 0));
        let due_ms = now.duration_since(started).as_millis() as u64 + FRAME_MS;
        let mut sent = sent_ms;
        while sent < due_ms && self.send_one_frame(&mut out) {
            sent += FRAME_MS;
        }
        self.playout = Some((started, sent));
        out
    }

    /// True while agent audio waits to be sent.
    fn has_audio(&self) -> bool {
        self.queue.iter().any(|q| matches!(q, Queued::Audio { .. }))
    }

    fn send_one_frame(&mut self, out: &mut Vec<Paced>) -> bool {
        let now = self.now_ms();
        if let Some(Queued::Audio { item, bytes }) = self.queue.front_mut() {
            let n = bytes.len().min(FRAME_BYTES);
            let mut frame: Vec<u8> = bytes.drain(..n).collect();
            frame.resize(FRAME_BYTES, SILENCE);
            let item = item.clone();
            if bytes.is_empty() {
                self.queue.pop_front();
            }
            let utterance = self.utterance(&item);
            utterance.started_ms.get_or_insert(now);
            utterance.sent_bytes += n as u64;
            self.playing = Some(item);
            out.push(Paced::Frame(frame));
            self.drain_marks(out);
            true
        } else {
            false
        }
    }

    fn drain_marks(&mut self, out: &mut Vec<Paced>) {
        while let Some(Queued::Mark { item }) = self.queue.front() {
            let item = item.clone();
            self.queue.pop_front();
            self.mark_counter += 1;
            let name = format!("{}:{item}", self.mark_counter);
            self.marks_outstanding.insert(name.clone(), item);
            out.push(Paced::Mark(name));
        }
    }

    /// Twilio echoed a mark: the utterance it closes was heard in full.
    fn mark_heard(&mut self, name: &str) -> Option<String> {
        let item = self.marks_outstanding.remove(name)?;
        if let Some(u) = self.utterances.get_mut(&item) {
            u.heard = true;
        }
        if self.playing.as_deref() == Some(item.as_str()) {
            self.playing = None;
        }
        Some(item)
    }

    /// The caller started speaking. If agent audio is queued or still playing, cut it:
    /// returns the utterance and how much of it was heard.
    fn barge_in(&mut self) -> Option<(String, u64)> {
        let queued = self.queue.iter().any(|q| matches!(q, Queued::Audio { .. }));
        let playing = self
            .playing
            .clone()
            .filter(|item| self.utterances.get(item).is_some_and(|u| !u.heard));
        let item = playing.or_else(|| {
            self.queue.iter().find_map(|q| match q {
                Queued::Audio { item, .. } => Some(item.clone()),
                Queued::Mark { .. } => None,
            })
        })?;
        if !queued && self.marks_outstanding.values().all(|i| i != &item) {
            // Everything was sent and its mark came back: nothing is playing.
            return None;
        }
        let now = self.now_ms();
        let heard_ms = {
            let u = self.utterance(&item);
            let sent_ms = u.sent_bytes * FRAME_MS / FRAME_BYTES as u64;
            let elapsed = u.started_ms.map(|s| now.saturating_sub(s)).unwrap_or(0);
            sent_ms.min(elapsed)
        };
        // Drop everything queued, and every mark for audio the caller will not hear.
        let dropped: Vec<String> = self
            .queue
            .drain(..)
            .map(|q| match q {
                Queued::Audio { item, .. } | Queued::Mark { item } => item,
            })
            .collect();
        self.marks_outstanding.clear();
        self.playing = None;
        self.playout = None;
        for cut in dropped.into_iter().chain(std::iter::once(item.clone())) {
            if self.interrupted.insert(cut.clone()) {
                self.finish_agent_segment(&cut, true);
            }
        }
        Some((item, heard_ms))
    }

    fn end_after_next_utterance(&mut self) {
        self.goodbye_from_seq.get_or_insert(self.next_seq);
    }

    /// True once, when the utterance after `end_call` has been heard.
    fn goodbye_heard(&mut self, item: &str) -> bool {
        let (Some(from), Some(u)) = (self.goodbye_from_seq, self.utterances.get(item)) else {
            return false;
        };
        if self.goodbye_signalled || u.seq < from || !self.queue.is_empty() {
            return false;
        }
        self.goodbye_signalled = true;
        true
    }

    fn caller_started(&mut self) {
        self.caller_started_ms.get_or_insert(self.now_ms());
    }

    fn caller_text(&mut self, text: String) {
        if text.trim().is_empty() {
            return;
        }
        let end_ms = self.now_ms();
        let start_ms = self.caller_started_ms.take().unwrap_or(end_ms);
        self.push_segment(TranscriptSegment {
            speaker: Speaker::Caller,
            text: text.trim().to_owned(),
            start_ms,
            end_ms,
            interrupted: false,
        });
    }

    /// Records an agent utterance in the transcript (once), with its heard duration.
    fn finish_agent_segment(&mut self, item: &str, interrupted: bool) {
        let now = self.now_ms();
        let Some(u) = self.utterances.get_mut(item) else {
            return;
        };
        if u.finished {
            return;
        }
        let Some(text) = u.text.clone() else {
            // The words may still come; the segment is written when they do.
            if interrupted {
                u.heard = true;
            }
            return;
        };
        u.finished = true;
        let start_ms = u.started_ms.unwrap_or(now);
        let played_ms = u.sent_bytes * FRAME_MS / FRAME_BYTES as u64;
        let end_ms = if interrupted {
            now.min(start_ms + played_ms)
        } else {
            (start_ms + played_ms).max(start_ms).min(now.max(start_ms))
        };
        self.push_segment(TranscriptSegment {
            speaker: Speaker::Agent,
            text,
            start_ms,
            end_ms,
            interrupted,
        });
    }

    fn finish_all_agent_segments(&mut self) {
        let mut pending: Vec<(u64, String)> = self
            .utterances
            .iter()
            .filter(|(_, u)| !u.finished && u.text.is_some())
            .map(|(item, u)| (u.seq, item.clone()))
            .collect();
        pending.sort();
        for (_, item) in pending {
            let interrupted = self.interrupted.contains(&item)
                || self.utterances.get(&item).is_some_and(|u| !u.heard);
            self.finish_agent_segment(&item, interrupted);
        }
    }

    fn push_segment(&mut self, segment: TranscriptSegment) {
        self.oldest_segment_ms.get_or_insert(self.now_ms());
        self.segments.push(segment);
    }

    fn transcript_due(&self) -> bool {
        self.segments.len() >= TRANSCRIPT_BATCH_SEGMENTS
            || self.oldest_segment_ms.is_some_and(|t| {
                self.now_ms().saturating_sub(t) >= TRANSCRIPT_BATCH_DELAY.as_millis() as u64
            })
    }

    fn take_segments(&mut self) -> Vec<TranscriptSegment> {
        self.oldest_segment_ms = None;
        let mut segments = std::mem::take(&mut self.segments);
        segments.sort_by_key(|s| s.start_ms);
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> BridgeState {
        BridgeState::new("MZ1".into(), Instant::now())
    }

    fn frames(out: &[Paced]) -> usize {
        out.iter().filter(|p| matches!(p, Paced::Frame(_))).count()
    }

    #[tokio::test(start_paused = true)]
    async fn audio_leaves_in_160_byte_frames_then_a_mark() {
        let mut s = state();
        s.queue_audio("a", &[1u8; 400]);
        s.queue_mark("a");
        let first = s.next_frame();
        assert_eq!(first, vec![Paced::Frame(vec![1u8; 160])]);
        assert!(
            s.next_frame().is_empty(),
            "the next frame waits for its 20 ms"
        );
        tokio::time::advance(Duration::from_millis(20)).await;
        assert_eq!(frames(&s.next_frame()), 1);
        tokio::time::advance(Duration::from_millis(20)).await;
        let last = s.next_frame();
        let Paced::Frame(frame) = &last[0] else {
            panic!()
        };
        assert_eq!(&frame[..80], &[1u8; 80][..]);
        assert_eq!(
            &frame[80..],
            &[SILENCE; 80][..],
            "last frame padded with silence"
        );
        assert!(matches!(&last[1], Paced::Mark(name) if name.ends_with(":a")));
        assert!(s.next_frame().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_tick_is_caught_up_not_carried_as_delay() {
        let mut s = state();
        s.queue_audio("a", &[1u8; 160 * 20]);
        assert_eq!(frames(&s.next_frame()), 1);
        // The task was not scheduled for 100 ms: the five frames due go out together.
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(frames(&s.next_frame()), 5);
        tokio::time::advance(Duration::from_millis(20)).await;
        assert_eq!(frames(&s.next_frame()), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn barge_in_reports_heard_position_and_drops_the_rest() {
        let mut s = state();
        s.agent_text("a", "Our opening hours are nine to five".into());
        s.queue_audio("a", &[1u8; 160 * 50]);
        s.queue_mark("a");
        for _ in 0..10 {
            s.next_frame();
            tokio::time::advance(Duration::from_millis(20)).await;
        }
        let (item, heard) = s.barge_in().expect("agent audio was playing");
        assert_eq!(item, "a");
        assert_eq!(heard, 200);
        assert!(s.next_frame().is_empty(), "nothing more is sent");
        // Late audio of the cut utterance is dropped.
        s.queue_audio("a", &[1u8; 160]);
        assert!(s.next_frame().is_empty());
        let segments = s.take_segments();
        assert_eq!(segments.len(), 1);
        assert!(segments[0].interrupted);
        assert_eq!(segments[0].end_ms - segments[0].start_ms, 200);
        assert_eq!(s.barge_in(), None, "nothing left to interrupt");
    }

    #[tokio::test(start_paused = true)]
    async fn a_heard_utterance_is_not_interrupted_and_the_goodbye_is_detected() {
        let mut s = state();
        s.queue_audio("a", &[1u8; 160]);
        s.queue_mark("a");
        let out = s.next_frame();
        let Paced::Mark(name) = &out[1] else { panic!() };
        tokio::time::advance(Duration::from_millis(20)).await;
        s.end_after_next_utterance();
        assert_eq!(s.mark_heard(name).as_deref(), Some("a"));
        assert!(
            !s.goodbye_heard("a"),
            "utterance before end_call is not the goodbye"
        );
        assert_eq!(s.barge_in(), None);
        s.agent_text("a", "Hello".into());
        s.queue_audio("bye", &[1u8; 160]);
        s.queue_mark("bye");
        let out = s.next_frame();
        let Paced::Mark(name) = &out[1] else { panic!() };
        assert_eq!(s.mark_heard(name).as_deref(), Some("bye"));
        assert!(s.goodbye_heard("bye"));
        assert!(!s.goodbye_heard("bye"), "signalled once");
        let segments = s.take_segments();
        assert_eq!(segments.len(), 1);
        assert!(!segments[0].interrupted);
    }

    /// Records what the workflow would be told.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl CallControl for Recorder {
        async fn stream_started(&self, sid: &str) -> Result<(), ControlError> {
            self.0.lock().unwrap().push(format!("started {sid}"));
            Ok(())
        }
        async fn transcript(&self, s: Vec<TranscriptSegment>) -> Result<(), ControlError> {
            self.0
                .lock()
                .unwrap()
                .push(format!("transcript {}", s.len()));
            Ok(())
        }
        async fn dtmf(&self, digit: char) -> Result<(), ControlError> {
            self.0.lock().unwrap().push(format!("dtmf {digit}"));
            Ok(())
        }
        async fn tool_call(&self, _: ToolCallRequest) -> Result<ToolCallResult, ControlError> {
            Err(ControlError("no tools here".into()))
        }
        async fn user_turn(&self, _: UserTurn) -> Result<TurnReply, ControlError> {
            Err(ControlError("no turns here".into()))
        }
        async fn goodbye_played(&self) -> Result<(), ControlError> {
            self.0.lock().unwrap().push("goodbye".into());
            Ok(())
        }
        async fn stream_stopped(&self) -> Result<(), ControlError> {
            self.0.lock().unwrap().push("stopped".into());
            Ok(())
        }
    }

    #[tokio::test]
    async fn malformed_frames_are_skipped_and_the_stream_goes_on() {
        use crate::{
            echo::EchoEngine,
            engine::{EngineCall, VoiceEngine},
        };
        use telephony::media_stream::{Dtmf, StopPayload};
        let start = test_start();
        let engine = EchoEngine
            .start(EngineCall {
                call_sid: "CA1".into(),
                instructions: String::new(),
                greeting: String::new(),
                settings: serde_json::Value::Null,
                tools: Vec::new(),
            })
            .await
            .unwrap();
        let (inbound_tx, inbound) = futures::channel::mpsc::unbounded::<String>();
        let (outbound, mut sent) = mpsc::channel(64);
        let control = Arc::new(Recorder::default());
        let bridge = tokio::spawn(run_bridge(
            start,
            engine,
            control.clone(),
            inbound,
            outbound,
        ));

        let frame = vec![0x42u8; FRAME_BYTES];
        for garbage in [
            "not json".to_owned(),
            r#"{"event":"media","streamSid":"MZ1"}"#.to_owned(),
            r#"{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"%%%"}}"#.to_owned(),
            r#"{"event":"something_new"}"#.to_owned(),
        ] {
            inbound_tx.unbounded_send(garbage).unwrap();
        }
        inbound_tx.unbounded_send(media_frame(&frame)).unwrap();
        let dtmf = Inbound::Dtmf {
            sequence_number: 4,
            stream_sid: "MZ1".into(),
            dtmf: Dtmf {
                track: "inbound_track".into(),
                digit: "7".into(),
            },
        };
        inbound_tx.unbounded_send(dtmf.to_json()).unwrap();

        // The echo of the one good frame comes back, whole.
        let echoed = tokio::time::timeout(Duration::from_secs(5), sent.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(echoed, Outbound::media("MZ1", &frame).to_json());

        let stop = Inbound::Stop {
            sequence_number: 5,
            stream_sid: "MZ1".into(),
            stop: StopPayload {
                account_sid: "AC1".into(),
                call_sid: "CA1".into(),
            },
        };
        inbound_tx.unbounded_send(stop.to_json()).unwrap();
        let report = bridge.await.unwrap();
        assert_eq!(report.malformed_frames, 3, "{report:?}");
        assert_eq!(report.frames_in, 1);
        assert_eq!(report.frames_out, 1);
        assert_eq!(report.dtmf_digits, 1);
        assert_eq!(report.ended_by, EndedBy::Stop);
        assert_eq!(
            *control.0.lock().unwrap(),
            ["started MZ1", "dtmf 7", "stopped"]
        );
    }

    fn test_start() -> StreamStart {
        StreamStart {
            stream_sid: "MZ1".into(),
            start: StartPayload {
                account_sid: "AC1".into(),
                stream_sid: "MZ1".into(),
                call_sid: "CA1".into(),
                tracks: vec!["inbound".into()],
                custom_parameters: Default::default(),
                media_format: telephony::media_stream::MediaFormat::twilio_mulaw(),
            },
        }
    }

    fn media_frame(payload: &[u8]) -> String {
        Inbound::Media {
            sequence_number: 1,
            stream_sid: "MZ1".into(),
            media: telephony::media_stream::InboundMedia {
                track: "inbound".into(),
                chunk: 1,
                timestamp: 0,
                payload: base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    payload,
                ),
            },
        }
        .to_json()
    }

    #[tokio::test]
    async fn with_local_barge_in_the_bridge_hears_the_caller_itself() {
        let (mut session, mut engine_inputs, engine_events) = EngineSession::channels(64);
        session.local_barge_in = true;
        let (inbound_tx, inbound) = futures::channel::mpsc::unbounded::<String>();
        let (outbound, mut sent) = mpsc::channel(512);
        let control = Arc::new(Recorder::default());
        let bridge = tokio::spawn(run_bridge(
            test_start(),
            session,
            control,
            inbound,
            outbound,
        ));

        // The engine has finished generating 3 s of audio; it says nothing when the caller talks.
        engine_events
            .send(EngineEvent::AgentAudio {
                item_id: "a1".into(),
                mulaw: vec![0x55; 8 * 3000],
            })
            .await
            .unwrap();
        engine_events
            .send(EngineEvent::AgentAudioDone {
                item_id: "a1".into(),
            })
            .await
            .unwrap();
        for _ in 0..10 {
            inbound_tx
                .unbounded_send(media_frame(&[0xFF; FRAME_BYTES]))
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut tone = Vec::new();
        crate::mulaw::encode(&crate::pcm::sine(440.0, 8000, 20, 0.3), &mut tone);
        for _ in 0..5 {
            inbound_tx.unbounded_send(media_frame(&tone)).unwrap();
        }
        let interrupt = loop {
            match tokio::time::timeout(Duration::from_secs(5), engine_inputs.recv()).await {
                Ok(Some(EngineInput::Interrupt { item_id, heard_ms })) => {
                    break (item_id, heard_ms);
                }
                Ok(Some(_)) => continue,
                other => panic!("no interrupt: {other:?}"),
            }
        };
        assert_eq!(interrupt.0, "a1");
        assert!(interrupt.1 < 3000);
        let mut cleared = false;
        while let Ok(message) = sent.try_recv() {
            cleared |= message == Outbound::clear("MZ1").to_json();
        }
        assert!(cleared, "Twilio was told to clear");
        drop(inbound_tx);
        let report = bridge.await.unwrap();
        assert_eq!(report.barge_ins, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn caller_segments_span_speech_start_to_transcript() {
        let mut s = state();
        tokio::time::advance(Duration::from_millis(1000)).await;
        s.caller_started();
        tokio::time::advance(Duration::from_millis(1500)).await;
        s.caller_text("I'd like to leave a message".into());
        let seg = &s.take_segments()[0];
        assert_eq!((seg.start_ms, seg.end_ms), (1000, 2500));
        assert_eq!(seg.speaker, Speaker::Caller);
    }
}
