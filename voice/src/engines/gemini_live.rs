//! Google Gemini Live (`BidiGenerateContent` over WebSocket).
//!
//! Gemini speaks 16-bit PCM: caller audio goes μ-law 8 kHz → PCM → 16 kHz
//! (`audio/pcm;rate=16000`), agent audio comes back as 24 kHz PCM and goes → 8 kHz → μ-law.
//! Each direction has its own [`Resampler`] for the whole session; the output one is flushed
//! at the end of every model turn (its filter delay is dropped at the start of a turn, so a
//! turn's μ-law is exactly as long as the model's audio).
//!
//! Gemini has no utterance ids: every model turn gets a synthetic one, `gemini-turn-<n>`.
//! Transcriptions arrive in pieces and are reported whole at turn boundaries: the caller's
//! when the model starts answering (audio, transcript or tool call) or the turn completes, the
//! agent's when its turn completes or is interrupted. Barge-in is Gemini's own VAD:
//! `serverContent.interrupted` becomes [`EngineEvent::CallerSpeechStarted`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::Secret;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{
    CHANNEL_CAPACITY, CLOSE_GRACE, Ws, await_server, describe_ws_error, frame_text, open_ws,
    send_json, setting_str,
};
use crate::engine::{
    EngineCall, EngineError, EngineEvent, EngineInput, EngineName, EngineSession, VoiceEngine,
};
use crate::resample::Resampler;
use crate::{mulaw, pcm};

/// Sample rate Gemini Live listens at.
const INPUT_RATE: u32 = 16_000;
/// Sample rate of Gemini Live's audio output.
const OUTPUT_RATE: u32 = 24_000;
const INPUT_MIME: &str = "audio/pcm;rate=16000";

/// Where and how to reach Gemini Live.
#[derive(Debug, Clone)]
pub struct GeminiLiveConfig {
    /// WebSocket endpoint, without query (`key` is appended).
    pub url: String,
    /// Sent as the `key` query parameter.
    pub api_key: Secret<String>,
    /// Default model (`models/…`); an agent's `settings.model` overrides it.
    pub model: String,
    /// Default prebuilt voice; an agent's `settings.voice` overrides it.
    pub voice: String,
}

impl GeminiLiveConfig {
    pub const DEFAULT_URL: &'static str = "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
    pub const DEFAULT_MODEL: &'static str = "models/gemini-2.0-flash-live-001";
    pub const DEFAULT_VOICE: &'static str = "Puck";

    /// The public endpoint with the default model and voice.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            api_key: Secret::new(api_key.into()),
            model: Self::DEFAULT_MODEL.to_owned(),
            voice: Self::DEFAULT_VOICE.to_owned(),
        }
    }
}

/// The Gemini Live speech-to-speech engine.
#[derive(Debug, Clone)]
pub struct GeminiLive {
    config: GeminiLiveConfig,
}

impl GeminiLive {
    pub fn new(config: GeminiLiveConfig) -> Self {
        Self { config }
    }
}

/// State shared by the reader and writer tasks of one session.
#[derive(Debug, Default)]
struct Shared {
    /// The turn the bridge interrupted: its remaining audio is dropped.
    cancelled_turn: Mutex<Option<String>>,
    /// The writer has sent (or is sending) a close frame: the connection ending is expected.
    closing: AtomicBool,
}

impl Shared {
    fn is_cancelled(&self, turn: &str) -> bool {
        self.cancelled_turn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            == Some(turn)
    }
}

#[async_trait::async_trait]
impl VoiceEngine for GeminiLive {
    fn name(&self) -> EngineName {
        EngineName::GeminiLive
    }

