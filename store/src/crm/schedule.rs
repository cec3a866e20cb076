//! The owner's views (seed 003): a day's jobs and appointments, and the emergencies still open.
//! Cancelled work is left out: these answer "what is happening", not "what was booked".

use super::{
    Resource,
    appointments::{Appointment, Appointments},
    jobs::{Job, Jobs},
};
use crate::{
    Store, StoreError,
    entities::{appointments, jobs},
};
use chrono::{DateTime, Utc};
use domain::{
    TenantId,
    crm::{AppointmentStatus, JobStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// At most this many rows per view: a branch's day, not its history.
const MAX_VIEW_ROWS: u64 = 500;

impl Store {
    /// The tenant's jobs scheduled in `[from, to)`, earliest first, cancelled ones left out.
    pub async fn jobs_between(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        use jobs::Column as C;
        let scope = self.scoped_one(tenant).await?;
        let rows = jobs::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::ScheduledAt.gte(from))
            .filter(C::ScheduledAt.lt(to))
            .filter(C::Status.ne(JobStatus::Cancelled.as_str()))
            .order_by_asc(C::ScheduledAt)
            .limit(MAX_VIEW_ROWS)
            .all(&scope)
            .await?;
        scope.commit().await?;
        rows.into_iter().map(Jobs::record).collect()
    }

    /// The tenant's appointments starting in `[from, to)`, earliest first, cancelled ones left
    /// out.
    pub async fn appointments_between(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        use appointments::Column as C;
        let scope = self.scoped_one(tenant).await?;
        let rows = appointments::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::StartsAt.gte(from))
            .filter(C::StartsAt.lt(to))
            .filter(C::Status.ne(AppointmentStatus::Cancelled.as_str()))
            .order_by_asc(C::StartsAt)
            .limit(MAX_VIEW_ROWS)
            .all(&scope)
            .await?;
        scope.commit().await?;
        rows.into_iter().map(Appointments::record).collect()
    }

    /// The tenant's emergency jobs that are still open, earliest scheduled first.
    pub async fn open_emergencies(&self, tenant: TenantId) -> Result<Vec<Job>, StoreError> {
        use jobs::Column as C;
        let open: Vec<&str> = JobStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        let scope = self.scoped_one(tenant).await?;
        let rows = jobs::Entity::find()
            .filter(C::TenantId.eq(tenant.as_uuid()))
            .filter(C::Emergency.eq(true))
            .filter(C::Status.is_in(open))
            .order_by_asc(C::ScheduledAt)
            .order_by_asc(C::Id)
            .limit(MAX_VIEW_ROWS)
            .all(&scope)
            .await?;
        scope.commit().await?;
        rows.into_iter().map(Jobs::record).collect()
    }
}
