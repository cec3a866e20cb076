//! Warm transfers: one row per attempt, keyed by its workflow id `transfer-{CallSid}-{n}`.

use crate::{Store, StoreError, entities::transfers};
use chrono::{DateTime, Utc};
use domain::TenantId;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

/// A transfer as it stands (what the workflow writes at its start and end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub id: String,
    pub call_sid: String,
    pub employee_id: Uuid,
    pub target_name: String,
    pub employee_call_sid: Option<String>,
    pub stage: String,
    pub reason: Option<String>,
    pub ring_after_ms: Option<i64>,
    pub connect_after_ms: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl From<transfers::Model> for TransferRow {
    fn from(row: transfers::Model) -> Self {
        Self {
            id: row.id,
            call_sid: row.call_sid,
            employee_id: row.employee_id,
            target_name: row.target_name,
            employee_call_sid: row.employee_call_sid,
            stage: row.stage,
            reason: row.reason,
            ring_after_ms: row.ring_after_ms,
            connect_after_ms: row.connect_after_ms,
            started_at: row.started_at,
            ended_at: row.ended_at,
        }
    }
}

impl Store {
    /// Inserts or updates the transfer's row. A leg recorded by Twilio's callback is kept when
    /// the workflow does not know it yet.
    pub async fn record_transfer(
        &self,
        tenant: TenantId,
        row: &TransferRow,
    ) -> Result<(), StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let mut update = vec![
            transfers::Column::Stage,
            transfers::Column::Reason,
            transfers::Column::RingAfterMs,
            transfers::Column::ConnectAfterMs,
            transfers::Column::EndedAt,
            transfers::Column::UpdatedAt,
        ];
        if row.employee_call_sid.is_some() {
            update.push(transfers::Column::EmployeeCallSid);
        }
        transfers::Entity::insert(transfers::ActiveModel {
            id: Set(row.id.clone()),
            tenant_id: Set(tenant.as_uuid()),
            call_sid: Set(row.call_sid.clone()),
            employee_id: Set(row.employee_id),
            target_name: Set(row.target_name.clone()),
            employee_call_sid: Set(row.employee_call_sid.clone()),
            stage: Set(row.stage.clone()),
            reason: Set(row.reason.clone()),
            ring_after_ms: Set(row.ring_after_ms),
            connect_after_ms: Set(row.connect_after_ms),
            started_at: Set(row.started_at),
            ended_at: Set(row.ended_at),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(transfers::Column::Id)
                .update_columns(update)
                .to_owned(),
        )
        .exec(&scope)
        .await?;
        Ok(scope.commit().await?)
    }

    /// Twilio created the person's leg (its `initiated` callback): the first one recorded
    /// stays.
    pub async fn set_transfer_leg(
        &self,
        tenant: TenantId,
        transfer_id: &str,
        leg: &str,
    ) -> Result<(), StoreError> {
        let scope = self.scoped_one(tenant).await?;
        transfers::Entity::update_many()
            .set(transfers::ActiveModel {
                employee_call_sid: Set(Some(leg.to_owned())),
                ..Default::default()
            })
            .filter(transfers::Column::Id.eq(transfer_id))
            .filter(transfers::Column::TenantId.eq(tenant.as_uuid()))
            .filter(transfers::Column::EmployeeCallSid.is_null())
            .exec(&scope)
            .await?;
        Ok(scope.commit().await?)
    }

    pub async fn transfer(
        &self,
        tenant: TenantId,
        transfer_id: &str,
    ) -> Result<Option<TransferRow>, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let row = transfers::Entity::find_by_id(transfer_id.to_owned())
            .filter(transfers::Column::TenantId.eq(tenant.as_uuid()))
            .one(&scope)
            .await?;
        Ok(row.map(TransferRow::from))
    }

    /// A call's transfers, first first.
    pub async fn call_transfers(
        &self,
        tenant: TenantId,
        call_sid: &str,
    ) -> Result<Vec<TransferRow>, StoreError> {
        use sea_orm::QueryOrder;
        let scope = self.scoped_one(tenant).await?;
        let rows = transfers::Entity::find()
            .filter(transfers::Column::TenantId.eq(tenant.as_uuid()))
            .filter(transfers::Column::CallSid.eq(call_sid))
            .order_by_asc(transfers::Column::StartedAt)
            .all(&scope)
            .await?;
        Ok(rows.into_iter().map(TransferRow::from).collect())
    }
}
