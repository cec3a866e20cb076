//! Warm transfer end to end through the simulator: the caller asks for a person, is held in a
//! conference, the person (a simulated phone) is rung, hears a whisper the caller does not,
//! and decides. Real Temporal, database and sessions; the agent is the OpenAI Realtime fake or
//! the offline engine.

use crate::{call_workflow::replay_with, helpers::*};
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
        .pause(30_000)
        .hang_up()
}

/// A caller who asks for Dr. Smith, then, once the agent has had time to answer, says `line`
/// every few seconds for a while: whatever they hear meanwhile (the agent, the announcement, the
/// hold music, the person), someone on the other end hears it.
fn caller_repeating(line: &str) -> PersonScript {
    let mut caller = PersonScript::human()
        .wait_quiet()
        .say("Can I speak to Doctor Smith please?")
        .pause(8000);
    for _ in 0..8 {
        caller = caller.say(line).pause(3000);
    }
    caller.hang_up()
}

/// The caller of an accepted transfer: talks to whoever comes on.
fn caller_for_smith() -> PersonScript {
    caller_repeating("Hello? It is Jordan, about moving my appointment.")
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

/// Waits for the call to end; a call that does not shows what its phones went through.
async fn ended(app: &TestApp, call: &sim::CallHandle, timeout: Duration) {
    if call.wait_ended(timeout).await.is_err() {
        let legs: Vec<_> = calls_to(app, SMITH)
            .into_iter()
            .map(|c| (c.sid.clone(), events_of(app, &c.sid)))
            .collect();
        panic!(
            "the call did not end.\ncaller: {:#?}\nlegs: {legs:#?}",
            events_of(app, call.sid())
        );
    }
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
    ended(&app, &call, CALL_TIMEOUT).await;
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
    // Both histories replay against today's code; the transfer's stays small.
    let transfer_history = history_json::<workflows::TransferWorkflow>(&app, &t.id).await;
    replay_with::<workflows::TransferWorkflow>(&transfer_history)
        .await
        .expect("the transfer replays");
    let call_history =
        history_json::<workflows::CallWorkflow>(&app, &format!("call-{}", call.sid())).await;
    replay_with::<workflows::CallWorkflow>(&call_history)
        .await
        .expect("the call replays");
    let events = serde_json::from_slice::<Value>(&transfer_history).unwrap()["events"]
        .as_array()
        .map_or(0, Vec::len);
    println!(
        "transfer: ring after {} ms, connected {} ms after accept; history {events} events, {} bytes",
        t.ring_after_ms.unwrap(),
        t.connect_after_ms.unwrap(),
        transfer_history.len()
    );
}

async fn history_json<W>(app: &TestApp, workflow_id: &str) -> Vec<u8>
where
    W: temporalio_common::HasWorkflowDefinition,
{
    app.temporal
        .get_workflow_handle::<W>(workflow_id.to_owned())
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap()
}

/// What the model does when the caller comes back: says why (the fake's tone stands for the
/// sentence the instructions give it), hears the caller decline a message, ends the call.
fn return_script() -> Script {
    Script(vec![
        Step::say(
            "Sorry, they could not take your call. Would you like to leave a message?",
            800,
        ),
        Step::await_caller("No thanks, goodbye.", 300),
        Step::call_tool("end_call", json!({"reason": "caller is done"})),
        Step::say("Goodbye!", 400),
    ])
}

/// The caller of a transfer that will not connect: asks, holds, hears the agent again and
/// says goodbye.
fn caller_coming_back() -> PersonScript {
    PersonScript::human()
        .wait_quiet()
        .say("Can I speak to Doctor Smith please?")
        .wait_quiet_for(500, 30_000)
        .wait_quiet_for(500, 30_000)
        .wait_quiet_for(800, 90_000)
        .say("No thanks, goodbye.")
        .wait_quiet_for(800, 20_000)
}

/// The instructions the model was given when a stream opened: its greeting.
fn greetings_given(fake: &FakeOpenAiRealtime) -> Vec<String> {
    fake.received()
        .into_iter()
        .filter(|e| e["type"] == "response.create")
        .filter_map(|e| e["response"]["instructions"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn declined_busy_and_voicemail_bring_the_caller_back_with_the_reason() {
    let _cpu = sharing_the_cpu().await;
    let cases = [
        (
            PersonScript::human()
                .answer_after(800)
                .wait_quiet_for(1200, 40_000)
                .digits("2")
                .pause(3000),
            "declined",
            "can't take your call right now",
        ),
        (
            PersonScript::busy().answer_after(500),
            "busy",
            "on another call",
        ),
        (
            PersonScript::machine(1500).answer_after(500),
            "voicemail",
            "reached Dr. Alice Smith's voicemail",
        ),
    ];
    let mut scripts = Vec::new();
    for _ in &cases {
        scripts.push(transfer_script("Dr. Smith"));
        scripts.push(return_script());
    }
    let fake = FakeOpenAiRealtime::start_many(scripts).await;
    let app = realtime_app(&fake).await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap();
    for (n, (person, reason, sentence)) in cases.into_iter().enumerate() {
        sim.register_phone(SMITH, person);
        let call = sim
            .place_inbound_call("+14155550199", "+15005550006", caller_coming_back())
            .unwrap();
        // Back with the agent, who is told why: then the caller hangs up.
        let mut waited = 0;
        while !greetings_given(&fake).iter().any(|g| g.contains(sentence)) {
            assert!(
                waited < 900,
                "{reason}: the caller never came back: {:#?}",
                events_of(&app, call.sid())
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        twilio_client(sim.base_url())
            .update_call(call.sid(), &telephony::rest::UpdateCall::Hangup)
            .await
            .unwrap();
        ended(&app, &call, CALL_TIMEOUT).await;
        let summary = app.call_result(call.sid()).await;
        assert_eq!(
            summary.outcome,
            domain::CallOutcome::Completed,
            "{reason}: {summary:?}"
        );
        assert_eq!(
            calls_to(&app, SMITH).len(),
            n + 1,
            "{reason}: one leg per transfer"
        );
        let transfers = transfers_of(&app, call.sid()).await;
        assert_eq!(transfers.len(), 1, "{reason}");
        assert_eq!(
            transfers[0].reason.as_deref(),
            Some(reason),
            "{:?}",
            transfers[0]
        );
        assert_eq!(transfers[0].stage, "failed");
        let row = app.wait_for_call_row(call.sid()).await;
        assert_eq!(row.transfer_result.as_deref(), Some(reason));
        // The caller came back on a new stream, and the agent's first words say why.
        let streams = events_of(&app, call.sid())
            .into_iter()
            .filter(|e| matches!(e, CallEventKind::Stream { event, .. } if event == "started"))
            .count();
        assert_eq!(streams, 2, "{reason}: {:#?}", events_of(&app, call.sid()));
        let greetings = greetings_given(&fake);
        assert!(
            greetings.last().is_some_and(|g| g.contains(sentence)),
            "{reason}: {greetings:#?}"
        );
        // The person never heard a whisper meant for a human when a machine answered.
        if reason == "voicemail" {
            let leg = &calls_to(&app, SMITH)[n].sid;
            assert!(!said_to(&app, leg).iter().any(|s| s.contains("Press 1")));
        }
    }
}

#[tokio::test]
async fn outside_the_departments_hours_nobody_is_rung_and_the_next_opening_is_said() {
    let _cpu = sharing_the_cpu().await;
    let fake = FakeOpenAiRealtime::start(Script(vec![
        Step::say("Hello, Acme Dental, how can I help?", 600),
        Step::await_caller("Can I speak to Dr. Smith?", 300),
        Step::call_tool("transfer_call", json!({"target": "Dr. Smith"})),
        Step::say("She is out until tomorrow; can I take a message?", 600),
        Step::await_caller("Yes, I'm Jordan on 415 555 0100, please call me back.", 300),
        Step::call_tool(
            "take_message",
            json!({"for_whom": "Dr. Smith", "caller_name": "Jordan",
                   "callback_number": "415 555 0100", "message": "Please call me back."}),
        ),
        Step::say("Thanks, I'll pass that on.", 400),
    ]))
    .await;
    let app = realtime_app(&fake).await;
    // Dental Care opens 9 to 5 every day, but not today (in the tenant's zone).
    let zone: chrono_tz::Tz = app
        .store
        .tenant(app.tenant)
        .await
        .unwrap()
        .time_zone
        .parse()
        .unwrap();
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let day = json!([["09:00", "17:00"]]);
    let hours = json!({
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
        "exceptions": [{"date": today.to_string(), "closed": true, "note": "staff training"}]
    });
    seed_directory(&app, Some(hours)).await;
    let sim = app.sim.as_ref().unwrap();
    sim.register_phone(SMITH, person_pressing("1"));
    let caller = PersonScript::human()
        .wait_quiet()
        .say("Can I speak to Doctor Smith please?")
        .wait_quiet_for(800, 30_000)
        .say("Yes, I am Jordan on 415 555 0100, please call me back.")
        .wait_quiet_for(800, 30_000)
        .hang_up();
    let call = sim
        .place_inbound_call("+14155550199", "+15005550006", caller)
        .unwrap();
    ended(&app, &call, CALL_TIMEOUT).await;
    app.call_result(call.sid()).await;

    let outputs: Vec<Value> = fake
        .tool_outputs()
        .iter()
        .map(|(_, o)| serde_json::from_str(o).unwrap())
        .collect();
    assert_eq!(outputs[0]["ok"], false, "{outputs:#?}");
    assert_eq!(outputs[0]["reason"], "outside_hours");
    assert_eq!(
        outputs[0]["next_available"], "tomorrow at 9 am",
        "{outputs:#?}"
    );
    assert!(
        outputs[0]["say"]
            .as_str()
            .unwrap()
            .contains("tomorrow at 9 am")
    );
    assert!(
        calls_to(&app, SMITH).is_empty(),
        "nobody is rung outside hours"
    );
    assert!(transfers_of(&app, call.sid()).await.is_empty());
    // The message is addressed to the person the directory found.
    assert_eq!(outputs[1]["ok"], true, "{outputs:#?}");
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn a_worker_killed_while_the_phone_rings_dials_once_and_still_connects() {
    let _cpu = sharing_the_cpu().await;
    let fake = FakeOpenAiRealtime::start(transfer_script("Dr. Smith")).await;
    let mut app = realtime_app(&fake).await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap().clone();
    sim.register_phone(
        SMITH,
        PersonScript::human()
            .answer_after(8000)
            .wait_quiet_for(1200, 40_000)
            .digits("1")
            .pause(400)
            .say("Hi, this is Doctor Smith. How can I help?")
            .pause(9000)
            .hang_up(),
    );
    let call = sim
        .place_inbound_call("+14155550199", "+15005550006", caller_for_smith())
        .unwrap();
    // The person's phone is ringing: stop the worker, then start a new one.
    let mut waited = 0;
    while calls_to(&app, SMITH).is_empty() {
        assert!(waited < 600, "the person's phone never rang");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    app.stop_worker().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.start_worker();

    ended(&app, &call, CALL_TIMEOUT).await;
    let summary = app.call_result(call.sid()).await;
    assert_eq!(
        summary.outcome,
        domain::CallOutcome::Transferred,
        "{summary:?}"
    );
    assert_eq!(calls_to(&app, SMITH).len(), 1, "dialled once");
    let transfers = transfers_of(&app, call.sid()).await;
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].stage, "connected");
}

#[tokio::test]
async fn back_from_an_unanswered_transfer_the_caller_leaves_a_message_delivered_once_per_channel() {
    let _cpu = sharing_the_cpu().await;
    let caller_line = "Yes, I am Jordan on 415 555 0100, please call me back about my appointment.";
    let fake = FakeOpenAiRealtime::start_many(vec![
        transfer_script("Dr. Smith"),
        Script(vec![
            Step::say(
                "Sorry, Dr. Smith isn't answering. Would you like to leave a message?",
                800,
            ),
            Step::await_caller(caller_line, 400),
            Step::call_tool(
                "take_message",
                json!({"for_whom": "Dr. Smith", "caller_name": "Jordan",
                       "callback_number": "+14155550100",
                       "message": "Please call me back about my appointment."}),
            ),
            Step::say("Thanks Jordan, I'll pass that on.", 600),
            Step::call_tool("end_call", json!({"reason": "message taken"})),
            Step::say("Goodbye!", 400),
        ]),
    ])
    .await;
    let sink = testkit::smtp::SmtpSink::start(testkit::smtp::SmtpFaults::default()).await;
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    let (app, receiver) = crate::delivery::delivering_app_with(AppOptions {
        engine: "openai_realtime".into(),
        engines: EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config))),
        sim: Some(sim::FaultConfig::default()),
        smtp_url: Some(sink.url()),
        ..AppOptions::default()
    })
    .await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap();
    sim.register_phone(SMITH, PersonScript::no_answer());
    // Said again and again: the agent hears it once it is back.
    let caller = caller_repeating(caller_line);
    let call = sim
        .place_inbound_call("+14155550199", "+15005550006", caller)
        .unwrap();
    ended(&app, &call, CALL_TIMEOUT).await;
    app.call_result(call.sid()).await;
    let transfers = transfers_of(&app, call.sid()).await;
    assert_eq!(
        transfers[0].reason.as_deref(),
        Some("no_answer"),
        "{transfers:?}"
    );

    // The message is for the person the directory found, with their phone and email.
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message = &messages[0];
    let recipient = message
        .recipient
        .clone()
        .expect("addressed from the directory");
    assert_eq!(recipient.name, "Dr. Alice Smith");
    assert_eq!(recipient.phone.as_deref(), Some(SMITH));
    // The call started its delivery when it ended: once per channel.
    let result = crate::delivery::delivery_result(&app, message.id).await;
    assert_eq!(result.channels.len(), 3, "{result:?}");
    assert!(
        result
            .channels
            .iter()
            .all(|c| c.status == domain::message::DeliveryStatus::Delivered),
        "{result:?}"
    );
    let texts: Vec<_> = sim
        .messages()
        .into_iter()
        .filter(|m| m.to == SMITH)
        .collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].body.contains("Jordan"));
    let emails = sink.messages();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0].rcpt_to,
        vec!["alice.smith@acme.example".to_owned()]
    );
    let hooks = receiver.accepted_for(message.id);
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].signature_valid);
}

