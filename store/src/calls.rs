//! Calls, their transcripts and metrics.

use crate::{
    Store, StoreError,
    entities::{call_metrics, calls, transcript_segments},
};
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    AgentId, CallDirection, CallSid, CallStatus, CallerId, E164, Speaker, TenantId,
    TranscriptSegment, workflow_io::FinishCallInput,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::OnConflict,
};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewCall {
    pub call_sid: CallSid,
    pub agent_id: Option<AgentId>,
    pub direction: CallDirection,
    /// Twilio's `From`: stored as the number, `withheld`, or the caller's identity.
    pub from: CallerId,
    pub to: E164,
    pub status: CallStatus,
    pub started_at: DateTime<Utc>,
    pub workflow_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: Option<AgentId>,
    pub call_sid: String,
    pub direction: String,
    pub from_number: String,
    pub to_number: String,
    pub status: String,
    pub outcome: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u32>,
    pub answered_by: Option<String>,
    pub workflow_id: String,
}

#[derive(Debug, Clone)]
pub struct CallPage {
    pub calls: Vec<CallRecord>,
    /// Pass as `before` to fetch the next (older) page; `None` on the last page.
    pub next_cursor: Option<Uuid>,
}

impl From<calls::Model> for CallRecord {
    fn from(row: calls::Model) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id.into(),
            agent_id: row.agent_id.map(AgentId::from),
            call_sid: row.call_sid,
            direction: row.direction,
            from_number: row.from_number,
            to_number: row.to_number,
            status: row.status,
            outcome: row.outcome,
            started_at: row.started_at,
            answered_at: row.answered_at,
            ended_at: row.ended_at,
            duration_secs: row.duration_secs.and_then(|d| u32::try_from(d).ok()),
            answered_by: row.answered_by,
            workflow_id: row.workflow_id,
        }
    }
}

fn from_unix_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

impl Store {
    /// Records a new call. Idempotent on the call SID: a retried activity inserts nothing new.
    pub async fn record_call_started(
        &self,
        tenant: TenantId,
        call: NewCall,
    ) -> Result<(), StoreError> {
        let row = calls::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            agent_id: Set(call.agent_id.map(|a| a.as_uuid())),
            call_sid: Set(call.call_sid.to_string()),
            direction: Set(call.direction.as_str().to_owned()),
            from_number: Set(call.from.to_string()),
            to_number: Set(call.to.to_string()),
            status: Set(call.status.as_str().to_owned()),
            outcome: Set(None),
            started_at: Set(call.started_at),
            answered_at: Set(None),
            ended_at: Set(None),
            duration_secs: Set(None),
            answered_by: Set(None),
            workflow_id: Set(call.workflow_id),
        };
        calls::Entity::insert(row)
            .on_conflict_do_nothing_on([calls::Column::CallSid])
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    pub async fn call_by_sid(
        &self,
        tenant: TenantId,
        sid: &CallSid,
    ) -> Result<Option<CallRecord>, StoreError> {
        let row = calls::Entity::find()
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .filter(calls::Column::CallSid.eq(sid.as_str()))
            .one(&self.db)
            .await?;
        Ok(row.map(CallRecord::from))
    }

    pub async fn call(&self, tenant: TenantId, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        let row = calls::Entity::find_by_id(id)
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .one(&self.db)
            .await?;
        Ok(row.map(CallRecord::from))
    }

    /// Newest first. `before` is the cursor returned with the previous page.
    pub async fn list_calls(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<CallPage, StoreError> {
        let mut query = calls::Entity::find().filter(calls::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(cursor) = before {
            query = query.filter(calls::Column::Id.lt(cursor));
        }
        let mut rows = query
            .order_by_desc(calls::Column::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if has_more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(CallPage {
            calls: rows.into_iter().map(CallRecord::from).collect(),
            next_cursor,
        })
    }

    /// Closes the call: final status, outcome, times, transcript and metrics, in one transaction.
    /// Safe to repeat: the transcript and metrics are replaced, not appended.
    pub async fn finish_call(&self, finish: &FinishCallInput) -> Result<(), StoreError> {
        let tenant = finish.tenant_id.as_uuid();
        let call = self
            .call_by_sid(finish.tenant_id, &finish.call_sid)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        let txn = self.db.begin().await?;
        calls::Entity::update_many()
            .set(calls::ActiveModel {
                status: Set(finish.final_status.as_str().to_owned()),
                outcome: Set(Some(finish.outcome.as_str().to_owned())),
                answered_at: Set(finish.answered_at_ms.map(from_unix_ms)),
                ended_at: Set(Some(from_unix_ms(finish.ended_at_ms))),
                answered_by: Set(finish.answered_by.as_ref().map(|a| a.as_str().to_owned())),
                duration_secs: Set(Some(
                    i32::try_from(finish.duration_secs).unwrap_or(i32::MAX),
                )),
                ..Default::default()
            })
            .filter(calls::Column::Id.eq(call.id))
            .filter(calls::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await?;
        transcript_segments::Entity::delete_many()
            .filter(transcript_segments::Column::TenantId.eq(tenant))
            .filter(transcript_segments::Column::CallId.eq(call.id))
            .exec(&txn)
            .await?;
        let segments: Vec<_> = finish
            .transcript
            .iter()
            .enumerate()
            .map(|(seq, s)| transcript_segments::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant),
                call_id: Set(call.id),
                seq: Set(seq as i32),
                speaker: Set(s.speaker.as_str().to_owned()),
                text: Set(s.text.clone()),
                start_ms: Set(s.start_ms as i64),
                end_ms: Set(s.end_ms as i64),
                interrupted: Set(s.interrupted),
            })
            .collect();
        if !segments.is_empty() {
            transcript_segments::Entity::insert_many(segments)
                .exec_without_returning(&txn)
                .await?;
        }
        let m = &finish.metrics;
        call_metrics::Entity::insert(call_metrics::ActiveModel {
            call_id: Set(call.id),
            tenant_id: Set(tenant),
            caller_turns: Set(m.caller_turns as i32),
            agent_turns: Set(m.agent_turns as i32),
            interruptions: Set(m.interruptions as i32),
            stream_connect_ms: Set(m.stream_connect_ms.map(|v| v as i64)),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(call_metrics::Column::CallId)
                .update_columns([
                    call_metrics::Column::CallerTurns,
                    call_metrics::Column::AgentTurns,
                    call_metrics::Column::Interruptions,
                    call_metrics::Column::StreamConnectMs,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn transcript(
        &self,
        tenant: TenantId,
        call_id: Uuid,
    ) -> Result<Vec<TranscriptSegment>, StoreError> {
        let rows = transcript_segments::Entity::find()
            .filter(transcript_segments::Column::TenantId.eq(tenant.as_uuid()))
            .filter(transcript_segments::Column::CallId.eq(call_id))
            .order_by_asc(transcript_segments::Column::Seq)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                let speaker = match r.speaker.as_str() {
                    "caller" => Speaker::Caller,
                    "agent" => Speaker::Agent,
                    other => return Err(StoreError::Corrupt(format!("speaker `{other}`"))),
                };
                Ok(TranscriptSegment {
                    speaker,
                    text: r.text,
                    start_ms: r.start_ms.max(0) as u64,
                    end_ms: r.end_ms.max(0) as u64,
                    interrupted: r.interrupted,
                })
            })
            .collect()
    }
}
