//! Activities of `CampaignWorkflow`, and the campaign tools its calls run.
//!
//! - [`dial`]: the one that must never repeat itself. Before asking Twilio for a call it makes
//!   sure the attempt has a row; Twilio's `initiated` callback (our API) writes the new call's
//!   SID into that row, and so does the dial when Twilio answers. A retried dial — after a
//!   request that timed out having taken effect, or a worker that died between the request
//!   and its answer — finds the SID there and adopts that call.
//! - [`script`]: the campaign's script filled in for one recipient, now.
//! - [`conclude`]: post-call analysis (announced to the tenant's webhook as `call.analyzed`)
//!   and the target's next step under the retry policy.
//! - [`tools`]: `book_appointment`, `request_callback`, `do_not_call` during a call.
//! - here: reading the campaign, its due targets, parking targets until their window, the
//!   campaign's status, and handing an early Twilio status to the call's workflow.

use crate::call::store_failure;
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    CallStatus,
    campaign::{Callable, CampaignSettings},
    crm::{CampaignStatus, TargetState},
    workflow_io::CallStatusChanged,
};
use std::sync::Arc;
use store::{Store, crm::campaigns::Campaigns};
use telephony::{PublicUrl, TwilioClient};
use temporalio_client::{Client, WorkflowSignalOptions, errors::WorkflowInteractionError};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::{
    CallWorkflow,
    activities::{
        CampaignPlan, CampaignRef, CampaignStatusChange, CampaignToolRequest, ConcludeAttempt,
        Concluded, DialResult, DialTarget, DueTarget, DueTargets, DueTargetsRequest,
        HandOverStatus, campaign as defs,
    },
};

mod conclude;
mod dial;
mod script;
mod tools;

#[derive(Debug)]
pub struct CampaignActivitiesImpl {
    store: Store,
    twilio: TwilioClient,
    public: PublicUrl,
    temporal: Client,
    /// Where the `call.analyzed` event's delivery workflow runs.
    task_queue: String,
}

impl CampaignActivitiesImpl {
    pub fn new(
        store: Store,
        twilio: TwilioClient,
        public: PublicUrl,
        temporal: Client,
        task_queue: impl Into<String>,
    ) -> Self {
        Self {
            store,
            twilio,
            public,
            temporal,
            task_queue: task_queue.into(),
        }
    }

