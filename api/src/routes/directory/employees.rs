//! `/v1/employees`: the people a caller can ask for, with the number the receptionist rings,
//! their department, roles ("office manager", "hygienist"), status and optional own hours.

use super::{MAX_NAME_CHARS, body, hours, name, optional_text, path_id, present, text, uuid_field};
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
use domain::{
    E164,
    directory::{Employee, EmployeeStatus, Schedule},
    phone::mask_phone,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{EmployeeChanges, EmployeeFilter, NewEmployee, StoreError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MAX_ROLES: usize = 20;
const MAX_ROLE_CHARS: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListEmployeesQuery {
    /// Only this department's employees.
    pub department_id: Option<String>,
    /// Only `active`, `away` or `inactive` employees.
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmployeeView {
    pub id: Uuid,
    pub name: String,
    /// E.164: the number the receptionist rings.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub department_id: Option<Uuid>,
    pub office: Option<String>,
    pub roles: Vec<String>,
    /// `active`, `away` or `inactive`.
    pub status: String,
    /// Own hours; `null` follows the department's, then the company's.
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Schedule>,
}

impl From<Employee> for EmployeeView {
    fn from(e: Employee) -> Self {
        Self {
            id: e.id,
            name: e.name,
            phone: e.phone,
            email: e.email,
            department_id: e.department_id,
            office: e.office,
            roles: e.roles,
            status: e.status.as_str().to_owned(),
            hours: e.hours,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeList {
    pub data: Vec<EmployeeView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// A new employee.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEmployeeBody {
    pub name: String,
    /// E.164 (`+14155550101`).
    pub phone: Option<String>,
    pub email: Option<String>,
    /// One of the tenant's departments.
    pub department_id: Option<String>,
    pub office: Option<String>,
    pub roles: Option<Vec<String>>,
    /// `active` (default), `away` or `inactive`.
    pub status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Value>,
}

/// Changes to an employee; absent fields stay, `null` clears the optional ones.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmployeePatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub office: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Option<Value>>,
}

fn phone(value: Option<&str>) -> Result<Option<E164>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => E164::parse(p)
            .map(Some)
            .map_err(|e| ApiError::invalid("phone", e.to_string())),
    }
}

fn email(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) => crate::routes::users::email(e).map(Some),
    }
}

fn status(value: &str) -> Result<EmployeeStatus, ApiError> {
    EmployeeStatus::parse(value.trim()).ok_or_else(|| {
        let all = EmployeeStatus::spellings().join(", ");
        ApiError::invalid("status", format!("must be one of: {all}"))
    })
}

fn department(value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => uuid_field("department_id", d).map(Some),
    }
}

fn roles(values: Vec<String>) -> Result<Vec<String>, ApiError> {
    if values.len() > MAX_ROLES {
        return Err(ApiError::invalid(
            "roles",
            format!("at most {MAX_ROLES} roles"),
        ));
    }
    values
        .iter()
        .map(|r| text("roles", r, MAX_ROLE_CHARS))
        .collect()
}

impl TryFrom<NewEmployeeBody> for NewEmployee {
    type Error = ApiError;

    fn try_from(b: NewEmployeeBody) -> Result<Self, ApiError> {
        Ok(Self {
            name: name(&b.name)?,
            phone: phone(b.phone.as_deref())?,
            email: email(b.email.as_deref())?,
            department_id: department(b.department_id.as_deref())?,
            office: optional_text("office", b.office.as_deref(), MAX_NAME_CHARS)?,
            roles: roles(b.roles.unwrap_or_default())?,
            status: b
                .status
                .as_deref()
                .map(status)
                .transpose()?
                .unwrap_or(EmployeeStatus::Active),
            hours: hours("hours", b.hours)?,
        })
    }
}

impl TryFrom<EmployeePatch> for EmployeeChanges {
    type Error = ApiError;

    fn try_from(p: EmployeePatch) -> Result<Self, ApiError> {
        Ok(Self {
            name: p.name.as_deref().map(name).transpose()?,
            phone: p.phone.map(|v| phone(v.as_deref())).transpose()?,
            email: p.email.map(|v| email(v.as_deref())).transpose()?,
            department_id: p
                .department_id
                .map(|v| department(v.as_deref()))
                .transpose()?,
            office: p
                .office
                .map(|v| optional_text("office", v.as_deref(), MAX_NAME_CHARS))
                .transpose()?,
            roles: p.roles.map(roles).transpose()?,
            status: p.status.as_deref().map(status).transpose()?,
            hours: p.hours.map(|h| hours("hours", h)).transpose()?,
        })
    }
}

