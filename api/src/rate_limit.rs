//! Per-tenant rate limits: a token bucket per (tenant, route class).
//!
//! Reads and writes have their own bucket, so a tenant polling its calls cannot starve its own
//! writes. [`RateLimiter`] keeps the buckets in Redis when `REDIS_URL` is set — one atomic Lua
//! script on Redis's clock, so every API node shares them and skewed node clocks agree — and in
//! this process otherwise. [`enforce`] runs inside [`crate::auth::Authorized`], so only the
//! tenant REST API is limited: Twilio webhooks and media streams never pass through it and are
//! never dropped by a tenant's limit.
//!
//! A Redis outage fails open: the request passes, a warning is logged and
//! `switchboard_rate_limiter_errors` counts it. A limiter outage must not take the API down.

use crate::{ApiError, AppState};
use domain::{Permission, TenantId};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::sync::OnceCell;

/// A route class: its own bucket per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    Read,
    Write,
}

impl RouteClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Read => "read",
            RouteClass::Write => "write",
        }
    }
}

impl From<Permission> for RouteClass {
    /// Reading call data through the codec changes nothing: it counts as a read. (The Temporal
    /// CLI and UI decode one history event per request, and retry a 429 until they give up.)
    fn from(permission: Permission) -> Self {
        if permission.is_read() || permission == Permission::PayloadsDecode {
            RouteClass::Read
        } else {
            RouteClass::Write
        }
    }
}

/// One bucket's shape: `burst` tokens at most, refilled at `per_minute`. `per_minute == 0`
/// turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketConfig {
    pub per_minute: u32,
    pub burst: u32,
}

impl BucketConfig {
    fn enabled(self) -> bool {
        self.per_minute > 0
    }

    fn tokens_per_ms(self) -> f64 {
        f64::from(self.per_minute) / 60_000.0
    }

    /// How long an empty bucket takes to fill: after that, a missing bucket is the same as a
    /// full one, so it may expire.
    fn idle_after(self) -> Duration {
        let ms = (f64::from(self.burst) / self.tokens_per_ms()).ceil() as u64;
        Duration::from_millis(ms + 1_000)
    }
}

/// The limits of each route class (`RATE_LIMIT_{READ,WRITE}_{PER_MIN,BURST}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub read: BucketConfig,
    pub write: BucketConfig,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            read: BucketConfig {
                per_minute: 600,
                burst: 120,
            },
            write: BucketConfig {
                per_minute: 120,
                burst: 30,
            },
        }
    }
}

impl RateLimits {
    fn of(&self, class: RouteClass) -> BucketConfig {
        match class {
            RouteClass::Read => self.read,
            RouteClass::Write => self.write,
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Denied: the next token is this far away.
    Denied {
        retry_after: Duration,
    },
}

impl Decision {
    /// Whole seconds for `Retry-After`: rounded up, at least 1.
    pub fn retry_after_secs(retry_after: Duration) -> u64 {
        retry_after.as_millis().div_ceil(1000).max(1) as u64
    }
}

/// How long a Redis round trip may take before the limiter gives up and lets the request pass.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Idle buckets kept in this process before the full ones are evicted.
const MAX_LOCAL_BUCKETS: usize = 10_000;

/// The buckets of every tenant, in Redis or in this process.
pub struct RateLimiter {
    limits: RateLimits,
    backend: Backend,
}

enum Backend {
    Local(Mutex<LocalBuckets>),
    /// Connected on first use, so a Redis outage at boot does not stop the API.
    /// Kept out of `Debug`: the client knows the Redis URL, password included.
    Redis {
        client: redis::Client,
        connection: OnceCell<redis::aio::ConnectionManager>,
    },
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.backend {
            Backend::Local(_) => "in-process",
            Backend::Redis { .. } => "redis",
        };
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("backend", &backend)
            .finish()
    }
}

/// Why the limiter could not decide (Redis only).
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {REDIS_TIMEOUT:?}")]
    Timeout,
}

impl RateLimiter {
    /// Buckets in this process: each API node limits on its own.
    pub fn in_process(limits: RateLimits) -> Self {
        Self {
            limits,
            backend: Backend::Local(Mutex::new(LocalBuckets::new(limits))),
        }
    }

