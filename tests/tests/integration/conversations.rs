//! Whole conversations over a Twilio-like media stream, one per engine, against protocol-faithful
//! fakes of the model providers: audio both ways, tool calls as workflow Updates, messages
//! stored, `end_call` hanging up through Twilio's REST API, the two-sided transcript persisted.

use crate::{
    call_workflow::{record_history, replay},
    helpers::*,
};
use serde_json::json;
use sim::{MediaStreamClient, PhoneEvent, PhoneEventKind};
use std::{sync::Arc, time::Duration};
use temporalio_client::WorkflowFetchHistoryOptions;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use testkit::{
    FakeGeminiLive, FakeOpenAiRealtime, Script, Step,
    deepgram::FakeDeepgram,
    openai_chat::{FakeOpenAiChat, ScriptedReply},
    openai_tts::FakeOpenAiTts,
};
use voice::{
    catalog::EngineCatalog,
    engines::{
        GeminiLive, GeminiLiveConfig, OpenAiRealtime, OpenAiRealtimeConfig, cascaded::Cascaded,
    },
    stt::deepgram::{DeepgramConfig, DeepgramStt},
    tts::openai::{OpenAiTts, OpenAiTtsConfig},
};
use workflows::CallWorkflow;

const WAIT: Duration = Duration::from_secs(30);

fn take_message_args() -> serde_json::Value {
    json!({
        "for_whom": "billing",
        "caller_name": "Jordan",
        "callback_number": "415 555 0100",
        "message": "Please call me back about my invoice."
    })
}

/// The conversation both speech-to-speech fakes play: greeting, a message for billing, the
/// caller is done, goodbye.
fn message_script() -> Script {
    Script(vec![
        Step::say("Hello, Acme Dental, how can I help?", 1000),
        Step::await_caller(
            "I'd like to leave a message for billing. I'm Jordan, 415 555 0100.",
            400,
        ),
        Step::call_tool("take_message", take_message_args()),
        Step::say("Thanks Jordan, billing will call you back.", 800),
        Step::await_caller("That's all, thank you.", 300),
        Step::call_tool("end_call", json!({"reason": "caller is done"})),
        Step::say("Goodbye!", 500),
    ])
}

fn media_frames(events: &[PhoneEvent]) -> Vec<(u64, usize)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            PhoneEventKind::MediaReceived { bytes } => Some((e.at_ms, bytes)),
            _ => None,
        })
        .collect()
}

fn marks_echoed(events: &[PhoneEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.kind, PhoneEventKind::MarkEchoed { .. }))
        .count()
}

async fn wait_marks(phone: &MediaStreamClient, n: usize) -> Vec<PhoneEvent> {
    phone
        .wait_for(|o| marks_echoed(o.events) >= n, WAIT)
        .await
        .unwrap_or_else(|e| panic!("the phone never heard utterance #{n}: {e}"))
}

/// Plays the caller's side of [`message_script`] and checks what the phone, Twilio, the
/// database and the workflow saw.
async fn converse_and_check(app: &TestApp, call_sid: &str, phone: MediaStreamClient) {
    // The greeting: 1 s of agent audio, paced at real time in 160-byte frames, then a mark.
    let events = wait_marks(&phone, 1).await;
    let greeting = media_frames(&events);
    assert!(
        greeting.iter().all(|(_, bytes)| *bytes == 160),
        "20 ms μ-law frames"
    );
    assert_eq!(greeting.len(), 50, "1000 ms of greeting is 50 frames");
    let spread = greeting.last().unwrap().0 - greeting.first().unwrap().0;
    assert!(
        spread >= 800,
        "50 frames arrived within {spread} ms: dumped, not paced at 50 frames/s"
    );

    // The caller leaves a message: the model calls take_message, the workflow stores it.
    phone.say_tone(300.0, 900);
    wait_marks(&phone, 2).await;
    // The caller is done: end_call, goodbye, and the workflow hangs up through Twilio.
    phone.say_tone(300.0, 600);
    wait_marks(&phone, 3).await;
    let hang_up = wait_for_hang_up(app, call_sid, 1).await;
    assert!(
        hang_up
            .form
            .contains(&("Status".into(), "completed".into()))
    );

    // Twilio ends the stream and reports the final status.
    phone.hang_up().await.unwrap();
    app.complete_call(call_sid, 9).await;
    let summary = app.call_result(call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);

    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1, "one message, stored once");
    assert_eq!(messages[0].caller_name, "Jordan");
    assert_eq!(messages[0].for_whom.as_deref(), Some("billing"));
    assert_eq!(messages[0].callback_number.as_deref(), Some("415 555 0100"));
    assert_eq!(
        messages[0].call_sid.as_ref().map(|s| s.as_str()),
        Some(call_sid)
    );

    let call: serde_json::Value = app
        .get_api(&format!("/v1/calls/{call_sid}"), &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let transcript = call["transcript"].as_array().expect("transcript").clone();
    let said = |speaker: &str, words: &str| {
        transcript
            .iter()
            .any(|s| s["speaker"] == speaker && s["text"].as_str().unwrap_or("").contains(words))
    };
    assert!(
        said("caller", "leave a message for billing"),
        "{transcript:#?}"
    );
    assert!(said("caller", "That's all"), "{transcript:#?}");
    assert!(said("agent", "Hello, Acme Dental"), "{transcript:#?}");
    assert!(
        said("agent", "billing will call you back"),
        "{transcript:#?}"
    );
    assert!(said("agent", "Goodbye"), "{transcript:#?}");
}

