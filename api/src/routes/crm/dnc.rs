//! `/v1/dnc`: the do-not-call list. A number is normalised to E.164 on the way in, and a
//! number already on the list is a 409, not a second entry.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_TEXT_CHARS, one_of, optional_call_sid, optional_phone, optional_text, phone};
use crate::query::Query;
use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use domain::{crm::DncSource, phone::mask_phone};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::dnc::{DncEntries, DncEntry, DncFields, DncFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct DncView {
    pub id: Uuid,
    /// E.164.
    pub phone: String,
    pub reason: Option<String>,
    /// `manual`, `call`, `import` or `webhook`.
    pub source: String,
    pub call_sid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DncEntry> for DncView {
    fn from(d: DncEntry) -> Self {
        let f = d.fields;
        Self {
            id: d.id,
            phone: f.phone.as_str().to_owned(),
            reason: f.reason,
            source: f.source.as_str().to_owned(),
            call_sid: f.call_sid.map(|s| s.as_str().to_owned()),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DncBody {
    /// Normalised to E.164: `+1 (415) 555-0101` is `+14155550101`.
    pub phone: String,
    pub reason: Option<String>,
    /// `manual` (default), `call`, `import` or `webhook`.
    pub source: Option<String>,
    /// The call in which the person asked.
    pub call_sid: Option<String>,
}

impl Surface for DncEntries {
    type View = DncView;
    type Body = DncBody;
    const KIND: &'static str = "dnc_entry";

    fn validate(b: DncBody, _: &Principal) -> Result<DncFields, ApiError> {
        let source = b
            .source
            .as_deref()
            .map(|s| one_of("source", s, DncSource::parse, DncSource::spellings))
            .transpose()?;
        Ok(DncFields {
            phone: phone("phone", &b.phone)?,
            reason: optional_text("reason", b.reason.as_deref(), MAX_TEXT_CHARS)?,
            source: source.unwrap_or(DncSource::Manual),
            call_sid: optional_call_sid("call_sid", b.call_sid.as_deref())?,
        })
    }

    fn audit(record: &DncEntry) -> Result<Value, ApiError> {
        let mut view = DncView::from(record.clone());
        view.phone = mask_phone(&view.phone);
        audit::snapshot(&view)
    }
}

crud_operations!(
    resource: DncEntries, tag: "crm",
    collection: "/v1/dnc", item: "/v1/dnc/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: DncView, body: DncBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct DncQuery {
    /// Only this number's entry (normalised like a body's).
    pub phone: Option<String>,
}

/// The tenant's do-not-call list, newest first.
#[utoipa::path(get, path = "/v1/dnc", tag = "crm", params(DncQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<DncView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<DncQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<DncView>>, ApiError> {
    let filter = DncFilter {
        phone: optional_phone("phone", query.phone.as_deref())?,
    };
    crud::list::<DncEntries>(&state, &auth.principal, filter, page).await
}
