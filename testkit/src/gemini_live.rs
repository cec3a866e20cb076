//! A fake Gemini Live server (`BidiGenerateContent` over WebSocket).
//!
//! Handshake: path [`PATH`], a non-empty `key` query parameter (else 401). The first message
//! must be a valid `setup` (`model` starting with `models/`, `responseModalities` containing
//! `AUDIO`); the fake answers `setupComplete`, or closes with 1007 on anything else, like
//! Gemini. Caller audio must be `realtimeInput.audio` with `mimeType` `audio/pcm;rate=16000`
//! and base64 data, otherwise the fake closes with 1007. The [`Script`] runs on the first
//! connection only; model audio is 24 kHz PCM16 in `modelTurn` `inlineData` parts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::script::{CallerVad, Script, Step};
use crate::server::{
    FromClient, Outgoing, bind_local, query_param, reject, send_json, spawn_writer, wait_finished,
    wait_for_event,
};

/// Path the fake serves.
pub const PATH: &str =
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
const INPUT_MIME: &str = "audio/pcm;rate=16000";
const INPUT_RATE: u32 = 16_000;
const OUTPUT_RATE: u32 = 24_000;
/// Size of the audio parts of a `Say`, in milliseconds.
const PART_MS: u32 = 100;

#[derive(Debug, Default)]
struct State {
    received: Vec<Value>,
    setup: Option<Value>,
    tool_responses: Vec<(String, String, Value)>,
    caller_audio_samples: usize,
    api_key: Option<String>,
    connections: usize,
}

/// A scripted Gemini Live server on `127.0.0.1`; see the module documentation.
#[derive(Debug)]
pub struct FakeGeminiLive {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    finished: watch::Receiver<bool>,
    accept_task: JoinHandle<()>,
}

impl Drop for FakeGeminiLive {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeGeminiLive {
    /// Binds `127.0.0.1:0` and serves until dropped.
    pub async fn start(script: Script) -> Self {
        let (listener, addr) = bind_local().await;
        let state = Arc::new(Mutex::new(State::default()));
        let (finished_tx, finished) = watch::channel(false);
        let finished_tx = Arc::new(finished_tx);
        let script = Arc::new(Mutex::new(Some(script)));
        let accept_state = Arc::clone(&state);
        let accept_task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // A model's server sends each event as it happens (no Nagle batching).
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve(
                    tcp,
                    Arc::clone(&accept_state),
                    Arc::clone(&script),
                    Arc::clone(&finished_tx),
                ));
            }
        });
        Self {
            addr,
            state,
            finished,
            accept_task,
        }
    }

    /// `ws://127.0.0.1:<port>/ws/google.ai…BidiGenerateContent`, for `GeminiLiveConfig::url`.
    pub fn url(&self) -> String {
        format!("ws://{}{PATH}", self.addr)
    }

    /// Every client message, in order. Audio is stored without its data, as
    /// `{"realtimeInput": {"audio": {"mimeType": …, "samples": <decoded sample count>}}}`.
    pub fn received(&self) -> Vec<Value> {
        lock(&self.state).received.clone()
    }

    /// The `setup` object of the last accepted setup message.
    pub fn setup(&self) -> Option<Value> {
        lock(&self.state).setup.clone()
    }

    /// `(id, name, response)` of every `functionResponses` entry the client sent.
    pub fn tool_responses(&self) -> Vec<(String, String, Value)> {
        lock(&self.state).tool_responses.clone()
    }

    /// Caller audio samples received (16 kHz: 16 per millisecond).
    pub fn caller_audio_samples(&self) -> usize {
        lock(&self.state).caller_audio_samples
    }

    /// The `key` query parameter of the last accepted connection.
    pub fn api_key(&self) -> Option<String> {
        lock(&self.state).api_key.clone()
    }

    /// WebSocket connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// True once every step of the script has run.
    pub fn script_finished(&self) -> bool {
        *self.finished.borrow()
    }

    /// Waits up to `timeout` for the script to finish; returns whether it did.
    pub async fn wait_until_finished(&self, timeout: Duration) -> bool {
        wait_finished(self.finished.clone(), timeout).await
    }
}