/// A department the tenant does not have, named in a body, is the body's fault.
fn unknown_department(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound {
            entity: "department",
        } => ApiError::invalid("department_id", "is not one of this tenant's departments"),
        other => other.into(),
    }
}

fn employee_id(id: &str) -> Result<Uuid, ApiError> {
    path_id(id, "employee")
}

/// The audit log's copy: the phone number masked (it is personal data).
fn view_json(employee: &Employee) -> Result<Value, ApiError> {
    let mut view = EmployeeView::from(employee.clone());
    view.phone = view.phone.as_deref().map(mask_phone);
    audit::snapshot(&view)
}

/// The tenant's employees, newest first, of one department and status if asked.
#[utoipa::path(get, path = "/v1/employees", tag = "directory", params(ListEmployeesQuery),
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = EmployeeList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_employees(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
    Query(query): Query<ListEmployeesQuery>,
) -> Result<Json<EmployeeList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit)?;
    let before = crate::routes::cursor(query.before.as_deref())?;
    let filter = EmployeeFilter {
        department_id: department(query.department_id.as_deref())?,
        status: query.status.as_deref().map(status).transpose()?,
    };
    let page = state
        .store
        .list_employees(auth.tenant, filter, limit, before)
        .await?;
    Ok(Json(EmployeeList {
        data: page.items.into_iter().map(EmployeeView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add an employee.
#[utoipa::path(post, path = "/v1/employees", tag = "directory", request_body = NewEmployeeBody,
    security(("bearer" = ["directory:write"])),
    responses((status = 201, body = EmployeeView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn create_employee(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    new: Result<Json<NewEmployeeBody>, JsonRejection>,
) -> Result<(StatusCode, Json<EmployeeView>), ApiError> {
    let new = NewEmployee::try_from(body(new)?)?;
    let employee = state
        .store
        .create_employee(auth.tenant, new)
        .await
        .map_err(unknown_department)?;
    let change = Change {
        action: "employee.create",
        resource_type: "employee",
        resource_id: Some(employee.id.to_string()),
        before: None,
        after: Some(view_json(&employee)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::CREATED, Json(employee.into())))
}

/// One employee.
#[utoipa::path(get, path = "/v1/employees/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Employee id")),
    security(("bearer" = ["directory:read"])),
    responses((status = 200, body = EmployeeView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_employee(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryRead>,
    Path(id): Path<String>,
) -> Result<Json<EmployeeView>, ApiError> {
    let employee = state.store.employee(auth.tenant, employee_id(&id)?).await?;
    Ok(Json(employee.into()))
}

/// Change an employee; absent fields stay.
#[utoipa::path(patch, path = "/v1/employees/{id}", tag = "directory", request_body = EmployeePatch,
    params(("id" = Uuid, Path, description = "Employee id")),
    security(("bearer" = ["directory:write"])),
    responses((status = 200, body = EmployeeView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn update_employee(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    Path(id): Path<String>,
    patch: Result<Json<EmployeePatch>, JsonRejection>,
) -> Result<Json<EmployeeView>, ApiError> {
    let id = employee_id(&id)?;
    let changes = EmployeeChanges::try_from(body(patch)?)?;
    let (before, after) = state
        .store
        .update_employee(auth.tenant, id, changes)
        .await
        .map_err(unknown_department)?;
    let change = Change {
        action: "employee.update",
        resource_type: "employee",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Delete an employee.
#[utoipa::path(delete, path = "/v1/employees/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Employee id")),
    security(("bearer" = ["directory:write"])),
    responses((status = 204, description = "Deleted"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn delete_employee(
    State(state): State<AppState>,
    auth: Authorized<perm::DirectoryWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = employee_id(&id)?;
    let employee = state.store.delete_employee(auth.tenant, id).await?;
    let change = Change {
        action: "employee.delete",
        resource_type: "employee",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&employee)?),
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
