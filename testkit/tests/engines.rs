//! The speech-to-speech engines against the scripted fake servers: a whole call (greeting,
//! caller turn, tool call, answer, caller turn, end_call, goodbye), barge-in, malformed frames.

use std::time::Duration;

use serde_json::json;
use switchboard_testkit::audio::{mulaw_rms, silence_frames, tone_frames};
use switchboard_testkit::{FakeGeminiLive, FakeOpenAiRealtime, Script, Step};
use tokio::sync::mpsc;
use voice::engine::{EngineCall, EngineEvent, EngineInput, EngineSession, VoiceEngine};
use voice::engines::{GeminiLive, GeminiLiveConfig, OpenAiRealtime, OpenAiRealtimeConfig};

const WAIT: Duration = Duration::from_secs(10);

fn call() -> EngineCall {
    EngineCall {
        call_sid: "CAtest".into(),
        instructions: "You answer the phone for Acme Dental.".into(),
        greeting: "Hello, thanks for calling Acme Dental.".into(),
        settings: json!({}),
        tools: domain::conversation::tool_specs(),
    }
}

fn take_message_args() -> serde_json::Value {
    json!({"caller_name": "Ann", "message": "Please call me back.", "for_whom": "Sam"})
}

/// The call every engine test plays.
fn call_script() -> Script {
    Script(vec![
        Step::say("Hello, thanks for calling Acme Dental.", 1000),
        Step::await_caller("I'd like to leave a message for Sam.", 400),
        Step::call_tool("take_message", take_message_args()),
        Step::say("I've passed your message on.", 600),
        Step::await_caller("That's all, bye.", 300),
        Step::call_tool("end_call", json!({"reason": "caller is done"})),
        Step::say("Goodbye!", 500),
    ])
}

async fn next_event(events: &mut mpsc::Receiver<EngineEvent>) -> EngineEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("timed out waiting for an engine event")
        .expect("engine events closed")
}

