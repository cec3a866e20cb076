//! Deepgram live streaming speech-to-text (`wss://api.deepgram.com/v1/listen`).
//!
//! Protocol: one WebSocket per call, authenticated with `Authorization: Token <key>`; the options
//! travel in the query string. Audio goes up as binary frames of raw μ-law; control messages are
//! JSON text frames: `{"type":"KeepAlive"}` when no audio has been sent for a while (Deepgram
//! closes an idle stream after 10 s) and `{"type":"CloseStream"}` to finish (Deepgram then
//! flushes its last results, sends `Metadata` and closes).
//!
//! Down come `Results` (`channel.alternatives[0].transcript`, `is_final`, `speech_final`),
//! `SpeechStarted` (`vad_events=true`), `UtteranceEnd` (`utterance_end_ms`) and `Metadata`.
//! Anything else, or anything malformed, is logged and skipped.
//!
//! Turns: `is_final` pieces are appended to the turn text; the turn ends on `speech_final`
//! (endpointing saw a pause) or on `UtteranceEnd` (the word-gap fallback that still works in
//! noise), whichever comes first. The other one then finds an empty turn and is ignored.

use std::time::Duration;

use domain::Secret;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest, http};
use tracing::{debug, trace, warn};

use super::{SttError, SttEvent, SttOptions, SttProvider, SttSession};

/// How long to wait for Deepgram to close after `CloseStream` before closing ourselves.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Capacity of the audio and event channels (frames / events).
const CHANNEL_CAPACITY: usize = 256;

/// Where and how to reach Deepgram.
#[derive(Debug, Clone)]
pub struct DeepgramConfig {
    /// Streaming endpoint, normally `wss://api.deepgram.com/v1/listen`.
    pub url: String,
    pub api_key: Secret<String>,
    /// Default model, e.g. `nova-3`.
    pub model: String,
    /// Default language, e.g. `en-US`; `None` leaves it to Deepgram.
    pub language: Option<String>,
    /// Send a `KeepAlive` after this long without audio. Deepgram closes a stream that got
    /// nothing for 10 s and asks for one every 3–5 s; the default is 4 s.
    pub keepalive_after: Duration,
}

impl DeepgramConfig {
    /// Production endpoint, `nova-3`, no language given.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            url: "wss://api.deepgram.com/v1/listen".into(),
            api_key: Secret::new(api_key.into()),
            model: "nova-3".into(),
            language: None,
            keepalive_after: Duration::from_secs(4),
        }
    }
}

/// [`SttProvider`] for Deepgram's live streaming API.
#[derive(Debug, Clone)]
pub struct DeepgramStt {
    config: DeepgramConfig,
}

impl DeepgramStt {
    pub fn new(config: DeepgramConfig) -> Self {
        Self { config }
    }

    /// The WebSocket URL with every streaming option in the query.
    fn listen_url(&self, opts: &SttOptions) -> Result<url::Url, SttError> {
        let mut url = url::Url::parse(&self.config.url)
            .map_err(|e| SttError::NotConfigured(format!("bad Deepgram URL: {e}")))?;
        let model = opts.model.as_deref().unwrap_or(&self.config.model);
        let language = opts.language.as_deref().or(self.config.language.as_deref());
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("encoding", "mulaw")
                .append_pair("sample_rate", "8000")
                .append_pair("channels", "1")
                .append_pair("model", model)
                .append_pair("interim_results", "true")
                .append_pair("vad_events", "true")
                .append_pair("endpointing", "300")
                .append_pair("utterance_end_ms", "1000")
                .append_pair("smart_format", "true");
            if let Some(language) = language {
                q.append_pair("language", language);
            }
        }
        Ok(url)
    }
}

#[async_trait::async_trait]
impl SttProvider for DeepgramStt {
    fn name(&self) -> &'static str {
        "deepgram"
    }

    async fn start(&self, opts: SttOptions) -> Result<SttSession, SttError> {
        if self.config.api_key.is_empty() {
            return Err(SttError::NotConfigured("no Deepgram API key".into()));
        }
        let url = self.listen_url(&opts)?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| SttError::NotConfigured(format!("bad Deepgram URL: {e}")))?;
        let auth = http::HeaderValue::from_str(&format!("Token {}", self.config.api_key.expose()))
            .map_err(|_| {
                SttError::NotConfigured("Deepgram API key is not a header value".into())
            })?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, auth);

        let ws = crate::engines::connect_provider(request)
            .await
            .map_err(connect_error)?;
        debug!(model = %opts.model.as_deref().unwrap_or(&self.config.model), "deepgram connected");

        let (sink, stream) = ws.split();
        let (audio_tx, audio_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (reader_done_tx, reader_done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(write_audio(
            sink,
            audio_rx,
            reader_done_rx,
            self.config.keepalive_after,
        ));
        tokio::spawn(async move {
            read_events(stream, event_tx).await;
            let _ = reader_done_tx.send(());
        });
        Ok(SttSession {
            audio: audio_tx,
            events: event_rx,
        })
    }
}

