//! The receptionist's company directory: `/v1/departments`, `/v1/employees`,
//! `/v1/company-info`, and `/v1/directory/availability` (when is someone reachable, so an
//! operator can check the hours they set).
//!
//! Hours are `domain::directory::Schedule` JSON: `{"weekly": {"mon": [["09:00","17:00"]], …},
//! "exceptions": [{"date": "2026-12-25", "closed": true}]}`, local time in the tenant's zone.
//! Employees' phone numbers are personal data: the audit log keeps them masked.

pub mod company;
pub mod departments;
pub mod employees;

use super::body;
use super::text;
use crate::{ApiError, AppState};
use axum::{
    Router,
    routing::{get, put},
};
use domain::directory::Schedule;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use uuid::Uuid;

const MAX_NAME_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 2_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/departments",
            get(departments::list_departments).post(departments::create_department),
        )
        .route(
            "/v1/departments/{id}",
            get(departments::get_department)
                .patch(departments::update_department)
                .delete(departments::delete_department),
        )
        .route(
            "/v1/employees",
            get(employees::list_employees).post(employees::create_employee),
        )
        .route(
            "/v1/employees/{id}",
            get(employees::get_employee)
                .patch(employees::update_employee)
                .delete(employees::delete_employee),
        )
        .route(
            "/v1/company-info",
            put(company::put_company_info).get(company::get_company_info),
        )
        .route("/v1/directory/availability", get(company::availability))
}

/// A field that is present (`null` included) becomes `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn name(value: &str) -> Result<String, ApiError> {
    text("name", value, MAX_NAME_CHARS)
}

/// An optional text: `null`, absent or blank is none.
fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// Opening hours as JSON, or a problem naming `field` that says what is wrong.
pub(crate) fn hours(
    field: &'static str,
    value: Option<Value>,
) -> Result<Option<Schedule>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(json) => serde_json::from_value(json).map(Some).map_err(|e| {
            ApiError::invalid(
                field,
                format!(
                    "{e}; expected {{\"weekly\": {{\"mon\": [[\"09:00\", \"17:00\"]]}}, \
                     \"exceptions\": [{{\"date\": \"2026-12-25\", \"closed\": true}}]}}"
                ),
            )
        }),
    }
}

/// An id in a request body or query, or a problem naming `field`.
fn uuid_field(field: &'static str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value.trim()).map_err(|_| ApiError::invalid(field, "is not an id"))
}

/// A path id; one that cannot be an id is as unknown as one that is nobody's.
fn path_id(id: &str, entity: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound(entity))
}
