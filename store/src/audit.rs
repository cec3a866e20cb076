//! The audit log: one row per mutation, with who did it, to what, and the before/after state
//! (secrets already redacted by the caller).

use crate::{Page, Store, StoreError, entities::audit_log};
use chrono::{DateTime, Utc};
use domain::TenantId;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A mutation to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// `user`, `api_key` or `operator`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// `agent.create`, `user.update`, `api_key.revoke`, …
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// A recorded mutation.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub entry: NewAuditEntry,
    pub created_at: DateTime<Utc>,
}

impl AuditRecord {
    fn from_row(row: audit_log::Model) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id.into(),
            entry: NewAuditEntry {
                actor_type: row.actor_type,
                actor_id: row.actor_id,
                action: row.action,
                resource_type: row.resource_type,
                resource_id: row.resource_id,
                before: row.before,
                after: row.after,
                request_id: row.request_id,
                client_addr: row.client_addr,
            },
            created_at: row.created_at,
        }
    }
}

impl Store {
    /// Records one mutation of `tenant`'s data.
    pub async fn record_audit(
        &self,
        tenant: TenantId,
        entry: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let row = audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            actor_type: Set(entry.actor_type),
            actor_id: Set(entry.actor_id),
            action: Set(entry.action),
            resource_type: Set(entry.resource_type),
            resource_id: Set(entry.resource_id),
            before: Set(entry.before),
            after: Set(entry.after),
            request_id: Set(entry.request_id),
            client_addr: Set(entry.client_addr),
            created_at: Set(Utc::now()),
        };
        let txn = self.scoped_one(tenant).await?;
        audit_log::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The tenant's log, newest first, optionally of one action and/or resource type; `before`
    /// is the previous page's cursor.
    pub async fn list_audit(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
        action: Option<&str>,
        resource_type: Option<&str>,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let mut query =
            audit_log::Entity::find().filter(audit_log::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(cursor) = before {
            query = query.filter(audit_log::Column::Id.lt(cursor));
        }
        if let Some(action) = action {
            query = query.filter(audit_log::Column::Action.eq(action));
        }
        if let Some(resource_type) = resource_type {
            query = query.filter(audit_log::Column::ResourceType.eq(resource_type));
        }
        let txn = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(audit_log::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Page::from_rows(rows, limit, |r| r.id, |r| Ok(AuditRecord::from_row(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, resource_type: &str) -> NewAuditEntry {
        NewAuditEntry {
            actor_type: "user".into(),
            actor_id: Some(Uuid::now_v7()),
            action: action.into(),
            resource_type: resource_type.into(),
            resource_id: Some("r1".into()),
            before: None,
            after: Some(serde_json::json!({"name": "Front desk"})),
            request_id: Some("req-1".into()),
            client_addr: Some("127.0.0.1".into()),
        }
    }

    #[tokio::test]
    async fn the_log_lists_newest_first_filtered_and_per_tenant() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let acme = store.create_tenant("Acme").await.unwrap().id;
        let globex = store.create_tenant("Globex").await.unwrap().id;
        for (action, kind) in [
            ("agent.create", "agent"),
            ("user.create", "user"),
            ("agent.update", "agent"),
        ] {
            store.record_audit(acme, entry(action, kind)).await.unwrap();
        }
        store
            .record_audit(globex, entry("agent.create", "agent"))
            .await
            .unwrap();
        let all = store.list_audit(acme, 2, None, None, None).await.unwrap();
        assert_eq!(all.items.len(), 2);
        assert_eq!(all.items[0].entry.action, "agent.update");
        assert_eq!(
            all.items[0].entry.after.as_ref().unwrap()["name"],
            "Front desk"
        );
        let rest = store
            .list_audit(acme, 2, all.next_cursor, None, None)
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.next_cursor, None);
        let agents = store
            .list_audit(acme, 10, None, None, Some("agent"))
            .await
            .unwrap();
        assert_eq!(agents.items.len(), 2);
        let created = store
            .list_audit(acme, 10, None, Some("agent.create"), None)
            .await
            .unwrap();
        assert_eq!(created.items.len(), 1);
        assert_eq!(created.items[0].tenant_id, acme);
    }
}
