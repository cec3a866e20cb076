//! The dealership CRM behind outbound campaigns: `/v1/branches`, `/v1/customers`,
//! `/v1/vehicles`, `/v1/jobs`, `/v1/scripts`, `/v1/appointments`, `/v1/dnc`, `/v1/qa-reviews`,
//! `/v1/campaigns` (and a campaign's `/targets`), and the owner's views under `/v1/crm`.
//!
//! Every resource has the same five operations, built once in [`crud`]: a cursor-paged list
//! (`limit`, `before` = the previous page's `next_cursor`), create, get, PATCH and delete, each
//! writing the audit log. A PATCH is a JSON merge patch (RFC 7396) over the resource as GET
//! shows it: absent fields stay, `null` clears; the result is validated like a create, so a
//! record can never be patched into a shape a create would refuse. Phone numbers are personal
//! data: the audit log keeps them masked.
//!
//! Permissions: `crm:read`/`crm:write` for the CRM, `scripts:read`/`scripts:write` for scripts
//! (seed 004's matrix), `campaigns:read`/`campaigns:write` for campaigns.

pub mod appointments;
pub mod branches;
pub mod campaign_control;
pub mod campaigns;
pub mod crud;
pub mod customers;
pub mod dnc;
pub mod jobs;
pub mod owner;
pub mod qa_reviews;
pub mod scripts;
pub mod target_upload;
pub mod vehicles;

use super::text;
use crate::ApiError;
use axum::Router;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::E164;
use uuid::Uuid;

const MAX_NAME_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 4_000;

pub fn router() -> Router<crate::AppState> {
    Router::new()
        .merge(branches::router())
        .merge(customers::router())
        .merge(vehicles::router())
        .merge(jobs::router())
        .merge(scripts::router())
        .merge(scripts::duplicate_router())
        .merge(appointments::router())
        .merge(dnc::router())
        .merge(qa_reviews::router())
        .merge(campaigns::router())
        .merge(campaigns::targets_router())
        .merge(campaign_control::router())
        .merge(owner::router())
}

/// An optional text: `null`, absent or blank is none.
fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

fn phone(field: &'static str, value: &str) -> Result<E164, ApiError> {
    E164::normalize(value).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn optional_phone(field: &'static str, value: Option<&str>) -> Result<Option<E164>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => phone(field, p).map(Some),
    }
}

fn optional_email(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) => super::users::email(e).map(Some),
    }
}

/// An IANA zone name (`America/New_York`), or a problem naming `field`.
fn zone(field: &'static str, value: &str) -> Result<Tz, ApiError> {
    value
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid(field, "is not an IANA time zone (`America/New_York`)"))
}

fn optional_zone(field: &'static str, value: Option<&str>) -> Result<Option<Tz>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(z) => zone(field, z).map(Some),
    }
}

/// An id in a body or query, or a problem naming `field`.
fn id_field(field: &'static str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value.trim()).map_err(|_| ApiError::invalid(field, "is not an id"))
}

fn optional_id(field: &'static str, value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => id_field(field, v).map(Some),
    }
}

use super::instant;

fn optional_instant(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => instant(field, v).map(Some),
    }
}

/// One of a closed vocabulary's spellings, or a problem naming `field` that lists them.
fn one_of<T>(
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    spellings: fn() -> Vec<&'static str>,
) -> Result<T, ApiError> {
    parse(value.trim()).ok_or_else(|| {
        let all = spellings().join(", ");
        ApiError::invalid(field, format!("must be one of: {all}"))
    })
}

/// A list's `from` (inclusive) and `to` (exclusive), either open.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `from` before `to`, when both are given.
fn range(from: Option<&str>, to: Option<&str>) -> Result<Range, ApiError> {
    let from = optional_instant("from", from)?;
    let to = optional_instant("to", to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::invalid("to", "must be after `from`"));
    }
    Ok((from, to))
}

/// A call SID in a body or query, or a problem naming `field`.
fn call_sid(field: &'static str, value: &str) -> Result<domain::CallSid, ApiError> {
    domain::CallSid::parse(value.trim()).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn optional_call_sid(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<domain::CallSid>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => call_sid(field, v).map(Some),
    }
}
