//! The agent builder end to end: the fixture website (`testkit::website`) served over HTTP,
//! `POST /v1/agent-builds`, `AgentBuildWorkflow` on the real worker, the simulator as Twilio
//! (numbers for sale, bought, released, and a call to the new number), the progress stream
//! read from a second API instance.

use crate::{call_workflow::fetch_and_replay, campaign::api, helpers::*};
use domain::KnowledgeCategory;
use serde_json::{Value, json};
use sim::{FaultConfig, person::PersonScript};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};
use testkit::{
    FakeOpenAiRealtime, Script, Step,
    openai_chat::{FakeOpenAiChat, ScriptedReply},
    website::{self, FixtureSite, answer_key},
};
use voice::{
    catalog::EngineCatalog,
    engines::{OpenAiRealtime, OpenAiRealtimeConfig},
};
use workflows::AgentBuildWorkflow;

const BUILD_TIMEOUT: Duration = Duration::from_secs(120);

/// The new agent speaks through the OpenAI Realtime fake: it looks up the hours, then a price.
fn caller_questions() -> Script {
    Script(vec![
        Step::say("Thanks for calling Bayside Plumbing and Heating.", 300),
        Step::await_caller("What are your opening hours?", 300),
        Step::call_tool(
            "lookup_knowledge",
            json!({"query": "What are your opening hours?"}),
        ),
        Step::say("We are open weekdays from seven.", 300),
        Step::await_caller("How much is drain cleaning?", 300),
        Step::call_tool(
            "lookup_knowledge",
            json!({"query": "How much is drain cleaning?"}),
        ),
        Step::say(
            "Drain cleaning starts at one hundred forty nine dollars.",
            300,
        ),
    ])
}

/// An app whose Twilio is the simulator, whose LLM is none (the offline extractor runs), and
/// whose agents may use the OpenAI Realtime fake.
async fn builder_app(fake: &FakeOpenAiRealtime) -> TestApp {
    let mut config = OpenAiRealtimeConfig::new("test-openai-key");
    config.url = fake.url();
    let engines = EngineCatalog::new()
        .with(Arc::new(OpenAiRealtime::new(config)))
        .with(Arc::new(voice::echo::EchoEngine));
    spawn_app_with(AppOptions {
        engine: "echo".into(),
        engines,
        sim: Some(FaultConfig::default()),
        rules_dialog: true,
        ..AppOptions::default()
    })
    .await
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    data: Value,
}

/// Reads `/v1/agent-builds/{id}/events` from `base` until the `end` event.
async fn read_stream(http: reqwest::Client, base: String, key: String, build: String) -> Vec<Sse> {
    let mut response = http
        .get(format!("{base}/v1/agent-builds/{build}/events"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event.is_empty() {
                continue; // a keep-alive comment
            }
            let done = event == "end";
            events.push(Sse {
                event,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            });
            if done {
                return events;
            }
        }
    }
    panic!("the stream ended without an `end` event: {events:?}");
}

async fn start_build(app: &TestApp, body: Value) -> (String, String) {
    let started = api(app, reqwest::Method::POST, "/v1/agent-builds", Some(body)).await;
    (
        started["build_id"].as_str().unwrap().to_owned(),
        started["agent_id"].as_str().unwrap().to_owned(),
    )
}

