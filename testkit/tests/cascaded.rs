//! The cascaded path against fake vendors: Deepgram STT, OpenAI TTS, OpenAI-compatible chat
//! completions, and the `Cascaded` engine wired to the real clients.

use std::sync::Arc;
use std::time::Duration;

use activities::llm::{LlmClient, LlmConfig, LlmError};
use domain::conversation::{ChatMessage, ChatRole, tool_specs};
use serde_json::json;
use switchboard_testkit::deepgram::FakeDeepgram;
use switchboard_testkit::openai_chat::{FakeOpenAiChat, NO_MORE_REPLIES, ScriptedReply};
use switchboard_testkit::openai_tts::FakeOpenAiTts;
use tokio::sync::mpsc;
use voice::engine::{EngineCall, EngineEvent, EngineInput, EngineSession, VoiceEngine};
use voice::engines::cascaded::Cascaded;
use voice::stt::{DeepgramConfig, DeepgramStt, SttError, SttEvent, SttOptions, SttProvider};
use voice::tts::{OpenAiTts, OpenAiTtsConfig, TtsError, TtsProvider};

const WAIT: Duration = Duration::from_secs(5);
/// One 20 ms μ-law frame.
const FRAME: usize = 160;

/// `ms` of a 300 Hz tone (or silence) as 20 ms μ-law frames.
fn frames(ms: u32, loud: bool) -> Vec<Vec<u8>> {
    let pcm = voice::pcm::sine(300.0, 8000, ms, if loud { 0.3 } else { 0.0 });
    let mut mulaw = Vec::new();
    voice::mulaw::encode(&pcm, &mut mulaw);
    mulaw.chunks(FRAME).map(<[u8]>::to_vec).collect()
}

fn deepgram(fake: &FakeDeepgram, key: &str) -> DeepgramStt {
    DeepgramStt::new(DeepgramConfig {
        url: fake.url(),
        ..DeepgramConfig::new(key)
    })
}

fn openai_tts(fake: &FakeOpenAiTts, key: &str) -> OpenAiTts {
    OpenAiTts::new(OpenAiTtsConfig {
        base_url: fake.base_url(),
        ..OpenAiTtsConfig::new(key)
    })
    .unwrap()
}

async fn next_stt(events: &mut mpsc::Receiver<SttEvent>) -> Option<SttEvent> {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("no STT event within 5 s")
}

#[tokio::test]
async fn deepgram_client_reports_speech_start_then_the_final_turn() {
    let fake = FakeDeepgram::start(vec!["I'd like to book a table for two.".into()]).await;
    let stt = deepgram(&fake, "test-key");
    let mut session = stt.start(SttOptions::default()).await.unwrap();

    for frame in frames(600, true).into_iter().chain(frames(400, false)) {
        session.audio.send(frame).await.unwrap();
    }
    assert_eq!(
        next_stt(&mut session.events).await,
        Some(SttEvent::SpeechStarted)
    );
    assert_eq!(
        next_stt(&mut session.events).await,
        Some(SttEvent::Interim("I'd".into()))
    );
    assert_eq!(
        next_stt(&mut session.events).await,
        Some(SttEvent::Final {
            text: "I'd like to book a table for two.".into(),
            end_of_turn: true
        })
    );

    // Dropping the audio sender sends CloseStream; the fake answers Metadata and closes, and
    // the trailing UtteranceEnd produced no second turn.
    drop(session.audio);
    assert_eq!(next_stt(&mut session.events).await, None);
    assert_eq!(fake.received_audio_ms(), 1000);
    let query = &fake.queries()[0];
    assert_eq!(query["model"], "nova-3");
    assert_eq!(query["interim_results"], "true");
    assert_eq!(query["vad_events"], "true");
}

#[tokio::test]
async fn deepgram_client_keeps_an_idle_stream_alive() {
    let fake = FakeDeepgram::start(Vec::new()).await;
    let stt = DeepgramStt::new(DeepgramConfig {
        url: fake.url(),
        keepalive_after: Duration::from_millis(50),
        ..DeepgramConfig::new("test-key")
    });
    let session = stt.start(SttOptions::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.keepalives() >= 2, "{} keepalives", fake.keepalives());
    drop(session);
}

