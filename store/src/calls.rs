//! Calls, their transcripts and metrics.

use crate::{
    Store, StoreError,
    call_insights::{latencies_from, tool_calls_from, tool_calls_json},
    entities::{call_metrics, calls, live_transcript_segments, transcript_segments},
};
use chrono::{DateTime, Utc};
use domain::{
    AgentId, AnsweredBy, CallDirection, CallOutcome, CallSid, CallStatus, CallerId, E164, Speaker,
    TenantId, TranscriptSegment, workflow_io::ToolCallRecord,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
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

/// How a call ended: what [`Store::finish_call`] writes.
#[derive(Debug, Clone)]
pub struct FinishedCall {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    pub final_status: CallStatus,
    pub outcome: CallOutcome,
    pub duration_secs: u32,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// Twilio's answering machine detection result, if any.
    pub answered_by: Option<AnsweredBy>,
    /// The segments not saved before (a long call saves as it goes) …
    pub transcript: Vec<TranscriptSegment>,
    /// … starting at this `seq`; earlier ones are kept.
    pub transcript_first_seq: u32,
    pub metrics: CallCounts,
    /// How the call's last transfer ended, if it had one.
    pub transfer_result: Option<String>,
    /// The agent's tool calls, oldest first.
    pub tool_calls: Vec<ToolCallRecord>,
}

/// A call's turn counts and stream timing, stored in `call_metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub caller_turns: u32,
    pub agent_turns: u32,
    pub interruptions: u32,
    /// Milliseconds from call start to the media stream connecting.
    pub stream_connect_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: Option<AgentId>,
    pub call_sid: CallSid,
    pub direction: CallDirection,
    /// Twilio's `From`: a number, withheld, or the caller's identity.
    pub from_number: CallerId,
    pub to_number: E164,
    pub status: CallStatus,
    pub outcome: Option<CallOutcome>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u32>,
    pub answered_by: Option<AnsweredBy>,
    pub workflow_id: String,
    /// How the call's last warm transfer ended (`transferred`, `no_answer` …).
    pub transfer_result: Option<String>,
    /// The post-call analysis (summary, outcome class, extracted fields), once it ran.
    pub analysis: Option<serde_json::Value>,
    /// The campaign that placed the call, if one did.
    pub campaign_id: Option<Uuid>,
    /// The analysis flagged the call for a person to look at, and nobody has yet.
    pub needs_attention: bool,
    /// The agent's tool calls, oldest first (saved when the call ends).
    pub tool_calls: Vec<ToolCallRecord>,
    /// Voice-to-voice latency of the agent's replies (ms), as the media bridge measured them.
    pub reply_latencies_ms: Vec<u32>,
}

/// Which calls [`Store::list_calls`] lists; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Started at or after …
    pub from: Option<DateTime<Utc>>,
    /// … and before.
    pub until: Option<DateTime<Utc>>,
    pub direction: Option<CallDirection>,
    pub outcome: Option<CallOutcome>,
    pub agent_id: Option<AgentId>,
    pub campaign_id: Option<Uuid>,
    /// Digits the caller's or the called number ends with (`0100`) or contains.
    pub number_digits: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CallPage {
    pub calls: Vec<CallRecord>,
    /// Pass as `before` to fetch the next (older) page; `None` on the last page.
    pub next_cursor: Option<Uuid>,
}

/// `calls.source` of the calls we place and receive through Twilio ourselves.
pub const SOURCE_TWILIO: &str = "twilio";

/// A stored value we did not write: the row is corrupt.
fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("calls.{column} `{value}`"))
}

impl TryFrom<calls::Model> for CallRecord {
    type Error = StoreError;

