//! The offline engine with no provider key anywhere: a simulated caller speaks (flite), the
//! Whisper sidecar transcribes, the rule-based dialog answers through the workflow's Update and
//! `llm_turn` activity, flite speaks, and a message is stored. `scripts/test.sh` installs the
//! sidecar into `.venv` and Debian's flite.
//!
//! No assertion here hangs on what the recognizer makes of a voice: a speech recognizer's
//! output changes with the CPU's arithmetic. The callers repair a number the way callers do
//! (keying it in, or taking the caller-ID offer), and what they heard is checked in the
//! transcript the bridge records when each utterance's mark comes back from the phone.

use crate::helpers::*;
use sim::person::PersonScript;
use std::{path::Path, sync::Arc, time::Duration};
use temporalio_client::WorkflowFetchHistoryOptions;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use voice::{
    catalog::EngineCatalog,
    engines::offline::OfflineEngine,
    stt::{SttSidecar, sidecar::find_default},
};
use workflows::CallWorkflow;

async fn sidecar() -> Arc<SttSidecar> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (python, script) = find_default(root)
        .expect("the offline STT sidecar is not installed in .venv: run scripts/test.sh");
    Arc::new(
        SttSidecar::start(&python, &script, None)
            .await
            .expect("the STT sidecar starts"),
    )
}

/// The offline agent (no provider key anywhere) on the simulator.
pub(crate) async fn offline_app() -> TestApp {
    assert!(
        voice::tts::FliteTts::available(),
        "flite is not installed: run scripts/test.sh"
    );
    let stt = sidecar().await;
    let tts = OfflineEngine::local_tts().unwrap();
    let engines = EngineCatalog::new().with(Arc::new(OfflineEngine::new(stt, tts)));
    spawn_app_with(AppOptions {
        engine: "offline".into(),
        engines,
        greeting: "Thanks for calling Acme Dental, how can I help you today?".into(),
        rules_dialog: true,
        sim: Some(sim::FaultConfig::default()),
        ..AppOptions::default()
    })
    .await
}