    async fn start(&self, call: EngineCall) -> Result<EngineSession, EngineError> {
        let config = &self.config;
        if config.api_key.is_empty() {
            return Err(EngineError::NotConfigured(
                "Gemini Live API key is empty".into(),
            ));
        }
        let model = setting_str(&call.settings, "model").unwrap_or(&config.model);
        let model = if model.starts_with("models/") {
            model.to_owned()
        } else {
            format!("models/{model}")
        };
        let voice = setting_str(&call.settings, "voice").unwrap_or(&config.voice);
        let resampler =
            |from, to| Resampler::new(from, to).map_err(|e| EngineError::Protocol(e.to_string()));
        let input_resampler = resampler(8000, INPUT_RATE)?;
        let output_resampler = resampler(OUTPUT_RATE, 8000)?;

        let mut ws = connect(config).await?;
        tracing::info!(call_sid = %call.call_sid, %model, voice, "connected to Gemini Live");

        send_json(&mut ws, &setup_message(&call, &model, voice)).await?;
        await_server(&mut ws, "setupComplete", |message| {
            message.get("setupComplete").map(|_| Ok(()))
        })
        .await?;
        send_json(&mut ws, &greeting_content(&call.greeting)).await?;

        let (mut session, input_rx, event_tx) = EngineSession::channels(CHANNEL_CAPACITY);
        // Gemini reports `interrupted` only while it is still generating; audio it has finished
        // may still be playing for seconds, so the bridge listens for barge-in itself.
        session.local_barge_in = true;
        let shared = Arc::new(Shared::default());
        let (sink, stream) = ws.split();
        let (closed_tx, closed_rx) = oneshot::channel();
        tokio::spawn(write_loop(
            sink,
            input_rx,
            input_resampler,
            Arc::clone(&shared),
            closed_tx,
            call.call_sid.clone(),
        ));
        let turns = Turns::new(output_resampler, Arc::clone(&shared));
        tokio::spawn(read_loop(
            stream,
            event_tx,
            turns,
            shared,
            closed_rx,
            call.call_sid,
        ));
        Ok(session)
    }
}

/// Opens the Live WebSocket, the API key in its URL.
async fn connect(config: &GeminiLiveConfig) -> Result<Ws, EngineError> {
    let mut url = url::Url::parse(&config.url)
        .map_err(|e| EngineError::NotConfigured(format!("invalid Gemini Live URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("key", config.api_key.expose());
    // The URL carries the key: never log it or put it in an error.
    let request = url
        .as_str()
        .into_client_request()
        .map_err(|e| EngineError::NotConfigured(describe_ws_error(&e)))?;
    open_ws(request).await
}

fn setup_message(call: &EngineCall, model: &str, voice: &str) -> Value {
    let mut setup = json!({
        "model": model,
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}},
        },
        "systemInstruction": {"parts": [{"text": call.instructions}]},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
    });
    if !call.tools.is_empty() {
        let declarations: Vec<Value> = call
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                })
            })
            .collect();
        setup["tools"] = json!([{"functionDeclarations": declarations}]);
    }
    json!({"setup": setup})
}

fn user_turn(text: String) -> Value {
    json!({
        "clientContent": {
            "turns": [{"role": "user", "parts": [{"text": text}]}],
            "turnComplete": true,
        }
    })
}

fn greeting_content(greeting: &str) -> Value {
    if greeting.trim().is_empty() {
        return user_turn("The call has just been answered. Greet the caller.".into());
    }
    user_turn(format!(
        "The call has just been answered. Greet the caller by saying exactly this, then wait \
         for their answer: \"{greeting}\""
    ))
}

/// What `output` of a tool becomes in a `functionResponse`: the JSON object itself, anything
/// else wrapped as `{"result": …}`.
fn function_response(output: &str) -> Value {
    match serde_json::from_str::<Value>(output) {
        Ok(object @ Value::Object(_)) => object,
        Ok(other) => json!({"result": other}),
        Err(_) => json!({"result": output}),
    }
}

/// The client message for one input, if any.
fn client_message(
    input: EngineInput,
    resampler: &mut Resampler,
    scratch: &mut Vec<i16>,
    shared: &Shared,
) -> Option<Value> {
    match input {
        EngineInput::Audio(payload) => {
            scratch.clear();
            mulaw::decode(&payload, scratch);
            let mut resampled = Vec::with_capacity(scratch.len() * 2);
            resampler.process(scratch, &mut resampled);
            (!resampled.is_empty()).then(|| {
                json!({
                    "realtimeInput": {
                        "audio": {
                            "data": BASE64.encode(pcm::i16_to_le_bytes(&resampled)),
                            "mimeType": INPUT_MIME,
                        }
                    }
                })
            })
        }
        EngineInput::Dtmf(digit) => Some(user_turn(format!(
            "The caller pressed {digit} on their phone keypad."
        ))),
        EngineInput::Interrupt { item_id, heard_ms } => {
            // Gemini knows what it generated and stops on its own VAD; only stop forwarding.
            tracing::debug!(%item_id, heard_ms, "dropping the rest of an interrupted Gemini turn");
            *shared
                .cancelled_turn
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(item_id);
            None
        }
        EngineInput::ToolResult {
            call_id,
            name,
            output,
        } => Some(json!({
            "toolResponse": {
                "functionResponses": [{
                    "id": call_id,
                    "name": name,
                    "response": function_response(&output),
                }]
            }
        })),
        EngineInput::Say { text } => Some(user_turn(format!(
            "Say exactly this to the caller, nothing else: \"{text}\""
        ))),
    }
}

