//! `/v1/jobs`: service work by job code, at a branch, for a customer's vehicle, some flagged as
//! emergencies.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{
    MAX_NAME_CHARS, MAX_TEXT_CHARS, one_of, optional_id, optional_instant, optional_text, range,
};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use domain::crm::JobStatus;
use serde::{Deserialize, Serialize};
use store::crm::jobs::{Job, JobFields, JobFilter, Jobs};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub branch_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub code: String,
    pub description: Option<String>,
    /// `scheduled`, `in_progress`, `done` or `cancelled`.
    pub status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub emergency: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        let f = j.fields;
        Self {
            id: j.id,
            branch_id: f.branch_id,
            customer_id: f.customer_id,
            vehicle_id: f.vehicle_id,
            code: f.code,
            description: f.description,
            status: f.status.as_str().to_owned(),
            scheduled_at: f.scheduled_at,
            emergency: f.emergency,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct JobBody {
    pub branch_id: Option<String>,
    pub customer_id: Option<String>,
    pub vehicle_id: Option<String>,
    /// The service or job code (`OIL-01`).
    pub code: String,
    pub description: Option<String>,
    /// `scheduled` (default), `in_progress`, `done` or `cancelled`.
    pub status: Option<String>,
    /// RFC 3339.
    pub scheduled_at: Option<String>,
    #[serde(default)]
    pub emergency: bool,
}

fn status(value: &str) -> Result<JobStatus, ApiError> {
    one_of("status", value, JobStatus::parse, JobStatus::spellings)
}

impl Surface for Jobs {
    type View = JobView;
    type Body = JobBody;
    const KIND: &'static str = "job";

    fn validate(b: JobBody, _: &Principal) -> Result<JobFields, ApiError> {
        Ok(JobFields {
            branch_id: optional_id("branch_id", b.branch_id.as_deref())?,
            customer_id: optional_id("customer_id", b.customer_id.as_deref())?,
            vehicle_id: optional_id("vehicle_id", b.vehicle_id.as_deref())?,
            code: crate::routes::text("code", &b.code, MAX_NAME_CHARS)?,
            description: optional_text("description", b.description.as_deref(), MAX_TEXT_CHARS)?,
            status: b
                .status
                .as_deref()
                .map(status)
                .transpose()?
                .unwrap_or(JobStatus::Scheduled),
            scheduled_at: optional_instant("scheduled_at", b.scheduled_at.as_deref())?,
            emergency: b.emergency,
        })
    }
}

crud_operations!(
    resource: Jobs, tag: "crm",
    collection: "/v1/jobs", item: "/v1/jobs/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: JobView, body: JobBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct JobQuery {
    pub status: Option<String>,
    pub branch_id: Option<String>,
    /// Scheduled at or after (RFC 3339).
    pub from: Option<String>,
    /// Scheduled before (RFC 3339).
    pub to: Option<String>,
    pub emergency: Option<bool>,
}

/// The tenant's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "crm", params(JobQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<JobView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<JobQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<JobView>>, ApiError> {
    let (from, to) = range(query.from.as_deref(), query.to.as_deref())?;
    let filter = JobFilter {
        status: query.status.as_deref().map(status).transpose()?,
        branch_id: optional_id("branch_id", query.branch_id.as_deref())?,
        from,
        to,
        emergency: query.emergency,
    };
    crud::list::<Jobs>(&state, &auth.principal, filter, page).await
}
