//! A fake OpenAI Realtime server (GA WebSocket protocol, `audio/pcmu` both ways).
//!
//! Handshake: path `/v1/realtime`, `Authorization: Bearer <non-empty>` (else 401) and a `model`
//! query parameter (else 400). On connect it sends `session.created`; every `session.update` is
//! answered with `session.updated` echoing the requested session. An `input_audio_buffer.append`
//! whose `audio` is not base64 is refused with an `error` event. `conversation.item.truncate`
//! is answered with `conversation.item.truncated`, `conversation.item.create` with
//! `conversation.item.added`.
//!
//! Which [`Script`] a connection runs:
//!
//! - [`FakeOpenAiRealtime::start`]: the script runs on the first connection only.
//! - [`FakeOpenAiRealtime::start_many`]: one script per connection, in order of connection; each
//!   is taken when the WebSocket connects (later connections run none).
//! - [`FakeOpenAiRealtime::start_keyed`]: the script is chosen by what the call is about. When a
//!   connection's first `session.update` arrives, the first `(key, script)` pair whose key is a
//!   substring of its `session.instructions` runs (a copy: a pair serves any number of
//!   connections); if no key matches (or there are no instructions), a copy of the fallback runs,
//!   or nothing. Later `session.update`s do not change the choice. The script still sees every
//!   client event of its connection from the connect on (events before the choice wait in its
//!   queue), exactly as under `start_many`, so a script behaves the same in either mode; the
//!   greeting `Say` waits for `response.create` anyway, which Switchboard's client sends only
//!   once its `session.update` is answered. The script starts right after that `session.updated`
//!   is queued, so nothing it sends comes before it.
//!
//! [`FakeOpenAiRealtime::model_spans`]: for each `Say` after an `AwaitCaller`, from the arrival
//! of the caller's last voiced audio to the first audio delta.
//!
//! In every mode [`FakeOpenAiRealtime::script_finished`] turns true when any connection's script
//! has run all its steps, and [`FakeOpenAiRealtime::instructions_seen`] lists the
//! `session.instructions` of every `session.update`, in order of arrival.

use std::collections::VecDeque;
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
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{StatusCode, header::AUTHORIZATION};

use crate::script::{CallerVad, Script, Step};
use crate::server::{
    FromClient, Outgoing, bind_local, query_param, reject, send_json, spawn_writer, wait_finished,
    wait_for_event,
};
use crate::timing::{ModelSpan, ModelSpans};

/// Path the fake serves.
pub const PATH: &str = "/v1/realtime";
/// Size of the audio deltas of a `Say`, in milliseconds.
const DELTA_MS: u32 = 100;

#[derive(Debug, Default)]
struct State {
    received: Vec<Value>,
    tool_outputs: Vec<(String, String)>,
    truncations: Vec<(String, u64)>,
    instructions: Vec<String>,
    caller_audio_bytes: usize,
    bearer_token: Option<String>,
    model: Option<String>,
    connections: usize,
}

/// Where each connection's script comes from; see the module documentation.
#[derive(Debug)]
enum Scripts {
    /// `start` / `start_many`: taken when the WebSocket connects, in order of connection.
    InOrder(Mutex<VecDeque<Script>>),
    /// `start_keyed`: chosen (and cloned) at the connection's first `session.update`.
    Keyed {
        keyed: Vec<(String, Script)>,
        fallback: Option<Script>,
    },
}

impl Scripts {
    /// The script of a connection that has just connected (`InOrder` only).
    fn at_connect(&self) -> Option<Script> {
        match self {
            Scripts::InOrder(queue) => queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front(),
            Scripts::Keyed { .. } => None,
        }
    }

    /// The script of a connection whose first `session.update` carries `instructions`
    /// (`Keyed` only).
    fn for_instructions(&self, instructions: &str) -> Option<Script> {
        match self {
            Scripts::InOrder(_) => None,
            Scripts::Keyed { keyed, fallback } => keyed
                .iter()
                .find(|(key, _)| instructions.contains(key.as_str()))
                .map(|(_, script)| script)
                .or(fallback.as_ref())
                .cloned(),
        }
    }
}

