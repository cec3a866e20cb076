//! Call data in Temporal is encrypted: a call's history read straight from Temporal (no codec)
//! holds neither the caller's number nor what they said; the codec endpoint decrypts it for a
//! token with `payloads:decode`, and refuses anyone without a valid token.

use crate::helpers::*;
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use sim::{MediaStreamClient, PhoneEventKind};
use std::{sync::Arc, time::Duration};
use temporalio_client::WorkflowFetchHistoryOptions;
use testkit::{deepgram::FakeDeepgram, openai_tts::FakeOpenAiTts};
use voice::{
    catalog::EngineCatalog,
    engines::cascaded::Cascaded,
    stt::deepgram::{DeepgramConfig, DeepgramStt},
    tts::openai::{OpenAiTts, OpenAiTtsConfig},
};
use workflows::CallWorkflow;

/// What the caller says: distinctive enough that finding it anywhere means it leaked.
const PHRASE: &str = "Zebedee Quartermaine";

/// Every way the caller's number could be written.
fn number_forms() -> [&'static str; 3] {
    [CALLER, &CALLER[1..], &CALLER[2..]]
}

async fn wait_marks(phone: &MediaStreamClient, n: usize) {
    phone
        .wait_for(
            |o| {
                o.events
                    .iter()
                    .filter(|e| matches!(e.kind, PhoneEventKind::MarkEchoed { .. }))
                    .count()
                    >= n
            },
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|e| panic!("the phone never heard utterance #{n}: {e}"));
}

/// A two-turn cascaded call with the rule-based receptionist; returns the app and call SID.
async fn a_finished_call() -> (TestApp, String) {
    let stt = FakeDeepgram::start(vec![
        format!("Hi, this is {PHRASE}, my back molar is aching."),
        "What are your opening hours?".into(),
    ])
    .await;
    let tts = FakeOpenAiTts::start().await;
    let mut stt_config = DeepgramConfig::new("test-deepgram-key");
    stt_config.url = stt.url();
    let mut tts_config = OpenAiTtsConfig::new("test-tts-key");
    tts_config.base_url = tts.base_url();
    let cascaded = Cascaded::new(
        Arc::new(DeepgramStt::new(stt_config)),
        Arc::new(OpenAiTts::new(tts_config).unwrap()),
    );
    let app = spawn_app_with(AppOptions {
        engine: "cascaded".into(),
        engines: EngineCatalog::new().with(Arc::new(cascaded)),
        greeting: "Hello, Acme Dental.".into(),
        rules_dialog: true,
        ..AppOptions::default()
    })
    .await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;
    wait_marks(&phone, 1).await;
    phone.say_tone(300.0, 900);
    wait_marks(&phone, 2).await;
    phone.say_tone(300.0, 900);
    wait_marks(&phone, 3).await;
    phone.hang_up().await.unwrap();
    app.complete_call(&call_sid, 9).await;
    app.call_result(&call_sid).await;
    (app, call_sid)
}

/// The call's history as Temporal serves it, through a client with no codec.
async fn raw_history(app: &TestApp, call_sid: &str) -> (Vec<u8>, Vec<Vec<u8>>) {
    let plain = worker::connect(&app.settings.temporal_address, "default")
        .await
        .unwrap();
    let history = plain
        .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"))
        .fetch_history(WorkflowFetchHistoryOptions::default());
    let events: Vec<_> = futures::TryStreamExt::try_collect(history).await.unwrap();
    let protobuf = events
        .iter()
        .map(prost::Message::encode_to_vec)
        .collect::<Vec<_>>();
    let json = plain
        .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"))
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    (json, protobuf)
}