/// Turn bookkeeping of the reader: synthetic item ids, transcripts, output resampling.
struct Turns {
    shared: Arc<Shared>,
    resampler: Resampler,
    turn_count: u64,
    /// The model turn being produced, if any.
    current: Option<String>,
    /// `AgentAudioDone` was already reported for `current`.
    audio_done: bool,
    /// Output samples still to drop at the start of the turn (the resampler's delay).
    skip: usize,
    agent_text: String,
    caller_text: String,
    samples: Vec<i16>,
    resampled: Vec<i16>,
}

impl Turns {
    fn new(resampler: Resampler, shared: Arc<Shared>) -> Self {
        Self {
            shared,
            resampler,
            turn_count: 0,
            current: None,
            audio_done: false,
            skip: 0,
            agent_text: String::new(),
            caller_text: String::new(),
            samples: Vec::new(),
            resampled: Vec::new(),
        }
    }

    /// The current model turn's id, starting a turn if none is running.
    fn turn(&mut self) -> String {
        if let Some(id) = &self.current {
            return id.clone();
        }
        self.turn_count += 1;
        let id = format!("gemini-turn-{}", self.turn_count);
        self.current = Some(id.clone());
        self.audio_done = false;
        self.skip = self.resampler.delay_samples();
        id
    }

    fn flush_caller(&mut self, out: &mut Vec<EngineEvent>) {
        let text = self.caller_text.trim();
        if !text.is_empty() {
            out.push(EngineEvent::CallerTranscript {
                text: text.to_owned(),
            });
        }
        self.caller_text.clear();
    }

    /// Resampled output → μ-law → `AgentAudio` (after dropping the turn's leading delay).
    fn emit_resampled(&mut self, item_id: &str, out: &mut Vec<EngineEvent>) {
        let skip = self.skip.min(self.resampled.len());
        self.skip -= skip;
        if self.resampled.len() > skip && !self.shared.is_cancelled(item_id) {
            let mut bytes = Vec::with_capacity(self.resampled.len() - skip);
            mulaw::encode(&self.resampled[skip..], &mut bytes);
            out.push(EngineEvent::AgentAudio {
                item_id: item_id.to_owned(),
                mulaw: bytes,
            });
        }
        self.resampled.clear();
    }

    fn audio(&mut self, base64_pcm: &str, out: &mut Vec<EngineEvent>) {
        self.flush_caller(out);
        let item_id = self.turn();
        let bytes = match BASE64.decode(base64_pcm) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "skipping Gemini audio that is not base64");
                return;
            }
        };
        self.samples = pcm::i16_from_le_bytes(&bytes);
        self.resampler.process(&self.samples, &mut self.resampled);
        self.emit_resampled(&item_id, out);
    }

    /// The model produced all audio of the current turn.
    fn finish_audio(&mut self, out: &mut Vec<EngineEvent>) {
        let Some(item_id) = self.current.clone() else {
            return;
        };
        if self.audio_done {
            return;
        }
        self.audio_done = true;
        self.resampler.flush(&mut self.resampled);
        self.emit_resampled(&item_id, out);
        out.push(EngineEvent::AgentAudioDone { item_id });
    }

    /// The current turn is over (completed or interrupted).
    fn finish_turn(&mut self, out: &mut Vec<EngineEvent>) {
        self.flush_caller(out);
        self.finish_audio(out);
        if let Some(item_id) = self.current.take() {
            let text = self.agent_text.trim();
            if !text.is_empty() {
                out.push(EngineEvent::AgentTranscript {
                    item_id,
                    text: text.to_owned(),
                });
            }
        }
        self.agent_text.clear();
    }

    /// The engine events for one server message.
    fn handle(&mut self, message: &Value) -> Vec<EngineEvent> {
        let mut out = Vec::new();
        if let Some(content) = message.get("serverContent") {
            self.server_content(content, &mut out);
        } else if let Some(tool_call) = message.get("toolCall") {
            self.flush_caller(&mut out);
            tool_calls(tool_call, &mut out);
        } else if let Some(cancelled) = message.get("toolCallCancellation") {
            tracing::info!(ids = %cancelled["ids"], "Gemini cancelled tool calls");
        } else if let Some(go_away) = message.get("goAway") {
            tracing::warn!(time_left = %go_away["timeLeft"], "Gemini Live will close the session soon");
        } else if message.get("setupComplete").is_none() && message.get("usageMetadata").is_none() {
            tracing::debug!("ignoring an unknown Gemini Live message");
        }
        out
    }

    /// `serverContent`: transcriptions, the model's audio, and the turn's milestones.
    fn server_content(&mut self, content: &Value, out: &mut Vec<EngineEvent>) {
        if let Some(text) = content
            .pointer("/inputTranscription/text")
            .and_then(Value::as_str)
        {
            self.caller_text.push_str(text);
        }
        let parts = content
            .pointer("/modelTurn/parts")
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            let Some(inline) = part.get("inlineData") else {
                continue; // text or thought parts: the transcript is what counts
            };
            let mime = inline.get("mimeType").and_then(Value::as_str).unwrap_or("");
            match inline.get("data").and_then(Value::as_str) {
                Some(data) if mime.starts_with("audio/pcm") => self.audio(data, out),
                _ => tracing::debug!(mime, "ignoring non-audio inline data from Gemini"),
            }
        }
        if let Some(text) = content
            .pointer("/outputTranscription/text")
            .and_then(Value::as_str)
        {
            self.flush_caller(out);
            self.turn();
            self.agent_text.push_str(text);
        }
        let flag = |name: &str| content.get(name).and_then(Value::as_bool) == Some(true);
        if flag("interrupted") {
            out.push(EngineEvent::CallerSpeechStarted);
            self.finish_turn(out);
        }
        if flag("generationComplete") {
            self.finish_audio(out);
        }
        if flag("turnComplete") {
            self.finish_turn(out);
        }
    }
}

