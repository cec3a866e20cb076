//! `/v1/tenant` (the caller's business: name, time zone, settings) and `/v1/audit-log` (every
//! mutation of its data, who made it and from where).

use super::views::{TenantView, time_zone};
use crate::query::Query;
use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, perm},
};
use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{AuditRecord, TenantUpdate};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tenant", get(get_tenant).patch(update_tenant))
        .route("/v1/audit-log", get(audit_log))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TenantPatch {
    pub name: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: Option<String>,
    /// Business settings: a JSON object, replacing the current one.
    pub settings: Option<serde_json::Value>,
    /// Delete call recordings older than this many days (1 to 3650); `null` keeps them forever.
    #[serde(default, deserialize_with = "super::numbers::present")]
    #[schema(value_type = Option<u32>)]
    pub recording_retention_days: Option<Option<u32>>,
}

/// Bounds of `recording_retention_days`: a day to ten years.
const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// The caller's tenant.
#[utoipa::path(get, path = "/v1/tenant", tag = "tenant", security(("bearer" = ["tenant:read"])),
    responses((status = 200, body = TenantView), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantRead>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(TenantView::from(
        state.store.tenant(auth.tenant).await?,
    )))
}

fn tenant_update(patch: TenantPatch) -> Result<TenantUpdate, ApiError> {
    if let Some(name) = &patch.name {
        super::non_empty("name", name)?;
    }
    let time_zone = patch
        .time_zone
        .as_deref()
        .map(|tz| time_zone("time_zone", tz))
        .transpose()?;
    if patch.settings.as_ref().is_some_and(|s| !s.is_object()) {
        return Err(ApiError::invalid("settings", "must be a JSON object"));
    }
    if let Some(Some(days)) = patch.recording_retention_days
        && !RETENTION_DAYS.contains(&days)
    {
        return Err(ApiError::invalid(
            "recording_retention_days",
            "must be between 1 and 3650, or null to keep recordings forever",
        ));
    }
    Ok(TenantUpdate {
        name: patch.name.map(|n| n.trim().to_owned()),
        time_zone,
        settings: patch.settings,
        recording_retention_days: patch.recording_retention_days,
    })
}

/// Change the tenant's name, time zone or business settings.
#[utoipa::path(patch, path = "/v1/tenant", tag = "tenant", request_body = TenantPatch,
    security(("bearer" = ["tenant:write"])),
    responses((status = 200, body = TenantView), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn update_tenant(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantWrite>,
    Json(patch): Json<TenantPatch>,
) -> Result<Json<TenantView>, ApiError> {
    let update = tenant_update(patch)?;
    let before = TenantView::from(state.store.tenant(auth.tenant).await?);
    let after = TenantView::from(state.store.update_tenant(auth.tenant, update).await?);
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "tenant.update",
            resource_type: "tenant",
            resource_id: Some(auth.tenant.to_string()),
            before: Some(audit::snapshot(&before)?),
            after: Some(audit::snapshot(&after)?),
        },
    )
    .await?;
    Ok(Json(after))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// How many, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub before: Option<String>,
    /// Only this action, e.g. `agent.update`.
    pub action: Option<String>,
    /// Only this kind of resource, e.g. `user`.
    pub resource_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: Uuid,
    /// user, api_key or operator.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    /// The resource before the change, secrets redacted.
    pub before: Option<serde_json::Value>,
    /// The resource after the change, secrets redacted.
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        let e = r.entry;
        Self {
            id: r.id,
            actor_type: e.actor_type,
            actor_id: e.actor_id,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            before: e.before,
            after: e.after,
            request_id: e.request_id,
            client_addr: e.client_addr,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditView>,
    pub next_cursor: Option<Uuid>,
}

/// Every mutation of the tenant's data, newest first.
#[utoipa::path(get, path = "/v1/audit-log", tag = "tenant", params(AuditQuery),
    security(("bearer" = ["audit:read"])),
    responses((status = 200, body = AuditList), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn audit_log(
    State(state): State<AppState>,
    auth: Authorized<perm::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let limit = super::page_limit(q.limit)?;
    let before = super::cursor(q.before.as_deref())?;
    let page = state
        .store
        .list_audit(
            auth.tenant,
            limit,
            before,
            q.action.as_deref(),
            q.resource_type.as_deref(),
        )
        .await?;
    Ok(Json(AuditList {
        data: page.items.into_iter().map(AuditView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
