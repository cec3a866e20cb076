//! The JSON shapes of platform resources shared by several route modules.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// owner, admin, manager, agent or viewer.
    pub role: String,
    /// active or disabled.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<store::User> for UserView {
    fn from(u: store::User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            status: u.status.as_str().to_owned(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// IANA time zone, e.g. `America/Los_Angeles`.
    pub time_zone: String,
    /// Business settings (free-form JSON object).
    pub settings: serde_json::Value,
    /// active or suspended.
    pub status: String,
    /// Call recordings older than this many days are deleted; `null`: kept forever.
    pub recording_retention_days: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl From<store::Tenant> for TenantView {
    fn from(t: store::Tenant) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            slug: t.slug,
            time_zone: t.time_zone,
            settings: t.settings,
            status: t.status.as_str().to_owned(),
            recording_retention_days: t.recording_retention_days,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<store::ApiKeyInfo> for ApiKeyView {
    fn from(k: store::ApiKeyInfo) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: k.role.as_str().to_owned(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A just-created key: `secret` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeySecret {
    pub id: Uuid,
    pub prefix: String,
    pub role: String,
    /// `sk_…`: send as `Authorization: Bearer sk_…`.
    pub secret: String,
}

/// `tz` when it names an IANA time zone, else a problem naming `field`.
pub fn time_zone(field: &'static str, tz: &str) -> Result<String, crate::ApiError> {
    tz.parse::<chrono_tz::Tz>()
        .map(|z| z.name().to_owned())
        .map_err(|_| {
            crate::ApiError::invalid(
                field,
                format!("`{tz}` is not an IANA time zone such as America/New_York"),
            )
        })
}

/// A role named in a request body, or a problem naming `field`.
pub fn role(field: &'static str, text: &str) -> Result<domain::Role, crate::ApiError> {
    domain::Role::parse(text).ok_or_else(|| {
        crate::ApiError::invalid(
            field,
            format!("must be one of {}", domain::Role::spellings().join(", ")),
        )
    })
}
