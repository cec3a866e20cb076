//! The console in a real browser (headless Chromium over WebDriver): a manager signs in and
//! watches a simulated call live, then reads it; a viewer sees no edit controls and is refused
//! by the API anyway; the console and the API docs render with no network but the API's.
//! Every page visited is written as a screenshot (`console-screenshots/` in the test run's
//! target directory).

use crate::browser::Browser;
use crate::helpers::{AppOptions, CALLER, TestApp, spawn_app, spawn_app_with};
use crate::permissions::send;
use domain::Role;
use reqwest::Method;
use serde_json::json;
use sim::person::PersonScript;
use std::{sync::Arc, time::Duration};
use testkit::{FakeOpenAiRealtime, Script, Step};
use voice::{
    catalog::EngineCatalog,
    engines::{OpenAiRealtime, OpenAiRealtimeConfig},
};

const OUR_NUMBER: &str = "+15005550006";
const PAGE: Duration = Duration::from_secs(15);
const PASSWORD: &str = "correct horse battery";

/// A user of `role` the browser can sign in as.
async fn user(app: &TestApp, role: Role, email: &str) {
    let owner = app
        .store
        .create_api_key_with_role(app.tenant, "owner", Role::Owner)
        .await
        .unwrap()
        .secret
        .into_inner();
    let body =
        json!({"email": email, "name": role.as_str(), "password": PASSWORD, "role": role.as_str()});
    let (status, created) = send(app, &Method::POST, "/v1/users", Some(&owner), Some(&body)).await;
    assert_eq!(status, 201, "{created}");
}

async fn sign_in(browser: &Browser, app: &TestApp, email: &str) {
    browser.goto(&format!("{}/", app.address)).await;
    let field = browser.wait_for("input[name=email]", PAGE).await;
    browser.type_into(&field, email).await;
    let password = browser.wait_for("input[name=password]", PAGE).await;
    browser.type_into(&password, PASSWORD).await;
    let submit = browser.wait_for("form button[type=submit]", PAGE).await;
    browser.click(&submit).await;
    browser.wait_for("nav a[href='#/calls']", PAGE).await;
}

async fn open(browser: &Browser, app: &TestApp, page: &str) {
    browser.goto(&format!("{}/#/{page}", app.address)).await;
}

/// The model: greets, takes the caller's message, thanks them by name, ends the call.
fn receptionist() -> Script {
    Script(vec![
        Step::say("Hello, Acme Dental, how can I help?", 1000),
        Step::await_caller(
            "I'd like to leave a message for billing. I'm Jordan, 415 555 0100.",
            400,
        ),
        Step::call_tool(
            "take_message",
            json!({"caller_name": "Jordan", "callback_number": "415 555 0100",
                   "message": "Please call me back about my bill.", "for_whom": "billing"}),
        ),
        Step::say("Thanks Jordan, billing will call you back.", 800),
        Step::await_caller("That's all, thank you.", 300),
        Step::call_tool("end_call", json!({"reason": "caller is done"})),
        Step::say("Goodbye!", 500),
    ])
}

fn caller() -> PersonScript {
    PersonScript::human()
        .wait_quiet_for(700, 15_000)
        .pause(1500)
        .say("I'd like to leave a message for billing please, my name is Jordan.")
        .wait_quiet_for(700, 20_000)
        .say("That's all, thank you.")
        .wait_quiet_for(3000, 20_000)
        .hang_up()
}

