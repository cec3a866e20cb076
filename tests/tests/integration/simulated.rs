//! End to end through the Twilio simulator: every call here is placed by `switchboard sim`
//! and reaches the product only as Twilio would — signed webhooks, a Media Streams WebSocket,
//! status callbacks and the REST API.

use crate::{
    call_workflow::{record_history, replay},
    helpers::*,
};
use sim::{CallEventKind, FaultConfig, RestFailure, person::PersonScript};
use std::{collections::BTreeMap, time::Duration};

const OUR_NUMBER: &str = "+15005550006";
const CALL_TIMEOUT: Duration = Duration::from_secs(90);

fn simulated() -> AppOptions {
    AppOptions {
        sim: Some(FaultConfig::default()),
        ..AppOptions::default()
    }
}

/// A caller who talks for a moment, listens to the (echo) agent and hangs up.
fn short_caller() -> PersonScript {
    PersonScript::human()
        .pause(300)
        .say("Hello, I would like an appointment next week.")
        .wait_quiet_for(600, 10_000)
        .hang_up()
}

fn heard_sound(audio: &[u8]) -> usize {
    audio.iter().filter(|&&b| b != 0xFF && b != 0x7F).count()
}

#[tokio::test]
async fn an_inbound_call_through_the_simulator_talks_both_ways_and_completes() {
    let app = spawn_app_with(simulated()).await;
    let sim = app.sim.as_ref().unwrap();
    let call = sim
        .place_inbound_call(CALLER, OUR_NUMBER, short_caller())
        .unwrap();
    let record = call.wait_ended(CALL_TIMEOUT).await.unwrap();
    assert_eq!(record.status, sim::CallStatus::Completed);

    // Both ways: the agent heard the caller (the echo engine says it back) and the caller
    // heard the agent.
    assert!(
        heard_sound(&call.heard_audio()) > 8 * 1000,
        "the caller heard at least a second of the agent"
    );
    let events = call.events();
    let webhooks: Vec<(String, Option<u16>)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            CallEventKind::Webhook {
                purpose, status, ..
            } => Some((purpose.clone(), *status)),
            _ => None,
        })
        .collect();
    // Our signature validation accepted every signed webhook of the simulator.
    assert!(
        webhooks
            .iter()
            .all(|(_, status)| status.is_some_and(|s| s < 300)),
        "{webhooks:?}"
    );
    assert!(webhooks.iter().any(|(p, _)| p == "twiml"), "{webhooks:?}");

    let summary = app.call_result(call.sid()).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    let row = app.wait_for_call_row(call.sid()).await;
    assert_eq!(row.status, domain::CallStatus::Completed);
    assert!(row.duration_secs.is_some());
}

