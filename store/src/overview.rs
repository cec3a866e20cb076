//! The dashboard's numbers over a tenant's calls between two instants (`from` inclusive, `to`
//! exclusive, on `started_at`), and the review queue of calls flagged by their analysis.
//!
//! Counts are SQL aggregates written to mean the same on PostgreSQL and SQLite (`COUNT`, `SUM`
//! of `CASE`; no `AVG`, whose type differs, and no date functions, which differ): averages
//! and time buckets are computed by the caller from the sums and the start times.

use crate::{
    Page, Store, StoreError,
    calls::CallRecord,
    entities::{appointments, calls, dnc_entries},
};
use chrono::{DateTime, Utc};
use domain::{TenantId, crm::AppointmentSource, crm::DncSource};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

/// Totals over the calls started in a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTotals {
    pub total: u64,
    pub answered: u64,
    /// Seconds of the answered calls that have a duration, and how many those are.
    pub answered_secs: u64,
    pub answered_timed: u64,
    pub transferred: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverviewCounts {
    pub calls: CallTotals,
    /// Appointments booked by calls, created in the range.
    pub appointments_booked: u64,
    /// Numbers added to the do-not-call list during calls, in the range.
    pub dnc_added: u64,
    /// Flagged calls in the range nobody has resolved yet.
    pub needs_attention: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeCount {
    pub outcome: Option<String>,
    pub outcome_class: Option<String>,
    pub calls: u64,
}

/// A flagged, unresolved call with what its analysis said.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionItem {
    pub call: CallRecord,
    pub outcome_class: Option<String>,
    pub summary: Option<String>,
    pub confidence: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub resolved_at: DateTime<Utc>,
    pub resolved_by: Option<Uuid>,
    /// `false` when the call had been resolved before (nothing changed).
    pub newly_resolved: bool,
}

