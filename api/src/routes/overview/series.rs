//! Calls per hour or per day in the tenant's time zone: pure, given the call start times.
//!
//! A bucket starts at a local hour or local midnight, so a day bucket across a daylight-saving
//! change is 23 or 25 hours long, and the repeated 01:00 of an autumn night is two hour
//! buckets. Empty buckets are listed too, so a chart has no gaps.

use crate::ApiError;
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use domain::directory::schedule::resolve_local;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Most buckets one request may ask for: 83 days of hours, five years of days.
pub(super) const MAX_BUCKETS: i64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BucketCount {
    /// The bucket's start, in the tenant's time zone (RFC 3339 with its offset).
    #[schema(value_type = String)]
    pub start: DateTime<chrono::FixedOffset>,
    pub calls: u64,
    pub answered: u64,
}

/// The start of the bucket holding `at`.
fn bucket_start(at: DateTime<Utc>, zone: Tz, bucket: Bucket) -> DateTime<Utc> {
    let local = at.with_timezone(&zone);
    match bucket {
        // Subtracting the local minutes keeps the two 01:00 hours of a fall-back night apart.
        Bucket::Hour => {
            let into_hour = i64::from(local.minute() * 60 + local.second());
            (at - Duration::seconds(into_hour))
                .with_nanosecond(0)
                .unwrap_or(at)
        }
        Bucket::Day => resolve_local(zone, local.date_naive(), NaiveTime::MIN),
    }
}

fn next_start(start: DateTime<Utc>, zone: Tz, bucket: Bucket) -> DateTime<Utc> {
    match bucket {
        Bucket::Hour => start + Duration::hours(1),
        Bucket::Day => {
            let day = start.with_timezone(&zone).date_naive();
            resolve_local(zone, day + Duration::days(1), NaiveTime::MIN)
        }
    }
}

/// 400 naming `from` when `[from, to)` holds more than [`MAX_BUCKETS`] buckets.
pub(super) fn check_range(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
) -> Result<(), ApiError> {
    let per_bucket = match bucket {
        Bucket::Hour => 3600,
        Bucket::Day => 86_400,
    };
    if (to - from).num_seconds() / per_bucket > MAX_BUCKETS {
        return Err(ApiError::invalid(
            "from",
            format!(
                "the range holds more than {MAX_BUCKETS} buckets; narrow it or use a larger bucket"
            ),
        ));
    }
    Ok(())
}

/// Every bucket overlapping `[from, to)` with the calls (`(started_at, answered)`) in it.
pub(super) fn count_by_bucket(
    calls: &[(DateTime<Utc>, bool)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
    bucket: Bucket,
) -> Vec<BucketCount> {
    let mut counts: BTreeMap<DateTime<Utc>, (u64, u64)> = BTreeMap::new();
    let mut start = bucket_start(from, zone, bucket);
    while start < to {
        counts.insert(start, (0, 0));
        start = next_start(start, zone, bucket);
    }
    for (at, answered) in calls {
        let entry = counts.entry(bucket_start(*at, zone, bucket)).or_default();
        entry.0 += 1;
        entry.1 += u64::from(*answered);
    }
    counts
        .into_iter()
        .map(|(start, (calls, answered))| BucketCount {
            start: start.with_timezone(&zone).fixed_offset(),
            calls,
            answered,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn days_start_at_the_tenants_midnight_not_utcs() {
        let zone: Tz = "America/New_York".parse().unwrap();
        // 03:00 UTC on the 2nd is 22:00 on the 1st in New York.
        let calls = [
            (utc("2026-06-02T03:00:00Z"), true),
            (utc("2026-06-02T15:00:00Z"), false),
        ];
        let buckets = count_by_bucket(
            &calls,
            utc("2026-06-01T04:00:00Z"),
            utc("2026-06-03T04:00:00Z"),
            zone,
            Bucket::Day,
        );
        let summary: Vec<_> = buckets
            .iter()
            .map(|b| (b.start.to_rfc3339(), b.calls, b.answered))
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-06-01T00:00:00-04:00".to_owned(), 1, 1),
                ("2026-06-02T00:00:00-04:00".to_owned(), 1, 0),
            ]
        );
    }

    #[test]
    fn a_fall_back_night_has_two_one_oclock_hours() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let buckets = count_by_bucket(
            &[],
            utc("2026-11-01T04:00:00Z"),
            utc("2026-11-01T08:00:00Z"),
            zone,
            Bucket::Hour,
        );
        let starts: Vec<_> = buckets.iter().map(|b| b.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2026-11-01T00:00:00-04:00",
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T02:00:00-05:00",
            ]
        );
    }

    #[test]
    fn a_range_of_too_many_buckets_is_refused_naming_from() {
        let from = utc("2020-01-01T00:00:00Z");
        assert!(check_range(from, from + Duration::days(365), Bucket::Day).is_ok());
        assert!(check_range(from, from + Duration::days(365), Bucket::Hour).is_err());
    }
}
