//! The simulator seen from a product: a tiny in-test axum app on 127.0.0.1:0 validates every
//! webhook's `X-Twilio-Signature` and answers TwiML; the sim is driven over its REST API
//! (mostly with the product's own `telephony::TwilioClient`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use base64::Engine as _;
use switchboard_sim::person::{Action, Answer, PersonScript};
use switchboard_sim::{
    CallEventKind, CallStatus, ConferenceStatus, FaultConfig, ParticipantStatus, RestFailure, Sim,
    SimConfig, SimHandle,
};
use telephony::rest::{CallInstructions, CreateCall, UpdateCall};
use telephony::{TwilioAuth, TwilioClient, TwilioError};

const WAIT: Duration = Duration::from_secs(20);

/// One webhook the product received.
#[derive(Debug, Clone)]
struct Hook {
    path: String,
    params: HashMap<String, String>,
    signature_ok: bool,
}

/// What the stream endpoint saw.
#[derive(Debug, Default, Clone)]
struct StreamSeen {
    signature_ok: bool,
    custom_parameters: HashMap<String, String>,
    call_sid: String,
    inbound_voiced_frames: usize,
    dtmf: String,
}

#[derive(Clone)]
struct Product {
    base: String,
    token: String,
    hooks: Arc<Mutex<Vec<Hook>>>,
    twiml: Arc<Mutex<HashMap<String, String>>>,
    stream: Arc<Mutex<StreamSeen>>,
}

