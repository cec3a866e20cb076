//! `/v1/tenant/integrations/elevenlabs`: the secret ElevenLabs signs the tenant's post-call
//! webhooks with. ElevenLabs generates it when the webhook is created there, so the tenant
//! reads the URL to paste here first (`GET`), then pastes the secret back (`PUT`). The secret
//! is never shown again.

use super::elevenlabs::webhook_url;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    routing::put,
};
use chrono::{DateTime, Utc};
use domain::Secret;
use serde::{Deserialize, Serialize};
use store::integrations::ELEVENLABS;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/tenant/integrations/elevenlabs",
        put(put_elevenlabs).get(get_elevenlabs),
    )
}

/// Longer than any HMAC key ElevenLabs issues; bounds what we store.
const MAX_SECRET_LEN: usize = 512;

#[derive(Deserialize, ToSchema)]
pub struct ElevenLabsInput {
    /// The webhook secret ElevenLabs showed when the webhook was created (`wsec_…`).
    pub webhook_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ElevenLabsView {
    /// Paste this into ElevenLabs as the post-call webhook URL.
    pub webhook_url: String,
    /// Whether a secret is set (it is never shown).
    pub configured: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Set (or replace) the ElevenLabs webhook secret. The response names the URL to paste into
/// ElevenLabs; the secret is not returned.
#[utoipa::path(put, path = "/v1/tenant/integrations/elevenlabs", tag = "tenant",
    request_body = ElevenLabsInput, security(("bearer" = ["tenant:write"])),
    responses((status = 200, body = ElevenLabsView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn put_elevenlabs(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantWrite>,
    input: Result<Json<ElevenLabsInput>, JsonRejection>,
) -> Result<Json<ElevenLabsView>, ApiError> {
    let Json(input) = input.map_err(|e| ApiError::invalid("body", e.body_text()))?;
    let secret = input.webhook_secret.trim();
    if secret.is_empty() || secret.chars().count() > MAX_SECRET_LEN {
        return Err(ApiError::invalid(
            "webhook_secret",
            format!("must be 1 to {MAX_SECRET_LEN} characters"),
        ));
    }
    let before = state.store.integration(auth.tenant, ELEVENLABS).await?;
    let info = state
        .store
        .put_integration_secret(auth.tenant, ELEVENLABS, &Secret::new(secret.to_owned()))
        .await?;
    let change = Change {
        action: "tenant.integration.set",
        resource_type: "tenant_integration",
        resource_id: Some(ELEVENLABS.to_owned()),
        before: before.map(|_| serde_json::json!({"provider": ELEVENLABS, "secret": "set"})),
        after: Some(serde_json::json!({"provider": ELEVENLABS, "secret": "set"})),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(ElevenLabsView {
        webhook_url: webhook_url(&state, auth.tenant),
        configured: true,
        updated_at: Some(info.updated_at),
    }))
}

/// The URL to paste into ElevenLabs, and whether its secret is set.
#[utoipa::path(get, path = "/v1/tenant/integrations/elevenlabs", tag = "tenant",
    security(("bearer" = ["tenant:read"])),
    responses((status = 200, body = ElevenLabsView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn get_elevenlabs(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantRead>,
) -> Result<Json<ElevenLabsView>, ApiError> {
    let info = state.store.integration(auth.tenant, ELEVENLABS).await?;
    Ok(Json(ElevenLabsView {
        webhook_url: webhook_url(&state, auth.tenant),
        configured: info.is_some(),
        updated_at: info.map(|i| i.updated_at),
    }))
}