#[tokio::test]
async fn an_outbound_call_placed_through_our_api_is_answered_by_a_simulated_person() {
    let app = spawn_app_with(simulated()).await;
    let sim = app.sim.as_ref().unwrap();
    let callee = "+14155550100";
    sim.register_phone(callee, short_caller());

    let placed: serde_json::Value = app
        .http
        .post(format!("{}/v1/calls", app.address))
        .bearer_auth(&app.api_key)
        .json(&serde_json::json!({"to": callee, "from": OUR_NUMBER}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call_sid = placed["call_sid"].as_str().expect("a call SID").to_owned();
    assert_eq!(placed["workflow_id"], format!("call-{call_sid}"));

    let call = sim.call(&call_sid);
    let record = call.wait_ended(CALL_TIMEOUT).await.unwrap();
    assert_eq!(record.status, sim::CallStatus::Completed);
    assert_eq!(record.direction, "outbound-api");
    assert!(heard_sound(&call.heard_audio()) > 8 * 1000);

    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.direction, domain::CallDirection::Outbound);
    assert_eq!(row.to_number.as_str(), callee);
}

#[tokio::test]
async fn an_answering_machine_reaches_us_as_machine_end_beep_and_gets_a_voicemail() {
    let app = spawn_app_with(simulated()).await;
    let sim = app.sim.as_ref().unwrap();
    let voicemail = "+14155550101";
    sim.register_phone(voicemail, PersonScript::machine(2500));

    let response = app
        .http
        .post(format!("{}/v1/calls", app.address))
        .bearer_auth(&app.api_key)
        .json(&serde_json::json!({"to": voicemail, "from": OUR_NUMBER, "machine_detection": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let placed: serde_json::Value = response.json().await.unwrap();
    let call_sid = placed["call_sid"].as_str().unwrap().to_owned();

    let call = sim.call(&call_sid);
    let record = call.wait_ended(CALL_TIMEOUT).await.unwrap();
    assert_eq!(record.answered_by.as_deref(), Some("machine_end_beep"));
    let said = call.said_to_person().join(" ");
    assert!(said.contains("please call us back"), "{said}");

    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Voicemail);
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.answered_by, Some(domain::AnsweredBy::MachineEndBeep));
    assert_eq!(row.outcome, Some(domain::CallOutcome::Voicemail));
    let history = record_history(&app, &call_sid, "SWITCHBOARD_RECORD_VOICEMAIL_HISTORY").await;
    replay(&history).await.expect("the voicemail call replays");
}

#[tokio::test]
async fn webhooks_signed_with_another_auth_token_are_refused_and_start_nothing() {
    let app = spawn_app_with(simulated()).await;
    // A second "Twilio" that signs with a token the product does not know.
    let impostor = sim::Sim::start(sim::SimConfig {
        account_sid: ACCOUNT_SID.into(),
        auth_token: "not-our-auth-token".into(),
        numbers: vec![(
            OUR_NUMBER.into(),
            format!("{}/twilio/voice", app.address),
            None,
        )],
        ..sim::SimConfig::local()
    })
    .await
    .unwrap();
    let call = impostor
        .place_inbound_call(CALLER, OUR_NUMBER, short_caller())
        .unwrap();
    call.wait_ended(CALL_TIMEOUT).await.unwrap();
    let refused = call.events().into_iter().any(|e| {
        matches!(
            e.kind,
            CallEventKind::Webhook {
                status: Some(403),
                ..
            }
        )
    });
    assert!(refused, "{:?}", call.events());
    assert!(
        app.describe(call.sid()).await.is_none(),
        "no workflow for a forged webhook"
    );
    impostor.shutdown().await;
}

#[tokio::test]
async fn fifty_calls_complete_exactly_once_while_a_fifth_of_twilio_requests_fail() {
    let _cpu = alone_on_the_cpu().await;
    let app = spawn_app_with(AppOptions {
        sim: Some(FaultConfig {
            seed: 7,
            rest_failure_rate: 0.2,
            rest_failure_kinds: vec![
                RestFailure::TooManyRequests,
                RestFailure::ServerError,
                RestFailure::Timeout,
            ],
            // Longer than the product waits: the request fails for us but takes effect at
            // "Twilio", the case that sends SMS twice if a retry does not look first.
            timeout_hold_ms: TWILIO_CLIENT_TIMEOUT.as_millis() as u64 + 1_000,
            timeout_after_effect: true,
            ..FaultConfig::default()
        }),
        engine_settings: serde_json::json!({"followup_sms": "Thanks for calling Acme Dental!"}),
        ..AppOptions::default()
    })
    .await;
    let sim = app.sim.as_ref().unwrap();

    let callers: Vec<String> = (0..50)
        .map(|i| format!("+1415555{:04}", 2000 + i))
        .collect();
    // Ten calls a second, as a busy line gets them (a dozen or more on the line at once):
    // all fifty in the same instant queued every webhook behind the debug build's single
    // SQLite connection for longer than Twilio waits.
    let mut calls = Vec::new();
    for from in &callers {
        let person = PersonScript::human()
            .pause(200)
            .say("Hi, just checking your hours.")
            .pause(800)
            .hang_up();
        calls.push(sim.place_inbound_call(from, OUR_NUMBER, person).unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for call in &calls {
        let record = call.wait_ended(CALL_TIMEOUT).await.unwrap();
        assert_eq!(
            record.status,
            sim::CallStatus::Completed,
            "{}: {:#?}",
            call.sid(),
            call.events()
        );
    }
    for call in &calls {
        let summary = app.call_result(call.sid()).await;
        assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    }

    // One calls row per call, and every workflow ran once.
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/calls?limit=100&cursor={c}"),
            None => "/v1/calls?limit=100".to_owned(),
        };
        let page: serde_json::Value = app.get_api(&path, &app.api_key).await.json().await.unwrap();
        rows.extend(page["data"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r["status"] == "completed"));

    // Exactly one follow-up SMS per caller, though a fifth of the sends and lookups failed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let by_caller = loop {
        let mut by_caller: BTreeMap<String, usize> = BTreeMap::new();
        for message in sim.messages() {
            *by_caller.entry(message.to.clone()).or_default() += 1;
        }
        if by_caller.len() == 50 || tokio::time::Instant::now() > deadline {
            break by_caller;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let injected = sim.faults_injected();
    assert!(
        injected.timeouts > 0 && injected.server_errors + injected.too_many_requests > 0,
        "the run really failed requests: {injected:?}"
    );
    let missing: Vec<_> = rows
        .iter()
        .filter(|r| !by_caller.contains_key(r["from"].as_str().unwrap_or_default()))
        .collect();
    assert!(
        missing.is_empty(),
        "every caller got the SMS; not: {missing:#?}"
    );
    assert!(
        by_caller.values().all(|&n| n == 1),
        "no caller got it twice: {by_caller:?}"
    );
    // A call with the follow-up SMS (and its retries) replays deterministically.
    let history = record_history(&app, calls[0].sid(), "SWITCHBOARD_RECORD_SMS_HISTORY").await;
    replay(&history)
        .await
        .expect("a call with a follow-up SMS replays");
}
