//! The owner's views (seed 003's dashboard cards): `GET /v1/crm/today` (today's jobs),
//! `GET /v1/crm/tomorrow` (tomorrow's jobs and appointments) and `GET /v1/crm/emergencies`
//! (emergency jobs still open). "Today" is the tenant's, in its time zone.

use super::appointments::AppointmentView;
use super::jobs::JobView;
use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/crm/today", get(today))
        .route("/v1/crm/tomorrow", get(tomorrow))
        .route("/v1/crm/emergencies", get(emergencies))
}

/// One local day of work, `[from, to)`, earliest first; cancelled work is left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    /// The tenant's IANA zone the day is in.
    pub time_zone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub jobs: Vec<JobView>,
    /// Tomorrow's view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointments: Option<Vec<AppointmentView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmergencyList {
    pub data: Vec<JobView>,
}

async fn day(state: &AppState, tenant: domain::TenantId, offset: u64) -> Result<DayView, ApiError> {
    let zone_name = state.store.tenant(tenant).await?.time_zone;
    let zone: chrono_tz::Tz = zone_name.parse().unwrap_or(chrono_tz::UTC);
    let (from, to) = domain::crm::local_day(Utc::now(), zone, offset);
    let jobs = state.store.jobs_between(tenant, from, to).await?;
    Ok(DayView {
        time_zone: zone.name().to_owned(),
        from,
        to,
        jobs: jobs.into_iter().map(JobView::from).collect(),
        appointments: None,
    })
}

/// Today's jobs in the tenant's time zone.
#[utoipa::path(get, path = "/v1/crm/today", tag = "crm",
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = DayView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn today(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
) -> Result<Json<DayView>, ApiError> {
    Ok(Json(day(&state, auth.tenant, 0).await?))
}

/// Tomorrow's schedule: jobs and appointments.
#[utoipa::path(get, path = "/v1/crm/tomorrow", tag = "crm",
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = DayView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn tomorrow(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
) -> Result<Json<DayView>, ApiError> {
    let mut view = day(&state, auth.tenant, 1).await?;
    let appointments = state
        .store
        .appointments_between(auth.tenant, view.from, view.to)
        .await?;
    view.appointments = Some(
        appointments
            .into_iter()
            .map(AppointmentView::from)
            .collect(),
    );
    Ok(Json(view))
}

/// Emergency jobs that are still scheduled or in progress.
#[utoipa::path(get, path = "/v1/crm/emergencies", tag = "crm",
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = EmergencyList),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn emergencies(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
) -> Result<Json<EmergencyList>, ApiError> {
    let jobs = state.store.open_emergencies(auth.tenant).await?;
    Ok(Json(EmergencyList {
        data: jobs.into_iter().map(JobView::from).collect(),
    }))
}
