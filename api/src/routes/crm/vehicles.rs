//! `/v1/vehicles`: customers' vehicles (make, model, year, VIN, mileage).

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_NAME_CHARS, MAX_TEXT_CHARS, id_field, optional_id, optional_text};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use store::crm::customers::{Vehicle, VehicleFields, VehicleFilter, Vehicles};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The first model year there were cars to service.
const FIRST_YEAR: i32 = 1886;
/// A VIN is 17 characters since 1981; older vehicles have shorter ones.
const MAX_VIN_CHARS: usize = 17;

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub make: String,
    pub model: String,
    pub year: Option<i32>,
    pub vin: Option<String>,
    pub mileage: Option<i32>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Vehicle> for VehicleView {
    fn from(v: Vehicle) -> Self {
        let f = v.fields;
        Self {
            id: v.id,
            customer_id: f.customer_id,
            make: f.make,
            model: f.model,
            year: f.year,
            vin: f.vin,
            mileage: f.mileage,
            notes: f.notes,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VehicleBody {
    /// One of the tenant's customers.
    pub customer_id: String,
    pub make: String,
    pub model: String,
    /// 1886 to next year.
    pub year: Option<i32>,
    pub vin: Option<String>,
    /// Zero or more.
    pub mileage: Option<i32>,
    pub notes: Option<String>,
}

fn year(value: Option<i32>) -> Result<Option<i32>, ApiError> {
    let latest = Utc::now().year() + 1;
    match value {
        Some(y) if !(FIRST_YEAR..=latest).contains(&y) => Err(ApiError::invalid(
            "year",
            format!("must be between {FIRST_YEAR} and {latest}"),
        )),
        other => Ok(other),
    }
}

impl Surface for Vehicles {
    type View = VehicleView;
    type Body = VehicleBody;
    const KIND: &'static str = "vehicle";

    fn validate(b: VehicleBody, _: &Principal) -> Result<VehicleFields, ApiError> {
        if b.mileage.is_some_and(|m| m < 0) {
            return Err(ApiError::invalid("mileage", "must not be negative"));
        }
        Ok(VehicleFields {
            customer_id: id_field("customer_id", &b.customer_id)?,
            make: crate::routes::text("make", &b.make, MAX_NAME_CHARS)?,
            model: crate::routes::text("model", &b.model, MAX_NAME_CHARS)?,
            year: year(b.year)?,
            vin: optional_text("vin", b.vin.as_deref(), MAX_VIN_CHARS)?.map(|v| v.to_uppercase()),
            mileage: b.mileage,
            notes: optional_text("notes", b.notes.as_deref(), MAX_TEXT_CHARS)?,
        })
    }
}

crud_operations!(
    resource: Vehicles, tag: "crm",
    collection: "/v1/vehicles", item: "/v1/vehicles/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: VehicleView, body: VehicleBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct VehicleQuery {
    /// Only this customer's vehicles.
    pub customer_id: Option<String>,
}

/// The tenant's vehicles, newest first.
#[utoipa::path(get, path = "/v1/vehicles", tag = "crm", params(VehicleQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<VehicleView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<VehicleQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<VehicleView>>, ApiError> {
    let filter = VehicleFilter {
        customer_id: optional_id("customer_id", query.customer_id.as_deref())?,
    };
    crud::list::<Vehicles>(&state, &auth.principal, filter, page).await
}
