//! `AgentBuildWorkflow`: an answering agent from a business's website, id
//! `agent-build-{agent_id}`.
//!
//! The story, as `run` tells it: **crawl** the site, **extract** its knowledge into the 18
//! categories, **generate** the agent, **provision** a phone number for it, **deploy** it.
//! A re-sync of an existing agent crawls and extracts again, then **updates** only the
//! knowledge that changed. Each step is its own activity with its own time budget and
//! retries; the steps write their progress to the database, where any API node streams it.
//!
//! A `cancel` Signal stops the build before its next step; a step that fails past its retries
//! ends the build `failed` with the reason. Either way what the build made is taken back
//! (**undo**): a number it bought is released, its draft agent and that agent's knowledge are
//! dropped. A re-sync never undoes: the agent it updates was live before.

use crate::activities::agent_build::{
    AgentBuildActivities, BuildEnding, BuildRef, Crawled, Extracted, Generated, Provisioned,
};
use crate::options::retried;
use domain::{
    AgentId, TenantId,
    site::{BuildKind, BuildState, BuildStep},
};
use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

/// Input of `agent-build-{agent_id}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentBuildInput {
    pub tenant_id: TenantId,
    pub build_id: uuid::Uuid,
    pub agent_id: AgentId,
    pub kind: BuildKind,
}

/// `agent-build-{agent_id}`.
pub fn workflow_id(agent_id: AgentId) -> String {
    format!("agent-build-{agent_id}")
}

/// How the build ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentBuildResult {
    pub build_id: uuid::Uuid,
    pub agent_id: AgentId,
    pub state: BuildState,
    /// The agent's new number (E.164), when the build bought one and kept it.
    pub phone_number: Option<String>,
    pub error: Option<String>,
}

/// A step's time budget per attempt, and how often it is tried.
struct Budget {
    attempt: Duration,
    heartbeat: Option<Duration>,
    attempts: u32,
}

/// The crawl heartbeats per page: a dead worker is noticed within 10 s and the crawl resumes.
const CRAWL: Budget = Budget {
    attempt: Duration::from_secs(90),
    heartbeat: Some(Duration::from_secs(10)),
    attempts: 4,
};
/// An LLM extraction of a large site takes a while; the offline one, a second.
const EXTRACT: Budget = Budget {
    attempt: Duration::from_secs(180),
    heartbeat: Some(Duration::from_secs(30)),
    attempts: 3,
};
const GENERATE: Budget = Budget {
    attempt: Duration::from_secs(30),
    heartbeat: None,
    attempts: 5,
};
/// Twilio requests: short attempts, retried for a couple of minutes.
const PROVISION: Budget = Budget {
    attempt: Duration::from_secs(30),
    heartbeat: None,
    attempts: 8,
};
const DEPLOY: Budget = Budget {
    attempt: Duration::from_secs(30),
    heartbeat: None,
    attempts: 5,
};

fn options(step: BuildStep, budget: &Budget) -> ActivityOptions {
    let policy = RetryPolicy::builder()
        .initial_interval(Duration::from_millis(500))
        .maximum_interval(Duration::from_secs(10))
        .maximum_attempts(budget.attempts)
        .build();
    let mut options = ActivityOptions::with_start_to_close_timeout(budget.attempt)
        .summary(format!("Agent build: {step}"))
        .retry_policy(policy)
        .build();
    options.heartbeat_timeout = budget.heartbeat;
    options
}

#[workflow]
pub struct AgentBuildWorkflow {
    input: AgentBuildInput,
    cancel_requested: bool,
    /// The step running now.
    step: Option<BuildStep>,
    phone_number: Option<String>,
}

#[workflow_methods]
impl AgentBuildWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: AgentBuildInput) -> Self {
        Self {
            input,
            cancel_requested: false,
            step: None,
            phone_number: None,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<AgentBuildResult> {
        let steps: &[BuildStep] = match ctx.state(|s| s.input.kind) {
            BuildKind::Build => &[
                BuildStep::Crawl,
                BuildStep::Extract,
                BuildStep::Generate,
                BuildStep::Provision,
                BuildStep::Deploy,
            ],
            BuildKind::Resync => &[BuildStep::Crawl, BuildStep::Extract, BuildStep::Update],
        };
        for &step in steps {
            if ctx.state(|s| s.cancel_requested) {
                return Self::end(ctx, BuildState::Canceled, Some(step), None).await;
            }
            ctx.state_mut(|s| s.step = Some(step));
            ctx.set_current_details(describe(step));
            if let Err(error) = Self::run_step(ctx, step).await {
                return Self::end(ctx, BuildState::Failed, Some(step), Some(error)).await;
            }
        }
        if ctx.state(|s| s.cancel_requested) {
            return Self::end(ctx, BuildState::Canceled, None, None).await;
        }
        Self::end(ctx, BuildState::Succeeded, None, None).await
    }

    /// Stop before the next step and take back what the build made.
    #[signal]
    pub fn cancel(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.cancel_requested = true;
    }
}

impl AgentBuildWorkflow {
    fn build(&self) -> BuildRef {
        BuildRef {
            tenant_id: self.input.tenant_id,
            build_id: self.input.build_id,
        }
    }

