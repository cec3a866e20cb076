//! A fake OpenAI speech endpoint (`POST /v1/audio/speech`, `response_format: "pcm"`).
//!
//! Answers with a streamed (chunked) body of raw 24 kHz 16-bit little-endian mono PCM: a 440 Hz
//! tone of [`MS_PER_CHAR`] per character of `input`, at most [`MAX_MS`]. The body is sent in
//! chunks of odd byte lengths (so samples are split across chunks) with a short pause between
//! chunks, faster than real time like the real service. Bearer auth is required (401 without);
//! an empty `input` or another `response_format` gets a 400 with OpenAI's error JSON.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::http_server::LocalServer;
use crate::timing::{ModelSpan, ModelSpans};

/// Audio length per character of input.
pub const MS_PER_CHAR: u64 = 50;
/// Longest answer.
pub const MAX_MS: u64 = 10_000;
/// Output sample rate of OpenAI's `pcm` format.
pub const SAMPLE_RATE: u32 = 24_000;
/// Pause between body chunks (each chunk is about 100 ms of audio).
const CHUNK_PAUSE: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<(String, String)>>,
    spans: ModelSpans,
}

/// See the module documentation.
#[derive(Debug)]
pub struct FakeOpenAiTts {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl FakeOpenAiTts {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let router = axum::Router::new()
            .route("/v1/audio/speech", post(speech))
            .with_state(shared.clone());
        Self {
            server: LocalServer::start(router).await,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT/v1`, for `OpenAiTtsConfig::base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.server.addr)
    }

    /// From each request's arrival to its first audio going out.
    pub fn model_spans(&self) -> Vec<ModelSpan> {
        self.shared.spans.all()
    }

    /// `(voice, input)` of every accepted request, in order.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The audio length the fake produces for `text`.
    pub fn expected_ms(text: &str) -> u64 {
        (text.chars().count() as u64 * MS_PER_CHAR).min(MAX_MS)
    }
}

fn openai_error(status: StatusCode, message: &str, kind: &str, param: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": null}});
    (status, axum::Json(body)).into_response()
}

async fn speech(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let heard = std::time::Instant::now();
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| !key.trim().is_empty());
    if !authorized {
        return openai_error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key.",
            "invalid_request_error",
            None,
        );
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            None,
        );
    };
    let input = request["input"].as_str().unwrap_or_default().to_owned();
    let voice = request["voice"].as_str().unwrap_or_default().to_owned();
    if request["model"].as_str().is_none_or(str::is_empty) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            "invalid_request_error",
            Some("model"),
        );
    }
    if input.is_empty() {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "[{'type': 'string_too_short', 'loc': ('body', 'input'), 'msg': 'String should have at least 1 character'}]",
            "invalid_request_error",
            Some("input"),
        );
    }
    if request["response_format"].as_str() != Some("pcm") {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "the fake only serves response_format \"pcm\"",
            "invalid_request_error",
            Some("response_format"),
        );
    }
    shared.requests.lock().unwrap().push((voice, input.clone()));

    let ms = FakeOpenAiTts::expected_ms(&input);
    let samples = voice::pcm::sine(440.0, SAMPLE_RATE, ms as u32, 0.3);
    let bytes = voice::pcm::i16_to_le_bytes(&samples);
    // ~100 ms per chunk, odd lengths alternating so samples straddle chunk boundaries.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let spans = shared.spans.clone();
    tokio::spawn(async move {
        let mut rest = bytes.as_slice();
        let mut first = true;
        let mut odd = true;
        while !rest.is_empty() {
            let size = if odd { 4801 } else { 4799 }.min(rest.len());
            odd = !odd;
            let (chunk, later) = rest.split_at(size);
            if tx.send(Ok(chunk.to_vec())).await.is_err() {
                return; // client went away
            }
            if std::mem::take(&mut first) {
                spans.answered_now(heard);
            }
            rest = later;
            tokio::time::sleep(CHUNK_PAUSE).await;
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from_stream(stream))
        .expect("static response parts")
}
