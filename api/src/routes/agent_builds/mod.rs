//! `/v1/agent-builds`: an answering agent from a business's website — start a build, read
//! where it stands, follow its steps live (Server-Sent Events), cancel it; and
//! `POST /v1/agents/{id}/resync` to re-crawl an agent's site and update what changed.
//!
//! A build is `AgentBuildWorkflow` (`agent-build-{agent_id}`). Its steps write their events
//! to the database; the stream reads them there, so any API node serves any build's stream
//! and a client that reconnects with `Last-Event-ID` misses nothing.

use super::body;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    routing::{get, post},
};
use domain::{
    AgentId,
    site::{BuildKind, BuildState},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::agent_builds::{AgentBuild, NewAgentBuild};
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{WorkflowInteractionError, WorkflowStartError},
};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::ToSchema;
use uuid::Uuid;
use workflows::{
    AgentBuildWorkflow,
    agent_build::{AgentBuildInput, workflow_id},
    search_attributes as sa,
};

pub mod events;
mod view;

pub use view::{BuildView, StepView};

/// Pages a build crawls unless it asks for fewer or more.
const DEFAULT_MAX_PAGES: u32 = 50;
const MAX_MAX_PAGES: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agent-builds", post(start_build))
        .route("/v1/agent-builds/{id}", get(get_build))
        .route("/v1/agent-builds/{id}/events", get(events::stream))
        .route("/v1/agent-builds/{id}/cancel", post(cancel_build))
        .route("/v1/agents/{id}/resync", post(resync_agent))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBuildBody {
    /// The business's website (`https://…`).
    pub url: String,
    /// The agent's first name (default "Sam").
    pub name: Option<String>,
    /// Three digits: the area code of the number to buy (default: any).
    pub area_code: Option<String>,
    /// The voice engine (default: the best this deployment has).
    pub engine: Option<String>,
    /// Pages to crawl, 1 to 200 (default 50).
    pub max_pages: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuildStarted {
    pub build_id: Uuid,
    pub agent_id: Uuid,
    pub workflow_id: String,
    /// Where the build's steps stream (Server-Sent Events).
    pub events_url: String,
}

/// An absolute http(s) URL with a host.
fn site_url(raw: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ApiError::invalid("url", format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ApiError::invalid("url", "must be an http or https address"));
    }
    Ok(url.to_string())
}

fn new_build(state: &AppState, body: NewBuildBody) -> Result<NewAgentBuild, ApiError> {
    let url = site_url(&body.url)?;
    if let Some(code) = &body.area_code
        && !(code.len() == 3 && code.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(ApiError::invalid("area_code", "must be three digits"));
    }
    let engines = state.engines.names();
    let engine = match body.engine {
        Some(e) if engines.contains(&e.as_str()) => e,
        Some(_) => {
            return Err(ApiError::invalid(
                "engine",
                format!("must be one of {}", engines.join(", ")),
            ));
        }
        None => super::demo::preferred_engine(&engines).to_owned(),
    };
    let max_pages = body.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
    if !(1..=MAX_MAX_PAGES).contains(&max_pages) {
        return Err(ApiError::invalid(
            "max_pages",
            format!("must be between 1 and {MAX_MAX_PAGES}"),
        ));
    }
    Ok(NewAgentBuild {
        id: Uuid::now_v7(),
        agent_id: AgentId::new(),
        kind: BuildKind::Build,
        url,
        name: body
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        area_code: body.area_code,
        engine: Some(engine),
        max_pages,
    })
}

/// Starts `agent-build-{agent_id}` for `build`: its workflow id. When it cannot start (a build
/// of this agent is running: 409), the build is recorded `failed` with the reason.
async fn start_workflow(
    state: &AppState,
    tenant: domain::TenantId,
    build: &AgentBuild,
) -> Result<String, ApiError> {
    let input = AgentBuildInput {
        tenant_id: tenant,
        build_id: build.id,
        agent_id: build.agent_id,
        kind: build.kind,
    };
    let id = workflow_id(build.agent_id);
    let options = WorkflowStartOptions::new(state.config.task_queue.clone(), id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(tenant.to_string()),
            sa::AGENT_ID.value_set(build.agent_id.to_string()),
        ]))
        .static_summary(format!("Agent {} from {}", build.kind, build.url))
        .build();
    let error = match state
        .temporal
        .start_workflow(AgentBuildWorkflow::run, input, options)
        .await
    {
        Ok(_) => return Ok(id),
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            ApiError::Conflict("a build of this agent is already running".into())
        }
        Err(err) => ApiError::Internal(anyhow::Error::new(err).context("starting the agent build")),
    };
    let failed = store::agent_builds::BuildChange {
        state: Some(BuildState::Failed),
        error: Some(error.to_string()),
        ..Default::default()
    };
    state
        .store
        .update_agent_build(tenant, build.id, failed)
        .await?;
    Err(error)
}

