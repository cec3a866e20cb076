//! Per-tenant rate limits on the REST API, across two API nodes: with Redis
//! (`SWITCHBOARD_TEST_REDIS_URL`) the nodes share one bucket per tenant; without it each node
//! has its own. Twilio's webhooks are never limited.

use crate::helpers::{AppOptions, TestApp, new_call_sid, spawn_app_with, voice_form};
use api::rate_limit::{BucketConfig, RateLimits};
use std::time::Duration;

const BURST: usize = 5;
/// One token every two seconds: a burst of requests sees at most one refill.
const PER_MINUTE: u32 = 30;

async fn list_calls(app: &TestApp, address: &str, api_key: &str) -> reqwest::Response {
    app.http
        .get(format!("{address}/v1/calls"))
        .bearer_auth(api_key)
        .send()
        .await
        .unwrap()
}

/// `Retry-After` in whole seconds, after checking the 429 is a rate-limit problem.
async fn retry_after_of(denied: reqwest::Response) -> u64 {
    assert_eq!(denied.status(), 429);
    let retry_after: u64 = denied
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert_eq!(denied.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = denied.json().await.unwrap();
    assert_eq!(problem["status"], 429);
    assert_eq!(
        problem["type"],
        "https://switchboard.dev/problems/rate-limited"
    );
    retry_after
}

#[tokio::test]
async fn a_burst_over_a_tenants_limit_gets_429_while_another_tenant_and_its_webhooks_pass() {
    let app = spawn_app_with(AppOptions {
        rate_limits: RateLimits {
            read: BucketConfig {
                per_minute: PER_MINUTE,
                burst: BURST as u32,
            },
            ..RateLimits::default()
        },
        ..AppOptions::default()
    })
    .await;
    let shared = app.settings.redis_url.is_some();
    let nodes = [app.address.clone(), app.spawn_api_instance().await];
    let other = app.store.create_tenant("Globex").await.unwrap();
    let other_key = app
        .store
        .create_api_key(other.id, "globex")
        .await
        .unwrap()
        .secret
        .into_inner();

    // Tenant A bursts, alternating nodes; tenant B asks now and then, within its own bucket.
    let mut allowed = [0usize; 2];
    let mut retry_after = Vec::new();
    for i in 0..4 * BURST {
        let node = i % 2;
        let response = list_calls(&app, &nodes[node], &app.api_key).await;
        match response.status().as_u16() {
            200 => allowed[node] += 1,
            429 => retry_after.push(retry_after_of(response).await),
            status => panic!("tenant A got {status}"),
        }
        if i % 4 == 3 {
            let response = list_calls(&app, &nodes[1 - node], &other_key).await;
            assert_eq!(response.status(), 200, "tenant B is not limited by A");
        }
    }

    let total: usize = allowed.iter().sum();
    if shared {
        // One bucket across both nodes: about its size passes in all, not twice it.
        assert!((BURST..=BURST + 1).contains(&total), "allowed {allowed:?}");
    } else {
        // Each node keeps its own buckets.
        for n in allowed {
            assert!((BURST..=BURST + 1).contains(&n), "allowed {allowed:?}");
        }
    }
    assert_eq!(retry_after.len(), 4 * BURST - total);
    assert!(
        retry_after.iter().all(|s| (1..=2).contains(s)),
        "{retry_after:?}"
    );

    // Tenant A's phone line still answers.
    let call_sid = new_call_sid();
    let answer = app
        .post_signed("/twilio/voice", &voice_form(&call_sid, app.number.as_str()))
        .await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("<Stream"));
    app.complete_call(&call_sid, 1).await;

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("switchboard_rate_limited_total{class=\"read\"}"),
        "{metrics}"
    );

    // After the wait it was told, tenant A gets through again.
    let wait = retry_after.iter().max().copied().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let response = list_calls(&app, &nodes[1], &app.api_key).await;
    assert_eq!(response.status(), 200);
}

/// The bucket itself, on the backend these tests run with: two limiters (two nodes) take from
/// one bucket in Redis, from their own in-process; the wait is the time to the next token.
#[tokio::test]
async fn the_bucket_refills_by_elapsed_time_and_answers_the_wait() {
    use api::rate_limit::{Decision, RateLimiter, RouteClass};
    let limits = RateLimits {
        write: BucketConfig {
            per_minute: 60,
            burst: 3,
        },
        ..RateLimits::default()
    };
    let redis = std::env::var("SWITCHBOARD_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let node = || match &redis {
        Some(url) => RateLimiter::redis(limits, url).unwrap(),
        None => RateLimiter::in_process(limits),
    };
    let (first, second) = (node(), node());
    let tenant = domain::TenantId::new();
    let mut allowed = 0;
    let mut waits = Vec::new();
    for i in 0..8 {
        let limiter = if i % 2 == 0 { &first } else { &second };
        match limiter.check(tenant, RouteClass::Write).await.unwrap() {
            Decision::Allowed => allowed += 1,
            Decision::Denied { retry_after } => waits.push(retry_after),
        }
    }
    let expected = if redis.is_some() { 3 } else { 6 };
    assert_eq!(allowed, expected, "waits {waits:?}");
    // One token a second: the next one is at most a second away.
    assert!(
        waits
            .iter()
            .all(|w| *w > Duration::ZERO && *w <= Duration::from_secs(1)),
        "{waits:?}"
    );
    // Reads have a bucket of their own.
    assert_eq!(
        first.check(tenant, RouteClass::Read).await.unwrap(),
        Decision::Allowed
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        first.check(tenant, RouteClass::Write).await.unwrap(),
        Decision::Allowed
    );
}

/// A limiter whose Redis is gone lets requests through and counts them: an outage of the
/// limiter does not take the API down.
#[tokio::test]
async fn a_node_whose_limiter_redis_is_down_fails_open() {
    let app = spawn_app_with(AppOptions {
        rate_limits: RateLimits {
            read: BucketConfig {
                per_minute: 1,
                burst: 1,
            },
            ..RateLimits::default()
        },
        ..AppOptions::default()
    })
    .await;
    let mut settings = app.settings.clone();
    // Nothing listens on port 9.
    settings.redis_url = Some("redis://127.0.0.1:9/".to_owned().into());
    let node = app.spawn_api_instance_with(&settings).await;
    for _ in 0..3 {
        let response = list_calls(&app, &node, &app.api_key).await;
        assert_eq!(response.status(), 200);
    }
    let metrics = app
        .http
        .get(format!("{node}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("switchboard_rate_limiter_errors_total 3"),
        "{metrics}"
    );
}
