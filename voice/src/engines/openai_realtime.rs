//! OpenAI Realtime, GA WebSocket protocol.
//!
//! The session is configured for G.711 μ-law in and out (`audio/pcmu`), the same format as
//! Twilio Media Streams, so caller and agent audio are forwarded as is (base64 on the wire).
//! Turn taking is the server's VAD; the engine only reports what it hears.
//!
//! Function calls are reported from `response.output_item.done` items of type `function_call`
//! (the complete call with its name); `response.function_call_arguments.done` is ignored so each
//! call is reported exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::Secret;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header::AUTHORIZATION};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{
    CHANNEL_CAPACITY, CLOSE_GRACE, Ws, await_server, describe_ws_error, frame_text, open_ws,
    send_json, setting_str,
};
use crate::engine::{
    EngineCall, EngineError, EngineEvent, EngineInput, EngineName, EngineSession, VoiceEngine,
};

/// Where and how to reach OpenAI Realtime.
#[derive(Debug, Clone)]
pub struct OpenAiRealtimeConfig {
    /// WebSocket endpoint, without query (`model` is appended).
    pub url: String,
    pub api_key: Secret<String>,
    /// Default model; an agent's `settings.model` overrides it.
    pub model: String,
    /// Default voice; an agent's `settings.voice` overrides it.
    pub voice: String,
    /// Model transcribing the caller's audio (for `CallerTranscript`).
    pub transcription_model: String,
}

impl OpenAiRealtimeConfig {
    pub const DEFAULT_URL: &'static str = "wss://api.openai.com/v1/realtime";
    pub const DEFAULT_MODEL: &'static str = "gpt-realtime";
    pub const DEFAULT_VOICE: &'static str = "marin";
    pub const DEFAULT_TRANSCRIPTION_MODEL: &'static str = "gpt-4o-mini-transcribe";

    /// The public endpoint with default model, voice and transcription model.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            api_key: Secret::new(api_key.into()),
            model: Self::DEFAULT_MODEL.to_owned(),
            voice: Self::DEFAULT_VOICE.to_owned(),
            transcription_model: Self::DEFAULT_TRANSCRIPTION_MODEL.to_owned(),
        }
    }
}

/// The OpenAI Realtime speech-to-speech engine.
#[derive(Debug, Clone)]
pub struct OpenAiRealtime {
    config: OpenAiRealtimeConfig,
}

impl OpenAiRealtime {
    pub fn new(config: OpenAiRealtimeConfig) -> Self {
        Self { config }
    }
}

/// State shared by the reader and writer tasks of one session.
#[derive(Debug, Default)]
struct Shared {
    /// Between `response.created` and `response.done`.
    response_in_progress: AtomicBool,
    /// The writer has sent (or is sending) a close frame: the connection ending is expected.
    closing: AtomicBool,
}

#[async_trait::async_trait]
impl VoiceEngine for OpenAiRealtime {
    fn name(&self) -> EngineName {
        EngineName::OpenAiRealtime
    }

    async fn start(&self, call: EngineCall) -> Result<EngineSession, EngineError> {
        let config = &self.config;
        if config.api_key.is_empty() {
            return Err(EngineError::NotConfigured(
                "OpenAI Realtime API key is empty".into(),
            ));
        }
        let model = setting_str(&call.settings, "model").unwrap_or(&config.model);
        let voice = setting_str(&call.settings, "voice").unwrap_or(&config.voice);

        let mut ws = connect(config, model).await?;
        tracing::info!(call_sid = %call.call_sid, model, voice, "connected to OpenAI Realtime");

        send_json(&mut ws, &session_update(&call, model, voice, config)).await?;
        await_server(&mut ws, "session.updated", |event| {
            match event.get("type").and_then(Value::as_str) {
                Some("session.updated") => Some(Ok(())),
                Some("error") => Some(Err(EngineError::Protocol(format!(
                    "session.update rejected: {}",
                    error_message(event)
                )))),
                _ => None,
            }
        })
        .await?;
        send_json(&mut ws, &greeting_response(&call.greeting)).await?;

        let (session, input_rx, event_tx) = EngineSession::channels(CHANNEL_CAPACITY);
        let shared = Arc::new(Shared::default());
        let (sink, stream) = ws.split();
        let (closed_tx, closed_rx) = oneshot::channel();
        tokio::spawn(write_loop(
            sink,
            input_rx,
            Arc::clone(&shared),
            closed_tx,
            call.call_sid.clone(),
        ));
        tokio::spawn(read_loop(
            stream,
            event_tx,
            shared,
            closed_rx,
            call.call_sid,
        ));
        Ok(session)
    }
}

