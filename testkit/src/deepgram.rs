//! A fake Deepgram live streaming endpoint (`/v1/listen`).
//!
//! It checks `Authorization: Token …` (401 otherwise) and the audio format in the query
//! (`encoding=mulaw`, `sample_rate=8000`; 400 otherwise), decodes the μ-law audio and detects
//! voice by energy, counting in audio time (not wall time), so tests can send frames as fast as
//! they like:
//! - voice begins (a 20 ms frame above −40 dBFS): `SpeechStarted`;
//! - after 200 ms of voice: an interim `Results` (`is_final: false`) with the first word of the
//!   next scripted transcript;
//! - 300 ms of silence after voice: `Results` with `is_final: true, speech_final: true` and the
//!   next scripted transcript (empty once the script is exhausted), then `UtteranceEnd`;
//! - `KeepAlive` is counted and not answered (as Deepgram does);
//! - `CloseStream` ends an open utterance as above, sends `Metadata` and closes normally (1000).
//!
//! [`FakeDeepgram::model_spans`]: for each final result, from the arrival of the utterance's
//! last voiced audio to the result.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::http_server::LocalServer;
use crate::timing::{ModelSpan, ModelSpans};

/// Frames louder than this count as voice.
const VOICE_DBFS: f32 = -40.0;
/// Voice before the interim result.
const INTERIM_AFTER_MS: f64 = 200.0;
/// Silence that ends an utterance (Deepgram's `endpointing=300`).
const ENDPOINT_MS: f64 = 300.0;

#[derive(Debug, Default)]
struct Shared {
    transcripts: Mutex<VecDeque<String>>,
    received_bytes: AtomicU64,
    keepalives: AtomicU64,
    connections: AtomicU64,
    queries: Mutex<Vec<HashMap<String, String>>>,
    spans: ModelSpans,
}

/// See the module documentation.
#[derive(Debug)]
pub struct FakeDeepgram {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl FakeDeepgram {
    /// Serve on 127.0.0.1; each finished utterance is answered with the next of `transcripts`.
    pub async fn start(transcripts: Vec<String>) -> Self {
        let shared = Arc::new(Shared {
            transcripts: Mutex::new(transcripts.into()),
            ..Shared::default()
        });
        let router = axum::Router::new()
            .route("/v1/listen", get(listen))
            .with_state(shared.clone());
        Self {
            server: LocalServer::start(router).await,
            shared,
        }
    }

    /// `ws://127.0.0.1:PORT/v1/listen`, for `DeepgramConfig::url`.
    pub fn url(&self) -> String {
        format!("ws://{}/v1/listen", self.server.addr)
    }

    /// When it did its own work; see the module documentation.
    pub fn model_spans(&self) -> Vec<ModelSpan> {
        self.shared.spans.all()
    }

    /// Milliseconds of audio received over all connections (8 bytes per ms).
    pub fn received_audio_ms(&self) -> u64 {
        self.shared.received_bytes.load(Ordering::SeqCst) / 8
    }

    /// `KeepAlive` messages received.
    pub fn keepalives(&self) -> u64 {
        self.shared.keepalives.load(Ordering::SeqCst)
    }

    /// WebSocket sessions accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The query parameters of every accepted session.
    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.shared.queries.lock().unwrap().clone()
    }
}

async fn listen(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token "))
        .is_some_and(|key| !key.trim().is_empty());
    if !authorized {
        return rejection(StatusCode::UNAUTHORIZED, "Invalid credentials.");
    }
    if query.get("encoding").map(String::as_str) != Some("mulaw")
        || query.get("sample_rate").map(String::as_str) != Some("8000")
    {
        return rejection(
            StatusCode::BAD_REQUEST,
            "Expected encoding=mulaw and sample_rate=8000.",
        );
    }
    shared.connections.fetch_add(1, Ordering::SeqCst);
    shared.queries.lock().unwrap().push(query);
    ws.on_upgrade(move |socket| session(socket, shared))
}

fn rejection(status: StatusCode, message: &str) -> Response {
    let body = json!({"err_code": "INVALID_AUTH", "err_msg": message, "request_id": "fake"});
    (status, [("dg-error", message)], axum::Json(body)).into_response()
}

/// Voice detection state of one session, in audio milliseconds.
#[derive(Debug, Default)]
struct Detector {
    position_ms: f64,
    in_voice: bool,
    voice_start_ms: f64,
    voice_ms: f64,
    silence_ms: f64,
    interim_sent: bool,
    /// When the utterance's last voiced audio arrived.
    last_voice_at: Option<std::time::Instant>,
}

