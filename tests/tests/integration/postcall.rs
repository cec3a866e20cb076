//! Post-call processing through the API: ElevenLabs' signed post-call webhook (recorded once,
//! acting on the outcome; refused with 403 when the signature is wrong, stale or another
//! tenant's), the tenant's ElevenLabs settings, and the overview dashboard with its review
//! queue.

use crate::helpers::{AppOptions, TestApp, new_call_sid, roomy_rate_limits, spawn_app_with};
use crate::permissions::send;
use chrono::{Duration, Utc};
use domain::{
    CallDirection, CallOutcome, CallSid, CallStatus, CallerId, E164, Speaker, TenantId,
    TranscriptSegment,
    campaign::analysis::{OutcomeClass, PostCallAnalysis},
    elevenlabs,
};
use reqwest::Method;
use serde_json::{Value, json};
use store::{CallCounts, FinishedCall, NewCall};

const BOOKER: &str = "+14155550142";
const OPT_OUT: &str = "+14155550143";

async fn app() -> TestApp {
    spawn_app_with(AppOptions {
        rate_limits: roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await
}

/// A new tenant and its owner's API key.
async fn tenant(app: &TestApp, name: &str) -> (TenantId, String) {
    let tenant = app.store.create_tenant(name).await.unwrap().id;
    let key = app.store.create_api_key(tenant, "owner").await.unwrap();
    (tenant, key.secret.into_inner())
}

/// Sets the tenant's ElevenLabs secret; the URL to paste.
pub(crate) async fn set_secret(app: &TestApp, owner: &str, secret: &str) -> String {
    let body = json!({"webhook_secret": secret});
    let path = "/v1/tenant/integrations/elevenlabs";
    let (status, view) = send(app, &Method::PUT, path, Some(owner), Some(&body)).await;
    assert_eq!(status, 200, "{view}");
    assert!(
        !view.to_string().contains(secret),
        "the secret is never shown: {view}"
    );
    assert_eq!(view["configured"], true);
    let url = view["webhook_url"].as_str().unwrap();
    let path = url.find("/webhooks/").map(|at| &url[at..]).unwrap();
    assert_eq!(
        url,
        format!(
            "{}{path}",
            app.settings.public_url.as_str().trim_end_matches('/')
        )
    );
    // The public URL names a host that is not this test's: send to the app's own address.
    format!("{}{path}", app.address)
}

/// ElevenLabs' `post_call_transcription` event for an outbound call to `number`.
pub(crate) fn conversation(id: &str, number: &str, turns: &[(&str, &str)]) -> Vec<u8> {
    let started = Utc::now() - Duration::minutes(5);
    let transcript: Vec<Value> = turns
        .iter()
        .enumerate()
        .map(|(i, (role, message))| {
            json!({"role": role, "message": message, "time_in_call_secs": i * 4})
        })
        .collect();
    let event = json!({
        "type": "post_call_transcription",
        "event_timestamp": Utc::now().timestamp(),
        "data": {
            "agent_id": "agent_1", "conversation_id": id, "status": "done",
            "transcript": transcript,
            "metadata": {
                "start_time_unix_secs": started.timestamp(), "call_duration_secs": 42,
                "phone_call": {"direction": "outbound", "agent_number": "+14155550100",
                               "external_number": number, "call_sid": new_call_sid()}
            },
            "analysis": {"call_successful": "success", "transcript_summary": format!("Summary of {id}."),
                         "data_collection_results": {}, "evaluation_criteria_results": {}}
        }
    });
    serde_json::to_vec(&event).unwrap()
}

pub(crate) async fn deliver(
    app: &TestApp,
    url: &str,
    signature: Option<String>,
    body: &[u8],
) -> (u16, Value) {
    let mut request = app
        .http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(elevenlabs::SIGNATURE_HEADER, signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn signed(secret: &str, body: &[u8]) -> Option<String> {
    Some(elevenlabs::sign(secret, Utc::now().timestamp(), body))
}

async fn count(app: &TestApp, owner: &str, path: &str) -> usize {
    let (status, list) = send(app, &Method::GET, path, Some(owner), None).await;
    assert_eq!(status, 200, "{path}: {list}");
    list["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_signed_elevenlabs_webhook_records_the_call_once_and_acts_on_its_outcome() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = app().await;
    let (_, owner) = tenant(&app, "Eleven Motors").await;
    let (status, before) = send(
        &app,
        &Method::GET,
        "/v1/tenant/integrations/elevenlabs",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!((status, &before["configured"]), (200, &json!(false)));
    let url = set_secret(&app, &owner, "wsec_motors").await;
    let pasted = before["webhook_url"].as_str().unwrap();
    assert!(url.ends_with(&pasted[pasted.find("/webhooks/").unwrap()..]));
    let customer = json!({"name": "Bo", "phone": BOOKER});
    let (status, _) = send(
        &app,
        &Method::POST,
        "/v1/customers",
        Some(&owner),
        Some(&customer),
    )
    .await;
    assert_eq!(status, 201);

    let booking = conversation(
        "conv_booking",
        BOOKER,
        &[
            (
                "agent",
                "Hi Bo, your car is due for service. Could you come in Tuesday at 10 am?",
            ),
            ("user", "Yes, Tuesday at 10 works for me."),
        ],
    );
    let opt_out = conversation(
        "conv_opt_out",
        OPT_OUT,
        &[
            ("agent", "Hi, this is Eleven Motors about your service."),
            ("user", "Please stop calling me and take me off your list."),
        ],
    );
    let (status, first) = deliver(&app, &url, signed("wsec_motors", &booking), &booking).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (200, Some("recorded")),
        "{first}"
    );
    let (status, dnc) = deliver(&app, &url, signed("wsec_motors", &opt_out), &opt_out).await;
    assert_eq!(
        (status, dnc["status"].as_str()),
        (200, Some("recorded")),
        "{dnc}"
    );
    for (body, receipt) in [(&booking, &first), (&opt_out, &dnc)] {
        let (status, again) = deliver(&app, &url, signed("wsec_motors", body), body).await;
        assert_eq!(status, 200);
        assert_eq!(again["status"], "duplicate");
        assert_eq!(again["call_id"], receipt["call_id"]);
    }

    assert_eq!(count(&app, &owner, "/v1/calls").await, 2);
    assert_eq!(count(&app, &owner, "/v1/appointments").await, 1);
    assert_eq!(count(&app, &owner, "/v1/dnc").await, 1);
    let call_path = format!("/v1/calls/{}", first["call_id"].as_str().unwrap());
    let (_, call) = send(&app, &Method::GET, &call_path, Some(&owner), None).await;
    assert_eq!(call["transcript"].as_array().unwrap().len(), 2, "{call}");
    assert_eq!(call["to"], BOOKER);
    let (_, appointments) = send(&app, &Method::GET, "/v1/appointments", Some(&owner), None).await;
    assert_eq!(appointments["data"][0]["call_sid"], call["call_sid"]);
    assert_eq!(appointments["data"][0]["source"], "call");
    let (_, listed) = send(&app, &Method::GET, "/v1/dnc", Some(&owner), None).await;
    assert_eq!(listed["data"][0]["phone"], OPT_OUT);
    assert_eq!(listed["data"][0]["source"], "call");
}

#[tokio::test]
async fn an_elevenlabs_webhook_signed_wrong_stale_or_by_another_tenant_gets_403() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = app().await;
    let (_, owner) = tenant(&app, "Eleven Motors").await;
    let (_, rival) = tenant(&app, "Rival Motors").await;
    let url = set_secret(&app, &owner, "wsec_motors").await;
    set_secret(&app, &rival, "wsec_rival").await;
    let body = conversation("conv_1", OPT_OUT, &[("user", "Stop calling me.")]);
    let stale = (Utc::now() - Duration::minutes(31)).timestamp();
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] = b' ';
    let unknown = format!(
        "{}?tenant={}",
        url.split('?').next().unwrap(),
        uuid::Uuid::now_v7()
    );
    let cases: Vec<(&str, &str, Option<String>, &[u8])> = vec![
        (
            "signed 31 minutes ago",
            &url,
            Some(elevenlabs::sign("wsec_motors", stale, &body)),
            &body,
        ),
        (
            "tampered body",
            &url,
            signed("wsec_motors", &body),
            &tampered,
        ),
        (
            "another tenant's secret",
            &url,
            signed("wsec_rival", &body),
            &body,
        ),
        ("no signature", &url, None, &body),
        (
            "unknown tenant",
            &unknown,
            signed("wsec_motors", &body),
            &body,
        ),
    ];
    let mut problems = Vec::new();
    for (case, url, signature, body) in cases {
        let (status, problem) = deliver(&app, url, signature, body).await;
        assert_eq!(status, 403, "{case}: {problem}");
        problems.push(problem);
    }
    assert!(
        problems.windows(2).all(|p| p[0] == p[1]),
        "one answer for every failure: {problems:?}"
    );
    assert_eq!(count(&app, &owner, "/v1/calls").await, 0);
    assert_eq!(count(&app, &owner, "/v1/dnc").await, 0);
}

/// A finished call of `tenant` to `to`, started a minute ago.
async fn seed_call(
    app: &TestApp,
    tenant: TenantId,
    to: &str,
    answered_secs: Option<u32>,
    transfer: Option<&str>,
) -> uuid::Uuid {
    let sid = CallSid::parse(&new_call_sid()).unwrap();
    let started = Utc::now() - Duration::minutes(1);
    let call = NewCall {
        call_sid: sid.clone(),
        agent_id: None,
        direction: CallDirection::Outbound,
        from: CallerId::Withheld,
        to: E164::parse(to).unwrap(),
        status: CallStatus::InProgress,
        started_at: started,
        workflow_id: sid.workflow_id(),
    };
    app.store.record_call_started(tenant, call).await.unwrap();
    let finish = FinishedCall {
        tenant_id: tenant,
        call_sid: sid.clone(),
        final_status: if answered_secs.is_some() {
            CallStatus::Completed
        } else {
            CallStatus::NoAnswer
        },
        outcome: if answered_secs.is_some() {
            CallOutcome::Completed
        } else {
            CallOutcome::NoAnswer
        },
        duration_secs: answered_secs.unwrap_or(0),
        answered_at: answered_secs.map(|_| started),
        ended_at: Utc::now(),
        answered_by: None,
        transcript: vec![TranscriptSegment {
            speaker: Speaker::Agent,
            text: "Hello".into(),
            start_ms: 0,
            end_ms: 400,
            interrupted: false,
        }],
        transcript_first_seq: 0,
        metrics: CallCounts::default(),
        transfer_result: transfer.map(str::to_owned),
        tool_calls: Vec::new(),
    };
    app.store.finish_call(&finish).await.unwrap();
    app.store
        .call_by_sid(tenant, &sid)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn analysis(outcome: OutcomeClass, confidence: f32) -> PostCallAnalysis {
    PostCallAnalysis {
        summary: format!("{} call", outcome.as_str()),
        outcome,
        confidence,
        appointment_at: (outcome == OutcomeClass::AppointmentBooked)
            .then(|| Utc::now() + Duration::days(3)),
        appointment_local: None,
        vehicle: None,
        notes: None,
        needs_attention: false,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = send(app, &Method::GET, path, Some(token), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn the_overview_counts_only_the_tenants_calls_and_resolving_takes_a_call_off_the_queue() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = app().await;
    let (acme, owner) = tenant(&app, "Acme Motors").await;
    let (globex, intruder) = tenant(&app, "Globex").await;
    let customer = json!({"name": "Bo", "phone": BOOKER});
    send(
        &app,
        &Method::POST,
        "/v1/customers",
        Some(&owner),
        Some(&customer),
    )
    .await;
    let booked = seed_call(&app, acme, BOOKER, Some(60), None).await;
    let opted_out = seed_call(&app, acme, OPT_OUT, Some(120), Some("transferred")).await;
    let unsure = seed_call(&app, acme, "+14155550144", None, None).await;
    for (call, outcome, confidence) in [
        (booked, OutcomeClass::AppointmentBooked, 0.9),
        (opted_out, OutcomeClass::DoNotCall, 0.95),
        (unsure, OutcomeClass::CompletedOther, 0.4),
    ] {
        app.store
            .record_analysis(acme, call, &analysis(outcome, confidence), None, None)
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let other = seed_call(&app, globex, OPT_OUT, Some(30), Some("transferred")).await;
        app.store
            .record_analysis(
                globex,
                other,
                &analysis(OutcomeClass::CompletedOther, 0.1),
                None,
                None,
            )
            .await
            .unwrap();
    }

    let range = format!(
        "from={}&to={}",
        (Utc::now() - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (Utc::now() + Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let kpis = get(&app, &owner, &format!("/v1/overview/kpis?{range}")).await;
    assert_eq!(kpis["total_calls"], 3, "{kpis}");
    assert_eq!(kpis["answered_calls"], 2);
    assert!((kpis["answer_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(kpis["average_handle_time_secs"], 90.0);
    assert_eq!(kpis["appointments_booked"], 1);
    assert_eq!(kpis["dnc_added"], 1);
    assert_eq!(kpis["transfers"], 1);
    assert_eq!(kpis["needs_attention"], 1);

    let outcomes = get(&app, &owner, &format!("/v1/overview/outcomes?{range}")).await;
    assert_eq!(
        outcomes["by_outcome_class"],
        json!([{"key": "appointment_booked", "calls": 1}, {"key": "completed_other", "calls": 1},
               {"key": "do_not_call", "calls": 1}])
    );
    assert_eq!(
        outcomes["by_outcome"],
        json!([{"key": "completed", "calls": 2}, {"key": "no_answer", "calls": 1}])
    );
    let series = get(
        &app,
        &owner,
        &format!("/v1/overview/calls-over-time?{range}&bucket=hour"),
    )
    .await;
    let buckets = series["buckets"].as_array().unwrap();
    let total: u64 = buckets.iter().map(|b| b["calls"].as_u64().unwrap()).sum();
    assert_eq!(total, 3, "{series}");
    let (status, problem) = send(
        &app,
        &Method::GET,
        "/v1/overview/calls-over-time?bucket=week",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("bucket")));

    let queue = get(&app, &owner, "/v1/overview/needs-attention").await;
    assert_eq!(queue["data"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["data"][0]["call_id"], unsure.to_string());
    assert_eq!(queue["data"][0]["summary"], "completed_other call");
    let resolve = format!("/v1/calls/{unsure}/resolve");
    let (status, _) = send(&app, &Method::POST, &resolve, Some(&intruder), None).await;
    assert_eq!(status, 404, "another tenant cannot resolve it");
    let (status, first) = send(&app, &Method::POST, &resolve, Some(&owner), None).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = send(&app, &Method::POST, &resolve, Some(&owner), None).await;
    assert_eq!(
        (status, &again["resolved_at"]),
        (200, &first["resolved_at"])
    );
    let queue = get(&app, &owner, "/v1/overview/needs-attention").await;
    assert_eq!(queue["data"], json!([]));
    let kpis = get(&app, &owner, &format!("/v1/overview/kpis?{range}")).await;
    assert_eq!(kpis["needs_attention"], 0);
    let audit = get(&app, &owner, "/v1/audit-log").await.to_string();
    assert_eq!(
        audit.matches("call.resolve").count(),
        1,
        "resolved once, audited once"
    );
    let theirs = get(&app, &intruder, &format!("/v1/overview/kpis?{range}")).await;
    assert_eq!(
        (
            theirs["total_calls"].as_u64(),
            theirs["needs_attention"].as_u64()
        ),
        (Some(2), Some(2))
    );
}
