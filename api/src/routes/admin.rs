//! `/v1/admin`: the platform operator's routes (the `SWITCHBOARD_OPERATOR_TOKEN` bearer):
//! create, list, suspend and reactivate tenants with their usage, and seed demo tenants.
//! A suspended tenant's users cannot sign in and its numbers answer with a polite goodbye.

use super::views::{TenantView, UserView, time_zone};
use crate::{
    ApiError, AppState, audit,
    auth::{operator::Operator, password},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use domain::{Role, TenantId, TenantStatus};
use serde::{Deserialize, Serialize};
use store::{NewTenant, NewUser, TenantUsage};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/tenants", get(list_tenants).post(create_tenant))
        .route("/v1/admin/tenants/{id}", get(get_tenant))
        .route("/v1/admin/tenants/{id}/suspend", post(suspend_tenant))
        .route("/v1/admin/tenants/{id}/activate", post(activate_tenant))
        .route(
            "/v1/admin/demo-tenants",
            post(super::demo::create_demo_tenant),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOwner {
    pub email: String,
    pub name: String,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTenantBody {
    pub name: String,
    /// `a-z`, digits and `-`; derived from the name when absent.
    pub slug: Option<String>,
    /// IANA time zone (default `UTC`).
    pub time_zone: Option<String>,
    pub settings: Option<serde_json::Value>,
    /// The tenant's first user, its owner.
    pub owner: NewOwner,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub users: u64,
    pub api_keys: u64,
    pub agents: u64,
    pub phone_numbers: u64,
    pub calls: u64,
    pub messages: u64,
    pub knowledge: u64,
}

impl From<TenantUsage> for Usage {
    fn from(u: TenantUsage) -> Self {
        Self {
            users: u.users,
            api_keys: u.api_keys,
            agents: u.agents,
            phone_numbers: u.phone_numbers,
            calls: u.calls,
            messages: u.messages,
            knowledge: u.knowledge,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantWithUsage {
    #[serde(flatten)]
    pub tenant: TenantView,
    pub usage: Usage,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    pub data: Vec<TenantWithUsage>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTenant {
    pub tenant: TenantView,
    pub owner: UserView,
}

/// `slug` when it is one, else a problem naming it.
pub(crate) fn slug(text: &str) -> Result<String, ApiError> {
    let ok = (2..=63).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(ApiError::invalid(
            "slug",
            "must be 2 to 63 of a-z, 0-9 and -, not starting or ending with -",
        ))
    }
}

/// A slug from a name: `Acme Dental, Inc.` → `acme-dental-inc`.
pub(crate) fn slug_of(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out
        .trim_end_matches('-')
        .chars()
        .take(48)
        .collect::<String>();
    if out.len() < 2 {
        "tenant".to_owned()
    } else {
        out
    }
}

async fn with_usage(state: &AppState, tenant: store::Tenant) -> Result<TenantWithUsage, ApiError> {
    let usage = state.store.tenant_usage(tenant.id).await?;
    Ok(TenantWithUsage {
        tenant: TenantView::from(tenant),
        usage: Usage::from(usage),
    })
}

/// Every tenant with its usage counts.
#[utoipa::path(get, path = "/v1/admin/tenants", tag = "admin", security(("operator" = [])),
    responses((status = 200, body = TenantList), (status = 401, body = crate::error::Problem)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<TenantList>, ApiError> {
    let mut data = Vec::new();
    for tenant in state.store.all_tenants().await? {
        data.push(with_usage(&state, tenant).await?);
    }
    Ok(Json(TenantList { data }))
}

/// One tenant with its usage counts.
#[utoipa::path(get, path = "/v1/admin/tenants/{id}", tag = "admin", params(("id" = Uuid, Path)),
    security(("operator" = [])),
    responses((status = 200, body = TenantWithUsage), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<TenantWithUsage>, ApiError> {
    let tenant = state.store.tenant(TenantId::from(id)).await?;
    Ok(Json(with_usage(&state, tenant).await?))
}

/// The checked tenant and owner of a request.
async fn new_tenant(body: NewTenantBody) -> Result<(NewTenant, NewUser), ApiError> {
    super::non_empty("name", &body.name)?;
    let slug = slug(&body.slug.unwrap_or_else(|| slug_of(&body.name)))?;
    let time_zone = time_zone("time_zone", body.time_zone.as_deref().unwrap_or("UTC"))?;
    let settings = body.settings.unwrap_or_else(|| serde_json::json!({}));
    if !settings.is_object() {
        return Err(ApiError::invalid("settings", "must be a JSON object"));
    }
    let email = super::users::email(&body.owner.email)
        .map_err(|_| ApiError::invalid("owner.email", "is not an email address"))?;
    super::users::new_password(&body.owner.password).map_err(|e| match e {
        ApiError::InvalidField { detail, .. } => ApiError::invalid("owner.password", detail),
        other => other,
    })?;
    super::non_empty("owner.name", &body.owner.name)?;
    let password_hash = password::hash(body.owner.password).await?;
    let tenant = NewTenant {
        name: body.name.trim().to_owned(),
        slug,
        time_zone,
        settings,
    };
    let owner = NewUser {
        email,
        name: body.owner.name.trim().to_owned(),
        password_hash,
        role: Role::Owner,
    };
    Ok((tenant, owner))
}

/// Create a tenant and its owner.
#[utoipa::path(post, path = "/v1/admin/tenants", tag = "admin", request_body = NewTenantBody,
    security(("operator" = [])),
    responses((status = 201, body = CreatedTenant), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    op: Operator,
    Json(body): Json<NewTenantBody>,
) -> Result<(StatusCode, Json<CreatedTenant>), ApiError> {
    let (tenant, owner) = new_tenant(body).await?;
    let tenant = TenantView::from(state.store.create_tenant_with(tenant).await?);
    let owner = UserView::from(
        state
            .store
            .create_user(TenantId::from(tenant.id), owner)
            .await?,
    );
    let created = CreatedTenant { tenant, owner };
    audit::record_operator(
        &state,
        &op,
        TenantId::from(created.tenant.id),
        audit::Change {
            action: "tenant.create",
            resource_type: "tenant",
            resource_id: Some(created.tenant.id.to_string()),
            before: None,
            after: Some(audit::snapshot(&created)?),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn set_status(
    state: &AppState,
    op: &Operator,
    id: Uuid,
    status: TenantStatus,
) -> Result<TenantView, ApiError> {
    let tenant = TenantId::from(id);
    let before = TenantView::from(state.store.tenant(tenant).await?);
    let after = TenantView::from(state.store.set_tenant_status(tenant, status).await?);
    let action = if status == TenantStatus::Suspended {
        "tenant.suspend"
    } else {
        "tenant.activate"
    };
    audit::record_operator(
        state,
        op,
        tenant,
        audit::Change {
            action,
            resource_type: "tenant",
            resource_id: Some(id.to_string()),
            before: Some(audit::snapshot(&before)?),
            after: Some(audit::snapshot(&after)?),
        },
    )
    .await?;
    Ok(after)
}

/// Suspend a tenant: its users cannot sign in and its numbers say goodbye and hang up.
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/suspend", tag = "admin", params(("id" = Uuid, Path)),
    security(("operator" = [])),
    responses((status = 200, body = TenantView), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn suspend_tenant(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(
        set_status(&state, &op, id, TenantStatus::Suspended).await?,
    ))
}

/// Reactivate a suspended tenant.
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/activate", tag = "admin", params(("id" = Uuid, Path)),
    security(("operator" = [])),
    responses((status = 200, body = TenantView), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn activate_tenant(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(
        set_status(&state, &op, id, TenantStatus::Active).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names_and_are_checked() {
        assert_eq!(slug_of("Acme Dental, Inc."), "acme-dental-inc");
        assert_eq!(slug_of("!"), "tenant");
        assert!(slug(&slug_of("Ünïcode Café")).is_ok());
        assert!(slug("acme-dental").is_ok());
        assert!(slug("-acme").is_err());
        assert!(slug("Acme").is_err());
        assert!(slug("a").is_err());
    }
}
