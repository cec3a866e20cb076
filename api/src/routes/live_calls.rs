//! `GET /v1/calls/live`: the tenant's calls in progress and their words as they are spoken,
//! as Server-Sent Events — what the console's live page shows.
//!
//! The stream reads the database every 200 ms (any API node serves any tenant): a `call` event
//! when a call starts (or is in progress when the stream opens), a `segment` event for each
//! transcript segment the media bridge stores (with `stored_at`, so a client can tell how long
//! it took to reach it), and an `ended` event with the outcome when a call is over.

use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
    routes::calls::CallView,
};
use axum::{
    Router,
    extract::State,
    response::sse::{Event, Sse},
    routing::get,
};
use chrono::{DateTime, Utc};
use domain::TenantId;
use futures::Stream;
use serde_json::json;
use std::{
    collections::{HashMap, HashSet, VecDeque},
    convert::Infallible,
    time::Duration,
};
use store::{CallRecord, LiveSegment, Store};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/calls/live", get(stream))
}

/// How often a stream looks for changes.
const POLL: Duration = Duration::from_millis(200);
/// A stream ends after this long (the client reconnects).
const MAX_STREAM: Duration = Duration::from_secs(15 * 60);
/// At most this many calls are followed at once.
const MAX_CALLS: u64 = 200;
/// Segments are read from this far before the last read: one committed late by another
/// node is still seen (each is sent once).
const OVERLAP: chrono::Duration = chrono::Duration::seconds(10);

struct Follow {
    store: Store,
    tenant: TenantId,
    /// The calls followed, with the ids of the segments sent.
    calls: HashMap<Uuid, HashSet<Uuid>>,
    read_since: Option<DateTime<Utc>>,
    pending: VecDeque<Event>,
    began: tokio::time::Instant,
}

fn event(name: &str, data: serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

fn segment_event(s: &LiveSegment) -> Event {
    event(
        "segment",
        json!({
            "call_id": s.call_id,
            "id": s.id,
            "speaker": s.segment.speaker.as_str(),
            "text": s.segment.text,
            "start_ms": s.segment.start_ms,
            "end_ms": s.segment.end_ms,
            "interrupted": s.segment.interrupted,
            "stored_at": s.stored_at,
        }),
    )
    .id(s.id.to_string())
}

impl crate::routes::sse::Follow for Follow {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.began.elapsed() > MAX_STREAM {
                return None;
            }
            if let Err(e) = self.poll().await {
                tracing::warn!(error = %e, "live calls: could not read the database");
            }
            if self.pending.is_empty() {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

impl Follow {
    async fn poll(&mut self) -> Result<(), store::StoreError> {
        let now = Utc::now();
        let live = self.store.live_calls(self.tenant, MAX_CALLS).await?;
        let live_ids: HashSet<Uuid> = live.iter().map(|c| c.id).collect();
        for call in live.iter().rev() {
            if let std::collections::hash_map::Entry::Vacant(entry) = self.calls.entry(call.id) {
                entry.insert(HashSet::new());
                self.pending.push_back(call_event("call", call.clone()));
            }
        }
        // The first read takes every segment of the calls live now (from the epoch: chrono's
        // minimum is out of PostgreSQL's timestamp range).
        let since = self
            .read_since
            .map(|t| t - OVERLAP)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let ids: Vec<Uuid> = self.calls.keys().copied().collect();
        for segment in self.store.live_segments(self.tenant, &ids, since).await? {
            let sent = self.calls.entry(segment.call_id).or_default();
            if sent.insert(segment.id) {
                self.pending.push_back(segment_event(&segment));
            }
        }
        self.read_since = Some(now);
        let gone: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| !live_ids.contains(id))
            .collect();
        for id in gone {
            self.calls.remove(&id);
            if let Some(call) = self.store.call(self.tenant, id).await? {
                self.pending.push_back(call_event("ended", call));
            }
        }
        Ok(())
    }
}

fn call_event(name: &str, call: CallRecord) -> Event {
    event(
        name,
        serde_json::to_value(CallView::from(call)).unwrap_or_default(),
    )
}

/// The tenant's calls in progress and their transcripts as they happen (Server-Sent Events).
#[utoipa::path(get, path = "/v1/calls/live", tag = "calls",
    security(("bearer" = ["calls:read"])),
    responses((status = 200, description = "text/event-stream: `call`, `segment` and `ended` events"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn stream(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let follow = Follow {
        store: state.store.clone(),
        tenant: auth.tenant,
        calls: HashMap::new(),
        read_since: None,
        pending: VecDeque::new(),
        began: tokio::time::Instant::now(),
    };
    Ok(crate::routes::sse::stream(follow))
}
