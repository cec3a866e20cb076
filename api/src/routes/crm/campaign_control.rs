//! Running a campaign: `POST /v1/campaigns/{id}/start|pause|resume|cancel` and
//! `GET /v1/campaigns/{id}/progress`.
//!
//! `start` checks the campaign can run (an agent, a number to call from, valid settings) and
//! starts `campaign-{id}`; a campaign already running is a 409. Pause, resume and cancel are
//! Signals to that workflow (409 when it is not running); each is audited. Progress is the
//! workflow's `progress` Query while it runs (when it is safe to ask, see [`live_progress`]),
//! with the targets' states from the database.

use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use domain::{TenantId, campaign::CampaignSettings, crm::CampaignStatus};
use serde::Serialize;
use std::time::{Duration, SystemTime};
use store::crm::campaigns::Campaigns;
use temporalio_client::{
    RetryOptions, RpcOptions, WorkflowDescribeOptions, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{WorkflowInteractionError, WorkflowStartError},
};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::ToSchema;
use uuid::Uuid;
use workflows::{
    CampaignWorkflow,
    campaign::{CampaignProgress, CampaignWorkflowInput, workflow_id},
    search_attributes as sa,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/campaigns/{id}/start", post(start))
        .route("/v1/campaigns/{id}/pause", post(pause))
        .route("/v1/campaigns/{id}/resume", post(resume))
        .route("/v1/campaigns/{id}/cancel", post(cancel))
        .route("/v1/campaigns/{id}/progress", get(progress))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    pub campaign_id: Uuid,
    pub workflow_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    pub campaign_id: Uuid,
    pub status: String,
    /// The workflow's view while it runs (phase, live calls, totals); absent otherwise.
    #[schema(value_type = Option<Object>)]
    pub workflow: Option<CampaignProgress>,
    /// Targets by state, from the database.
    #[schema(value_type = Object)]
    pub targets: std::collections::BTreeMap<String, u64>,
}

/// The campaign can run: valid settings, an agent, a number to call from. Its name and agent.
async fn startable(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
) -> Result<(String, store::Agent), ApiError> {
    let campaign = state.store.resource::<Campaigns>(tenant, id).await?;
    let fields = campaign.stored.fields;
    let settings =
        CampaignSettings::from_json(&fields.settings).map_err(|e| ApiError::InvalidParameter {
            field: e.field,
            detail: e.problem,
        })?;
    let agent_id = fields
        .agent_id
        .ok_or_else(|| ApiError::invalid("agent_id", "a campaign needs an agent to start"))?;
    let agent = state.store.agent(tenant, agent_id.into()).await?;
    if settings.from_number.is_none() && state.store.agent_number(tenant, agent.id).await?.is_none()
    {
        return Err(ApiError::invalid(
            "settings.from_number",
            "set a number to call from, or assign one to the campaign's agent",
        ));
    }
    Ok((fields.name, agent))
}

fn campaign_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::invalid("id", "must be a campaign id"))
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/start", tag = "campaigns",
    security(("bearer" = ["campaigns:write"])),
    responses((status = 202, body = Started),
              (status = 400, body = crate::error::Problem, description = "Settings, agent or number missing or invalid"),
              (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "Already running")))]
pub async fn start(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let id = campaign_id(&id)?;
    let tenant = auth.tenant;
    let (name, agent) = startable(&state, tenant, id).await?;
    let input = CampaignWorkflowInput {
        tenant_id: tenant,
        campaign_id: id,
        carried: None,
    };
    let workflow_id = input.workflow_id();
    let options = WorkflowStartOptions::new(state.config.task_queue.clone(), workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(tenant.to_string()),
            sa::CAMPAIGN_ID.value_set(id.to_string()),
            sa::AGENT_ID.value_set(agent.id.to_string()),
        ]))
        .static_summary(format!("Campaign {name} ({})", agent.name))
        .build();
    match state
        .temporal
        .start_workflow(CampaignWorkflow::run, input, options)
        .await
    {
        Ok(_) => {}
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            return Err(ApiError::Conflict("the campaign is already running".into()));
        }
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("starting the campaign workflow"),
            ));
        }
    }
    state
        .store
        .set_campaign_status(tenant, id, CampaignStatus::Running)
        .await?;
    audit_action(&state, &auth, "campaign.start", id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Started {
            campaign_id: id,
            workflow_id,
        }),
    ))
}

#[derive(Clone, Copy)]
enum Control {
    Pause,
    Resume,
    Cancel,
}

