//! Campaign targets: who a campaign calls, one row per number per campaign, with the engine's
//! bookkeeping (state, attempts, last call and outcome, when to try again).
//!
//! Lists arrive by the thousand (a CSV upload), so [`Store::add_targets`] inserts in batches and
//! skips numbers the campaign already has instead of failing the whole list.

use super::{campaigns::Campaigns, find, stored_enum, stored_phone, stored_zone};
use crate::{Page, Store, StoreError, entities::campaign_targets};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::{CallOutcome, CallSid, E164, TenantId, crm::TargetState};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};
use uuid::Uuid;

/// Rows per `INSERT`: 17 columns each stays well under SQLite's and PostgreSQL's bind limits.
const INSERT_BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    pub customer_id: Option<Uuid>,
    pub phone: E164,
    pub name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<Tz>,
    /// The list's other columns, by header.
    pub extra: serde_json::Value,
    /// The line of the uploaded list it came from, for reporting bad rows.
    pub source_line: Option<i32>,
}

impl NewTarget {
    /// The recipient's zone: their own, or [`domain::campaign::FALLBACK_ZONE`].
    pub fn zone(&self) -> Tz {
        self.time_zone.unwrap_or(domain::campaign::FALLBACK_ZONE)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignTarget {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub target: NewTarget,
    pub state: TargetState,
    pub attempts: i32,
    pub last_call_sid: Option<CallSid>,
    pub last_outcome: Option<CallOutcome>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// What the engine records after dialling a target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetProgress {
    pub state: TargetState,
    pub attempts: i32,
    pub last_call_sid: Option<CallSid>,
    pub last_outcome: Option<CallOutcome>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub(super) fn target_from(row: campaign_targets::Model) -> Result<CampaignTarget, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("campaign_targets.{what}"));
    let last_call_sid = row
        .last_call_sid
        .map(|s| CallSid::parse(&s).map_err(|_| corrupt("last_call_sid")))
        .transpose()?;
    let last_outcome = row
        .last_outcome
        .map(|o| CallOutcome::parse(&o).ok_or_else(|| corrupt("last_outcome")))
        .transpose()?;
    Ok(CampaignTarget {
        id: row.id,
        campaign_id: row.campaign_id,
        target: NewTarget {
            customer_id: row.customer_id,
            phone: stored_phone("campaign_targets.phone", Some(row.phone))?
                .ok_or_else(|| corrupt("phone"))?,
            name: row.name,
            email: row.email,
            time_zone: stored_zone("campaign_targets.time_zone", row.time_zone)?,
            extra: row.extra,
            source_line: row.source_line,
        },
        state: stored_enum("campaign_targets.state", &row.state, TargetState::parse)?,
        attempts: row.attempts,
        last_call_sid,
        last_outcome,
        next_attempt_at: row.next_attempt_at,
        updated_at: row.updated_at,
    })
}

fn target_row(
    tenant: TenantId,
    campaign: Uuid,
    new: NewTarget,
    now: DateTime<Utc>,
) -> campaign_targets::ActiveModel {
    campaign_targets::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        campaign_id: Set(campaign),
        customer_id: Set(new.customer_id),
        phone: Set(new.phone.as_str().to_owned()),
        name: Set(new.name),
        email: Set(new.email),
        time_zone: Set(new.time_zone.map(|z| z.name().to_owned())),
        extra: Set(new.extra),
        source_line: Set(new.source_line),
        state: Set(TargetState::Pending.as_str().to_owned()),
        attempts: Set(0),
        last_call_sid: Set(None),
        last_outcome: Set(None),
        next_attempt_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl Store {
    /// Adds `targets` to the campaign, skipping numbers it already has: how many were added.
    /// One transaction, so a failed batch adds none.
    pub async fn add_targets(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        targets: Vec<NewTarget>,
    ) -> Result<u64, StoreError> {
        let txn = self.scoped(tenant).await?;
        find::<Campaigns>(&txn, tenant, campaign).await?;
        let now = Utc::now();
        let mut rows = targets
            .into_iter()
            .map(|t| target_row(tenant, campaign, t, now))
            .peekable();
        let mut added = 0;
        while rows.peek().is_some() {
            let batch: Vec<_> = rows.by_ref().take(INSERT_BATCH).collect();
            let inserted = campaign_targets::Entity::insert_many(batch)
                .on_conflict(
                    OnConflict::columns([
                        campaign_targets::Column::CampaignId,
                        campaign_targets::Column::Phone,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await;
            added += match inserted {
                Ok(n) => n,
                Err(DbErr::RecordNotInserted) => 0,
                Err(e) => return Err(e.into()),
            };
        }
        txn.commit().await?;
        Ok(added)
    }

    /// The campaign's targets, newest first, in `state` if given, `before` the cursor if given.
    pub async fn campaign_targets(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        state: Option<TargetState>,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<CampaignTarget>, StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        find::<Campaigns>(&txn, tenant, campaign).await?;
        let mut query = campaign_targets::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::CampaignId.eq(campaign));
        if let Some(state) = state {
            query = query.filter(C::State.eq(state.as_str()));
        }
        if let Some(cursor) = before {
            query = query.filter(C::Id.lt(cursor));
        }
        let rows = query
            .order_by_desc(C::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Page::from_rows(rows, limit, |r| r.id, target_from)
    }

    /// Records the engine's progress on target `id`.
    pub async fn update_target(
        &self,
        tenant: TenantId,
        id: Uuid,
        progress: TargetProgress,
    ) -> Result<CampaignTarget, StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        let updated = campaign_targets::Entity::update_many()
            .set(campaign_targets::ActiveModel {
                state: Set(progress.state.as_str().to_owned()),
                attempts: Set(progress.attempts),
                last_call_sid: Set(progress.last_call_sid.map(|s| s.as_str().to_owned())),
                last_outcome: Set(progress.last_outcome.map(|o| o.as_str().to_owned())),
                next_attempt_at: Set(progress.next_attempt_at),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(C::Id.eq(id))
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound {
                entity: "campaign target",
            });
        }
        let row = campaign_targets::Entity::find_by_id(id)
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "campaign target",
            })?;
        txn.commit().await?;
        target_from(row)
    }
}
