//! `/v1/departments`: the units a caller can ask for ("billing", "the front desk"), each with
//! optional hours and a routing priority between equally good matches.

use super::{MAX_TEXT_CHARS, body, hours, name, optional_text, path_id, present};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
};
use domain::directory::{Department, Schedule};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{DepartmentChanges, NewDepartment};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListDepartmentsQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// `{"weekly": {"mon": [["09:00","17:00"]]}, "exceptions": […]}` in the tenant's zone;
    /// `null` follows the company's business hours.
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Schedule>,
    /// Between departments that match a caller's words equally well, the higher goes first.
    pub routing_priority: i32,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        Self {
            id: d.id,
            name: d.name,
            description: d.description,
            hours: d.hours,
            routing_priority: d.routing_priority,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentList {
    pub data: Vec<DepartmentView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// A new department.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDepartmentBody {
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Value>,
    /// 0 when absent.
    pub routing_priority: Option<i32>,
}

/// Changes to a department; absent fields stay, `null` clears `description` and `hours`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartmentPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Option<Value>>,
    pub routing_priority: Option<i32>,
}

impl TryFrom<NewDepartmentBody> for NewDepartment {
    type Error = ApiError;

    fn try_from(b: NewDepartmentBody) -> Result<Self, ApiError> {
        Ok(Self {
            name: name(&b.name)?,
            description: optional_text("description", b.description.as_deref(), MAX_TEXT_CHARS)?,
            hours: hours("hours", b.hours)?,
            routing_priority: b.routing_priority.unwrap_or(0),
        })
    }
}

impl TryFrom<DepartmentPatch> for DepartmentChanges {
    type Error = ApiError;

    fn try_from(p: DepartmentPatch) -> Result<Self, ApiError> {
        Ok(Self {
            name: p.name.as_deref().map(name).transpose()?,
            description: p
                .description
                .map(|d| optional_text("description", d.as_deref(), MAX_TEXT_CHARS))
                .transpose()?,
            hours: p.hours.map(|h| hours("hours", h)).transpose()?,
            routing_priority: p.routing_priority,
        })
    }
}

fn department_id(id: &str) -> Result<Uuid, ApiError> {
    path_id(id, "department")
}

fn view_json(department: &Department) -> Result<Value, ApiError> {
    audit::snapshot(&DepartmentView::from(department.clone()))
}

/// The tenant's departments, newest first.
#[utoipa::path(get, path = "/v1/departments", tag = "directory", params(ListDepartmentsQuery),
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = DepartmentList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_departments(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
    Query(query): Query<ListDepartmentsQuery>,
) -> Result<Json<DepartmentList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit)?;
    let before = crate::routes::cursor(query.before.as_deref())?;
    let page = state
        .store
        .list_departments(auth.tenant, limit, before)
        .await?;
    Ok(Json(DepartmentList {
        data: page.items.into_iter().map(DepartmentView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add a department.
#[utoipa::path(post, path = "/v1/departments", tag = "directory", request_body = NewDepartmentBody,
    security(("bearer" = ["directory:write"])),
    responses((status = 201, body = DepartmentView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 409, description = "A department has this name", body = crate::error::Problem)))]
pub async fn create_department(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    new: Result<Json<NewDepartmentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<DepartmentView>), ApiError> {
    let new = NewDepartment::try_from(body(new)?)?;
    let department = state.store.create_department(auth.tenant, new).await?;
    let change = Change {
        action: "department.create",
        resource_type: "department",
        resource_id: Some(department.id.to_string()),
        before: None,
        after: Some(view_json(&department)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::CREATED, Json(department.into())))
}

/// One department.
#[utoipa::path(get, path = "/v1/departments/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Department id")),
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = DepartmentView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_department(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
    Path(id): Path<String>,
) -> Result<Json<DepartmentView>, ApiError> {
    let department = state
        .store
        .department(auth.tenant, department_id(&id)?)
        .await?;
    Ok(Json(department.into()))
}

/// Change a department; absent fields stay.
#[utoipa::path(patch, path = "/v1/departments/{id}", tag = "directory", request_body = DepartmentPatch,
    params(("id" = Uuid, Path, description = "Department id")),
    security(("bearer" = ["directory:write"])),
    responses((status = 200, body = DepartmentView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem),
              (status = 409, description = "A department has this name", body = crate::error::Problem)))]
pub async fn update_department(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    Path(id): Path<String>,
    patch: Result<Json<DepartmentPatch>, JsonRejection>,
) -> Result<Json<DepartmentView>, ApiError> {
    let id = department_id(&id)?;
    let changes = DepartmentChanges::try_from(body(patch)?)?;
    let (before, after) = state
        .store
        .update_department(auth.tenant, id, changes)
        .await?;
    let change = Change {
        action: "department.update",
        resource_type: "department",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Delete a department; its employees stay, in no department.
#[utoipa::path(delete, path = "/v1/departments/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Department id")),
    security(("bearer" = ["directory:write"])),
    responses((status = 204, description = "Deleted"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn delete_department(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = department_id(&id)?;
    let department = state.store.delete_department(auth.tenant, id).await?;
    let change = Change {
        action: "department.delete",
        resource_type: "department",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&department)?),
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
