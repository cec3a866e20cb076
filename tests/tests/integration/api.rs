//! The REST API: tenant isolation, pagination, problems, health, metrics, docs.

use crate::helpers::*;

#[tokio::test]
async fn a_tenants_api_key_sees_its_own_calls_and_gets_404_for_another_tenants_call() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    let call = app.wait_for_call_row(&call_sid).await;
    let other = app.store.create_tenant("Globex").await.unwrap();
    let other_key = app
        .store
        .create_api_key(other.id, "other")
        .await
        .unwrap()
        .secret
        .into_inner();

    let own = app
        .get_api(&format!("/v1/calls/{}", call.id), &app.api_key)
        .await;
    assert_eq!(own.status(), 200);
    let body: serde_json::Value = own.json().await.unwrap();
    assert_eq!(body["call_sid"], call_sid.as_str());
    assert_eq!(body["workflow_id"], format!("call-{call_sid}"));
    let by_sid = app
        .get_api(&format!("/v1/calls/{call_sid}"), &app.api_key)
        .await;
    assert_eq!(by_sid.status(), 200);

    for path in [
        format!("/v1/calls/{}", call.id),
        format!("/v1/calls/{call_sid}"),
    ] {
        let response = app.get_api(&path, &other_key).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let list: serde_json::Value = app
        .get_api("/v1/calls", &other_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "another tenant lists none of our calls"
    );
}

/// Three inbound calls, their rows written; their SIDs, oldest first.
async fn three_calls(app: &crate::helpers::TestApp) -> Vec<String> {
    let mut sids = Vec::new();
    for _ in 0..3 {
        let sid = app.start_inbound_call().await;
        app.wait_for_call_row(&sid).await;
        sids.push(sid);
    }
    sids
}

#[tokio::test]
async fn calls_are_listed_newest_first_in_pages() {
    let app = spawn_app().await;
    let sids = three_calls(&app).await;

    let first: serde_json::Value = app
        .get_api("/v1/calls?limit=2", &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let data = first["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["call_sid"], sids[2].as_str());
    assert_eq!(data[1]["call_sid"], sids[1].as_str());
    let cursor = first["next_cursor"].as_str().expect("a next page");

    let second: serde_json::Value = app
        .get_api(&format!("/v1/calls?limit=2&cursor={cursor}"), &app.api_key)
        .await
        .json()
        .await
        .unwrap();
    let data = second["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["call_sid"], sids[0].as_str());
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn calls_are_filtered_by_day_direction_outcome_and_number_and_bad_filters_are_named() {
    let app = spawn_app().await;
    let sids = three_calls(&app).await;
    app.complete_call(&sids[0], 7).await;
    app.call_result(&sids[0]).await;
    let count = |query: String| {
        let app = &app;
        async move {
            let response = app
                .get_api(&format!("/v1/calls?{query}"), &app.api_key)
                .await;
            assert_eq!(response.status(), 200, "{query}");
            let page: serde_json::Value = response.json().await.unwrap();
            page["data"].as_array().unwrap().len()
        }
    };
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(count("direction=inbound".into()).await, 3);
    assert_eq!(count("direction=outbound".into()).await, 0);
    assert_eq!(count("outcome=completed".into()).await, 1);
    // The caller is +1 415 555 0199.
    assert_eq!(count("number=0199".into()).await, 3);
    assert_eq!(count("number=555%200199".into()).await, 3);
    assert_eq!(count("number=9876".into()).await, 0);
    assert_eq!(count(format!("from={today}&until={today}")).await, 3);
    assert_eq!(count(format!("from={tomorrow}")).await, 0);

    for (query, field) in [
        ("from=yesterday", "from"),
        ("until=2026-13-01", "until"),
        ("direction=sideways", "direction"),
        ("outcome=great", "outcome"),
        ("number=12a4", "number"),
        ("number=1", "number"),
    ] {
        let response = app
            .get_api(&format!("/v1/calls?{query}"), &app.api_key)
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["field"], field, "{query}");
    }
}

#[tokio::test]
async fn bad_list_parameters_and_missing_keys_get_problems() {
    let app = spawn_app().await;
    let response = app.get_api("/v1/calls?limit=0", &app.api_key).await;
    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "limit");

    let response = app.get_api("/v1/calls?cursor=nope", &app.api_key).await;
    assert_eq!(response.status(), 400);

    let response = app.get_api("/v1/calls", "sk_not_a_real_key").await;
    assert_eq!(response.status(), 401);
    let response = app.get("/v1/calls").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn health_readiness_metrics_and_docs_are_served_with_request_ids() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    app.wait_for_call_row(&call_sid).await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("switchboard_workflows_started_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("switchboard_active_calls 1"), "{metrics}");
    assert!(
        metrics.contains("switchboard_webhook_latency_seconds_count{webhook=\"voice\"} 1"),
        "{metrics}"
    );

    let openapi: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(openapi["paths"]["/v1/calls"].is_object());
    assert!(openapi["paths"]["/twilio/voice"].is_object());
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
}

#[tokio::test]
async fn readiness_is_503_naming_the_database_when_it_is_gone() {
    let app = spawn_app().await;
    app.store.connection().close_by_ref().await.unwrap();

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("database"), "{detail}");
    assert!(
        !detail.contains("temporal:") && !detail.contains("session store:"),
        "only the failed part is named: {detail}"
    );
}
