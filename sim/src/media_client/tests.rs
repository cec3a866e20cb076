use super::*;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::Value;
use telephony::media_stream::{FRAME_BYTES, FRAME_MS, Outbound};
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use voice::mulaw::SILENCE;

const SIGNED_URL: &str = "wss://voice.example/twilio/media";
const TOKEN: &str = "test-auth-token";
const STEP: Duration = Duration::from_secs(5);

type ServerWs = WebSocketStream<TcpStream>;

struct Accepted {
    ws: ServerWs,
    signature: Option<String>,
}

/// A one-connection WebSocket server on 127.0.0.1:0 that, like our API, refuses the
/// upgrade with 403 unless `X-Twilio-Signature` is right for `TOKEN` and `SIGNED_URL`.
async fn serve_one() -> (String, oneshot::Receiver<Accepted>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/twilio/media", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let expected = telephony::compute_signature(TOKEN, SIGNED_URL, &[]);
        let mut seen = None;
        #[allow(
            clippy::result_large_err,
            reason = "the handshake callback signature is tungstenite's"
        )]
        let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            seen = req
                .headers()
                .get("X-Twilio-Signature")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if seen.as_deref() == Some(expected.as_str()) {
                Ok(resp)
            } else {
                let mut refusal = ErrorResponse::new(Some("bad signature".into()));
                *refusal.status_mut() = http::StatusCode::FORBIDDEN;
                Err(refusal)
            }
        };
        if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
            let _ = tx.send(Accepted {
                ws,
                signature: seen,
            });
        }
    });
    (url, rx)
}

fn config(ws_url: &str) -> StreamConfig {
    let mut cfg = StreamConfig::new(ws_url, SIGNED_URL);
    cfg.auth_token = Some(TOKEN.into());
    cfg.account_sid = "ACtest".into();
    cfg.call_sid = "CAtest".into();
    cfg.stream_sid = "MZtest".into();
    cfg.custom_parameters = BTreeMap::from([
        ("callSid".to_owned(), "CAtest".to_owned()),
        ("tenantId".to_owned(), "tenant-1".to_owned()),
    ]);
    cfg
}

/// Connects a phone and reads `connected` and `start` on the server side.
async fn call() -> (MediaStreamClient, ServerWs, Value) {
    let (url, accepted) = serve_one().await;
    let client = MediaStreamClient::connect(config(&url)).await.unwrap();
    let mut ws = accepted.await.unwrap().ws;
    let connected = next_json(&mut ws).await;
    assert_eq!(connected["event"], "connected");
    let start = next_json(&mut ws).await;
    assert_eq!(start["event"], "start");
    (client, ws, start)
}

/// The next text frame from the phone, as JSON; `Value::Null` once the stream ended.
async fn next_json(ws: &mut ServerWs) -> Value {
    loop {
        let frame = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("the phone went silent");
        match frame {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Value::Null,
            Some(Ok(_)) => {}
        }
    }
}

/// The next frame that is not `media`.
async fn next_non_media(ws: &mut ServerWs) -> Value {
    loop {
        let msg = next_json(ws).await;
        if msg["event"] != "media" {
            return msg;
        }
    }
}

async fn send_out(ws: &mut ServerWs, msg: Outbound) {
    ws.send(Message::text(msg.to_json())).await.unwrap();
}

/// `n` bytes of recognisable (non-silent) μ-law.
fn audio(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 200) as u8).collect()
}

