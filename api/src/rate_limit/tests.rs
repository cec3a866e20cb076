use super::*;

const LIMITS: RateLimits = RateLimits {
    read: BucketConfig {
        per_minute: 60,
        burst: 5,
    },
    write: BucketConfig {
        per_minute: 6,
        burst: 2,
    },
};

fn drain(buckets: &mut LocalBuckets, tenant: TenantId, class: RouteClass, now: Instant) -> usize {
    (0..100)
        .take_while(|_| buckets.take(tenant, class, now) == Decision::Allowed)
        .count()
}

#[test]
fn a_burst_takes_exactly_the_bucket_then_waits_for_the_next_token() {
    let mut buckets = LocalBuckets::new(LIMITS);
    let (tenant, now) = (TenantId::new(), Instant::now());
    assert_eq!(drain(&mut buckets, tenant, RouteClass::Read, now), 5);
    // 60 a minute: one token a second.
    assert_eq!(
        buckets.take(tenant, RouteClass::Read, now),
        Decision::Denied {
            retry_after: Duration::from_millis(1000)
        }
    );
    let later = now + Duration::from_millis(400);
    let Decision::Denied { retry_after } = buckets.take(tenant, RouteClass::Read, later) else {
        panic!("no token after 400 ms");
    };
    assert_eq!(retry_after, Duration::from_millis(600));
    assert_eq!(Decision::retry_after_secs(retry_after), 1);
}

#[test]
fn tokens_come_back_at_the_refill_rate_up_to_the_burst() {
    let mut buckets = LocalBuckets::new(LIMITS);
    let (tenant, now) = (TenantId::new(), Instant::now());
    drain(&mut buckets, tenant, RouteClass::Read, now);
    let later = now + Duration::from_millis(2_500);
    assert_eq!(drain(&mut buckets, tenant, RouteClass::Read, later), 2);
    let much_later = later + Duration::from_secs(3_600);
    assert_eq!(drain(&mut buckets, tenant, RouteClass::Read, much_later), 5);
}

#[test]
fn tenants_and_classes_have_their_own_buckets() {
    let mut buckets = LocalBuckets::new(LIMITS);
    let (a, b, now) = (TenantId::new(), TenantId::new(), Instant::now());
    assert_eq!(drain(&mut buckets, a, RouteClass::Read, now), 5);
    assert_eq!(drain(&mut buckets, a, RouteClass::Write, now), 2);
    assert_eq!(drain(&mut buckets, b, RouteClass::Read, now), 5);
    // 6 a minute: the next write token is 10 s away.
    assert_eq!(
        buckets.take(a, RouteClass::Write, now),
        Decision::Denied {
            retry_after: Duration::from_secs(10)
        }
    );
}

#[test]
fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
    assert_eq!(Decision::retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(Decision::retry_after_secs(Duration::from_millis(1000)), 1);
    assert_eq!(Decision::retry_after_secs(Duration::from_millis(1001)), 2);
    assert_eq!(Decision::retry_after_secs(Duration::ZERO), 1);
}

#[test]
fn idle_buckets_are_evicted_when_there_are_too_many() {
    let mut buckets = LocalBuckets::new(LIMITS);
    let now = Instant::now();
    for _ in 0..MAX_LOCAL_BUCKETS {
        buckets.take(TenantId::new(), RouteClass::Read, now);
    }
    let busy = TenantId::new();
    // Nothing is idle yet: the least recently used bucket makes room.
    buckets.take(busy, RouteClass::Read, now + Duration::from_millis(1));
    assert_eq!(buckets.buckets.len(), MAX_LOCAL_BUCKETS);
    // Once they are full again, all the idle ones go.
    let later = now + Duration::from_secs(60);
    buckets.take(TenantId::new(), RouteClass::Read, later);
    assert!(buckets.buckets.len() <= 2, "{}", buckets.buckets.len());
}

#[test]
fn the_route_class_follows_the_permission() {
    assert_eq!(RouteClass::from(Permission::CallsRead), RouteClass::Read);
    assert_eq!(RouteClass::from(Permission::CallsWrite), RouteClass::Write);
    assert_eq!(
        RouteClass::from(Permission::PayloadsDecode),
        RouteClass::Read
    );
    assert_eq!(
        RouteClass::from(Permission::PayloadsEncode),
        RouteClass::Write
    );
}

#[tokio::test]
async fn a_zero_rate_turns_the_limit_off() {
    let limiter = RateLimiter::in_process(RateLimits {
        read: BucketConfig {
            per_minute: 0,
            burst: 0,
        },
        ..LIMITS
    });
    let tenant = TenantId::new();
    for _ in 0..50 {
        assert_eq!(
            limiter.check(tenant, RouteClass::Read).await.unwrap(),
            Decision::Allowed
        );
    }
}

/// A Redis that does not answer lets requests through (the caller counts and logs it).
#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_hang() {
    let limiter = RateLimiter::redis(LIMITS, "redis://127.0.0.1:9/").unwrap();
    let started = Instant::now();
    assert!(
        limiter
            .check(TenantId::new(), RouteClass::Read)
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