    async fn plan(&self, input: CampaignRef) -> Result<CampaignPlan, ActivityError> {
        let tenant = input.tenant_id;
        let campaign = self
            .store
            .resource::<Campaigns>(tenant, input.campaign_id)
            .await
            .map_err(store_failure)?;
        let fields = campaign.stored.fields;
        let settings = CampaignSettings::from_json(&fields.settings)
            .map_err(ApplicationFailure::non_retryable)?;
        let agent_id = fields
            .agent_id
            .map(domain::AgentId::from)
            .ok_or_else(|| ApplicationFailure::non_retryable(NoAgent))?;
        let agent = self
            .store
            .agent(tenant, agent_id)
            .await
            .map_err(store_failure)?;
        let from = match settings.from_number.clone() {
            Some(from) => from,
            None => self
                .store
                .agent_number(tenant, agent_id)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| ApplicationFailure::non_retryable(NoNumber))?,
        };
        Ok(CampaignPlan {
            name: fields.name,
            agent_id,
            agent_name: agent.name,
            max_duration_secs: agent.max_call_duration_secs,
            from,
            settings,
        })
    }

    /// Due targets inside their window now; the others are parked until it opens (or
    /// skipped when it never does).
    async fn due(&self, input: DueTargetsRequest) -> Result<DueTargets, ActivityError> {
        let c = input.campaign;
        let now = Utc::now();
        let due = if input.limit == 0 {
            Vec::new()
        } else {
            self.store
                .due_targets(
                    c.tenant_id,
                    c.campaign_id,
                    now,
                    &input.exclude,
                    u64::from(input.limit),
                )
                .await
                .map_err(store_failure)?
        };
        let mut targets = Vec::new();
        let mut parked: std::collections::BTreeMap<Option<DateTime<Utc>>, Vec<uuid::Uuid>> =
            Default::default();
        for t in due {
            match input.window.callable(t.target.zone(), now) {
                Callable::Now => targets.push(DueTarget {
                    id: t.id,
                    attempts: u32::try_from(t.attempts).unwrap_or(0),
                    masked: t.target.phone.masked(),
                }),
                Callable::At(at) => parked.entry(Some(at)).or_default().push(t.id),
                Callable::Never => parked.entry(None).or_default().push(t.id),
            }
        }
        let mut parked_count = 0;
        for (at, ids) in parked {
            let state = match at {
                Some(_) => TargetState::Scheduled,
                None => TargetState::Skipped,
            };
            self.store
                .set_targets_state(c.tenant_id, &ids, state, at)
                .await
                .map_err(store_failure)?;
            parked_count += ids.len() as u64;
        }
        let (next, remaining) = self
            .store
            .campaign_outlook(c.tenant_id, c.campaign_id)
            .await
            .map_err(store_failure)?;
        Ok(DueTargets {
            targets,
            parked: parked_count,
            next_due_ms: next.map(|n| n.timestamp_millis()),
            remaining,
        })
    }

    async fn hand_over(&self, input: HandOverStatus) -> Result<(), ActivityError> {
        let attempt = self
            .store
            .attempt(input.tenant_id, input.attempt_id)
            .await
            .map_err(store_failure)?;
        let Some(status) = attempt
            .status
            .as_deref()
            .and_then(CallStatus::parse)
            .filter(|s| s.is_final())
        else {
            return Ok(());
        };
        let handle = self
            .temporal
            .get_workflow_handle::<CallWorkflow>(input.call_sid.workflow_id());
        let update = CallStatusChanged {
            status,
            duration_secs: None,
        };
        match handle
            .signal(
                CallWorkflow::call_status_changed,
                update,
                WorkflowSignalOptions::default(),
            )
            .await
        {
            Ok(()) | Err(WorkflowInteractionError::NotFound(_)) => Ok(()),
            Err(err) => Err(ApplicationFailure::new(err).into()),
        }
    }
}

/// Workflow time (Unix ms) as a timestamp; out of range reads as now.
fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

#[activities]
impl CampaignActivitiesImpl {
    #[activity(definition = defs::LoadCampaign)]
    pub async fn load_campaign(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignRef,
    ) -> Result<CampaignPlan, ActivityError> {
        self.plan(input).await
    }

    #[activity(definition = defs::SetCampaignStatus)]
    pub async fn set_campaign_status(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignStatusChange,
    ) -> Result<(), ActivityError> {
        let c = input.campaign;
        if input.status == CampaignStatus::Canceled {
            let closed = self
                .store
                .close_open_targets(c.tenant_id, c.campaign_id, TargetState::Canceled)
                .await
                .map_err(store_failure)?;
            tracing::info!(campaign = %c.campaign_id, closed, "campaign canceled");
        }
        self.store
            .set_campaign_status(c.tenant_id, c.campaign_id, input.status)
            .await
            .map_err(store_failure)
    }

    #[activity(definition = defs::DueTargets)]
    pub async fn due_targets(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DueTargetsRequest,
    ) -> Result<DueTargets, ActivityError> {
        self.due(input).await
    }

    #[activity(definition = defs::DialTarget)]
    pub async fn dial_target(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: DialTarget,
    ) -> Result<DialResult, ActivityError> {
        self.dial(ctx.info().attempt > 1, input).await
    }

    #[activity(definition = defs::HandOverStatus)]
    pub async fn hand_over_status(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: HandOverStatus,
    ) -> Result<(), ActivityError> {
        self.hand_over(input).await
    }

    #[activity(definition = defs::ConcludeAttempt)]
    pub async fn conclude_attempt(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ConcludeAttempt,
    ) -> Result<Concluded, ActivityError> {
        self.conclude(input).await
    }

    #[activity(definition = defs::CampaignTool)]
    pub async fn campaign_tool(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignToolRequest,
    ) -> Result<serde_json::Value, ActivityError> {
        self.tool(input).await
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the campaign has no agent")]
struct NoAgent;

#[derive(Debug, thiserror::Error)]
#[error("the campaign has no from_number and its agent has no phone number")]
struct NoNumber;