impl Product {
    async fn start(token: &str) -> Product {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let product = Product {
            base: format!("http://{addr}"),
            token: token.to_owned(),
            hooks: Arc::default(),
            twiml: Arc::default(),
            stream: Arc::default(),
        };
        let app = Router::new()
            .route("/media", get(media))
            .route("/media-answer", get(media_answer))
            .route("/{*path}", any(webhook))
            .with_state(product.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        product
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn ws_url(&self) -> String {
        format!("{}/media", self.base.replace("http://", "ws://"))
    }

    /// Answers `path` with `<Response>{body}</Response>`.
    fn answer(&self, path: &str, body: &str) {
        self.twiml.lock().unwrap().insert(
            path.to_owned(),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>"),
        );
    }

    fn raw_answer(&self, path: &str, xml: &str) {
        self.twiml
            .lock()
            .unwrap()
            .insert(path.to_owned(), xml.to_owned());
    }

    fn hooks(&self, path: &str) -> Vec<Hook> {
        self.hooks
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    async fn wait_hooks(&self, path: &str, n: usize) -> Vec<Hook> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let hooks = self.hooks(path);
            if hooks.len() >= n || tokio::time::Instant::now() > deadline {
                return hooks;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn webhook(
    State(p): State<Product>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let url = format!("{}{}", p.base, uri);
    let signature = headers
        .get("X-Twilio-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let signature_ok = telephony::validate_signature(&p.token, &url, &params, signature);
    let path = uri.path().to_owned();
    p.hooks.lock().unwrap().push(Hook {
        path: path.clone(),
        params: params.into_iter().collect(),
        signature_ok,
    });
    let xml = p
        .twiml
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or_else(|| "<Response/>".into());
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

/// A bidirectional media stream endpoint: records what arrives, sends 600 ms of tone once the
/// start arrives, closes after it has heard 20 voiced frames from the caller (or 8 s).
async fn media(State(p): State<Product>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let signature = headers
        .get("X-Twilio-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let signature_ok = telephony::validate_signature(&p.token, &p.ws_url(), &[], &signature);
    p.stream.lock().unwrap().signature_ok = signature_ok;
    ws.on_upgrade(move |socket| run_media(p, socket))
}

async fn run_media(p: Product, mut socket: WebSocket) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.recv()).await {
        let Message::Text(text) = msg else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        match v["event"].as_str() {
            Some("start") => {
                {
                    let mut seen = p.stream.lock().unwrap();
                    seen.call_sid = v["start"]["callSid"].as_str().unwrap_or_default().into();
                    if let Some(obj) = v["start"]["customParameters"].as_object() {
                        for (k, val) in obj {
                            seen.custom_parameters
                                .insert(k.clone(), val.as_str().unwrap_or_default().into());
                        }
                    }
                }
                let sid = v["streamSid"].as_str().unwrap_or_default().to_owned();
                let tone = switchboard_sim::speech::tone(440.0, 600);
                for chunk in tone.chunks(160) {
                    let frame = serde_json::json!({
                        "event": "media",
                        "streamSid": sid,
                        "media": {"payload": base64::engine::general_purpose::STANDARD.encode(chunk)},
                    });
                    let _ = socket.send(Message::Text(frame.to_string().into())).await;
                }
            }
            Some("media") => {
                let payload = base64::engine::general_purpose::STANDARD
                    .decode(v["media"]["payload"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                if payload.iter().any(|&b| b != 0xFF && b != 0x7F) {
                    let mut seen = p.stream.lock().unwrap();
                    seen.inbound_voiced_frames += 1;
                    if seen.inbound_voiced_frames >= 20 {
                        break;
                    }
                }
            }
            Some("dtmf") => {
                p.stream.lock().unwrap().dtmf += v["dtmf"]["digit"].as_str().unwrap_or_default();
            }
            Some("stop") => break,
            _ => {}
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// A media stream endpoint that answers every caller utterance: 300 ms after the caller's
/// voice ends (the first unvoiced frame after voiced ones) it sends 400 ms of tone.
async fn media_answer(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut socket: WebSocket| async move {
        let mut sid = String::new();
        let mut voiced = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.recv()).await {
            let Message::Text(text) = msg else { continue };
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            match v["event"].as_str() {
                Some("start") => sid = v["streamSid"].as_str().unwrap_or_default().to_owned(),
                Some("media") => {
                    let payload = base64::engine::general_purpose::STANDARD
                        .decode(v["media"]["payload"].as_str().unwrap_or_default())
                        .unwrap_or_default();
                    if switchboard_sim::person::is_voiced(&payload) {
                        voiced = true;
                    } else if voiced {
                        voiced = false;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let tone = switchboard_sim::speech::tone(300.0, 400);
                        let frame = serde_json::json!({
                            "event": "media",
                            "streamSid": sid,
                            "media": {"payload": base64::engine::general_purpose::STANDARD.encode(&tone)},
                        });
                        let _ = socket.send(Message::Text(frame.to_string().into())).await;
                    }
                }
                Some("stop") => break,
                _ => {}
            }
        }
        let _ = socket.send(Message::Close(None)).await;
    })
}

async fn start_sim(config: SimConfig) -> (SimHandle, Product, TwilioClient) {
    let sim = Sim::start(config).await.unwrap();
    let product = Product::start(sim.auth_token()).await;
    let client = TwilioClient::new(
        sim.base_url(),
        sim.account_sid(),
        TwilioAuth::AuthToken(sim.auth_token().into()),
    )
    .unwrap();
    (sim, product, client)
}

fn human(actions: Vec<Action>) -> PersonScript {
    PersonScript {
        answer: Answer::Human,
        actions,
        answer_after_ms: 100,
    }
}

fn create(to: &str, instructions: CallInstructions) -> CreateCall {
    CreateCall {
        to: to.into(),
        from: "+15005550006".into(),
        instructions,
        status_callback: None,
        status_callback_events: Vec::new(),
        machine_detection: None,
        timeout_secs: None,
    }
}

#[tokio::test]
async fn outbound_call_sends_signed_status_callbacks_and_the_person_hears_say() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone("+15551230001", human(vec![]));
    product.answer("/voice", "<Say>Hello there</Say><Hangup/>");
    let mut req = create("+15551230001", CallInstructions::Url(product.url("/voice")));
    req.status_callback = Some(product.url("/status"));
    req.status_callback_events = ["initiated", "ringing", "answered", "completed"]
        .map(String::from)
        .to_vec();
    let call = client.create_call(&req).await.unwrap();
    assert!(call.sid.starts_with("CA") && call.sid.len() == 34);
    assert_eq!(call.status, "queued");
    assert_eq!(call.direction.as_deref(), Some("outbound-api"));

    let ended = sim.call(&call.sid).wait_ended(WAIT).await.unwrap();
    assert_eq!(ended.status, CallStatus::Completed);
    let hooks = product.wait_hooks("/status", 4).await;
    let statuses: Vec<&str> = hooks
        .iter()
        .map(|h| h.params["CallStatus"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["initiated", "ringing", "in-progress", "completed"]
    );
    for (i, h) in hooks.iter().enumerate() {
        assert!(h.signature_ok, "bad signature on {:?}", h.params);
        assert_eq!(h.params["CallSid"], call.sid);
        assert_eq!(h.params["AccountSid"], sim.account_sid());
        assert_eq!(h.params["Direction"], "outbound-api");
        assert_eq!(h.params["ApiVersion"], "2010-04-01");
        assert_eq!(h.params["From"], "+15005550006");
        assert_eq!(h.params["To"], "+15551230001");
        assert_eq!(h.params["CallbackSource"], "call-progress-events");
        assert_eq!(h.params["SequenceNumber"], i.to_string());
        assert!(h.params["Timestamp"].ends_with("+0000"));
    }
    assert!(hooks[3].params.contains_key("CallDuration"));
    let voice = product.hooks("/voice");
    assert_eq!(voice.len(), 1);
    assert!(voice[0].signature_ok);
    assert_eq!(voice[0].params["CallStatus"], "in-progress");

    let handle = sim.call(&call.sid);
    assert_eq!(handle.said_to_person(), ["Hello there"]);
    assert!(handle.heard_audio().len() > 8 * 300, "heard the Say audio");
    let fetched = client.fetch_call(&call.sid).await.unwrap();
    assert_eq!(fetched.status, "completed");
}

#[tokio::test]
async fn amd_detect_message_end_reports_machine_end_beep() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone(
        "+15551230002",
        PersonScript {
            answer: Answer::Machine { greeting_ms: 600 },
            actions: vec![],
            answer_after_ms: 100,
        },
    );
    product.answer("/amd", "<Say>Please call us back</Say>");
    let mut req = create("+15551230002", CallInstructions::Url(product.url("/amd")));
    req.machine_detection = Some("DetectMessageEnd".into());
    let call = client.create_call(&req).await.unwrap();
    let hooks = product.wait_hooks("/amd", 1).await;
    assert_eq!(hooks[0].params["AnsweredBy"], "machine_end_beep");
    assert!(hooks[0].signature_ok);
    let record = sim.call(&call.sid).wait_ended(WAIT).await.unwrap();
    assert_eq!(record.answered_by.as_deref(), Some("machine_end_beep"));
}

#[tokio::test]
async fn async_amd_posts_answered_by_to_its_callback() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    sim.register_phone("+15551230003", human(vec![Action::Say("Hello?".into())]));
    product.answer("/voice", "<Pause length=\"2\"/>");
    let http = reqwest::Client::new();
    let response = http
        .post(format!(
            "{}/2010-04-01/Accounts/{}/Calls.json",
            sim.base_url(),
            sim.account_sid()
        ))
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .form(&[
            ("To", "+15551230003"),
            ("From", "+15005550006"),
            ("Url", &product.url("/voice")),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &product.url("/amd-status")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let amd = product.wait_hooks("/amd-status", 1).await;
    assert_eq!(amd[0].params["AnsweredBy"], "human");
    assert!(amd[0].params.contains_key("MachineDetectionDuration"));
    assert!(!product.hooks("/voice")[0].params.contains_key("AnsweredBy"));
}

#[tokio::test]
async fn busy_no_answer_and_failed_numbers() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    let phone = |answer| PersonScript {
        answer,
        actions: vec![],
        answer_after_ms: 100,
    };
    sim.register_phone("+15551230010", phone(Answer::Busy));
    sim.register_phone("+15551230011", phone(Answer::NoAnswer));
    sim.register_phone("+15551230012", phone(Answer::Fail));
    let mut sids = Vec::new();
    for (to, timeout) in [
        ("+15551230010", None),
        ("+15551230011", Some(5)),
        ("+15551230012", None),
    ] {
        let mut req = create(to, CallInstructions::Url(product.url("/never")));
        req.status_callback = Some(product.url("/status"));
        req.timeout_secs = timeout;
        sids.push(client.create_call(&req).await.unwrap().sid);
    }
    let mut finals = Vec::new();
    for sid in &sids {
        finals.push(sim.call(sid).wait_ended(WAIT).await.unwrap().status);
    }
    assert_eq!(
        finals,
        [CallStatus::Busy, CallStatus::NoAnswer, CallStatus::Failed]
    );
    let hooks = product.wait_hooks("/status", 3).await;
    for (sid, status) in sids.iter().zip(["busy", "no-answer", "failed"]) {
        let hook = hooks.iter().find(|h| &h.params["CallSid"] == sid).unwrap();
        assert_eq!(hook.params["CallStatus"], status);
        assert!(hook.signature_ok);
    }
    assert!(product.hooks("/never").is_empty());
}

#[tokio::test]
async fn gather_posts_digits_to_action_and_runs_its_answer() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone(
        "+15551230020",
        human(vec![
            Action::WaitForQuiet {
                quiet_ms: 200,
                timeout_ms: 5000,
            },
            Action::Digits("42#".into()),
        ]),
    );
    product.answer(
        "/menu",
        "<Gather numDigits=\"5\" action=\"/gathered\"><Say>Press your code</Say></Gather><Say>No input</Say>",
    );
    product.answer("/gathered", "<Say>Thanks</Say>");
    let call = client
        .create_call(&create(
            "+15551230020",
            CallInstructions::Url(product.url("/menu")),
        ))
        .await
        .unwrap();
    sim.call(&call.sid).wait_ended(WAIT).await.unwrap();
    let gathered = product.hooks("/gathered");
    assert_eq!(gathered.len(), 1);
    assert_eq!(gathered[0].params["Digits"], "42");
    assert!(gathered[0].signature_ok);
    assert_eq!(
        sim.call(&call.sid).said_to_person(),
        ["Press your code", "Thanks"]
    );
}

#[tokio::test]
async fn gather_speech_is_the_persons_next_say() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone(
        "+15551230021",
        human(vec![
            Action::WaitForQuiet {
                quiet_ms: 200,
                timeout_ms: 5000,
            },
            Action::Say("I want to book".into()),
        ]),
    );
    product.answer(
        "/ask",
        "<Gather input=\"speech\" action=\"/heard\"><Say>How can I help</Say></Gather>",
    );
    let call = client
        .create_call(&create(
            "+15551230021",
            CallInstructions::Url(product.url("/ask")),
        ))
        .await
        .unwrap();
    sim.call(&call.sid).wait_ended(WAIT).await.unwrap();
    let heard = product.hooks("/heard");
    assert_eq!(heard[0].params["SpeechResult"], "I want to book");
    assert!(heard[0].params.contains_key("Confidence"));
}

#[tokio::test]
async fn inbound_connect_stream_carries_parameters_and_audio_both_ways() {
    let mut config = SimConfig::local();
    let product_placeholder = "+15557770000";
    config.numbers = Vec::new();
    let (sim, product, _client) = start_sim(config).await;
    sim.add_number(
        product_placeholder,
        &product.url("/incoming"),
        Some(&product.url("/status")),
    );
    product.answer(
        "/incoming",
        &format!(
            "<Connect><Stream url=\"{}\" statusCallback=\"{}\"><Parameter name=\"tenant\" value=\"acme\"/></Stream></Connect><Say>After stream</Say>",
            product.ws_url(),
            product.url("/stream-status")
        ),
    );
    let call = sim
        .place_inbound_call(
            "+15551112222",
            product_placeholder,
            human(vec![
                Action::Pause(300),
                Action::Say("Hello agent, I need help with my order".into()),
                Action::Digits("7".into()),
            ]),
        )
        .unwrap();
    let record = call.wait_ended(WAIT).await.unwrap();
    assert_eq!(record.status, CallStatus::Completed);
    assert_eq!(record.direction, "inbound");
    let incoming = product.hooks("/incoming");
    assert_eq!(incoming[0].params["CallStatus"], "ringing");
    assert_eq!(incoming[0].params["Direction"], "inbound");
    assert!(incoming[0].signature_ok);
    let seen = product.stream.lock().unwrap().clone();
    assert!(seen.signature_ok, "stream upgrade signed over its URL");
    assert_eq!(seen.call_sid, call.sid());
    assert_eq!(
        seen.custom_parameters.get("tenant").map(String::as_str),
        Some("acme")
    );
    assert!(seen.inbound_voiced_frames >= 20, "{seen:?}");
    assert!(
        call.heard_audio().len() >= 8 * 400,
        "the person heard the server's audio"
    );
    assert!(
        call.events()
            .iter()
            .any(|e| matches!(e.kind, CallEventKind::StreamAudio { .. }))
    );
    assert!(call.said_to_person().contains(&"After stream".to_owned()));
    let stream_status = product.wait_hooks("/stream-status", 2).await;
    let events: Vec<&str> = stream_status
        .iter()
        .map(|h| h.params["StreamEvent"].as_str())
        .collect();
    assert_eq!(events, ["stream-started", "stream-stopped"]);
    let completed = product.wait_hooks("/status", 1).await;
    assert_eq!(completed[0].params["CallStatus"], "completed");
}

#[tokio::test]
async fn rest_errors_have_twilio_json() {
    let (sim, _product, _client) = start_sim(SimConfig::local()).await;
    let http = reqwest::Client::new();
    let calls = format!(
        "{}/2010-04-01/Accounts/{}/Calls.json",
        sim.base_url(),
        sim.account_sid()
    );
    let check = |body: serde_json::Value, status: u16, code: u64| {
        assert_eq!(body["status"], status, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].is_string());
        assert_eq!(
            body["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}")
        );
    };
    // Wrong token.
    let r = http
        .get(&calls)
        .basic_auth(sim.account_sid(), Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    check(r.json().await.unwrap(), 401, 20003);
    // No credentials.
    let r = http.get(&calls).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Another account in the path.
    let other = calls.replace(sim.account_sid(), "ACffffffffffffffffffffffffffffffff");
    let r = http
        .get(&other)
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    check(r.json().await.unwrap(), 404, 20404);
    // Validation.
    for (form, code) in [
        (
            vec![("From", "+15005550006"), ("Url", "http://x.test/a")],
            21201,
        ),
        (
            vec![
                ("To", "12"),
                ("From", "+15005550006"),
                ("Url", "http://x.test/a"),
            ],
            21211,
        ),
        (
            vec![
                ("To", "+15551230001"),
                ("From", "+15005550006"),
                ("Url", "not a url"),
            ],
            21205,
        ),
        (
            vec![("To", "+15551230001"), ("Url", "http://x.test/a")],
            21213,
        ),
    ] {
        let r = http
            .post(&calls)
            .basic_auth(sim.account_sid(), Some(sim.auth_token()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        check(r.json().await.unwrap(), 400, code);
    }
    // Unknown call, through the product's client.
    let client = TwilioClient::new(
        sim.base_url(),
        sim.account_sid(),
        TwilioAuth::AuthToken(sim.auth_token().into()),
    )
    .unwrap();
    match client
        .fetch_call("CA00000000000000000000000000000000")
        .await
    {
        Err(TwilioError::Api { status, code, .. }) => assert_eq!((status, code), (404, 20404)),
        other => panic!("expected 404, got {other:?}"),
    }
    // An API key works.
    let mut config = SimConfig::local();
    config.api_keys = vec![("SK0123456789abcdef0123456789abcdef".into(), "secret".into())];
    let sim2 = Sim::start(config).await.unwrap();
    let keyed = TwilioClient::new(
        sim2.base_url(),
        sim2.account_sid(),
        TwilioAuth::ApiKey {
            sid: "SK0123456789abcdef0123456789abcdef".into(),
            secret: "secret".into(),
        },
    )
    .unwrap();
    let sent = keyed
        .send_sms("+15551230001", "+15005550006", "hi", None)
        .await
        .unwrap();
    assert!(sent.sid.starts_with("SM"));
}

#[tokio::test]
async fn fault_injection_fails_about_the_configured_rate_reproducibly() {
    async fn run() -> Vec<u16> {
        let mut config = SimConfig::local();
        config.faults = FaultConfig {
            seed: 42,
            rest_failure_rate: 0.25,
            rest_failure_kinds: vec![RestFailure::TooManyRequests, RestFailure::ServerError],
            ..FaultConfig::default()
        };
        let sim = Sim::start(config).await.unwrap();
        let http = reqwest::Client::new();
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls.json",
            sim.base_url(),
            sim.account_sid()
        );
        let mut statuses = Vec::new();
        for _ in 0..200 {
            let r = http
                .get(&url)
                .basic_auth(sim.account_sid(), Some(sim.auth_token()))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            if status == 429 {
                let body: serde_json::Value = r.json().await.unwrap();
                assert_eq!(body["code"], 20429);
            }
            statuses.push(status);
        }
        statuses
    }
    let a = run().await;
    let failed = a.iter().filter(|s| **s != 200).count();
    assert!((30..=70).contains(&failed), "{failed} of 200 failed");
    assert!(a.contains(&429) && a.contains(&500));
    assert_eq!(a, run().await, "same seed, same failures");
}

#[tokio::test]
async fn messages_create_list_fetch_and_deliver() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    let sent = client
        .send_sms(
            "+15551230030",
            "+15005550006",
            "Your appointment is at 3pm",
            Some(&product.url("/sms-status")),
        )
        .await
        .unwrap();
    assert!(sent.sid.starts_with("SM") && sent.sid.len() == 34);
    assert_eq!(sent.status, "queued");
    client
        .send_sms("+15551230031", "+15005550006", "Other", None)
        .await
        .unwrap();
    let statuses = product.wait_hooks("/sms-status", 2).await;
    let s: Vec<&str> = statuses
        .iter()
        .map(|h| h.params["MessageStatus"].as_str())
        .collect();
    assert_eq!(s, ["sent", "delivered"]);
    assert!(statuses.iter().all(|h| h.signature_ok));
    let http = reqwest::Client::new();
    let base = format!(
        "{}/2010-04-01/Accounts/{}",
        sim.base_url(),
        sim.account_sid()
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let list: serde_json::Value = http
        .get(format!("{base}/Messages.json"))
        .query(&[("To", "+15551230030"), ("DateSent", today.as_str())])
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["messages"].as_array().unwrap().len(), 1);
    assert_eq!(list["messages"][0]["body"], "Your appointment is at 3pm");
    assert_eq!(list["page"], 0);
    assert!(list["first_page_uri"].is_string());
    let fetched: serde_json::Value = http
        .get(format!("{base}/Messages/{}.json", sent.sid))
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["status"], "delivered");
    assert!(fetched["price"].is_null());
    match client
        .send_sms("+15551230030", "+15005550006", "", None)
        .await
    {
        Err(TwilioError::Api { code, .. }) => assert_eq!(code, 21602),
        other => panic!("expected 21602, got {other:?}"),
    }
    assert_eq!(sim.messages().len(), 2);
}

#[tokio::test]
async fn incoming_phone_numbers_buy_list_update_release() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let http = reqwest::Client::new();
    let base = format!(
        "{}/2010-04-01/Accounts/{}",
        sim.base_url(),
        sim.account_sid()
    );
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(sim.account_sid(), Some(sim.auth_token()));
    let available: serde_json::Value = auth(
        http.get(format!("{base}/AvailablePhoneNumbers/US/Local.json"))
            .query(&[("AreaCode", "212")]),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let number = available["available_phone_numbers"][0]["phone_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(number.starts_with("+1212"));
    let r = auth(http.post(format!("{base}/IncomingPhoneNumbers.json")))
        .form(&[
            ("PhoneNumber", number.as_str()),
            ("VoiceUrl", &product.url("/voice")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let bought: serde_json::Value = r.json().await.unwrap();
    let sid = bought["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("PN"));
    assert_eq!(bought["voice_url"], product.url("/voice"));
    let list: serde_json::Value = auth(http.get(format!("{base}/IncomingPhoneNumbers.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["incoming_phone_numbers"].as_array().unwrap().len(), 1);
    let updated: serde_json::Value =
        auth(http.post(format!("{base}/IncomingPhoneNumbers/{sid}.json")))
            .form(&[("VoiceUrl", product.url("/voice2"))])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(updated["voice_url"], product.url("/voice2"));
    // The number takes calls at its new VoiceUrl.
    let call = sim
        .place_inbound_call("+15550001111", &number, human(vec![]))
        .unwrap();
    call.wait_ended(WAIT).await.unwrap();
    assert_eq!(product.hooks("/voice2").len(), 1);
    let r = auth(http.delete(format!("{base}/IncomingPhoneNumbers/{sid}.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(sim.numbers().is_empty());
    let r = auth(http.delete(format!("{base}/IncomingPhoneNumbers/{sid}.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn conference_participants_add_update_remove() {
    let (sim, _product, _client) = start_sim(SimConfig::local()).await;
    sim.register_phone("+15551230040", human(vec![]));
    sim.register_phone("+15551230041", human(vec![]));
    let http = reqwest::Client::new();
    let base = format!(
        "{}/2010-04-01/Accounts/{}",
        sim.base_url(),
        sim.account_sid()
    );
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(sim.account_sid(), Some(sim.auth_token()));
    let mut call_sids = Vec::new();
    for (to, label) in [("+15551230040", "customer"), ("+15551230041", "agent")] {
        let r = auth(http.post(format!("{base}/Conferences/support-room/Participants.json")))
            .form(&[("From", "+15005550006"), ("To", to), ("Label", label)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["label"], label);
        call_sids.push(p["call_sid"].as_str().unwrap().to_owned());
    }
    let conf = sim
        .conferences()
        .into_iter()
        .find(|c| c.friendly_name == "support-room")
        .unwrap();
    // Both answer and join.
    let deadline = tokio::time::Instant::now() + WAIT;
    while sim
        .participants(&conf.sid)
        .iter()
        .filter(|p| p.status == ParticipantStatus::Connected)
        .count()
        < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "participants never connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list: serde_json::Value = auth(http.get(format!("{base}/Conferences.json")))
        .query(&[("FriendlyName", "support-room"), ("Status", "in-progress")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conferences"][0]["sid"], conf.sid);
    let participants: serde_json::Value =
        auth(http.get(format!("{base}/Conferences/{}/Participants.json", conf.sid)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(participants["participants"].as_array().unwrap().len(), 2);
    // Mute the customer by label.
    let muted: serde_json::Value = auth(http.post(format!(
        "{base}/Conferences/{}/Participants/customer.json",
        conf.sid
    )))
    .form(&[("Muted", "true"), ("Hold", "true")])
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(muted["muted"], true);
    assert_eq!(muted["hold"], true);
    assert_eq!(muted["call_sid"], call_sids[0]);
    // Remove both: the conference ends.
    for sid in &call_sids {
        let r = auth(http.delete(format!(
            "{base}/Conferences/{}/Participants/{sid}.json",
            conf.sid
        )))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 204);
    }
    for sid in &call_sids {
        assert_eq!(
            sim.call(sid).wait_ended(WAIT).await.unwrap().status,
            CallStatus::Completed
        );
    }
    let fetched: serde_json::Value =
        auth(http.get(format!("{base}/Conferences/{}.json", conf.sid)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(fetched["status"], "completed");
}

#[tokio::test]
async fn bad_twiml_and_unreachable_urls_end_the_call_with_notifications() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone("+15551230050", human(vec![]));
    product.raw_answer("/broken", "<Response><Say>unclosed");
    let call = client
        .create_call(&create(
            "+15551230050",
            CallInstructions::Url(product.url("/broken")),
        ))
        .await
        .unwrap();
    assert_eq!(
        sim.call(&call.sid).wait_ended(WAIT).await.unwrap().status,
        CallStatus::Completed
    );
    let call2 = client
        .create_call(&create(
            "+15551230050",
            CallInstructions::Url("http://127.0.0.1:9/nothing-here".into()),
        ))
        .await
        .unwrap();
    sim.call(&call2.sid).wait_ended(WAIT).await.unwrap();
    let codes: Vec<(Option<String>, u32)> = sim
        .notifications()
        .into_iter()
        .map(|n| (n.call_sid, n.error_code))
        .collect();
    assert!(
        codes.contains(&(Some(call.sid.clone()), 12100)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(Some(call2.sid.clone()), 11200)),
        "{codes:?}"
    );
}

#[tokio::test]
async fn rest_update_redirects_and_hangs_up_live_calls() {
    let (sim, _product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone("+15551230060", human(vec![]));
    let call = client
        .create_call(&create(
            "+15551230060",
            CallInstructions::Twiml("<Response><Pause length=\"30\"/></Response>".into()),
        ))
        .await
        .unwrap();
    let handle = sim.call(&call.sid);
    handle
        .wait_for_status(CallStatus::InProgress, WAIT)
        .await
        .unwrap();
    client
        .update_call(
            &call.sid,
            &UpdateCall::Twiml(
                "<Response><Say>Redirected</Say><Pause length=\"30\"/></Response>".into(),
            ),
        )
        .await
        .unwrap();
    handle
        .wait_for_event(
            WAIT,
            |k| matches!(k, CallEventKind::CallSaid { text } if text == "Redirected"),
        )
        .await
        .unwrap();
    let updated = client
        .update_call(&call.sid, &UpdateCall::Hangup)
        .await
        .unwrap();
    assert_eq!(updated.status, "completed");
    // A ringing call can be canceled.
    sim.register_phone(
        "+15551230061",
        PersonScript {
            answer: Answer::Human,
            actions: vec![],
            answer_after_ms: 10_000,
        },
    );
    let ringing = client
        .create_call(&create(
            "+15551230061",
            CallInstructions::Twiml("<Response/>".into()),
        ))
        .await
        .unwrap();
    sim.call(&ringing.sid)
        .wait_for_status(CallStatus::Ringing, WAIT)
        .await
        .unwrap();
    let canceled = client
        .update_call(&ringing.sid, &UpdateCall::Cancel)
        .await
        .unwrap();
    assert_eq!(canceled.status, "canceled");
}

#[tokio::test]
async fn control_api_places_calls_and_streams_events() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    sim.add_number("+15557770001", &product.url("/hello"), None);
    product.answer("/hello", "<Say>Welcome</Say>");
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/_sim/calls", sim.base_url()))
        .json(&serde_json::json!({
            "from": "+15550002222",
            "to": "+15557770001",
            "person": human(vec![]),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sid = r.json::<serde_json::Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut after = 0;
    let mut texts = Vec::new();
    loop {
        let page: serde_json::Value = http
            .get(format!("{}/_sim/calls/{sid}/events", sim.base_url()))
            .query(&[("after", after.to_string()), ("wait_ms", "2000".into())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["events"].as_array().unwrap() {
            texts.push(e["type"].as_str().unwrap().to_owned());
        }
        after = page["next"].as_u64().unwrap() as usize;
        if page["ended"] == true {
            break;
        }
    }
    assert!(texts.contains(&"call_said".to_owned()), "{texts:?}");
    assert!(texts.contains(&"hung_up".to_owned()), "{texts:?}");
    let summary: serde_json::Value = http
        .get(format!("{}/_sim/summary", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["calls"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn dial_number_bridges_the_callee_and_posts_dial_call_status() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    sim.add_number("+15557770002", &product.url("/transfer"), None);
    sim.register_phone(
        "+15551230070",
        human(vec![Action::Say("Hi it is Bob".into()), Action::HangUp]),
    );
    product.answer(
        "/transfer",
        "<Dial action=\"/dialed\" timeout=\"10\"><Number>+15551230070</Number></Dial>",
    );
    product.answer("/dialed", "<Say>Goodbye</Say>");
    let call = sim
        .place_inbound_call("+15550003333", "+15557770002", human(vec![]))
        .unwrap();
    call.wait_ended(WAIT).await.unwrap();
    let dialed = product.hooks("/dialed");
    assert_eq!(dialed[0].params["DialCallStatus"], "completed");
    let child = dialed[0].params["DialCallSid"].clone();
    let child_record = sim.call(&child).record().unwrap();
    assert_eq!(child_record.direction, "outbound-dial");
    assert_eq!(child_record.parent_call_sid.as_deref(), Some(call.sid()));
    assert_eq!(call.said_to_person(), ["Hi it is Bob", "Goodbye"]);
}

#[tokio::test]
async fn rest_timeout_fault_holds_the_request_and_still_creates_the_call() {
    let mut config = SimConfig::local();
    config.faults = FaultConfig {
        rest_failure_rate: 1.0,
        rest_failure_kinds: vec![RestFailure::Timeout],
        timeout_hold_ms: 300,
        timeout_after_effect: true,
        ..FaultConfig::default()
    };
    let (sim, _product, client) = start_sim(config).await;
    let started = std::time::Instant::now();
    let result = client
        .create_call(&create(
            "+15551230080",
            CallInstructions::Twiml("<Response/>".into()),
        ))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    match result {
        Err(TwilioError::Api { status, .. }) => assert_eq!(status, 504),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(sim.calls().len(), 1, "the operation happened anyway");
}

#[tokio::test]
async fn record_posts_the_recording_to_action_and_serves_it() {
    let (sim, product, client) = start_sim(SimConfig::local()).await;
    sim.register_phone(
        "+15551230090",
        human(vec![
            Action::WaitForQuiet {
                quiet_ms: 200,
                timeout_ms: 5000,
            },
            Action::Say("This is my message".into()),
            Action::Digits("#".into()),
        ]),
    );
    product.answer(
        "/vm",
        "<Say>Leave a message</Say><Record action=\"/recorded\" timeout=\"3\"/>",
    );
    let call = client
        .create_call(&create(
            "+15551230090",
            CallInstructions::Url(product.url("/vm")),
        ))
        .await
        .unwrap();
    sim.call(&call.sid).wait_ended(WAIT).await.unwrap();
    let recorded = product.hooks("/recorded");
    assert_eq!(recorded[0].params["Digits"], "#");
    assert!(recorded[0].params["RecordingSid"].starts_with("RE"));
    let url = recorded[0].params["RecordingUrl"].clone();
    let wav = reqwest::Client::new()
        .get(format!("{url}.wav"))
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    let bytes = wav.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert!(bytes.len() > 8 * 500);
}

// ---------------------------------------------------------------------------------------
// Conference audio: people dialled into `<Dial><Conference>` hear the mix in real time.

/// Indices of the 20 ms frames of `audio` (8 kHz μ-law) that are not silence.
fn sound_frames(audio: &[u8]) -> Vec<usize> {
    audio
        .chunks(160)
        .enumerate()
        .filter(|(_, f)| f.iter().any(|&b| b != 0xFF && b != 0x7F))
        .map(|(i, _)| i)
        .collect()
}

/// Calls in, one per person, each answered with `<Dial><Conference {attrs}>room</Conference>`
/// (beeps off unless `attrs` says otherwise); waits until all are connected. Returns the
/// calls (in order) and the conference sid.
async fn conference_of(
    sim: &SimHandle,
    product: &Product,
    room: &str,
    people: Vec<(&str, PersonScript)>,
) -> (Vec<switchboard_sim::CallHandle>, String) {
    let mut calls = Vec::new();
    for (i, (attrs, script)) in people.into_iter().enumerate() {
        let number = format!("+1555777{:04}", i);
        let path = format!("/{room}/{i}");
        let attrs = if attrs.contains("beep=") {
            attrs.to_owned()
        } else {
            format!("beep=\"false\" {attrs}")
        };
        product.answer(
            &path,
            &format!("<Dial><Conference {attrs}>{room}</Conference></Dial>"),
        );
        sim.add_number(&number, &product.url(&path), None);
        calls.push(
            sim.place_inbound_call(&format!("+1555666{:04}", i), &number, script)
                .unwrap(),
        );
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let conf = sim
            .conferences()
            .into_iter()
            .find(|c| c.friendly_name == room && c.status != ConferenceStatus::Completed);
        if let Some(conf) = conf {
            let connected = sim
                .participants(&conf.sid)
                .iter()
                .filter(|p| p.status == ParticipantStatus::Connected)
                .count();
            if connected == calls.len() {
                return (calls, conf.sid);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never all connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Updates a participant over REST.
async fn update_participant(
    sim: &SimHandle,
    conf_sid: &str,
    call_sid: &str,
    form: &[(&str, &str)],
) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{}/Conferences/{conf_sid}/Participants/{call_sid}.json",
            sim.base_url(),
            sim.account_sid()
        ))
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn conference_participants_hear_each_other_in_real_time_not_themselves() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let text = "Hello Bob this is Alice speaking";
    // The voice the runner uses (flite or espeak-ng when installed, else synthetic); what
    // counts is the span from its first to its last frame with sound.
    let audio = switchboard_sim::speech::speak(text).await;
    let spoken = sound_frames(&audio);
    let speech_ms = (spoken[spoken.len() - 1] - spoken[0] + 1) * 20;
    let (calls, _conf) = conference_of(
        &sim,
        &product,
        "room",
        vec![
            (
                "",
                human(vec![Action::Pause(1000), Action::Say(text.into())]),
            ),
            ("", human(vec![])),
        ],
    )
    .await;
    // Her whole utterance, then long enough for the listener to close the stretch.
    tokio::time::sleep(Duration::from_millis(1500 + audio.len() as u64 / 8 + 600)).await;
    let (alice, bob) = (calls[0].heard_audio(), calls[1].heard_audio());
    assert!(alice.len() > 8 * 1000, "alice gets the mix every tick");
    assert!(
        sound_frames(&alice).is_empty(),
        "alice does not hear herself"
    );
    let frames = sound_frames(&bob);
    let (first, last) = (frames[0] * 20, frames[frames.len() - 1] * 20 + 20);
    // Bob joined at about the time Alice's call started: her words start after her 1 s pause
    // in what he heard (later when the two calls were set up further apart, as on a loaded
    // machine: 1460 ms seen) and last as long as she spoke, which is what "real time" means.
    assert!((600..=2500).contains(&first), "speech starts at {first} ms");
    let heard_ms = last - first;
    assert!(
        heard_ms + 300 >= speech_ms && heard_ms <= speech_ms + 300,
        "heard {heard_ms} ms of {speech_ms} ms"
    );
    assert_eq!(
        calls[1].said_to_person(),
        [format!("[{}] {text}", calls[0].sid())]
    );
    assert!(
        calls[1]
            .events()
            .iter()
            .any(|e| matches!(e.kind, CallEventKind::StreamAudio { .. }))
    );
}

#[tokio::test]
async fn conference_muted_participant_is_not_heard_but_hears() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let (calls, _conf) = conference_of(
        &sim,
        &product,
        "muted-room",
        vec![
            (
                "muted=\"true\"",
                human(vec![
                    Action::Pause(500),
                    Action::Say("can you hear me".into()),
                ]),
            ),
            (
                "",
                human(vec![Action::Pause(1500), Action::Say("yes I can".into())]),
            ),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(sound_frames(&calls[1].heard_audio()).is_empty());
    assert!(!sound_frames(&calls[0].heard_audio()).is_empty());
}

#[tokio::test]
async fn conference_held_participant_hears_hold_music_and_is_not_heard() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let (calls, conf) = conference_of(
        &sim,
        &product,
        "hold-room",
        vec![
            ("", human(vec![])),
            (
                "",
                human(vec![
                    Action::Pause(2000),
                    Action::Say("am I on hold".into()),
                ]),
            ),
        ],
    )
    .await;
    update_participant(
        &sim,
        &conf,
        calls[1].sid(),
        &[("Hold", "true"), ("HoldUrl", "http://example.com/music")],
    )
    .await;
    let held_from = calls[1].heard_audio().len() / 160 + 2;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(
        sound_frames(&calls[0].heard_audio()).is_empty(),
        "the held participant is not heard"
    );
    let held = calls[1].heard_audio();
    let total = held.len() / 160;
    let music = sound_frames(&held)
        .into_iter()
        .filter(|&i| i >= held_from)
        .count();
    assert!(
        music * 10 >= (total - held_from) * 9,
        "hold music in {music} of {} frames",
        total - held_from
    );
    // Unheld, the participant hears the others again (silence here) instead of music.
    update_participant(&sim, &conf, calls[1].sid(), &[("Hold", "false")]).await;
    let unheld_from = calls[1].heard_audio().len() / 160 + 2;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        sound_frames(&calls[1].heard_audio())
            .iter()
            .all(|&i| i < unheld_from)
    );
}

#[tokio::test]
async fn conference_coach_is_heard_only_by_its_coachee() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let (calls, conf) = conference_of(
        &sim,
        &product,
        "coach-room",
        vec![
            (
                "",
                human(vec![
                    Action::Pause(3500),
                    Action::Say("I want a refund".into()),
                ]),
            ),
            ("", human(vec![])),
            (
                "",
                human(vec![
                    Action::Pause(2000),
                    Action::Say("offer a voucher".into()),
                ]),
            ),
        ],
    )
    .await;
    let (customer, agent, coach) = (&calls[0], &calls[1], &calls[2]);
    update_participant(
        &sim,
        &conf,
        coach.sid(),
        &[("Coaching", "true"), ("CallSidToCoach", agent.sid())],
    )
    .await;
    // The coach speaks at 2 s, the customer at 3.5 s.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert!(
        sound_frames(&customer.heard_audio()).is_empty(),
        "the customer does not hear the coach"
    );
    assert!(
        !sound_frames(&agent.heard_audio()).is_empty(),
        "the agent hears the coach"
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(
        !sound_frames(&coach.heard_audio()).is_empty(),
        "the coach hears the customer"
    );
    assert!(sound_frames(&customer.heard_audio()).is_empty());
}

#[tokio::test]
async fn conference_beeps_on_join_and_waits_with_music_for_a_starter() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let (calls, conf) = conference_of(
        &sim,
        &product,
        "wait-room",
        vec![(
            "beep=\"true\" startConferenceOnEnter=\"false\"",
            human(vec![]),
        )],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = calls[0].heard_audio();
    assert!(
        sound_frames(&waiting).len() * 10 >= (waiting.len() / 160) * 9,
        "waiting music before a starter joins"
    );
    assert_eq!(
        sim.conferences()
            .iter()
            .find(|c| c.sid == conf)
            .unwrap()
            .status,
        ConferenceStatus::Init
    );
    // A starter joins (with a beep): the music stops; the first hears the beep, then silence.
    product.answer(
        "/wait-room/starter",
        "<Dial><Conference beep=\"true\">wait-room</Conference></Dial>",
    );
    sim.add_number("+15557779999", &product.url("/wait-room/starter"), None);
    let starter = sim
        .place_inbound_call("+15556669999", "+15557779999", human(vec![]))
        .unwrap();
    starter
        .wait_for_status(CallStatus::InProgress, WAIT)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let heard = calls[0].heard_audio();
    let tail = &heard[heard.len() - 8 * 500..];
    assert!(sound_frames(tail).is_empty(), "quiet once started");
    assert!(
        !sound_frames(&starter.heard_audio()).is_empty(),
        "the starter hears the beep"
    );
}

#[tokio::test]
async fn conference_ends_for_everyone_when_an_end_on_exit_participant_leaves() {
    let (sim, product, _client) = start_sim(SimConfig::local()).await;
    let (calls, conf) = conference_of(
        &sim,
        &product,
        "end-room",
        vec![
            (
                "endConferenceOnExit=\"true\"",
                human(vec![Action::Pause(500), Action::HangUp]),
            ),
            ("", human(vec![])),
        ],
    )
    .await;
    for call in &calls {
        assert_eq!(
            call.wait_ended(WAIT).await.unwrap().status,
            CallStatus::Completed
        );
    }
    let ended = sim
        .conferences()
        .into_iter()
        .find(|c| c.sid == conf)
        .unwrap();
    assert_eq!(ended.status, ConferenceStatus::Completed);
    assert_eq!(
        ended.reason_conference_ended.as_deref(),
        Some("participant-with-end-conference-on-exit-left")
    );
}

#[tokio::test]
async fn stream_calls_log_the_voice_to_voice_latency_of_each_turn() {
    let mut config = SimConfig::local();
    let number = "+15557770001";
    config.numbers = Vec::new();
    let (sim, product, _client) = start_sim(config).await;
    sim.add_number(number, &product.url("/incoming"), None);
    let ws_url = format!("{}/media-answer", product.base.replace("http://", "ws://"));
    product.answer(
        "/incoming",
        &format!("<Connect><Stream url=\"{ws_url}\"/></Connect>"),
    );
    let say = |label: &str, ms: u32| Action::SayAudio {
        label: label.into(),
        mulaw: switchboard_sim::speech::tone(440.0, ms),
    };
    let wait = Action::WaitForQuiet {
        quiet_ms: 500,
        timeout_ms: 5000,
    };
    let call = sim
        .place_inbound_call(
            "+15551112222",
            number,
            human(vec![
                Action::Pause(300),
                say("one", 400),
                wait.clone(),
                say("two", 300),
                wait,
                // Nobody answers a line said as the caller hangs up.
                say("three", 200),
                Action::Pause(100),
                Action::HangUp,
            ]),
        )
        .unwrap();
    call.wait_ended(WAIT).await.unwrap();
    let turns: Vec<CallEventKind> = call
        .events()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| {
            matches!(
                k,
                CallEventKind::AgentAnswered { .. }
                    | CallEventKind::TurnUnanswered { .. }
                    | CallEventKind::TurnOverlapped { .. }
            )
        })
        .collect();
    assert_eq!(turns.len(), 3, "{turns:?}");
    for (i, turn) in turns[..2].iter().enumerate() {
        let CallEventKind::AgentAnswered { turn, after_ms } = turn else {
            panic!("{turns:?}")
        };
        assert_eq!(*turn, i + 1);
        // The endpoint's 300 ms, up to a 20 ms tick late, plus scheduling.
        assert!((300..=420).contains(after_ms), "{turns:?}");
    }
    assert_eq!(turns[2], CallEventKind::TurnUnanswered { turn: 3 });
}