    /// One step; the error says why it failed past its retries.
    async fn run_step(ctx: &mut WorkflowContext<Self>, step: BuildStep) -> Result<(), String> {
        use AgentBuildActivities as A;
        let build = ctx.state(|s| s.build());
        let done = match step {
            BuildStep::Crawl => ctx
                .execute_activity(A::crawl_site, build, options(step, &CRAWL))
                .await
                .map(|_: Crawled| ()),
            BuildStep::Extract => ctx
                .execute_activity(A::extract_knowledge, build, options(step, &EXTRACT))
                .await
                .map(|_: Extracted| ()),
            BuildStep::Generate => ctx
                .execute_activity(A::generate_agent, build, options(step, &GENERATE))
                .await
                .map(|_: Generated| ()),
            BuildStep::Provision => ctx
                .execute_activity(A::provision_number, build, options(step, &PROVISION))
                .await
                .map(|number: Provisioned| {
                    ctx.state_mut(|s| s.phone_number = Some(number.phone_number));
                }),
            BuildStep::Deploy => {
                ctx.execute_activity(A::deploy_agent, build, options(step, &DEPLOY))
                    .await
            }
            BuildStep::Update => ctx
                .execute_activity(A::update_knowledge, build, options(step, &GENERATE))
                .await
                .map(|_| ()),
            BuildStep::Undo => Ok(()),
        };
        done.map_err(|e| reason(step, &e))
    }

    /// Undo what a build that did not succeed made, record the ending, return it.
    async fn end(
        ctx: &mut WorkflowContext<Self>,
        state: BuildState,
        step: Option<BuildStep>,
        error: Option<String>,
    ) -> WorkflowResult<AgentBuildResult> {
        let (build, input) = ctx.state(|s| (s.build(), s.input.clone()));
        if state != BuildState::Succeeded && input.kind == BuildKind::Build {
            ctx.set_current_details("Taking back what the build made");
            ctx.execute_activity(
                AgentBuildActivities::undo_build,
                build,
                bookkeeping("Agent build: undo"),
            )
            .await?;
            // Whatever was bought is released: the build keeps no number.
            ctx.state_mut(|s| s.phone_number = None);
        }
        let ending = BuildEnding {
            build,
            state,
            step,
            error: error.clone(),
        };
        ctx.execute_activity(
            AgentBuildActivities::finish_build,
            ending,
            bookkeeping("Agent build: record the ending"),
        )
        .await?;
        let phone_number = ctx.state(|s| s.phone_number.clone());
        ctx.set_current_details(match (&state, &error) {
            (BuildState::Succeeded, _) => match &phone_number {
                Some(n) => format!("Live: the agent answers {}", domain::phone::mask_phone(n)),
                None => "Done".to_owned(),
            },
            (BuildState::Failed, Some(e)) => format!("Failed: {e}"),
            (other, _) => other.as_str().to_owned(),
        });
        Ok(AgentBuildResult {
            build_id: input.build_id,
            agent_id: input.agent_id,
            state,
            phone_number,
            error,
        })
    }
}

/// Database bookkeeping that must happen: retried until it does.
fn bookkeeping(summary: &str) -> ActivityOptions {
    retried(
        summary,
        Duration::from_secs(30),
        Duration::from_secs(1),
        Duration::from_secs(60),
        None,
    )
}

fn describe(step: BuildStep) -> &'static str {
    match step {
        BuildStep::Crawl => "Crawling the website",
        BuildStep::Extract => "Extracting knowledge",
        BuildStep::Generate => "Generating the agent",
        BuildStep::Provision => "Buying a phone number",
        BuildStep::Deploy => "Putting the agent live",
        BuildStep::Update => "Updating the agent's knowledge",
        BuildStep::Undo => "Taking back what the build made",
    }
}

/// "crawl failed: the site did not answer" — the step's own failure message (the cause under
/// Temporal's "activity task failed"), at most 300 characters.
fn reason(step: BuildStep, e: &temporalio_sdk::ActivityExecutionError) -> String {
    let message = e
        .cause()
        .map(|c| c.failure().message.clone())
        .or_else(|| e.failure().map(|f| f.message.clone()))
        .unwrap_or_else(|| e.to_string());
    let first = message.lines().next().unwrap_or_default();
    format!(
        "{step} failed: {}",
        first.chars().take(300).collect::<String>()
    )
}
