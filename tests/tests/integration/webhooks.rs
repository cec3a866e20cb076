//! Twilio webhooks: signatures, TwiML, idempotent workflow start, status Signals.

use crate::helpers::*;
use futures::StreamExt;
use temporalio_client::WorkflowListOptions;

fn keyword(
    description: &temporalio_client::WorkflowExecutionDescription,
    name: &str,
) -> Option<String> {
    let info = description
        .raw_description
        .workflow_execution_info
        .as_ref()?;
    let payload = info.search_attributes.as_ref()?.indexed_fields.get(name)?;
    serde_json::from_slice(&payload.data).ok()
}

async fn runs_of(app: &TestApp, call_sid: &str) -> usize {
    let query = format!("WorkflowId = 'call-{call_sid}'");
    // Visibility is eventually consistent: wait until the run shows up.
    for _ in 0..100 {
        let runs: Vec<_> = app
            .temporal
            .list_workflows(query.clone(), WorkflowListOptions::default())
            .collect()
            .await;
        if !runs.is_empty() {
            return runs.len();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    0
}

#[tokio::test]
async fn signed_voice_webhook_connects_a_stream_and_starts_the_call_workflow_which_completed_status_ends()
 {
    let app = spawn_app().await;
    let call_sid = new_call_sid();

    let response = app
        .post_signed("/twilio/voice", &voice_form(&call_sid, app.number.as_str()))
        .await;

    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let twiml = response.text().await.unwrap();
    assert!(
        twiml.contains("<Connect><Stream url=\"wss://voice.switchboard.test/twilio/media\">"),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(
            "<Parameter name=\"callSid\" value=\"{call_sid}\"/>"
        )),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(
            "<Parameter name=\"tenantId\" value=\"{}\"/>",
            app.tenant
        )),
        "{twiml}"
    );

    let description = app.describe(&call_sid).await.expect("call workflow exists");
    assert_eq!(
        keyword(&description, "TenantId").as_deref(),
        Some(app.tenant.to_string().as_str())
    );
    assert_eq!(
        keyword(&description, "CallDirection").as_deref(),
        Some("inbound")
    );
    assert!(keyword(&description, "AgentId").is_some());
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.status, domain::CallStatus::InProgress);

    app.complete_call(&call_sid, 42).await;

    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    assert_eq!(summary.duration_secs, 42);
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.status, domain::CallStatus::Completed);
    assert_eq!(row.outcome, Some(domain::CallOutcome::Completed));
    assert_eq!(row.duration_secs, Some(42));
    assert!(row.ended_at.is_some());
    let sid = domain::CallSid::parse(&call_sid).unwrap();
    assert!(
        app.sessions.get(&sid).await.unwrap().is_none(),
        "session closed at the end"
    );
    let description = app.describe(&call_sid).await.unwrap();
    assert_eq!(
        keyword(&description, "CallOutcome").as_deref(),
        Some("completed")
    );
}

#[tokio::test]
async fn the_same_voice_webhook_posted_twice_starts_one_workflow_run() {
    let app = spawn_app().await;
    let call_sid = new_call_sid();
    let form = voice_form(&call_sid, app.number.as_str());

    let first = app.post_signed("/twilio/voice", &form).await;
    let second = app.post_signed("/twilio/voice", &form).await;

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    assert_eq!(
        first.text().await.unwrap(),
        second.text().await.unwrap(),
        "a retry gets the same TwiML"
    );
    assert_eq!(runs_of(&app, &call_sid).await, 1);

    app.complete_call(&call_sid, 3).await;
    app.call_result(&call_sid).await;
    let late_retry = app.post_signed("/twilio/voice", &form).await;
    assert_eq!(late_retry.status(), 200);
    assert_eq!(
        runs_of(&app, &call_sid).await,
        1,
        "a retry after the call ended starts nothing"
    );
}

