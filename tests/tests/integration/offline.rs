//! The offline engine with no provider key anywhere: a simulated caller speaks (flite), the
//! Whisper sidecar transcribes, the rule-based dialog answers through the workflow's Update and
//! `llm_turn` activity, flite speaks, and a message is stored. `scripts/test.sh` installs the
//! sidecar into `.venv` and Debian's flite.

use crate::helpers::*;
use sim::person::PersonScript;
use std::{path::Path, sync::Arc, time::Duration};
use temporalio_client::WorkflowFetchHistoryOptions;
use temporalio_common::protos::temporal::api::{
    enums::v1::EventType, history::v1::history_event::Attributes,
};
use voice::{
    catalog::EngineCatalog,
    engines::offline::OfflineEngine,
    stt::{DeepgramStt, SttEvent, SttOptions, SttProvider, SttSidecar, sidecar::find_default},
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

/// Everything the sidecar hears in `mulaw` (8 kHz), as one text.
async fn transcribe(sidecar: &SttSidecar, mulaw: &[u8]) -> String {
    let stt = DeepgramStt::new(sidecar.deepgram_config());
    let mut session = stt.start(SttOptions::default()).await.unwrap();
    let audio = session.audio.clone();
    let frames: Vec<Vec<u8>> = mulaw
        .chunks(160)
        .map(<[u8]>::to_vec)
        .chain(std::iter::repeat_n(vec![0xFF; 160], 100))
        .collect();
    tokio::spawn(async move {
        for frame in frames {
            if audio.send(frame).await.is_err() {
                break;
            }
        }
    });
    drop(session.audio);
    let mut text = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(20), session.events.recv()).await
    {
        if let SttEvent::Final {
            text: t,
            end_of_turn: true,
        } = event
        {
            text.push(t);
        }
    }
    text.join(" ")
}

#[tokio::test]
async fn the_offline_engine_takes_a_spoken_message_with_no_api_key() {
    assert!(
        voice::tts::FliteTts::available(),
        "flite is not installed: run scripts/test.sh"
    );
    let stt = sidecar().await;
    let tts = OfflineEngine::local_tts().unwrap();
    let engines = EngineCatalog::new().with(Arc::new(OfflineEngine::new(stt.clone(), tts)));
    let app = spawn_app_with(AppOptions {
        engine: "offline".into(),
        engines,
        greeting: "Thanks for calling Acme Dental, how can I help you today?".into(),
        rules_dialog: true,
        sim: Some(sim::FaultConfig::default()),
        ..AppOptions::default()
    })
    .await;
    let sim = app.sim.as_ref().unwrap();
    // The two sentences, nothing else: the agent saves the message once it has every
    // detail and reads it back.
    let caller = PersonScript::human()
        .wait_quiet()
        .say("I'd like to leave a message for the billing team.")
        .wait_quiet()
        .say("My name is Jordan, please call me back on 415 555 0100.")
        .wait_quiet()
        .hang_up();
    let call = sim
        .place_inbound_call(CALLER, "+15005550006", caller)
        .unwrap();
    let record = call.wait_ended(Duration::from_secs(120)).await.unwrap();
    assert_eq!(record.status, "completed");
    app.call_result(call.sid()).await;

    let listed: serde_json::Value = app
        .get_api("/v1/messages", &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let messages = listed["data"].as_array().cloned().unwrap_or_default();
    if messages.len() != 1 {
        let transcript: serde_json::Value = app
            .get_api(&format!("/v1/calls/{}", call.sid()), &app.api_key)
            .await
            .json()
            .await
            .unwrap();
        panic!(
            "no message taken.\ntranscript: {:#}\nsimulator: {:#?}",
            transcript["transcript"],
            call.events()
        );
    }
    let message = &messages[0];
    assert_eq!(message["call_sid"], call.sid(), "{message:#}");
    assert_eq!(message["caller_name"], "Jordan", "{message:#}");
    let digits: String = message["callback_number"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(digits, "4155550100", "{message:#}");
    let text = |field: &str| message[field].as_str().unwrap_or_default().to_owned();
    assert!(text("body").contains("call me back"), "{message:#}");
    assert!(text("for_whom").contains("billing"), "{message:#}");

    // What the caller heard is speech, and says back the message it took.
    let heard = call.heard_audio();
    assert!(heard.iter().filter(|&&b| b != 0xFF && b != 0x7F).count() > 8 * 3000);
    let said = transcribe(&stt, &heard).await.to_lowercase();
    assert!(said.contains("jordan"), "the caller heard: {said}");
    assert!(said.contains("billing"), "the caller heard: {said}");
    assert!(
        said.contains("taken your message"),
        "the caller heard no confirmation: {said}"
    );

    // One Update and at least one LLM activity per caller turn.
    let events: Vec<_> = futures::TryStreamExt::try_collect(
        app.temporal
            .get_workflow_handle::<CallWorkflow>(format!("call-{}", call.sid()))
            .fetch_history(WorkflowFetchHistoryOptions::default()),
    )
    .await
    .unwrap();
    let updates = events
        .iter()
        .filter(|e| e.event_type() == EventType::WorkflowExecutionUpdateAccepted)
        .count();
    let llm_turns = events
        .iter()
        .filter(|e| {
            matches!(&e.attributes, Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == "llm_turn"))
        })
        .count();
    assert!(updates >= 2, "{updates} updates");
    assert!(
        llm_turns >= updates,
        "{llm_turns} LLM activities for {updates} turns"
    );
}