/// A scripted OpenAI Realtime server on `127.0.0.1`; see the module documentation.
#[derive(Debug)]
pub struct FakeOpenAiRealtime {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    finished: watch::Receiver<bool>,
    spans: ModelSpans,
    accept_task: JoinHandle<()>,
}

impl Drop for FakeOpenAiRealtime {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl FakeOpenAiRealtime {
    /// Binds `127.0.0.1:0` and serves until dropped.
    pub async fn start(script: Script) -> Self {
        Self::start_many(vec![script]).await
    }

    /// Like [`FakeOpenAiRealtime::start`], with one script per connection, in order of
    /// connection (a call's second media stream is a second connection).
    pub async fn start_many(scripts: Vec<Script>) -> Self {
        Self::serve_scripts(Scripts::InOrder(Mutex::new(VecDeque::from(scripts)))).await
    }

    /// Chooses each connection's script by its instructions: at the connection's first
    /// `session.update`, the first pair whose key occurs in `session.instructions` runs, else
    /// `fallback`, else nothing. Scripts are cloned, so one pair serves any number of
    /// connections. See the module documentation.
    pub async fn start_keyed(keyed: Vec<(String, Script)>, fallback: Option<Script>) -> Self {
        Self::serve_scripts(Scripts::Keyed { keyed, fallback }).await
    }

