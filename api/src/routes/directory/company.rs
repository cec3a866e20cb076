//! `/v1/company-info`: the company's name, greeting, business hours (what every department and
//! employee without hours of their own follows) and free-form settings; and
//! `/v1/directory/availability`: whether someone is reachable at a moment, and when next.

use super::{MAX_NAME_CHARS, MAX_TEXT_CHARS, body, hours, optional_text, uuid_field};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use chrono::{DateTime, FixedOffset, Utc};
use domain::directory::{CompanyInfo, Schedule, TargetKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyInfoView {
    pub name: Option<String>,
    /// What the receptionist may say when it answers.
    pub greeting: Option<String>,
    /// `{"weekly": {…}, "exceptions": […]}` in the tenant's zone; `null` is always open.
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<Schedule>,
    #[schema(value_type = Object)]
    pub settings: Value,
}

impl From<CompanyInfo> for CompanyInfoView {
    fn from(c: CompanyInfo) -> Self {
        Self {
            name: c.name,
            greeting: c.greeting,
            business_hours: c.business_hours,
            settings: c.settings,
        }
    }
}

/// The company's details, replaced whole: an absent field is cleared.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompanyInfoBody {
    pub name: Option<String>,
    pub greeting: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<Value>,
    /// A JSON object; `{}` when absent.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

impl TryFrom<CompanyInfoBody> for CompanyInfo {
    type Error = ApiError;

    fn try_from(b: CompanyInfoBody) -> Result<Self, ApiError> {
        let settings = match b.settings {
            None | Some(Value::Null) => serde_json::json!({}),
            Some(object @ Value::Object(_)) => object,
            Some(_) => return Err(ApiError::invalid("settings", "must be a JSON object")),
        };
        Ok(Self {
            name: optional_text("name", b.name.as_deref(), MAX_NAME_CHARS)?,
            greeting: optional_text("greeting", b.greeting.as_deref(), MAX_TEXT_CHARS)?,
            business_hours: hours("business_hours", b.business_hours)?,
            settings,
        })
    }
}

/// The company's details (empty until first written).
#[utoipa::path(get, path = "/v1/company-info", tag = "directory",
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = CompanyInfoView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn get_company_info(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
) -> Result<Json<CompanyInfoView>, ApiError> {
    let company = state.store.company_info(auth.tenant).await?;
    Ok(Json(company.into()))
}

/// Replace the company's details.
#[utoipa::path(put, path = "/v1/company-info", tag = "directory", request_body = CompanyInfoBody,
    security(("bearer" = ["directory:write"])),
    responses((status = 200, body = CompanyInfoView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn put_company_info(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    new: Result<Json<CompanyInfoBody>, JsonRejection>,
) -> Result<Json<CompanyInfoView>, ApiError> {
    let company = CompanyInfo::try_from(body(new)?)?;
    let (before, after) = state.store.put_company_info(auth.tenant, company).await?;
    let change = Change {
        action: "company_info.update",
        resource_type: "company_info",
        resource_id: None,
        before: Some(audit::snapshot(&CompanyInfoView::from(before))?),
        after: Some(audit::snapshot(&CompanyInfoView::from(after.clone()))?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AvailabilityQuery {
    /// `employee` or `department`.
    pub target_kind: Option<String>,
    /// The employee's or department's id.
    pub id: Option<String>,
    /// RFC 3339; now when absent.
    pub at: Option<String>,
}

/// Whether a target is reachable at `at`, in the tenant's zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    pub target_kind: String,
    pub id: Uuid,
    /// The tenant's IANA zone, in which all hours are read.
    pub time_zone: String,
    pub at: DateTime<Utc>,
    pub open_now: bool,
    /// In the tenant's zone; absent when open, away, inactive, or closed for two weeks.
    pub next_opening: Option<DateTime<FixedOffset>>,
    /// "tomorrow at 9 am", relative to `at`.
    pub next_opening_phrase: Option<String>,
}

fn target_kind(value: Option<&str>) -> Result<TargetKind, ApiError> {
    value
        .and_then(TargetKind::parse)
        .ok_or_else(|| ApiError::invalid("target_kind", "must be one of: employee, department"))
}

fn at(value: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    match value {
        None => Ok(Utc::now()),
        Some(text) => crate::routes::instant("at", text),
    }
}

/// When an employee or department is reachable, by the hours that apply to it.
#[utoipa::path(get, path = "/v1/directory/availability", tag = "directory",
    params(AvailabilityQuery),
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = AvailabilityView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn availability(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
    Query(query): Query<AvailabilityQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let kind = target_kind(query.target_kind.as_deref())?;
    let id = query
        .id
        .as_deref()
        .ok_or_else(|| ApiError::invalid("id", "is required"))
        .and_then(|id| uuid_field("id", id))?;
    let at = at(query.at.as_deref())?;
    let directory = state.store.directory(auth.tenant).await?;
    let known = match kind {
        TargetKind::Employee => directory.employee(id).is_some(),
        TargetKind::Department => directory.department(id).is_some(),
    };
    if !known {
        return Err(ApiError::NotFound(kind.as_str()));
    }
    let availability = directory.availability(kind, id, at);
    Ok(Json(AvailabilityView {
        target_kind: kind.as_str().to_owned(),
        id,
        time_zone: directory.time_zone.name().to_owned(),
        at,
        open_now: availability.open_now,
        next_opening: availability.next_opening,
        next_opening_phrase: availability.next_opening_phrase,
    }))
}
