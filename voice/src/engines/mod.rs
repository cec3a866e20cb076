//! Voice engines.
//!
//! - [`cascaded`]: speech-to-text → (the call workflow's LLM) → text-to-speech.
//! - [`offline`]: the cascaded engine with local parts only (Whisper sidecar, flite, rules).
//! - [`openai_realtime`]: OpenAI Realtime (GA protocol); speaks μ-law 8 kHz natively, so audio
//!   passes through untouched.
//! - [`gemini_live`]: Gemini Live; 16 kHz PCM in, 24 kHz PCM out, resampled inside.
//!
//! The speech-to-speech engines hold one WebSocket per call and run two tokio tasks per call: a reader (server events → [`EngineEvent`]s) and a
//! writer ([`EngineInput`]s → client events). Dropping the session's input sender makes the
//! writer close the WebSocket; the reader then ends and drops the event sender.
//!
//! [`EngineEvent`]: crate::engine::EngineEvent
//! [`EngineInput`]: crate::engine::EngineInput

pub mod cascaded;
pub mod gemini_live;
pub mod offline;
pub mod openai_realtime;

pub use gemini_live::{GeminiLive, GeminiLiveConfig};
pub use openai_realtime::{OpenAiRealtime, OpenAiRealtimeConfig};

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::engine::EngineError;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long `start` waits for the WebSocket upgrade and for the session to be configured.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After the writer sent a close frame, how long the reader waits for the server's close.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Capacity of the session channels (a few seconds of 20 ms frames).
pub(crate) const CHANNEL_CAPACITY: usize = 256;

/// Read buffer of a provider's WebSocket. tungstenite zeroes its whole read buffer before every
/// read, 128 KiB by default; a provider's messages are a few KiB (larger ones still fit).
const READ_BUFFER: usize = 16 * 1024;

/// The WebSocket settings of every provider connection.
fn ws_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

/// Connects a provider's WebSocket (a model's or Deepgram's) with [`ws_config`] and Nagle's
/// algorithm off: each event goes out as it is made. A tool result is two small events (the
/// output, then `response.create`), and Nagle would hold the second until the first is
/// acknowledged — a delayed ACK's worth of silence before the answer.
pub(crate) async fn connect_provider(
    request: tungstenite::handshake::client::Request,
) -> Result<Ws, tungstenite::Error> {
    let disable_nagle = true;
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(ws_config()), disable_nagle)
            .await?;
    Ok(ws)
}

/// Opens the WebSocket of `request` within [`HANDSHAKE_TIMEOUT`].
pub(crate) async fn open_ws(
    request: tungstenite::handshake::client::Request,
) -> Result<Ws, EngineError> {
    let connect = connect_provider(request);
    tokio::time::timeout(HANDSHAKE_TIMEOUT, connect)
        .await
        .map_err(|_| EngineError::Connect("timed out connecting".into()))?
        .map_err(|e| EngineError::Connect(describe_ws_error(&e)))
}

/// A string setting of the agent (`settings.model`, `settings.voice` …), if set and non-empty.
pub(crate) fn setting_str<'a>(settings: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    settings
        .get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A WebSocket error described without the request URL (which may carry an API key).
pub(crate) fn describe_ws_error(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status()),
        tungstenite::Error::Io(e) => format!("I/O error: {}", e.kind()),
        tungstenite::Error::Url(_) => "invalid URL".to_owned(),
        other => other.to_string(),
    }
}

/// The text of a data frame (servers may send JSON as text or binary frames); `None` for
/// control frames.
pub(crate) fn frame_text(message: &Message) -> Option<Result<&str, std::str::Utf8Error>> {
    match message {
        Message::Text(text) => Some(Ok(text.as_str())),
        Message::Binary(bytes) => Some(std::str::from_utf8(bytes)),
        _ => None,
    }
}

/// Sends one JSON client event.
pub(crate) async fn send_json(ws: &mut Ws, value: &serde_json::Value) -> Result<(), EngineError> {
    ws.send(Message::text(value.to_string()))
        .await
        .map_err(|e| EngineError::Connect(describe_ws_error(&e)))
}

/// Reads server messages during the handshake until `accept` returns `Some` (done) for one of
/// them. Non-JSON frames are skipped; a close or a timeout is an error.
pub(crate) async fn await_server<T>(
    ws: &mut Ws,
    what: &str,
    mut accept: impl FnMut(&serde_json::Value) -> Option<Result<T, EngineError>>,
) -> Result<T, EngineError> {
    let wait = async {
        while let Some(message) = ws.next().await {
            let message = message.map_err(|e| EngineError::Connect(describe_ws_error(&e)))?;
            if let Message::Close(frame) = &message {
                let reason = frame
                    .as_ref()
                    .map(|f| format!("{} {}", f.code, f.reason))
                    .unwrap_or_default();
                return Err(EngineError::Protocol(format!(
                    "connection closed while waiting for {what}: {reason}"
                )));
            }
            let Some(Ok(text)) = frame_text(&message) else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
                tracing::warn!(
                    what,
                    "skipping a malformed server frame during the handshake"
                );
                continue;
            };
            if let Some(done) = accept(&value) {
                return done;
            }
        }
        Err(EngineError::Protocol(format!(
            "connection closed while waiting for {what}"
        )))
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, wait)
        .await
        .map_err(|_| EngineError::Protocol(format!("timed out waiting for {what}")))?
}