fn close(out: &Outgoing, reason: &str) {
    let _ = out.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Invalid,
        reason: reason.to_owned().into(),
    })));
}

fn valid_setup(message: &Value) -> Option<&Value> {
    let setup = message.get("setup")?;
    let model = setup.get("model")?.as_str()?;
    let audio = setup
        .pointer("/generationConfig/responseModalities")?
        .as_array()?
        .iter()
        .any(|m| m == "AUDIO");
    (model.starts_with("models/") && model.len() > "models/".len() && audio).then_some(setup)
}

// The handshake callback's error type is tungstenite's, not ours.
#[allow(clippy::result_large_err)]
async fn serve(
    tcp: TcpStream,
    state: Arc<Mutex<State>>,
    script: Arc<Mutex<Option<Script>>>,
    finished: Arc<watch::Sender<bool>>,
) {
    let handshake_state = Arc::clone(&state);
    let check = move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() != PATH {
            return Err(reject(StatusCode::NOT_FOUND, "unknown path"));
        }
        let Some(key) = query_param(request.uri(), "key").filter(|k| !k.is_empty()) else {
            return Err(reject(StatusCode::UNAUTHORIZED, "missing API key"));
        };
        let mut state = lock(&handshake_state);
        state.api_key = Some(key);
        state.connections += 1;
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
        return;
    };
    let (sink, mut stream) = ws.split();
    let out = spawn_writer(sink);
    let (to_script, from_client) = mpsc::unbounded_channel();
    let mut from_client = Some(from_client);
    let mut set_up = false;

    while let Some(Ok(message)) = stream.next().await {
        let text = match &message {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => continue,
        };
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            close(&out, "Request contains an invalid argument.");
            break;
        };
        if !set_up {
            let Some(setup) = valid_setup(&value) else {
                lock(&state).received.push(value);
                close(
                    &out,
                    "Invalid setup: expected a setup message with a model and AUDIO",
                );
                break;
            };
            {
                let mut state = lock(&state);
                state.setup = Some(setup.clone());
                state.received.push(value.clone());
            }
            set_up = true;
            send_json(&out, json!({"setupComplete": {}}));
            let script = script.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let (Some(script), Some(from_client)) = (script, from_client.take()) {
                tokio::spawn(run_script(
                    script,
                    from_client,
                    out.clone(),
                    Arc::clone(&finished),
                ));
            }
            continue;
        }
        if let Some(audio) = value.pointer("/realtimeInput/audio") {
            let mime = audio.get("mimeType").and_then(Value::as_str).unwrap_or("");
            let data = audio
                .get("data")
                .and_then(Value::as_str)
                .map(|d| BASE64.decode(d));
            let Some(Ok(bytes)) = data.filter(|_| mime == INPUT_MIME) else {
                lock(&state).received.push(value);
                close(&out, "Invalid realtimeInput audio");
                break;
            };
            let pcm = voice::pcm::i16_from_le_bytes(&bytes);
            {
                let mut state = lock(&state);
                state.caller_audio_samples += pcm.len();
                state.received.push(json!({
                    "realtimeInput": {"audio": {"mimeType": mime, "samples": pcm.len()}}
                }));
            }
            let _ = to_script.send(FromClient::Audio(pcm));
            continue;
        }
        if let Some(responses) = value
            .pointer("/toolResponse/functionResponses")
            .and_then(Value::as_array)
        {
            let mut state = lock(&state);
            for response in responses {
                state.tool_responses.push((
                    response["id"].as_str().unwrap_or("").to_owned(),
                    response["name"].as_str().unwrap_or("").to_owned(),
                    response["response"].clone(),
                ));
            }
        }
        lock(&state).received.push(value.clone());
        let _ = to_script.send(FromClient::Event(value));
    }
}