    /// Buckets in the Redis at `url`, shared by every API node. Connects on first use.
    pub fn redis(limits: RateLimits, url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            limits,
            backend: Backend::Redis {
                client: redis::Client::open(url)?,
                connection: OnceCell::new(),
            },
        })
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Takes a token from `tenant`'s `class` bucket.
    pub async fn check(
        &self,
        tenant: TenantId,
        class: RouteClass,
    ) -> Result<Decision, LimiterError> {
        let config = self.limits.of(class);
        if !config.enabled() {
            return Ok(Decision::Allowed);
        }
        match &self.backend {
            Backend::Local(buckets) => Ok(buckets.lock().unwrap_or_else(|e| e.into_inner()).take(
                tenant,
                class,
                Instant::now(),
            )),
            Backend::Redis { client, connection } => {
                let check = async {
                    let conn = connection
                        .get_or_try_init(|| redis::aio::ConnectionManager::new(client.clone()))
                        .await?;
                    redis_take(conn.clone(), tenant, class, config).await
                };
                tokio::time::timeout(REDIS_TIMEOUT, check)
                    .await
                    .map_err(|_| LimiterError::Timeout)?
            }
        }
    }
}

/// Takes a token for `tenant` in `class`, or `429` with `Retry-After`. Fails open when the
/// limiter cannot decide.
pub async fn enforce(
    state: &AppState,
    tenant: TenantId,
    class: RouteClass,
) -> Result<(), ApiError> {
    match state.limiter.check(tenant, class).await {
        Ok(Decision::Allowed) => Ok(()),
        Ok(Decision::Denied { retry_after }) => {
            state.metrics.record_rate_limited(class.as_str());
            Err(ApiError::RateLimited {
                retry_after_secs: Decision::retry_after_secs(retry_after),
            })
        }
        Err(e) => {
            // The first failure and every hundredth after it: an outage must not flood the log.
            let before = state.metrics.rate_limiter_errors.inc();
            if before.is_multiple_of(100) {
                tracing::warn!(
                    error = %e,
                    failures = before + 1,
                    "rate limiter unavailable; letting requests through"
                );
            }
            Ok(())
        }
    }
}

/// Refills by elapsed time on Redis's clock (`TIME`), then takes a token or answers the wait
/// in ms. `KEYS[1]`: the bucket; `ARGV`: burst, tokens per minute, expiry in ms.
/// Returns `{allowed (0|1), wait_ms}`.
const TAKE_SCRIPT: &str = r"
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / 60000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {allowed, wait}
";

/// `sb:rl:{tenant}:{class}`.
fn redis_key(tenant: TenantId, class: RouteClass) -> String {
    format!("sb:rl:{tenant}:{}", class.as_str())
}

async fn redis_take(
    mut conn: redis::aio::ConnectionManager,
    tenant: TenantId,
    class: RouteClass,
    config: BucketConfig,
) -> Result<Decision, LimiterError> {
    static SCRIPT: std::sync::LazyLock<redis::Script> =
        std::sync::LazyLock::new(|| redis::Script::new(TAKE_SCRIPT));
    let (allowed, wait_ms): (i64, i64) = SCRIPT
        .key(redis_key(tenant, class))
        .arg(config.burst)
        .arg(config.per_minute)
        .arg(config.idle_after().as_millis() as u64)
        .invoke_async(&mut conn)
        .await?;
    Ok(if allowed == 1 {
        Decision::Allowed
    } else {
        Decision::Denied {
            retry_after: Duration::from_millis(wait_ms.max(1) as u64),
        }
    })
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, config: BucketConfig, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64() * 1000.0;
        (self.tokens + elapsed * config.tokens_per_ms()).min(f64::from(config.burst))
    }
}

/// The in-process buckets, bounded: when there are too many, the full ones (the same as
/// absent ones) are evicted.
struct LocalBuckets {
    limits: RateLimits,
    buckets: HashMap<(TenantId, RouteClass), Bucket>,
}

impl LocalBuckets {
    fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
        }
    }

    fn take(&mut self, tenant: TenantId, class: RouteClass, now: Instant) -> Decision {
        let config = self.limits.of(class);
        if !self.buckets.contains_key(&(tenant, class)) && self.buckets.len() >= MAX_LOCAL_BUCKETS {
            self.evict_idle(now);
        }
        let bucket = self.buckets.entry((tenant, class)).or_insert(Bucket {
            tokens: f64::from(config.burst),
            at: now,
        });
        let tokens = bucket.refilled(config, now);
        bucket.at = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Decision::Allowed
        } else {
            bucket.tokens = tokens;
            let wait_ms = ((1.0 - tokens) / config.tokens_per_ms()).ceil() as u64;
            Decision::Denied {
                retry_after: Duration::from_millis(wait_ms.max(1)),
            }
        }
    }

    /// Drops the buckets idle long enough to be full; if none is, the least recently used one.
    fn evict_idle(&mut self, now: Instant) {
        let before = self.buckets.len();
        let limits = self.limits;
        self.buckets.retain(|(_, class), b| {
            now.saturating_duration_since(b.at) < limits.of(*class).idle_after()
        });
        if self.buckets.len() == before
            && let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(k, _)| *k)
        {
            self.buckets.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests;