async fn session(mut socket: WebSocket, shared: Arc<Shared>) {
    let request_id = format!("fake-{}", shared.connections.load(Ordering::SeqCst));
    let mut d = Detector::default();
    while let Some(Ok(message)) = socket.recv().await {
        let replies = match message {
            Message::Binary(audio) => {
                let arrived = std::time::Instant::now();
                shared
                    .received_bytes
                    .fetch_add(audio.len() as u64, Ordering::SeqCst);
                // Judge 20 ms at a time whatever the message size.
                let mut replies = Vec::new();
                for frame in audio.chunks(160) {
                    replies.extend(on_frame(&mut d, frame, arrived, &shared, &request_id));
                }
                replies
            }
            Message::Text(text) => {
                let kind = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_owned));
                match kind.as_deref() {
                    Some("KeepAlive") => {
                        shared.keepalives.fetch_add(1, Ordering::SeqCst);
                        Vec::new()
                    }
                    Some("CloseStream") => {
                        let mut last = Vec::new();
                        if d.in_voice {
                            last.extend(end_utterance(&mut d, &shared, &request_id));
                        }
                        last.push(metadata(&d, &request_id));
                        for reply in last {
                            let _ = socket.send(Message::Text(reply.to_string().into())).await;
                        }
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: 1000,
                                reason: "".into(),
                            })))
                            .await;
                        return;
                    }
                    other => {
                        tracing::debug!(?other, "fake deepgram: ignoring text message");
                        Vec::new()
                    }
                }
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => Vec::new(),
        };
        for reply in replies {
            if socket
                .send(Message::Text(reply.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

fn on_frame(
    d: &mut Detector,
    frame: &[u8],
    arrived: std::time::Instant,
    shared: &Shared,
    request_id: &str,
) -> Vec<Value> {
    let mut pcm = Vec::with_capacity(frame.len());
    voice::mulaw::decode(frame, &mut pcm);
    let ms = frame.len() as f64 / 8.0;
    let loud = voice::pcm::rms_dbfs(&pcm) > VOICE_DBFS;
    let mut out = Vec::new();
    if loud {
        if !d.in_voice {
            d.in_voice = true;
            d.voice_start_ms = d.position_ms;
            d.voice_ms = 0.0;
            d.interim_sent = false;
            out.push(json!({
                "type": "SpeechStarted",
                "channel": [0],
                "timestamp": d.position_ms / 1000.0,
            }));
        }
        d.silence_ms = 0.0;
        d.voice_ms += ms;
        d.last_voice_at = Some(arrived);
        if !d.interim_sent && d.voice_ms >= INTERIM_AFTER_MS {
            d.interim_sent = true;
            let first_word = shared
                .transcripts
                .lock()
                .unwrap()
                .front()
                .and_then(|t| t.split_whitespace().next().map(str::to_owned))
                .unwrap_or_default();
            out.push(results(d, &first_word, false, false, request_id));
        }
    } else if d.in_voice {
        d.silence_ms += ms;
    }
    d.position_ms += ms;
    if d.in_voice && d.silence_ms >= ENDPOINT_MS {
        out.extend(end_utterance(d, shared, request_id));
    }
    out
}

fn end_utterance(d: &mut Detector, shared: &Shared, request_id: &str) -> Vec<Value> {
    d.in_voice = false;
    if let Some(heard) = d.last_voice_at.take() {
        shared.spans.answered_now(heard);
    }
    let transcript = shared
        .transcripts
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_default();
    vec![
        results(d, &transcript, true, true, request_id),
        json!({
            "type": "UtteranceEnd",
            "channel": [0, 1],
            "last_word_end": (d.voice_start_ms + d.voice_ms) / 1000.0,
        }),
    ]
}

fn results(
    d: &Detector,
    transcript: &str,
    is_final: bool,
    speech_final: bool,
    request_id: &str,
) -> Value {
    let words: Vec<Value> = transcript
        .split_whitespace()
        .map(|w| json!({"word": w.to_lowercase(), "start": d.voice_start_ms / 1000.0, "end": (d.voice_start_ms + d.voice_ms) / 1000.0, "confidence": 0.98, "punctuated_word": w}))
        .collect();
    json!({
        "type": "Results",
        "channel_index": [0, 1],
        "duration": (d.position_ms - d.voice_start_ms) / 1000.0,
        "start": d.voice_start_ms / 1000.0,
        "is_final": is_final,
        "speech_final": speech_final,
        "from_finalize": false,
        "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.98, "words": words}]},
        "metadata": {
            "request_id": request_id,
            "model_info": {"name": "fake", "version": "0", "arch": "fake"},
            "model_uuid": "00000000-0000-0000-0000-000000000000"
        }
    })
}

fn metadata(d: &Detector, request_id: &str) -> Value {
    json!({
        "type": "Metadata",
        "transaction_key": "deprecated",
        "request_id": request_id,
        "sha256": "0".repeat(64),
        "created": "2025-01-01T00:00:00.000Z",
        "duration": d.position_ms / 1000.0,
        "channels": 1,
        "models": ["00000000-0000-0000-0000-000000000000"],
        "model_info": {"00000000-0000-0000-0000-000000000000": {"name": "fake", "version": "0", "arch": "fake"}}
    })
}
