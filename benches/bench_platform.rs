//! What identity and tenancy add to each REST request: the JWT check, the API key lookup, the
//! row-level-security transaction, and the tenant's rate limit — each timed on its own, with a
//! baseline in the same run (the same one-row read without the tenant transaction, on the
//! owner's connection that RLS does not apply to).
//!
//!   scripts/bench-platform.sh [N]      (throwaway PostgreSQL + Redis; default N = 2000)
//!
//! Reads DATABASE_URL (the application's role), DATABASE_MIGRATION_URL (the owner) and
//! REDIS_URL.

use anyhow::{Context, Result};
use api::rate_limit::{RateLimiter, RateLimits, RouteClass};
use domain::{Role, TenantId};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::time::{Duration, Instant};
use store::Store;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Prints p50 and p99 of `samples` and returns p50 and p99 in µs.
fn report(name: &str, mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (p50, p99) = (
        us(percentile(&samples, 0.5)),
        us(percentile(&samples, 0.99)),
    );
    println!(
        "{name:<44} n={:<6} p50={p50:>9.1} µs  p99={p99:>9.1} µs",
        samples.len()
    );
    (p50, p99)
}

async fn time<F, Fut>(n: usize, mut f: F) -> Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        f(i).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Limits no request reaches: the benchmark measures the check, not the refusals.
fn generous() -> RateLimits {
    let bucket = api::rate_limit::BucketConfig {
        per_minute: 60_000_000,
        burst: 1_000_000,
    };
    RateLimits {
        read: bucket,
        write: bucket,
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    let app_url = env("DATABASE_URL").context("DATABASE_URL (the application's role)")?;
    let owner_url = env("DATABASE_MIGRATION_URL").unwrap_or_else(|| app_url.clone());
    let owner = Store::connect(&owner_url).await?;
    owner.migrate_up().await?;
    let store = Store::connect(&app_url).await?;
    println!(
        "row-level security applies to DATABASE_URL's role: {:?}",
        store.row_level_security().await?
    );

    let tenant = store.create_tenant("Bench Dental").await?;
    let key = store
        .create_api_key_with_role(tenant.id, "bench", Role::Viewer)
        .await?;
    let secret = key.secret.expose().clone();
    let jwt = api::auth::jwt::JwtKeys::generate("bench", Duration::from_secs(900));
    let token = jwt.sign(
        tenant.id,
        uuid::Uuid::now_v7(),
        Role::Viewer,
        chrono::Utc::now().timestamp(),
    );

    let baseline = time(n, |_| {
        let (db, id) = (owner.connection().clone(), tenant.id);
        async move {
            let sql = "SELECT id, name, slug, status FROM tenants WHERE id = $1";
            db.query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [id.as_uuid().into()],
            ))
            .await?;
            Ok(())
        }
    })
    .await?;
    let base = report("baseline: one-row read, no tenant txn", baseline);
    let scoped = report(
        "RLS: same read in a tenant transaction",
        time(n, |_| {
            let (store, id) = (store.clone(), tenant.id);
            async move { store.tenant(id).await.map(|_| ()).map_err(Into::into) }
        })
        .await?,
    );
    let jwt_check = report(
        "auth: JWT verify",
        time(n, |_| {
            let ok = jwt.verify(&token).is_some();
            async move {
                anyhow::ensure!(ok, "token refused");
                Ok(())
            }
        })
        .await?,
    );
    let key_check = report(
        "auth: API key lookup (edge fn + scoped read)",
        time(n, |_| {
            let (store, secret) = (store.clone(), secret.clone());
            async move {
                store
                    .authenticate_api_key(&secret)
                    .await?
                    .context("key refused")
                    .map(|_| ())
            }
        })
        .await?,
    );
    let local = RateLimiter::in_process(generous());
    let local_check = report(
        "rate limit: in-process bucket",
        time(n, |_| {
            let decision = local.check(tenant.id, RouteClass::Read);
            async move {
                decision
                    .await
                    .map(|_| ())
                    .map_err(|e| anyhow::anyhow!("{e:?}"))
            }
        })
        .await?,
    );
    let redis_check = match env("REDIS_URL") {
        Some(url) => {
            let limiter = RateLimiter::redis(generous(), &url)?;
            Some(report(
                "rate limit: Redis bucket (Lua, shared)",
                time(n, |_| {
                    let decision =
                        limiter.check(TenantId::from(tenant.id.as_uuid()), RouteClass::Read);
                    async move {
                        decision
                            .await
                            .map(|_| ())
                            .map_err(|e| anyhow::anyhow!("{e:?}"))
                    }
                })
                .await?,
            ))
        }
        None => None,
    };
    let rls = (scoped.0 - base.0, scoped.1 - base.1);
    println!("\nadded per request (p50 / p99 µs):");
    println!(
        "  RLS transaction over a plain read       {:>9.1} / {:>9.1}",
        rls.0, rls.1
    );
    let limiter = redis_check.unwrap_or(local_check);
    for (name, auth) in [("JWT", jwt_check), ("API key", key_check)] {
        println!(
            "  {name:<8} auth + RLS + rate limit      {:>9.1} / {:>9.1}",
            auth.0 + rls.0 + limiter.0,
            auth.1 + rls.1 + limiter.1
        );
    }
    Ok(())
}