#[tokio::test]
async fn deepgram_client_surfaces_a_rejected_key() {
    let fake = FakeDeepgram::start(Vec::new()).await;
    let err = deepgram(&fake, " ")
        .start(SttOptions::default())
        .await
        .unwrap_err();
    match err {
        SttError::Rejected { status, message } => {
            assert_eq!(status, 401);
            assert_eq!(message, "Invalid credentials.");
        }
        other => panic!("expected a 401 rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn openai_tts_streams_mulaw_of_the_expected_length() {
    let fake = FakeOpenAiTts::start().await;
    let tts = openai_tts(&fake, "test-key");
    let text = "Thanks for calling, how can I help you?";
    let mut stream = tts.synthesize(text, Some("verse")).await.unwrap();
    let mut chunks = 0;
    let mut audio = Vec::new();
    while let Some(chunk) = tokio::time::timeout(WAIT, stream.next()).await.unwrap() {
        chunks += 1;
        audio.extend(chunk.unwrap());
    }
    let expected = FakeOpenAiTts::expected_ms(text) as usize * 8;
    assert!(
        audio.len().abs_diff(expected) <= FRAME,
        "{} bytes of μ-law, expected {expected} ± one frame",
        audio.len()
    );
    assert!(chunks > 5, "audio arrived in {chunks} chunks, not streamed");
    // It is the tone, not silence: μ-law of a 0.3 full-scale sine is far from 0xFF.
    let mut pcm = Vec::new();
    voice::mulaw::decode(&audio, &mut pcm);
    assert!(voice::pcm::rms_dbfs(&pcm) > -20.0);
    assert_eq!(fake.requests(), vec![("verse".to_owned(), text.to_owned())]);
}

#[tokio::test]
async fn openai_tts_reports_http_errors_with_openai_message() {
    let fake = FakeOpenAiTts::start().await;
    let err = openai_tts(&fake, "test-key")
        .synthesize("", None)
        .await
        .unwrap_err();
    match err {
        TtsError::Status { status, message } => {
            assert_eq!(status, 400);
            assert!(message.contains("string_too_short"), "{message}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    let err = openai_tts(&fake, "")
        .synthesize("hi", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TtsError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert!(fake.requests().is_empty());
}

fn llm(fake: &FakeOpenAiChat) -> LlmClient {
    LlmClient::new(LlmConfig {
        base_url: fake.base_url(),
        api_key: Some("test-key".into()),
        model: "gpt-test".into(),
        temperature: Some(0.3),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

#[tokio::test]
async fn llm_client_maps_text_and_tool_call_replies() {
    let fake = FakeOpenAiChat::start(vec![
        ScriptedReply::Text("We open at nine.".into()),
        ScriptedReply::ToolCalls(vec![(
            "lookup_knowledge".into(),
            json!({"query": "opening hours"}),
        )]),
    ])
    .await;
    let client = llm(&fake);
    let tools = tool_specs();
    let mut messages = vec![
        ChatMessage::system("You are a receptionist."),
        ChatMessage::user("When do you open?"),
    ];

    let reply = client.chat(None, &messages, &tools).await.unwrap();
    assert_eq!(reply, ChatMessage::assistant("We open at nine."));

    messages.push(reply);
    messages.push(ChatMessage::user("And on Sundays?"));
    let reply = client
        .chat(Some("gpt-other"), &messages, &tools)
        .await
        .unwrap();
    assert_eq!(reply.role, ChatRole::Assistant);
    assert_eq!(reply.content, None);
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.name, "lookup_knowledge");
    assert!(call.id.starts_with("call_"), "{}", call.id);
    let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
    assert_eq!(args, json!({"query": "opening hours"}));

    // The tool result goes back in OpenAI's shape too.
    messages.push(reply.clone());
    messages.push(ChatMessage::tool_result(&call.id, r#"{"hits":[]}"#));
    let reply = client.chat(None, &messages, &[]).await.unwrap();
    assert_eq!(reply.content.as_deref(), Some(NO_MORE_REPLIES));

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert_eq!(first["model"], "gpt-test");
    assert_eq!(first["tool_choice"], "auto");
    assert!((first["temperature"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    let wire_tools = first["tools"].as_array().unwrap();
    assert_eq!(wire_tools.len(), tools.len());
    for (wire, spec) in wire_tools.iter().zip(&tools) {
        assert_eq!(wire["type"], "function");
        assert_eq!(wire["function"]["name"], spec.name.as_str());
        assert_eq!(wire["function"]["description"], spec.description.as_str());
        assert_eq!(wire["function"]["parameters"], spec.parameters);
    }
    assert_eq!(first["messages"][0]["role"], "system");
    assert_eq!(requests[1]["model"], "gpt-other");
    let third = &requests[2];
    assert!(third.get("tools").is_none(), "no tools → no tools key");
    assert!(third.get("tool_choice").is_none());
    let sent = third["messages"].as_array().unwrap();
    let assistant = &sent[sent.len() - 2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["content"], serde_json::Value::Null);
    assert_eq!(assistant["tool_calls"][0]["type"], "function");
    assert_eq!(assistant["tool_calls"][0]["id"], call.id.as_str());
    assert_eq!(
        assistant["tool_calls"][0]["function"]["name"],
        "lookup_knowledge"
    );
    let tool = &sent[sent.len() - 1];
    assert_eq!(tool["role"], "tool");
    assert_eq!(tool["tool_call_id"], call.id.as_str());
    assert_eq!(tool["content"], r#"{"hits":[]}"#);
}

#[tokio::test]
async fn llm_client_classifies_errors() {
    let fake = FakeOpenAiChat::start(vec![ScriptedReply::Text("finally".into())]).await;
    let client = llm(&fake);
    let messages = [ChatMessage::user("hi")];

    fake.fail_next(500, 1);
    let err = client.chat(None, &messages, &[]).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());

    fake.fail_next(429, 1);
    let err = client.chat(None, &messages, &[]).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("Rate limit"), "{err}");

    fake.fail_next(400, 1);
    let err = client.chat(None, &messages, &[]).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Status { status: 400, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    // A real 400 from the server (no messages) is not retryable either.
    let err = client.chat(None, &[], &[]).await.unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");

    // Failures did not consume the script.
    let reply = client.chat(None, &messages, &[]).await.unwrap();
    assert_eq!(reply.content.as_deref(), Some("finally"));

    // Nothing listening: a transport error, retryable.
    let closed = LlmClient::new(LlmConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        ..llm(&fake).config().clone()
    })
    .unwrap();
    let err = closed.chat(None, &messages, &[]).await.unwrap_err();
    assert!(matches!(err, LlmError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

struct Fakes {
    deepgram: FakeDeepgram,
    tts: FakeOpenAiTts,
    engine: Cascaded,
}

async fn cascaded(transcripts: Vec<&str>) -> Fakes {
    let deepgram = FakeDeepgram::start(transcripts.into_iter().map(str::to_owned).collect()).await;
    let tts = FakeOpenAiTts::start().await;
    let engine = Cascaded::new(
        Arc::new(self::deepgram(&deepgram, "test-key")),
        Arc::new(openai_tts(&tts, "test-key")),
    );
    Fakes {
        deepgram,
        tts,
        engine,
    }
}

fn call(greeting: &str) -> EngineCall {
    EngineCall {
        call_sid: "CAtest".into(),
        instructions: "Be brief.".into(),
        greeting: greeting.into(),
        settings: json!({"voice": "verse"}),
        tools: tool_specs(),
    }
}

async fn next_event(session: &mut EngineSession) -> EngineEvent {
    tokio::time::timeout(WAIT, session.events.recv())
        .await
        .expect("no engine event within 5 s")
        .expect("engine event channel closed")
}

/// Collects the audio of `item` until its `AgentAudioDone`; returns (audio, transcript, other
/// events seen meanwhile).
async fn speak_out(
    session: &mut EngineSession,
    item: &str,
) -> (Vec<u8>, Option<String>, Vec<EngineEvent>) {
    let mut audio = Vec::new();
    let mut transcript = None;
    let mut others = Vec::new();
    loop {
        match next_event(session).await {
            EngineEvent::AgentAudio { item_id, mulaw } if item_id == item => {
                assert!(transcript.is_none(), "audio after the transcript");
                audio.extend(mulaw);
            }
            EngineEvent::AgentTranscript { item_id, text } if item_id == item => {
                transcript = Some(text);
            }
            EngineEvent::AgentAudioDone { item_id } if item_id == item => break,
            other => others.push(other),
        }
    }
    (audio, transcript, others)
}

fn assert_ms(audio: &[u8], expected_ms: u64) {
    let expected = expected_ms as usize * 8;
    assert!(
        audio.len().abs_diff(expected) <= FRAME,
        "{} bytes of μ-law, expected {expected} ± one frame",
        audio.len()
    );
}

#[tokio::test]
async fn cascaded_greets_first_then_reports_the_caller_turn() {
    let fakes = cascaded(vec!["Do you have a table tonight?"]).await;
    let greeting = "Hello, thanks for calling.";
    let mut session = fakes.engine.start(call(greeting)).await.unwrap();
    assert_eq!(fakes.engine.name().as_str(), "cascaded");

    match next_event(&mut session).await {
        EngineEvent::AgentAudio { item_id, .. } => assert_eq!(item_id, "agent-1"),
        other => panic!("expected greeting audio first, got {other:?}"),
    }

    // The caller speaks over the rest of the greeting.
    for frame in frames(600, true).into_iter().chain(frames(400, false)) {
        session.input.send(EngineInput::Audio(frame)).await.unwrap();
    }
    let mut caller = Vec::new();
    let mut greeting_done = false;
    while caller.len() < 3 || !greeting_done {
        match next_event(&mut session).await {
            EngineEvent::AgentAudio { .. } => {}
            EngineEvent::AgentTranscript { item_id, text } => {
                assert_eq!((item_id.as_str(), text.as_str()), ("agent-1", greeting));
            }
            EngineEvent::AgentAudioDone { item_id } => {
                assert_eq!(item_id, "agent-1");
                greeting_done = true;
            }
            other => caller.push(other),
        }
    }
    let text = "Do you have a table tonight?".to_owned();
    assert_eq!(
        caller,
        vec![
            EngineEvent::CallerSpeechStarted,
            EngineEvent::CallerTranscript { text: text.clone() },
            EngineEvent::UserTurn { text },
        ]
    );
    assert_eq!(
        fakes.tts.requests(),
        vec![("verse".to_owned(), greeting.to_owned())]
    );
    assert!(fakes.deepgram.received_audio_ms() >= 1000);

    session.input.send(EngineInput::Dtmf('5')).await.unwrap();
    assert_eq!(
        next_event(&mut session).await,
        EngineEvent::UserTurn {
            text: "[caller pressed 5]".into()
        }
    );

    // Dropping the input ends the session and closes the event channel.
    drop(session.input);
    let end = tokio::time::timeout(WAIT, session.events.recv())
        .await
        .unwrap();
    assert_eq!(end, None);
}

#[tokio::test]
async fn cascaded_say_speaks_sentence_by_sentence_under_one_item() {
    let fakes = cascaded(Vec::new()).await;
    let mut session = fakes.engine.start(call("")).await.unwrap();
    let text = "Sure. We open at nine tomorrow. See you then!";
    session
        .input
        .send(EngineInput::Say { text: text.into() })
        .await
        .unwrap();
    let (audio, transcript, others) = speak_out(&mut session, "agent-1").await;
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(transcript.as_deref(), Some(text));
    let sentences = ["Sure.", "We open at nine tomorrow.", "See you then!"];
    let expected_ms: u64 = sentences
        .iter()
        .map(|s| FakeOpenAiTts::expected_ms(s))
        .sum();
    assert_ms(&audio, expected_ms);
    let inputs: Vec<String> = fakes.tts.requests().into_iter().map(|(_, i)| i).collect();
    assert_eq!(inputs, sentences);

    // The next Say is the next item.
    session
        .input
        .send(EngineInput::Say {
            text: "Goodbye.".into(),
        })
        .await
        .unwrap();
    let (audio, _, _) = speak_out(&mut session, "agent-2").await;
    assert_ms(&audio, FakeOpenAiTts::expected_ms("Goodbye."));
}

#[tokio::test]
async fn cascaded_interrupt_stops_a_long_say_at_once() {
    let fakes = cascaded(Vec::new()).await;
    let mut session = fakes.engine.start(call("")).await.unwrap();
    // One sentence of 190 characters: 9.5 s of audio.
    let long = "This is a very long answer that keeps going on and on about opening hours, \
                parking, the menu, the specials of the week and everything else a caller \
                could possibly want to know";
    session
        .input
        .send(EngineInput::Say { text: long.into() })
        .await
        .unwrap();
    let mut audio = match next_event(&mut session).await {
        EngineEvent::AgentAudio { item_id, mulaw } => {
            assert_eq!(item_id, "agent-1");
            mulaw
        }
        other => panic!("expected audio, got {other:?}"),
    };
    session
        .input
        .send(EngineInput::Interrupt {
            item_id: "agent-1".into(),
            heard_ms: 100,
        })
        .await
        .unwrap();
    // Whatever was already queued may still arrive; then nothing more for agent-1.
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), session.events.recv()).await
    {
        match event {
            EngineEvent::AgentAudio { item_id, mulaw } if item_id == "agent-1" => {
                audio.extend(mulaw)
            }
            other => panic!("unexpected event after the interrupt: {other:?}"),
        }
    }
    let full = FakeOpenAiTts::expected_ms(long) as usize * 8;
    assert!(
        audio.len() < full / 2,
        "{} of {full} bytes produced despite the interrupt",
        audio.len()
    );

    // The session goes on: the next Say is spoken in full.
    session
        .input
        .send(EngineInput::Say {
            text: "Okay, go ahead.".into(),
        })
        .await
        .unwrap();
    let (audio, transcript, others) = speak_out(&mut session, "agent-2").await;
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(transcript.as_deref(), Some("Okay, go ahead."));
    assert_ms(&audio, FakeOpenAiTts::expected_ms("Okay, go ahead."));
}