#[tokio::test]
async fn a_manager_watches_a_call_live_then_reads_its_transcript_and_handles_its_message() {
    // The phone call's session, then the browser call's ("Talk to this agent").
    let fake =
        FakeOpenAiRealtime::start_many(vec![receptionist(), web_greeting(), web_goodbye()]).await;
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    let app = spawn_app_with(AppOptions {
        engine: "openai_realtime".into(),
        engines: EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config))),
        sim: Some(sim::FaultConfig::default()),
        ..AppOptions::default()
    })
    .await;
    user(&app, Role::Manager, "mia@example.com").await;
    let browser = Browser::start(&fake_microphone()).await;
    sign_in(&browser, &app, "mia@example.com").await;
    browser.wait_for_text("Answer rate", PAGE).await;
    browser.screenshot("overview").await;

    open(&browser, &app, "live").await;
    browser.wait_for("#no-live-calls", PAGE).await;
    let call = app
        .sim
        .as_ref()
        .unwrap()
        .place_inbound_call(CALLER, OUR_NUMBER, caller())
        .unwrap();

    // The call appears, and the agent's greeting streams in while the call goes on.
    browser
        .wait_for(".live-call", Duration::from_secs(20))
        .await;
    browser
        .wait_for(".live-call li.agent", Duration::from_secs(30))
        .await;
    let row = app.wait_for_call_row(call.sid()).await;
    assert_eq!(
        row.ended_at, None,
        "the words showed while the call was live"
    );
    browser.wait_for_text("Hello, Acme Dental", PAGE).await;
    let latency = browser
        .run(
            "const li = document.querySelector('.live-call li.agent'); \
             return Date.parse(li.dataset.shownAt) - Date.parse(li.dataset.storedAt);",
            json!([]),
        )
        .await;
    println!("live update: segment stored → shown in the browser in {latency} ms");
    browser.screenshot("live").await;

    call.wait_ended(Duration::from_secs(90)).await.unwrap();
    app.call_result(call.sid()).await;
    let row = app.wait_for_call_row(call.sid()).await;

    open(&browser, &app, "calls").await;
    browser
        .wait_for(&format!("a[href='#/calls/{}']", row.id), PAGE)
        .await;
    browser.screenshot("calls").await;
    open(&browser, &app, &format!("calls/{}", row.id)).await;
    browser.wait_for_text("Thanks Jordan", PAGE).await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Hello, Acme Dental, how can I help?"),
        "{text}"
    );
    assert!(
        text.contains("Caller"),
        "the caller's turns are there: {text}"
    );
    assert!(text.contains(&row.workflow_id), "links the history: {text}");
    assert!(
        text.contains("Tool take_message"),
        "the tool call is on the timeline: {text}"
    );
    browser.wait_for("#call-latency", PAGE).await;
    println!("call page: {}", browser.text_of("#call-latency").await);
    let kpis = crate::campaign::api(&app, Method::GET, "/v1/overview/kpis", None).await;
    assert!(
        kpis["voice_to_voice_calls"].as_u64() >= Some(1),
        "the overview has the call's latency: {kpis}"
    );
    assert!(
        !text.contains(CALLER),
        "the caller's number is masked: {text}"
    );
    // The recording plays in the page and seeks: the player asks for byte ranges.
    let audio = browser.wait_for("audio", PAGE).await;
    let seeked = browser
        .run_async(
            "const [audio, done] = arguments; \
             const seek = () => { audio.addEventListener('seeked', () => done([audio.duration, audio.currentTime]), {once: true}); \
               audio.currentTime = audio.duration / 2; }; \
             if (audio.readyState >= 1) seek(); else audio.addEventListener('loadedmetadata', seek, {once: true}); \
             audio.addEventListener('error', () => done(['error', audio.error && audio.error.code]), {once: true});",
            json!([{ ELEMENT: audio }]),
        )
        .await;
    let duration = seeked[0]
        .as_f64()
        .unwrap_or_else(|| panic!("the player failed: {seeked}"));
    assert!(
        duration > 3.0,
        "the recording is the call's length: {seeked}"
    );
    assert!(seeked[1].as_f64().unwrap() > 1.0, "it seeked: {seeked}");
    browser.screenshot("call").await;

    // The message the call took: the manager marks it handled from the page.
    open(&browser, &app, "messages").await;
    let select = browser.wait_for("td select", PAGE).await;
    browser
        .run(
            "const s = arguments[0]; s.value = 'handled'; s.dispatchEvent(new Event('change'));",
            json!([{ELEMENT: select}]),
        )
        .await;
    browser.wait_for_text("Message marked handled", PAGE).await;
    let messages = app.store.list_messages(app.tenant, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].status.as_str(), "handled");
    browser.screenshot("messages").await;

    talk_to_the_agent(&app, &browser, row.agent_id.expect("the call's agent")).await;
}

