//! Route modules, one per surface.

pub mod admin;
pub mod agent_builds;
pub mod agents;
pub mod api_keys;
pub mod auth;
pub mod calls;
pub mod campaign_calls;
pub mod codec;
pub mod crm;
pub mod demo;
pub mod directory;
pub mod elevenlabs;
pub mod health;
pub mod integrations;
pub mod knowledge;
pub mod live_calls;
pub mod media;
pub mod messages;
pub mod numbers;
pub mod overview;
pub mod recordings;
pub mod sse;
pub mod talk;
pub mod tenant;
pub mod tenant_webhook;
pub mod transfer;
pub mod twilio;
pub mod users;
pub mod views;
pub mod webhook_deliveries;

use crate::ApiError;

/// A JSON request body, or a 400 problem naming `body` with what was wrong with it.
fn body<T>(
    body: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|axum::Json(b)| b)
        .map_err(|e| ApiError::invalid("body", e.body_text()))
}

const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 100;

/// A list endpoint's `limit`: 20 when absent, else 1 to 100 or a problem naming `limit`.
fn page_limit(limit: Option<u64>) -> Result<u64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    Ok(limit)
}

/// A list endpoint's `before` cursor: the `next_cursor` a previous page returned.
fn cursor(before: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
    before
        .map(|c| {
            uuid::Uuid::parse_str(c)
                .map_err(|_| ApiError::invalid("before", "is not a cursor this API returned"))
        })
        .transpose()
}

/// `Ok` unless `value` is blank, else a problem naming `field`.
fn non_empty(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// An RFC 3339 time (`2026-12-05T09:00:00-05:00`), in UTC: 400 naming `field` otherwise.
pub(crate) fn instant(
    field: &'static str,
    raw: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            ApiError::invalid(
                field,
                "must be an RFC 3339 time such as 2026-12-05T09:00:00-05:00",
            )
        })
}

/// A required text field, trimmed: 400 naming `field` when it is empty or longer than `max`
/// characters.
pub(crate) fn text(field: &'static str, text: &str, max: usize) -> Result<String, crate::ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(crate::ApiError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(crate::ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}
