//! Delivering taken messages (`MessageDeliveryWorkflow`): SMS through the Twilio simulator,
//! email to a real SMTP server (`testkit::smtp::SmtpSink`), the tenant's webhook to a receiver
//! that verifies the signature — each exactly once per channel, under injected faults and a
//! worker replaced mid-delivery.

use crate::{call_workflow::fetch_and_replay, helpers::*};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use domain::{
    CallSid,
    conversation::TakeMessageInput,
    message::{MessageDeliveryResult, MessageRecipient, sms_reference},
    webhook_signature::{DELIVERY_HEADER, SIGNATURE_HEADER, verify},
};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};
use temporalio_client::WorkflowGetResultOptions;
use testkit::smtp::{SmtpFaults, SmtpSink};
use uuid::Uuid;
use workflows::MessageDeliveryWorkflow;

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Hook {
    delivery_id: String,
    body: Vec<u8>,
    pub(crate) signature_valid: bool,
    /// Whether it answered 2xx.
    accepted: bool,
}

/// A tenant's webhook endpoint: verifies `Switchboard-Signature` with the secret, answers 500
/// to the first `fail_first` requests, and holds the first request for `hold_first` if set.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) secret: Arc<Mutex<String>>,
    hooks: Arc<Mutex<Vec<Hook>>>,
    fail_first: Arc<Mutex<u32>>,
    hold_first: Arc<Mutex<Option<Duration>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let secret = r.secret.lock().unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    let signature_valid = verify(&secret, &header(SIGNATURE_HEADER), &body, now).is_ok();
    let hold = r.hold_first.lock().unwrap().take();
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    let fail = {
        let mut left = r.fail_first.lock().unwrap();
        let fail = *left > 0;
        *left = left.saturating_sub(1);
        fail
    };
    let accepted = signature_valid && !fail;
    r.hooks.lock().unwrap().push(Hook {
        delivery_id: header(DELIVERY_HEADER),
        body: body.to_vec(),
        signature_valid,
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else if !signature_valid {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl Receiver {
    pub(crate) async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    pub(crate) fn accepted_for(&self, message_id: Uuid) -> Vec<Hook> {
        let id = message_id.to_string();
        self.hooks
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.accepted && String::from_utf8_lossy(&h.body).contains(&id))
            .cloned()
            .collect()
    }
}

/// The app with the simulator as Twilio (with `faults`), the sink as SMTP (if any) and the
/// receiver as the tenant's webhook.
async fn delivering_app(faults: sim::FaultConfig, sink: Option<&SmtpSink>) -> (TestApp, Receiver) {
    delivering_app_with(AppOptions {
        sim: Some(faults),
        smtp_url: sink.map(SmtpSink::url),
        ..AppOptions::default()
    })
    .await
}

/// An app with these options whose tenant has a message webhook served by the returned
/// receiver.
pub(crate) async fn delivering_app_with(options: AppOptions) -> (TestApp, Receiver) {
    let app = spawn_app_with(options).await;
    let (receiver, url) = Receiver::start().await;
    let response = app
        .http
        .put(format!("{}/v1/tenant/webhook", app.address))
        .bearer_auth(&app.api_key)
        .json(&serde_json::json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let created: serde_json::Value = response.json().await.unwrap();
    *receiver.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_owned();
    (app, receiver)
}

fn dana(phone: bool, email: bool) -> MessageRecipient {
    MessageRecipient {
        kind: "employee".into(),
        id: Some(Uuid::now_v7()),
        name: "Dana Scully".into(),
        phone: phone.then(|| "+14155550123".to_owned()),
        email: email.then(|| "dana@example.com".to_owned()),
    }
}

async fn take_message(app: &TestApp, recipient: MessageRecipient) -> Uuid {
    let input = TakeMessageInput {
        tenant_id: app.tenant,
        call_sid: CallSid::parse(&new_call_sid()).unwrap(),
        for_whom: Some("Dana".into()),
        caller_name: "Jordan".into(),
        callback_number: Some("+14155550199".into()),
        message: "Please call back about the invoice".into(),
        replaces: None,
        recipient: Some(recipient),
    };
    let key = Uuid::new_v4().to_string();
    app.store.take_message(&key, &input).await.unwrap().id
}

async fn deliver(app: &TestApp, message_id: Uuid) {
    let response = app
        .http
        .post(format!("{}/v1/messages/{message_id}/deliver", app.address))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}

pub(crate) async fn delivery_result(app: &TestApp, message_id: Uuid) -> MessageDeliveryResult {
    let handle = app
        .temporal
        .get_workflow_handle::<MessageDeliveryWorkflow>(format!("message-{message_id}"));
    tokio::time::timeout(
        Duration::from_secs(120),
        handle.get_result(WorkflowGetResultOptions::default()),
    )
    .await
    .expect("delivery finishes within two minutes")
    .expect("delivery workflow succeeds")
}

/// SMS in the simulator for this message (by the reference its body ends with).
fn sms_for(app: &TestApp, message_id: Uuid) -> Vec<sim::state::MessageRecord> {
    let reference = sms_reference(message_id);
    app.sim
        .as_ref()
        .unwrap()
        .messages()
        .into_iter()
        .filter(|m| m.body.ends_with(&reference))
        .collect()
}

fn emails_for(sink: &SmtpSink, message_id: Uuid) -> Vec<testkit::smtp::ReceivedEmail> {
    let wanted = format!("<message-{message_id}@switchboard>");
    sink.messages()
        .into_iter()
        .filter(|m| m.header("Message-ID") == Some(wanted.as_str()))
        .collect()
}

async fn message_view(app: &TestApp, message_id: Uuid) -> serde_json::Value {
    let response = app
        .get_api(&format!("/v1/messages/{message_id}"), &app.api_key)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn status_of(view: &serde_json::Value, channel: &str) -> String {
    view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == channel)
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {channel} delivery in {view}"))
}

#[tokio::test]
async fn a_message_for_an_employee_is_delivered_once_by_sms_email_and_signed_webhook() {
    let sink = SmtpSink::start(SmtpFaults::default()).await;
    let (app, receiver) = delivering_app(sim::FaultConfig::default(), Some(&sink)).await;
    let id = take_message(&app, dana(true, true)).await;

    deliver(&app, id).await;
    let result = delivery_result(&app, id).await;

    assert_eq!(result.channels.len(), 3, "{result:?}");
    let sms = sms_for(&app, id);
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0]
            .body
            .starts_with("Message for Dana Scully from Jordan (+14155550199): Please call back")
    );
    assert_eq!(sms[0].to, "+14155550123");
    let emails = emails_for(&sink, id);
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].rcpt_to, vec!["dana@example.com".to_owned()]);
    let hooks = receiver.accepted_for(id);
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].signature_valid);
    let event: serde_json::Value = serde_json::from_slice(&hooks[0].body).unwrap();
    assert_eq!(event["event"], "message.taken");
    assert_eq!(event["delivery_id"], hooks[0].delivery_id.as_str());
    assert_eq!(event["message"]["for"]["name"], "Dana Scully");

    let view = message_view(&app, id).await;
    for channel in ["sms", "email", "webhook"] {
        assert_eq!(status_of(&view, channel), "delivered", "{view}");
    }
    assert_eq!(view["delivered_via"].as_array().unwrap().len(), 3);
    assert_eq!(view["status"], "new", "the operator's status is untouched");
    assert_eq!(view["recipient"]["name"], "Dana Scully");

    // Asked again, nothing goes out twice.
    deliver(&app, id).await;
    delivery_result(&app, id).await;
    assert_eq!(sms_for(&app, id).len(), 1);
    assert_eq!(emails_for(&sink, id).len(), 1);
    assert_eq!(receiver.accepted_for(id).len(), 1);

    // The recorded history replays against today's workflow.
    fetch_and_replay::<MessageDeliveryWorkflow>(&app, &format!("message-{id}"), "the delivery")
        .await;
}

