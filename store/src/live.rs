//! Calls in progress and their words so far: what the console's live page follows. The media
//! bridge appends each transcript batch here as it signals it to the call's workflow; the
//! workflow's own transcript (saved when the call ends) stays the record, and finishing a call
//! deletes its live rows.

use crate::{
    Store, StoreError,
    calls::{CallRecord, find_by_sid},
    entities::{calls, live_transcript_segments as live},
};
use chrono::{DateTime, Duration, Utc};
use domain::{CallSid, CallStatus, Speaker, TenantId, TranscriptSegment};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A call older than this that never recorded its end (its worker's history lost, say) is
/// not live any more.
const LIVE_AT_MOST: Duration = Duration::hours(4);

/// One segment of a call in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSegment {
    /// UUID v7, in the order the bridge sent them.
    pub id: Uuid,
    pub call_id: Uuid,
    pub segment: TranscriptSegment,
    /// When the bridge stored it: the start of the live page's update latency.
    pub stored_at: DateTime<Utc>,
}

const LIVE_STATUSES: [CallStatus; 4] = [
    CallStatus::Queued,
    CallStatus::Initiated,
    CallStatus::Ringing,
    CallStatus::InProgress,
];

impl Store {
    /// Appends a transcript batch of the call `call_sid` (nothing when the call is unknown).
    pub async fn append_live_transcript(
        &self,
        tenant: TenantId,
        call_sid: &CallSid,
        segments: &[TranscriptSegment],
    ) -> Result<(), StoreError> {
        if segments.is_empty() {
            return Ok(());
        }
        let txn = self.scoped(tenant).await?;
        let Some(call) = find_by_sid(&txn, tenant, call_sid).await? else {
            return Ok(());
        };
        let now = Utc::now();
        let rows = segments.iter().map(|s| live::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            call_id: Set(call.id),
            speaker: Set(s.speaker.as_str().to_owned()),
            text: Set(s.text.clone()),
            start_ms: Set(i64::try_from(s.start_ms).unwrap_or(i64::MAX)),
            end_ms: Set(i64::try_from(s.end_ms).unwrap_or(i64::MAX)),
            interrupted: Set(s.interrupted),
            created_at: Set(now),
        });
        live::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The tenant's calls in progress, newest first, at most `limit`.
    pub async fn live_calls(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let rows = calls::Entity::find()
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .filter(calls::Column::EndedAt.is_null())
            .filter(calls::Column::Status.is_in(LIVE_STATUSES.map(|s| s.as_str())))
            .filter(calls::Column::StartedAt.gt(Utc::now() - LIVE_AT_MOST))
            .order_by_desc(calls::Column::Id)
            .limit(limit)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(CallRecord::try_from).collect()
    }

    /// Live segments of `calls` stored at or after `since`, oldest first.
    pub async fn live_segments(
        &self,
        tenant: TenantId,
        calls: &[Uuid],
        since: DateTime<Utc>,
    ) -> Result<Vec<LiveSegment>, StoreError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.scoped_one(tenant).await?;
        let rows = live::Entity::find()
            .filter(live::Column::TenantId.eq(tenant.as_uuid()))
            .filter(live::Column::CallId.is_in(calls.iter().copied()))
            .filter(live::Column::CreatedAt.gte(since))
            .order_by_asc(live::Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(LiveSegment::try_from).collect()
    }
}

impl TryFrom<live::Model> for LiveSegment {
    type Error = StoreError;

    fn try_from(r: live::Model) -> Result<Self, StoreError> {
        let speaker = Speaker::parse(&r.speaker).ok_or_else(|| {
            StoreError::Corrupt(format!("live_transcript_segments.speaker `{}`", r.speaker))
        })?;
        Ok(Self {
            id: r.id,
            call_id: r.call_id,
            segment: TranscriptSegment {
                speaker,
                text: r.text,
                start_ms: r.start_ms.max(0) as u64,
                end_ms: r.end_ms.max(0) as u64,
                interrupted: r.interrupted,
            },
            stored_at: r.created_at,
        })
    }
}