#[tokio::test]
async fn a_wrong_or_missing_signature_gets_403_and_starts_no_workflow() {
    let app = spawn_app().await;
    let call_sid = new_call_sid();
    let form = voice_form(&call_sid, app.number.as_str());
    let good = compute_signature_for(&form, "/twilio/voice");

    let mut tampered = form.clone();
    tampered.iter_mut().find(|(k, _)| k == "From").unwrap().1 = "+14155550100".into();
    let cases = [
        (
            "missing",
            app.post_with_signature("/twilio/voice", &form, None).await,
        ),
        (
            "garbage",
            app.post_with_signature("/twilio/voice", &form, Some("bm90LWEtc2lnbmF0dXJl"))
                .await,
        ),
        (
            "tampered params",
            app.post_with_signature("/twilio/voice", &tampered, Some(&good))
                .await,
        ),
    ];
    for (case, response) in cases {
        assert_eq!(response.status(), 403, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{case}"
        );
    }
    // Signed for another host: a Host header we do not own must not make it valid.
    let other_host =
        telephony::compute_signature(AUTH_TOKEN, "https://evil.example/twilio/voice", &form);
    let response = app
        .post_with_signature("/twilio/voice", &form, Some(&other_host))
        .await;
    assert_eq!(response.status(), 403);

    assert!(
        app.describe(&call_sid).await.is_none(),
        "no workflow was started"
    );
    let status = app
        .post_with_signature(
            "/twilio/status",
            &status_form(&call_sid, "completed", Some(1)),
            None,
        )
        .await;
    assert_eq!(status.status(), 403);
}

fn compute_signature_for(form: &[(String, String)], path: &str) -> String {
    telephony::compute_signature(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), form)
}

#[tokio::test]
async fn a_call_to_an_unknown_number_is_told_so_and_hung_up_without_a_workflow() {
    let app = spawn_app().await;
    let call_sid = new_call_sid();

    let response = app
        .post_signed("/twilio/voice", &voice_form(&call_sid, "+15005550009"))
        .await;

    assert_eq!(response.status(), 200);
    let twiml = response.text().await.unwrap();
    assert!(
        twiml.contains("<Say>") && twiml.contains("<Hangup/>"),
        "{twiml}"
    );
    assert!(app.describe(&call_sid).await.is_none());
}

#[tokio::test]
async fn a_signed_webhook_with_a_malformed_field_gets_a_problem_naming_the_field() {
    let app = spawn_app().await;
    let mut form = voice_form(&new_call_sid(), app.number.as_str());
    // `From` may be anything (a withheld caller ID is `anonymous`), but `To` is our number.
    form.iter_mut().find(|(k, _)| k == "To").unwrap().1 = "not a number".into();

    let response = app.post_signed("/twilio/voice", &form).await;

    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "To");
    assert_eq!(problem["status"], 400);
}

#[tokio::test]
async fn a_status_callback_for_an_unknown_call_is_accepted_and_ignored() {
    let app = spawn_app().await;
    let response = app
        .post_signed(
            "/twilio/status",
            &status_form(&new_call_sid(), "completed", Some(1)),
        )
        .await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn the_call_session_is_open_while_the_call_runs() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    let sid = domain::CallSid::parse(&call_sid).unwrap();

    let mut session = None;
    for _ in 0..300 {
        session = app.sessions.get(&sid).await.unwrap();
        if session.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let session = session.expect("the workflow opened the session");
    assert_eq!(session.tenant_id, app.tenant);
    assert_eq!(session.workflow_id, format!("call-{call_sid}"));

    app.complete_call(&call_sid, 1).await;
    app.call_result(&call_sid).await;
    assert!(app.sessions.get(&sid).await.unwrap().is_none());
}

#[tokio::test]
async fn a_caller_who_withholds_their_number_reaches_the_agent() {
    let app = spawn_app().await;
    // Twilio's spellings of "no caller ID": each call is answered with the stream, its
    // workflow starts, and the stored call says withheld, not a made-up number.
    for withheld in ["anonymous", "Restricted", "Unavailable", "", "+266696687"] {
        let call_sid = new_call_sid();
        let form: Vec<(String, String)> = voice_form(&call_sid, app.number.as_str())
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "From" | "Caller" => (k, withheld.to_owned()),
                "FromCity" | "FromState" | "FromZip" | "CallerCity" | "CallerState"
                | "CallerZip" => (k, String::new()),
                _ => (k, v),
            })
            .collect();
        let response = app.post_signed("/twilio/voice", &form).await;
        assert_eq!(response.status(), 200, "From={withheld:?}");
        let twiml = response.text().await.unwrap();
        assert!(
            twiml.contains("<Connect><Stream"),
            "From={withheld:?}: {twiml}"
        );
        assert!(
            app.describe(&call_sid).await.is_some(),
            "no workflow for From={withheld:?}"
        );
        let row = app.wait_for_call_row(&call_sid).await;
        assert_eq!(
            row.from_number,
            domain::CallerId::Withheld,
            "From={withheld:?}"
        );
    }
}