/// Records the build and starts its workflow; a build of this agent still running is a 409.
async fn launch(
    state: &AppState,
    auth: &Authorized<perm::AgentsWrite>,
    new: NewAgentBuild,
) -> Result<(StatusCode, Json<BuildStarted>), ApiError> {
    let build = state.store.create_agent_build(auth.tenant, new).await?;
    let workflow_id = start_workflow(state, auth.tenant, &build).await?;
    let change = Change {
        action: match build.kind {
            BuildKind::Build => "agent_build.start",
            BuildKind::Resync => "agent.resync",
        },
        resource_type: "agent_build",
        resource_id: Some(build.id.to_string()),
        before: None,
        after: Some(
            json!({"url": build.url, "agent_id": build.agent_id.to_string(),
                           "kind": build.kind}),
        ),
    };
    audit::record(state, &auth.principal, change).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(BuildStarted {
            build_id: build.id,
            agent_id: build.agent_id.as_uuid(),
            workflow_id,
            events_url: format!("/v1/agent-builds/{}/events", build.id),
        }),
    ))
}

/// Build an agent from a website: crawl, extract, generate, buy a number, deploy.
#[utoipa::path(post, path = "/v1/agent-builds", tag = "agent-builds",
    request_body = NewBuildBody,
    security(("bearer" = ["agents:write"])),
    responses((status = 202, body = BuildStarted),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn start_build(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    new: Result<Json<NewBuildBody>, JsonRejection>,
) -> Result<(StatusCode, Json<BuildStarted>), ApiError> {
    let new = new_build(&state, body(new)?)?;
    launch(&state, &auth, new).await
}

/// Re-crawl the agent's website and update the knowledge that changed (edits are kept).
#[utoipa::path(post, path = "/v1/agents/{id}/resync", tag = "agent-builds",
    params(("id" = Uuid, Path, description = "Agent id")),
    security(("bearer" = ["agents:write"])),
    responses((status = 202, body = BuildStarted),
              (status = 404, body = crate::error::Problem),
              (status = 409, description = "A build of this agent is running", body = crate::error::Problem)))]
pub async fn resync_agent(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<BuildStarted>), ApiError> {
    let agent = Uuid::parse_str(&id)
        .map(AgentId::from)
        .map_err(|_| ApiError::NotFound("agent"))?;
    let builds = state.store.agent_builds_of(auth.tenant, agent).await?;
    let Some(built) = builds.iter().find(|b| b.state == BuildState::Succeeded) else {
        return Err(ApiError::NotFound("agent built from a website"));
    };
    let new = NewAgentBuild {
        id: Uuid::now_v7(),
        agent_id: agent,
        kind: BuildKind::Resync,
        url: built.url.clone(),
        name: built.name.clone(),
        area_code: None,
        engine: built.engine.clone(),
        max_pages: built.max_pages,
    };
    launch(&state, &auth, new).await
}

fn build_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("agent build"))
}

/// Where the build stands: its state, each step's timing and figures, the new number.
#[utoipa::path(get, path = "/v1/agent-builds/{id}", tag = "agent-builds",
    params(("id" = Uuid, Path, description = "Build id")),
    security(("bearer" = ["agents:read"])),
    responses((status = 200, body = BuildView),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_build(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsRead>,
    Path(id): Path<String>,
) -> Result<Json<BuildView>, ApiError> {
    let id = build_id(&id)?;
    let build: AgentBuild = state.store.agent_build(auth.tenant, id).await?;
    let events = state.store.build_events(auth.tenant, id, None).await?;
    let number = match build.phone_number_id {
        Some(n) => Some(state.store.phone_number(auth.tenant, n).await?),
        None => None,
    };
    Ok(Json(BuildView::new(build, &events, number)))
}

/// Stop the build before its next step; what it made is taken back.
#[utoipa::path(post, path = "/v1/agent-builds/{id}/cancel", tag = "agent-builds",
    params(("id" = Uuid, Path, description = "Build id")),
    security(("bearer" = ["agents:write"])),
    responses((status = 202, description = "The build stops; its number is released, its draft agent dropped"),
              (status = 404, body = crate::error::Problem),
              (status = 409, description = "The build has ended", body = crate::error::Problem)))]
pub async fn cancel_build(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = build_id(&id)?;
    let build = state.store.agent_build(auth.tenant, id).await?;
    if build.state != BuildState::Running {
        return Err(ApiError::Conflict(format!(
            "the build has ended: {}",
            build.state.as_str()
        )));
    }
    let signaled = state
        .temporal
        .get_workflow_handle::<AgentBuildWorkflow>(workflow_id(build.agent_id))
        .signal(
            AgentBuildWorkflow::cancel,
            (),
            WorkflowSignalOptions::default(),
        )
        .await;
    match signaled {
        Ok(()) => {}
        Err(WorkflowInteractionError::NotFound(_)) => {
            return Err(ApiError::Conflict("the build has ended".into()));
        }
        Err(e) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(e).context("cancelling the build"),
            ));
        }
    }
    let change = Change {
        action: "agent_build.cancel",
        resource_type: "agent_build",
        resource_id: Some(id.to_string()),
        before: None,
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::ACCEPTED)
}
