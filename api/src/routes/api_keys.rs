//! `/v1/api-keys`: credentials for machines. A key carries a role like a user; its secret is
//! shown once, at creation or rotation, and only its hash is stored.

use super::views::{ApiKeySecret, ApiKeyView, role};
use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/api-keys", get(list_api_keys).post(create_api_key))
        .route("/v1/api-keys/{id}", delete(revoke_api_key))
        .route("/v1/api-keys/{id}/rotate", post(rotate_api_key))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApiKeyBody {
    /// What the key is for (`ci`, `crm-sync`).
    pub name: String,
    /// The key's role; never more than the caller's own.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub data: Vec<ApiKeyView>,
}

fn secret_view(created: store::ApiKeyCreated, role: domain::Role) -> ApiKeySecret {
    ApiKeySecret {
        id: created.id,
        prefix: created.prefix,
        role: role.as_str().to_owned(),
        secret: created.secret.into_inner(),
    }
}

/// The tenant's API keys (prefix, role, created, last used, revoked), newest first.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api keys",
    security(("bearer" = ["api_keys:read"])),
    responses((status = 200, body = ApiKeyList), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    auth: Authorized<perm::ApiKeysRead>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.store.list_api_keys(auth.tenant).await?;
    Ok(Json(ApiKeyList {
        data: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
}

/// Create a key. The answer holds its secret: the only time it is shown.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api keys", request_body = NewApiKeyBody,
    security(("bearer" = ["api_keys:write"])),
    responses((status = 201, body = ApiKeySecret), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Authorized<perm::ApiKeysWrite>,
    Json(body): Json<NewApiKeyBody>,
) -> Result<(StatusCode, Json<ApiKeySecret>), ApiError> {
    super::non_empty("name", &body.name)?;
    let role = role("role", &body.role)?;
    super::users::may_grant(&auth, role)?;
    let created = state
        .store
        .create_api_key_with_role(auth.tenant, body.name.trim(), role)
        .await?;
    let info = state.store.api_key(auth.tenant, created.id).await?;
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "api_key.create",
            resource_type: "api_key",
            resource_id: Some(created.id.to_string()),
            before: None,
            after: Some(audit::snapshot(&ApiKeyView::from(info))?),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(secret_view(created, role))))
}

/// Replace a key with a new secret (same name and role); the old secret stops working now.
#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "api keys", params(("id" = Uuid, Path)),
    security(("bearer" = ["api_keys:write"])),
    responses((status = 201, body = ApiKeySecret), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn rotate_api_key(
    State(state): State<AppState>,
    auth: Authorized<perm::ApiKeysWrite>,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<ApiKeySecret>), ApiError> {
    let before = state.store.api_key(auth.tenant, id).await?;
    super::users::may_grant(&auth, before.role)?;
    let created = state.store.rotate_api_key(auth.tenant, id).await?;
    let after = state.store.api_key(auth.tenant, created.id).await?;
    let role = after.role;
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "api_key.rotate",
            resource_type: "api_key",
            resource_id: Some(id.to_string()),
            before: Some(audit::snapshot(&ApiKeyView::from(before))?),
            after: Some(audit::snapshot(&ApiKeyView::from(after))?),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(secret_view(created, role))))
}

/// Revoke a key: it authenticates nothing from now on.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api keys", params(("id" = Uuid, Path)),
    security(("bearer" = ["api_keys:write"])),
    responses((status = 200, body = ApiKeyView), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    auth: Authorized<perm::ApiKeysWrite>,
    Path(id): Path<Uuid>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let before = state.store.api_key(auth.tenant, id).await?;
    super::users::may_grant(&auth, before.role)?;
    let after = ApiKeyView::from(state.store.revoke_api_key(auth.tenant, id).await?);
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "api_key.revoke",
            resource_type: "api_key",
            resource_id: Some(id.to_string()),
            before: Some(audit::snapshot(&ApiKeyView::from(before))?),
            after: Some(audit::snapshot(&after)?),
        },
    )
    .await?;
    Ok(Json(after))
}
