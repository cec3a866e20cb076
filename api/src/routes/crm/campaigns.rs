//! `/v1/campaigns`: a campaign's definition (agent, script, settings) and its targets (listed
//! here, uploaded as CSV in `target_upload`). Starting and pausing come with the campaign
//! workflow; here a campaign is created `draft` and its status is only shown.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_NAME_CHARS, one_of, optional_id};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, Utc};
use domain::crm::{CampaignStatus, TargetState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::{
    campaigns::{Campaign, CampaignFields, CampaignFilter, Campaigns},
    targets::CampaignTarget,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub agent_id: Option<Uuid>,
    pub script_id: Option<Uuid>,
    /// `draft`, `running`, `paused`, `completed` or `canceled`; moved by the campaign workflow.
    pub status: String,
    /// Calling window, retries, concurrency, pacing, voicemail, default region.
    #[schema(value_type = Object)]
    pub settings: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        let s = c.stored;
        let f = s.fields;
        Self {
            id: s.id,
            name: f.name,
            agent_id: f.agent_id,
            script_id: f.script_id,
            status: c.status.as_str().to_owned(),
            settings: f.settings,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignBody {
    pub name: String,
    /// One of the tenant's agents that is not archived.
    pub agent_id: Option<String>,
    pub script_id: Option<String>,
    /// An object, kept as given.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

impl Surface for Campaigns {
    type View = CampaignView;
    type Body = CampaignBody;
    const KIND: &'static str = "campaign";

    fn validate(b: CampaignBody, _: &Principal) -> Result<CampaignFields, ApiError> {
        let settings = match b.settings {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(settings @ Value::Object(_)) => settings,
            Some(_) => return Err(ApiError::invalid("settings", "must be an object")),
        };
        domain::campaign::CampaignSettings::from_json(&settings).map_err(|e| {
            ApiError::InvalidParameter {
                field: e.field,
                detail: e.problem,
            }
        })?;
        Ok(CampaignFields {
            name: crate::routes::text("name", &b.name, MAX_NAME_CHARS)?,
            agent_id: optional_id("agent_id", b.agent_id.as_deref())?,
            script_id: optional_id("script_id", b.script_id.as_deref())?,
            settings,
        })
    }
}

crud_operations!(
    resource: Campaigns, tag: "campaigns",
    collection: "/v1/campaigns", item: "/v1/campaigns/{id}",
    read: CampaignsRead = "campaigns:read", write: CampaignsWrite = "campaigns:write",
    view: CampaignView, body: CampaignBody,
);

pub fn targets_router() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/v1/campaigns/{id}/targets",
        axum::routing::get(list_targets).post(super::target_upload::upload_targets),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CampaignQuery {
    pub status: Option<String>,
}

/// The tenant's campaigns, newest first.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", params(CampaignQuery, PageQuery),
    security(("bearer" = ["campaigns:read"])),
    responses((status = 200, body = List<CampaignView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsRead>,
    Query(query): Query<CampaignQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<CampaignView>>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            one_of(
                "status",
                s,
                CampaignStatus::parse,
                CampaignStatus::spellings,
            )
        })
        .transpose()?;
    crud::list::<Campaigns>(&state, &auth.principal, CampaignFilter { status }, page).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    /// E.164.
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    #[schema(value_type = Object)]
    pub extra: Value,
    pub source_line: Option<i32>,
    /// `pending`, `scheduled`, `dialing`, `completed`, `failed`, `exhausted`, `do_not_call`, `canceled` or `skipped`.
    pub state: String,
    pub attempts: i32,
    pub last_call_sid: Option<String>,
    pub last_outcome: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<CampaignTarget> for TargetView {
    fn from(t: CampaignTarget) -> Self {
        let n = t.target;
        Self {
            id: t.id,
            customer_id: n.customer_id,
            phone: n.phone.as_str().to_owned(),
            name: n.name,
            email: n.email,
            time_zone: n.time_zone.map(|z| z.name().to_owned()),
            extra: n.extra,
            source_line: n.source_line,
            state: t.state.as_str().to_owned(),
            attempts: t.attempts,
            last_call_sid: t.last_call_sid.map(|s| s.as_str().to_owned()),
            last_outcome: t.last_outcome.map(|o| o.as_str().to_owned()),
            next_attempt_at: t.next_attempt_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TargetQuery {
    /// Only targets in this state.
    pub state: Option<String>,
}

/// A campaign's targets, newest first.
#[utoipa::path(get, path = "/v1/campaigns/{id}/targets", tag = "campaigns",
    params(("id" = Uuid, Path), TargetQuery, PageQuery),
    security(("bearer" = ["campaigns:read"])),
    responses((status = 200, body = List<TargetView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn list_targets(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsRead>,
    Path(id): Path<String>,
    Query(query): Query<TargetQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<TargetView>>, ApiError> {
    let campaign = crud::path_id::<Campaigns>(&id)?;
    let target_state = query
        .state
        .as_deref()
        .map(|s| one_of("state", s, TargetState::parse, TargetState::spellings))
        .transpose()?;
    let limit = crate::routes::page_limit(page.limit)?;
    let before = crate::routes::cursor(page.before.as_deref())?;
    let page = state
        .store
        .campaign_targets(auth.tenant, campaign, target_state, limit, before)
        .await?;
    Ok(Json(List {
        data: page.items.into_iter().map(TargetView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
