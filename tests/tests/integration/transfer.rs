//! Warm transfer end to end through the simulator: the caller asks for a person, is held in a
//! conference, the person (a simulated phone) is rung, hears a whisper the caller does not,
//! and decides. Real Temporal, database and sessions; the agent is the OpenAI Realtime fake or
//! the offline engine.

use crate::helpers::*;
use serde_json::{Value, json};
use sim::{CallEventKind, person::PersonScript};
use std::{sync::Arc, time::Duration};
use testkit::{FakeOpenAiRealtime, Script, Step};
use voice::{
    catalog::EngineCatalog,
    engines::{OpenAiRealtime, OpenAiRealtimeConfig},
};

pub const SMITH: &str = "+14155550101";
const ORTIZ: &str = "+14155550102";
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The model greets, hears the caller, and transfers them to `target`.
fn transfer_script(target: &str) -> Script {
    Script(vec![
        Step::say("Hello, Acme Dental, how can I help?", 800),
        Step::await_caller(format!("Can I speak to {target}?"), 400),
        Step::call_tool(
            "transfer_call",
            json!({"target": target, "reason": "a question about an appointment"}),
        ),
        Step::say("Please hold while I connect you.", 600),
    ])
}

/// An app on the simulator whose agent is the OpenAI Realtime fake.
async fn realtime_app(fake: &FakeOpenAiRealtime) -> TestApp {
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    spawn_app_with(AppOptions {
        engine: "openai_realtime".into(),
        engines: EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config))),
        sim: Some(sim::FaultConfig::default()),
        ..AppOptions::default()
    })
    .await
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> Value {
    let response = app
        .http
        .post(format!("{}{path}", app.address))
        .bearer_auth(&app.api_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Dental Care with Dr. Alice Smith, Billing with Ben Ortiz; `hours` are Dental Care's.
pub async fn seed_directory(app: &TestApp, hours: Option<Value>) {
    let dental = post_json(
        app,
        "/v1/departments",
        json!({"name": "Dental Care", "description": "dentists and hygienists", "hours": hours}),
    )
    .await;
    let billing = post_json(app, "/v1/departments", json!({"name": "Billing"})).await;
    post_json(
        app,
        "/v1/employees",
        json!({"name": "Dr. Alice Smith", "phone": SMITH, "email": "alice.smith@acme.example",
               "department_id": dental["id"], "roles": ["dentist", "practice lead"]}),
    )
    .await;
    post_json(
        app,
        "/v1/employees",
        json!({"name": "Ben Ortiz", "phone": ORTIZ, "email": "ben.ortiz@acme.example",
               "department_id": billing["id"], "roles": ["billing specialist"]}),
    )
    .await;
}

/// The person rung: answers after a second, listens to the whisper, presses `key`; having
/// accepted, greets the caller, listens a while and hangs up.
fn person_pressing(key: &str) -> PersonScript {
    PersonScript::human()
        .answer_after(1000)
        .wait_quiet_for(1200, 40_000)
        .digits(key)
        .pause(400)
        .say("Hi, this is Doctor Smith. How can I help?")
        .pause(9000)
        .hang_up()
}

/// The caller: asks for Dr. Smith, waits through "please hold", the announcement and the
/// music, and talks to whoever comes on.
fn caller_for_smith() -> PersonScript {
    PersonScript::human()
        .wait_quiet()
        .say("Can I speak to Doctor Smith please?")
        .wait_quiet_for(500, 30_000)
        .wait_quiet_for(500, 30_000)
        .wait_quiet_for(800, 60_000)
        .say("Hi Doctor Smith, it is Jordan, about moving my appointment.")
        .wait_quiet_for(800, 30_000)
}

fn events_of(app: &TestApp, sid: &str) -> Vec<CallEventKind> {
    app.sim
        .as_ref()
        .unwrap()
        .call_events(sid)
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Milliseconds of audio `sid`'s person heard inside a conference.
fn heard_in_conference(app: &TestApp, sid: &str) -> u64 {
    let mut inside = false;
    let mut ms = 0;
    for kind in events_of(app, sid) {
        match kind {
            CallEventKind::Bridge { event, .. } => inside = event == "joined-conference",
            CallEventKind::StreamAudio { ms: m } if inside => ms += m,
            _ => {}
        }
    }
    ms
}

fn said_to(app: &TestApp, sid: &str) -> Vec<String> {
    app.sim.as_ref().unwrap().call(sid).said_to_person()
}

/// The calls the simulator placed to `number`.
fn calls_to(app: &TestApp, number: &str) -> Vec<sim::CallRecord> {
    app.sim
        .as_ref()
        .unwrap()
        .calls()
        .into_iter()
        .filter(|c| c.to == number)
        .collect()
}

async fn transfers_of(app: &TestApp, call_sid: &str) -> Vec<store::TransferRow> {
    app.store
        .call_transfers(app.tenant, call_sid)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_who_accepts_is_connected_and_the_agent_leaves() {
    let _cpu = sharing_the_cpu().await;
    let fake = FakeOpenAiRealtime::start(transfer_script("Dr. Smith")).await;
    let app = realtime_app(&fake).await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap();
    sim.register_phone(SMITH, person_pressing("1"));

    let call = sim
        .place_inbound_call("+14155550199", "+15005550006", caller_for_smith())
        .unwrap();
    call.wait_ended(CALL_TIMEOUT).await.unwrap();
    let summary = app.call_result(call.sid()).await;
    assert_eq!(
        summary.outcome,
        domain::CallOutcome::Transferred,
        "{summary:?}"
    );

    let legs = calls_to(&app, SMITH);
    assert_eq!(legs.len(), 1, "the person was rung once: {legs:#?}");
    let leg = &legs[0].sid;
    // The whisper went to the person only.
    let whisper = said_to(&app, leg);
    assert!(
        whisper.iter().any(|s| s.contains("Press 1")),
        "{whisper:#?}"
    );
    assert!(
        whisper
            .iter()
            .any(|s| s.contains("a number ending 0 1 9 9")),
        "{whisper:#?}"
    );
    let caller_heard = said_to(&app, call.sid());
    assert!(
        !caller_heard.iter().any(|s| s.contains("Press 1")),
        "{caller_heard:#?}"
    );
    assert!(
        caller_heard
            .iter()
            .any(|s| s.contains("Please hold while I connect you to Dr. Alice Smith")),
        "{caller_heard:#?}"
    );
    let caller_events = events_of(&app, call.sid());
    assert!(
        caller_events.iter().any(
            |e| matches!(e, CallEventKind::CallPlayed { what, .. } if what.contains("hold music"))
        ),
        "{caller_events:#?}"
    );
    // Each heard the other in the conference.
    assert!(
        heard_in_conference(&app, call.sid()) >= 800,
        "{caller_events:#?}"
    );
    assert!(
        heard_in_conference(&app, leg) >= 800,
        "{:#?}",
        events_of(&app, leg)
    );
    // Only the caller and the person were ever in it: the agent is not a participant.
    let conference = sim
        .conferences()
        .into_iter()
        .find(|c| c.friendly_name.starts_with("transfer-"))
        .expect("a transfer conference");
    let participants: Vec<String> = sim
        .participants(&conference.sid)
        .into_iter()
        .map(|p| p.call_sid)
        .collect();
    assert!(participants.len() <= 2, "{participants:?}");

    let transfers = transfers_of(&app, call.sid()).await;
    assert_eq!(transfers.len(), 1);
    let t = &transfers[0];
    assert_eq!(t.id, format!("transfer-{}-1", call.sid()));
    assert_eq!(t.stage, "connected");
    assert_eq!(t.reason, None);
    assert_eq!(t.employee_call_sid.as_deref(), Some(leg.as_str()));
    assert!(
        t.ring_after_ms.is_some() && t.connect_after_ms.is_some(),
        "{t:?}"
    );
    let row = app.wait_for_call_row(call.sid()).await;
    assert_eq!(row.transfer_result.as_deref(), Some("transferred"));
    println!(
        "transfer: ring after {} ms, connected {} ms after accept",
        t.ring_after_ms.unwrap(),
        t.connect_after_ms.unwrap()
    );
}