/// The browser call's model: greets, then listens.
fn web_greeting() -> Script {
    Script(vec![
        Step::say("Hi, you're talking to Acme Dental from your browser.", 1500),
        Step::await_caller("Just trying this out.", 300),
        Step::say("Great, take your time.", 500),
    ])
}

/// The second browser call's model: the agent ends the call itself.
fn web_goodbye() -> Script {
    Script(vec![
        Step::say("Hello again from Acme Dental.", 800),
        Step::call_tool("end_call", json!({"reason": "just a test"})),
        Step::say("Goodbye for now!", 700),
    ])
}

/// Chromium's microphone plays a WAV file: quiet room noise, looped.
fn fake_microphone() -> Vec<String> {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("fake-microphone.wav");
    let noise: Vec<i16> = (0..48_000 * 4)
        .map(|i: i32| ((i.wrapping_mul(7919) % 61) - 30) as i16)
        .collect();
    voice::wav::write_wav(&wav, 48_000, &noise).unwrap();
    vec![
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}", wav.display()),
        "--autoplay-policy=no-user-gesture-required".into(),
    ]
}

/// The SID of the call the agent's talk panel shows.
async fn talk_call_sid(browser: &Browser) -> String {
    let sid = browser
        .run(
            "return document.querySelector('#talk-call code').textContent;",
            json!([]),
        )
        .await;
    sid.as_str().unwrap().to_owned()
}

/// "Talk to this agent" on the agent's page: the greeting plays through the page's speaker, the
/// call is a `CallWorkflow` in Temporal, and hanging up ends it like any call, recorded.
async fn talk_to_the_agent(app: &TestApp, browser: &Browser, agent_id: domain::AgentId) {
    open(browser, app, &format!("agents/{agent_id}")).await;
    browser.click_button("Talk to this agent", PAGE).await;
    browser
        .wait_for_text_in(
            "#talk-transcript",
            "talking to Acme Dental",
            Duration::from_secs(30),
        )
        .await;
    let heard_enough =
        "return parseFloat(document.getElementById('talk-heard').textContent) >= 1.0;";
    let mut heard = false;
    for _ in 0..100 {
        if browser.run(heard_enough, json!([])).await == true {
            heard = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let played = browser
        .run(
            "return document.getElementById('talk-heard').textContent;",
            json!([]),
        )
        .await;
    assert!(heard, "the greeting played in the page: {played} s");
    let call_sid = talk_call_sid(browser).await;
    let running = app
        .temporal
        .get_workflow_handle::<workflows::CallWorkflow>(format!("call-{call_sid}"))
        .query(workflows::CallWorkflow::progress, (), Default::default())
        .await
        .expect("the browser call is a CallWorkflow");
    assert_eq!(running.phase, workflows::call::CallPhase::Streaming);
    browser.screenshot("talk").await;

    browser.click_button("Hang up", PAGE).await;
    browser.wait_for_text("Call ended", PAGE).await;
    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.from_number.to_string(), "browser");
    let call = crate::campaign::api(app, Method::GET, &format!("/v1/calls/{}", row.id), None).await;
    assert!(
        call["transcript"]
            .to_string()
            .contains("talking to Acme Dental"),
        "{call}"
    );
    let recorded = call["recording"]["duration_ms"].as_u64().unwrap_or(0);
    assert!(recorded >= 1000, "both sides recorded: {call}");
    crate::call_workflow::fetch_and_replay::<workflows::CallWorkflow>(
        app,
        &format!("call-{call_sid}"),
        "a browser call the user hung up",
    )
    .await;

    // Again, and this time the agent says goodbye and ends the call: the page's socket closes
    // with no hang-up from the page (and none through Twilio: a browser call has no carrier).
    browser.click_button("Talk to this agent", PAGE).await;
    browser
        .wait_for_text_in(
            "#talk-transcript",
            "Goodbye for now",
            Duration::from_secs(30),
        )
        .await;
    let ended = browser
        .wait_for_text_in("#talk-status", "Call ended", Duration::from_secs(30))
        .await;
    let call_sid = talk_call_sid(browser).await;
    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed, "{ended}");
    let history = crate::call_workflow::fetch_and_replay::<workflows::CallWorkflow>(
        app,
        &format!("call-{call_sid}"),
        "a browser call the agent ended",
    )
    .await;
    let history = String::from_utf8_lossy(&history);
    assert!(history.contains("goodbye_played"), "the goodbye was heard");
    assert!(!history.contains("hang_up_call"), "no Twilio hang-up");
    browser.screenshot("talk-ended").await;
}