/// Every payload (`{"metadata": {...}, "data": ...}`) anywhere in a history's JSON.
fn payloads_in(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map
                .get("metadata")
                .is_some_and(|m| m.get("encoding").is_some())
            {
                found.push(value.clone());
                return;
            }
            map.values().for_each(|v| payloads_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| payloads_in(v, found)),
        _ => {}
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn is_encrypted(payload: &Value) -> bool {
    payload["metadata"]["encoding"] == STANDARD.encode(codec::ENCRYPTED_ENCODING)
}

fn data_of(payload: &Value) -> Vec<u8> {
    STANDARD
        .decode(payload["data"].as_str().unwrap_or_default())
        .unwrap()
}

#[tokio::test]
async fn call_data_in_temporal_is_encrypted_and_the_codec_endpoint_decrypts_it_for_a_valid_token() {
    let (app, call_sid) = a_finished_call().await;
    let (json, events) = raw_history(&app, &call_sid).await;

    // Straight from Temporal: nothing in clear, in any encoding of the history.
    let history: Value = serde_json::from_slice(&json).unwrap();
    let mut payloads = Vec::new();
    payloads_in(&history, &mut payloads);
    assert!(payloads.len() > 10, "{} payloads", payloads.len());
    // In clear: only the search attributes (no personal data), the workflow's summary, which
    // the API masks (the start request's summary is not run through the codec by the SDK), the
    // SDK's own patch markers, which name a code change, and its local-activity markers' own
    // record of which activity ran when (the activity's result beside it is encrypted).
    for p in payloads.iter().filter(|p| !is_encrypted(p)) {
        let text = String::from_utf8_lossy(&data_of(p)).into_owned();
        let search_attribute = p["metadata"].get("type").is_some();
        let patch_marker = serde_json::from_str::<Value>(&text).is_ok_and(|v| {
            v.get("deprecated").is_some()
                && v.as_object().is_some_and(|o| o.len() == 2)
                && v["id"].as_str().is_some_and(|id| !id.contains('+'))
        });
        let local_activity_marker = serde_json::from_str::<Value>(&text).is_ok_and(|v| {
            v.as_object().is_some_and(|o| {
                o.keys().all(|k| {
                    [
                        "seq",
                        "attempt",
                        "activity_id",
                        "activity_type",
                        "complete_time",
                        "backoff",
                        "original_schedule_time",
                        "activation_index",
                    ]
                    .contains(&k.as_str())
                })
            }) && v["activity_type"] == "llm_turn"
        });
        assert!(
            search_attribute
                || patch_marker
                || local_activity_marker
                || text.starts_with("\"Inbound +1•"),
            "unencrypted: {text}"
        );
    }
    for secret in number_forms().into_iter().chain([PHRASE]) {
        assert!(!contains(&json, secret), "`{secret}` in the history's JSON");
        for (i, event) in events.iter().enumerate() {
            assert!(!contains(event, secret), "`{secret}` in event {i}");
        }
        for payload in &payloads {
            assert!(
                !contains(&data_of(payload), secret),
                "`{secret}` in {payload}"
            );
        }
    }
    let encrypted = payloads.iter().filter(|p| is_encrypted(p)).count();
    println!(
        "history of one call: {} events, {} payloads, {encrypted} encrypted, {} bytes of payload data",
        events.len(),
        payloads.len(),
        payloads.iter().map(|p| data_of(p).len()).sum::<usize>()
    );

    // Through the codec endpoint, with the tenant owner's API key: in clear.
    let url = format!("{}/codec/decode", app.address);
    let body = json!({ "payloads": payloads });
    let response = app
        .http
        .post(&url)
        .bearer_auth(&app.api_key)
        .header("X-Namespace", "default")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let decoded: Value = response.json().await.unwrap();
    let decoded = decoded["payloads"].as_array().unwrap();
    assert_eq!(decoded.len(), payloads.len());
    let plain: Vec<u8> = decoded.iter().flat_map(data_of).collect();
    assert!(contains(&plain, PHRASE), "the transcript decodes");
    assert!(contains(&plain, CALLER), "the caller's number decodes");
    print_payload_sizes(decoded);

    // Without a token, or with a made-up one: refused.
    let anonymous = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let forged = app
        .http
        .post(&url)
        .bearer_auth("sk_not_a_real_key")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let garbage = app
        .http
        .post(&url)
        .bearer_auth("eyJhbGciOiJIUzI1NiJ9.e30.garbage")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
}

/// The sizes the codec benchmark mirrors (`codec/benches/codec_cost.rs`).
fn print_payload_sizes(decoded: &[Value]) {
    let mut sizes: Vec<usize> = decoded.iter().map(|p| data_of(p).len()).collect();
    sizes.sort_unstable();
    println!(
        "decoded payload sizes (bytes): {sizes:?}; total {}",
        sizes.iter().sum::<usize>()
    );
}

#[tokio::test]
async fn the_codec_endpoints_round_trip_and_name_the_field_of_a_bad_body() {
    let app = spawn_app().await;
    let post = |path: &'static str, body: Value| {
        let request = app
            .http
            .post(format!("{}{path}", app.address))
            .bearer_auth(&app.api_key)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let original = json!({ "payloads": [{
        "metadata": { "encoding": STANDARD.encode("json/plain") },
        "data": STANDARD.encode(format!("\"{CALLER}\"")),
    }]});
    let encoded: Value = post("/codec/encode", original.clone())
        .await
        .json()
        .await
        .unwrap();
    let sealed = &encoded["payloads"][0];
    assert_eq!(
        sealed["metadata"]["encoding"],
        STANDARD.encode("binary/encrypted")
    );
    assert_eq!(
        sealed["metadata"]["encryption-key-id"],
        STANDARD.encode("test")
    );
    assert!(!contains(&data_of(sealed), &CALLER[2..]));
    let decoded: Value = post("/codec/decode", encoded.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decoded, original);

    for (body, field) in [
        (json!({}), "payloads"),
        (json!({ "payloads": [{ "data": "%%%" }] }), "data"),
        (
            json!({ "payloads": [{ "metadata": { "encoding": "%%%" }, "data": "" }] }),
            "metadata",
        ),
    ] {
        let response = post("/codec/decode", body).await;
        assert_eq!(response.status(), 400);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    let mut tampered = encoded.clone();
    tampered["payloads"][0]["data"] = json!(STANDARD.encode([0u8; 40]));
    let response = post("/codec/decode", tampered).await;
    assert_eq!(response.status(), 400);
}