    async fn serve_scripts(scripts: Scripts) -> Self {
        let (listener, addr) = bind_local().await;
        let state = Arc::new(Mutex::new(State::default()));
        let (finished_tx, finished) = watch::channel(false);
        let finished_tx = Arc::new(finished_tx);
        let scripts = Arc::new(scripts);
        let spans = ModelSpans::default();
        let accept_spans = spans.clone();
        let accept_state = Arc::clone(&state);
        let accept_task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // A model's server sends each event as it happens (no Nagle batching).
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve(
                    tcp,
                    Arc::clone(&accept_state),
                    Arc::clone(&scripts),
                    Arc::clone(&finished_tx),
                    accept_spans.clone(),
                ));
            }
        });
        Self {
            addr,
            state,
            finished,
            spans,
            accept_task,
        }
    }

    /// `ws://127.0.0.1:<port>/v1/realtime`, for `OpenAiRealtimeConfig::url`.
    pub fn url(&self) -> String {
        format!("ws://{}{PATH}", self.addr)
    }

    /// Every client event, in order. `input_audio_buffer.append` events are stored without
    /// their audio, as `{"type": "input_audio_buffer.append", "audio_bytes": <decoded length>}`.
    pub fn received(&self) -> Vec<Value> {
        self.lock().received.clone()
    }

    /// The `type` of every client event, in order.
    pub fn received_types(&self) -> Vec<String> {
        self.lock()
            .received
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// `(call_id, output)` of every `function_call_output` item the client created.
    pub fn tool_outputs(&self) -> Vec<(String, String)> {
        self.lock().tool_outputs.clone()
    }

    /// `(item_id, audio_end_ms)` of every `conversation.item.truncate`.
    pub fn truncations(&self) -> Vec<(String, u64)> {
        self.lock().truncations.clone()
    }

    /// The `session.instructions` of every `session.update` (that has them as a string), in
    /// order of arrival, over all connections.
    pub fn instructions_seen(&self) -> Vec<String> {
        self.lock().instructions.clone()
    }

    /// Total decoded bytes of caller audio appended (μ-law: 8 bytes per millisecond).
    pub fn caller_audio_bytes(&self) -> usize {
        self.lock().caller_audio_bytes
    }

    /// The bearer token of the last accepted connection.
    pub fn bearer_token(&self) -> Option<String> {
        self.lock().bearer_token.clone()
    }

    /// The `model` query parameter of the last accepted connection.
    pub fn model(&self) -> Option<String> {
        self.lock().model.clone()
    }

    /// WebSocket connections accepted so far.
    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    /// When it did its own work; see the module documentation.
    pub fn model_spans(&self) -> Vec<ModelSpan> {
        self.spans.all()
    }

    /// True once every step of a script has run (of any connection's, when there are several).
    pub fn script_finished(&self) -> bool {
        *self.finished.borrow()
    }

    /// Waits up to `timeout` for a script to finish (see [`FakeOpenAiRealtime::script_finished`]);
    /// returns whether one did.
    pub async fn wait_until_finished(&self, timeout: Duration) -> bool {
        wait_finished(self.finished.clone(), timeout).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

// The handshake callback's error type is tungstenite's, not ours.
#[allow(clippy::result_large_err)]
async fn serve(
    tcp: TcpStream,
    state: Arc<Mutex<State>>,
    scripts: Arc<Scripts>,
    finished: Arc<watch::Sender<bool>>,
    spans: ModelSpans,
) {
    let handshake_state = Arc::clone(&state);
    let check = move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() != PATH {
            return Err(reject(StatusCode::NOT_FOUND, "unknown path"));
        }
        let bearer = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|token| !token.trim().is_empty());
        let Some(bearer) = bearer else {
            return Err(reject(StatusCode::UNAUTHORIZED, "missing bearer token"));
        };
        let Some(model) = query_param(request.uri(), "model").filter(|m| !m.is_empty()) else {
            return Err(reject(StatusCode::BAD_REQUEST, "missing model"));
        };
        let mut state = lock(&handshake_state);
        state.bearer_token = Some(bearer.to_owned());
        state.model = Some(model);
        state.connections += 1;
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
        return;
    };
    let (sink, mut stream) = ws.split();
    let out = spawn_writer(sink);
    let mut ids = Ids::default();
    send_json(
        &out,
        json!({
            "type": "session.created",
            "event_id": ids.next("event"),
            "session": {"type": "realtime", "object": "realtime.session", "id": ids.next("sess")},
        }),
    );

    // Every client event goes into this one queue from the connect on; the script runner gets
    // the receiving end when the script is chosen (at once, or at the first `session.update` in
    // keyed mode), so it reads each event exactly once, including those sent before it started.
    let (to_script, from_client) = mpsc::unbounded_channel();
    let mut unchosen = Some(from_client);
    if let Some(script) = scripts.at_connect()
        && let Some(from_client) = unchosen.take()
    {
        tokio::spawn(run_script(
            script,
            from_client,
            out.clone(),
            Arc::clone(&finished),
            spans.clone(),
        ));
    }

    while let Some(Ok(message)) = stream.next().await {
        let text = match &message {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => continue,
        };
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            send_json(
                &out,
                error_event(&mut ids, "invalid_json", "client event is not JSON"),
            );
            continue;
        };
        let kind = event["type"].as_str().unwrap_or("").to_owned();
        match kind.as_str() {
            "session.update" => {
                send_json(
                    &out,
                    json!({
                        "type": "session.updated",
                        "event_id": ids.next("event"),
                        "session": event["session"],
                    }),
                );
                let instructions = event["session"]["instructions"].as_str();
                if let Some(instructions) = instructions {
                    lock(&state).instructions.push(instructions.to_owned());
                }
                // Keyed mode: the first `session.update` chooses the script. It starts after
                // `session.updated` is queued, so nothing it sends can overtake that answer.
                if let Scripts::Keyed { .. } = *scripts
                    && let Some(from_client) = unchosen.take()
                    && let Some(script) = scripts.for_instructions(instructions.unwrap_or(""))
                {
                    tokio::spawn(run_script(
                        script,
                        from_client,
                        out.clone(),
                        Arc::clone(&finished),
                        spans.clone(),
                    ));
                }
            }
            "input_audio_buffer.append" => {
                let decoded = event["audio"].as_str().map(|a| BASE64.decode(a));
                let Some(Ok(mulaw)) = decoded else {
                    lock(&state).received.push(event.clone());
                    send_json(
                        &out,
                        error_event(&mut ids, "invalid_value", "audio is not valid base64"),
                    );
                    continue;
                };
                {
                    let mut state = lock(&state);
                    state.caller_audio_bytes += mulaw.len();
                    state.received.push(json!({
                        "type": "input_audio_buffer.append",
                        "audio_bytes": mulaw.len(),
                    }));
                }
                let mut pcm = Vec::with_capacity(mulaw.len());
                voice::mulaw::decode(&mulaw, &mut pcm);
                let _ = to_script.send(FromClient::Audio(pcm));
                continue;
            }
            "conversation.item.create" => {
                let item = &event["item"];
                if item["type"] == "function_call_output" {
                    lock(&state).tool_outputs.push((
                        item["call_id"].as_str().unwrap_or("").to_owned(),
                        item["output"].as_str().unwrap_or("").to_owned(),
                    ));
                }
                send_json(
                    &out,
                    json!({
                        "type": "conversation.item.added",
                        "event_id": ids.next("event"),
                        "item": item,
                    }),
                );
            }
            "conversation.item.truncate" => {
                let item_id = event["item_id"].as_str().unwrap_or("").to_owned();
                let audio_end_ms = event["audio_end_ms"].as_u64().unwrap_or(0);
                lock(&state)
                    .truncations
                    .push((item_id.clone(), audio_end_ms));
                send_json(
                    &out,
                    json!({
                        "type": "conversation.item.truncated",
                        "event_id": ids.next("event"),
                        "item_id": item_id,
                        "content_index": event["content_index"],
                        "audio_end_ms": audio_end_ms,
                    }),
                );
            }
            _ => {}
        }
        lock(&state).received.push(event.clone());
        let _ = to_script.send(FromClient::Event(event));
    }
}