#[tokio::test]
async fn each_channel_is_delivered_exactly_once_through_twilio_smtp_and_webhook_failures() {
    let sink = SmtpSink::start(SmtpFaults {
        refuse_first: 1,
        drop_after_data: 0,
    })
    .await;
    let faults = sim::FaultConfig {
        seed: 7,
        rest_failure_rate: 0.2,
        rest_failure_kinds: vec![
            sim::faults::RestFailure::TooManyRequests,
            sim::faults::RestFailure::ServerError,
            sim::faults::RestFailure::Timeout,
        ],
        // Longer than the client's 2 s: the SMS is created, the client never hears.
        timeout_hold_ms: 3_000,
        timeout_after_effect: true,
        ..sim::FaultConfig::default()
    };
    let (app, receiver) = delivering_app(faults, Some(&sink)).await;
    *receiver.fail_first.lock().unwrap() = 1;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = take_message(&app, dana(true, true)).await;
        deliver(&app, id).await;
        ids.push(id);
    }
    for &id in &ids {
        delivery_result(&app, id).await;
        assert_eq!(sms_for(&app, id).len(), 1, "one SMS for {id}");
        assert_eq!(emails_for(&sink, id).len(), 1, "one email for {id}");
        let hooks = receiver.accepted_for(id);
        assert_eq!(hooks.len(), 1, "one accepted webhook for {id}");
        let view = message_view(&app, id).await;
        for channel in ["sms", "email", "webhook"] {
            assert_eq!(status_of(&view, channel), "delivered", "{view}");
        }
    }
    let bodies: HashSet<Vec<u8>> = receiver
        .hooks
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.accepted)
        .map(|h| h.body.clone())
        .collect();
    assert_eq!(bodies.len(), ids.len(), "no webhook body accepted twice");
    assert_eq!(sink.refused(), 1);
    let injected = app.sim.as_ref().unwrap().faults_injected();
    eprintln!("Twilio faults injected: {injected:?}");
    assert!(
        injected.too_many_requests + injected.server_errors + injected.timeouts > 0,
        "the run injected no Twilio fault: {injected:?}"
    );
}

