//! What several workflows share: activity options with a retry policy, and workflow time as
//! Unix milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use temporalio_common::RetryPolicy;
use temporalio_sdk::ActivityOptions;

/// An activity whose every attempt must finish within `attempt_timeout`, retried with backoff
/// from `first_retry` up to `max_interval` between attempts; `max_attempts: None` retries until
/// it succeeds.
pub(crate) fn retried(
    summary: &str,
    attempt_timeout: Duration,
    first_retry: Duration,
    max_interval: Duration,
    max_attempts: Option<u32>,
) -> ActivityOptions {
    let policy = RetryPolicy::builder()
        .initial_interval(first_retry)
        .maximum_interval(max_interval);
    let policy = match max_attempts {
        Some(n) => policy.maximum_attempts(n).build(),
        None => policy.build(),
    };
    ActivityOptions::with_start_to_close_timeout(attempt_timeout)
        .summary(summary.to_owned())
        .retry_policy(policy)
        .build()
}

/// Workflow time as Unix milliseconds (0 before the first activation).
pub(crate) fn unix_ms(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Twilio requests: short attempts, retried with backoff for a couple of minutes.
pub(crate) fn twilio(summary: &str) -> ActivityOptions {
    retried(
        summary,
        Duration::from_secs(20),
        Duration::from_millis(300),
        Duration::from_secs(5),
        Some(8),
    )
}