/// A call through the simulator from `from`, to its end; `(call SID, the one message it left,
/// what the agent said as the bridge recorded it once heard)`.
async fn call_and_take_message(
    app: &TestApp,
    from: &str,
    caller: PersonScript,
) -> (String, serde_json::Value, String) {
    let sim = app.sim.as_ref().unwrap();
    let call = sim
        .place_inbound_call(from, "+15005550006", caller)
        .unwrap();
    let record = call.wait_ended(Duration::from_secs(150)).await.unwrap();
    assert_eq!(record.status, sim::CallStatus::Completed);
    let summary = app.call_result(call.sid()).await;
    assert_eq!(
        summary.outcome,
        domain::CallOutcome::Completed,
        "{summary:?}"
    );
    let detail: serde_json::Value = app
        .get_api(&format!("/v1/calls/{}", call.sid()), &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let agent_said = detail["transcript"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["speaker"] == "agent")
        .filter_map(|s| s["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let listed: serde_json::Value = app
        .get_api("/v1/messages", &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let messages = listed["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        messages.len(),
        1,
        "not one message taken.\nmessages: {messages:#?}\ntranscript: {:#}\nsimulator: {:#?}",
        detail["transcript"],
        call.events()
    );
    let message = messages[0].clone();
    assert_eq!(message["call_sid"], call.sid(), "{message:#}");
    // The caller heard speech: at least 3 s of it.
    let heard = call.heard_audio();
    assert!(heard.iter().filter(|&&b| b != 0xFF && b != 0x7F).count() > 8 * 3000);
    (call.sid().to_owned(), message, agent_said)
}

fn digits_of(message: &serde_json::Value) -> String {
    message["callback_number"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// A caller who asks to leave a message for billing, then says `second` (each after the agent
/// has finished), and waits for the answer.
fn billing_caller(second: &str) -> PersonScript {
    PersonScript::human()
        .wait_quiet()
        .say("I'd like to leave a message for the billing team.")
        .wait_quiet()
        .say(second)
        .wait_quiet()
}

fn text_of(message: &serde_json::Value, field: &str) -> String {
    message[field].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_offline_engine_takes_a_spoken_message_with_no_api_key() {
    let _cpu = sharing_the_cpu().await;
    let app = offline_app().await;
    // The two sentences; then the caller keys the number in as well, the way a caller
    // does who is not sure the agent got it: whatever the recognizer made of the spoken number
    // (right, misheard, or nothing), the message ends up with 4155550100.
    let caller = billing_caller("My name is Jordan, please call me back on 415 555 0100.")
        .digits("4155550100#")
        .wait_quiet()
        .hang_up();
    let (sid, message, agent_said) = call_and_take_message(&app, CALLER, caller).await;
    assert_eq!(message["caller_name"], "Jordan", "{message:#}");
    assert_eq!(digits_of(&message), "4155550100", "{message:#}");
    assert!(
        text_of(&message, "body").contains("call me back"),
        "{message:#}"
    );
    assert!(
        text_of(&message, "for_whom").contains("billing"),
        "{message:#}"
    );

    // What the caller heard: the message read back, the number in its groups.
    assert!(
        agent_said.contains("taken your message"),
        "no read-back: {agent_said}"
    );
    assert!(
        agent_said.contains("four one five, five five five, zero one zero zero"),
        "the number was not read back: {agent_said}"
    );
    assert!(agent_said.contains("Jordan"), "{agent_said}");

    // One Update and at least one LLM activity per caller turn (the keys are a turn too).
    let events: Vec<_> = futures::TryStreamExt::try_collect(
        app.temporal
            .get_workflow_handle::<CallWorkflow>(format!("call-{sid}"))
            .fetch_history(WorkflowFetchHistoryOptions::default()),
    )
    .await
    .unwrap();
    let updates = events
        .iter()
        .filter(|e| e.event_type() == EventType::WorkflowExecutionUpdateAccepted)
        .count();
    let llm_turns = crate::conversations::llm_turns(&events);
    assert!(updates >= 3, "{updates} updates");
    assert!(
        llm_turns >= updates,
        "{llm_turns} LLM activities for {updates} turns"
    );
}

#[tokio::test]
async fn a_withheld_caller_keys_in_the_callback_number() {
    let _cpu = sharing_the_cpu().await;
    let app = offline_app().await;
    // No number said at all: the agent, with no caller ID to offer, asks for one and mentions
    // the keypad; the caller keys it in.
    let caller = billing_caller("My name is Jordan, please call me back.")
        .digits("4155550100#")
        .wait_quiet()
        .hang_up();
    let (sid, message, agent_said) = call_and_take_message(&app, "anonymous", caller).await;
    assert_eq!(digits_of(&message), "4155550100", "{message:#}");
    assert_eq!(message["caller_name"], "Jordan", "{message:#}");
    assert!(
        agent_said.contains("key it in, followed by the pound key"),
        "the keypad was not offered: {agent_said}"
    );
    assert!(!agent_said.contains("calling from"), "{agent_said}");
    assert!(
        agent_said.contains("four one five, five five five, zero one zero zero"),
        "{agent_said}"
    );
    // The call is stored as withheld, not as a made-up number, and no SMS went to nobody.
    let row = app.wait_for_call_row(&sid).await;
    assert_eq!(row.from_number, domain::CallerId::Withheld, "{row:?}");
}

#[tokio::test]
async fn a_yes_to_the_caller_id_offer_makes_it_the_callback_number() {
    let _cpu = sharing_the_cpu().await;
    let app = offline_app().await;
    let caller = billing_caller("My name is Jordan, please call me back.")
        .say("Yes, that's fine.")
        .wait_quiet()
        .hang_up();
    let (_, message, agent_said) = call_and_take_message(&app, "+14155550123", caller).await;
    assert!(
        agent_said.contains("ending zero one two three"),
        "no caller-ID offer: {agent_said}"
    );
    assert_eq!(message["callback_number"], "+14155550123", "{message:#}");
    assert_eq!(message["caller_name"], "Jordan", "{message:#}");
}