/// An app whose agent talks through OpenAI Realtime, served by `fake`.
async fn openai_realtime_app(fake: &FakeOpenAiRealtime) -> TestApp {
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    let engines = EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config)));
    spawn_app_with(options_for("openai_realtime", engines)).await
}

fn options_for(engine: &str, engines: EngineCatalog) -> AppOptions {
    AppOptions {
        engine: engine.into(),
        engines,
        ..AppOptions::default()
    }
}

#[tokio::test]
async fn openai_realtime_takes_a_message_and_ends_the_call() {
    let fake = FakeOpenAiRealtime::start(message_script()).await;
    let app = openai_realtime_app(&fake).await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;

    converse_and_check(&app, &call_sid, phone).await;

    let outputs = fake.tool_outputs();
    assert_eq!(outputs.len(), 2, "both tool results went back to the model");
    let taken: serde_json::Value = serde_json::from_str(&outputs[0].1).unwrap();
    assert_eq!(taken["ok"], true);
    assert!(taken["message_id"].is_string());
    let ended: serde_json::Value = serde_json::from_str(&outputs[1].1).unwrap();
    assert_eq!(ended["ok"], true);
    // μ-law end to end: the session asked for audio/pcmu both ways.
    let update = fake
        .received()
        .into_iter()
        .find(|e| e["type"] == "session.update")
        .unwrap();
    assert_eq!(
        update["session"]["audio"]["input"]["format"]["type"],
        "audio/pcmu"
    );
    assert_eq!(
        update["session"]["audio"]["output"]["format"]["type"],
        "audio/pcmu"
    );
}

#[tokio::test]
async fn gemini_live_takes_a_message_and_ends_the_call() {
    let fake = FakeGeminiLive::start(message_script()).await;
    let mut config = GeminiLiveConfig::new("test-gemini-key");
    config.url = fake.url();
    let engines = EngineCatalog::new().with(Arc::new(GeminiLive::new(config)));
    let app = spawn_app_with(options_for("gemini_live", engines)).await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;

    converse_and_check(&app, &call_sid, phone).await;

    let responses = fake.tool_responses();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].1, "take_message");
    assert_eq!(responses[0].2["ok"], true);
}

