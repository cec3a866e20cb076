//! `<Connect><Stream>`: a [`MediaStreamClient`] to the URL, signed over that URL, with the
//! `<Parameter>`s; the person's speech and keys go into the stream, the server's audio is
//! heard by the person, and the phone's voice-to-voice turns go on the transcript. Stream
//! status callbacks (`stream-started`, `stream-stopped`, `stream-error`). When the socket
//! closes the next verb runs.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

use crate::call::person::Utterance;
use crate::call::{CallRun, End, Exit, Input, Step};
use crate::media_client::{MediaStreamClient, StreamConfig};
use crate::person::{Turn, is_silent};
use crate::state::{CallEventKind, Shared, new_sid, rfc2822_now};
use crate::twiml::StreamSpec;
use crate::webhooks::{self, Webhook};

/// How often the person's ear takes in what the stream has played.
const HEAR_EVERY: Duration = Duration::from_millis(100);
/// How long without sound ends a stretch of heard audio.
const STRETCH_GAP: Duration = Duration::from_millis(400);

pub(crate) async fn run(call: &mut CallRun, spec: &StreamSpec) -> Step {
    let stream_sid = new_sid("MZ");
    let url = call.resolve(&spec.url);
    let cfg = StreamConfig {
        ws_url: url.clone(),
        signed_url: url.clone(),
        auth_token: Some(call.shared.settings.auth_token.clone()),
        account_sid: call.shared.settings.account_sid.clone(),
        call_sid: call.sid.clone(),
        stream_sid: stream_sid.clone(),
        custom_parameters: spec.parameters.iter().cloned().collect::<BTreeMap<_, _>>(),
    };
    let notifier = StreamNotifier {
        shared: call.shared.clone(),
        call_sid: call.sid.clone(),
        url: spec.status_callback.as_deref().map(|cb| call.resolve(cb)),
        method: spec.status_callback_method.clone(),
        name: spec.name.clone().unwrap_or_else(|| stream_sid.clone()),
        stream_sid: stream_sid.clone(),
    };
    let client = match MediaStreamClient::connect(cfg).await {
        Ok(c) => c,
        Err(e) => {
            let message = format!("Stream - WebSocket - Handshake Error: {url}: {e}");
            notifier.send("stream-error", Some(&message));
            call.shared
                .notify_error(Some(&call.sid), 31920, message, Some(&url));
            return ControlFlow::Continue(());
        }
    };
    call.event(CallEventKind::Stream {
        event: "started".into(),
        detail: format!("{url} {stream_sid}"),
    });
    notifier.send("stream-started", None);
    Streaming::new(client, notifier, url, &call.shared)
        .run(call)
        .await
}

/// A running stream and what has been reported of it.
struct Streaming {
    client: MediaStreamClient,
    notifier: StreamNotifier,
    url: String,
    /// When fault injection drops the stream.
    drop_at: Option<Instant>,
    heard_cursor: usize,
    turns_reported: usize,
    stretch_ms: u64,
    last_sound: Instant,
    last_check: Instant,
}

impl Streaming {
    fn new(
        client: MediaStreamClient,
        notifier: StreamNotifier,
        url: String,
        shared: &Shared,
    ) -> Self {
        let drop_at = shared
            .faults()
            .config
            .drop_stream_after_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        Self {
            client,
            notifier,
            url,
            drop_at,
            heard_cursor: 0,
            turns_reported: 0,
            stretch_ms: 0,
            last_sound: Instant::now(),
            last_check: Instant::now(),
        }
    }

