//! `GET /v1/agent-builds/{id}/events`: the build's steps as Server-Sent Events.
//!
//! Each event is one row of `agent_build_events` (`event: step`, `id:` its id, `data:` the
//! step, phase, figures and time); the stream replays what happened (after `Last-Event-ID`
//! when the client reconnects) and follows new rows, read from the database, until the build
//! has ended — then one `event: end` with the build's state. Any API node can serve it.

use super::build_id;
use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::sse::{Event, Sse},
};
use domain::{TenantId, site::BuildState};
use futures::Stream;
use serde_json::json;
use std::{convert::Infallible, time::Duration};
use store::{Store, agent_builds::BuildEvent};
use uuid::Uuid;

/// How often a stream looks for new events.
const POLL: Duration = Duration::from_millis(200);
/// A stream ends after this long even if the build has not (the client reconnects).
const MAX_STREAM: Duration = Duration::from_secs(15 * 60);

fn step_event(event: &BuildEvent) -> Event {
    let data = json!({
        "step": event.step,
        "phase": event.phase,
        "detail": event.detail,
        "at": event.at,
    });
    Event::default()
        .event("step")
        .id(event.id.to_string())
        .data(data.to_string())
}

struct Follow {
    store: Store,
    tenant: TenantId,
    build: Uuid,
    after: Option<Uuid>,
    pending: std::collections::VecDeque<BuildEvent>,
    ended: bool,
    began: tokio::time::Instant,
}

impl crate::routes::sse::Follow for Follow {
    /// The next event to send; `None` once the build has ended and everything was sent.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = Some(event.id);
                return Some(step_event(&event));
            }
            if self.ended || self.began.elapsed() > MAX_STREAM {
                return None;
            }
            // Read the state before the events: an ending recorded after this read still has
            // its events read below, or on the next round.
            let state = self
                .store
                .agent_build(self.tenant, self.build)
                .await
                .map(|b| b.state);
            let events = self
                .store
                .build_events(self.tenant, self.build, self.after)
                .await
                .unwrap_or_default();
            self.pending.extend(events);
            match state {
                Ok(BuildState::Running) => {}
                Ok(state) if self.pending.is_empty() => {
                    self.ended = true;
                    let data = json!({ "state": state });
                    return Some(Event::default().event("end").data(data.to_string()));
                }
                Ok(_) => {}
                Err(_) => return None,
            }
            if self.pending.is_empty() {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// The build's steps as they happen (Server-Sent Events).
#[utoipa::path(get, path = "/v1/agent-builds/{id}/events", tag = "agent-builds",
    params(("id" = Uuid, Path, description = "Build id"),
           ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    security(("bearer" = ["agents:read"])),
    responses((status = 200, description = "text/event-stream: `step` events, then one `end`"),
              (status = 404, body = crate::error::Problem)))]
pub async fn stream(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsRead>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = build_id(&id)?;
    state.store.agent_build(auth.tenant, id).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok());
    let follow = Follow {
        store: state.store.clone(),
        tenant: auth.tenant,
        build: id,
        after,
        pending: Default::default(),
        ended: false,
        began: tokio::time::Instant::now(),
    };
    Ok(crate::routes::sse::stream(follow))
}