fn connect_error(e: tungstenite::Error) -> SttError {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            // Deepgram puts the reason in `dg-error`, and sometimes a JSON body.
            let header = response
                .headers()
                .get("dg-error")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            SttError::Rejected {
                status,
                message: header.or(body).unwrap_or_default(),
            }
        }
        other => SttError::Connect(other.to_string()),
    }
}

/// Forwards audio; `KeepAlive` when idle; `CloseStream` once the audio sender is dropped, and a
/// WebSocket close if Deepgram has not closed within [`CLOSE_GRACE`] after that.
async fn write_audio<S>(
    mut sink: S,
    mut audio: mpsc::Receiver<Vec<u8>>,
    mut reader_done: tokio::sync::oneshot::Receiver<()>,
    keepalive_after: Duration,
) where
    S: futures::Sink<Message, Error = tungstenite::Error> + Unpin,
{
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(keepalive_after, audio.recv()) => next,
            _ = &mut reader_done => return, // the connection is gone
        };
        match next {
            Ok(Some(frame)) => {
                if frame.is_empty() {
                    continue; // an empty binary frame would tell Deepgram to close
                }
                if let Err(e) = sink.send(Message::binary(frame)).await {
                    debug!(error = %e, "deepgram: audio send failed; stopping writer");
                    return;
                }
            }
            Ok(None) => break,
            Err(_idle) => {
                trace!("deepgram: keepalive");
                if let Err(e) = sink.send(Message::text(r#"{"type":"KeepAlive"}"#)).await {
                    debug!(error = %e, "deepgram: keepalive failed; stopping writer");
                    return;
                }
            }
        }
    }
    debug!("deepgram: audio finished; closing stream");
    if let Err(e) = sink.send(Message::text(r#"{"type":"CloseStream"}"#)).await {
        debug!(error = %e, "deepgram: CloseStream failed");
        return;
    }
    // Deepgram flushes its last results and closes; the reader sees that and ends.
    if tokio::time::timeout(CLOSE_GRACE, &mut reader_done)
        .await
        .is_err()
    {
        warn!("deepgram: no close after CloseStream; closing the socket");
        let _ = sink.send(Message::Close(None)).await;
    }
}

/// One Deepgram message, as much as we read of it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum ServerMessage {
    Results(ResultsMessage),
    SpeechStarted {},
    UtteranceEnd {},
    Metadata {
        #[serde(default)]
        request_id: Option<String>,
        #[serde(default)]
        duration: Option<f64>,
    },
}

#[derive(Debug, Deserialize)]
struct ResultsMessage {
    channel: ResultsChannel,
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    speech_final: bool,
}

#[derive(Debug, Deserialize)]
struct ResultsChannel {
    #[serde(default)]
    alternatives: Vec<Alternative>,
}

#[derive(Debug, Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
}

/// Turns Deepgram's messages into [`SttEvent`]s, keeping the text of the current turn.
#[derive(Debug, Default)]
pub(crate) struct TurnAssembler {
    finalized: String,
}

impl TurnAssembler {
    /// The events one text message produces (none for unknown or malformed messages).
    pub(crate) fn on_text(&mut self, text: &str) -> Vec<SttEvent> {
        let message: ServerMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                let kind = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
                match kind {
                    Some(kind) => debug!(%kind, error = %e, "deepgram: skipping message"),
                    None => warn!(error = %e, "deepgram: skipping malformed message"),
                }
                return Vec::new();
            }
        };
        match message {
            ServerMessage::SpeechStarted {} => vec![SttEvent::SpeechStarted],
            ServerMessage::UtteranceEnd {} => self.end_turn().into_iter().collect(),
            ServerMessage::Metadata {
                request_id,
                duration,
            } => {
                debug!(?request_id, ?duration, "deepgram: metadata");
                Vec::new()
            }
            ServerMessage::Results(r) => self.on_results(r),
        }
    }

    /// A transcript piece: an interim hypothesis, or a final piece that may end the turn.
    fn on_results(&mut self, r: ResultsMessage) -> Vec<SttEvent> {
        let piece = r
            .channel
            .alternatives
            .into_iter()
            .next()
            .map(|a| a.transcript)
            .unwrap_or_default();
        let piece = piece.trim();
        let mut events = Vec::new();
        if r.is_final {
            if !piece.is_empty() {
                if !self.finalized.is_empty() {
                    self.finalized.push(' ');
                }
                self.finalized.push_str(piece);
                if !r.speech_final {
                    events.push(SttEvent::Final {
                        text: self.finalized.clone(),
                        end_of_turn: false,
                    });
                }
            }
            if r.speech_final {
                events.extend(self.end_turn());
            }
        } else if !piece.is_empty() {
            let text = if self.finalized.is_empty() {
                piece.to_owned()
            } else {
                format!("{} {piece}", self.finalized)
            };
            events.push(SttEvent::Interim(text));
        }
        events
    }

    fn end_turn(&mut self) -> Option<SttEvent> {
        if self.finalized.is_empty() {
            return None;
        }
        Some(SttEvent::Final {
            text: std::mem::take(&mut self.finalized),
            end_of_turn: true,
        })
    }
}

