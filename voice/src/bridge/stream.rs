//! [`BridgedStream`]: one stream's state, and a handler for each event the bridge's loop
//! receives. A handler returns [`Step`]: go on, or end the bridge and say why.

use super::{
    BridgeReport, EndedBy,
    control::CallControl,
    latency::ReplyLatency,
    playout::Paced,
    signals::{Signal, SignalQueue},
    state::BridgeState,
    transport::{FRAME_BYTES, Outbound, StreamStart, TransportCommand, TransportEvent},
    updates::{self, WorkflowAnswer},
};
use crate::{
    engine::{EngineEvent, EngineInput},
    recording::{CallRecorder, Recording},
    vad::{Vad, VadEvent},
};
use domain::conversation::{ToolCallRequest, UserTurn};
use futures::SinkExt;
use std::{ops::ControlFlow, sync::Arc};
use tokio::{sync::mpsc, time::Instant};

/// What the agent says when the workflow could not answer a turn.
const TURN_FAILED_REPLY: &str = "Sorry, something went wrong on my side. Could you repeat that?";

/// Go on (`Continue`), or end the bridge (`Break`) for this reason.
pub(super) type Step = ControlFlow<EndedBy>;

pub(super) struct BridgedStream {
    call_sid: String,
    state: BridgeState,
    report: BridgeReport,
    engine_input: mpsc::Sender<EngineInput>,
    outbound: Outbound,
    control: Arc<dyn CallControl>,
    signals: SignalQueue,
    answers: mpsc::Sender<WorkflowAnswer>,
    /// The bridge's own voice activity detector, for engines that want local barge-in.
    local_vad: Option<Vad>,
    /// Scratch buffer for the local detector: caller audio decoded to PCM.
    pcm: Vec<i16>,
    /// A cascaded turn's latency, in two parts: the workflow's answer (Update, LLM activity,
    /// tools), then the engine's first audio of the reply (text-to-speech).
    reply_pending_since: Option<Instant>,
    /// Both sides of the call, when the agent records; `None` after an encoder failure.
    recorder: Option<CallRecorder>,
    latency: ReplyLatency,
}

/// The ends of the channels a bridged stream talks through.
pub(super) struct Channels {
    pub(super) engine_input: mpsc::Sender<EngineInput>,
    pub(super) outbound: Outbound,
    pub(super) answers: mpsc::Sender<WorkflowAnswer>,
}

impl BridgedStream {
    /// Starts bridging: tells the workflow the stream started.
    pub(super) fn start(
        start: &StreamStart,
        channels: Channels,
        local_barge_in: bool,
        control: Arc<dyn CallControl>,
        recorder: Option<CallRecorder>,
    ) -> Self {
        let signals = SignalQueue::spawn(control.clone());
        signals.send(Signal::StreamStarted(start.stream_sid.clone()));
        Self {
            call_sid: start.call_sid.clone(),
            state: BridgeState::new(Instant::now()),
            report: BridgeReport::default(),
            engine_input: channels.engine_input,
            outbound: channels.outbound,
            control,
            signals,
            answers: channels.answers,
            local_vad: local_barge_in.then(Vad::default),
            pcm: Vec::with_capacity(FRAME_BYTES),
            reply_pending_since: None,
            recorder,
            latency: ReplyLatency::default(),
        }
    }

    pub(super) async fn on_transport(&mut self, event: Option<TransportEvent>) -> Step {
        let Some(event) = event else {
            return ControlFlow::Break(EndedBy::SocketClosed);
        };
        match event {
            TransportEvent::Media(audio) => return self.on_caller_audio(audio).await,
            TransportEvent::Malformed(e) => {
                self.report.malformed_frames += 1;
                tracing::warn!(call_sid = %self.call_sid, error = %e, "skipping malformed media stream frame");
            }
            TransportEvent::Start(_) | TransportEvent::Ignored => {}
            TransportEvent::Dtmf(digit) => {
                self.report.dtmf_digits += 1;
                let _ = self.engine_input.send(EngineInput::Dtmf(digit)).await;
                self.signals.send(Signal::Dtmf(digit));
            }
            TransportEvent::Mark(name) => self.on_mark_heard(&name),
            TransportEvent::Stop => return ControlFlow::Break(EndedBy::Stop),
        }
        ControlFlow::Continue(())
    }

