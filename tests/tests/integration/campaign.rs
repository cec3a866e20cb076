//! Outbound campaigns end to end: `campaign-{id}` dials simulated recipients through the
//! Twilio simulator, each call is a child `CallWorkflow` whose model (the OpenAI Realtime fake,
//! scripted per recipient by the name in the campaign script) books, declines or asks not to
//! be called again, and the targets, appointments and do-not-call list end as the recipients
//! said.

use crate::{call_workflow::replay_with, helpers::*};
use chrono::{Datelike, Duration as Days, Utc, Weekday};
use chrono_tz::Tz;
use domain::campaign::CallingWindow;
use serde_json::{Value, json};
use sim::person::PersonScript;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::{FakeOpenAiRealtime, Script, Step};
use voice::{
    catalog::EngineCatalog,
    engines::{OpenAiRealtime, OpenAiRealtimeConfig},
};
use workflows::CampaignWorkflow;

/// A zone whose calling window is open now and stays open for `margin`.
pub(crate) fn open_zone(margin: Days) -> Tz {
    CallingWindow::default()
        .a_zone_open_now(Utc::now(), margin)
        .expect("some zone is inside 08:00-21:00 for the next while")
}

/// Zones whose window is closed now and stays closed for `margin`.
fn closed_zones(margin: Days) -> Vec<Tz> {
    CallingWindow::default().zones_closed_now(Utc::now(), margin)
}

/// Next Tuesday (never today) at 10:00 in `zone`, as the model books it.
fn next_tuesday_ten(zone: Tz) -> String {
    let today = Utc::now().with_timezone(&zone).date_naive();
    let ahead =
        (7 + Weekday::Tue.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    let day = today + Days::days(i64::from(if ahead == 0 { 7 } else { ahead }));
    format!("{day}T10:00")
}

/// The model's part, by the recipient's name in the campaign script.
fn model_scripts(zone: Tz) -> Vec<(String, Script)> {
    let opening = || Step::say("Hi, this is Acme Dental. Am I speaking with you?", 600);
    vec![
        (
            "\"name\":\"Booker".into(),
            Script(vec![
                opening(),
                Step::await_caller("Yes. Tuesday at ten works for me.", 300),
                Step::call_tool(
                    "book_appointment",
                    json!({"starts_at_local": next_tuesday_ten(zone), "time_zone": zone.name(),
                           "notes": "Service visit"}),
                ),
                Step::call_tool("end_call", json!({"reason": "booked"})),
                Step::say("You're booked for Tuesday at ten. Goodbye!", 500),
            ]),
        ),
        (
            "\"name\":\"Stopper".into(),
            Script(vec![
                opening(),
                Step::await_caller("Please don't call me again.", 300),
                Step::call_tool("do_not_call", json!({"reason": "asked not to be called"})),
                Step::call_tool("end_call", json!({"reason": "do not call"})),
                Step::say("Sorry to bother you. Goodbye!", 500),
            ]),
        ),
    ]
}

/// Anyone else declines.
pub(crate) fn declining_model() -> Script {
    Script(vec![
        Step::say("Hi, this is Acme Dental. Am I speaking with you?", 600),
        Step::await_caller("No thanks, I'm not interested.", 300),
        Step::call_tool("end_call", json!({"reason": "not interested"})),
        Step::say("No problem. Goodbye!", 500),
    ])
}

/// A person who answers, waits for the agent to speak, says `line`, and hangs up after the
/// agent's reply (or a long silence).
fn person(line: &str) -> PersonScript {
    PersonScript::human()
        .answer_after(300)
        .wait_quiet_for(500, 30_000)
        .say(line)
        .wait_quiet_for(2_500, 15_000)
        .hang_up()
}

/// Who a recipient is, and what their phone does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Booker,
    Stopper,
    Decliner,
    Busy,
    NoAnswer,
    Machine,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Booker => "Booker",
            Kind::Stopper => "Stopper",
            Kind::Decliner => "Decliner",
            Kind::Busy => "Busy",
            Kind::NoAnswer => "Nobody",
            Kind::Machine => "Machine",
        }
    }

    pub(crate) fn phone(self) -> PersonScript {
        match self {
            Kind::Booker => person("Yes. Tuesday at ten works for me."),
            Kind::Stopper => person("Please don't call me again."),
            Kind::Decliner => person("No thanks, I'm not interested."),
            Kind::Busy => PersonScript::busy(),
            Kind::NoAnswer => PersonScript::no_answer(),
            Kind::Machine => PersonScript::machine(1_500),
        }
    }
}