#[tokio::test]
async fn a_viewer_sees_no_edit_controls_and_the_api_refuses_them_and_nothing_needs_a_cdn() {
    let app = spawn_app().await;
    user(&app, Role::Viewer, "vic@example.com").await;
    let browser = Browser::start(&[]).await;

    // The API docs render from our own binary: the browser can reach nothing else.
    browser.goto(&format!("{}/docs/", app.address)).await;
    browser.wait_for(".opblock", Duration::from_secs(30)).await;
    let operations = browser.find_all(".opblock").await.len();
    assert!(
        operations > 50,
        "the docs list the operations: {operations}"
    );
    browser.screenshot("docs").await;

    sign_in(&browser, &app, "vic@example.com").await;
    for page in ["messages", "agents", "directory"] {
        open(&browser, &app, page).await;
        browser.wait_for("main h1", PAGE).await;
        let controls = browser
            .find_all("main form, main select, main textarea")
            .await;
        assert!(
            controls.is_empty(),
            "a viewer gets no edit controls on {page}"
        );
        browser.screenshot(&format!("viewer-{page}")).await;
    }
    // Trying anyway: the API says no, naming the permission.
    let refused = browser
        .run_async(
            "const done = arguments[arguments.length - 1]; \
             const s = JSON.parse(sessionStorage.getItem('switchboard.session')); \
             fetch('/v1/agents', {method: 'POST', headers: {'Authorization': 'Bearer ' + s.access_token, \
               'Content-Type': 'application/json'}, body: JSON.stringify({name: 'x', greeting: 'x', \
               instructions: 'x', engine: 'echo'})}).then(async r => done([r.status, await r.json()]));",
            json!([]),
        )
        .await;
    assert_eq!(refused[0], 403, "{refused}");
    assert_eq!(refused[1]["permission"], "agents:write", "{refused}");

    // The calls page with 10,000 calls in the database: time to the first rows on screen,
    // from a cold load and with a filter on the number (figures, not asserted).
    seed_calls(&app, 10_000).await;
    for (what, page) in [("cold", "calls"), ("filtered", "calls/?number=0142")] {
        open(&browser, &app, "overview").await;
        browser.wait_for_text("Answer rate", PAGE).await;
        browser.goto(&format!("{}/#/{page}", app.address)).await;
        browser.run("location.reload();", json!([])).await;
        let ms = browser
            .run_async(
                "const done = arguments[arguments.length - 1]; \
                 (function check() { \
                   if (document.querySelector('main table tbody tr')) done(Math.round(performance.now())); \
                   else requestAnimationFrame(check); })();",
                json!([]),
            )
            .await;
        println!("calls page with 10,000 calls ({what}): first rows after {ms} ms");
    }
    browser.screenshot("calls-10000").await;
}