type TotalsRow = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn in_range<Q: QueryFilter>(
    query: Q,
    tenant: Uuid,
    tenant_col: impl ColumnTrait,
    at_col: impl ColumnTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Q {
    query
        .filter(tenant_col.eq(tenant))
        .filter(at_col.gte(from))
        .filter(at_col.lt(to))
}

impl Store {
    pub async fn overview_counts(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<OverviewCounts, StoreError> {
        use calls::Column as C;
        let t = tenant.as_uuid();
        let scope = self.scoped(tenant).await?;
        let calls = call_totals(&scope, t, from, to).await?;
        let needs_attention = in_range(
            calls::Entity::find(),
            t,
            C::TenantId,
            C::StartedAt,
            from,
            to,
        )
        .filter(C::NeedsAttention.eq(true))
        .filter(C::ResolvedAt.is_null())
        .count(&scope)
        .await?;
        let appointments_booked = in_range(
            appointments::Entity::find(),
            t,
            appointments::Column::TenantId,
            appointments::Column::CreatedAt,
            from,
            to,
        )
        .filter(appointments::Column::Source.eq(AppointmentSource::Call.as_str()))
        .count(&scope)
        .await?;
        let dnc_added = in_range(
            dnc_entries::Entity::find(),
            t,
            dnc_entries::Column::TenantId,
            dnc_entries::Column::CreatedAt,
            from,
            to,
        )
        .filter(dnc_entries::Column::Source.eq(DncSource::Call.as_str()))
        .count(&scope)
        .await?;
        scope.commit().await?;
        Ok(OverviewCounts {
            calls,
            appointments_booked,
            dnc_added,
            needs_attention,
        })
    }

    /// When each call in the range started and whether it was answered, oldest first; at most
    /// `limit` calls (the caller bounds the range, and says when the limit cut it).
    pub async fn call_start_times(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<(DateTime<Utc>, bool)>, StoreError> {
        use calls::Column as C;
        let scope = self.scoped_one(tenant).await?;
        let rows: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = in_range(
            calls::Entity::find(),
            tenant.as_uuid(),
            C::TenantId,
            C::StartedAt,
            from,
            to,
        )
        .select_only()
        .column(C::StartedAt)
        .column(C::AnsweredAt)
        .order_by_asc(C::StartedAt)
        .limit(limit)
        .into_tuple()
        .all(&scope)
        .await?;
        scope.commit().await?;
        Ok(rows.into_iter().map(|(s, a)| (s, a.is_some())).collect())
    }

    /// The median reply latency (ms) of each call in the range that has one; at most `limit`.
    pub async fn reply_latency_medians(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<u32>, StoreError> {
        use calls::Column as C;
        let scope = self.scoped_one(tenant).await?;
        let rows: Vec<Option<i32>> = in_range(
            calls::Entity::find(),
            tenant.as_uuid(),
            C::TenantId,
            C::StartedAt,
            from,
            to,
        )
        .filter(C::ReplyLatencyP50Ms.is_not_null())
        .select_only()
        .column(C::ReplyLatencyP50Ms)
        .limit(limit)
        .into_tuple()
        .all(&scope)
        .await?;
        scope.commit().await?;
        Ok(rows
            .into_iter()
            .flatten()
            .filter_map(|ms| u32::try_from(ms).ok())
            .collect())
    }

    /// How many calls in the range ended each way, by call outcome and business outcome.
    pub async fn outcome_counts(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<OutcomeCount>, StoreError> {
        use calls::Column as C;
        let scope = self.scoped_one(tenant).await?;
        let rows: Vec<(Option<String>, Option<String>, i64)> = in_range(
            calls::Entity::find(),
            tenant.as_uuid(),
            C::TenantId,
            C::StartedAt,
            from,
            to,
        )
        .select_only()
        .column(C::Outcome)
        .column(C::OutcomeClass)
        .column_as(C::Id.count(), "calls")
        .group_by(C::Outcome)
        .group_by(C::OutcomeClass)
        .into_tuple()
        .all(&scope)
        .await?;
        scope.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(outcome, outcome_class, calls)| OutcomeCount {
                outcome,
                outcome_class,
                calls: calls.max(0) as u64,
            })
            .collect())
    }

    /// Flagged calls nobody has resolved, newest first.
    pub async fn needs_attention(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<AttentionItem>, StoreError> {
        use calls::Column as C;
        let mut query = calls::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::NeedsAttention.eq(true))
            .filter(C::ResolvedAt.is_null());
        if let Some(cursor) = before {
            query = query.filter(C::Id.lt(cursor));
        }
        let scope = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(C::Id)
            .limit(limit + 1)
            .all(&scope)
            .await?;
        scope.commit().await?;
        Page::from_rows(rows, limit, |r| r.id, attention_item)
    }

    /// Marks the call's review done, by `by`. Resolving a resolved call changes nothing.
    pub async fn resolve_call(
        &self,
        tenant: TenantId,
        call_id: Uuid,
        by: Uuid,
    ) -> Result<Resolution, StoreError> {
        use calls::Column as C;
        let txn = self.scoped(tenant).await?;
        let now = Utc::now();
        let updated = calls::Entity::update_many()
            .set(calls::ActiveModel {
                resolved_at: Set(Some(now)),
                resolved_by: Set(Some(by)),
                ..Default::default()
            })
            .filter(C::Id.eq(call_id))
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::ResolvedAt.is_null())
            .exec(&txn)
            .await?;
        let row = calls::Entity::find_by_id(call_id)
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        txn.commit().await?;
        Ok(Resolution {
            resolved_at: row.resolved_at.unwrap_or(now),
            resolved_by: row.resolved_by,
            newly_resolved: updated.rows_affected > 0,
        })
    }
}

/// One row of sums over the range's calls.
async fn call_totals(
    scope: &impl sea_orm::ConnectionTrait,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CallTotals, StoreError> {
    use calls::Column as C;
    let sum = |condition: &str, value: &str| {
        Expr::cust(format!(
            "SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)"
        ))
    };
    let timed = "answered_at IS NOT NULL AND duration_secs IS NOT NULL";
    let totals: Option<TotalsRow> = in_range(
        calls::Entity::find(),
        tenant,
        C::TenantId,
        C::StartedAt,
        from,
        to,
    )
    .select_only()
    .column_as(C::Id.count(), "total")
    .column_as(sum("answered_at IS NOT NULL", "1"), "answered")
    .column_as(sum(timed, "duration_secs"), "answered_secs")
    .column_as(sum(timed, "1"), "answered_timed")
    .column_as(sum("transfer_result = 'transferred'", "1"), "transferred")
    .into_tuple()
    .one(scope)
    .await?;
    let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
    let (total, answered, answered_secs, answered_timed, transferred) =
        totals.unwrap_or((0, None, None, None, None));
    Ok(CallTotals {
        total: n(Some(total)),
        answered: n(answered),
        answered_secs: n(answered_secs),
        answered_timed: n(answered_timed),
        transferred: n(transferred),
    })
}

fn attention_item(row: calls::Model) -> Result<AttentionItem, StoreError> {
    let analysis: Option<serde_json::Value> = row
        .analysis
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("calls.analysis: {e}")))?;
    let field = |name: &str| analysis.as_ref().and_then(|a| a.get(name).cloned());
    Ok(AttentionItem {
        outcome_class: row.outcome_class.clone(),
        summary: field("summary").and_then(|v| v.as_str().map(str::to_owned)),
        confidence: field("confidence").and_then(|v| v.as_f64()),
        call: CallRecord::try_from(row)?,
    })
}
