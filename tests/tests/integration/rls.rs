//! PostgreSQL row-level security: through the application's own connection, a query without any
//! tenant filter sees only the scoped tenant's rows, and nothing outside a scope; a write for
//! another tenant is refused. Needs PostgreSQL (`SWITCHBOARD_TEST_POSTGRES_URL`).

use crate::helpers::*;
use chrono::Utc;
use domain::{CallDirection, CallSid, CallStatus, CallerId, E164, Role, TenantId};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use store::{NewAuditEntry, NewCall, NewUser, Store};
use switchboard::app;

/// The application's store on a fresh PostgreSQL database, opened the way `switchboard api`
/// opens it; `None` (and a note) without PostgreSQL.
async fn app_store() -> Option<Store> {
    if std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").is_err() {
        eprintln!("rls: needs PostgreSQL (SWITCHBOARD_TEST_POSTGRES_URL); skipped");
        return None;
    }
    let llm = activities::llm::LlmConfig::openai("", "test-model");
    let settings = test_settings(fresh_database().await, "rls", "http://127.0.0.1:9", llm);
    Some(app::open_store(&settings).await.expect("open the store"))
}

/// A tenant with a user, an API key, a call, a refresh token and an audit entry.
async fn tenant_with_rows(store: &Store, name: &str) -> TenantId {
    let tenant = store.create_tenant(name).await.unwrap().id;
    let user = NewUser {
        email: "owner@example.com".into(),
        name: "Owner".into(),
        password_hash: "$argon2id$not-a-real-hash".into(),
        role: Role::Owner,
    };
    let user = store.create_user(tenant, user).await.unwrap();
    store.create_api_key(tenant, "ci").await.unwrap();
    let hash = format!("{:064x}", rand_u128(&tenant));
    let expires = Utc::now() + chrono::TimeDelta::days(1);
    store
        .issue_refresh_token(tenant, user.id, None, &hash, expires)
        .await
        .unwrap();
    let sid = CallSid::parse(&format!("CA{}", uuid::Uuid::new_v4().simple())).unwrap();
    let call = NewCall {
        workflow_id: sid.workflow_id(),
        call_sid: sid,
        agent_id: None,
        direction: CallDirection::Inbound,
        from: CallerId::parse(CALLER),
        to: E164::parse("+15005550006").unwrap(),
        status: CallStatus::InProgress,
        started_at: Utc::now(),
    };
    store.record_call_started(tenant, call).await.unwrap();
    let entry = NewAuditEntry {
        actor_type: "user".into(),
        actor_id: Some(user.id),
        action: "user.create".into(),
        resource_type: "user".into(),
        resource_id: Some(user.id.to_string()),
        before: None,
        after: None,
        request_id: None,
        client_addr: None,
    };
    store.record_audit(tenant, entry).await.unwrap();
    tenant
}

/// A value unique to the tenant, for a token hash.
fn rand_u128(tenant: &TenantId) -> u128 {
    tenant.as_uuid().as_u128()
}

const TABLES: [&str; 6] = [
    "tenants",
    "users",
    "api_keys",
    "calls",
    "refresh_tokens",
    "audit_log",
];

async fn count(db: &impl ConnectionTrait, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn the_applications_connection_sees_only_the_scoped_tenants_rows() {
    let Some(store) = app_store().await else {
        return;
    };
    assert_eq!(
        store.row_level_security().await.unwrap(),
        Some(true),
        "the app connects as a role row-level security applies to"
    );
    let a = tenant_with_rows(&store, "Acme").await;
    let b = tenant_with_rows(&store, "Globex").await;

    let scoped = store.scoped(a).await.unwrap();
    for table in TABLES {
        assert_eq!(count(&scoped, table).await, 1, "{table} in A's scope");
    }
    let foreign = format!(
        "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_at) \
         VALUES ('{}', '{}', 'x', 'sk_x', 'not-a-hash', 'owner', now())",
        uuid::Uuid::now_v7(),
        b.as_uuid()
    );
    let refused = scoped.execute_unprepared(&foreign).await;
    assert!(
        refused.is_err(),
        "a row for B written in A's scope is refused"
    );
    drop(scoped);

    for table in TABLES {
        assert_eq!(
            count(store.connection(), table).await,
            0,
            "{table} outside any scope"
        );
    }
    let scoped = store.scoped(b).await.unwrap();
    assert_eq!(count(&scoped, "api_keys").await, 1, "B keeps its one key");
}

#[tokio::test]
async fn every_table_with_a_tenant_is_under_row_level_security() {
    let Some(store) = app_store().await else {
        return;
    };
    let rows = store
        .connection()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname::text AS name FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity \
               AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a \
                    WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))",
        ))
        .await
        .unwrap();
    let open: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "name").unwrap())
        .collect();
    assert!(
        open.is_empty(),
        "tables without row-level security: {open:?}"
    );
    let migrations = store
        .connection()
        .execute_unprepared("SELECT * FROM seaql_migrations")
        .await;
    assert!(
        migrations.is_err(),
        "the app may not read the migrations table"
    );
}

#[tokio::test]
async fn the_edges_find_tenants_the_application_cannot_see() {
    let Some(store) = app_store().await else {
        return;
    };
    let acme = store.create_tenant("Acme").await.unwrap();
    let key = store.create_api_key(acme.id, "ci").await.unwrap();
    let found = store
        .authenticate_api_key(key.secret.expose())
        .await
        .unwrap()
        .expect("the key authenticates");
    assert_eq!(found.tenant, acme.id);
    let by_slug = store.find_tenant_by_slug(&acme.slug).await.unwrap();
    assert_eq!(by_slug.map(|t| t.id), Some(acme.id));
    assert!(
        store
            .all_tenants()
            .await
            .unwrap()
            .iter()
            .any(|t| t.id == acme.id)
    );
    let user = NewUser {
        email: "Ada@Example.com".into(),
        name: "Ada".into(),
        password_hash: "h".into(),
        role: Role::Owner,
    };
    store.create_user(acme.id, user).await.unwrap();
    let candidates = store.login_candidates("ada@example.com").await.unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].0.tenant_id, acme.id);
}