/// The worker is stopped while the webhook endpoint holds its request, and a new one started.
/// The SDK's shutdown lets the attempt in flight finish (the endpoint answers after 4 s), so
/// this proves the replacement picks up the rest, not a crash between effect and record: that
/// case is built by hand in the next test.
#[tokio::test]
async fn a_worker_stopped_mid_delivery_is_replaced_and_each_channel_delivered_once() {
    let sink = SmtpSink::start(SmtpFaults::default()).await;
    let (mut app, receiver) = delivering_app(sim::FaultConfig::default(), Some(&sink)).await;
    // The endpoint holds the first request past the worker's stop.
    *receiver.hold_first.lock().unwrap() = Some(Duration::from_secs(4));
    let id = take_message(&app, dana(true, true)).await;
    deliver(&app, id).await;
    for _ in 0..100 {
        if !receiver.hooks.lock().unwrap().is_empty()
            || receiver.hold_first.lock().unwrap().is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop_worker().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.start_worker();

    let result = delivery_result(&app, id).await;
    eprintln!("result after the worker was replaced: {result:?}");
    assert_eq!(sms_for(&app, id).len(), 1);
    let emails = emails_for(&sink, id);
    eprintln!(
        "the SMTP sink saw {} copies, acknowledged: {:?}",
        emails.len(),
        emails.iter().map(|e| e.acknowledged).collect::<Vec<_>>()
    );
    assert_eq!(emails.len(), 1);
    let hooks: Vec<Hook> = receiver.hooks.lock().unwrap().clone();
    let accepted_ids: HashSet<&str> = hooks
        .iter()
        .filter(|h| h.accepted)
        .map(|h| h.delivery_id.as_str())
        .collect();
    eprintln!("the receiver saw {} requests", hooks.len());
    assert_eq!(
        accepted_ids.len(),
        1,
        "one delivery id, however many requests"
    );
    let view = message_view(&app, id).await;
    for channel in ["sms", "email", "webhook"] {
        assert_eq!(status_of(&view, channel), "delivered", "{view}");
    }
}

#[tokio::test]
async fn a_channel_that_does_not_apply_is_skipped_with_its_reason() {
    let (app, _receiver) = delivering_app(sim::FaultConfig::default(), None).await;
    let id = take_message(&app, dana(true, false)).await;
    deliver(&app, id).await;
    delivery_result(&app, id).await;

    let view = message_view(&app, id).await;
    assert_eq!(status_of(&view, "sms"), "delivered");
    assert_eq!(status_of(&view, "webhook"), "delivered");
    let email = view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "email")
        .unwrap();
    assert_eq!(email["status"], "skipped");
    assert_eq!(email["detail"], "the recipient has no email address");

    // With an email address but no SMTP, the reason says so.
    let id = take_message(&app, dana(false, true)).await;
    deliver(&app, id).await;
    delivery_result(&app, id).await;
    let view = message_view(&app, id).await;
    assert_eq!(status_of(&view, "sms"), "skipped");
    let email = view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "email")
        .unwrap();
    assert_eq!(email["detail"], "SMTP is not configured");
}

