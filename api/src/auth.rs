//! Tenant API keys: `Authorization: Bearer sk_…` → the tenant the key belongs to.

use crate::{ApiError, AppState};
use axum::{extract::FromRequestParts, http::request::Parts};
use domain::TenantId;

/// The authenticated caller's tenant. Every `/v1` handler takes one and scopes its queries to it.
#[derive(Debug, Clone, Copy)]
pub struct Tenant(pub TenantId);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| s.starts_with("sk_"))
            .ok_or(ApiError::Unauthorized)?;
        let tenant = state
            .store
            .authenticate_api_key(secret)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
        Ok(Self(tenant))
    }
}
