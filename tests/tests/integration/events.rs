//! `call.analyzed` to the tenant's webhook: a real local endpoint checks each POST's
//! `Switchboard-Signature` and answers what a test scripts. An ElevenLabs post-call webhook and
//! a campaign call each yield one event, delivered once with its id in `Switchboard-Delivery`,
//! retried through 5xx, settled `failed` by a 410, redelivered on request, and listed in the
//! delivery log (`/v1/webhook-deliveries`) by status and type.

use crate::call_workflow::fetch_and_replay;
use crate::campaign::{
    Kind, campaign_with, control, declining_model, open_zone, realtime_campaign_app, recipients,
    wait_for_status,
};
use crate::helpers::{AppOptions, TestApp, roomy_rate_limits, spawn_app_with};
use crate::permissions::send;
use crate::postcall::{conversation, deliver, set_secret, signed};
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use domain::{
    events::{EventOutcome, EventStatus},
    webhook_signature::{DELIVERY_HEADER, SIGNATURE_HEADER, verify},
};
use reqwest::Method;
use serde_json::{Value, json};
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};
use temporalio_client::WorkflowGetResultOptions;
use testkit::FakeOpenAiRealtime;
use workflows::EventDeliveryWorkflow;

const ELEVENLABS_SECRET: &str = "wsec_events";
/// The person ElevenLabs' agent called.
const PERSON: &str = "+14155550142";

/// One POST the endpoint got.
#[derive(Debug, Clone)]
struct Received {
    delivery_id: String,
    signature_valid: bool,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// The tenant's webhook endpoint: checks each POST's signature with the webhook's secret and
/// answers the statuses queued in `answers` in turn, then 204.
#[derive(Clone, Default)]
struct Endpoint {
    secret: Arc<Mutex<String>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn receive(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let secret = endpoint.secret.lock().unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    endpoint.received.lock().unwrap().push(Received {
        delivery_id: header(DELIVERY_HEADER),
        signature_valid: verify(&secret, &header(SIGNATURE_HEADER), &body, now).is_ok(),
        body: body.to_vec(),
    });
    let answer = endpoint.answers.lock().unwrap().pop_front().unwrap_or(204);
    axum::http::StatusCode::from_u16(answer).unwrap()
}

impl Endpoint {
    /// Listens on a free port; the endpoint and its URL.
    async fn start() -> (Self, String) {
        let endpoint = Self::default();
        let app = Router::new()
            .route("/events", post(receive))
            .with_state(endpoint.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, url)
    }

    fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// `app`'s tenant with its webhook at a fresh endpoint.
async fn with_webhook(app: &TestApp) -> Endpoint {
    let (endpoint, url) = Endpoint::start().await;
    let body = json!({"url": url});
    let (status, created) = send(
        app,
        &Method::PUT,
        "/v1/tenant/webhook",
        Some(&app.api_key),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    *endpoint.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_owned();
    endpoint
}

/// An app whose tenant has a webhook and an ElevenLabs secret; the endpoint and the URL
/// ElevenLabs posts to.
async fn events_app() -> (TestApp, Endpoint, String) {
    let app = spawn_app_with(AppOptions {
        rate_limits: roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await;
    let endpoint = with_webhook(&app).await;
    let elevenlabs = set_secret(&app, &app.api_key, ELEVENLABS_SECRET).await;
    (app, endpoint, elevenlabs)
}

/// ElevenLabs posts conversation `id` (the person declines); its receipt.
async fn post_conversation(app: &TestApp, url: &str, id: &str) -> Value {
    let body = conversation(
        id,
        PERSON,
        &[
            (
                "agent",
                "Hi, your car is due for service. Could you come in Tuesday at 10 am?",
            ),
            ("user", "No thanks, I'm not interested."),
        ],
    );
    let (status, receipt) = deliver(app, url, signed(ELEVENLABS_SECRET, &body), &body).await;
    assert_eq!(status, 200, "{receipt}");
    receipt
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (status, body) = send(app, &Method::GET, path, Some(&app.api_key), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The call SID of a call the API recorded.
async fn call_sid(app: &TestApp, call_id: &Value) -> String {
    let call = get(app, &format!("/v1/calls/{}", call_id.as_str().unwrap())).await;
    call["call_sid"].as_str().unwrap().to_owned()
}

/// The delivery log's entry for `subject` (the event exists once emitted).
async fn event_for(app: &TestApp, subject: &str) -> Value {
    let log = get(app, "/v1/webhook-deliveries?limit=100").await;
    let found: Vec<&Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == subject)
        .collect();
    assert_eq!(found.len(), 1, "one event for {subject}: {log:#}");
    found[0].clone()
}

/// Waits for the event's latest delivery run to end; its outcome, and the entry after it.
async fn settled(app: &TestApp, event_id: &str) -> (EventOutcome, Value) {
    let handle = app
        .temporal
        .get_workflow_handle::<EventDeliveryWorkflow>(format!("event-{event_id}"));
    let outcome = tokio::time::timeout(
        Duration::from_secs(120),
        handle.get_result(WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the delivery ends within two minutes")
    .expect("the delivery workflow succeeds");
    let entry = get(app, &format!("/v1/webhook-deliveries/{event_id}")).await;
    (outcome, entry)
}

/// ElevenLabs posts a conversation; it is recorded and its event's delivery runs to its end.
async fn analysed_conversation(app: &TestApp, url: &str, id: &str) -> (EventOutcome, Value) {
    let receipt = post_conversation(app, url, id).await;
    assert_eq!(receipt["status"], "recorded", "{receipt}");
    let sid = call_sid(app, &receipt["call_id"]).await;
    let event = event_for(app, &sid).await;
    settled(app, event["id"].as_str().unwrap()).await
}

#[tokio::test]
async fn an_elevenlabs_call_yields_one_signed_call_analyzed_event_however_often_it_is_sent() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let (app, endpoint, elevenlabs) = events_app().await;
    let receipt = post_conversation(&app, &elevenlabs, "conv_events_1").await;
    assert_eq!(receipt["status"], "recorded", "{receipt}");
    let sid = call_sid(&app, &receipt["call_id"]).await;
    let event = event_for(&app, &sid).await;
    let id = event["id"].as_str().unwrap();
    let (outcome, entry) = settled(&app, id).await;

    assert_eq!(outcome.status, EventStatus::Delivered, "{outcome:?}");
    assert_eq!(entry["status"], "delivered", "{entry}");
    assert_eq!(
        (&entry["attempts"], &entry["last_status_code"]),
        (&json!(1), &json!(204))
    );
    let received = endpoint.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let post = &received[0];
    assert!(post.signature_valid, "Switchboard-Signature verifies");
    assert_eq!(post.delivery_id, id, "Switchboard-Delivery is the event id");
    let body = post.json();
    assert_eq!(body["type"], "call.analyzed");
    assert_eq!(body["id"], id);
    assert_eq!(body, entry["payload"], "the log shows what was sent");
    let data = &body["data"];
    assert_eq!(data["call_sid"], sid);
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["outcome"], "completed");
    assert_eq!(data["outcome_class"], "not_interested");
    assert_eq!(data["summary"], "Summary of conv_events_1.");
    assert_eq!(data["campaign_id"], Value::Null);
    assert!(data["confidence"].as_f64().unwrap() > 0.0, "{data}");
    let masked = domain::E164::parse(PERSON).unwrap().masked();
    assert_eq!(data["phone_masked"], masked.as_str());
    let raw = String::from_utf8(post.body.clone()).unwrap();
    assert!(!raw.contains("4155550142"), "never the full number: {raw}");
    assert!(
        !raw.contains("not interested"),
        "never the transcript: {raw}"
    );

    // ElevenLabs delivers the conversation again: the same call, no second event.
    let again = post_conversation(&app, &elevenlabs, "conv_events_1").await;
    assert_eq!(again["status"], "duplicate", "{again}");
    assert_eq!(again["call_id"], receipt["call_id"]);
    let (outcome, _) = settled(&app, id).await;
    assert_eq!(outcome.status, EventStatus::Delivered);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(endpoint.received().len(), 1, "nothing sent twice");
    let log = get(&app, "/v1/webhook-deliveries").await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "{log:#}");
}

#[tokio::test]
async fn a_webhook_answering_500_twice_gets_the_event_on_the_third_attempt() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let (app, endpoint, elevenlabs) = events_app().await;
    endpoint.answer(&[500, 500]);
    let (outcome, entry) = analysed_conversation(&app, &elevenlabs, "conv_retried").await;

    assert_eq!(outcome.status, EventStatus::Delivered, "{outcome:?}");
    assert_eq!(entry["status"], "delivered", "{entry}");
    assert_eq!(entry["attempts"], 3, "{entry}");
    assert_eq!(entry["last_status_code"], 204);
    assert_eq!(entry["last_error"], Value::Null);
    let received = endpoint.received();
    assert_eq!(received.len(), 3, "{received:?}");
    assert!(received.iter().all(|r| r.signature_valid));
    assert!(
        received.iter().all(|r| r.delivery_id == entry["id"]),
        "one delivery id on every attempt"
    );
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "the same bytes on every attempt"
    );

    // The recorded history replays against today's workflow.
    let workflow_id = format!("event-{}", entry["id"].as_str().unwrap());
    fetch_and_replay::<EventDeliveryWorkflow>(&app, &workflow_id, "the event delivery").await;
}

#[tokio::test]
async fn a_webhook_answering_410_fails_the_event_at_once_and_it_is_redelivered_on_request() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let (app, endpoint, elevenlabs) = events_app().await;
    endpoint.answer(&[410]);
    let (outcome, entry) = analysed_conversation(&app, &elevenlabs, "conv_gone").await;

    assert_eq!(outcome.status, EventStatus::Failed, "{outcome:?}");
    assert_eq!(entry["status"], "failed", "{entry}");
    assert_eq!(
        (&entry["attempts"], &entry["last_status_code"]),
        (&json!(1), &json!(410))
    );
    assert_eq!(entry["last_error"], "the webhook answered HTTP 410");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(endpoint.received().len(), 1, "a 410 is not retried");

    let id = entry["id"].as_str().unwrap();
    let path = format!("/v1/webhook-deliveries/{id}/redeliver");
    let (status, started) = send(&app, &Method::POST, &path, Some(&app.api_key), None).await;
    assert_eq!(status, 202, "{started}");
    let (outcome, entry) = settled(&app, id).await;
    assert_eq!(outcome.status, EventStatus::Delivered, "{outcome:?}");
    assert_eq!(
        (&entry["status"], &entry["attempts"]),
        (&json!("delivered"), &json!(2))
    );
    let received = endpoint.received();
    assert_eq!(received.len(), 2);
    assert!(
        received
            .iter()
            .all(|r| r.delivery_id == id && r.signature_valid)
    );

    let (status, problem) = send(&app, &Method::POST, &path, Some(&app.api_key), None).await;
    assert_eq!(
        status, 409,
        "a delivered event is not sent again: {problem}"
    );
    let unknown = format!("/v1/webhook-deliveries/{}/redeliver", uuid::Uuid::now_v7());
    let (status, _) = send(&app, &Method::POST, &unknown, Some(&app.api_key), None).await;
    assert_eq!(status, 404);
    let audit = get(&app, "/v1/audit-log").await.to_string();
    assert_eq!(audit.matches("webhook_delivery.redeliver").count(), 1);
}

#[tokio::test]
async fn the_delivery_log_lists_newest_first_by_status_and_event_type_one_page_at_a_time() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let (app, endpoint, elevenlabs) = events_app().await;
    endpoint.answer(&[410]);
    let (_, failed) = analysed_conversation(&app, &elevenlabs, "conv_a").await;
    let (_, delivered) = analysed_conversation(&app, &elevenlabs, "conv_b").await;
    let (status, _) = send(
        &app,
        &Method::DELETE,
        "/v1/tenant/webhook",
        Some(&app.api_key),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (outcome, skipped) = analysed_conversation(&app, &elevenlabs, "conv_c").await;
    assert_eq!(outcome.status, EventStatus::Skipped);
    assert_eq!(
        (&skipped["attempts"], &skipped["last_error"]),
        (&json!(0), &json!("no webhook is configured"))
    );

    let ids = |list: &Value| -> Vec<Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect()
    };
    for (query, expected) in [
        ("status=failed", vec![&failed]),
        ("status=delivered", vec![&delivered]),
        ("status=skipped", vec![&skipped]),
        ("status=pending", vec![]),
        (
            "event_type=call.analyzed",
            vec![&skipped, &delivered, &failed],
        ),
        ("event_type=call.analyzed&status=failed", vec![&failed]),
    ] {
        let list = get(&app, &format!("/v1/webhook-deliveries?{query}")).await;
        let want: Vec<Value> = expected.iter().map(|e| e["id"].clone()).collect();
        assert_eq!(ids(&list), want, "{query}: {list:#}");
    }
    let first = get(&app, "/v1/webhook-deliveries?limit=2").await;
    assert_eq!(
        ids(&first),
        vec![skipped["id"].clone(), delivered["id"].clone()]
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = get(
        &app,
        &format!("/v1/webhook-deliveries?limit=2&before={cursor}"),
    )
    .await;
    assert_eq!(ids(&rest), vec![failed["id"].clone()]);
    assert_eq!(rest["next_cursor"], Value::Null);

    for (query, field) in [
        ("status=lost", "status"),
        ("event_type=message.taken", "event_type"),
        ("limit=0", "limit"),
    ] {
        let path = format!("/v1/webhook-deliveries?{query}");
        let (status, problem) = send(&app, &Method::GET, &path, Some(&app.api_key), None).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{problem}"
        );
    }
    assert_eq!(
        endpoint.received().len(),
        2,
        "the skipped event was never sent"
    );
}

#[tokio::test]
async fn a_campaign_call_is_announced_as_one_call_analyzed_event_with_its_campaign() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let zone = open_zone(chrono::Duration::minutes(10));
    let fake = FakeOpenAiRealtime::start_keyed(Vec::new(), Some(declining_model())).await;
    let app = realtime_campaign_app(&fake, sim::FaultConfig::default()).await;
    let endpoint = with_webhook(&app).await;
    let people = recipients(&[(Kind::Decliner, 1)], zone, 0);
    let campaign = campaign_with(
        &app,
        json!({"concurrency": 1, "retry": {"max_attempts": 1}}),
        &people,
    )
    .await;
    control(&app, &campaign, "start").await;
    wait_for_status(&app, &campaign, "completed", Duration::from_secs(180)).await;

    let log = get(&app, "/v1/webhook-deliveries").await;
    let events = log["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{log:#}");
    let (outcome, entry) = settled(&app, events[0]["id"].as_str().unwrap()).await;
    assert_eq!(outcome.status, EventStatus::Delivered, "{outcome:?}");
    let data = &entry["payload"]["data"];
    assert_eq!(data["campaign_id"], campaign.as_str(), "{data}");
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["outcome_class"], "not_interested", "{data}");
    assert_eq!(entry["subject"], data["call_sid"]);
    let received = endpoint.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].signature_valid);
    assert_eq!(received[0].delivery_id, entry["id"]);
}