/// Opens the Realtime WebSocket for `model`, with the API key as a bearer token.
async fn connect(config: &OpenAiRealtimeConfig, model: &str) -> Result<Ws, EngineError> {
    let mut url = url::Url::parse(&config.url)
        .map_err(|e| EngineError::NotConfigured(format!("invalid OpenAI Realtime URL: {e}")))?;
    url.query_pairs_mut().append_pair("model", model);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| EngineError::NotConfigured(describe_ws_error(&e)))?;
    let mut auth =
        HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose())).map_err(|_| {
            EngineError::NotConfigured("OpenAI API key is not a valid header value".into())
        })?;
    auth.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, auth);

    open_ws(request).await
}

fn session_update(
    call: &EngineCall,
    model: &str,
    voice: &str,
    config: &OpenAiRealtimeConfig,
) -> Value {
    let tools: Vec<Value> = call
        .tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            })
        })
        .collect();
    json!({
        "type": "session.update",
        "session": {
            "type": "realtime",
            "model": model,
            "instructions": call.instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "server_vad"},
                    "transcription": {"model": config.transcription_model},
                },
                "output": {
                    "format": {"type": "audio/pcmu"},
                    "voice": voice,
                },
            },
            "tools": tools,
            "tool_choice": "auto",
        }
    })
}

fn greeting_response(greeting: &str) -> Value {
    if greeting.trim().is_empty() {
        return json!({"type": "response.create"});
    }
    json!({
        "type": "response.create",
        "response": {
            "instructions": format!(
                "Greet the caller by saying exactly this, then wait for their answer: \"{greeting}\""
            ),
        }
    })
}

fn user_text_item(text: String) -> Value {
    json!({
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
    })
}

/// The client events for one input, in order.
fn client_events(input: EngineInput, shared: &Shared) -> Vec<Value> {
    match input {
        EngineInput::Audio(mulaw) if mulaw.is_empty() => Vec::new(),
        EngineInput::Audio(mulaw) => vec![json!({
            "type": "input_audio_buffer.append",
            "audio": BASE64.encode(mulaw),
        })],
        EngineInput::Dtmf(digit) => vec![
            user_text_item(format!("The caller pressed {digit} on their phone keypad.")),
            json!({"type": "response.create"}),
        ],
        EngineInput::Interrupt { item_id, heard_ms } => {
            let mut events = Vec::with_capacity(2);
            if shared.response_in_progress.swap(false, Ordering::AcqRel) {
                events.push(json!({"type": "response.cancel"}));
            }
            events.push(json!({
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": heard_ms,
            }));
            events
        }
        EngineInput::ToolResult {
            call_id, output, ..
        } => vec![
            json!({
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": call_id, "output": output},
            }),
            json!({"type": "response.create"}),
        ],
        EngineInput::Say { text } => vec![json!({
            "type": "response.create",
            "response": {
                "instructions": format!("Say exactly this to the caller, nothing else: \"{text}\""),
            }
        })],
    }
}

fn error_message(event: &Value) -> String {
    let error = event.get("error");
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    format!("{} {}: {}", field("type"), field("code"), field("message"))
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The engine event for one server event, if it maps to one.
fn map_server_event(event: &Value, shared: &Shared) -> Option<EngineEvent> {
    let kind = str_field(event, "type")?;
    match kind {
        "response.output_audio.delta" => {
            let item_id = str_field(event, "item_id")?.to_owned();
            match BASE64.decode(str_field(event, "delta")?) {
                Ok(mulaw) if !mulaw.is_empty() => Some(EngineEvent::AgentAudio { item_id, mulaw }),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an audio delta that is not base64");
                    None
                }
            }
        }
        "response.output_audio.done" => Some(EngineEvent::AgentAudioDone {
            item_id: str_field(event, "item_id")?.to_owned(),
        }),
        "response.output_audio_transcript.done" => Some(EngineEvent::AgentTranscript {
            item_id: str_field(event, "item_id")?.to_owned(),
            text: str_field(event, "transcript")?.to_owned(),
        }),
        "input_audio_buffer.speech_started" => Some(EngineEvent::CallerSpeechStarted),
        "conversation.item.input_audio_transcription.completed" => {
            let text = str_field(event, "transcript")?.trim();
            (!text.is_empty()).then(|| EngineEvent::CallerTranscript {
                text: text.to_owned(),
            })
        }
        "response.output_item.done" => {
            let item = event.get("item")?;
            if str_field(item, "type")? != "function_call" {
                return None;
            }
            Some(EngineEvent::ToolCall {
                call_id: str_field(item, "call_id")?.to_owned(),
                name: str_field(item, "name")?.to_owned(),
                arguments: str_field(item, "arguments").unwrap_or("{}").to_owned(),
            })
        }
        "response.created" => {
            shared.response_in_progress.store(true, Ordering::Release);
            None
        }
        "response.done" => {
            shared.response_in_progress.store(false, Ordering::Release);
            None
        }
        "error" => {
            tracing::warn!(error = %error_message(event), "OpenAI Realtime reported an error");
            None
        }
        other => {
            tracing::debug!(event = other, "ignoring OpenAI Realtime event");
            None
        }
    }
}

