//! `/v1/appointments`: service visits booked during a call or by hand.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{
    MAX_TEXT_CHARS, id_field, instant, one_of, optional_call_sid, optional_id, optional_text,
    range, zone,
};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use domain::crm::{AppointmentSource, AppointmentStatus};
use serde::{Deserialize, Serialize};
use store::crm::appointments::{Appointment, AppointmentFields, AppointmentFilter, Appointments};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub call_sid: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    /// The IANA zone it was agreed in.
    pub time_zone: String,
    /// `booked`, `confirmed`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    pub notes: Option<String>,
    /// `call` or `manual`.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Appointment> for AppointmentView {
    fn from(a: Appointment) -> Self {
        let f = a.fields;
        Self {
            id: a.id,
            customer_id: f.customer_id,
            call_sid: f.call_sid.map(|s| s.as_str().to_owned()),
            campaign_id: f.campaign_id,
            branch_id: f.branch_id,
            vehicle_id: f.vehicle_id,
            starts_at: f.starts_at,
            time_zone: f.time_zone.name().to_owned(),
            status: f.status.as_str().to_owned(),
            notes: f.notes,
            source: f.source.as_str().to_owned(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppointmentBody {
    pub customer_id: String,
    pub call_sid: Option<String>,
    pub campaign_id: Option<String>,
    pub branch_id: Option<String>,
    pub vehicle_id: Option<String>,
    /// RFC 3339.
    pub starts_at: String,
    /// IANA zone (`America/Denver`).
    pub time_zone: String,
    /// `booked` (default), `confirmed`, `cancelled`, `completed`, `no_show`.
    pub status: Option<String>,
    pub notes: Option<String>,
    /// `manual` (default) or `call`.
    pub source: Option<String>,
}

fn status(value: &str) -> Result<AppointmentStatus, ApiError> {
    one_of(
        "status",
        value,
        AppointmentStatus::parse,
        AppointmentStatus::spellings,
    )
}

impl Surface for Appointments {
    type View = AppointmentView;
    type Body = AppointmentBody;
    const KIND: &'static str = "appointment";

    fn validate(b: AppointmentBody, _: &Principal) -> Result<AppointmentFields, ApiError> {
        let source = b
            .source
            .as_deref()
            .map(|s| {
                one_of(
                    "source",
                    s,
                    AppointmentSource::parse,
                    AppointmentSource::spellings,
                )
            })
            .transpose()?;
        Ok(AppointmentFields {
            customer_id: id_field("customer_id", &b.customer_id)?,
            call_sid: optional_call_sid("call_sid", b.call_sid.as_deref())?,
            campaign_id: optional_id("campaign_id", b.campaign_id.as_deref())?,
            branch_id: optional_id("branch_id", b.branch_id.as_deref())?,
            vehicle_id: optional_id("vehicle_id", b.vehicle_id.as_deref())?,
            starts_at: instant("starts_at", &b.starts_at)?,
            time_zone: zone("time_zone", &b.time_zone)?,
            status: b
                .status
                .as_deref()
                .map(status)
                .transpose()?
                .unwrap_or(AppointmentStatus::Booked),
            notes: optional_text("notes", b.notes.as_deref(), MAX_TEXT_CHARS)?,
            source: source.unwrap_or(AppointmentSource::Manual),
        })
    }
}

crud_operations!(
    resource: Appointments, tag: "crm",
    collection: "/v1/appointments", item: "/v1/appointments/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: AppointmentView, body: AppointmentBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct AppointmentQuery {
    pub customer_id: Option<String>,
    pub status: Option<String>,
    /// Starting at or after (RFC 3339).
    pub from: Option<String>,
    /// Starting before (RFC 3339).
    pub to: Option<String>,
}

/// The tenant's appointments, newest first.
#[utoipa::path(get, path = "/v1/appointments", tag = "crm", params(AppointmentQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<AppointmentView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<AppointmentQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<AppointmentView>>, ApiError> {
    let (from, to) = range(query.from.as_deref(), query.to.as_deref())?;
    let filter = AppointmentFilter {
        customer_id: optional_id("customer_id", query.customer_id.as_deref())?,
        status: query.status.as_deref().map(status).transpose()?,
        from,
        to,
    };
    crud::list::<Appointments>(&state, &auth.principal, filter, page).await
}
