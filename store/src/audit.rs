//! The audit log: one row per mutation, with who did it, to what, and the before/after state
//! (secrets already redacted by the caller).

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use domain::TenantId;
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

impl Store {
    /// Records one mutation of `tenant`'s data.
    // TODO(issue 11, store helper): insert into `audit_log` in a scoped transaction.
    pub async fn record_audit(
        &self,
        _tenant: TenantId,
        _entry: NewAuditEntry,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}
