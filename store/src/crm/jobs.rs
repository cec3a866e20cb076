//! Jobs: the service work a branch has booked (a job code, a vehicle, a time), some of them
//! emergencies the owner wants to see first.

use super::{Reference, Resource, Stored, Target, stored_enum, tenant_columns};
use crate::{StoreError, entities::jobs};
use chrono::{DateTime, Utc};
use domain::crm::JobStatus;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct JobFields {
    pub branch_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    /// The service or job code (`OIL-01`).
    pub code: String,
    pub description: Option<String>,
    pub status: JobStatus,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub emergency: bool,
}

pub type Job = Stored<JobFields>;

/// Which jobs a list shows; `from` is inclusive and `to` exclusive, on `scheduled_at`.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub branch_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub emergency: Option<bool>,
}

pub struct Jobs;

impl Resource for Jobs {
    type Entity = jobs::Entity;
    type Record = Job;
    type New = JobFields;
    type Filter = JobFilter;
    const NAME: &'static str = "job";
    tenant_columns!(jobs);

    fn id(record: &Job) -> Uuid {
        record.id
    }

    fn fields_of(record: &Job) -> Self::New {
        record.fields.clone()
    }

    fn record(row: jobs::Model) -> Result<Job, StoreError> {
        Ok(Stored {
            id: row.id,
            fields: JobFields {
                branch_id: row.branch_id,
                customer_id: row.customer_id,
                vehicle_id: row.vehicle_id,
                code: row.code,
                description: row.description,
                status: stored_enum("jobs.status", &row.status, JobStatus::parse)?,
                scheduled_at: row.scheduled_at,
                emergency: row.emergency,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: JobFields) -> jobs::ActiveModel {
        jobs::ActiveModel {
            branch_id: Set(new.branch_id),
            customer_id: Set(new.customer_id),
            vehicle_id: Set(new.vehicle_id),
            code: Set(new.code),
            description: Set(new.description),
            status: Set(new.status.as_str().to_owned()),
            scheduled_at: Set(new.scheduled_at),
            emergency: Set(new.emergency),
            ..Default::default()
        }
    }

    fn references(new: &JobFields) -> Vec<Reference> {
        [
            Reference::optional("branch_id", new.branch_id, Target::Branch),
            Reference::optional("customer_id", new.customer_id, Target::Customer),
            Reference::optional("vehicle_id", new.vehicle_id, Target::Vehicle),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn filter(filter: &JobFilter) -> Condition {
        Condition::all()
            .add_option(filter.status.map(|s| jobs::Column::Status.eq(s.as_str())))
            .add_option(filter.branch_id.map(|b| jobs::Column::BranchId.eq(b)))
            .add_option(filter.from.map(|t| jobs::Column::ScheduledAt.gte(t)))
            .add_option(filter.to.map(|t| jobs::Column::ScheduledAt.lt(t)))
            .add_option(filter.emergency.map(|e| jobs::Column::Emergency.eq(e)))
    }
}