async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut input: mpsc::Receiver<EngineInput>,
    shared: Arc<Shared>,
    closed: oneshot::Sender<()>,
    call_sid: String,
) {
    while let Some(next) = input.recv().await {
        for event in client_events(next, &shared) {
            if let Err(e) = sink.send(Message::text(event.to_string())).await {
                tracing::warn!(%call_sid, error = %describe_ws_error(&e), "OpenAI Realtime send failed");
                return;
            }
        }
    }
    tracing::debug!(%call_sid, "engine input closed; closing the OpenAI Realtime connection");
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
    shared: Arc<Shared>,
    closed: oneshot::Receiver<()>,
    call_sid: String,
) {
    // Once the writer has closed (or gone), give the server a moment to answer the close.
    let deadline = async {
        let _ = closed.await;
        tokio::time::sleep(CLOSE_GRACE).await;
    };
    tokio::pin!(deadline);
    let failure = loop {
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
                tracing::warn!(%call_sid, "skipping a binary server frame that is not UTF-8");
                continue;
            }
        };
        let event: Value = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(%call_sid, error = %e, "skipping a malformed OpenAI Realtime frame");
                continue;
            }
        };
        if let Some(mapped) = map_server_event(&event, &shared)
            && events.send(mapped).await.is_err()
        {
            tracing::debug!(%call_sid, "engine events dropped by the bridge");
            break None;
        }
    };
    if let Some(message) = failure {
        if shared.closing.load(Ordering::Acquire) {
            tracing::debug!(%call_sid, "OpenAI Realtime connection closed");
        } else {
            tracing::warn!(%call_sid, %message, "OpenAI Realtime connection ended unexpectedly");
            let _ = events.send(EngineEvent::Failed { message }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_calls_are_reported_once_from_output_item_done() {
        let shared = Shared::default();
        let args_done = json!({
            "type": "response.function_call_arguments.done",
            "call_id": "c1", "name": "end_call", "arguments": "{}",
        });
        assert_eq!(map_server_event(&args_done, &shared), None);
        let item_done = json!({
            "type": "response.output_item.done",
            "item": {"type": "function_call", "call_id": "c1", "name": "end_call", "arguments": "{\"reason\":\"done\"}"},
        });
        assert_eq!(
            map_server_event(&item_done, &shared),
            Some(EngineEvent::ToolCall {
                call_id: "c1".into(),
                name: "end_call".into(),
                arguments: "{\"reason\":\"done\"}".into(),
            })
        );
        let message_done =
            json!({"type": "response.output_item.done", "item": {"type": "message"}});
        assert_eq!(map_server_event(&message_done, &shared), None);
    }

    #[test]
    fn interrupt_cancels_only_a_response_in_progress() {
        let shared = Shared::default();
        let interrupt = || EngineInput::Interrupt {
            item_id: "item_1".into(),
            heard_ms: 640,
        };
        let events = client_events(interrupt(), &shared);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "conversation.item.truncate");
        assert_eq!(events[0]["audio_end_ms"], 640);

        map_server_event(&json!({"type": "response.created"}), &shared);
        let events = client_events(interrupt(), &shared);
        assert_eq!(events[0]["type"], "response.cancel");
        assert_eq!(events[1]["type"], "conversation.item.truncate");
    }

    #[test]
    fn agent_settings_override_model_and_voice_in_session_update() {
        let call = EngineCall {
            call_sid: "CA1".into(),
            instructions: "Be brief.".into(),
            greeting: "Hello".into(),
            settings: json!({"voice": "cedar"}),
            tools: domain::conversation::tool_specs(),
        };
        let config = OpenAiRealtimeConfig::new("sk-test");
        let voice = setting_str(&call.settings, "voice").unwrap_or(&config.voice);
        let update = session_update(&call, &config.model, voice, &config);
        assert_eq!(update["session"]["audio"]["output"]["voice"], "cedar");
        assert_eq!(
            update["session"]["audio"]["input"]["format"]["type"],
            "audio/pcmu"
        );
        assert_eq!(update["session"]["tools"][0]["type"], "function");
        assert!(!format!("{config:?}").contains("sk-test"));
    }
}
