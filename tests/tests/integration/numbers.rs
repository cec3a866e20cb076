//! Tenant resources through the REST API: agents and phone numbers bought from the Twilio
//! simulator (a call to a bought number reaches the agent it is assigned to; releasing it
//! routes calls nowhere; a retried purchase buys once), knowledge categories and message
//! status.

use crate::helpers::*;
use serde_json::{Value, json};
use sim::{FaultConfig, person::PersonScript};
use std::time::Duration;

const CALL_TIMEOUT: Duration = Duration::from_secs(90);

impl TestApp {
    /// `method path` with the demo key and a JSON body: (status, body or `null`).
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn simulated() -> AppOptions {
    AppOptions {
        sim: Some(FaultConfig::default()),
        ..AppOptions::default()
    }
}

fn caller() -> PersonScript {
    PersonScript::human()
        .pause(300)
        .say("Hello, is this the plumber?")
        .wait_quiet_for(600, 10_000)
        .hang_up()
}

/// Buys `number` for `agent` through our API: (status, body).
async fn buy(app: &TestApp, number: &str, agent: &str) -> (u16, Value) {
    let body = json!({"phone_number": number, "agent_id": agent, "friendly_name": "Main line"});
    app.api(reqwest::Method::POST, "/v1/phone-numbers", Some(body))
        .await
}

#[tokio::test]
async fn a_bought_number_reaches_its_agent_until_released_and_a_retried_purchase_buys_once() {
    let app = spawn_app_with(simulated()).await;
    let sim = app.sim.as_ref().unwrap();
    let get = reqwest::Method::GET;

    let (status, available) = app
        .api(
            get.clone(),
            "/v1/phone-numbers/available?country=US&area_code=628&contains=555",
            None,
        )
        .await;
    assert_eq!(status, 200, "{available}");
    let number = available["data"][0]["phone_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(number.starts_with("+1628"), "{number}");

    let agent_body = json!({
        "name": "Zebra Plumbing desk",
        "greeting": "Zebra Plumbing, drips fixed fast.",
        "engine": "echo",
        "language": "en-US",
        "voicemail_message": "Zebra Plumbing: call us back.",
    });
    let (status, agent) = app
        .api(reqwest::Method::POST, "/v1/agents", Some(agent_body))
        .await;
    assert_eq!(status, 201, "{agent}");
    assert_eq!(agent["voicemail_message"], "Zebra Plumbing: call us back.");
    let agent_id = agent["id"].as_str().unwrap().to_owned();

    let (status, bought) = buy(&app, &number, &agent_id).await;
    assert_eq!(status, 201, "{bought}");
    assert!(bought["twilio_sid"].as_str().unwrap().starts_with("PN"));
    assert_eq!(bought["agent_id"], agent_id.as_str());
    // A retried purchase adopts the number the account already owns: one purchase, one row.
    let (status, again) = buy(&app, &number, &agent_id).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], bought["id"]);
    let owned: Vec<_> = sim
        .numbers()
        .into_iter()
        .filter(|n| n.phone_number == number)
        .collect();
    assert_eq!(owned.len(), 1);
    assert_eq!(
        owned[0].voice_url.as_deref(),
        Some(format!("{}/twilio/voice", app.address).as_str())
    );
    let (_, list) = app.api(get.clone(), "/v1/phone-numbers", None).await;
    let rows = list["data"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .filter(|n| n["phone_number"] == number.as_str())
            .count(),
        1
    );

    // A call to the bought number reaches the new agent, not the tenant's first one.
    let call = sim.place_inbound_call(CALLER, &number, caller()).unwrap();
    call.wait_ended(CALL_TIMEOUT).await.unwrap();
    let row = app.wait_for_call_row(call.sid()).await;
    assert_eq!(row.agent_id.map(|a| a.to_string()), Some(agent_id.clone()));

    // Released: Twilio no longer has it for us, and our webhook routes it nowhere.
    let id = bought["id"].as_str().unwrap();
    let (status, released) = app
        .api(
            reqwest::Method::DELETE,
            &format!("/v1/phone-numbers/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{released}");
    assert!(released["released_at"].is_string());
    assert!(sim.numbers().iter().all(|n| n.phone_number != number));
    assert!(sim.place_inbound_call(CALLER, &number, caller()).is_err());
    // With the simulator, `PUBLIC_URL` is the API's own address: sign over that.
    let form = voice_form(&new_call_sid(), &number);
    let url = format!("{}/twilio/voice", app.address);
    let signature = telephony::compute_signature(AUTH_TOKEN, &url, &form);
    let twiml = app
        .post_with_signature("/twilio/voice", &form, Some(&signature))
        .await
        .text()
        .await
        .unwrap();
    assert!(twiml.contains("not in service"), "{twiml}");
    let (_, list) = app.api(get.clone(), "/v1/phone-numbers", None).await;
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != id)
    );
    let (_, history) = app
        .api(get, "/v1/phone-numbers?include_released=true", None)
        .await;
    assert!(
        history["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id)
    );
}