    /// Until the socket closes (the next verb runs), the fault drops it, the person hangs up
    /// or a REST command interrupts (the stream stops).
    async fn run(mut self, call: &mut CallRun) -> Step {
        loop {
            let tick = Instant::now() + Duration::from_millis(20);
            match call.wait(Some(tick)).await {
                Input::Person(Utterance::Speech { audio, .. }) => self.client.say(audio),
                Input::Person(Utterance::Digit(d)) => {
                    let _ = self.client.press(d);
                }
                Input::Person(Utterance::HangUp) => {
                    self.stop(call, "caller hung up").await;
                    return ControlFlow::Break(Exit::End(End::PersonHungUp));
                }
                Input::Command(c) => {
                    self.stop(call, "call updated").await;
                    return ControlFlow::Break(call.command_exit(c));
                }
                Input::Timeout => {}
            }
            let now = Instant::now();
            if now.duration_since(self.last_check) >= HEAR_EVERY {
                self.last_check = now;
                self.hear(call, now);
            }
            if self.drop_at.is_some_and(|d| now >= d) {
                self.dropped(call);
                return ControlFlow::Continue(());
            }
            if self.client.wait_closed(Duration::ZERO).await.is_ok() {
                self.closed(call);
                return ControlFlow::Continue(());
            }
        }
    }

    /// What the stream has played since the last look reaches the person's ear.
    fn hear(&mut self, call: &CallRun, now: Instant) {
        let heard = self.client.heard_mulaw();
        if heard.len() > self.heard_cursor {
            let new = &heard[self.heard_cursor..];
            self.heard_cursor = heard.len();
            if !is_silent(new) {
                call.person.ear.hear_live(new);
                self.stretch_ms += new.len() as u64 / 8;
                self.last_sound = now;
            }
        }
        if self.stretch_ms > 0 && now.duration_since(self.last_sound) >= STRETCH_GAP {
            call.event(CallEventKind::StreamAudio {
                ms: self.stretch_ms,
            });
            self.stretch_ms = 0;
        }
        self.report_turns(call, self.client.voice_turns());
    }

    /// Logs the caller turns after those already reported (voice-to-voice latency).
    fn report_turns(&mut self, call: &CallRun, turns: Vec<Turn>) {
        for turn in turns.into_iter().skip(self.turns_reported) {
            self.turns_reported += 1;
            call.event(CallEventKind::from(turn));
        }
    }

    /// The call hangs the stream up.
    async fn stop(mut self, call: &CallRun, why: &str) {
        self.report_turns(call, self.client.finish_voice_turns());
        let _ = self.client.hang_up().await;
        self.notifier.send("stream-stopped", None);
        call.event(CallEventKind::Stream {
            event: "stopped".into(),
            detail: why.into(),
        });
    }

    /// Fault injection cuts the stream.
    fn dropped(mut self, call: &CallRun) {
        self.report_turns(call, self.client.finish_voice_turns());
        drop(self.client);
        let message = "fault injection: stream connection dropped".to_owned();
        self.notifier.send("stream-error", Some(&message));
        call.shared
            .notify_error(Some(&call.sid), 31921, message, Some(&self.url));
    }

    /// The server closed the socket.
    fn closed(mut self, call: &CallRun) {
        self.report_turns(call, self.client.finish_voice_turns());
        if self.stretch_ms > 0 {
            call.event(CallEventKind::StreamAudio {
                ms: self.stretch_ms,
            });
        }
        self.notifier.send("stream-stopped", None);
        call.event(CallEventKind::Stream {
            event: "stopped".into(),
            detail: "server closed the WebSocket".into(),
        });
    }
}

/// Sends a stream's status callbacks.
struct StreamNotifier {
    shared: Shared,
    call_sid: String,
    url: Option<String>,
    method: String,
    name: String,
    stream_sid: String,
}

impl StreamNotifier {
    fn send(&self, event: &str, error: Option<&str>) {
        let Some(url) = &self.url else { return };
        let mut params = vec![
            (
                "AccountSid".to_owned(),
                self.shared.settings.account_sid.clone(),
            ),
            ("CallSid".into(), self.call_sid.clone()),
            ("StreamSid".into(), self.stream_sid.clone()),
            ("StreamName".into(), self.name.clone()),
            ("StreamEvent".into(), event.to_owned()),
            ("Timestamp".into(), rfc2822_now()),
        ];
        if let Some(e) = error {
            params.push(("StreamError".into(), e.to_owned()));
        }
        let hook = Webhook::post(url, params, &format!("stream:{event}")).with_method(&self.method);
        webhooks::spawn_callback(&self.shared, hook, Some(&self.call_sid));
    }
}
