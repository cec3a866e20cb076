//! Route modules, one per surface.

pub mod agents;
pub mod calls;
pub mod health;
pub mod knowledge;
pub mod media;
pub mod messages;
pub mod numbers;
pub mod twilio;

use crate::ApiError;

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
