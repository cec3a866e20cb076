//! `/v1/tenant/webhook`: the tenant's message webhook. Every message the receptionist takes is
//! POSTed there as a signed `message.taken` event (see `domain::webhook_signature` for the
//! `Switchboard-Signature` scheme receivers verify).

use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    http::StatusCode,
    routing::put,
};
use chrono::{DateTime, Utc};
use domain::Secret;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use store::TenantWebhook;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/tenant/webhook",
        put(put_webhook).get(get_webhook).delete(delete_webhook),
    )
}

/// How much of the secret `GET` shows, to tell secrets apart.
const SECRET_PREFIX_LEN: usize = 10;

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookInput {
    /// Where `message.taken` events are POSTed. `https://` required; `http://` only for
    /// `127.0.0.1` and `localhost` (local development).
    pub url: String,
}

/// The webhook as created: the only time the signing secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub url: String,
    /// HMAC-SHA256 key of `Switchboard-Signature` (`t={unix},v1={hex}` over `"{t}.{body}"`).
    /// Shown once: store it now.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub url: String,
    /// The secret's first characters.
    pub secret_prefix: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&TenantWebhook> for WebhookView {
    fn from(w: &TenantWebhook) -> Self {
        Self {
            url: w.url.clone(),
            secret_prefix: w.secret.expose().chars().take(SECRET_PREFIX_LEN).collect(),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// `url` if it is https, or http to this machine.
fn webhook_url(raw: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| ApiError::invalid("url", "must be an absolute URL"))?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url.into()),
        "http" if local => Ok(url.into()),
        _ => Err(ApiError::invalid(
            "url",
            "must be https:// (http:// only for 127.0.0.1 or localhost)",
        )),
    }
}

fn new_secret() -> Secret<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(format!("whsec_{}", hex::encode(bytes)))
}

/// Set the message webhook (replacing any, with a new secret). The response holds the secret,
/// shown this once.
#[utoipa::path(put, path = "/v1/tenant/webhook", tag = "tenant", request_body = WebhookInput,
    security(("bearer" = ["tenant:write"])),
    responses((status = 200, body = WebhookCreated),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn put_webhook(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantWrite>,
    input: Result<Json<WebhookInput>, JsonRejection>,
) -> Result<Json<WebhookCreated>, ApiError> {
    let Json(input) = input.map_err(|e| ApiError::invalid("body", e.body_text()))?;
    let url = webhook_url(&input.url)?;
    let secret = new_secret();
    let (before, after) = state
        .store
        .put_tenant_webhook(auth.tenant, &url, &secret)
        .await?;
    let change = Change {
        action: "tenant.webhook.set",
        resource_type: "tenant_webhook",
        resource_id: None,
        before: before.map(|b| serde_json::json!({"url": b.url})),
        after: Some(serde_json::json!({"url": after.url})),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(WebhookCreated {
        url: after.url,
        secret: secret.into_inner(),
        created_at: after.created_at,
    }))
}

/// The message webhook (the secret's prefix only).
#[utoipa::path(get, path = "/v1/tenant/webhook", tag = "tenant",
    security(("bearer" = ["tenant:read"])),
    responses((status = 200, body = WebhookView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantRead>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = state
        .store
        .tenant_webhook(auth.tenant)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    Ok(Json(WebhookView::from(&webhook)))
}

/// Remove the message webhook.
#[utoipa::path(delete, path = "/v1/tenant/webhook", tag = "tenant",
    security(("bearer" = ["tenant:write"])),
    responses((status = 204, description = "Removed"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    auth: Authorized<perm::TenantWrite>,
) -> Result<StatusCode, ApiError> {
    let removed = state
        .store
        .delete_tenant_webhook(auth.tenant)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    let change = Change {
        action: "tenant.webhook.delete",
        resource_type: "tenant_webhook",
        resource_id: None,
        before: Some(serde_json::json!({"url": removed.url})),
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
