//! What several workflows share: activity options with a retry policy, and workflow time as
//! Unix milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityOptions, LocalActivityOptions};

/// An activity whose every attempt must finish within `attempt_timeout`, retried with backoff
/// from `first_retry` up to `max_interval` between attempts; `max_attempts: None` retries until
/// it succeeds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    pub(crate) attempt_timeout: Duration,
    pub(crate) first_retry: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) max_attempts: Option<u32>,
}

impl Retry {
    fn policy(&self) -> RetryPolicy {
        let policy = RetryPolicy::builder()
            .initial_interval(self.first_retry)
            .maximum_interval(self.max_interval);
        match self.max_attempts {
            Some(n) => policy.maximum_attempts(n).build(),
            None => policy.build(),
        }
    }

    /// Options of an activity the server schedules.
    pub(crate) fn activity(&self, summary: &str) -> ActivityOptions {
        ActivityOptions::with_start_to_close_timeout(self.attempt_timeout)
            .summary(summary.to_owned())
            .retry_policy(self.policy())
            .build()
    }

    /// Options of a local activity (run by the worker inside the workflow task, its result
    /// recorded as a marker).
    pub(crate) fn local_activity(&self, summary: &str) -> LocalActivityOptions {
        LocalActivityOptions::builder()
            .start_to_close_timeout(self.attempt_timeout)
            .retry_policy(self.policy())
            .summary(summary.to_owned())
            .build()
    }
}

/// [`Retry::activity`] in one call.
pub(crate) fn retried(
    summary: &str,
    attempt_timeout: Duration,
    first_retry: Duration,
    max_interval: Duration,
    max_attempts: Option<u32>,
) -> ActivityOptions {
    Retry {
        attempt_timeout,
        first_retry,
        max_interval,
        max_attempts,
    }
    .activity(summary)
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