/// The offline engine, no provider key: the caller's spoken request goes through Whisper and
/// the rule dialog to `transfer_call`. The caller says the person's name again while holding:
/// if the recognizer missed it the first time, the agent's "who would you like to speak to?"
/// gets its answer; if not, the person hears it once connected.
#[tokio::test]
async fn the_offline_agent_transfers_a_spoken_request() {
    let _cpu = sharing_the_cpu().await;
    let app = crate::offline::offline_app().await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap();
    sim.register_phone(SMITH, person_pressing("1"));
    let call = sim
        .place_inbound_call(
            "+14155550199",
            "+15005550006",
            caller_repeating("Doctor Smith, please. It is Jordan calling."),
        )
        .unwrap();
    ended(&app, &call, CALL_TIMEOUT).await;
    let summary = app.call_result(call.sid()).await;
    let detail: Value = app
        .get_api(&format!("/v1/calls/{}", call.sid()), &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        summary.outcome,
        domain::CallOutcome::Transferred,
        "{summary:?}\ntranscript: {:#}",
        detail["transcript"]
    );
    let legs = calls_to(&app, SMITH);
    assert_eq!(legs.len(), 1, "rung once: {legs:#?}");
    let caller_heard = said_to(&app, call.sid());
    assert!(
        caller_heard
            .iter()
            .any(|s| s.contains("Please hold while I connect you to Dr. Alice Smith")),
        "{caller_heard:#?}"
    );
    assert!(heard_in_conference(&app, call.sid()) >= 800);
    assert!(heard_in_conference(&app, &legs[0].sid) >= 800);
    let transfers = transfers_of(&app, call.sid()).await;
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].stage, "connected");
}

