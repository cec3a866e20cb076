//! `/v1/branches`: a dealership group's locations, each with its number, zone and hours.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_NAME_CHARS, MAX_TEXT_CHARS, optional_phone, optional_text, optional_zone};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use domain::directory::Schedule;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::branches::{Branch, BranchFields, Branches};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchView {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// IANA zone; `null` is the tenant's.
    pub time_zone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Schedule>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Branch> for BranchView {
    fn from(b: Branch) -> Self {
        let f = b.fields;
        Self {
            id: b.id,
            name: f.name,
            address: f.address,
            phone: f.phone.map(|p| p.as_str().to_owned()),
            time_zone: f.time_zone.map(|z| z.name().to_owned()),
            hours: f.hours,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BranchBody {
    pub name: String,
    pub address: Option<String>,
    /// E.164; spaces, dashes and parentheses are dropped.
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    /// `{"weekly": {"mon": [["08:00","18:00"]]}, "exceptions": […]}` in the branch's zone.
    #[schema(value_type = Option<Object>)]
    pub hours: Option<Value>,
}

impl Surface for Branches {
    type View = BranchView;
    type Body = BranchBody;
    const KIND: &'static str = "branch";

    fn validate(b: BranchBody, _: &Principal) -> Result<BranchFields, ApiError> {
        Ok(BranchFields {
            name: crate::routes::text("name", &b.name, MAX_NAME_CHARS)?,
            address: optional_text("address", b.address.as_deref(), MAX_TEXT_CHARS)?,
            phone: optional_phone("phone", b.phone.as_deref())?,
            time_zone: optional_zone("time_zone", b.time_zone.as_deref())?,
            hours: crate::routes::directory::hours("hours", b.hours)?,
        })
    }
}

crud_operations!(
    resource: Branches, tag: "crm",
    collection: "/v1/branches", item: "/v1/branches/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: BranchView, body: BranchBody,
);

/// The tenant's branches, newest first.
#[utoipa::path(get, path = "/v1/branches", tag = "crm", params(PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<BranchView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<BranchView>>, ApiError> {
    crud::list::<Branches>(&state, &auth.principal, (), page).await
}