/// `n` finished calls of the app's tenant, written in batches straight to the database.
async fn seed_calls(app: &TestApp, n: usize) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use store::entities::calls;
    let now = chrono::Utc::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let rows = chunk.iter().map(|&i| calls::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(app.tenant.as_uuid()),
            agent_id: Set(None),
            call_sid: Set(format!("CA{:032x}", i as u128 + (1 << 100))),
            direction: Set(if i % 3 == 0 { "outbound" } else { "inbound" }.into()),
            from_number: Set(format!("+1415555{:04}", i % 10_000)),
            to_number: Set("+15005550006".into()),
            status: Set("completed".into()),
            outcome: Set(Some("completed".into())),
            started_at: Set(now - chrono::Duration::seconds(i as i64 * 60)),
            answered_at: Set(None),
            ended_at: Set(Some(now - chrono::Duration::seconds(i as i64 * 60 - 45))),
            duration_secs: Set(Some(45)),
            answered_by: Set(None),
            workflow_id: Set(format!("call-seeded-{i}")),
            transfer_result: Set(None),
            analysis: Set(None),
            outcome_class: Set(None),
            needs_attention: Set(false),
            resolved_at: Set(None),
            resolved_by: Set(None),
            campaign_id: Set(None),
            external_id: Set(None),
            source: Set("twilio".into()),
            ..Default::default()
        });
        let txn = app.store.scoped(app.tenant).await.unwrap();
        calls::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_manager_creates_a_campaign_uploads_a_list_with_bad_rows_and_runs_it_from_the_page() {
    use crate::campaign::{
        Kind, api, declining_model, open_zone, realtime_campaign_app, recipients,
    };
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let fake = FakeOpenAiRealtime::start_keyed(Vec::new(), Some(declining_model())).await;
    let app = realtime_campaign_app(&fake, sim::FaultConfig::default()).await;
    api(
        &app,
        Method::POST,
        "/v1/scripts",
        Some(
            json!({"name": "Service reminder", "goal": "Book a service visit",
            "opening": "Hi {name}, this is Acme Dental about your service."}),
        ),
    )
    .await;
    user(&app, Role::Manager, "mia@example.com").await;
    let zone = open_zone(chrono::Duration::minutes(10));
    let people = recipients(&[(Kind::Decliner, 4)], zone, 0);
    let mut csv = String::from("Name,Phone,Time Zone\n");
    for p in &people {
        csv.push_str(&format!("{},{},{}\n", p.name, p.phone, p.zone.name()));
        app.sim
            .as_ref()
            .unwrap()
            .register_phone(&p.phone, p.kind.phone());
    }
    // Lines 6, 7 and 8: not a number, the first person again, no phone at all.
    csv.push_str("Nobody Real,12345,America/New_York\n");
    csv.push_str(&format!(
        "{},{},{}\n",
        people[0].name,
        people[0].phone,
        zone.name()
    ));
    csv.push_str("No Phone,,America/New_York\n");
    let file = crate::browser::screenshot_dir().join("targets.csv");
    std::fs::write(&file, csv).unwrap();

    let browser = Browser::start(&[]).await;
    sign_in(&browser, &app, "mia@example.com").await;
    open(&browser, &app, "campaigns").await;
    let name = browser.wait_for("form input[name=name]", PAGE).await;
    browser.type_into(&name, "Service reminders").await;
    browser
        .run(
            "const s = document.querySelector('select[name=script_id]'); s.selectedIndex = 1;",
            json!([]),
        )
        .await;
    browser.click_button("Create campaign", PAGE).await;
    let upload = browser.wait_for("input[type=file]", PAGE).await;
    browser.type_into(&upload, file.to_str().unwrap()).await;
    browser.click_button("Upload", PAGE).await;
    browser
        .wait_for_text_in(
            "#upload-summary",
            "4 rows accepted (4 new), 3 rejected",
            PAGE,
        )
        .await;
    let rejected = browser.text_of("main table").await;
    for line in ["6", "7", "8"] {
        assert!(
            rejected.lines().any(|l| l.starts_with(line)),
            "line {line} is listed: {rejected}"
        );
    }
    assert!(rejected.contains("duplicate"), "{rejected}");
    browser.screenshot("campaign-upload").await;

    browser.click_button("Start", PAGE).await;
    browser
        .wait_for_text_in("#campaign-status", "running", PAGE)
        .await;
    browser.click_button("Pause", PAGE).await;
    browser
        .wait_for_text_in("#campaign-status", "paused", PAGE)
        .await;
    browser.screenshot("campaign-paused").await;
    browser.click_button("Resume", PAGE).await;
    // The progress updates on the page as the four people are called, to the end.
    browser
        .wait_for_text_in("#campaign-status", "completed", Duration::from_secs(120))
        .await;
    let progress = browser.text_of("#campaign-progress").await;
    assert!(progress.contains('4'), "four targets are done: {progress}");
    browser.screenshot("campaign-completed").await;
}

