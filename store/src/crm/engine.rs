//! What the campaign workflow's activities read and write: the targets due for a dial, the
//! attempts that witness each dial, and the campaign's status.
//!
//! An attempt row is created before Twilio is asked to call ([`Store::begin_attempt`]), so
//! the `initiated` status callback of the call it places can always record its SID there
//! ([`Store::witness_attempt`]); a retried dial reads it back ([`Store::attempt`]) and adopts
//! that call instead of placing a second one.

use super::targets::{CampaignTarget, target_from};
use crate::{
    Store, StoreError,
    entities::{campaign_attempts, campaign_targets, campaigns, phone_numbers},
};
use chrono::{DateTime, Utc};
use domain::{AgentId, E164, TenantId, crm::CampaignStatus, crm::TargetState};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

/// One dial of a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub target_id: Uuid,
    pub attempt: i32,
    pub call_sid: Option<String>,
    /// Twilio's last call status for it.
    pub status: Option<String>,
    pub instruction_line: String,
    pub opening: String,
    /// What a machine hears; `None`: hang up on machines.
    pub voicemail: Option<String>,
    /// When the person asked to be called back.
    pub callback_at: Option<DateTime<Utc>>,
}

/// What the call of a new attempt will say.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptScript {
    pub instruction_line: String,
    pub opening: String,
    pub voicemail: Option<String>,
}

/// How many of a campaign's targets are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetCounts(pub std::collections::BTreeMap<String, u64>);

fn attempt_from(row: campaign_attempts::Model) -> Attempt {
    Attempt {
        id: row.id,
        campaign_id: row.campaign_id,
        target_id: row.target_id,
        attempt: row.attempt,
        call_sid: row.call_sid,
        status: row.status,
        instruction_line: row.instruction_line,
        opening: row.opening,
        voicemail: row.voicemail,
        callback_at: row.callback_at,
    }
}

/// Target states a dial may still come out of.
const OPEN_STATES: [TargetState; 3] = [
    TargetState::Pending,
    TargetState::Scheduled,
    TargetState::Dialing,
];

