//! Call recordings: the row saying where each recorded media stream's Ogg/Opus object is
//! ([`Store::save_recording`], idempotent per stream), the one a call page plays, and the
//! purge of what is older than the tenant's retention. The objects themselves are in
//! [`crate::recording_objects`].

use crate::{Store, StoreError, calls::find_by_sid, entities::recordings};
use chrono::{DateTime, Utc};
use domain::{CallSid, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A stored recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRecord {
    pub id: Uuid,
    pub call_id: Uuid,
    pub stream_sid: String,
    pub storage_key: String,
    pub content_type: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub channels: u8,
    pub created_at: DateTime<Utc>,
}

/// A finished recording, its object already stored under `storage_key`.
#[derive(Debug, Clone)]
pub struct NewRecording {
    pub stream_sid: String,
    pub storage_key: String,
    pub content_type: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub channels: u8,
}

/// A tenant's recordings older than its retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRecordings {
    pub tenant: TenantId,
    pub recordings: Vec<RecordingRecord>,
}

impl From<recordings::Model> for RecordingRecord {
    fn from(row: recordings::Model) -> Self {
        Self {
            id: row.id,
            call_id: row.call_id,
            stream_sid: row.stream_sid,
            storage_key: row.storage_key,
            content_type: row.content_type,
            bytes: u64::try_from(row.bytes).unwrap_or(0),
            duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
            channels: u8::try_from(row.channels).unwrap_or(0),
            created_at: row.created_at,
        }
    }
}

/// Where the recording of stream `stream_sid` of call `call_id` is stored: one object per
/// stream, under the tenant.
pub fn recording_key(tenant: TenantId, call_id: Uuid, stream_sid: &str) -> String {
    let stream: String = stream_sid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    format!("{tenant}/{call_id}/{stream}.ogg")
}

fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// The id of the tenant's call `call_sid`, if the call is known.
    pub async fn call_id_by_sid(
        &self,
        tenant: TenantId,
        call_sid: &CallSid,
    ) -> Result<Option<Uuid>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let call = find_by_sid(&txn, tenant, call_sid).await?;
        txn.commit().await?;
        Ok(call.map(|c| c.id))
    }

    /// Records that call `call_id`'s stream was saved; a second save of the same stream (a
    /// retry) keeps the first row.
    pub async fn save_recording(
        &self,
        tenant: TenantId,
        call_id: Uuid,
        new: NewRecording,
    ) -> Result<RecordingRecord, StoreError> {
        let row = recordings::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            call_id: Set(call_id),
            stream_sid: Set(new.stream_sid.clone()),
            storage_key: Set(new.storage_key),
            content_type: Set(new.content_type),
            bytes: Set(big(new.bytes)),
            duration_ms: Set(big(new.duration_ms)),
            channels: Set(i16::from(new.channels)),
            created_at: Set(Utc::now()),
        };
        let txn = self.scoped(tenant).await?;
        recordings::Entity::insert(row)
            .on_conflict_do_nothing_on([recordings::Column::CallId, recordings::Column::StreamSid])
            .exec_without_returning(&txn)
            .await?;
        let saved = recordings::Entity::find()
            .filter(recordings::Column::TenantId.eq(tenant.as_uuid()))
            .filter(recordings::Column::CallId.eq(call_id))
            .filter(recordings::Column::StreamSid.eq(new.stream_sid))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "recording",
            })?;
        txn.commit().await?;
        Ok(saved.into())
    }

    /// The recording a call page plays: the call's first stream's (a call back from a
    /// transfer has a second one, kept as its own row).
    pub async fn call_recording(
        &self,
        tenant: TenantId,
        call_id: Uuid,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = recordings::Entity::find()
            .filter(recordings::Column::TenantId.eq(tenant.as_uuid()))
            .filter(recordings::Column::CallId.eq(call_id))
            .order_by_asc(recordings::Column::Id)
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(row.map(RecordingRecord::from))
    }

    /// Each tenant that keeps recordings for a limited time, with the recordings made before
    /// `now` less its retention (at most `limit` per tenant, oldest first). Reads every
    /// tenant: for the purge job, not for request paths.
    pub async fn expired_recordings(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<ExpiredRecordings>, StoreError> {
        let mut out = Vec::new();
        // Edge: every tenant (row-level security shows a scoped query only its own).
        for found in self.all_tenants().await? {
            let Some(days) = found.recording_retention_days else {
                continue;
            };
            let tenant = found.id;
            let cutoff = now - chrono::Duration::days(i64::from(days));
            let txn = self.scoped(tenant).await?;
            let rows = recordings::Entity::find()
                .filter(recordings::Column::TenantId.eq(tenant.as_uuid()))
                .filter(recordings::Column::CreatedAt.lt(cutoff))
                .order_by_asc(recordings::Column::CreatedAt)
                .limit(limit)
                .all(&txn)
                .await?;
            txn.commit().await?;
            if !rows.is_empty() {
                let recordings = rows.into_iter().map(RecordingRecord::from).collect();
                out.push(ExpiredRecordings { tenant, recordings });
            }
        }
        Ok(out)
    }

    /// Deletes the tenant's recording row `id` (its object is deleted first, by the caller).
    pub async fn delete_recording(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        recordings::Entity::delete_many()
            .filter(recordings::Column::TenantId.eq(tenant.as_uuid()))
            .filter(recordings::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
