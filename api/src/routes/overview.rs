//! `/v1/overview/*`: the dashboard over the tenant's calls in a time range (KPIs, calls over
//! time, outcomes), the review queue of calls their analysis flagged, and
//! `POST /v1/calls/{id}/resolve` to take a call off it.
//!
//! Ranges are `from` (inclusive) to `to` (exclusive) on a call's start, RFC 3339; the default
//! is the last 7 days, the longest a year. Counts are SQL aggregates on either database; rates,
//! averages and time-zone buckets are computed here from them (see `store::overview`).

mod series;

use super::instant;
use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    routing::{get, post},
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use series::{Bucket, BucketCount};
use std::collections::BTreeMap;
use store::call_insights::percentile;
use store::overview::{AttentionItem, OutcomeCount};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/overview/kpis", get(kpis))
        .route("/v1/overview/calls-over-time", get(calls_over_time))
        .route("/v1/overview/outcomes", get(outcomes))
        .route("/v1/overview/needs-attention", get(needs_attention))
        .route("/v1/calls/{id}/resolve", post(resolve_call))
}

const DEFAULT_RANGE_DAYS: i64 = 7;
const MAX_RANGE_DAYS: i64 = 366;
/// Most calls one calls-over-time answer reads; beyond it the answer says `truncated`.
const MAX_SERIES_CALLS: u64 = 200_000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct RangeQuery {
    /// Start, RFC 3339 (default: 7 days before `to`).
    pub from: Option<String>,
    /// End, exclusive, RFC 3339 (default: now).
    pub to: Option<String>,
}

