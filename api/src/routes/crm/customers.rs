//! `/v1/customers`: the people campaigns call, with their consent to calls and texts.
//!
//! DELETE anonymises (see `store::crm::customers`): the row and its id stay so appointments
//! that name the customer still read; the customer is then gone from lists and GET.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{
    MAX_NAME_CHARS, MAX_TEXT_CHARS, optional_email, optional_id, optional_instant, optional_phone,
    optional_text, optional_zone,
};
use crate::query::Query;
use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use domain::phone::mask_phone;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::customers::{Customer, CustomerFields, CustomerFilter, Customers};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: Uuid,
    pub name: String,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// IANA zone; `null` is the branch's, else the tenant's.
    pub time_zone: Option<String>,
    pub branch_id: Option<Uuid>,
    pub consent_calls: bool,
    pub consent_sms: bool,
    pub consent_recorded_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        let f = c.fields;
        Self {
            id: c.id,
            name: f.name,
            phone: f.phone.map(|p| p.as_str().to_owned()),
            email: f.email,
            time_zone: f.time_zone.map(|z| z.name().to_owned()),
            branch_id: f.branch_id,
            consent_calls: f.consent_calls,
            consent_sms: f.consent_sms,
            consent_recorded_at: f.consent_recorded_at,
            notes: f.notes,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerBody {
    pub name: String,
    /// E.164; spaces, dashes and parentheses are dropped.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// IANA zone (`America/Chicago`).
    pub time_zone: Option<String>,
    pub branch_id: Option<String>,
    /// May we call them (default false).
    #[serde(default)]
    pub consent_calls: bool,
    #[serde(default)]
    pub consent_sms: bool,
    /// When consent was given; now, when a consent is given without it.
    pub consent_recorded_at: Option<String>,
    pub notes: Option<String>,
}

impl Surface for Customers {
    type View = CustomerView;
    type Body = CustomerBody;
    const KIND: &'static str = "customer";

    fn validate(b: CustomerBody, _: &Principal) -> Result<CustomerFields, ApiError> {
        let recorded = optional_instant("consent_recorded_at", b.consent_recorded_at.as_deref())?;
        let consented = b.consent_calls || b.consent_sms;
        Ok(CustomerFields {
            name: crate::routes::text("name", &b.name, MAX_NAME_CHARS)?,
            phone: optional_phone("phone", b.phone.as_deref())?,
            email: optional_email(b.email.as_deref())?,
            time_zone: optional_zone("time_zone", b.time_zone.as_deref())?,
            branch_id: optional_id("branch_id", b.branch_id.as_deref())?,
            consent_calls: b.consent_calls,
            consent_sms: b.consent_sms,
            consent_recorded_at: recorded.or(consented.then(Utc::now)),
            notes: optional_text("notes", b.notes.as_deref(), MAX_TEXT_CHARS)?,
        })
    }

    fn audit(record: &Customer) -> Result<Value, ApiError> {
        let mut view = CustomerView::from(record.clone());
        view.phone = view.phone.as_deref().map(mask_phone);
        audit::snapshot(&view)
    }
}

crud_operations!(
    resource: Customers, tag: "crm",
    collection: "/v1/customers", item: "/v1/customers/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: CustomerView, body: CustomerBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// Contained in the name, email or phone (ignoring case).
    pub q: Option<String>,
    pub branch_id: Option<String>,
}

/// The tenant's customers, newest first; anonymised ones are not listed.
#[utoipa::path(get, path = "/v1/customers", tag = "crm", params(CustomerQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<CustomerView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<CustomerQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<CustomerView>>, ApiError> {
    let filter = CustomerFilter {
        q: optional_text("q", query.q.as_deref(), MAX_NAME_CHARS)?,
        branch_id: optional_id("branch_id", query.branch_id.as_deref())?,
    };
    crud::list::<Customers>(&state, &auth.principal, filter, page).await
}