fn server_content(out: &Outgoing, content: Value) {
    send_json(out, json!({"serverContent": content}));
}

/// Pieces of `text` as a streaming transcription sends them: words, with their leading space.
fn pieces(text: &str) -> Vec<String> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, word)| {
            if i == 0 {
                word.to_owned()
            } else {
                format!(" {word}")
            }
        })
        .collect()
}

async fn run_script(
    script: Script,
    mut from_client: mpsc::UnboundedReceiver<FromClient>,
    out: Outgoing,
    finished: Arc<watch::Sender<bool>>,
) {
    let mut greeted = false;
    let mut calls = 0u64;
    // Until when the model's last audio would still be playing at the caller's end.
    let mut speaking_until = Instant::now();
    for step in script.0 {
        let completed = match step {
            Step::Say { text, audio_ms } => {
                if !greeted {
                    greeted = true;
                    let asked = wait_for_event(&mut from_client, |m| {
                        m.pointer("/clientContent/turnComplete") == Some(&json!(true))
                    });
                    if asked.await.is_none() {
                        return;
                    }
                }
                say(&out, &text, audio_ms);
                speaking_until = Instant::now() + Duration::from_millis(u64::from(audio_ms));
                true
            }
            Step::AwaitCaller { transcript, min_ms } => {
                let mut vad = CallerVad::new(INPUT_RATE, min_ms);
                let mut words = pieces(&transcript).into_iter();
                let mut ended = false;
                while let Some(next) = from_client.recv().await {
                    let FromClient::Audio(pcm) = next else {
                        continue;
                    };
                    let update = vad.push(&pcm);
                    if update.speech_started {
                        if Instant::now() < speaking_until {
                            server_content(&out, json!({"interrupted": true}));
                            speaking_until = Instant::now();
                        }
                        if let Some(word) = words.next() {
                            server_content(&out, json!({"inputTranscription": {"text": word}}));
                        }
                    }
                    if update.turn_ended {
                        for word in words.by_ref() {
                            server_content(&out, json!({"inputTranscription": {"text": word}}));
                        }
                        ended = true;
                        break;
                    }
                }
                ended
            }
            Step::CallTool { name, arguments } => {
                calls += 1;
                let id = format!("function-call-fake-{calls}");
                send_json(
                    &out,
                    json!({"toolCall": {"functionCalls": [{"id": id, "name": name, "args": arguments}]}}),
                );
                wait_for_event(&mut from_client, |m| {
                    m.pointer("/toolResponse/functionResponses")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|r| r["id"] == id.as_str()))
                })
                .await
                .is_some()
            }
            Step::Raw(text) => {
                let _ = out.send(Message::text(text));
                true
            }
        };
        if !completed {
            return;
        }
    }
    finished.send_replace(true);
}

/// Model audio parts (24 kHz PCM16) with the output transcription interleaved, one word per
/// part, then `generationComplete` and `turnComplete`.
fn say(out: &Outgoing, text: &str, audio_ms: u32) {
    let samples = crate::audio::tone_pcm(OUTPUT_RATE, audio_ms, 440.0);
    let mut words = pieces(text).into_iter();
    for part in samples.chunks((OUTPUT_RATE * PART_MS / 1000) as usize) {
        server_content(
            out,
            json!({"modelTurn": {"parts": [{"inlineData": {
                "mimeType": "audio/pcm;rate=24000",
                "data": BASE64.encode(voice::pcm::i16_to_le_bytes(part)),
            }}]}}),
        );
        if let Some(word) = words.next() {
            server_content(out, json!({"outputTranscription": {"text": word}}));
        }
    }
    for word in words {
        server_content(out, json!({"outputTranscription": {"text": word}}));
    }
    server_content(out, json!({"generationComplete": true}));
    server_content(out, json!({"turnComplete": true}));
}