#[tokio::test]
async fn barge_in_clears_twilio_truncates_the_model_and_marks_the_turn_interrupted() {
    let fake = FakeOpenAiRealtime::start(Script(vec![
        Step::say(
            "Welcome to Acme Dental. Let me tell you about all our services.",
            4000,
        ),
        Step::await_caller("Sorry, wrong number.", 300),
        Step::say("No problem.", 400),
    ]))
    .await;
    let app = openai_realtime_app(&fake).await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;

    // About a second into the 4 s greeting, the caller talks over it.
    phone
        .wait_for(|o| o.heard_bytes >= 8000, WAIT)
        .await
        .expect("the greeting plays");
    phone.say_tone(300.0, 600);
    let events = phone
        .wait_for(
            |o| {
                o.events
                    .iter()
                    .any(|e| matches!(e.kind, PhoneEventKind::ClearReceived { .. }))
            },
            WAIT,
        )
        .await
        .expect("Twilio is told to clear");
    let before_clear: usize = media_frames(&events).iter().map(|(_, b)| b).sum();
    assert!(
        before_clear < 4000 * 8,
        "the rest of the greeting was not sent: {before_clear} bytes"
    );
    // The model is told where the caller stopped listening …
    let truncations = fake.truncations();
    assert_eq!(truncations.len(), 1, "{truncations:?}");
    let heard_ms = truncations[0].1;
    assert!(
        (900..4000).contains(&heard_ms),
        "truncated at {heard_ms} ms"
    );
    // … and then answers the interruption.
    wait_marks(&phone, 1).await;
    let after_clear = phone.events();
    let clear_at = after_clear
        .iter()
        .position(|e| matches!(e.kind, PhoneEventKind::ClearReceived { .. }))
        .unwrap();
    let answer_bytes: usize = media_frames(&after_clear[clear_at..])
        .iter()
        .map(|(_, b)| b)
        .sum();
    assert_eq!(answer_bytes, 400 * 8, "only the answer follows the clear");

    phone.hang_up().await.unwrap();
    app.complete_call(&call_sid, 4).await;
    app.call_result(&call_sid).await;
    let call: serde_json::Value = app
        .get_api(&format!("/v1/calls/{call_sid}"), &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let greeting = call["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["speaker"] == "agent" && s["text"].as_str().unwrap().starts_with("Welcome"))
        .cloned()
        .expect("the greeting is in the transcript");
    assert_eq!(greeting["interrupted"], true, "{greeting}");
    let spoken = greeting["end_ms"].as_u64().unwrap() - greeting["start_ms"].as_u64().unwrap();
    assert!(
        spoken < 4000,
        "the interrupted turn ends where the caller cut in: {spoken} ms"
    );
}

#[tokio::test]
async fn cascaded_turns_are_updates_with_llm_activities_and_survive_a_worker_restart() {
    let stt = FakeDeepgram::start(vec![
        "I'd like to leave a message for billing.".into(),
        "I'm Jordan, call me back on 415 555 0100 about my invoice.".into(),
        "That's all, thank you.".into(),
    ])
    .await;
    let tts = FakeOpenAiTts::start().await;
    let llm = FakeOpenAiChat::start(vec![
        ScriptedReply::Text("Sure. What's your name and number?".into()),
        ScriptedReply::ToolCalls(vec![("take_message".into(), take_message_args())]),
        ScriptedReply::Text("Thanks Jordan, billing will call you back.".into()),
        ScriptedReply::ToolCalls(vec![("end_call".into(), json!({}))]),
        ScriptedReply::Text("Goodbye!".into()),
    ])
    .await;
    let mut stt_config = DeepgramConfig::new("test-deepgram-key");
    stt_config.url = stt.url();
    let mut tts_config = OpenAiTtsConfig::new("test-tts-key");
    tts_config.base_url = tts.base_url();
    let cascaded = Cascaded::new(
        Arc::new(DeepgramStt::new(stt_config)),
        Arc::new(OpenAiTts::new(tts_config).unwrap()),
    );
    let mut app = spawn_app_with(AppOptions {
        engine: "cascaded".into(),
        engines: EngineCatalog::new().with(Arc::new(cascaded)),
        greeting: "Hello, Acme Dental.".into(),
        llm_base_url: llm.base_url(),
        ..AppOptions::default()
    })
    .await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;

    wait_marks(&phone, 1).await; // the greeting
    phone.say_tone(300.0, 800);
    wait_marks(&phone, 2).await; // "Sure. What's your name and number?"

    // The worker dies between two turns; the caller keeps talking.
    app.stop_worker().await;
    phone.say_tone(300.0, 1200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.start_worker();
    wait_marks(&phone, 3).await; // "Thanks Jordan, billing will call you back."

    phone.say_tone(300.0, 600);
    wait_marks(&phone, 4).await; // "Goodbye!"
    wait_for_hang_up(&app, &call_sid, 1).await;
    phone.hang_up().await.unwrap();
    app.complete_call(&call_sid, 12).await;
    app.call_result(&call_sid).await;

    let spoken: Vec<String> = tts.requests().into_iter().map(|(_, text)| text).collect();
    assert_eq!(
        spoken.join(" "),
        "This call may be recorded. Hello, Acme Dental. Sure. What's your name and number? Thanks Jordan, billing will call you back. Goodbye!"
    );
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].caller_name, "Jordan");

    // Temporal history: one Update per caller turn, one LLM activity per model call.
    let events: Vec<_> = futures::TryStreamExt::try_collect(
        app.temporal
            .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"))
            .fetch_history(WorkflowFetchHistoryOptions::default()),
    )
    .await
    .unwrap();
    let count = |t: EventType| events.iter().filter(|e| e.event_type() == t).count();
    assert_eq!(count(EventType::WorkflowExecutionUpdateAccepted), 3);
    assert_eq!(count(EventType::WorkflowExecutionUpdateCompleted), 3);
    // The LLM runs as a local activity: one marker per model call.
    let llm_activities = llm_turns(&events);
    assert_eq!(llm_activities, 5, "one LLM activity per model call");
    // The LLM saw the whole conversation, tool results included.
    let last_request = llm.requests().pop().unwrap();
    let roles: Vec<&str> = last_request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "system",
            "user",
            "assistant",
            "user",
            "assistant",
            "tool",
            "assistant",
            "user",
            "assistant",
            "tool"
        ]
    );

    // Updates, LLM and tool activities replay deterministically.
    let json = record_history(&app, &call_sid, "SWITCHBOARD_RECORD_CONVERSATION_HISTORY").await;
    replay(&json)
        .await
        .expect("the conversation's history replays");
}