impl RangeQuery {
    fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        let to = self.to.as_deref().map(|t| instant("to", t)).transpose()?;
        let to = to.unwrap_or_else(Utc::now);
        let from = self
            .from
            .as_deref()
            .map(|f| instant("from", f))
            .transpose()?;
        let from = from.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
        if from >= to {
            return Err(ApiError::invalid("from", "must be before `to`"));
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(ApiError::invalid(
                "from",
                format!("the range may span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok((from, to))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Kpis {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total_calls: u64,
    /// Calls a person (or machine) picked up.
    pub answered_calls: u64,
    /// `answered_calls / total_calls`, 0 to 1; absent with no calls.
    pub answer_rate: Option<f64>,
    /// Mean duration of the answered calls, in seconds; absent with none.
    pub average_handle_time_secs: Option<f64>,
    /// Appointments calls booked in the range.
    pub appointments_booked: u64,
    /// Numbers calls put on the do-not-call list in the range.
    pub dnc_added: u64,
    /// Calls warm-transferred to a person.
    pub transfers: u64,
    /// Calls in the range flagged for review and not resolved.
    pub needs_attention: u64,
    /// Voice-to-voice latency: the median and 90th percentile, over the calls in the range,
    /// of each call's median reply latency (ms; from the caller's last words to the agent's
    /// first audio, as our media bridge measures it). Absent with no measured calls.
    pub voice_to_voice_p50_ms: Option<u32>,
    pub voice_to_voice_p90_ms: Option<u32>,
    /// How many calls those figures cover.
    pub voice_to_voice_calls: u64,
}

/// The most calls the latency figures read.
const LATENCY_CALLS: u64 = 20_000;

/// The dashboard's key numbers for the range.
#[utoipa::path(get, path = "/v1/overview/kpis", tag = "overview", params(RangeQuery),
    security(("bearer" = ["calls:read"])),
    responses((status = 200, body = Kpis),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn kpis(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Kpis>, ApiError> {
    let (from, to) = query.range()?;
    let counts = state.store.overview_counts(auth.tenant, from, to).await?;
    let medians = state
        .store
        .reply_latency_medians(auth.tenant, from, to, LATENCY_CALLS)
        .await?;
    let c = &counts.calls;
    let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
    Ok(Json(Kpis {
        from,
        to,
        total_calls: c.total,
        answered_calls: c.answered,
        answer_rate: ratio(c.answered, c.total),
        average_handle_time_secs: ratio(c.answered_secs, c.answered_timed),
        appointments_booked: counts.appointments_booked,
        dnc_added: counts.dnc_added,
        transfers: c.transferred,
        needs_attention: counts.needs_attention,
        voice_to_voice_p50_ms: percentile(&medians, 50),
        voice_to_voice_p90_ms: percentile(&medians, 90),
        voice_to_voice_calls: medians.len() as u64,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SeriesQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// `hour` or `day` (default), in the tenant's time zone.
    pub bucket: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallsOverTime {
    pub bucket: Bucket,
    /// The tenant's IANA time zone the buckets are cut in.
    pub time_zone: String,
    pub buckets: Vec<BucketCount>,
    /// More calls than one answer counts fell in the range: the last buckets are short.
    pub truncated: bool,
}

/// Calls (and answered calls) per hour or day of the range.
#[utoipa::path(get, path = "/v1/overview/calls-over-time", tag = "overview",
    params(SeriesQuery), security(("bearer" = ["calls:read"])),
    responses((status = 200, body = CallsOverTime),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn calls_over_time(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<CallsOverTime>, ApiError> {
    let (from, to) = RangeQuery {
        from: query.from,
        to: query.to,
    }
    .range()?;
    let bucket = match query.bucket.as_deref() {
        None | Some("day") => Bucket::Day,
        Some("hour") => Bucket::Hour,
        Some(_) => return Err(ApiError::invalid("bucket", "must be `hour` or `day`")),
    };
    series::check_range(from, to, bucket)?;
    let time_zone = state.store.tenant(auth.tenant).await?.time_zone;
    let zone: Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let calls = state
        .store
        .call_start_times(auth.tenant, from, to, MAX_SERIES_CALLS)
        .await?;
    Ok(Json(CallsOverTime {
        bucket,
        time_zone,
        truncated: calls.len() as u64 >= MAX_SERIES_CALLS,
        buckets: series::count_by_bucket(&calls, from, to, zone, bucket),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeTally {
    /// The call's outcome (`completed`, `voicemail` …) or business outcome
    /// (`appointment_booked`, `do_not_call` …); absent for calls without one yet.
    pub key: Option<String>,
    pub calls: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Outcomes {
    pub by_outcome: Vec<OutcomeTally>,
    pub by_outcome_class: Vec<OutcomeTally>,
}

fn tally(
    rows: &[OutcomeCount],
    key: impl Fn(&OutcomeCount) -> Option<String>,
) -> Vec<OutcomeTally> {
    let mut counts: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for row in rows {
        *counts.entry(key(row)).or_default() += row.calls;
    }
    counts
        .into_iter()
        .map(|(key, calls)| OutcomeTally { key, calls })
        .collect()
}

/// How the range's calls ended: by call outcome and by business outcome.
#[utoipa::path(get, path = "/v1/overview/outcomes", tag = "overview", params(RangeQuery),
    security(("bearer" = ["calls:read"])),
    responses((status = 200, body = Outcomes),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn outcomes(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Outcomes>, ApiError> {
    let (from, to) = query.range()?;
    let rows = state.store.outcome_counts(auth.tenant, from, to).await?;
    Ok(Json(Outcomes {
        by_outcome: tally(&rows, |r| r.outcome.clone()),
        by_outcome_class: tally(&rows, |r| r.outcome_class.clone()),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttentionQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionView {
    pub call_id: Uuid,
    pub call_sid: String,
    pub direction: String,
    pub started_at: DateTime<Utc>,
    pub duration_secs: Option<u32>,
    pub outcome_class: Option<String>,
    /// The analysis' summary of the call.
    pub summary: Option<String>,
    /// The analysis' confidence, 0 to 1.
    pub confidence: Option<f64>,
}

impl From<AttentionItem> for AttentionView {
    fn from(item: AttentionItem) -> Self {
        Self {
            call_id: item.call.id,
            call_sid: item.call.call_sid.to_string(),
            direction: item.call.direction.as_str().to_owned(),
            started_at: item.call.started_at,
            duration_secs: item.call.duration_secs,
            outcome_class: item.outcome_class,
            summary: item.summary,
            confidence: item.confidence,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionList {
    pub data: Vec<AttentionView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Calls their analysis flagged for a person's review and nobody has resolved, newest first.
#[utoipa::path(get, path = "/v1/overview/needs-attention", tag = "overview",
    params(AttentionQuery), security(("bearer" = ["calls:read"])),
    responses((status = 200, body = AttentionList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn needs_attention(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Query(query): Query<AttentionQuery>,
) -> Result<Json<AttentionList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| {
            Uuid::parse_str(c)
                .map_err(|_| ApiError::invalid("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let page = state
        .store
        .needs_attention(auth.tenant, limit, cursor)
        .await?;
    Ok(Json(AttentionList {
        data: page.items.into_iter().map(AttentionView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resolved {
    pub call_id: Uuid,
    pub resolved_at: DateTime<Utc>,
    /// The user or API key that resolved it first.
    pub resolved_by: Option<Uuid>,
}

/// Mark a call's review done: it leaves the needs-attention list. Resolving it again changes
/// nothing and answers the first resolution.
#[utoipa::path(post, path = "/v1/calls/{id}/resolve", tag = "calls",
    params(("id" = String, Path, description = "Call id (UUID)")),
    security(("bearer" = ["calls:write"])),
    responses((status = 200, body = Resolved),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn resolve_call(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Resolved>, ApiError> {
    let call_id = Uuid::parse_str(&id).map_err(|_| ApiError::invalid("id", "must be a call id"))?;
    let by = auth.principal.actor.id();
    let resolution = state.store.resolve_call(auth.tenant, call_id, by).await?;
    if resolution.newly_resolved {
        let change = Change {
            action: "call.resolve",
            resource_type: "call",
            resource_id: Some(call_id.to_string()),
            before: Some(serde_json::json!({"resolved_at": null})),
            after: Some(serde_json::json!({"resolved_at": resolution.resolved_at})),
        };
        audit::record(&state, &auth.principal, change).await?;
    }
    Ok(Json(Resolved {
        call_id,
        resolved_at: resolution.resolved_at,
        resolved_by: resolution.resolved_by,
    }))
}
