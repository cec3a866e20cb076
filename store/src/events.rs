//! The delivery log of events sent to the tenant's webhook (`event_deliveries`): an event is
//! created once (per tenant, type and subject), then each delivery attempt records its outcome
//! on the row. A delivered event stays delivered, whatever a late attempt reports.

use crate::{
    CallRecord, Page, Store, StoreError,
    agents::into_page,
    entities::{calls, event_deliveries as ed},
};
use chrono::{DateTime, SubsecRound, Utc};
use domain::{
    CallDirection, TenantId,
    campaign::analysis::PostCallAnalysis,
    events::{AnalyzedCall, CallAnalyzed, Envelope, EventStatus, EventType},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use uuid::Uuid;

/// One event and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The event's id: the envelope's `id` and every attempt's `Switchboard-Delivery`.
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub event_type: EventType,
    /// What it is about (`call.analyzed`: the call SID).
    pub subject: String,
    /// The envelope as signed and sent (JSON).
    pub payload: String,
    pub status: EventStatus,
    /// Attempts whose outcome was recorded, over every delivery run.
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, or why the event was skipped (short, no personal data).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ed::Model> for EventRecord {
    type Error = StoreError;

    fn try_from(row: ed::Model) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("event_deliveries.{what} `{v}`"));
        Ok(Self {
            event_type: EventType::parse(&row.event_type)
                .ok_or_else(|| corrupt("event_type", &row.event_type))?,
            status: EventStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            id: row.id,
            tenant_id: row.tenant_id.into(),
            subject: row.subject,
            payload: row.payload,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Which events a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub status: Option<EventStatus>,
    pub event_type: Option<EventType>,
}

/// What one delivery attempt learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAttempt {
    /// `delivered`; `failed` for a permanent refusal; `pending` when another attempt follows.
    pub status: EventStatus,
    /// The webhook's HTTP status, when it answered.
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

async fn find_event(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<EventRecord, StoreError> {
    ed::Entity::find_by_id(id)
        .filter(ed::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "event" })?
        .try_into()
}

/// The event of (`event_type`, `subject`): the one created before, or a new `pending` one
/// whose envelope wraps `data`. `true` when it is new.
async fn create_or_get<T: Serialize>(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    event_type: EventType,
    subject: &str,
    data: T,
) -> Result<(EventRecord, bool), StoreError> {
    // Milliseconds: the envelope's `created_at` must read back the same from either database.
    let now = Utc::now().trunc_subsecs(3);
    let id = Uuid::now_v7();
    let envelope = Envelope {
        event_type,
        id,
        created_at: now,
        data,
    };
    let payload = serde_json::to_string(&envelope)
        .map_err(|e| StoreError::Corrupt(format!("the event does not serialise: {e}")))?;
    let inserted = ed::Entity::insert(ed::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.as_uuid()),
        event_type: Set(event_type.as_str().to_owned()),
        subject: Set(subject.to_owned()),
        payload: Set(payload),
        status: Set(EventStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        last_status_code: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        ed::Column::TenantId,
        ed::Column::EventType,
        ed::Column::Subject,
    ])
    .exec_without_returning(db)
    .await?;
    let row = ed::Entity::find()
        .filter(ed::Column::TenantId.eq(tenant.as_uuid()))
        .filter(ed::Column::EventType.eq(event_type.as_str()))
        .filter(ed::Column::Subject.eq(subject))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "event" })?;
    let created = matches!(inserted, TryInsertResult::Inserted(n) if n > 0);
    Ok((row.try_into()?, created))
}

/// `call.analyzed` of a call row that holds its analysis.
fn call_analyzed(row: calls::Model) -> Result<CallAnalyzed, StoreError> {
    let analysis: PostCallAnalysis = match row.analysis.as_deref() {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("calls.analysis: {e}")))?,
        None => {
            return Err(StoreError::NotFound {
                entity: "call analysis",
            });
        }
    };
    let (campaign_id, needs_attention) = (row.campaign_id, row.needs_attention);
    let call = CallRecord::try_from(row)?;
    let phone_masked = match call.direction {
        CallDirection::Inbound => call.from_number.masked(),
        CallDirection::Outbound => call.to_number.masked(),
    };
    let analyzed = AnalyzedCall {
        call_sid: &call.call_sid,
        direction: call.direction,
        campaign_id,
        outcome: call.outcome,
        needs_attention,
        phone_masked,
    };
    Ok(CallAnalyzed::new(analyzed, &analysis))
}

