//! Fault injection: what a bad day at Twilio looks like, reproducibly.
//!
//! - REST requests fail at `rest_failure_rate`, with a kind picked from `rest_failure_kinds`:
//!   HTTP 429 (Twilio's body, code 20429), HTTP 500 (code 20500), or a *timeout* — the sim
//!   holds the request for `timeout_hold_ms` (longer than our client's 15 s by default) and then
//!   answers 504. Whether the operation took effect anyway is `timeout_after_effect`: real
//!   Twilio may well have created the call before the connection died, so the default is
//!   `true` (the call exists, the client never learns its SID) — the case an idempotent caller
//!   must survive.
//! - Webhooks are delayed by `webhook_delay_ms`, sent twice at `webhook_duplicate_rate`, and
//!   retried `webhook_retries` times on 5xx / connection failure.
//! - `drop_stream_after_ms` cuts every media stream's WebSocket (no `stop`) after that long.
//!
//! All random choices come from one RNG seeded with `seed`, so a run is reproducible as long as
//! requests arrive in the same order.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

/// How an injected REST failure looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestFailure {
    /// HTTP 429, Twilio code 20429 ("Too Many Requests").
    TooManyRequests,
    /// HTTP 500, Twilio code 20500 ("Internal Server Error").
    ServerError,
    /// The request hangs for `timeout_hold_ms`, then gets HTTP 504.
    Timeout,
}

/// What to break. `FaultConfig::default()` breaks nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Seed of the RNG behind every random choice.
    pub seed: u64,
    /// Fraction (0..=1) of Twilio REST requests that fail.
    pub rest_failure_rate: f64,
    /// Failure kinds to pick from (uniformly). Empty means `[TooManyRequests]`.
    pub rest_failure_kinds: Vec<RestFailure>,
    /// How long a `Timeout` failure holds the request.
    pub timeout_hold_ms: u64,
    /// Whether a timed-out request still performs its operation.
    pub timeout_after_effect: bool,
    /// Added before every webhook request.
    pub webhook_delay_ms: u64,
    /// Fraction of webhooks (status callbacks, not TwiML fetches) sent twice.
    pub webhook_duplicate_rate: f64,
    /// Retries of a webhook after a 5xx or a connection failure.
    pub webhook_retries: u32,
    /// Cut media streams after this long.
    pub drop_stream_after_ms: Option<u64>,
    /// Requests that time out for sure, before any random failure: the worst moment for a
    /// given operation, on demand.
    pub scripted_timeouts: Vec<ScriptedTimeout>,
}

/// The first `count` POSTs whose path ends with `path_suffix` (`/Calls.json`) time out, as a
/// [`RestFailure::Timeout`] does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedTimeout {
    pub path_suffix: String,
    pub count: u32,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            rest_failure_rate: 0.0,
            rest_failure_kinds: Vec::new(),
            timeout_hold_ms: 20_000,
            timeout_after_effect: true,
            webhook_delay_ms: 0,
            webhook_duplicate_rate: 0.0,
            webhook_retries: 0,
            drop_stream_after_ms: None,
            scripted_timeouts: Vec::new(),
        }
    }
}

/// How many REST failures the sim has injected, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub too_many_requests: u64,
    pub server_errors: u64,
    pub timeouts: u64,
}

/// The config plus its RNG.
pub(crate) struct FaultState {
    pub config: FaultConfig,
    rng: StdRng,
    pub injected: FaultCounts,
}

impl FaultState {
    pub(crate) fn new(config: FaultConfig) -> Self {
        Self {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            injected: FaultCounts::default(),
        }
    }

    /// Whether this REST request fails, and how.
    pub(crate) fn rest_failure(&mut self, method: &str, path: &str) -> Option<RestFailure> {
        if method == "POST"
            && let Some(scripted) = self
                .config
                .scripted_timeouts
                .iter_mut()
                .find(|t| t.count > 0 && path.ends_with(&t.path_suffix))
        {
            scripted.count -= 1;
            self.injected.timeouts += 1;
            return Some(RestFailure::Timeout);
        }
        if self.config.rest_failure_rate <= 0.0
            || !self.rng.random_bool(self.config.rest_failure_rate.min(1.0))
        {
            return None;
        }
        let kinds = &self.config.rest_failure_kinds;
        let kind = if kinds.is_empty() {
            RestFailure::TooManyRequests
        } else {
            kinds[self.rng.random_range(0..kinds.len())]
        };
        let counter = match kind {
            RestFailure::TooManyRequests => &mut self.injected.too_many_requests,
            RestFailure::ServerError => &mut self.injected.server_errors,
            RestFailure::Timeout => &mut self.injected.timeouts,
        };
        *counter += 1;
        Some(kind)
    }

    /// Whether to send this webhook twice.
    pub(crate) fn duplicate_webhook(&mut self) -> bool {
        self.config.webhook_duplicate_rate > 0.0
            && self
                .rng
                .random_bool(self.config.webhook_duplicate_rate.min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_failures() {
        let config = FaultConfig {
            seed: 7,
            rest_failure_rate: 0.3,
            rest_failure_kinds: vec![RestFailure::TooManyRequests, RestFailure::ServerError],
            ..FaultConfig::default()
        };
        let run = || {
            let mut f = FaultState::new(config.clone());
            (0..200)
                .map(|_| f.rest_failure("POST", "/Calls.json"))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let failed = a.iter().filter(|f| f.is_some()).count();
        assert!((40..=80).contains(&failed), "{failed} of 200 failed");
    }

    #[test]
    fn default_breaks_nothing() {
        let mut f = FaultState::new(FaultConfig::default());
        assert!(
            (0..100)
                .all(|_| f.rest_failure("POST", "/Calls.json").is_none() && !f.duplicate_webhook())
        );
    }
}
