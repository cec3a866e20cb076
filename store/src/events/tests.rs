use super::*;
use crate::NewCall;
use domain::{CallSid, CallStatus, CallerId, E164, campaign::analysis::OutcomeClass};

const PERSON: &str = "+14155550142";

/// An in-memory database with a tenant and an outbound call to `PERSON`, not yet analysed.
async fn store_with_call() -> (Store, TenantId, Uuid) {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate_up().await.unwrap();
    let tenant = store.create_tenant("Acme").await.unwrap().id;
    let call_id = new_call(&store, tenant, "CA0123456789abcdef0123456789abcdef").await;
    (store, tenant, call_id)
}

async fn new_call(store: &Store, tenant: TenantId, sid: &str) -> Uuid {
    let sid = CallSid::parse(sid).unwrap();
    let call = NewCall {
        call_sid: sid.clone(),
        agent_id: None,
        direction: CallDirection::Outbound,
        from: CallerId::Withheld,
        to: E164::parse(PERSON).unwrap(),
        status: CallStatus::Completed,
        started_at: Utc::now(),
        workflow_id: sid.workflow_id(),
    };
    store.record_call_started(tenant, call).await.unwrap();
    store.call_by_sid(tenant, &sid).await.unwrap().unwrap().id
}

fn analysis(outcome: OutcomeClass) -> PostCallAnalysis {
    PostCallAnalysis {
        summary: "Not interested for now.".into(),
        outcome,
        confidence: 0.4,
        appointment_at: None,
        appointment_local: None,
        vehicle: None,
        notes: None,
        needs_attention: false,
    }
}

fn attempt(status: EventStatus, code: u16) -> EventAttempt {
    EventAttempt {
        status,
        status_code: Some(code),
        error: (status != EventStatus::Delivered).then(|| format!("HTTP {code}")),
    }
}

#[tokio::test]
async fn a_call_analysed_twice_has_one_call_analyzed_event_without_its_full_number() {
    let (store, tenant, call_id) = store_with_call().await;
    let not_interested = analysis(OutcomeClass::NotInterested);
    store
        .record_analysis(tenant, call_id, &not_interested, None, None)
        .await
        .unwrap();
    let (first, created) = store.call_analyzed_event(tenant, call_id).await.unwrap();
    assert!(created);
    store
        .record_analysis(tenant, call_id, &not_interested, None, None)
        .await
        .unwrap();
    let (again, created) = store.call_analyzed_event(tenant, call_id).await.unwrap();
    assert!(!created);
    assert_eq!(again, first);

    assert_eq!(first.status, EventStatus::Pending);
    assert_eq!(first.subject, "CA0123456789abcdef0123456789abcdef");
    let body: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
    assert_eq!(body["type"], "call.analyzed");
    assert_eq!(body["id"], first.id.to_string());
    let created_at: DateTime<Utc> = serde_json::from_value(body["created_at"].clone()).unwrap();
    assert_eq!(created_at, first.created_at);
    let data = &body["data"];
    assert_eq!(data["call_sid"], first.subject);
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["outcome_class"], "not_interested");
    assert_eq!(data["confidence"], 0.4);
    assert_eq!(
        data["needs_attention"], true,
        "low confidence goes to review"
    );
    assert_eq!(data["phone_masked"], E164::parse(PERSON).unwrap().masked());
    assert!(!first.payload.contains(&PERSON[1..]), "{}", first.payload);
}

#[tokio::test]
async fn a_call_not_analysed_yet_has_no_event() {
    let (store, tenant, call_id) = store_with_call().await;
    let err = store
        .call_analyzed_event(tenant, call_id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let other = store.create_tenant("Globex").await.unwrap().id;
    let err = store.call_analyzed_event(other, call_id).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { entity: "call" }),
        "{err:?}"
    );
}

#[tokio::test]
async fn each_attempt_is_counted_and_a_delivered_event_stays_delivered() {
    let (store, tenant, _) = store_with_call().await;
    let (event, _) = store
        .create_event(
            tenant,
            EventType::CallAnalyzed,
            "CA1",
            serde_json::json!({}),
        )
        .await
        .unwrap();
    let failed = store
        .record_event_attempt(tenant, event.id, &attempt(EventStatus::Pending, 500))
        .await
        .unwrap();
    assert_eq!(
        (failed.status, failed.attempts, failed.last_status_code),
        (EventStatus::Pending, 1, Some(500))
    );
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 500"));
    let delivered = store
        .record_event_attempt(tenant, event.id, &attempt(EventStatus::Delivered, 204))
        .await
        .unwrap();
    assert_eq!(
        (delivered.status, delivered.attempts),
        (EventStatus::Delivered, 2)
    );
    assert_eq!(delivered.last_error, None);
    assert!(delivered.delivered_at.is_some());

    let late = store
        .record_event_attempt(tenant, event.id, &attempt(EventStatus::Failed, 410))
        .await
        .unwrap();
    let settled = store
        .settle_event(tenant, event.id, EventStatus::Failed, Some("gave up"))
        .await
        .unwrap();
    assert_eq!(late, delivered);
    assert_eq!(settled, delivered);
}

#[tokio::test]
async fn the_log_lists_newest_first_by_status_and_type_one_page_at_a_time() {
    let (store, tenant, _) = store_with_call().await;
    let mut ids = Vec::new();
    for subject in ["CA1", "CA2", "CA3"] {
        let (event, _) = store
            .create_event(
                tenant,
                EventType::CallAnalyzed,
                subject,
                serde_json::json!({}),
            )
            .await
            .unwrap();
        ids.push(event.id);
    }
    store
        .settle_event(tenant, ids[1], EventStatus::Skipped, Some("no webhook"))
        .await
        .unwrap();
    let all = EventFilter::default();
    let first = store.list_events(tenant, all, 2, None).await.unwrap();
    let listed: Vec<Uuid> = first.items.iter().map(|e| e.id).collect();
    assert_eq!(listed, vec![ids[2], ids[1]]);
    let rest = store
        .list_events(tenant, all, 2, first.next_cursor)
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    assert_eq!(rest.next_cursor, None);

    let skipped = EventFilter {
        status: Some(EventStatus::Skipped),
        event_type: Some(EventType::CallAnalyzed),
    };
    let page = store.list_events(tenant, skipped, 10, None).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].last_error.as_deref(), Some("no webhook"));

    let other = store.create_tenant("Globex").await.unwrap().id;
    let theirs = store.list_events(other, all, 10, None).await.unwrap();
    assert!(theirs.items.is_empty());
    assert!(store.event(other, ids[0]).await.is_err());
}