/// Reads Deepgram's messages until the socket closes.
async fn read_events<S>(mut stream: S, events: mpsc::Sender<SttEvent>)
where
    S: futures::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let mut turns = TurnAssembler::default();
    while let Some(message) = stream.next().await {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                let _ = events
                    .send(SttEvent::Failed(format!("deepgram connection: {e}")))
                    .await;
                return;
            }
        };
        match message {
            Message::Text(text) => {
                for event in turns.on_text(&text) {
                    if events.send(event).await.is_err() {
                        return; // nobody listens any more
                    }
                }
            }
            Message::Close(frame) => {
                // 1000 is the normal end after CloseStream; anything else is an error
                // (e.g. 1011 NET-0001 when no audio arrived for 10 s).
                if let Some(frame) = frame
                    && frame.code != tungstenite::protocol::frame::coding::CloseCode::Normal
                {
                    let _ = events
                        .send(SttEvent::Failed(format!(
                            "deepgram closed the stream: {} {}",
                            u16::from(frame.code),
                            frame.reason
                        )))
                        .await;
                    return;
                }
                break;
            }
            Message::Binary(_) => debug!("deepgram: unexpected binary message"),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
    // Whatever was finalized but never ended (stream closed mid-turn) still counts as a turn.
    if let Some(last) = turns.end_turn() {
        let _ = events.send(last).await;
    }
    debug!("deepgram: stream closed");
}

/// Never prints the API key.
#[cfg(test)]
mod tests {
    use super::*;

    fn results(text: &str, is_final: bool, speech_final: bool) -> String {
        serde_json::json!({
            "type": "Results", "channel_index": [0, 1], "duration": 1.0, "start": 0.0,
            "is_final": is_final, "speech_final": speech_final,
            "channel": {"alternatives": [{"transcript": text, "confidence": 0.9, "words": []}]}
        })
        .to_string()
    }

    #[test]
    fn final_pieces_accumulate_until_speech_final() {
        let mut t = TurnAssembler::default();
        assert_eq!(
            t.on_text(r#"{"type":"SpeechStarted","channel":[0],"timestamp":0.5}"#),
            vec![SttEvent::SpeechStarted]
        );
        assert_eq!(
            t.on_text(&results("I'd like", false, false)),
            vec![SttEvent::Interim("I'd like".into())]
        );
        assert_eq!(
            t.on_text(&results("I'd like to book", true, false)),
            vec![SttEvent::Final {
                text: "I'd like to book".into(),
                end_of_turn: false
            }]
        );
        assert_eq!(
            t.on_text(&results("a table", false, false)),
            vec![SttEvent::Interim("I'd like to book a table".into())]
        );
        assert_eq!(
            t.on_text(&results("a table.", true, true)),
            vec![SttEvent::Final {
                text: "I'd like to book a table.".into(),
                end_of_turn: true
            }]
        );
        // The UtteranceEnd that follows finds an empty turn.
        assert!(
            t.on_text(r#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.1}"#)
                .is_empty()
        );
    }

    #[test]
    fn utterance_end_ends_a_turn_without_speech_final() {
        let mut t = TurnAssembler::default();
        t.on_text(&results("hello", true, false));
        assert_eq!(
            t.on_text(r#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.1}"#),
            vec![SttEvent::Final {
                text: "hello".into(),
                end_of_turn: true
            }]
        );
        // Empty speech_final (noise) ends nothing.
        assert!(t.on_text(&results("", true, true)).is_empty());
    }

    #[test]
    fn unknown_and_malformed_messages_are_skipped() {
        let mut t = TurnAssembler::default();
        assert!(
            t.on_text(r#"{"type":"Warning","description":"x"}"#)
                .is_empty()
        );
        assert!(t.on_text("not json").is_empty());
        assert!(t.on_text(r#"{"type":"Results"}"#).is_empty());
        assert!(
            t.on_text(r#"{"type":"Metadata","request_id":"r","duration":1.5,"channels":1}"#)
                .is_empty()
        );
    }

    #[test]
    fn url_carries_every_option() {
        let stt = DeepgramStt::new(DeepgramConfig {
            language: Some("en-US".into()),
            ..DeepgramConfig::new("k")
        });
        let url = stt.listen_url(&SttOptions::default()).unwrap();
        let q = url.query().unwrap();
        for part in [
            "encoding=mulaw",
            "sample_rate=8000",
            "channels=1",
            "model=nova-3",
            "interim_results=true",
            "vad_events=true",
            "endpointing=300",
            "utterance_end_ms=1000",
            "smart_format=true",
            "language=en-US",
        ] {
            assert!(q.contains(part), "{part} missing in {q}");
        }
    }
}