impl Store {
    /// Creates the event of (`event_type`, `subject`) with `data`, or returns the one created
    /// before (whose data stands); `true` when it is new.
    pub async fn create_event<T: Serialize>(
        &self,
        tenant: TenantId,
        event_type: EventType,
        subject: &str,
        data: T,
    ) -> Result<(EventRecord, bool), StoreError> {
        let txn = self.scoped(tenant).await?;
        let created = create_or_get(&txn, tenant, event_type, subject, data).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The `call.analyzed` event of call `call_id`, built from the call's row as its analysis
    /// left it (outcome, summary, review flag), or the one created before; `true` when new.
    pub async fn call_analyzed_event(
        &self,
        tenant: TenantId,
        call_id: Uuid,
    ) -> Result<(EventRecord, bool), StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = calls::Entity::find_by_id(call_id)
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        let subject = row.call_sid.clone();
        let data = call_analyzed(row)?;
        let created = create_or_get(&txn, tenant, EventType::CallAnalyzed, &subject, data).await?;
        txn.commit().await?;
        Ok(created)
    }

    pub async fn event(&self, tenant: TenantId, id: Uuid) -> Result<EventRecord, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let found = find_event(&scope, tenant, id).await;
        scope.commit().await?;
        found
    }

    /// Records one attempt: one more counted, its status code and error, and its status (a
    /// delivered event is left as it is). Returns the row after.
    pub async fn record_event_attempt(
        &self,
        tenant: TenantId,
        id: Uuid,
        attempt: &EventAttempt,
    ) -> Result<EventRecord, StoreError> {
        let now = Utc::now();
        let mut update = ed::Entity::update_many()
            .col_expr(ed::Column::Status, Expr::value(attempt.status.as_str()))
            .col_expr(ed::Column::Attempts, Expr::col(ed::Column::Attempts).add(1))
            .col_expr(
                ed::Column::LastStatusCode,
                Expr::value(attempt.status_code.map(i32::from)),
            )
            .col_expr(ed::Column::LastError, Expr::value(attempt.error.clone()))
            .col_expr(ed::Column::UpdatedAt, Expr::value(now));
        if attempt.status == EventStatus::Delivered {
            update = update.col_expr(ed::Column::DeliveredAt, Expr::value(now));
        }
        self.update_undelivered(tenant, id, update).await
    }

    /// Settles an event without an attempt: `skipped` (no webhook) or `failed` (the retries
    /// ran out; the last attempt's error stays). A delivered event is left as it is.
    pub async fn settle_event(
        &self,
        tenant: TenantId,
        id: Uuid,
        status: EventStatus,
        detail: Option<&str>,
    ) -> Result<EventRecord, StoreError> {
        let mut update = ed::Entity::update_many()
            .col_expr(ed::Column::Status, Expr::value(status.as_str()))
            .col_expr(ed::Column::UpdatedAt, Expr::value(Utc::now()));
        if let Some(detail) = detail {
            update = update.col_expr(ed::Column::LastError, Expr::value(detail));
        }
        self.update_undelivered(tenant, id, update).await
    }

    async fn update_undelivered(
        &self,
        tenant: TenantId,
        id: Uuid,
        update: sea_orm::UpdateMany<ed::Entity>,
    ) -> Result<EventRecord, StoreError> {
        let txn = self.scoped(tenant).await?;
        update
            .filter(ed::Column::Id.eq(id))
            .filter(ed::Column::TenantId.eq(tenant.as_uuid()))
            .filter(ed::Column::Status.ne(EventStatus::Delivered.as_str()))
            .exec(&txn)
            .await?;
        let after = find_event(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// The tenant's events, newest first, `limit` per page from `before` (a `next_cursor`).
    pub async fn list_events(
        &self,
        tenant: TenantId,
        filter: EventFilter,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<EventRecord>, StoreError> {
        let mut query = ed::Entity::find().filter(ed::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(status) = filter.status {
            query = query.filter(ed::Column::Status.eq(status.as_str()));
        }
        if let Some(event_type) = filter.event_type {
            query = query.filter(ed::Column::EventType.eq(event_type.as_str()));
        }
        if let Some(cursor) = before {
            query = query.filter(ed::Column::Id.lt(cursor));
        }
        let scope = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(ed::Column::Id)
            .limit(limit + 1)
            .all(&scope)
            .await?;
        scope.commit().await?;
        into_page(rows, limit, |r| r.id, EventRecord::try_from)
    }
}

#[cfg(test)]
mod tests;