#[tokio::test]
async fn the_webhook_url_must_be_https_except_on_this_machine_and_its_secret_is_shown_once() {
    let app = spawn_app().await;
    let put = |url: &'static str| {
        app.http
            .put(format!("{}/v1/tenant/webhook", app.address))
            .bearer_auth(&app.api_key)
            .json(&serde_json::json!({"url": url}))
            .send()
    };
    let refused = put("http://example.com/hook").await.unwrap();
    assert_eq!(refused.status(), 400);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(problem.to_string().contains("url"), "{problem}");

    let created: serde_json::Value = put("https://crm.example.com/hook")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap();
    let shown: serde_json::Value = app
        .get_api("/v1/tenant/webhook", &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["url"], "https://crm.example.com/hook");
    assert!(secret.starts_with(shown["secret_prefix"].as_str().unwrap()));
    assert!(shown.get("secret").is_none());
    assert!(!shown.to_string().contains(secret));

    let audit = app
        .get_api("/v1/audit-log", &app.api_key)
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("tenant.webhook.set"));
    assert!(
        !audit.contains(secret),
        "the audit log never holds the secret"
    );

    let deleted = app
        .http
        .delete(format!("{}/v1/tenant/webhook", app.address))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get_api("/v1/tenant/webhook", &app.api_key)
            .await
            .status(),
        404
    );
}

/// The worst case, built by hand: an earlier attempt got its effect through and died before
/// recording it (the row says `sending`, one attempt). The SMS is found at Twilio and not sent
/// again; the email cannot be found, so it is sent again with the same Message-ID (the sink
/// dropped the first transaction's connection after DATA: it holds two copies, one
/// acknowledged, both with one Message-ID); the webhook's `Switchboard-Delivery` is its row's
/// id, the same on every attempt, which is what receivers de-duplicate on.
#[tokio::test]
async fn after_an_attempt_died_past_its_effect_sms_is_found_and_email_and_webhook_keep_their_ids() {
    let sink = SmtpSink::start(SmtpFaults {
        refuse_first: 0,
        drop_after_data: 1,
    })
    .await;
    let (app, receiver) = delivering_app(sim::FaultConfig::default(), Some(&sink)).await;
    let id = take_message(&app, dana(true, true)).await;
    let message = app.store.message(app.tenant, id).await.unwrap();
    let reference = sms_reference(id);
    let body = domain::message::sms_text(
        "Dana Scully",
        &message.caller_name,
        message.callback_number.as_deref(),
        &message.body,
        &reference,
    );
    let twilio = twilio_client(app.sim.as_ref().unwrap().base_url());
    let sent = twilio
        .send_sms("+14155550123", app.number.as_str(), &body, None)
        .await
        .unwrap();
    let sms = domain::message::DeliveryChannel::Sms;
    app.store
        .begin_delivery_attempt(app.tenant, id, sms)
        .await
        .unwrap();

    deliver(&app, id).await;
    delivery_result(&app, id).await;

    assert_eq!(sms_for(&app, id).len(), 1, "the SMS is not sent twice");
    let rows = app.store.message_deliveries(app.tenant, id).await.unwrap();
    let sms_row = rows.iter().find(|d| d.channel == sms).unwrap();
    assert_eq!(sms_row.provider_ref.as_deref(), Some(sent.sid.as_str()));
    assert_eq!(sms_row.attempts, 2);

    let emails = emails_for(&sink, id);
    assert_eq!(
        emails.len(),
        2,
        "SMTP cannot tell: a second copy, same Message-ID"
    );
    assert_eq!(
        emails.iter().map(|e| e.acknowledged).collect::<Vec<_>>(),
        vec![false, true]
    );
    let webhook = rows
        .iter()
        .find(|d| d.channel == domain::message::DeliveryChannel::Webhook)
        .unwrap();
    let hooks = receiver.accepted_for(id);
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].delivery_id, webhook.id.to_string());
}