/// `toolCall`: the model's function calls, as engine events.
fn tool_calls(tool_call: &Value, out: &mut Vec<EngineEvent>) {
    let calls = tool_call.get("functionCalls").and_then(Value::as_array);
    for call in calls.into_iter().flatten() {
        let Some(name) = call.get("name").and_then(Value::as_str) else {
            tracing::warn!("skipping a Gemini function call without a name");
            continue;
        };
        let call_id = call.get("id").and_then(Value::as_str).unwrap_or(name);
        let arguments = call
            .get("args")
            .map_or_else(|| "{}".to_owned(), Value::to_string);
        out.push(EngineEvent::ToolCall {
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments,
        });
    }
}

async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut input: mpsc::Receiver<EngineInput>,
    mut resampler: Resampler,
    shared: Arc<Shared>,
    closed: oneshot::Sender<()>,
    call_sid: String,
) {
    let mut scratch = Vec::with_capacity(160);
    while let Some(next) = input.recv().await {
        let Some(message) = client_message(next, &mut resampler, &mut scratch, &shared) else {
            continue;
        };
        if let Err(e) = sink.send(Message::text(message.to_string())).await {
            tracing::warn!(%call_sid, error = %describe_ws_error(&e), "Gemini Live send failed");
            return;
        }
    }
    tracing::debug!(%call_sid, "engine input closed; closing the Gemini Live connection");
    shared.closing.store(true, Ordering::Release);
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "call ended".into(),
    };
    if let Err(e) = sink.send(Message::Close(Some(frame))).await {
        tracing::debug!(%call_sid, error = %describe_ws_error(&e), "close frame not sent");
    }
    let _ = closed.send(());
}

