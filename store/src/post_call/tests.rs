use super::*;
use crate::{
    NewCall,
    crm::customers::{CustomerFields, Customers},
};
use domain::campaign::analysis::OutcomeClass;
use sea_orm::PaginatorTrait;

const RECIPIENT: &str = "+14155550100";

/// An in-memory database with a tenant, a customer and an outbound call to them.
async fn store_with_call() -> (Store, TenantId, Uuid, Uuid) {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate_up().await.unwrap();
    let tenant = store.create_tenant("Acme").await.unwrap().id;
    let customer = store
        .create_resource::<Customers>(
            tenant,
            CustomerFields {
                name: "Dana".into(),
                phone: Some(E164::parse(RECIPIENT).unwrap()),
                email: None,
                time_zone: None,
                branch_id: None,
                consent_calls: true,
                consent_sms: false,
                consent_recorded_at: None,
                notes: None,
            },
        )
        .await
        .unwrap();
    let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
    let call = NewCall {
        call_sid: sid.clone(),
        agent_id: None,
        direction: CallDirection::Outbound,
        from: CallerId::Withheld,
        to: E164::parse(RECIPIENT).unwrap(),
        status: CallStatus::Completed,
        started_at: Utc::now(),
        workflow_id: sid.workflow_id(),
    };
    store.record_call_started(tenant, call).await.unwrap();
    let call_id = store.call_by_sid(tenant, &sid).await.unwrap().unwrap().id;
    (store, tenant, call_id, customer.id)
}

fn analysis(outcome: OutcomeClass, appointment_at: Option<DateTime<Utc>>) -> PostCallAnalysis {
    PostCallAnalysis {
        summary: "test".into(),
        outcome,
        confidence: 0.9,
        appointment_at,
        appointment_local: None,
        vehicle: None,
        notes: None,
        needs_attention: false,
    }
}

async fn rows<E: EntityTrait>(store: &Store) -> u64
where
    E::Model: Sync,
{
    PaginatorTrait::count(E::find(), store.connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_do_not_call_request_recorded_twice_lists_the_number_once() {
    let (store, tenant, call_id, _) = store_with_call().await;
    let dnc = analysis(OutcomeClass::DoNotCall, None);
    for _ in 0..2 {
        let effects = store
            .record_analysis(tenant, call_id, &dnc, None, None)
            .await
            .unwrap();
        assert!(effects.dnc_listed);
    }
    assert_eq!(rows::<dnc_entries::Entity>(&store).await, 1);
    let phone = E164::parse(RECIPIENT).unwrap();
    assert!(store.is_dnc(tenant, &phone).await.unwrap());
    let call = calls::Entity::find_by_id(call_id)
        .one(store.connection())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.outcome_class.as_deref(), Some("do_not_call"));
    assert!(!call.needs_attention);
}

#[tokio::test]
async fn a_booking_recorded_twice_books_one_appointment_for_the_customer() {
    let (store, tenant, call_id, customer) = store_with_call().await;
    let at = Utc::now() + chrono::Duration::days(2);
    let booked = analysis(OutcomeClass::AppointmentBooked, Some(at));
    let first = store
        .record_analysis(tenant, call_id, &booked, None, None)
        .await
        .unwrap();
    let again = store
        .record_analysis(tenant, call_id, &booked, None, Some(customer))
        .await
        .unwrap();
    assert!(first.appointment_id.is_some());
    assert_eq!(first.appointment_id, again.appointment_id);
    assert_eq!(rows::<appointments::Entity>(&store).await, 1);
    let row = appointments::Entity::find()
        .one(store.connection())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.customer_id, customer);
    assert_eq!(row.source, "call");
    assert_eq!(row.starts_at.timestamp(), at.timestamp());
}

#[tokio::test]
async fn a_booking_for_a_number_no_customer_has_goes_to_review_instead() {
    let (store, tenant, call_id, _) = store_with_call().await;
    let booked = analysis(
        OutcomeClass::AppointmentBooked,
        Some(Utc::now() + chrono::Duration::days(1)),
    );
    let stranger = Uuid::now_v7();
    let effects = store
        .record_analysis(tenant, call_id, &booked, None, Some(stranger))
        .await
        .unwrap();
    assert_eq!(effects.appointment_id, None);
    assert!(effects.needs_attention);
    assert_eq!(rows::<appointments::Entity>(&store).await, 0);
}

#[tokio::test]
async fn a_low_confidence_analysis_is_flagged_and_resolving_it_twice_changes_nothing() {
    let (store, tenant, call_id, _) = store_with_call().await;
    let mut unsure = analysis(OutcomeClass::CompletedOther, None);
    unsure.confidence = 0.5;
    let effects = store
        .record_analysis(tenant, call_id, &unsure, None, None)
        .await
        .unwrap();
    assert!(effects.needs_attention);
    let queue = store.needs_attention(tenant, 10, None).await.unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].summary.as_deref(), Some("test"));
    let by = Uuid::now_v7();
    let first = store.resolve_call(tenant, call_id, by).await.unwrap();
    let again = store
        .resolve_call(tenant, call_id, Uuid::now_v7())
        .await
        .unwrap();
    assert!(first.newly_resolved && !again.newly_resolved);
    assert_eq!(again.resolved_by, Some(by));
    assert_eq!(again.resolved_at, first.resolved_at);
    assert!(
        store
            .needs_attention(tenant, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn the_post_call_migration_rolls_back_and_applies_again() {
    use migrations::{Migrator, MigratorTrait};
    let (store, _, _, _) = store_with_call().await;
    Migrator::down(store.connection(), Some(1)).await.unwrap();
    Migrator::up(store.connection(), None).await.unwrap();
}
