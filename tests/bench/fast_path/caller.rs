//! The caller's side of one call, as Twilio's Media Streams speaks it, timed in microseconds:
//! `connected` and `start` (with the `<Stream>`'s parameters), then one 20 ms `media` frame of
//! μ-law every 20 ms on the call's media clock (queued voice, else silence), marks echoed as
//! they arrive (the agent's audio arrives paced in real time, so its marks are due then), and
//! every agent frame's arrival time kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{SinkExt as _, StreamExt as _};
use telephony::media_stream::{Inbound, Mark, Outbound, StopPayload};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// μ-law bytes in one 20 ms frame.
const FRAME: usize = 160;
/// μ-law silence.
const SILENCE: u8 = 0xFF;

/// Where and as whom the caller connects.
pub(crate) struct StreamTarget {
    pub(crate) ws_url: String,
    pub(crate) auth_token: String,
    pub(crate) account_sid: String,
    pub(crate) call_sid: String,
    pub(crate) parameters: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    /// Voice frames still to send.
    voice: VecDeque<[u8; FRAME]>,
    /// When the last voice frame left (after the write).
    last_voice_sent: Option<Instant>,
    /// Arrival of every agent `media` frame.
    agent_frames: Vec<Instant>,
    closed: bool,
}

/// One connected caller; dropping it ends its tasks.
pub(crate) struct Caller {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    hang_up: Option<mpsc::UnboundedSender<()>>,
    line: tokio::task::JoinHandle<Result<()>>,
    receiver: tokio::task::JoinHandle<()>,
}

impl Drop for Caller {
    fn drop(&mut self) {
        self.line.abort();
        self.receiver.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Caller {
    pub(crate) async fn connect(target: StreamTarget) -> Result<Caller> {
        let mut request = target.ws_url.as_str().into_client_request()?;
        let signature = telephony::compute_signature(&target.auth_token, &target.ws_url, &[]);
        request
            .headers_mut()
            .insert("X-Twilio-Signature", HeaderValue::from_str(&signature)?);
        // A phone line sends each packet when it is due (no Nagle batching).
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .with_context(|| format!("connecting the media stream {}", target.ws_url))?;
        let (mut sink, mut source) = ws.split();
        let stream_sid = format!("MZ{}", &target.call_sid[2..]);
        let opening = Inbound::opening(
            &target.account_sid,
            &target.call_sid,
            &stream_sid,
            target.parameters.into_iter().collect(),
        );
        for message in opening {
            sink.send(Message::text(message.to_json())).await?;
        }

        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let (marks_tx, marks_rx) = mpsc::unbounded_channel::<String>();
        let (hang_up_tx, hang_up_rx) = mpsc::unbounded_channel::<()>();
        let line = tokio::spawn(run_line(
            sink,
            Arc::clone(&state),
            Arc::clone(&changed),
            marks_rx,
            hang_up_rx,
            (stream_sid, target.account_sid, target.call_sid),
        ));
        let receiver_state = Arc::clone(&state);
        let receiver_changed = Arc::clone(&changed);
        let receiver = tokio::spawn(async move {
            while let Some(Ok(message)) = source.next().await {
                let arrived = Instant::now();
                let Message::Text(text) = message else {
                    continue;
                };
                match telephony::media_stream::parse_outbound(&text) {
                    Ok(Some(Outbound::Media { .. })) => {
                        lock(&receiver_state).agent_frames.push(arrived);
                        receiver_changed.notify_waiters();
                    }
                    Ok(Some(Outbound::Mark { mark, .. })) => {
                        let _ = marks_tx.send(mark.name);
                    }
                    _ => {}
                }
            }
            lock(&receiver_state).closed = true;
            receiver_changed.notify_waiters();
        });
        Ok(Caller {
            state,
            changed,
            hang_up: Some(hang_up_tx),
            line,
            receiver,
        })
    }

    /// Queues `ms` of a 440 Hz tone at about −10 dBFS: the caller's turn.
    pub(crate) fn say(&self, ms: u32) {
        let audio = voice::mulaw::tone(440.0, ms, 0.3);
        let mut state = lock(&self.state);
        for chunk in audio.chunks(FRAME) {
            let mut frame = [SILENCE; FRAME];
            frame[..chunk.len()].copy_from_slice(chunk);
            state.voice.push_back(frame);
        }
    }

    /// Waits until every queued voice frame has left; when the last one did.
    pub(crate) async fn said(&self, timeout: Duration) -> Result<Instant> {
        self.wait(timeout, "the caller's voice to go out", |s| {
            s.voice.is_empty().then_some(s.last_voice_sent).flatten()
        })
        .await
    }

    /// The arrival of the first agent frame after `after`.
    pub(crate) async fn first_agent_frame_after(
        &self,
        after: Instant,
        timeout: Duration,
    ) -> Result<Instant> {
        self.wait(timeout, "the agent's audio", |s| {
            s.agent_frames
                .iter()
                .rev()
                .take_while(|&&t| t > after)
                .last()
                .copied()
        })
        .await
    }

    /// Waits until agent audio has come and then stopped for `quiet`.
    pub(crate) async fn agent_quiet(&self, quiet: Duration, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = lock(&self.state).agent_frames.last().copied();
            if let Some(last) = last
                && last.elapsed() >= quiet
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("the agent did not go quiet within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut(&State) -> Option<T>,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            {
                let state = lock(&self.state);
                if let Some(value) = ready(&state) {
                    return Ok(value);
                }
                if state.closed {
                    bail!("the stream closed while waiting for {what}");
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                bail!("no {what} within {timeout:?}");
            }
        }
    }

    /// Sends `stop` and closes the socket, as Twilio does when the caller hangs up.
    pub(crate) async fn hang_up(mut self) -> Result<()> {
        if let Some(tx) = self.hang_up.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(Duration::from_secs(5), &mut self.line).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(e.into()),
            Err(_) => bail!("the line did not hang up within 5 s"),
        }
    }
}

/// The line: one frame per 20 ms of media time (late ticks go out back to back, as a phone
/// line's packets do), mark echoes, and `stop`. Every message leaves here, in order.
async fn run_line(
    mut sink: futures::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        Message,
    >,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    mut marks: mpsc::UnboundedReceiver<String>,
    mut hang_up: mpsc::UnboundedReceiver<()>,
    (stream_sid, account_sid, call_sid): (String, String, String),
) -> Result<()> {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sequence = 1u64;
    let mut chunk = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let voice = lock(&state).voice.pop_front();
                let frame = voice.unwrap_or([SILENCE; FRAME]);
                sequence += 1;
                chunk += 1;
                let media = Inbound::media(sequence, &stream_sid, chunk, &frame);
                sink.send(Message::text(media.to_json())).await?;
                if voice.is_some() {
                    lock(&state).last_voice_sent = Some(Instant::now());
                    changed.notify_waiters();
                }
            }
            Some(name) = marks.recv() => {
                sequence += 1;
                let echo = Inbound::Mark {
                    sequence_number: sequence,
                    stream_sid: stream_sid.clone(),
                    mark: Mark { name },
                };
                sink.send(Message::text(echo.to_json())).await?;
            }
            _ = hang_up.recv() => {
                sequence += 1;
                let stop = Inbound::Stop {
                    sequence_number: sequence,
                    stream_sid: stream_sid.clone(),
                    stop: StopPayload { account_sid, call_sid },
                };
                sink.send(Message::text(stop.to_json())).await?;
                let _ = sink.close().await;
                return Ok(());
            }
        }
    }
}