fn payload_of(media: &Value) -> Vec<u8> {
    STANDARD
        .decode(media["media"]["payload"].as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn refused_upgrade_exposes_the_http_status() {
    let (url, _accepted) = serve_one().await;
    let mut cfg = config(&url);
    cfg.auth_token = Some("wrong-token".into());
    let err = MediaStreamClient::connect(cfg).await.err().unwrap();
    assert_eq!(
        err.http_status(),
        Some(http::StatusCode::FORBIDDEN),
        "{err}"
    );

    let (url, _accepted) = serve_one().await;
    let mut cfg = config(&url);
    cfg.auth_token = None;
    let err = MediaStreamClient::connect(cfg).await.err().unwrap();
    assert_eq!(
        err.http_status(),
        Some(http::StatusCode::FORBIDDEN),
        "{err}"
    );
}

#[tokio::test]
async fn signs_the_upgrade_and_opens_with_connected_then_start() {
    let (url, accepted) = serve_one().await;
    let _client = MediaStreamClient::connect(config(&url)).await.unwrap();
    let Accepted { mut ws, signature } = accepted.await.unwrap();
    assert_eq!(
        signature.unwrap(),
        telephony::compute_signature(TOKEN, SIGNED_URL, &[])
    );
    assert_eq!(
        next_json(&mut ws).await,
        serde_json::json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    );
    assert_eq!(
        next_json(&mut ws).await,
        serde_json::json!({
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": "MZtest",
            "start": {
                "accountSid": "ACtest",
                "streamSid": "MZtest",
                "callSid": "CAtest",
                "tracks": ["inbound"],
                "customParameters": {"callSid": "CAtest", "tenantId": "tenant-1"},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            }
        })
    );
    let first = next_json(&mut ws).await;
    assert_eq!(first["event"], "media");
    assert_eq!(first["sequenceNumber"], "2");
    assert_eq!(first["media"]["track"], "inbound");
    assert_eq!(first["media"]["chunk"], "1");
    assert_eq!(first["media"]["timestamp"], "0");
    assert_eq!(payload_of(&first), vec![SILENCE; FRAME_BYTES]);
}

#[tokio::test]
async fn sends_a_frame_every_20ms_with_twilio_numbering() {
    let (client, mut ws, _) = call().await;
    let window = Instant::now();
    let mut frames = Vec::new();
    while window.elapsed() < Duration::from_secs(1) {
        let msg = next_json(&mut ws).await;
        assert_eq!(msg["event"], "media");
        frames.push(msg);
    }
    // Loose: CI machines are busy. The numbering below is exact.
    assert!(
        (40..=60).contains(&frames.len()),
        "{} frames in 1 s",
        frames.len()
    );
    let num = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
    for (i, pair) in frames.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(
            num(&b["sequenceNumber"]),
            num(&a["sequenceNumber"]) + 1,
            "frame {i}"
        );
        assert_eq!(num(&b["media"]["chunk"]), num(&a["media"]["chunk"]) + 1);
        assert_eq!(
            num(&b["media"]["timestamp"]),
            num(&a["media"]["timestamp"]) + FRAME_MS
        );
    }
    for frame in &frames {
        let chunk = num(&frame["media"]["chunk"]);
        assert_eq!(num(&frame["media"]["timestamp"]), (chunk - 1) * FRAME_MS);
        assert_eq!(num(&frame["sequenceNumber"]), chunk + 1, "start was 1");
        assert_eq!(payload_of(frame), vec![SILENCE; FRAME_BYTES]);
    }
    let sent = client.sent_frames();
    assert!(sent.len() >= frames.len());
    assert_eq!(sent[0].chunk, 1);
    assert_eq!(sent[0].sequence_number, 2);
}

#[tokio::test]
async fn caller_audio_goes_out_in_order_padded_with_silence() {
    let (client, mut ws, _) = call().await;
    let speech = audio(400);
    client.say(speech.clone());
    let mut got = Vec::new();
    while got.len() < 3 * FRAME_BYTES {
        let msg = next_json(&mut ws).await;
        let payload = payload_of(&msg);
        assert_eq!(payload.len(), FRAME_BYTES);
        if got.is_empty() && payload.iter().all(|&b| b == SILENCE) {
            continue;
        }
        got.extend(payload);
    }
    assert_eq!(&got[..400], &speech[..]);
    assert!(got[400..].iter().all(|&b| b == SILENCE));

    client.say_tone(440.0, 100);
    let mut tone_frames = 0;
    loop {
        let payload = payload_of(&next_json(&mut ws).await);
        if payload.iter().all(|&b| b == SILENCE) {
            if tone_frames > 0 {
                break;
            }
        } else {
            tone_frames += 1;
        }
    }
    assert_eq!(tone_frames, 5, "100 ms of tone is five frames");
}

#[test]
fn tone_is_8_bytes_per_ms_and_not_silence() {
    let t = tone(440.0, 100);
    assert_eq!(t.len(), 800);
    assert!(t.iter().filter(|&&b| b != SILENCE).count() > 700);
}

#[tokio::test]
async fn mark_is_echoed_only_after_its_audio_has_played() {
    let (client, mut ws, _) = call().await;
    let sent = audio(8000);
    let t0 = Instant::now();
    for frame in sent.chunks(FRAME_BYTES) {
        send_out(&mut ws, Outbound::media("MZtest", frame)).await;
    }
    send_out(&mut ws, Outbound::mark("MZtest", "one-second")).await;

    // Half way: received, partly heard, not echoed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard = client.heard_mulaw().len();
    assert!(heard > 0 && heard < 8000, "heard {heard} after 0.5 s");
    assert!(
        !client
            .events()
            .iter()
            .any(|e| matches!(e.kind, PhoneEventKind::MarkEchoed { .. }))
    );

    let echo = next_non_media(&mut ws).await;
    let waited = t0.elapsed();
    assert_eq!(echo["event"], "mark");
    assert_eq!(echo["mark"]["name"], "one-second");
    assert_eq!(echo["streamSid"], "MZtest");
    // 50 frames at 20 ms: never early; 900 ms allows for a burst after a stalled runtime.
    assert!(
        waited >= Duration::from_millis(900),
        "echoed after {waited:?}"
    );
    assert_eq!(client.heard_mulaw(), sent);
    assert_eq!(client.media_bytes_received(), 8000);
    let events = client.events();
    let received = events
        .iter()
        .position(|e| {
            e.kind
                == PhoneEventKind::MarkReceived {
                    name: "one-second".into(),
                }
        })
        .unwrap();
    let echoed = events
        .iter()
        .position(|e| {
            e.kind
                == PhoneEventKind::MarkEchoed {
                    name: "one-second".into(),
                }
        })
        .unwrap();
    assert!(received < echoed);
    assert!(events[echoed].at_ms - events[received].at_ms >= 900);
}

#[tokio::test]
async fn clear_drops_unplayed_audio_and_echoes_pending_marks_at_once() {
    let (client, mut ws, _) = call().await;
    send_out(&mut ws, Outbound::media("MZtest", &audio(16_000))).await;
    send_out(&mut ws, Outbound::mark("MZtest", "two-seconds")).await;
    client
        .wait_for(|o| o.heard_ms() >= 200, STEP)
        .await
        .unwrap();

    let t_clear = Instant::now();
    send_out(&mut ws, Outbound::clear("MZtest")).await;
    let echo = next_non_media(&mut ws).await;
    assert_eq!(echo["mark"]["name"], "two-seconds");
    assert!(
        t_clear.elapsed() < Duration::from_millis(500),
        "{:?}",
        t_clear.elapsed()
    );

    let heard = client.heard_mulaw();
    assert!(heard.len() < 16_000);
    assert_eq!(heard, audio(16_000)[..heard.len()].to_vec());
    let dropped = client
        .events()
        .iter()
        .find_map(|e| match e.kind {
            PhoneEventKind::ClearReceived { dropped_bytes } => Some(dropped_bytes),
            _ => None,
        })
        .unwrap();
    assert_eq!(heard.len() + dropped, 16_000);

    // Playback goes on normally after a clear.
    send_out(&mut ws, Outbound::media("MZtest", &audio(320))).await;
    send_out(&mut ws, Outbound::mark("MZtest", "after-clear")).await;
    let echo = next_non_media(&mut ws).await;
    assert_eq!(echo["mark"]["name"], "after-clear");
    assert_eq!(client.heard_mulaw().len(), heard.len() + 320);
}

#[tokio::test]
async fn mark_with_nothing_queued_is_echoed_at_once() {
    let (client, mut ws, _) = call().await;
    send_out(&mut ws, Outbound::mark("MZtest", "empty")).await;
    let t0 = Instant::now();
    let echo = next_non_media(&mut ws).await;
    assert_eq!(echo["mark"]["name"], "empty");
    assert!(t0.elapsed() < Duration::from_millis(500));
    assert!(client.heard_mulaw().is_empty());
}

#[tokio::test]
async fn garbage_frames_are_counted_and_the_call_goes_on() {
    let (client, mut ws, _) = call().await;
    ws.send(Message::text("not json")).await.unwrap();
    ws.send(Message::text(r#"{"event":"party"}"#))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"event":"media","streamSid":"MZtest"}"#))
        .await
        .unwrap();
    ws.send(Message::text(
        r#"{"event":"media","streamSid":"MZtest","media":{"payload":"@@@"}}"#,
    ))
    .await
    .unwrap();
    send_out(&mut ws, Outbound::media("MZother", &audio(160))).await;
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    send_out(&mut ws, Outbound::mark("MZtest", "still-here")).await;

    let echo = next_non_media(&mut ws).await;
    assert_eq!(echo["mark"]["name"], "still-here");
    assert_eq!(client.malformed_count(), 6, "{:?}", client.events());
    assert_eq!(client.media_bytes_received(), 0);
    for _ in 0..3 {
        assert_eq!(next_json(&mut ws).await["event"], "media");
    }
}

#[tokio::test]
async fn dtmf_then_hang_up_sends_stop_and_closes() {
    let (client, mut ws, _) = call().await;
    client.press('5').unwrap();
    assert!(matches!(
        client.press('x'),
        Err(SimError::InvalidDigit('X'))
    ));
    let dtmf = next_non_media(&mut ws).await;
    assert_eq!(
        dtmf["dtmf"],
        serde_json::json!({"track": "inbound_track", "digit": "5"})
    );
    assert_eq!(dtmf["streamSid"], "MZtest");
    let dtmf_seq: u64 = dtmf["sequenceNumber"].as_str().unwrap().parse().unwrap();

    let server = async move {
        let stop = next_non_media(&mut ws).await;
        let after = next_non_media(&mut ws).await;
        (stop, after)
    };
    let (hung_up, (stop, after)) = tokio::join!(client.hang_up(), server);
    hung_up.unwrap();
    assert_eq!(stop["event"], "stop");
    assert_eq!(
        stop["stop"],
        serde_json::json!({"accountSid": "ACtest", "callSid": "CAtest"})
    );
    let stop_seq: u64 = stop["sequenceNumber"].as_str().unwrap().parse().unwrap();
    assert!(stop_seq > dtmf_seq);
    assert_eq!(after, Value::Null, "the socket closes after stop");
}

#[tokio::test]
async fn server_close_is_observed() {
    let (client, mut ws, _) = call().await;
    ws.close(None).await.unwrap();
    client.wait_closed(STEP).await.unwrap();
    assert!(
        client
            .events()
            .iter()
            .any(|e| e.kind == PhoneEventKind::ServerClosed)
    );
    assert!(matches!(client.press('1'), Err(SimError::StreamEnded)));
    assert!(matches!(client.hang_up().await, Err(SimError::StreamEnded)));
}

#[tokio::test]
async fn wait_until_quiet_waits_for_the_server_to_stop_talking() {
    let (client, mut ws, _) = call().await;
    send_out(&mut ws, Outbound::media("MZtest", &audio(160))).await;
    client
        .wait_for(
            |o| {
                o.events
                    .iter()
                    .any(|e| matches!(e.kind, PhoneEventKind::MediaReceived { .. }))
            },
            STEP,
        )
        .await
        .unwrap();
    let t0 = Instant::now();
    client
        .wait_until_quiet(Duration::from_millis(200), STEP)
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(matches!(
        client
            .wait_for(|o| o.clear_received(), Duration::from_millis(50))
            .await,
        Err(SimError::Timeout(_))
    ));
}

#[tokio::test]
async fn voice_turns_time_the_answer_on_the_media_clock() {
    let (client, mut ws, _) = call().await;
    let mut utterance = crate::speech::silence(100);
    utterance.extend(crate::speech::tone(440.0, 400));
    utterance.extend(crate::speech::silence(100));
    client.say(utterance);
    // The server waits for the caller's voice to end, then answers 300 ms later.
    let mut voiced = false;
    let end_ts = loop {
        let msg = next_json(&mut ws).await;
        if msg["event"] != "media" {
            continue;
        }
        let frame_voiced = crate::person::is_voiced(&payload_of(&msg));
        if frame_voiced {
            voiced = true;
        } else if voiced {
            break msg["media"]["timestamp"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap();
        }
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut answer = crate::speech::silence(40);
    answer.extend(crate::speech::tone(300.0, 200));
    send_out(&mut ws, Outbound::media("MZtest", &answer)).await;
    client
        .wait_for(|o| o.heard_bytes >= answer.len(), STEP)
        .await
        .unwrap();
    let turns = client.voice_turns();
    assert_eq!(turns.len(), 1, "{turns:?}");
    assert_eq!((turns[0].turn, turns[0].said_end_ms), (1, end_ts));
    // 300 ms of the server's wait + 40 ms of leading silence, up to one 20 ms tick late
    // (plus scheduling).
    let after = turns[0].after_ms().unwrap();
    assert!((340..=400).contains(&after), "{turns:?}");
    // A second utterance nobody answers is unanswered once the call is over.
    client.say(crate::speech::tone(440.0, 100));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let turns = client.finish_voice_turns();
    assert_eq!(turns.len(), 2, "{turns:?}");
    assert_eq!(turns[1].outcome, crate::person::TurnOutcome::Unanswered);
}