async fn wait_build(app: &TestApp, build: &str, state: &str) -> Value {
    let deadline = Instant::now() + BUILD_TIMEOUT;
    loop {
        let view = api(
            app,
            reqwest::Method::GET,
            &format!("/v1/agent-builds/{build}"),
            None,
        )
        .await;
        if view["state"] == state {
            return view;
        }
        assert!(
            view["state"] == "running" && Instant::now() < deadline,
            "{view:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_website_becomes_an_agent_whose_new_number_answers_its_hours_and_prices() {
    let _cpu = sharing_the_cpu().await;
    let site = FixtureSite::start().await;
    let fake = FakeOpenAiRealtime::start(caller_questions()).await;
    let app = builder_app(&fake).await;
    let second = app.spawn_api_instance().await;
    let requested = Instant::now();
    let (build, agent) = start_build(
        &app,
        json!({"url": site.url(), "area_code": "415", "engine": "openai_realtime",
               "max_pages": 80}),
    )
    .await;
    let stream = tokio::spawn(read_stream(
        app.http.clone(),
        second,
        app.api_key.clone(),
        build.clone(),
    ));
    let view = wait_build(&app, &build, "succeeded").await;
    let built_in = requested.elapsed();

    // The progress stream, read from another API node: every step's start and finish, in order.
    let events = tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("the stream ends with the build")
        .unwrap();
    let steps: Vec<String> = events
        .iter()
        .filter(|e| e.event == "step")
        .map(|e| {
            format!(
                "{} {}",
                e.data["step"].as_str().unwrap(),
                e.data["phase"].as_str().unwrap()
            )
        })
        .collect();
    let expected: Vec<String> = ["crawl", "extract", "generate", "provision", "deploy"]
        .iter()
        .flat_map(|s| [format!("{s} started"), format!("{s} finished")])
        .collect();
    assert_eq!(steps, expected, "{events:?}");
    assert_eq!(events.last().unwrap().data["state"], "succeeded");

    // The crawl kept out of robots.txt's sections and found the sitemap-only page.
    let requests = site.requests();
    for path in website::DISALLOWED {
        assert!(!requests.iter().any(|r| r == path), "{path} was fetched");
    }
    assert!(requests.iter().any(|r| r == website::SITEMAP_ONLY));

    // Every category the site covers has entries, each with the page it came from.
    let entries = app
        .store
        .list_knowledge(app.tenant, None, 100, None)
        .await
        .unwrap();
    let mut all = entries.items.clone();
    let mut cursor = entries.next_cursor;
    while let Some(before) = cursor {
        let page = app
            .store
            .list_knowledge(app.tenant, None, 100, Some(before))
            .await
            .unwrap();
        all.extend(page.items);
        cursor = page.next_cursor;
    }
    let ours: Vec<_> = all
        .iter()
        .filter(|e| e.agent_id.map(|a| a.to_string()) == Some(agent.clone()))
        .collect();
    let covered: BTreeSet<KnowledgeCategory> = ours.iter().map(|e| e.category).collect();
    for category in answer_key::categories() {
        assert!(covered.contains(&category), "no {category} entry");
    }
    assert!(
        ours.iter().all(|e| e
            .source_url
            .as_deref()
            .is_some_and(|u| u.starts_with(&site.url()))),
        "every entry names its page"
    );

    // A number in the 415 area code, bought with our webhooks, routed to the new agent.
    let number = view["phone_number"].as_str().expect("a number").to_owned();
    assert!(number.starts_with("+1415"), "{number}");
    let sim = app.sim.as_ref().unwrap();
    let owned = sim
        .numbers()
        .into_iter()
        .find(|n| n.phone_number == number)
        .unwrap();
    assert_eq!(
        owned.voice_url.as_deref(),
        Some(format!("{}/twilio/voice", app.address).as_str())
    );

    // A caller rings the new number and asks the hours and a price: the agent finds both.
    let caller = PersonScript::human()
        .pause(500)
        .say("What are your opening hours?")
        .wait_quiet_for(700, 15_000)
        .say("How much is drain cleaning?")
        .wait_quiet_for(700, 15_000)
        .hang_up();
    let call = sim.place_inbound_call(CALLER, &number, caller).unwrap();
    call.wait_ended(Duration::from_secs(90)).await.unwrap();
    let outputs: Vec<Value> = fake
        .tool_outputs()
        .iter()
        .map(|(_, o)| serde_json::from_str(o).unwrap())
        .collect();
    assert_eq!(outputs.len(), 2, "{outputs:#?}");
    let best = |i: usize| {
        outputs[i]["results"][0]["answer"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(best(0).contains('7'), "hours: {}", outputs[0]);
    assert!(best(1).contains("$149"), "drain cleaning: {}", outputs[1]);

    record(&app, &agent, "SWITCHBOARD_RECORD_AGENT_BUILD_HISTORY").await;

    let timings: BTreeMap<String, i64> = view["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["elapsed_ms"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let crawl = &view["steps"][0]["detail"];
    println!(
        "agent build: {:.1} s end to end ({} ms recorded), steps {timings:?}; crawl {crawl}; \
         {} entries in {} categories",
        built_in.as_secs_f64(),
        view["elapsed_ms"],
        ours.len(),
        covered.len()
    );
}

#[tokio::test]
async fn a_worker_killed_during_the_crawl_resumes_without_fetching_the_pages_it_kept() {
    let _cpu = sharing_the_cpu().await;
    let site = FixtureSite::start().await;
    let fake = FakeOpenAiRealtime::start(caller_questions()).await;
    let mut app = builder_app(&fake).await;
    let (build, _) = start_build(&app, json!({"url": site.url(), "max_pages": 80})).await;
    let build_id: uuid::Uuid = build.parse().unwrap();
    // Kill the worker once the crawl has kept a few pages (the slow page holds it open).
    let deadline = Instant::now() + Duration::from_secs(30);
    let kept_before = loop {
        let kept = app.store.crawled_pages(app.tenant, build_id).await.unwrap();
        if kept.len() >= 5 {
            app.kill_worker().await;
            break app.store.crawled_pages(app.tenant, build_id).await.unwrap();
        }
        assert!(Instant::now() < deadline, "the crawl kept nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    app.start_worker();
    let view = wait_build(&app, &build, "succeeded").await;

    let crawl = view["steps"][0].clone();
    assert_eq!(crawl["step"], "crawl");
    assert!(
        crawl["attempts"].as_u64().unwrap() >= 2,
        "the crawl was retried: {crawl}"
    );
    let requests = site.requests();
    for page in &kept_before {
        let path = page.path();
        let times = requests.iter().filter(|r| r.as_str() == path).count();
        assert_eq!(
            times, 1,
            "{path} was kept before the kill, then fetched {times} times"
        );
    }
    println!(
        "crawl resumed: {} pages kept before the kill, {} requests in all",
        kept_before.len(),
        requests.len()
    );
}

#[tokio::test]
async fn a_build_cancelled_after_its_number_was_bought_releases_the_number() {
    let _cpu = sharing_the_cpu().await;
    let site = FixtureSite::start().await;
    let fake = FakeOpenAiRealtime::start(caller_questions()).await;
    let mut app = builder_app(&fake).await;
    let (build, agent) = start_build(
        &app,
        json!({"url": site.url(), "area_code": "415", "max_pages": 80}),
    )
    .await;
    let build_id: uuid::Uuid = build.parse().unwrap();
    // Hold the build at the provision step: the worker stops while it runs, the cancel comes,
    // the worker comes back. Whether the number was bought before the stop or after, the
    // cancelled build must not keep it.
    let deadline = Instant::now() + BUILD_TIMEOUT;
    loop {
        let events = app
            .store
            .build_events(app.tenant, build_id, None)
            .await
            .unwrap();
        if events
            .iter()
            .any(|e| e.step == domain::site::BuildStep::Provision)
        {
            app.kill_worker().await;
            break;
        }
        assert!(Instant::now() < deadline, "no provision step");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    api(
        &app,
        reqwest::Method::POST,
        &format!("/v1/agent-builds/{build}/cancel"),
        None,
    )
    .await;
    app.start_worker();
    let view = wait_build(&app, &build, "canceled").await;

    let bought: Vec<Value> = view["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "provision" || s["step"] == "undo")
        .cloned()
        .collect();
    let undo = bought
        .iter()
        .find(|s| s["step"] == "undo")
        .expect("the build was undone");
    let released = undo["detail"]["released_number"].as_str();
    let provisioned = bought
        .iter()
        .find(|s| s["step"] == "provision")
        .and_then(|s| s["detail"]["phone_number"].as_str());
    assert_eq!(released, provisioned, "{bought:#?}");
    assert!(view["phone_number"].is_null(), "{view:#}");
    let sim = app.sim.as_ref().unwrap();
    assert!(
        sim.numbers()
            .iter()
            .all(|n| !n.phone_number.starts_with("+1415")),
        "no 415 number is kept: {:?}",
        sim.numbers()
            .iter()
            .map(|n| &n.phone_number)
            .collect::<Vec<_>>()
    );
    // The draft agent is gone, and with it its knowledge.
    let agents = api(&app, reqwest::Method::GET, "/v1/agents", None).await;
    assert!(
        agents["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != agent.as_str()),
        "{agents:#}"
    );
    let left = app
        .store
        .list_knowledge(app.tenant, None, 100, None)
        .await
        .unwrap();
    assert!(left.items.iter().all(|e| e.agent_id.is_none()));
    record(&app, &agent, "SWITCHBOARD_RECORD_CANCELED_BUILD_HISTORY").await;
}

/// The build's history replays against today's workflow; kept at the path in `env_var` when
/// it is set (a history to commit under `tests/histories/agent_build_*.json`).
async fn record(app: &TestApp, agent: &str, env_var: &str) {
    let workflow_id = format!("agent-build-{agent}");
    let json = fetch_and_replay::<AgentBuildWorkflow>(app, &workflow_id, "the build").await;
    if let Ok(path) = std::env::var(env_var) {
        std::fs::write(path, &json).unwrap();
    }
}

/// Every knowledge entry of `agent`.
async fn agent_knowledge(app: &TestApp, agent: &str) -> Vec<store::KnowledgeEntry> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .list_knowledge(app.tenant, None, 100, cursor)
            .await
            .unwrap();
        all.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    all.retain(|e| e.agent_id.map(|a| a.to_string()).as_deref() == Some(agent));
    all
}

#[tokio::test]
async fn a_resync_restores_what_the_site_says_and_keeps_what_a_person_edited() {
    let _cpu = sharing_the_cpu().await;
    let site = FixtureSite::start().await;
    let fake = FakeOpenAiRealtime::start(caller_questions()).await;
    let app = builder_app(&fake).await;
    let (build, agent) = start_build(&app, json!({"url": site.url(), "max_pages": 80})).await;
    wait_build(&app, &build, "succeeded").await;
    let before = agent_knowledge(&app, &agent).await;

    // A person rewrites one answer; another entry is lost (deleted by hand).
    let edited = &before[0];
    api(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/knowledge/{}", edited.id),
        Some(json!({"answer": "Ask for Maria, she knows."})),
    )
    .await;
    let lost = &before[1];
    app.store
        .delete_knowledge(app.tenant, lost.id)
        .await
        .unwrap();

    let resync = api(
        &app,
        reqwest::Method::POST,
        &format!("/v1/agents/{agent}/resync"),
        None,
    )
    .await;
    let again = resync["build_id"].as_str().unwrap();
    let view = wait_build(&app, again, "succeeded").await;
    let steps: Vec<&str> = view["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["crawl", "extract", "update"], "{view:#}");
    let update = &view["steps"][2]["detail"];
    assert_eq!(update["added"], 1, "{update}");
    assert_eq!(update["changed"], 0, "{update}");
    assert_eq!(update["removed"], 0, "{update}");
    assert_eq!(update["kept_edits"], 1, "{update}");
    assert_eq!(
        update["unchanged"].as_u64().unwrap() as usize,
        before.len() - 2,
        "{update}"
    );

    let after = agent_knowledge(&app, &agent).await;
    assert_eq!(after.len(), before.len());
    let kept = after.iter().find(|e| e.id == edited.id).unwrap();
    assert_eq!(kept.answer, "Ask for Maria, she knows.");
    assert!(
        after
            .iter()
            .any(|e| e.question == lost.question && e.answer == lost.answer)
    );
    // The agent kept its number: a re-sync buys nothing.
    assert!(view["phone_number"].is_null());
    let builds = app.sim.as_ref().unwrap().numbers();
    assert_eq!(
        builds
            .iter()
            .filter(|n| n.friendly_name.starts_with("Agent build"))
            .count(),
        1
    );
}

/// An LLM configured: each request's prompt stays within the token budget, a malformed
/// answer is asked for again, and valid entries (checked against the schema) join the
/// offline ones; when a chunk's answers stay malformed, the offline extractor does it all.
#[tokio::test]
async fn the_llm_extractor_keeps_to_its_budget_retries_bad_json_and_falls_back_to_the_rules() {
    let _cpu = sharing_the_cpu().await;
    let site = FixtureSite::start().await;
    // Twice malformed (prose, then JSON outside the schema): the rules extract everything.
    let chat = FakeOpenAiChat::start(vec![
        ScriptedReply::Text("Sure! Here is the knowledge you asked for.".into()),
        ScriptedReply::Text("```json\n{\"entries\": [{\"category\": \"gossip\"}]}\n```".into()),
    ])
    .await;
    let app = spawn_app_with(AppOptions {
        sim: Some(FaultConfig::default()),
        llm_base_url: chat.base_url(),
        ..AppOptions::default()
    })
    .await;
    let (build, _) = start_build(&app, json!({"url": site.url(), "max_pages": 80})).await;
    let view = wait_build(&app, &build, "succeeded").await;
    assert_eq!(view["extractor"], "offline", "{view:#}");
    assert_eq!(
        view["categories"].as_object().unwrap().len(),
        18,
        "{view:#}"
    );
    assert_eq!(
        chat.requests().len(),
        2,
        "one chunk, asked twice, then the rules"
    );

    // Malformed once, then valid: the model's entries join the rules'.
    let home = format!("{}/", site.url());
    let valid = json!({"entries": [{
        "category": "company_history",
        "question": "Who founded the company?",
        "answer": "A plumber from the Mission, in the model's words.",
        "source_url": home,
    }]});
    chat.push(ScriptedReply::Text(
        "Sure! Here is the knowledge you asked for.".into(),
    ));
    chat.push(ScriptedReply::Text(valid.to_string()));
    for _ in 0..60 {
        chat.push(ScriptedReply::Text(r#"{"entries": []}"#.into()));
    }
    let (build, agent) = start_build(&app, json!({"url": site.url(), "max_pages": 80})).await;
    let view = wait_build(&app, &build, "succeeded").await;
    assert_eq!(view["extractor"], "llm", "{view:#}");
    let requests = chat.requests().split_off(2);
    assert!(
        requests.len() >= 3,
        "the site takes several chunks: {}",
        requests.len()
    );
    let budget = 6_000;
    for request in &requests {
        let tokens: usize = request["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| knowledge::llm::tokens(m["content"].as_str().unwrap_or_default()))
            .sum();
        assert!(tokens <= budget, "{tokens} tokens");
    }
    assert_eq!(
        requests[0]["messages"], requests[1]["messages"],
        "the malformed chunk is asked again"
    );
    let entries = agent_knowledge(&app, &agent).await;
    assert!(
        entries
            .iter()
            .any(|e| e.question == "Who founded the company?")
    );
    assert!(
        entries.iter().any(|e| e.answer.contains("$149")),
        "the rules' prices are kept"
    );
    println!(
        "llm extraction: {} requests within {budget} tokens each",
        requests.len()
    );
}

#[tokio::test]
async fn a_bad_build_request_names_its_field_and_starts_nothing() {
    let _cpu = sharing_the_cpu().await;
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "ftp://example.com"}), "url"),
        (
            json!({"url": "https://example.com", "area_code": "41"}),
            "area_code",
        ),
        (
            json!({"url": "https://example.com", "engine": "hal9000"}),
            "engine",
        ),
        (
            json!({"url": "https://example.com", "max_pages": 0}),
            "max_pages",
        ),
        (json!({"name": "no url"}), "body"),
    ] {
        let response = app
            .http
            .post(format!("{}/v1/agent-builds", app.address))
            .bearer_auth(&app.api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    let missing = app
        .http
        .get(format!(
            "{}/v1/agent-builds/{}",
            app.address,
            uuid::Uuid::now_v7()
        ))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_build_whose_site_does_not_answer_fails_saying_why_and_keeps_nothing() {
    let _cpu = sharing_the_cpu().await;
    let fake = FakeOpenAiRealtime::start(caller_questions()).await;
    let app = builder_app(&fake).await;
    // Nothing listens on the discard port.
    let (build, agent) = start_build(
        &app,
        json!({"url": "http://127.0.0.1:9/", "area_code": "415"}),
    )
    .await;
    let view = wait_build(&app, &build, "failed").await;
    assert_eq!(view["step"], "crawl", "{view:#}");
    let error = view["error"].as_str().unwrap();
    assert!(error.starts_with("crawl failed: "), "{error}");
    assert!(
        error.contains("127.0.0.1:9"),
        "the error names the address: {error}"
    );
    let steps: Vec<String> = view["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["step"].as_str().unwrap(),
                s["phase"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(steps, ["crawl failed", "undo finished"], "{view:#}");
    assert!(view["phone_number"].is_null());
    assert!(agent_knowledge(&app, &agent).await.is_empty());
    let sim = app.sim.as_ref().unwrap();
    assert!(
        sim.numbers()
            .iter()
            .all(|n| !n.phone_number.starts_with("+1415"))
    );
}