#[tokio::test]
async fn tools_answer_from_the_knowledge_base_refuse_unknown_transfers_and_unknown_tools_are_rejected()
 {
    let fake = FakeOpenAiRealtime::start(Script(vec![
        Step::say("Hello, Acme Dental.", 300),
        Step::await_caller("Are you open on Saturdays?", 300),
        Step::call_tool(
            "lookup_knowledge",
            json!({"query": "opening hours on Saturday"}),
        ),
        Step::say("Yes, from nine to one.", 300),
        Step::await_caller("Can I speak to Dr. Smith?", 300),
        Step::call_tool("transfer_call", json!({"target": "Dr. Smith"})),
        Step::call_tool("rm_rf", json!({"path": "/"})),
        Step::call_tool("take_message", json!({"caller_name": "Jordan"})),
        Step::say("She's not available; can I take a message?", 300),
    ]))
    .await;
    let app = openai_realtime_app(&fake).await;
    for (category, question, answer) in [
        (
            domain::KnowledgeCategory::BusinessInformation,
            "What are your opening hours?",
            "Monday to Friday 8 to 6, Saturday 9 to 1.",
        ),
        (
            domain::KnowledgeCategory::ProductsServices,
            "Do you do teeth whitening?",
            "Yes, in-office whitening for 299 dollars.",
        ),
    ] {
        app.store
            .add_knowledge(
                app.tenant,
                store::NewKnowledge {
                    category,
                    question: question.into(),
                    answer: answer.into(),
                    agent_id: None,
                },
            )
            .await
            .unwrap();
    }
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;
    wait_marks(&phone, 1).await;
    phone.say_tone(300.0, 600);
    wait_marks(&phone, 2).await;
    phone.say_tone(300.0, 600);
    wait_marks(&phone, 3).await;

    let outputs: Vec<serde_json::Value> = fake
        .tool_outputs()
        .iter()
        .map(|(_, output)| serde_json::from_str(output).unwrap())
        .collect();
    assert_eq!(outputs.len(), 4, "{outputs:#?}");
    assert_eq!(
        outputs[0]["results"][0]["answer"], "Monday to Friday 8 to 6, Saturday 9 to 1.",
        "the best match comes first"
    );
    // Nobody by that name in the (empty) directory: no transfer, a message offered.
    assert_eq!(outputs[1]["ok"], false);
    assert_eq!(outputs[1]["reason"], "not_found", "{}", outputs[1]);
    // The workflow's validator rejected the unknown tool: the model hears why.
    assert!(
        outputs[2]["error"]
            .as_str()
            .unwrap()
            .contains("unknown tool"),
        "{}",
        outputs[2]
    );
    // Missing arguments are the model's to fix; nothing is stored.
    assert!(outputs[3]["error"].as_str().unwrap().contains("required"));
    assert!(
        app.store
            .list_messages(app.tenant, 10)
            .await
            .unwrap()
            .is_empty()
    );

    phone.hang_up().await.unwrap();
    app.complete_call(&call_sid, 5).await;
    app.call_result(&call_sid).await;
}