/// Events up to and including the first one matching `last`.
async fn events_until(
    events: &mut mpsc::Receiver<EngineEvent>,
    last: impl Fn(&EngineEvent) -> bool,
) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    loop {
        let event = next_event(events).await;
        assert!(
            !matches!(event, EngineEvent::Failed { .. }),
            "engine failed: {event:?} after {seen:?}"
        );
        let done = last(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// One agent utterance: its audio (μ-law) and transcript, checked for consistency.
#[derive(Debug)]
struct AgentTurn {
    item_id: String,
    mulaw: Vec<u8>,
    text: String,
}

async fn agent_turn(events: &mut mpsc::Receiver<EngineEvent>) -> AgentTurn {
    let events = events_until(events, |e| matches!(e, EngineEvent::AgentTranscript { .. })).await;
    let mut item_id = None;
    let mut mulaw = Vec::new();
    let mut done = false;
    let mut text = String::new();
    for event in &events {
        match event {
            EngineEvent::AgentAudio {
                item_id: id,
                mulaw: audio,
            } => {
                assert!(!done, "audio after AgentAudioDone: {events:?}");
                assert_eq!(
                    item_id.get_or_insert_with(|| id.clone()),
                    id,
                    "one item per turn"
                );
                mulaw.extend_from_slice(audio);
            }
            EngineEvent::AgentAudioDone { item_id: id } => {
                assert_eq!(item_id.as_ref(), Some(id));
                done = true;
            }
            EngineEvent::AgentTranscript {
                item_id: id,
                text: t,
            } => {
                assert_eq!(item_id.as_ref(), Some(id));
                text.clone_from(t);
            }
            other => panic!("unexpected event in an agent turn: {other:?}"),
        }
    }
    assert!(done, "no AgentAudioDone: {events:?}");
    AgentTurn {
        item_id: item_id.expect("agent audio"),
        mulaw,
        text,
    }
}

async fn feed(session: &EngineSession, frames: Vec<Vec<u8>>) {
    for frame in frames {
        session
            .input
            .send(EngineInput::Audio(frame))
            .await
            .expect("engine input open");
    }
}

/// The caller says something (100 ms silence, `tone_ms` of 1 kHz, 400 ms silence) and the
/// model answers with a tool call; returns the events and the call.
async fn caller_turn_to_tool_call(
    session: &mut EngineSession,
    tone_ms: u32,
) -> (Vec<EngineEvent>, (String, String, String)) {
    let mut frames = silence_frames(100);
    frames.extend(tone_frames(tone_ms, 1000.0));
    frames.extend(silence_frames(400));
    feed(session, frames).await;
    let events = events_until(&mut session.events, |e| {
        matches!(e, EngineEvent::ToolCall { .. })
    })
    .await;
    let Some(EngineEvent::ToolCall {
        call_id,
        name,
        arguments,
    }) = events.last().cloned()
    else {
        unreachable!()
    };
    (events, (call_id, name, arguments))
}

fn caller_transcripts(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::CallerTranscript { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// After the input sender is dropped the engine closes upstream and then its event channel.
async fn assert_closes(session: EngineSession) {
    let EngineSession {
        input, mut events, ..
    } = session;
    drop(input);
    let rest = tokio::time::timeout(WAIT, async {
        let mut rest = Vec::new();
        while let Some(event) = events.recv().await {
            rest.push(event);
        }
        rest
    })
    .await
    .expect("event channel closes after the input is dropped");
    assert!(
        !rest.iter().any(|e| matches!(e, EngineEvent::Failed { .. })),
        "a requested close is not a failure: {rest:?}"
    );
}

fn openai(fake: &FakeOpenAiRealtime) -> OpenAiRealtime {
    OpenAiRealtime::new(OpenAiRealtimeConfig {
        url: fake.url(),
        ..OpenAiRealtimeConfig::new("sk-test-key")
    })
}

#[tokio::test]
async fn openai_realtime_full_call_against_the_fake() {
    let fake = FakeOpenAiRealtime::start(call_script()).await;
    let engine = openai(&fake);
    assert_eq!(engine.name().as_str(), "openai_realtime");
    let mut session = engine.start(call()).await.expect("engine starts");

    assert_eq!(fake.bearer_token().as_deref(), Some("sk-test-key"));
    assert_eq!(fake.model().as_deref(), Some("gpt-realtime"));
    eventually("the greeting is asked for", || fake.received().len() >= 2).await;
    let received = fake.received();
    assert_eq!(received[0]["type"], "session.update");
    let config = &received[0]["session"];
    assert_eq!(config["audio"]["input"]["format"]["type"], "audio/pcmu");
    assert_eq!(config["audio"]["output"]["format"]["type"], "audio/pcmu");
    assert_eq!(config["audio"]["output"]["voice"], "marin");
    assert_eq!(
        config["audio"]["input"]["turn_detection"]["type"],
        "server_vad"
    );
    assert_eq!(
        config["tools"].as_array().map(Vec::len),
        Some(domain::conversation::tool_specs().len())
    );
    assert_eq!(received[1]["type"], "response.create");
    let greeting_instructions = received[1]["response"]["instructions"].as_str().unwrap();
    assert!(greeting_instructions.contains("Hello, thanks for calling Acme Dental."));

    // Greeting: 1000 ms of μ-law 8 kHz passes through untouched.
    let greeting = agent_turn(&mut session.events).await;
    assert_eq!(greeting.mulaw.len(), 8000);
    assert!(mulaw_rms(&greeting.mulaw) > 3000.0, "tone, not silence");
    assert_eq!(greeting.text, "Hello, thanks for calling Acme Dental.");

    // Barge-in: the bridge reports how much of the greeting was heard.
    session
        .input
        .send(EngineInput::Interrupt {
            item_id: greeting.item_id.clone(),
            heard_ms: 420,
        })
        .await
        .unwrap();
    eventually("truncate reaches the server", || {
        fake.truncations() == vec![(greeting.item_id.clone(), 420)]
    })
    .await;

    // Caller: speech started, transcript, then the model takes a message.
    let (events, (call_id, name, arguments)) = caller_turn_to_tool_call(&mut session, 600).await;
    assert_eq!(events[0], EngineEvent::CallerSpeechStarted);
    assert_eq!(
        caller_transcripts(&events),
        ["I'd like to leave a message for Sam."]
    );
    assert_eq!(name, "take_message");
    let arguments: serde_json::Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(arguments, take_message_args());
    session
        .input
        .send(EngineInput::ToolResult {
            call_id: call_id.clone(),
            name,
            output: r#"{"ok":true}"#.into(),
        })
        .await
        .unwrap();

    let answer = agent_turn(&mut session.events).await;
    assert_eq!(answer.mulaw.len(), 600 * 8);
    assert_eq!(answer.text, "I've passed your message on.");
    assert_ne!(answer.item_id, greeting.item_id);
    assert_eq!(
        fake.tool_outputs(),
        vec![(call_id, r#"{"ok":true}"#.to_owned())]
    );

    // Second caller turn, end_call, goodbye.
    let (events, (call_id, name, arguments)) = caller_turn_to_tool_call(&mut session, 400).await;
    assert!(events.contains(&EngineEvent::CallerSpeechStarted));
    assert_eq!(caller_transcripts(&events), ["That's all, bye."]);
    assert_eq!(name, "end_call");
    assert_eq!(arguments, r#"{"reason":"caller is done"}"#);
    session
        .input
        .send(EngineInput::ToolResult {
            call_id,
            name,
            output: r#"{"ended":true}"#.into(),
        })
        .await
        .unwrap();
    let goodbye = agent_turn(&mut session.events).await;
    assert_eq!(goodbye.text, "Goodbye!");
    assert_eq!(goodbye.mulaw.len(), 500 * 8);
    assert!(fake.wait_until_finished(WAIT).await, "script finished");
    assert_eq!(fake.tool_outputs().len(), 2);

    // Caller audio reached the server as base64 μ-law appends, nothing transcoded.
    let appended: usize = fake.caller_audio_bytes();
    assert_eq!(appended, (100 + 600 + 400 + 100 + 400 + 400) * 8);
    assert_closes(session).await;
}

#[tokio::test]
async fn openai_realtime_dtmf_and_say_ask_for_responses() {
    let fake = FakeOpenAiRealtime::start(Script(vec![Step::say("Hi.", 200)])).await;
    let mut session = openai(&fake).start(call()).await.unwrap();
    agent_turn(&mut session.events).await;
    session.input.send(EngineInput::Dtmf('5')).await.unwrap();
    session
        .input
        .send(EngineInput::Say {
            text: "One moment please.".into(),
        })
        .await
        .unwrap();
    eventually("dtmf and say reach the server", || {
        fake.received().len() >= 5
    })
    .await;
    let received = fake.received();
    assert_eq!(received[2]["type"], "conversation.item.create");
    assert_eq!(received[2]["item"]["role"], "user");
    let dtmf_text = received[2]["item"]["content"][0]["text"].as_str().unwrap();
    assert!(dtmf_text.contains('5'), "{dtmf_text}");
    assert_eq!(received[3]["type"], "response.create");
    assert_eq!(received[4]["type"], "response.create");
    let say = received[4]["response"]["instructions"].as_str().unwrap();
    assert!(say.contains("One moment please."), "{say}");
    assert_closes(session).await;
}

#[tokio::test]
async fn openai_realtime_skips_malformed_and_unknown_server_frames() {
    let fake = FakeOpenAiRealtime::start(Script(vec![
        Step::say("Hello.", 200),
        Step::raw("not json"),
        Step::raw(r#"{"type":"rate_limits.updated","rate_limits":[]}"#),
        Step::raw(r#"{"type":"error","error":{"type":"invalid_request_error","message":"nope"}}"#),
        Step::raw(r#"{"type":"response.output_audio.delta","item_id":"x","delta":"%%%"}"#),
        Step::say("Still here.", 200),
    ]))
    .await;
    let mut session = openai(&fake).start(call()).await.unwrap();
    assert_eq!(agent_turn(&mut session.events).await.text, "Hello.");
    let after = agent_turn(&mut session.events).await;
    assert_eq!(after.text, "Still here.");
    assert_eq!(after.mulaw.len(), 200 * 8);
    assert!(fake.wait_until_finished(WAIT).await);
    assert_closes(session).await;
}

#[tokio::test]
async fn openai_realtime_fake_checks_auth_and_audio() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

    let fake = FakeOpenAiRealtime::start(Script::default()).await;
    let url = format!("{}?model=gpt-realtime", fake.url());
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!(
            "expected 401 without a bearer token, got {:?}",
            other.map(|_| ())
        ),
    }
    let engine = OpenAiRealtime::new(OpenAiRealtimeConfig {
        url: fake.url(),
        ..OpenAiRealtimeConfig::new("")
    });
    assert!(
        engine.start(call()).await.is_err(),
        "empty key is not configured"
    );

    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer sk-x".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let first = ws.next().await.unwrap().unwrap();
    let first: serde_json::Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(first["type"], "session.created");
    ws.send(Message::text(
        json!({"type": "input_audio_buffer.append", "audio": "not base64!"}).to_string(),
    ))
    .await
    .unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply["type"], "error");
    assert_eq!(fake.caller_audio_bytes(), 0);
}

fn gemini(fake: &FakeGeminiLive) -> GeminiLive {
    GeminiLive::new(GeminiLiveConfig {
        url: fake.url(),
        ..GeminiLiveConfig::new("test-key")
    })
}

/// μ-law length of `ms` at 8 kHz, give or take one 20 ms frame.
fn assert_duration(mulaw: &[u8], ms: usize) {
    let expected = ms * 8;
    assert!(
        mulaw.len().abs_diff(expected) <= 160,
        "{} bytes of μ-law for {ms} ms",
        mulaw.len()
    );
}

#[tokio::test]
async fn gemini_live_full_call_against_the_fake() {
    let fake = FakeGeminiLive::start(call_script()).await;
    let engine = gemini(&fake);
    assert_eq!(engine.name().as_str(), "gemini_live");
    let mut session = engine.start(call()).await.expect("engine starts");

    assert_eq!(fake.api_key().as_deref(), Some("test-key"));
    let setup = fake.setup().expect("setup received");
    assert_eq!(setup["model"], "models/gemini-2.0-flash-live-001");
    assert_eq!(
        setup["generationConfig"]["responseModalities"],
        json!(["AUDIO"])
    );
    assert_eq!(
        setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"],
        "Puck"
    );
    assert_eq!(
        setup["systemInstruction"]["parts"][0]["text"],
        "You answer the phone for Acme Dental."
    );
    assert_eq!(
        setup["tools"][0]["functionDeclarations"]
            .as_array()
            .map(Vec::len),
        Some(domain::conversation::tool_specs().len())
    );
    assert_eq!(setup["inputAudioTranscription"], json!({}));
    assert_eq!(setup["outputAudioTranscription"], json!({}));

    // Greeting: 24 kHz PCM becomes μ-law 8 kHz of the same duration.
    let greeting = agent_turn(&mut session.events).await;
    assert_eq!(greeting.item_id, "gemini-turn-1");
    assert_duration(&greeting.mulaw, 1000);
    assert!(mulaw_rms(&greeting.mulaw) > 3000.0, "tone, not silence");
    assert_eq!(greeting.text, "Hello, thanks for calling Acme Dental.");
    let greeting_request = &fake.received()[1];
    assert_eq!(greeting_request["clientContent"]["turnComplete"], true);
    let text = greeting_request["clientContent"]["turns"][0]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("Hello, thanks for calling Acme Dental."),
        "{text}"
    );

    // The caller talks over the greeting (still playing in real time): Gemini interrupts.
    let (events, (call_id, name, arguments)) = caller_turn_to_tool_call(&mut session, 600).await;
    assert_eq!(events[0], EngineEvent::CallerSpeechStarted);
    assert_eq!(
        caller_transcripts(&events),
        ["I'd like to leave a message for Sam."]
    );
    assert_eq!(name, "take_message");
    let arguments: serde_json::Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(arguments, take_message_args());
    session
        .input
        .send(EngineInput::ToolResult {
            call_id: call_id.clone(),
            name,
            output: r#"{"ok":true}"#.into(),
        })
        .await
        .unwrap();

    let answer = agent_turn(&mut session.events).await;
    assert_eq!(answer.item_id, "gemini-turn-2");
    assert_duration(&answer.mulaw, 600);
    assert_eq!(answer.text, "I've passed your message on.");
    assert_eq!(
        fake.tool_responses(),
        vec![(call_id, "take_message".to_owned(), json!({"ok": true}))]
    );

    let (events, (call_id, name, arguments)) = caller_turn_to_tool_call(&mut session, 400).await;
    assert_eq!(caller_transcripts(&events), ["That's all, bye."]);
    assert_eq!(name, "end_call");
    assert_eq!(arguments, r#"{"reason":"caller is done"}"#);
    session
        .input
        .send(EngineInput::ToolResult {
            call_id: call_id.clone(),
            name,
            output: "ended".into(),
        })
        .await
        .unwrap();
    let goodbye = agent_turn(&mut session.events).await;
    assert_eq!(goodbye.text, "Goodbye!");
    assert_duration(&goodbye.mulaw, 500);
    assert!(fake.wait_until_finished(WAIT).await, "script finished");
    assert_eq!(
        fake.tool_responses()[1],
        (call_id, "end_call".to_owned(), json!({"result": "ended"}))
    );

    // Caller audio went up as 16 kHz PCM: 2000 ms fed, 16 samples a millisecond.
    let samples = fake.caller_audio_samples();
    assert!(
        samples.abs_diff(2000 * 16) <= 320,
        "{samples} samples at 16 kHz"
    );
    assert!(
        fake.received()
            .iter()
            .filter_map(|m| m.pointer("/realtimeInput/audio/mimeType"))
            .all(|mime| mime == "audio/pcm;rate=16000")
    );
    assert_closes(session).await;
}

#[tokio::test]
async fn gemini_live_skips_malformed_frames_and_honours_agent_settings() {
    let fake = FakeGeminiLive::start(Script(vec![
        Step::say("Hello.", 200),
        Step::raw("not json"),
        Step::raw(r#"{"usageMetadata":{"totalTokenCount":12}}"#),
        Step::raw(r#"{"somethingNew":{}}"#),
        Step::say("Still here.", 300),
    ]))
    .await;
    let mut call = call();
    call.settings = json!({"model": "gemini-live-2.5-flash-preview", "voice": "Kore"});
    let mut session = gemini(&fake).start(call).await.unwrap();
    let setup = fake.setup().unwrap();
    assert_eq!(setup["model"], "models/gemini-live-2.5-flash-preview");
    assert_eq!(
        setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"],
        "Kore"
    );
    assert_eq!(agent_turn(&mut session.events).await.text, "Hello.");
    let after = agent_turn(&mut session.events).await;
    assert_eq!(after.text, "Still here.");
    assert_duration(&after.mulaw, 300);
    assert!(fake.wait_until_finished(WAIT).await);

    // DTMF and Say become user turns.
    session.input.send(EngineInput::Dtmf('#')).await.unwrap();
    session
        .input
        .send(EngineInput::Say {
            text: "One moment please.".into(),
        })
        .await
        .unwrap();
    eventually("dtmf and say reach the server", || {
        fake.received().len() >= 4
    })
    .await;
    let received = fake.received();
    let text = |i: usize| {
        received[i]["clientContent"]["turns"][0]["parts"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(text(2).contains('#'), "{}", text(2));
    assert!(text(3).contains("One moment please."), "{}", text(3));
    assert_closes(session).await;
}

#[tokio::test]
async fn gemini_live_fake_checks_key_and_setup() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let fake = FakeGeminiLive::start(Script::default()).await;
    match tokio_tungstenite::connect_async(fake.url()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("expected 401 without a key, got {:?}", other.map(|_| ())),
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}?key=k", fake.url()))
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"setup": {"model": "gemini"}}).to_string(),
    ))
    .await
    .unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1007),
        other => panic!("expected a 1007 close, got {other:?}"),
    }
    assert!(fake.setup().is_none());
}