    /// Caller audio goes to the engine as it arrives; a full engine drops the frame (counted)
    /// rather than stall the transport.
    async fn on_caller_audio(&mut self, audio: Vec<u8>) -> Step {
        self.report.frames_in += 1;
        // One decode per frame, shared by the latency measure and the local detector.
        self.pcm.clear();
        crate::mulaw::decode(&audio, &mut self.pcm);
        self.latency.caller_frame(self.state.now_ms(), &self.pcm);
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.caller_audio(&audio);
        }
        if let Some(vad) = self.local_vad.as_mut()
            && vad.push(&self.pcm) == Some(VadEvent::SpeechStarted)
        {
            self.caller_started_speaking().await?;
        }
        if self
            .engine_input
            .try_send(EngineInput::Audio(audio))
            .is_err()
        {
            self.report.frames_dropped += 1;
        }
        ControlFlow::Continue(())
    }

    fn on_mark_heard(&mut self, name: &str) {
        if let Some(item) = self.state.mark_heard(name) {
            self.report.marks_heard += 1;
            self.state.finish_agent_segment(&item, false);
            if self.state.goodbye_heard(&item) {
                self.signals.send(Signal::GoodbyePlayed);
            }
        }
    }

    pub(super) async fn on_engine(&mut self, event: Option<EngineEvent>) -> Step {
        let Some(event) = event else {
            tracing::warn!(call_sid = %self.call_sid, "voice engine closed");
            return ControlFlow::Break(EndedBy::Engine);
        };
        match event {
            EngineEvent::AgentAudio { item_id, mulaw } => {
                return self.on_agent_audio(&item_id, &mulaw).await;
            }
            EngineEvent::AgentAudioDone { item_id } => self.state.queue_mark(&item_id),
            EngineEvent::AgentTranscript { item_id, text } => self.state.agent_text(&item_id, text),
            EngineEvent::CallerSpeechStarted => return self.caller_started_speaking().await,
            EngineEvent::CallerTranscript { text } => self.state.caller_text(text),
            EngineEvent::UserTurn { text } => self.ask_user_turn(text),
            EngineEvent::ToolCall {
                call_id,
                name,
                arguments,
            } => self.ask_tool_call(ToolCallRequest {
                call_id,
                name,
                arguments,
            }),
            EngineEvent::Failed { message } => {
                tracing::error!(call_sid = %self.call_sid, %message, "voice engine failed");
                return ControlFlow::Break(EndedBy::Engine);
            }
        }
        ControlFlow::Continue(())
    }

    async fn on_agent_audio(&mut self, item_id: &str, mulaw: &[u8]) -> Step {
        if let Some(since) = self.reply_pending_since.take() {
            tracing::info!(call_sid = %self.call_sid, %item_id, tts_first_audio_ms = since.elapsed().as_millis() as u64, "first audio of the reply");
        }
        self.state.queue_audio(item_id, mulaw);
        // Whatever the wall clock already allows goes out now, not on the next tick.
        self.send_due().await
    }

    fn ask_user_turn(&mut self, text: String) {
        self.report.user_turns += 1;
        let turn = UserTurn {
            text,
            at_ms: self.state.now_ms(),
        };
        updates::ask_user_turn(
            self.control.clone(),
            self.answers.clone(),
            turn,
            self.call_sid.clone(),
        );
    }

    fn ask_tool_call(&mut self, request: ToolCallRequest) {
        self.report.tool_calls += 1;
        updates::ask_tool_call(self.control.clone(), self.answers.clone(), request);
    }

    /// The workflow answered an Update: its result goes back to the engine.
    pub(super) async fn on_answer(&mut self, answer: WorkflowAnswer) -> Step {
        if let Some(input) = self.engine_input_for(answer) {
            let _ = self.engine_input.send(input).await;
        }
        ControlFlow::Continue(())
    }

    /// What the engine is told of a workflow answer; `None` when the agent stays quiet.
    fn engine_input_for(&mut self, answer: WorkflowAnswer) -> Option<EngineInput> {
        let input = match answer {
            WorkflowAnswer::Tool(request, Ok(result)) => {
                if result.end_call {
                    self.state.end_after_next_utterance();
                }
                EngineInput::ToolResult {
                    call_id: request.call_id,
                    name: request.name,
                    output: result.output,
                }
            }
            WorkflowAnswer::Tool(request, Err(e)) => {
                tracing::warn!(call_sid = %self.call_sid, tool = %request.name, error = %e, "tool call rejected");
                let output = serde_json::json!({"error": e.0}).to_string();
                EngineInput::ToolResult {
                    call_id: request.call_id,
                    name: request.name,
                    output,
                }
            }
            WorkflowAnswer::Turn(Ok(reply)) => {
                if reply.end_call {
                    self.state.end_after_next_utterance();
                }
                if reply.text.trim().is_empty() {
                    // The agent stays quiet on purpose (the caller is keying digits).
                    return None;
                }
                self.reply_pending_since = Some(Instant::now());
                EngineInput::Say { text: reply.text }
            }
            WorkflowAnswer::Turn(Err(e)) => {
                tracing::warn!(call_sid = %self.call_sid, error = %e, "user turn failed");
                EngineInput::Say {
                    text: TURN_FAILED_REPLY.into(),
                }
            }
        };
        Some(input)
    }

    /// When the bridge must next act with nothing arriving: the next agent frame or mark, the
    /// transcript batch, the recording's next 20 ms. `None`: an idle stream, which sleeps until
    /// the caller, the engine or the workflow has something (no timer wakes it 50 times a
    /// second).
    pub(super) fn next_wake(&self, last_tick: Instant) -> Option<Instant> {
        let recording = self
            .recorder
            .is_some()
            .then(|| last_tick + std::time::Duration::from_millis(super::FRAME_MS));
        [
            self.state.next_playout(),
            self.state.next_transcript(),
            recording,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The pacer's tick: send what is due, and the transcript batch when it is due.
    pub(super) async fn on_tick(&mut self) -> Step {
        self.send_due().await?;
        self.advance_recording();
        if self.state.transcript_due() {
            self.signals
                .send(Signal::Transcript(self.state.take_segments()));
        }
        ControlFlow::Continue(())
    }

    /// The caller started talking. If agent audio is queued or playing, the transport is told
    /// to `clear` at once and the engine how much of the utterance was heard.
    async fn caller_started_speaking(&mut self) -> Step {
        self.state.caller_started();
        let Some((item_id, heard_ms)) = self.state.barge_in() else {
            return ControlFlow::Continue(());
        };
        self.report.barge_ins += 1;
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.agent_cleared(self.state.now_ms());
        }
        self.send(TransportCommand::Clear).await?;
        let _ = self
            .engine_input
            .send(EngineInput::Interrupt { item_id, heard_ms })
            .await;
        ControlFlow::Continue(())
    }

    /// Sends what the pacer says is due.
    async fn send_due(&mut self) -> Step {
        for paced in self.state.next_frame() {
            let command = match paced {
                Paced::Frame(frame) => {
                    self.report.frames_out += 1;
                    self.latency.agent_frame(self.state.now_ms());
                    if let Some(recorder) = self.recorder.as_mut() {
                        recorder.agent_audio(&frame);
                    }
                    TransportCommand::Media(frame)
                }
                Paced::Mark(name) => {
                    self.report.marks_sent += 1;
                    TransportCommand::Mark(name)
                }
            };
            self.send(command).await?;
        }
        ControlFlow::Continue(())
    }

    /// Encodes the recording's slots the clock has passed; a failing encoder stops recording
    /// rather than the call.
    fn advance_recording(&mut self) {
        let now_ms = self.state.now_ms();
        if let Some(Err(e)) = self.recorder.as_mut().map(|r| r.advance(now_ms)) {
            tracing::error!(call_sid = %self.call_sid, error = %e, "recording stopped");
            self.recorder = None;
        }
    }

    async fn send(&mut self, command: TransportCommand) -> Step {
        match self.outbound.send(command).await {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(EndedBy::SocketClosed),
        }
    }

    /// The bridge ended: the rest of the transcript and `stream_stopped` go to the workflow;
    /// the recording, if any, is finished.
    pub(super) async fn finish(self, ended_by: EndedBy) -> (BridgeReport, Option<Recording>) {
        let Self {
            call_sid,
            mut state,
            mut report,
            engine_input,
            signals,
            recorder,
            latency,
            mut outbound,
            ..
        } = self;
        // The transport first: the caller's side is over; the workflow's signals follow.
        let _ = outbound.close().await;
        let recording = recorder.and_then(|r| {
            r.finish(state.now_ms())
                .inspect_err(|e| tracing::error!(%call_sid, error = %e, "recording lost"))
                .ok()
        });
        report.ended_by = ended_by;
        report.reply_latencies_ms = latency.into_samples();
        drop(engine_input);
        state.finish_all_agent_segments();
        let segments = state.take_segments();
        if !segments.is_empty() {
            signals.send(Signal::Transcript(segments));
        }
        signals.send(Signal::StreamStopped);
        signals.finish().await;
        tracing::info!(%call_sid, ?report, "media stream bridged");
        (report, recording)
    }
}