/// `take_message` with `replaces` corrects the earlier message in place, only within the same
/// tenant and call; a retried correction changes nothing more.
#[tokio::test]
async fn a_corrected_message_replaces_the_first_one_within_its_call_only() {
    use domain::{CallSid, conversation::TakeMessageInput};
    let app = spawn_app().await;
    let call_sid = CallSid::parse(&new_call_sid()).unwrap();
    let first = TakeMessageInput {
        tenant_id: app.tenant,
        call_sid: call_sid.clone(),
        for_whom: Some("billing".into()),
        caller_name: "Jordan".into(),
        callback_number: Some("4155550100".into()),
        message: "please call me back".into(),
        replaces: None,
        recipient: None,
    };
    let taken = app
        .store
        .take_message(&format!("{call_sid}/a"), &first)
        .await
        .unwrap();
    let correction = TakeMessageInput {
        callback_number: Some("4155550199".into()),
        replaces: Some(taken.id.to_string()),
        recipient: None,
        ..first.clone()
    };
    for _attempt in 0..2 {
        let corrected = app
            .store
            .take_message(&format!("{call_sid}/b"), &correction)
            .await
            .unwrap();
        assert_eq!(corrected.id, taken.id);
        assert_eq!(corrected.callback_number.as_deref(), Some("4155550199"));
    }
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].callback_number.as_deref(), Some("4155550199"));

    // Another call, or another tenant, cannot touch it.
    let other_call = TakeMessageInput {
        call_sid: CallSid::parse(&new_call_sid()).unwrap(),
        ..correction.clone()
    };
    assert!(app.store.take_message("x/1", &other_call).await.is_err());
    let stranger = app.store.create_tenant("Someone else").await.unwrap();
    let other_tenant = TakeMessageInput {
        tenant_id: stranger.id,
        ..correction.clone()
    };
    assert!(app.store.take_message("x/2", &other_tenant).await.is_err());
    let not_an_id = TakeMessageInput {
        replaces: Some("m-1".into()),
        recipient: None,
        ..correction
    };
    assert!(app.store.take_message("x/3", &not_an_id).await.is_err());
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages[0].callback_number.as_deref(), Some("4155550199"));

    // The API lists it for its tenant; a bad page size is a problem naming the field.
    let listed: serde_json::Value = app
        .get_api("/v1/messages", &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["callback_number"], "4155550199");
    let bad = app.get_api("/v1/messages?limit=0", &app.api_key).await;
    assert_eq!(bad.status(), 400);
    let problem: serde_json::Value = bad.json().await.unwrap();
    assert!(problem.to_string().contains("limit"), "{problem}");
}

/// The `llm_turn`s in a call's history: local activities, one marker each naming the activity;
/// none may be scheduled through the server.
pub(crate) fn llm_turns(
    events: &[temporalio_common::protos::temporal::api::history::v1::HistoryEvent],
) -> usize {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let names_llm_turn = |data: &[u8]| data.windows(b"llm_turn".len()).any(|w| w == b"llm_turn");
    let mut local = 0;
    for event in events {
        match &event.attributes {
            Some(Attributes::MarkerRecordedEventAttributes(m))
                if m.marker_name == "core_local_activity"
                    && m.details.get("data").is_some_and(|data| {
                        data.payloads.iter().any(|p| names_llm_turn(&p.data))
                    }) =>
            {
                local += 1;
            }
            Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => assert!(
                a.activity_type
                    .as_ref()
                    .is_none_or(|t| t.name != "llm_turn"),
                "the LLM is not scheduled through the server"
            ),
            _ => {}
        }
    }
    local
}