async fn read_loop(
    mut stream: SplitStream<Ws>,
    events: mpsc::Sender<EngineEvent>,
    mut turns: Turns,
    shared: Arc<Shared>,
    closed: oneshot::Receiver<()>,
    call_sid: String,
) {
    let deadline = async {
        let _ = closed.await;
        tokio::time::sleep(CLOSE_GRACE).await;
    };
    tokio::pin!(deadline);
    let failure = 'read: loop {
        let message = tokio::select! {
            message = stream.next() => message,
            () = &mut deadline => break None,
        };
        let message = match message {
            None => break Some("connection closed".to_owned()),
            Some(Err(e)) => break Some(describe_ws_error(&e)),
            Some(Ok(Message::Close(frame))) => {
                break Some(match frame {
                    Some(f) => format!("connection closed: {} {}", f.code, f.reason),
                    None => "connection closed".to_owned(),
                });
            }
            Some(Ok(message)) => message,
        };
        let text = match frame_text(&message) {
            None => continue,
            Some(Ok(text)) => text,
            Some(Err(_)) => {
                tracing::warn!(%call_sid, "skipping a binary Gemini frame that is not UTF-8");
                continue;
            }
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => {
                tracing::warn!(%call_sid, error = %e, "skipping a malformed Gemini Live frame");
                continue;
            }
        };
        for event in turns.handle(&value) {
            if events.send(event).await.is_err() {
                tracing::debug!(%call_sid, "engine events dropped by the bridge");
                break 'read None;
            }
        }
    };
    if let Some(message) = failure {
        if shared.closing.load(Ordering::Acquire) {
            tracing::debug!(%call_sid, "Gemini Live connection closed");
        } else {
            tracing::warn!(%call_sid, %message, "Gemini Live connection ended unexpectedly");
            let _ = events.send(EngineEvent::Failed { message }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio_message(ms: u32) -> Value {
        let samples = crate::pcm::sine(440.0, OUTPUT_RATE, ms, 8000.0);
        json!({"serverContent": {"modelTurn": {"parts": [{"inlineData": {
            "mimeType": "audio/pcm;rate=24000",
            "data": BASE64.encode(pcm::i16_to_le_bytes(&samples)),
        }}]}}})
    }

    fn turns() -> Turns {
        Turns::new(
            Resampler::new(OUTPUT_RATE, 8000).unwrap(),
            Arc::new(Shared::default()),
        )
    }

    fn audio_bytes(events: &[EngineEvent]) -> usize {
        events
            .iter()
            .map(|e| match e {
                EngineEvent::AgentAudio { mulaw, .. } => mulaw.len(),
                _ => 0,
            })
            .sum()
    }

    #[test]
    fn a_turn_keeps_its_duration_and_transcripts_come_at_boundaries() {
        let mut turns = turns();
        let mut events =
            turns.handle(&json!({"serverContent": {"inputTranscription": {"text": "Hi, I"}}}));
        events
            .extend(turns.handle(
                &json!({"serverContent": {"inputTranscription": {"text": " need help."}}}),
            ));
        assert!(
            events.is_empty(),
            "caller text waits for the model: {events:?}"
        );
        for _ in 0..7 {
            events.extend(turns.handle(&audio_message(100)));
        }
        events.extend(
            turns.handle(&json!({"serverContent": {"outputTranscription": {"text": "Sure"}}})),
        );
        events.extend(turns.handle(&json!({"serverContent": {"generationComplete": true}})));
        events.extend(turns.handle(&json!({"serverContent": {"turnComplete": true}})));
        assert_eq!(
            events[0],
            EngineEvent::CallerTranscript {
                text: "Hi, I need help.".into()
            }
        );
        assert_eq!(
            audio_bytes(&events),
            700 * 8,
            "24 kHz → 8 kHz keeps the duration"
        );
        let n = events.len();
        assert_eq!(
            events[n - 2],
            EngineEvent::AgentAudioDone {
                item_id: "gemini-turn-1".into()
            }
        );
        assert_eq!(
            events[n - 1],
            EngineEvent::AgentTranscript {
                item_id: "gemini-turn-1".into(),
                text: "Sure".into()
            }
        );
        let next = turns.handle(&audio_message(100));
        assert!(
            matches!(&next[0], EngineEvent::AgentAudio { item_id, .. } if item_id == "gemini-turn-2")
        );
    }

    #[test]
    fn an_interrupted_turn_stops_forwarding_audio() {
        let mut turns = turns();
        let first = turns.handle(&audio_message(100));
        let EngineEvent::AgentAudio { item_id, .. } = &first[0] else {
            panic!("{first:?}")
        };
        *turns.shared.cancelled_turn.lock().unwrap() = Some(item_id.clone());
        assert!(turns.handle(&audio_message(100)).is_empty());
        let events = turns.handle(&json!({"serverContent": {"interrupted": true}}));
        assert_eq!(events[0], EngineEvent::CallerSpeechStarted);
        assert_eq!(
            events[1],
            EngineEvent::AgentAudioDone {
                item_id: item_id.clone()
            }
        );
    }

    #[test]
    fn tool_calls_and_results_map_to_gemini_shapes() {
        let mut turns = turns();
        let events = turns.handle(&json!({"toolCall": {"functionCalls": [
            {"id": "fc-1", "name": "end_call", "args": {"reason": "done"}}
        ]}}));
        assert_eq!(
            events,
            [EngineEvent::ToolCall {
                call_id: "fc-1".into(),
                name: "end_call".into(),
                arguments: r#"{"reason":"done"}"#.into()
            }]
        );
        assert_eq!(function_response(r#"{"ok":true}"#), json!({"ok": true}));
        assert_eq!(function_response("done"), json!({"result": "done"}));
        assert_eq!(function_response("[1,2]"), json!({"result": [1, 2]}));
    }
}