    fn try_from(row: calls::Model) -> Result<Self, StoreError> {
        let outcome = match row.outcome.as_deref() {
            Some(raw) => Some(CallOutcome::parse(raw).ok_or_else(|| corrupt("outcome", raw))?),
            None => None,
        };
        Ok(Self {
            id: row.id,
            tenant_id: row.tenant_id.into(),
            agent_id: row.agent_id.map(AgentId::from),
            call_sid: CallSid::parse(&row.call_sid)
                .map_err(|_| corrupt("call_sid", &row.call_sid))?,
            direction: CallDirection::parse(&row.direction)
                .ok_or_else(|| corrupt("direction", &row.direction))?,
            from_number: CallerId::parse(&row.from_number),
            to_number: E164::parse(&row.to_number)
                .map_err(|_| corrupt("to_number", &row.to_number))?,
            status: CallStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
            outcome,
            started_at: row.started_at,
            answered_at: row.answered_at,
            ended_at: row.ended_at,
            duration_secs: row.duration_secs.and_then(|d| u32::try_from(d).ok()),
            answered_by: row.answered_by.as_deref().map(AnsweredBy::parse),
            workflow_id: row.workflow_id,
            transfer_result: row.transfer_result,
            analysis: match row.analysis.as_deref() {
                Some(raw) => {
                    Some(serde_json::from_str(raw).map_err(|_| corrupt("analysis", "not JSON"))?)
                }
                None => None,
            },
            campaign_id: row.campaign_id,
            needs_attention: row.needs_attention,
            tool_calls: tool_calls_from(row.tool_calls.as_deref()),
            reply_latencies_ms: latencies_from(row.reply_latencies_ms.as_deref()),
        })
    }
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
            transfer_result: Set(None),
            analysis: Set(None),
            outcome_class: Set(None),
            needs_attention: Set(false),
            resolved_at: Set(None),
            resolved_by: Set(None),
            campaign_id: Set(None),
            external_id: Set(None),
            source: Set(SOURCE_TWILIO.to_owned()),
            tool_calls: Set(None),
            reply_latencies_ms: Set(None),
            reply_latency_p50_ms: Set(None),
        };
        let txn = self.scoped_one(tenant).await?;
        calls::Entity::insert(row)
            .on_conflict_do_nothing_on([calls::Column::CallSid])
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn call_by_sid(
        &self,
        tenant: TenantId,
        sid: &CallSid,
    ) -> Result<Option<CallRecord>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = find_by_sid(&txn, tenant, sid).await?;
        txn.commit().await?;
        row.map(CallRecord::try_from).transpose()
    }

    pub async fn call(&self, tenant: TenantId, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = calls::Entity::find_by_id(id)
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        row.map(CallRecord::try_from).transpose()
    }

    /// Newest first, those `filter` lets through. `before` is the cursor returned with the
    /// previous page.
    pub async fn list_calls(
        &self,
        tenant: TenantId,
        filter: &CallFilter,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<CallPage, StoreError> {
        let mut query = calls::Entity::find().filter(calls::Column::TenantId.eq(tenant.as_uuid()));
        query = narrow(query, filter);
        if let Some(cursor) = before {
            query = query.filter(calls::Column::Id.lt(cursor));
        }
        let txn = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(calls::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        let page = crate::Page::from_rows(rows, limit, |r| r.id, CallRecord::try_from)?;
        Ok(CallPage {
            calls: page.items,
            next_cursor: page.next_cursor,
        })
    }

    /// Closes the call: final status, outcome, times, transcript and metrics, in one transaction.
    /// Safe to repeat: the transcript and metrics are replaced, not appended.
    pub async fn finish_call(&self, finish: &FinishedCall) -> Result<(), StoreError> {
        let tenant = finish.tenant_id.as_uuid();
        let txn = self.scoped(finish.tenant_id).await?;
        let call = find_by_sid(&txn, finish.tenant_id, &finish.call_sid)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        calls::Entity::update_many()
            .set(calls::ActiveModel {
                status: Set(finish.final_status.as_str().to_owned()),
                outcome: Set(Some(finish.outcome.as_str().to_owned())),
                answered_at: Set(finish.answered_at),
                ended_at: Set(Some(finish.ended_at)),
                answered_by: Set(finish.answered_by.as_ref().map(|a| a.as_str().to_owned())),
                transfer_result: Set(finish.transfer_result.clone()),
                tool_calls: Set(tool_calls_json(&finish.tool_calls)),
                duration_secs: Set(Some(
                    i32::try_from(finish.duration_secs).unwrap_or(i32::MAX),
                )),
                ..Default::default()
            })
            .filter(calls::Column::Id.eq(call.id))
            .filter(calls::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await?;
        replace_transcript_from(
            &txn,
            tenant,
            call.id,
            finish.transcript_first_seq,
            &finish.transcript,
        )
        .await?;
        upsert_metrics(&txn, tenant, call.id, &finish.metrics).await?;
        // The live transcript was for watching the call; the saved one is the record.
        live_transcript_segments::Entity::delete_many()
            .filter(live_transcript_segments::Column::TenantId.eq(tenant))
            .filter(live_transcript_segments::Column::CallId.eq(call.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Saves transcript segments from `first_seq` on, replacing those saved there before (a
    /// retry changes nothing). A long call saves this way each time it continues as new.
    pub async fn save_transcript(
        &self,
        tenant: TenantId,
        call_sid: &CallSid,
        first_seq: u32,
        segments: &[TranscriptSegment],
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        let call = find_by_sid(&txn, tenant, call_sid)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        replace_transcript_from(&txn, tenant.as_uuid(), call.id, first_seq, segments).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn transcript(
        &self,
        tenant: TenantId,
        call_id: Uuid,
    ) -> Result<Vec<TranscriptSegment>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let rows = transcript_segments::Entity::find()
            .filter(transcript_segments::Column::TenantId.eq(tenant.as_uuid()))
            .filter(transcript_segments::Column::CallId.eq(call_id))
            .order_by_asc(transcript_segments::Column::Seq)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                let speaker = Speaker::parse(&r.speaker)
                    .ok_or_else(|| StoreError::Corrupt(format!("speaker `{}`", r.speaker)))?;
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

/// The tenant's call with this SID.
/// `query` with the conditions of `filter`.
fn narrow(
    mut query: sea_orm::Select<calls::Entity>,
    filter: &CallFilter,
) -> sea_orm::Select<calls::Entity> {
    use calls::Column as C;
    if let Some(from) = filter.from {
        query = query.filter(C::StartedAt.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(C::StartedAt.lt(until));
    }
    if let Some(direction) = filter.direction {
        query = query.filter(C::Direction.eq(direction.as_str()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(C::Outcome.eq(outcome.as_str()));
    }
    if let Some(agent) = filter.agent_id {
        query = query.filter(C::AgentId.eq(agent.as_uuid()));
    }
    if let Some(campaign) = filter.campaign_id {
        query = query.filter(C::CampaignId.eq(campaign));
    }
    if let Some(digits) = &filter.number_digits {
        let pattern = format!("%{digits}%");
        query = query.filter(
            sea_orm::Condition::any()
                .add(C::FromNumber.like(pattern.clone()))
                .add(C::ToNumber.like(pattern)),
        );
    }
    query
}

pub(crate) async fn find_by_sid(
    txn: &impl sea_orm::ConnectionTrait,
    tenant: TenantId,
    sid: &CallSid,
) -> Result<Option<calls::Model>, StoreError> {
    Ok(calls::Entity::find()
        .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
        .filter(calls::Column::CallSid.eq(sid.as_str()))
        .one(txn)
        .await?)
}

/// The call's transcript segments from `first_seq` on become `segments` (a retried
/// activity's earlier attempt at them goes).
pub(crate) async fn replace_transcript_from(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    call_id: Uuid,
    first_seq: u32,
    segments: &[TranscriptSegment],
) -> Result<(), StoreError> {
    transcript_segments::Entity::delete_many()
        .filter(transcript_segments::Column::TenantId.eq(tenant))
        .filter(transcript_segments::Column::CallId.eq(call_id))
        .filter(transcript_segments::Column::Seq.gte(first_seq as i32))
        .exec(txn)
        .await?;
    let rows: Vec<_> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| transcript_segments::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant),
            call_id: Set(call_id),
            seq: Set((first_seq as usize + i) as i32),
            speaker: Set(s.speaker.as_str().to_owned()),
            text: Set(s.text.clone()),
            start_ms: Set(s.start_ms as i64),
            end_ms: Set(s.end_ms as i64),
            interrupted: Set(s.interrupted),
        })
        .collect();
    if !rows.is_empty() {
        transcript_segments::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Writes the call's metrics row, or overwrites it with these counts.
async fn upsert_metrics(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    call_id: Uuid,
    m: &CallCounts,
) -> Result<(), StoreError> {
    call_metrics::Entity::insert(call_metrics::ActiveModel {
        call_id: Set(call_id),
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
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory database with one tenant and one call in progress.
    async fn store_with_call() -> (Store, TenantId, CallSid) {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let tenant = store.create_tenant("Acme").await.unwrap().id;
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        let call = NewCall {
            call_sid: sid.clone(),
            agent_id: None,
            direction: CallDirection::Outbound,
            from: CallerId::Withheld,
            to: E164::parse("+14155550100").unwrap(),
            status: CallStatus::InProgress,
            started_at: Utc::now(),
            workflow_id: sid.workflow_id(),
        };
        store.record_call_started(tenant, call).await.unwrap();
        (store, tenant, sid)
    }

    #[tokio::test]
    async fn a_finished_call_reads_back_as_domain_types() {
        let (store, tenant, sid) = store_with_call().await;
        let in_progress = store.call_by_sid(tenant, &sid).await.unwrap().unwrap();
        assert_eq!(in_progress.status, CallStatus::InProgress);
        assert_eq!(in_progress.outcome, None);

        let finish = FinishedCall {
            tenant_id: tenant,
            call_sid: sid.clone(),
            final_status: CallStatus::Completed,
            outcome: CallOutcome::Voicemail,
            duration_secs: 12,
            answered_at: None,
            ended_at: Utc::now(),
            answered_by: Some(AnsweredBy::MachineEndBeep),
            transcript: vec![TranscriptSegment {
                speaker: Speaker::Agent,
                text: "Hello".into(),
                start_ms: 0,
                end_ms: 500,
                interrupted: false,
            }],
            transcript_first_seq: 0,
            metrics: CallCounts {
                agent_turns: 1,
                ..CallCounts::default()
            },
            transfer_result: Some("no_answer".into()),
            tool_calls: Vec::new(),
        };
        store.finish_call(&finish).await.unwrap();
        store.finish_call(&finish).await.unwrap();

        let row = store.call_by_sid(tenant, &sid).await.unwrap().unwrap();
        assert_eq!(row.call_sid, sid);
        assert_eq!(row.transfer_result.as_deref(), Some("no_answer"));
        assert_eq!(row.direction, CallDirection::Outbound);
        assert_eq!(row.from_number, CallerId::Withheld);
        assert_eq!(row.to_number.as_str(), "+14155550100");
        assert_eq!(row.status, CallStatus::Completed);
        assert_eq!(row.outcome, Some(CallOutcome::Voicemail));
        assert_eq!(row.answered_by, Some(AnsweredBy::MachineEndBeep));
        assert_eq!(row.duration_secs, Some(12));
        let transcript = store.transcript(tenant, row.id).await.unwrap();
        assert_eq!(
            transcript, finish.transcript,
            "a repeated finish replaces, not appends"
        );
    }

    #[tokio::test]
    async fn a_long_calls_transcript_is_saved_in_parts_and_a_retry_changes_nothing() {
        let (store, tenant, sid) = store_with_call().await;
        let segment = |n: u64| TranscriptSegment {
            speaker: if n.is_multiple_of(2) {
                Speaker::Caller
            } else {
                Speaker::Agent
            },
            text: format!("segment {n}"),
            start_ms: n * 1000,
            end_ms: n * 1000 + 500,
            interrupted: false,
        };
        let first: Vec<_> = (0..3).map(segment).collect();
        let second: Vec<_> = (3..5).map(segment).collect();
        store
            .save_transcript(tenant, &sid, 0, &first)
            .await
            .unwrap();
        store
            .save_transcript(tenant, &sid, 0, &first)
            .await
            .unwrap();
        store
            .save_transcript(tenant, &sid, 3, &second)
            .await
            .unwrap();
        let finish = FinishedCall {
            tenant_id: tenant,
            call_sid: sid.clone(),
            final_status: CallStatus::Completed,
            outcome: CallOutcome::Completed,
            duration_secs: 5,
            answered_at: None,
            ended_at: Utc::now(),
            answered_by: None,
            transcript: vec![segment(5)],
            transcript_first_seq: 5,
            metrics: CallCounts::default(),
            transfer_result: None,
            tool_calls: Vec::new(),
        };
        store.finish_call(&finish).await.unwrap();
        store.finish_call(&finish).await.unwrap();
        let row = store.call_by_sid(tenant, &sid).await.unwrap().unwrap();
        let saved = store.transcript(tenant, row.id).await.unwrap();
        assert_eq!(saved, (0..6).map(segment).collect::<Vec<_>>());
    }
}