/// Sequential ids for events, items, responses and calls.
#[derive(Debug, Default)]
struct Ids(u64);

impl Ids {
    fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}_fake_{}", self.0)
    }
}

fn error_event(ids: &mut Ids, code: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "event_id": ids.next("event"),
        "error": {"type": "invalid_request_error", "code": code, "message": message},
    })
}

async fn run_script(
    script: Script,
    mut from_client: mpsc::UnboundedReceiver<FromClient>,
    out: Outgoing,
    finished: Arc<watch::Sender<bool>>,
    spans: ModelSpans,
) {
    // Ids of the script side are distinct from the connection side's ("…_fake_s<N>").
    let mut ids = Ids(1_000_000);
    let mut greeted = false;
    // When the caller's last voiced audio of the turn just awaited arrived.
    let mut heard = None;
    for step in script.0 {
        let completed = match step {
            Step::Say { text, audio_ms } => {
                if !greeted {
                    greeted = true;
                    let asked =
                        wait_for_event(&mut from_client, |e| e["type"] == "response.create");
                    if asked.await.is_none() {
                        return;
                    }
                }
                say(
                    &out,
                    &mut ids,
                    &text,
                    audio_ms,
                    heard.take().map(|h| (h, &spans)),
                );
                true
            }
            Step::AwaitCaller { transcript, min_ms } => {
                heard = await_caller(&mut from_client, &out, &mut ids, &transcript, min_ms).await;
                heard.is_some()
            }
            Step::CallTool { name, arguments } => {
                call_tool(&mut from_client, &out, &mut ids, &name, &arguments).await
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

/// Plays a `Say`; `answering` is when the caller's turn it answers was heard, for the spans.
fn say(
    out: &Outgoing,
    ids: &mut Ids,
    text: &str,
    audio_ms: u32,
    answering: Option<(std::time::Instant, &ModelSpans)>,
) {
    let response_id = ids.next("resp");
    let item_id = ids.next("item");
    let mut event = |value: Value| {
        let mut value = value;
        value["event_id"] = json!(ids.next("event"));
        send_json(out, value);
    };
    event(json!({
        "type": "response.created",
        "response": {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []},
    }));
    event(json!({
        "type": "response.output_item.added",
        "response_id": response_id, "output_index": 0,
        "item": {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []},
    }));
    event(json!({
        "type": "response.content_part.added",
        "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
        "part": {"type": "audio", "transcript": ""},
    }));
    let mut mulaw = Vec::new();
    voice::mulaw::encode(&crate::audio::tone_pcm(8000, audio_ms, 440.0), &mut mulaw);
    let mut answering = answering;
    for chunk in mulaw.chunks((DELTA_MS * 8) as usize) {
        if let Some((heard, spans)) = answering.take() {
            spans.answered_now(heard);
        }
        event(json!({
            "type": "response.output_audio.delta",
            "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
            "delta": BASE64.encode(chunk),
        }));
    }
    for (i, word) in text.split_whitespace().enumerate() {
        let delta = if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        event(json!({
            "type": "response.output_audio_transcript.delta",
            "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
            "delta": delta,
        }));
    }
    event(json!({
        "type": "response.output_audio.done",
        "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
    }));
    event(json!({
        "type": "response.output_audio_transcript.done",
        "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
        "transcript": text,
    }));
    let item = json!({
        "id": item_id, "type": "message", "role": "assistant", "status": "completed",
        "content": [{"type": "output_audio", "transcript": text}],
    });
    event(json!({
        "type": "response.content_part.done",
        "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0,
        "part": {"type": "audio", "transcript": text},
    }));
    event(json!({
        "type": "response.output_item.done",
        "response_id": response_id, "output_index": 0, "item": item,
    }));
    event(json!({
        "type": "response.done",
        "response": {"id": response_id, "object": "realtime.response", "status": "completed", "output": [item]},
    }));
}

async fn await_caller(
    from_client: &mut mpsc::UnboundedReceiver<FromClient>,
    out: &Outgoing,
    ids: &mut Ids,
    transcript: &str,
    min_ms: u32,
) -> Option<std::time::Instant> {
    let mut vad = CallerVad::new(8000, min_ms);
    let mut last_voice = std::time::Instant::now();
    let item_id = ids.next("item");
    let mut heard_samples: u64 = 0;
    let event = |ids: &mut Ids, value: Value| {
        let mut value = value;
        value["event_id"] = json!(ids.next("event"));
        send_json(out, value);
    };
    while let Some(next) = from_client.recv().await {
        let FromClient::Audio(pcm) = next else {
            continue;
        };
        let arrived = std::time::Instant::now();
        heard_samples += pcm.len() as u64;
        let update = vad.push(&pcm);
        if update.voiced {
            last_voice = arrived;
        }
        if update.speech_started {
            event(
                ids,
                json!({
                    "type": "input_audio_buffer.speech_started",
                    "item_id": item_id,
                    "audio_start_ms": (heard_samples - pcm.len() as u64) / 8,
                }),
            );
        }
        if update.turn_ended {
            let end_ms = heard_samples / 8;
            event(
                ids,
                json!({"type": "input_audio_buffer.speech_stopped", "item_id": item_id, "audio_end_ms": end_ms}),
            );
            event(
                ids,
                json!({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": null}),
            );
            event(
                ids,
                json!({
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": item_id, "content_index": 0, "transcript": transcript,
                }),
            );
            return Some(last_voice);
        }
    }
    None
}

async fn call_tool(
    from_client: &mut mpsc::UnboundedReceiver<FromClient>,
    out: &Outgoing,
    ids: &mut Ids,
    name: &str,
    arguments: &Value,
) -> bool {
    let response_id = ids.next("resp");
    let item_id = ids.next("item");
    let call_id = ids.next("call");
    let arguments = arguments.to_string();
    let item = |status: &str, args: &str| {
        json!({
            "id": item_id, "type": "function_call", "status": status,
            "call_id": call_id, "name": name, "arguments": args,
        })
    };
    let events = [
        json!({
            "type": "response.created",
            "response": {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []},
        }),
        json!({
            "type": "response.output_item.added",
            "response_id": response_id, "output_index": 0, "item": item("in_progress", ""),
        }),
        json!({
            "type": "response.function_call_arguments.delta",
            "response_id": response_id, "item_id": item_id, "output_index": 0,
            "call_id": call_id, "delta": arguments,
        }),
        json!({
            "type": "response.function_call_arguments.done",
            "response_id": response_id, "item_id": item_id, "output_index": 0,
            "call_id": call_id, "name": name, "arguments": arguments,
        }),
        json!({
            "type": "response.output_item.done",
            "response_id": response_id, "output_index": 0, "item": item("completed", &arguments),
        }),
        json!({
            "type": "response.done",
            "response": {
                "id": response_id, "object": "realtime.response", "status": "completed",
                "output": [item("completed", &arguments)],
            },
        }),
    ];
    for mut event in events {
        event["event_id"] = json!(ids.next("event"));
        send_json(out, event);
    }
    let output = wait_for_event(from_client, |e| {
        e["type"] == "conversation.item.create"
            && e["item"]["type"] == "function_call_output"
            && e["item"]["call_id"] == call_id.as_str()
    });
    if output.await.is_none() {
        return false;
    }
    wait_for_event(from_client, |e| e["type"] == "response.create")
        .await
        .is_some()
}

#[cfg(test)]
mod tests;