/// `values`' median and largest.
fn p50_max(mut values: Vec<i64>) -> (i64, i64) {
    values.sort_unstable();
    (values[values.len() / 2], *values.last().unwrap_or(&0))
}

/// Six callers at once ask for Dr. Smith while a fifth of Twilio's REST requests fail: 429s,
/// 500s, and timeouts that took effect anyway (the leg was created; we never heard its SID).
/// Each transfer still rings the person exactly once and connects.
#[tokio::test]
async fn transfers_ring_once_and_connect_while_a_fifth_of_twilio_requests_fail() {
    let _cpu = sharing_the_cpu().await;
    const CALLS: usize = 6;
    let fake = FakeOpenAiRealtime::start_many(vec![transfer_script("Dr. Smith"); CALLS]).await;
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    let app = spawn_app_with(AppOptions {
        engine: "openai_realtime".into(),
        engines: EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config))),
        sim: Some(sim::FaultConfig {
            seed: 11,
            rest_failure_rate: 0.2,
            rest_failure_kinds: vec![
                sim::faults::RestFailure::TooManyRequests,
                sim::faults::RestFailure::ServerError,
                sim::faults::RestFailure::Timeout,
            ],
            timeout_hold_ms: TWILIO_CLIENT_TIMEOUT.as_millis() as u64 + 1_000,
            timeout_after_effect: true,
            // And the first two dials for sure: the leg rings, the request times out.
            scripted_timeouts: vec![sim::ScriptedTimeout {
                path_suffix: "/Calls.json".into(),
                count: 2,
            }],
            ..sim::FaultConfig::default()
        }),
        ..AppOptions::default()
    })
    .await;
    seed_directory(&app, None).await;
    let sim = app.sim.as_ref().unwrap();
    sim.register_phone(SMITH, person_pressing("1"));
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let from = format!("+1415555{:04}", 3000 + i);
        calls.push(
            sim.place_inbound_call(&from, "+15005550006", caller_for_smith())
                .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (mut ring, mut connect) = (Vec::new(), Vec::new());
    for call in &calls {
        ended(&app, call, CALL_TIMEOUT).await;
        let summary = app.call_result(call.sid()).await;
        assert_eq!(
            summary.outcome,
            domain::CallOutcome::Transferred,
            "{summary:?}"
        );
        let transfers = transfers_of(&app, call.sid()).await;
        assert_eq!(transfers.len(), 1, "{transfers:?}");
        let t = &transfers[0];
        assert_eq!(t.stage, "connected", "{t:?}");
        ring.push(t.ring_after_ms.unwrap());
        connect.push(t.connect_after_ms.unwrap());
    }
    // One leg per transfer, each the one its transfer recorded.
    let legs = calls_to(&app, SMITH);
    assert_eq!(legs.len(), CALLS, "{legs:#?}");
    for call in &calls {
        let t = &transfers_of(&app, call.sid()).await[0];
        let leg = t.employee_call_sid.as_deref().unwrap();
        assert!(legs.iter().any(|l| l.sid == leg), "{t:?}");
        assert!(heard_in_conference(&app, leg) >= 800, "{t:?}");
    }
    let injected = sim.faults_injected();
    assert!(injected.timeouts >= 2, "{injected:?}");
    let ((ring_p50, ring_max), (connect_p50, connect_max)) = (p50_max(ring), p50_max(connect));
    println!(
        "{CALLS} transfers under faults ({injected:?}): ringing after {ring_p50} ms p50 / {ring_max} ms max, \
         connected {connect_p50} ms p50 / {connect_max} ms max after accept"
    );
}