impl Store {
    /// Up to `limit` targets of the campaign that may be dialled at `now`: pending, or
    /// scheduled for `now` or before, and not in `exclude` (those the workflow holds already),
    /// oldest first.
    pub async fn due_targets(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        now: DateTime<Utc>,
        exclude: &[Uuid],
        limit: u64,
    ) -> Result<Vec<CampaignTarget>, StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        let due = Condition::any()
            .add(C::State.eq(TargetState::Pending.as_str()))
            .add(
                Condition::all()
                    .add(C::State.is_in([
                        TargetState::Scheduled.as_str(),
                        TargetState::Dialing.as_str(),
                    ]))
                    .add(
                        Condition::any()
                            .add(C::NextAttemptAt.is_null())
                            .add(C::NextAttemptAt.lte(now)),
                    ),
            );
        let mut query = campaign_targets::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::CampaignId.eq(campaign))
            .filter(due);
        if !exclude.is_empty() {
            query = query.filter(C::Id.is_not_in(exclude.iter().copied()));
        }
        let rows = query.order_by_asc(C::Id).limit(limit).all(&txn).await?;
        txn.commit().await?;
        rows.into_iter().map(target_from).collect()
    }

    /// The earliest time a target of the campaign waits for, and how many targets are not in
    /// a final state.
    pub async fn campaign_outlook(
        &self,
        tenant: TenantId,
        campaign: Uuid,
    ) -> Result<(Option<DateTime<Utc>>, u64), StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        let open = || {
            campaign_targets::Entity::find()
                .filter(C::TenantId.eq(tenant.as_uuid()))
                .filter(C::CampaignId.eq(campaign))
                .filter(C::State.is_in(OPEN_STATES.map(|s| s.as_str())))
        };
        let remaining = open().count(&txn).await?;
        let next = open()
            .filter(C::NextAttemptAt.is_not_null())
            .order_by_asc(C::NextAttemptAt)
            .one(&txn)
            .await?
            .and_then(|r| r.next_attempt_at);
        txn.commit().await?;
        Ok((next, remaining))
    }

    /// How many of the campaign's targets are in each state.
    pub async fn target_counts(
        &self,
        tenant: TenantId,
        campaign: Uuid,
    ) -> Result<TargetCounts, StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        let rows: Vec<(String, i64)> = campaign_targets::Entity::find()
            .select_only()
            .column(C::State)
            .column_as(C::Id.count(), "n")
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::CampaignId.eq(campaign))
            .group_by(C::State)
            .into_tuple()
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(TargetCounts(
            rows.into_iter()
                .map(|(state, n)| (state, u64::try_from(n).unwrap_or(0)))
                .collect(),
        ))
    }

    /// Moves targets to `state`, to be tried at `at` (`None`: no time).
    pub async fn set_targets_state(
        &self,
        tenant: TenantId,
        ids: &[Uuid],
        state: TargetState,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        use campaign_targets::Column as C;
        if ids.is_empty() {
            return Ok(());
        }
        let txn = self.scoped(tenant).await?;
        campaign_targets::Entity::update_many()
            .set(campaign_targets::ActiveModel {
                state: Set(state.as_str().to_owned()),
                next_attempt_at: Set(at),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::Id.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The attempt row of a target's `attempt`-th dial, created with `script` if it is not
    /// there yet (a retried dial finds the first one's row, and its call SID if any).
    pub async fn begin_attempt(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        target: Uuid,
        attempt: i32,
        script: AttemptScript,
    ) -> Result<Attempt, StoreError> {
        use campaign_attempts::Column as C;
        let txn = self.scoped(tenant).await?;
        let now = Utc::now();
        let inserted = campaign_attempts::Entity::insert(campaign_attempts::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            campaign_id: Set(campaign),
            target_id: Set(target),
            attempt: Set(attempt),
            call_sid: Set(None),
            status: Set(None),
            instruction_line: Set(script.instruction_line),
            opening: Set(script.opening),
            voicemail: Set(script.voicemail),
            callback_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([C::TargetId, C::Attempt])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
        let row = campaign_attempts::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::TargetId.eq(target))
            .filter(C::Attempt.eq(attempt))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "attempt" })?;
        txn.commit().await?;
        Ok(attempt_from(row))
    }

    /// Target `id` of any campaign of the tenant, if it exists.
    pub async fn campaign_target(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<CampaignTarget>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = campaign_targets::Entity::find_by_id(id)
            .filter(campaign_targets::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        row.map(target_from).transpose()
    }

    /// The targets of `campaign` not in a final state become `state` (a cancelled campaign's).
    pub async fn close_open_targets(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        state: TargetState,
    ) -> Result<u64, StoreError> {
        use campaign_targets::Column as C;
        let txn = self.scoped(tenant).await?;
        let done = campaign_targets::Entity::update_many()
            .set(campaign_targets::ActiveModel {
                state: Set(state.as_str().to_owned()),
                next_attempt_at: Set(None),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::CampaignId.eq(campaign))
            .filter(C::State.is_in([
                TargetState::Pending.as_str(),
                TargetState::Scheduled.as_str(),
            ]))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(done.rows_affected)
    }

    /// The attempt `id`, as it stands.
    pub async fn attempt(&self, tenant: TenantId, id: Uuid) -> Result<Attempt, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = campaign_attempts::Entity::find_by_id(id)
            .filter(campaign_attempts::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "attempt" })?;
        txn.commit().await?;
        Ok(attempt_from(row))
    }

    /// The attempt whose call is `call_sid`, if it is a campaign's.
    pub async fn attempt_of_call(
        &self,
        tenant: TenantId,
        call_sid: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = campaign_attempts::Entity::find()
            .filter(campaign_attempts::Column::TenantId.eq(tenant.as_uuid()))
            .filter(campaign_attempts::Column::CallSid.eq(call_sid))
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(row.map(attempt_from))
    }

    /// Records the call Twilio placed for attempt `id` (the first SID recorded stays) and,
    /// when given, its latest status (a final status is never replaced by an earlier one).
    pub async fn witness_attempt(
        &self,
        tenant: TenantId,
        id: Uuid,
        call_sid: &str,
        status: Option<&str>,
    ) -> Result<Attempt, StoreError> {
        use campaign_attempts::Column as C;
        let txn = self.scoped(tenant).await?;
        let row = campaign_attempts::Entity::find_by_id(id)
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "attempt" })?;
        let ours = row.call_sid.as_deref().is_none_or(|s| s == call_sid);
        let final_before = row.status.as_deref().is_some_and(is_final_status);
        let mut update = campaign_attempts::ActiveModel {
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if row.call_sid.is_none() {
            update.call_sid = Set(Some(call_sid.to_owned()));
        }
        if let (Some(status), true, false) = (status, ours, final_before) {
            update.status = Set(Some(status.to_owned()));
        }
        campaign_attempts::Entity::update_many()
            .set(update)
            .filter(C::Id.eq(id))
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let row = campaign_attempts::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "attempt" })?;
        txn.commit().await?;
        Ok(attempt_from(row))
    }

    /// The person asked to be called back at `at`.
    pub async fn set_attempt_callback(
        &self,
        tenant: TenantId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        campaign_attempts::Entity::update_many()
            .set(campaign_attempts::ActiveModel {
                callback_at: Set(Some(at)),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(campaign_attempts::Column::Id.eq(id))
            .filter(campaign_attempts::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many dials the campaign has made to each target (test and audit use).
    pub async fn attempts_of_campaign(
        &self,
        tenant: TenantId,
        campaign: Uuid,
    ) -> Result<Vec<Attempt>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let rows = campaign_attempts::Entity::find()
            .filter(campaign_attempts::Column::TenantId.eq(tenant.as_uuid()))
            .filter(campaign_attempts::Column::CampaignId.eq(campaign))
            .order_by_asc(campaign_attempts::Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows.into_iter().map(attempt_from).collect())
    }

    /// Sets the campaign's status.
    pub async fn set_campaign_status(
        &self,
        tenant: TenantId,
        campaign: Uuid,
        status: CampaignStatus,
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        let updated = campaigns::Entity::update_many()
            .set(campaigns::ActiveModel {
                status: Set(status.as_str().to_owned()),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(campaigns::Column::Id.eq(campaign))
            .filter(campaigns::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound { entity: "campaign" });
        }
        Ok(())
    }

    /// The first number assigned to the agent, if any.
    pub async fn agent_number(
        &self,
        tenant: TenantId,
        agent: AgentId,
    ) -> Result<Option<E164>, StoreError> {
        use phone_numbers::Column as C;
        let txn = self.scoped(tenant).await?;
        let row = phone_numbers::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::AgentId.eq(agent.as_uuid()))
            .filter(C::ReleasedAt.is_null())
            .order_by_asc(C::Id)
            .one(&txn)
            .await?;
        txn.commit().await?;
        row.map(|r| {
            E164::parse(&r.e164).map_err(|_| StoreError::Corrupt("phone_numbers.e164".into()))
        })
        .transpose()
    }
}

/// Whether Twilio's `status` is final (the one list: `CallStatus::is_final`).
fn is_final_status(status: &str) -> bool {
    domain::CallStatus::parse(status).is_some_and(|s| s.is_final())
}