/// The `i`-th distinct test number: fictional 555-01xx lines in several area codes.
fn number(i: usize) -> String {
    const AREAS: [&str; 10] = [
        "212", "312", "415", "617", "305", "206", "404", "512", "702", "503",
    ];
    format!("+1{}5550{}", AREAS[i / 100 % AREAS.len()], 100 + i % 100)
}

pub(crate) struct Recipient {
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) zone: Tz,
    pub(crate) kind: Kind,
}

pub(crate) fn recipients(kinds: &[(Kind, usize)], zone: Tz, first: usize) -> Vec<Recipient> {
    let mut out = Vec::new();
    for &(kind, n) in kinds {
        for _ in 0..n {
            let i = first + out.len();
            out.push(Recipient {
                name: format!("{} {i}", kind.name()),
                phone: number(i),
                zone,
                kind,
            });
        }
    }
    out
}

pub(crate) async fn realtime_campaign_app(
    fake: &FakeOpenAiRealtime,
    faults: sim::FaultConfig,
) -> TestApp {
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    spawn_app_with(AppOptions {
        engine: "openai_realtime".into(),
        engines: EngineCatalog::new().with(Arc::new(OpenAiRealtime::new(config))),
        sim: Some(faults),
        rate_limits: roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await
}

pub(crate) async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(&app.api_key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn agent_id(app: &TestApp) -> String {
    let agents = api(app, reqwest::Method::GET, "/v1/agents", None).await;
    agents["data"][0]["id"].as_str().unwrap().to_owned()
}

/// A campaign with a script and `settings`, its targets uploaded; the recipients' phones are
/// registered with the simulator. Returns the campaign id.
pub(crate) async fn campaign_with(app: &TestApp, settings: Value, people: &[Recipient]) -> String {
    let script = api(
        app,
        reqwest::Method::POST,
        "/v1/scripts",
        Some(json!({"name": "Service reminder", "goal": "Book a service visit",
            "opening": "Hi {name}, this is Acme Dental about your service.",
            "voicemail_message": "Hi {name}, Acme Dental here about your service. Please call us back."})),
    )
    .await;
    let agent = agent_id(app).await;
    let campaign = api(
        app,
        reqwest::Method::POST,
        "/v1/campaigns",
        Some(json!({"name": "Service reminders", "agent_id": agent,
            "script_id": script["id"], "settings": settings})),
    )
    .await;
    let id = campaign["id"].as_str().unwrap().to_owned();
    let mut csv = String::from("Name,Phone,Time Zone\n");
    for p in people {
        csv.push_str(&format!("{},{},{}\n", p.name, p.phone, p.zone.name()));
        app.sim
            .as_ref()
            .unwrap()
            .register_phone(&p.phone, p.kind.phone());
    }
    let response = app
        .http
        .post(format!("{}/v1/campaigns/{id}/targets", app.address))
        .bearer_auth(&app.api_key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        report["added"].as_u64(),
        Some(people.len() as u64),
        "{report:#}"
    );
    id
}

pub(crate) async fn control(app: &TestApp, campaign: &str, action: &str) -> Instant {
    api(
        app,
        reqwest::Method::POST,
        &format!("/v1/campaigns/{campaign}/{action}"),
        None,
    )
    .await;
    Instant::now()
}

async fn progress(app: &TestApp, campaign: &str) -> Value {
    api(
        app,
        reqwest::Method::GET,
        &format!("/v1/campaigns/{campaign}/progress"),
        None,
    )
    .await
}

pub(crate) async fn wait_for_status(
    app: &TestApp,
    campaign: &str,
    status: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let now = progress(app, campaign).await;
        if now["status"] == status {
            return now;
        }
        assert!(Instant::now() < deadline, "campaign not {status}: {now:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Watches the simulator's calls: when each was first seen, and whether any number ever had
/// two calls up at once.
#[derive(Default)]
struct Watch {
    first_seen: HashMap<String, (String, Instant)>,
    overlaps: Vec<String>,
}

fn watch_calls(sim: sim::SimHandle) -> (Arc<Mutex<Watch>>, tokio::task::JoinHandle<()>) {
    let watch = Arc::new(Mutex::new(Watch::default()));
    let w = watch.clone();
    let task = tokio::spawn(async move {
        loop {
            let calls = sim.calls();
            {
                let mut w = w.lock().unwrap();
                let mut live: BTreeMap<&str, usize> = BTreeMap::new();
                for call in &calls {
                    w.first_seen
                        .entry(call.sid.clone())
                        .or_insert_with(|| (call.to.clone(), Instant::now()));
                    if !call.is_final() {
                        *live.entry(call.to.as_str()).or_default() += 1;
                    }
                }
                for (to, n) in live {
                    if n > 1 {
                        w.overlaps.push(format!("{to}: {n} calls up at once"));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    (watch, task)
}

async fn targets(app: &TestApp, campaign: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/campaigns/{campaign}/targets?limit=100&before={c}"),
            None => format!("/v1/campaigns/{campaign}/targets?limit=100"),
        };
        let page = api(app, reqwest::Method::GET, &path, None).await;
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// Every run of `campaign-{id}` (it continues as new), as (run id, JSON history).
pub(crate) async fn campaign_histories(app: &TestApp, campaign: &str) -> Vec<(String, Vec<u8>)> {
    use futures::StreamExt;
    use temporalio_client::{
        WorkflowExecutionInfo, WorkflowFetchHistoryOptions, WorkflowListOptions,
    };
    let workflow_id = format!("campaign-{campaign}");
    let query = format!("WorkflowId = '{workflow_id}'");
    let mut runs = Vec::new();
    let mut listed = app
        .temporal
        .list_workflows(query, WorkflowListOptions::default());
    while let Some(run) = listed.next().await {
        runs.push(run.unwrap().run_id().to_owned());
    }
    let mut histories = Vec::new();
    for run in runs {
        let info = WorkflowExecutionInfo::builder()
            .namespace(app.settings.temporal_namespace.clone())
            .workflow_id(workflow_id.clone())
            .run_id(run.clone())
            .build();
        let handle = info.bind_untyped(app.temporal.clone());
        let json = handle
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .to_json()
            .await
            .unwrap();
        histories.push((run, json));
    }
    histories
}

/// How many events a JSON history holds.
pub(crate) fn history_events(json: &[u8]) -> usize {
    let history: Value = serde_json::from_slice(json).unwrap();
    history["events"].as_array().map_or(0, Vec::len)
}

fn calls_to(app: &TestApp) -> BTreeMap<String, usize> {
    let mut per_number = BTreeMap::new();
    for call in app.sim.as_ref().unwrap().calls() {
        if call.direction == "outbound-api" {
            *per_number.entry(call.to).or_default() += 1;
        }
    }
    per_number
}

// This test found a replay nondeterminism (one run in three, later one in eight): a progress
// query served by the worker started after a kill replayed the history and applied the events
// the pending task had not handled yet, at the previous task's time and grouped differently
// from a replay. The workflow no longer lets its clock decide whether a command is issued, and
// the API asks the query only while the workflow's tasks are healthy (`live_progress`).
#[tokio::test]
async fn two_hundred_targets_end_as_the_recipients_said_under_faults_and_two_killed_workers() {
    // Three minutes of calls: run once per suite, on PostgreSQL and Redis (the production
    // stores); the SQLite suite runs the smaller campaign tests below.
    if !on_postgres() {
        println!("skipped on SQLite: the 200-target campaign runs in the PostgreSQL suite");
        return;
    }
    let _cpu = alone_on_the_cpu().await;
    let zone = open_zone(Days::minutes(20));
    let fake = FakeOpenAiRealtime::start_keyed(model_scripts(zone), Some(declining_model())).await;
    let mut app = realtime_campaign_app(
        &fake,
        sim::FaultConfig {
            seed: 13,
            rest_failure_rate: 0.2,
            rest_failure_kinds: vec![
                sim::RestFailure::TooManyRequests,
                sim::RestFailure::ServerError,
                sim::RestFailure::Timeout,
            ],
            timeout_hold_ms: TWILIO_CLIENT_TIMEOUT.as_millis() as u64 + 1_000,
            timeout_after_effect: true,
            // The first three dials time out for sure, having placed their call.
            scripted_timeouts: vec![sim::ScriptedTimeout {
                path_suffix: "/Calls.json".into(),
                count: 3,
            }],
            ..sim::FaultConfig::default()
        },
    )
    .await;
    let kinds = [
        (Kind::Booker, 30),
        (Kind::Stopper, 20),
        (Kind::Decliner, 30),
        (Kind::Busy, 50),
        (Kind::NoAnswer, 30),
        (Kind::Machine, 39),
    ];
    let mut people = recipients(&kinds, zone, 0);
    // Put on the do-not-call list once the campaign runs: never dialled.
    let late_dnc = Recipient {
        name: "Listed late".into(),
        phone: number(people.len()),
        zone,
        kind: Kind::Decliner,
    };
    people.push(late_dnc);
    assert_eq!(people.len(), 200);
    const MAX_ATTEMPTS: usize = 2;
    let campaign = campaign_with(
        &app,
        json!({"concurrency": 12, "calls_per_second": 8, "ring_timeout_secs": 5,
               "targets_per_run": 120,
               "retry": {"max_attempts": MAX_ATTEMPTS, "busy_secs": 10, "no_answer_secs": 10,
                         "failed_secs": 10}}),
        &people,
    )
    .await;
    let (watch, watcher) = watch_calls(app.sim.clone().unwrap());
    let started = Instant::now();
    control(&app, &campaign, "start").await;
    api(
        &app,
        reqwest::Method::POST,
        "/v1/dnc",
        Some(json!({"phone": people[199].phone, "reason": "asked by email"})),
    )
    .await;

    // Kill the worker twice while calls are live.
    for pause in [Duration::from_secs(15), Duration::from_secs(20)] {
        tokio::time::sleep(pause).await;
        app.kill_worker().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        app.start_worker();
    }
    let done = wait_for_status(&app, &campaign, "completed", Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    watcher.abort();

    // Every target is final, and each as its recipient said.
    let by_phone: HashMap<String, Value> = targets(&app, &campaign)
        .await
        .into_iter()
        .map(|t| (t["phone"].as_str().unwrap().to_owned(), t))
        .collect();
    let dials = calls_to(&app);
    let mut states: BTreeMap<(Kind, String), usize> = BTreeMap::new();
    for p in &people[..199] {
        let t = &by_phone[&p.phone];
        *states
            .entry((p.kind, t["state"].as_str().unwrap().to_owned()))
            .or_default() += 1;
        let n = dials.get(&p.phone).copied().unwrap_or(0);
        assert!(
            (1..=MAX_ATTEMPTS).contains(&n),
            "{} was dialled {n} times: {t}",
            p.name
        );
        if matches!(p.kind, Kind::Busy | Kind::NoAnswer) {
            assert_eq!(n, MAX_ATTEMPTS, "{} was retried: {t}", p.name);
        }
    }
    let expected: BTreeMap<(Kind, String), usize> = [
        ((Kind::Booker, "completed"), 30),
        ((Kind::Stopper, "do_not_call"), 20),
        ((Kind::Decliner, "completed"), 30),
        ((Kind::Busy, "exhausted"), 50),
        ((Kind::NoAnswer, "exhausted"), 30),
        ((Kind::Machine, "completed"), 39),
    ]
    .into_iter()
    .map(|((k, s), n)| ((k, s.to_owned()), n))
    .collect();
    assert_eq!(states, expected);
    let late = &by_phone[&people[199].phone];
    assert_eq!(late["state"], "do_not_call", "{late}");
    assert_eq!(
        dials.get(&people[199].phone),
        None,
        "a listed number is never dialled"
    );
    let overlaps = watch.lock().unwrap().overlaps.clone();
    assert!(overlaps.is_empty(), "{overlaps:?}");

    // One appointment per booker, Tuesday at ten their time; a DNC entry per stopper.
    let appointments = api(
        &app,
        reqwest::Method::GET,
        "/v1/appointments?limit=100",
        None,
    )
    .await;
    let booked: Vec<&Value> = appointments["data"].as_array().unwrap().iter().collect();
    assert_eq!(booked.len(), 30, "{appointments:#}");
    for a in &booked {
        let starts: chrono::DateTime<Utc> = a["starts_at"].as_str().unwrap().parse().unwrap();
        let local = starts.with_timezone(&zone);
        assert_eq!(
            (local.weekday(), local.format("%H:%M").to_string()),
            (Weekday::Tue, "10:00".to_owned()),
            "{a}"
        );
    }
    let dnc = api(&app, reqwest::Method::GET, "/v1/dnc?limit=100", None).await;
    let listed: BTreeSet<&str> = dnc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["phone"].as_str().unwrap())
        .collect();
    for p in people.iter().filter(|p| p.kind == Kind::Stopper) {
        assert!(listed.contains(p.phone.as_str()), "{} is listed", p.name);
    }
    assert_eq!(listed.len(), 21, "stoppers and the late entry: {dnc:#}");

    // Every run of the campaign replays against today's code, and each kept a short history.
    let runs = campaign_histories(&app, &campaign).await;
    assert!(
        runs.len() >= 2,
        "the campaign continued as new: {} runs",
        runs.len()
    );
    let mut events = Vec::new();
    for (run, json) in &runs {
        if let Err(e) = replay_with::<CampaignWorkflow>(json).await {
            let kept = std::env::temp_dir().join(format!("campaign-run-{run}.json"));
            std::fs::write(&kept, json).unwrap();
            panic!("run {run} does not replay ({}): {e}", kept.display());
        }
        events.push(history_events(json));
    }
    assert!(events.iter().all(|&n| n < 10_000), "{events:?}");

    let faults = app.sim.as_ref().unwrap().faults_injected();
    assert!(faults.timeouts >= 3, "{faults:?}");
    let total_dials: usize = dials.values().sum();
    println!(
        "campaign: 200 targets, {total_dials} dials in {:.1} s with 20 % REST faults ({faults:?}) \
         and two killed workers; progress {}; history events per run {events:?} = {:.1} per \
         target",
        elapsed.as_secs_f64(),
        done["targets"],
        events.iter().sum::<usize>() as f64 / 200.0
    );
}

#[tokio::test]
async fn only_recipients_inside_their_calling_window_are_dialled() {
    let _cpu = sharing_the_cpu().await;
    let open = open_zone(Days::minutes(10));
    let closed = closed_zones(Days::minutes(10));
    assert!(closed.len() >= 2, "two zones are outside the window now");
    let fake = FakeOpenAiRealtime::start_keyed(Vec::new(), Some(declining_model())).await;
    let app = realtime_campaign_app(&fake, sim::FaultConfig::default()).await;
    let mut people = recipients(&[(Kind::Busy, 4)], open, 0);
    people.extend(recipients(&[(Kind::Busy, 3)], closed[0], 4));
    people.extend(recipients(&[(Kind::Busy, 3)], closed[1], 7));
    let campaign = campaign_with(
        &app,
        json!({"concurrency": 4, "calls_per_second": 10, "retry": {"max_attempts": 1}}),
        &people,
    )
    .await;
    control(&app, &campaign, "start").await;

    // The open zone's four are dialled and done; the others wait for their window.
    let deadline = Instant::now() + Duration::from_secs(60);
    let progress = loop {
        let now = progress(&app, &campaign).await;
        let asleep = now["workflow"]["sleeping_until_ms"].as_i64().is_some();
        if now["targets"]["exhausted"] == 4 && now["targets"]["scheduled"] == 6 && asleep {
            break now;
        }
        assert!(Instant::now() < deadline, "{now:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let dialled: BTreeSet<String> = calls_to(&app).into_keys().collect();
    let expected: BTreeSet<String> = people[..4].iter().map(|p| p.phone.clone()).collect();
    assert_eq!(dialled, expected);
    // Each waiting target is due when its own window opens, in its own zone.
    let window = CallingWindow::default();
    for t in targets(&app, &campaign).await {
        let Some(p) = people.iter().find(|p| p.phone == t["phone"]) else {
            panic!("unknown target {t}");
        };
        if p.zone == open {
            continue;
        }
        assert_eq!(t["state"], "scheduled", "{t}");
        let due: chrono::DateTime<Utc> = t["next_attempt_at"].as_str().unwrap().parse().unwrap();
        let opens = window.next_open(p.zone, Utc::now()).unwrap();
        assert!((due - opens).num_seconds().abs() <= 60, "{t} opens {opens}");
        let local = due.with_timezone(&p.zone);
        assert_eq!(local.format("%H:%M").to_string(), "08:00", "{t}");
    }
    // The workflow sleeps on a durable timer, no longer than a minute.
    let until = progress["workflow"]["sleeping_until_ms"].as_i64().unwrap();
    assert!(
        until <= Utc::now().timestamp_millis() + 61_000,
        "{progress:#}"
    );

    control(&app, &campaign, "cancel").await;
    wait_for_status(&app, &campaign, "canceled", Duration::from_secs(60)).await;
    let states: BTreeMap<String, usize> =
        targets(&app, &campaign)
            .await
            .iter()
            .fold(BTreeMap::new(), |mut m, t| {
                *m.entry(t["state"].as_str().unwrap().to_owned())
                    .or_default() += 1;
                m
            });
    assert_eq!(
        states,
        BTreeMap::from([("canceled".to_owned(), 6), ("exhausted".to_owned(), 4)])
    );
}

#[tokio::test]
async fn pause_stops_new_dials_within_a_second_resume_goes_on_and_cancel_ends_cleanly() {
    let _cpu = sharing_the_cpu().await;
    let zone = open_zone(Days::minutes(10));
    let fake = FakeOpenAiRealtime::start_keyed(Vec::new(), Some(declining_model())).await;
    let app = realtime_campaign_app(&fake, sim::FaultConfig::default()).await;
    let people = recipients(&[(Kind::Decliner, 14)], zone, 0);
    let campaign = campaign_with(
        &app,
        json!({"concurrency": 2, "calls_per_second": 2}),
        &people,
    )
    .await;
    let sim = app.sim.clone().unwrap();
    let (watch, watcher) = watch_calls(sim.clone());
    control(&app, &campaign, "start").await;
    let seen = || watch.lock().unwrap().first_seen.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen() < 3 {
        assert!(Instant::now() < deadline, "three calls placed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Pause: no call placed more than a second after it; the live ones finish.
    let paused_at = control(&app, &campaign, "pause").await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let late: Vec<String> = watch
        .lock()
        .unwrap()
        .first_seen
        .values()
        .filter(|(_, at)| *at > paused_at + Duration::from_secs(1))
        .map(|(to, _)| to.clone())
        .collect();
    assert!(late.is_empty(), "dialled after the pause: {late:?}");
    let at_pause = seen();
    let live: Vec<_> = sim.calls().into_iter().filter(|c| !c.is_final()).collect();
    assert!(live.is_empty(), "live calls finish while paused: {live:?}");
    assert!(
        sim.calls()
            .iter()
            .all(|c| c.status == sim::CallStatus::Completed),
        "every call placed before the pause completed"
    );
    let paused = progress(&app, &campaign).await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["workflow"]["phase"], "paused", "{paused:#}");

    // Resume: dialling goes on.
    control(&app, &campaign, "resume").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen() < at_pause + 2 {
        assert!(Instant::now() < deadline, "dialling resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Cancel: nothing new after a second, live calls finish, the rest is canceled.
    let canceled_at = control(&app, &campaign, "cancel").await;
    wait_for_status(&app, &campaign, "canceled", Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    watcher.abort();
    let after: Vec<String> = watch
        .lock()
        .unwrap()
        .first_seen
        .values()
        .filter(|(_, at)| *at > canceled_at + Duration::from_secs(1))
        .map(|(to, _)| to.clone())
        .collect();
    assert!(after.is_empty(), "dialled after the cancel: {after:?}");
    assert!(sim.calls().iter().all(|c| c.is_final()));
    let dialled = calls_to(&app).len();
    let states = targets(&app, &campaign).await;
    let canceled = states.iter().filter(|t| t["state"] == "canceled").count();
    let completed = states.iter().filter(|t| t["state"] == "completed").count();
    assert_eq!(completed, dialled, "every call placed ran to its end");
    assert_eq!(canceled + completed, people.len());
    assert!(canceled > 0, "the cancel left targets undialled");

    // The run (signals, pacing timers, child calls) replays; kept for the committed set when
    // `SWITCHBOARD_RECORD_CAMPAIGN_HISTORY` names a path.
    let runs = campaign_histories(&app, &campaign).await;
    assert_eq!(runs.len(), 1, "one run");
    let (_, json) = &runs[0];
    replay_with::<CampaignWorkflow>(json)
        .await
        .expect("the campaign's history replays");
    if let Ok(path) = std::env::var("SWITCHBOARD_RECORD_CAMPAIGN_HISTORY") {
        std::fs::write(path, json).unwrap();
    }
}
