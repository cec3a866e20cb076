//! Activities of `AgentBuildWorkflow`: an agent from a business's website.
//!
//! - [`crawl`]: the site's pages, kept one by one as they are fetched; a retried crawl starts
//!   from the pages kept and does not fetch them again.
//! - [`extract`]: knowledge in the 18 categories — the configured LLM (JSON checked against
//!   a schema, chunks within a token budget), or the offline rules.
//! - [`generate`]: the agent (name, greeting, instructions, hours) and its knowledge.
//! - [`provision`]: a number bought once, routed to the agent; and taking it back.
//! - here: step events (what the progress stream shows), the build's ending, the undo.
//!
//! Every step records `started` (or `retrying`, on a later attempt) when it begins and
//! `finished` with its figures when it is done.

use crate::call::store_failure;
use crate::llm::LlmClient;
use domain::site::{BuildState, BuildStep, StepPhase};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use store::{
    Store,
    agent_builds::{AgentBuild, BuildChange},
};
use telephony::{PublicUrl, TwilioClient};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::agent_build::{
    BuildEnding, BuildRef, Crawled, Extracted, Generated, Provisioned, Undone, defs,
    store_counts::Synced,
};

mod crawl;
mod extract;
mod generate;
mod provision;

/// What the builder needs: the database, Twilio, our public URL, and the LLM when one is
/// configured.
#[derive(Debug)]
pub struct AgentBuildActivitiesImpl {
    store: Store,
    twilio: TwilioClient,
    public: PublicUrl,
    llm: Option<LlmClient>,
    crawl: ::crawl::CrawlConfig,
    /// Tokens per LLM extraction request (prompt and pages).
    token_budget: usize,
}

impl AgentBuildActivitiesImpl {
    pub fn new(
        store: Store,
        twilio: TwilioClient,
        public: PublicUrl,
        llm: Option<LlmClient>,
    ) -> Self {
        Self {
            store,
            twilio,
            public,
            llm,
            crawl: ::crawl::CrawlConfig::default(),
            token_budget: extract::DEFAULT_TOKEN_BUDGET,
        }
    }

    /// Crawl limits other than the defaults (tests use short timeouts).
    pub fn with_crawl_config(mut self, config: ::crawl::CrawlConfig) -> Self {
        self.crawl = config;
        self
    }

    /// The LLM extractor's budget per request, in tokens.
    pub fn with_token_budget(mut self, tokens: usize) -> Self {
        self.token_budget = tokens;
        self
    }

    async fn load(&self, build: BuildRef) -> Result<AgentBuild, ActivityError> {
        self.store
            .agent_build(build.tenant_id, build.build_id)
            .await
            .map_err(store_failure)
    }

    /// `started` on a step's first attempt, `retrying` on the others.
    async fn begin(
        &self,
        ctx: &ActivityContext,
        build: BuildRef,
        step: BuildStep,
    ) -> Result<Instant, ActivityError> {
        let attempt = ctx.info().attempt;
        let (phase, detail) = if attempt <= 1 {
            (StepPhase::Started, None)
        } else {
            (StepPhase::Retrying, Some(json!({ "attempt": attempt })))
        };
        self.event(build, step, phase, detail).await?;
        Ok(Instant::now())
    }

    /// `finished`, with the step's figures and how long it took.
    async fn done(
        &self,
        build: BuildRef,
        step: BuildStep,
        started: Instant,
        mut detail: Value,
    ) -> Result<(), ActivityError> {
        if let Some(map) = detail.as_object_mut() {
            map.insert(
                "elapsed_ms".into(),
                json!(started.elapsed().as_millis() as u64),
            );
        }
        self.event(build, step, StepPhase::Finished, Some(detail))
            .await
    }

    async fn event(
        &self,
        build: BuildRef,
        step: BuildStep,
        phase: StepPhase,
        detail: Option<Value>,
    ) -> Result<(), ActivityError> {
        self.store
            .record_build_event(build.tenant_id, build.build_id, step, phase, detail)
            .await
            .map(|_| ())
            .map_err(store_failure)
    }
}

#[activities]
impl AgentBuildActivitiesImpl {
    #[activity(definition = defs::CrawlSite)]
    pub async fn crawl_site(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Crawled, ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Crawl).await?;
        let crawled = self.crawl_pages(&ctx, input).await?;
        self.done(input, BuildStep::Crawl, started, json!(crawled))
            .await?;
        Ok(crawled)
    }

    #[activity(definition = defs::ExtractKnowledge)]
    pub async fn extract_knowledge(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Extracted, ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Extract).await?;
        let extracted = self.extract(&ctx, input).await?;
        self.done(input, BuildStep::Extract, started, json!(extracted))
            .await?;
        Ok(extracted)
    }

    #[activity(definition = defs::GenerateAgent)]
    pub async fn generate_agent(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Generated, ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Generate).await?;
        let generated = self.generate(input).await?;
        self.done(input, BuildStep::Generate, started, json!(generated))
            .await?;
        Ok(generated)
    }

    #[activity(definition = defs::ProvisionNumber)]
    pub async fn provision_number(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Provisioned, ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Provision).await?;
        let number = self.provision(input).await?;
        let detail = json!({
            "phone_number": number.phone_number,
            "number_sid": number.number_sid,
        });
        self.done(input, BuildStep::Provision, started, detail)
            .await?;
        Ok(number)
    }

    #[activity(definition = defs::DeployAgent)]
    pub async fn deploy_agent(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<(), ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Deploy).await?;
        let number = self.deploy(input).await?;
        self.done(
            input,
            BuildStep::Deploy,
            started,
            json!({ "phone_number": number }),
        )
        .await
    }

    #[activity(definition = defs::UpdateKnowledge)]
    pub async fn update_knowledge(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Synced, ActivityError> {
        let started = self.begin(&ctx, input, BuildStep::Update).await?;
        let synced = self.resync(input).await?;
        self.done(input, BuildStep::Update, started, json!(synced))
            .await?;
        Ok(synced)
    }

    #[activity(definition = defs::UndoBuild)]
    pub async fn undo_build(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: BuildRef,
    ) -> Result<Undone, ActivityError> {
        let undone = self.undo(input).await?;
        self.event(
            input,
            BuildStep::Undo,
            StepPhase::Finished,
            Some(json!(undone)),
        )
        .await?;
        Ok(undone)
    }

    #[activity(definition = defs::FinishBuild)]
    pub async fn finish_build(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: BuildEnding,
    ) -> Result<(), ActivityError> {
        let build = input.build;
        if input.state == BuildState::Failed
            && let Some(step) = input.step
        {
            let detail = json!({ "error": input.error });
            self.event(build, step, StepPhase::Failed, Some(detail))
                .await?;
        }
        let change = BuildChange {
            state: Some(input.state),
            step: input.step,
            error: input.error,
            ..BuildChange::default()
        };
        self.store
            .update_agent_build(build.tenant_id, build.build_id, change)
            .await
            .map(|_| ())
            .map_err(store_failure)
    }
}