#[tokio::test]
async fn agents_and_numbers_refuse_bad_fields_by_name() {
    let app = spawn_app().await;
    let post = reqwest::Method::POST;
    let cases = [
        (
            json!({"name": "A", "greeting": "Hi", "engine": "warp_drive"}),
            "engine",
        ),
        (
            json!({"name": "A", "greeting": "  ", "engine": "echo"}),
            "greeting",
        ),
        (
            json!({"name": "A", "greeting": "Hi", "engine": "echo", "language": "english"}),
            "language",
        ),
        (
            json!({"name": "A", "greeting": "Hi", "engine": "echo", "max_call_duration_secs": 5}),
            "max_call_duration_secs",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = app.api(post.clone(), "/v1/agents", Some(body)).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{problem}"
        );
    }
    let (status, problem) = app
        .api(
            post.clone(),
            "/v1/phone-numbers",
            Some(json!({"phone_number": "555-0100"})),
        )
        .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("phone_number"))
    );
    // Another tenant's number and agent: not ours to buy (409), nor to see (404).
    let rival = app.store.create_tenant("Rival Dental").await.unwrap();
    let rival_agent = app
        .store
        .create_agent(
            rival.id,
            store::NewAgent {
                name: "Rival".into(),
                greeting: "Rival here".into(),
                instructions: String::new(),
                engine: "echo".into(),
                engine_settings: json!({}),
                max_call_duration_secs: None,
                language: None,
                record_calls: None,
            },
        )
        .await
        .unwrap();
    let rival_number = domain::E164::parse("+14155550123").unwrap();
    app.store
        .assign_phone_number(rival.id, &rival_number, rival_agent.id)
        .await
        .unwrap();
    let body = json!({"phone_number": rival_number.as_str()});
    let (status, problem) = app.api(post.clone(), "/v1/phone-numbers", Some(body)).await;
    assert_eq!(status, 409, "{problem}");
    let path = format!("/v1/agents/{}", rival_agent.id);
    let (status, _) = app.api(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404);
    // Archiving an agent unassigns its numbers: the test number routes nowhere.
    let agent = app
        .store
        .route_inbound_number(&app.number)
        .await
        .unwrap()
        .unwrap()
        .agent;
    let (status, archived) = app
        .api(
            reqwest::Method::DELETE,
            &format!("/v1/agents/{}", agent.id),
            None,
        )
        .await;
    assert_eq!(status, 200, "{archived}");
    assert!(archived["archived_at"].is_string());
    assert!(
        app.store
            .route_inbound_number(&app.number)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn knowledge_takes_only_the_18_categories_and_filters_by_one() {
    let app = spawn_app().await;
    let (status, problem) = app
        .api(
            reqwest::Method::POST,
            "/v1/knowledge",
            Some(json!({"category": "hours", "question": "Open?", "answer": "9 to 5"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(problem["field"], "category");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("custom_business_logic")
    );
    let (status, entry) = app
        .api(
            reqwest::Method::POST,
            "/v1/knowledge",
            Some(json!({"category": "pricing_billing", "question": "Cost?", "answer": "Free"})),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    let (_, list) = app
        .api(
            reqwest::Method::GET,
            "/v1/knowledge?category=pricing_billing",
            None,
        )
        .await;
    assert_eq!(list["data"][0]["id"], entry["id"]);
    let (_, none) = app
        .api(
            reqwest::Method::GET,
            "/v1/knowledge?category=policies",
            None,
        )
        .await;
    assert_eq!(none["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_message_moves_from_new_to_handled() {
    let app = spawn_app().await;
    let taken = app
        .store
        .take_message(
            "test-key",
            &domain::conversation::TakeMessageInput {
                tenant_id: app.tenant,
                call_sid: domain::CallSid::parse(&new_call_sid()).unwrap(),
                for_whom: Some("Dr. Smith".into()),
                caller_name: "Jordan".into(),
                callback_number: None,
                message: "Please call back".into(),
                replaces: None,
                recipient: None,
            },
        )
        .await
        .unwrap();
    let path = format!("/v1/messages/{}", taken.id);
    let patch = reqwest::Method::PATCH;
    let (status, problem) = app
        .api(patch.clone(), &path, Some(json!({"status": "done"})))
        .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("status")));
    let (status, handled) = app
        .api(patch, &path, Some(json!({"status": "handled"})))
        .await;
    assert_eq!(status, 200, "{handled}");
    assert_eq!(handled["status"], "handled");
    let (_, list) = app
        .api(
            reqwest::Method::GET,
            "/v1/messages?status=handled&limit=1",
            None,
        )
        .await;
    assert_eq!(list["data"][0]["id"], taken.id.to_string());
    let (_, new) = app
        .api(reqwest::Method::GET, "/v1/messages?status=new", None)
        .await;
    assert_eq!(new["data"].as_array().unwrap().len(), 0);
}