async fn control(
    state: &AppState,
    auth: &Authorized<perm::CampaignsWrite>,
    raw_id: &str,
    what: Control,
) -> Result<StatusCode, ApiError> {
    let id = campaign_id(raw_id)?;
    // The campaign must be the tenant's: its workflow id alone would reach any tenant's.
    state.store.resource::<Campaigns>(auth.tenant, id).await?;
    let handle = state
        .temporal
        .get_workflow_handle::<CampaignWorkflow>(workflow_id(id));
    let options = WorkflowSignalOptions::default();
    let sent = match what {
        Control::Pause => handle.signal(CampaignWorkflow::pause, (), options).await,
        Control::Resume => handle.signal(CampaignWorkflow::resume, (), options).await,
        Control::Cancel => handle.signal(CampaignWorkflow::cancel, (), options).await,
    };
    match sent {
        Ok(()) => {}
        Err(WorkflowInteractionError::NotFound(_)) => {
            return Err(ApiError::Conflict("the campaign is not running".into()));
        }
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("signalling the campaign workflow"),
            ));
        }
    }
    let (status, action) = match what {
        Control::Pause => (Some(CampaignStatus::Paused), "campaign.pause"),
        Control::Resume => (Some(CampaignStatus::Running), "campaign.resume"),
        // The workflow records `canceled` once its live calls have finished.
        Control::Cancel => (None, "campaign.cancel"),
    };
    if let Some(status) = status {
        state
            .store
            .set_campaign_status(auth.tenant, id, status)
            .await?;
    }
    audit_action(state, auth, action, id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn audit_action(
    state: &AppState,
    auth: &Authorized<perm::CampaignsWrite>,
    action: &'static str,
    id: Uuid,
) -> Result<(), ApiError> {
    let change = Change {
        action,
        resource_type: "campaign",
        resource_id: Some(id.to_string()),
        before: None,
        after: None,
    };
    audit::record(state, &auth.principal, change).await
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", tag = "campaigns",
    security(("bearer" = ["campaigns:write"])),
    responses((status = 202, description = "No new dials; live calls finish"),
              (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "Not running")))]
pub async fn pause(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    control(&state, &auth, &id, Control::Pause).await
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/resume", tag = "campaigns",
    security(("bearer" = ["campaigns:write"])),
    responses((status = 202, description = "Dialling goes on"),
              (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "Not running")))]
pub async fn resume(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    control(&state, &auth, &id, Control::Resume).await
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/cancel", tag = "campaigns",
    security(("bearer" = ["campaigns:write"])),
    responses((status = 202, description = "No new dials; live calls finish; targets not reached become canceled"),
              (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "Not running")))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    control(&state, &auth, &id, Control::Cancel).await
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/progress", tag = "campaigns",
    security(("bearer" = ["campaigns:read"])),
    responses((status = 200, body = ProgressView),
              (status = 404, body = crate::error::Problem)))]
pub async fn progress(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsRead>,
    Path(id): Path<String>,
) -> Result<Json<ProgressView>, ApiError> {
    let id = campaign_id(&id)?;
    let tenant: TenantId = auth.tenant;
    let campaign = state.store.resource::<Campaigns>(tenant, id).await?;
    let targets = state.store.target_counts(tenant, id).await?;
    let workflow = if matches!(
        campaign.status,
        CampaignStatus::Running | CampaignStatus::Paused
    ) {
        live_progress(&state, id).await
    } else {
        None
    };
    Ok(Json(ProgressView {
        campaign_id: id,
        status: campaign.status.as_str().to_owned(),
        workflow,
        targets: targets.0,
    }))
}

/// How long a workflow task may have been waiting, and a query may wait, before the query is
/// not sent: both well under the 5 s a dead worker's sticky task takes to time out.
const SETTLED_WITHIN: Duration = Duration::from_secs(2);

/// The workflow's `progress` Query, asked only while its workflow tasks are healthy.
///
/// When a worker dies holding the campaign's workflow task, the server hands a query straight
/// to another worker with the history as it stands, and the SDK (sdk-core 0.10) then applies
/// the events the pending task has not yet handled, at the previous task's time, and keeps the
/// result: the commands the task later sends can differ in order from what a replay of the
/// history makes, and the campaign would fail to replay. So the query goes out only when no
/// workflow task is pending, or the pending one is a first attempt scheduled moments ago, and
/// it waits at most [`SETTLED_WITHIN`]. Otherwise the answer has the database's view alone.
async fn live_progress(state: &AppState, id: Uuid) -> Option<CampaignProgress> {
    let handle = state
        .temporal
        .get_workflow_handle::<CampaignWorkflow>(workflow_id(id));
    let description = handle
        .describe(WorkflowDescribeOptions::default())
        .await
        .ok()?;
    if let Some(task) = &description.raw().pending_workflow_task {
        let scheduled = task
            .original_scheduled_time
            .as_ref()
            .or(task.scheduled_time.as_ref())
            .and_then(|t| {
                std::time::UNIX_EPOCH.checked_add(Duration::new(
                    u64::try_from(t.seconds).ok()?,
                    u32::try_from(t.nanos).ok()?,
                ))
            })?;
        let waiting = SystemTime::now()
            .duration_since(scheduled)
            .unwrap_or_default();
        if task.attempt > 1 || waiting > SETTLED_WITHIN {
            tracing::debug!(campaign = %id, attempt = task.attempt, waiting_ms = waiting.as_millis() as u64,
                "a workflow task is not settled: progress from the database alone");
            return None;
        }
    }
    let options = WorkflowQueryOptions::builder()
        .rpc_options(
            RpcOptions::builder()
                .timeout(SETTLED_WITHIN)
                .retry_options(RetryOptions::no_retries())
                .build(),
        )
        .build();
    handle
        .query(CampaignWorkflow::progress, (), options)
        .await
        .ok()
}