#[tokio::test]
async fn an_admin_builds_an_agent_from_a_website_on_the_page_and_sees_its_number() {
    let site = testkit::website::FixtureSite::start().await;
    let app = spawn_app_with(AppOptions {
        sim: Some(sim::FaultConfig::default()),
        rules_dialog: true,
        ..AppOptions::default()
    })
    .await;
    user(&app, Role::Admin, "ada@example.com").await;
    let browser = Browser::start(&[]).await;
    sign_in(&browser, &app, "ada@example.com").await;
    open(&browser, &app, "builds").await;
    let url = browser.wait_for("input[name=url]", PAGE).await;
    browser.type_into(&url, &site.url()).await;
    let area = browser.wait_for("input[name=area_code]", PAGE).await;
    browser.type_into(&area, "415").await;
    browser.click_button("Build the agent", PAGE).await;
    browser
        .wait_for("#build-steps li[data-step=crawl]", PAGE)
        .await;
    let number = browser
        .wait_for_text_in("#build-number", "+1415", Duration::from_secs(120))
        .await;
    for step in ["crawl", "extract", "generate", "provision", "deploy"] {
        let phase = browser
            .run(
                "return document.querySelector(`#build-steps li[data-step=${arguments[0]}]`)?.dataset.phase;",
                json!([step]),
            )
            .await;
        assert_eq!(phase, "finished", "{step} finished: {number}");
    }
    browser.screenshot("agent-build").await;

    // The new agent's page: its number, its knowledge by category, and its settings to edit.
    let agents = crate::campaign::api(&app, Method::GET, "/v1/agents", None).await;
    let built = agents["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] != "Receptionist")
        .expect("the built agent")
        .clone();
    let id = built["id"].as_str().unwrap();
    open(&browser, &app, &format!("agents/{id}")).await;
    let phone = number.trim_start_matches("Call your new agent on ").trim();
    browser
        .wait_for_text_in("#agent-numbers", phone, PAGE)
        .await;
    browser.wait_for_text("pricing billing", PAGE).await;
    let greeting = browser.wait_for("textarea[name=greeting]", PAGE).await;
    browser
        .run("arguments[0].value = '';", json!([{ELEMENT: greeting}]))
        .await;
    browser
        .type_into(&greeting, "Thanks for calling Bayside, Sam speaking.")
        .await;
    // This agent takes messages but transfers nobody.
    let transfer = browser
        .wait_for("input[name=tools][value=transfer_call]", PAGE)
        .await;
    browser.click(&transfer).await;
    browser.click_button("Save", PAGE).await;
    browser.wait_for_text("Agent saved", PAGE).await;
    let saved = crate::campaign::api(&app, Method::GET, &format!("/v1/agents/{id}"), None).await;
    assert_eq!(
        saved["greeting"],
        "Thanks for calling Bayside, Sam speaking."
    );
    let tools = saved["tools"].to_string();
    assert!(
        !tools.contains("transfer_call")
            && tools.contains("take_message")
            && tools.contains("end_call"),
        "{saved}"
    );
    let (status, problem) = send(
        &app,
        &Method::PATCH,
        &format!("/v1/agents/{id}"),
        Some(&app.api_key),
        Some(&json!({"tools": ["take_message", "fly_to_the_moon"]})),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "tools", "{problem}");

    // Knowledge by category: an entry added on the page.
    let form = "form[aria-label='New knowledge entry']";
    let question = browser
        .wait_for(&format!("{form} input[name=question]"), PAGE)
        .await;
    browser
        .type_into(&question, "Do you validate parking?")
        .await;
    let answer = browser
        .wait_for(&format!("{form} textarea[name=answer]"), PAGE)
        .await;
    browser.type_into(&answer, "Yes, for two hours.").await;
    browser.click_button("Add entry", PAGE).await;
    browser.wait_for_text("Entry added", PAGE).await;
    let knowledge = crate::campaign::api(&app, Method::GET, "/v1/knowledge?limit=100", None).await;
    assert!(
        knowledge.to_string().contains("Do you validate parking?"),
        "{knowledge}"
    );
    browser.screenshot("agent").await;

    // On a phone-sized screen the pages sit behind the Menu button.
    browser.resize(390, 844).await;
    open(&browser, &app, "calls").await;
    browser.wait_for("main h1", PAGE).await;
    let nav_shown = "return getComputedStyle(document.getElementById('nav')).display !== 'none';";
    assert_eq!(browser.run(nav_shown, json!([])).await, false);
    browser.click_button("Menu", PAGE).await;
    assert_eq!(browser.run(nav_shown, json!([])).await, true);
    browser.screenshot("phone-menu").await;
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
