//! Activities of `AgentBuildWorkflow`. Each step reads what it needs from the build's row
//! (the URL, the pages a crawl kept, the extracted knowledge), records its own `started` and
//! `finished` events for the progress stream, and leaves its result on the row, so the
//! workflow's history carries ids and counts, never a website.

use domain::{
    AgentId, TenantId,
    site::{BuildState, BuildStep},
};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;

/// The build a step works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildRef {
    pub tenant_id: TenantId,
    pub build_id: uuid::Uuid,
}

/// What the crawl did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Crawled {
    /// Pages kept (this attempt's and earlier attempts').
    pub pages: u32,
    /// HTTP fetches this attempt made.
    pub fetched: u32,
    /// URLs skipped (robots.txt, errors, not HTML).
    pub skipped: u32,
}

/// What extraction found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extracted {
    /// `offline` or `llm`.
    pub extractor: String,
    pub entries: u32,
    /// Categories with at least one entry.
    pub categories: u32,
}

/// The agent made from the knowledge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    pub agent_id: AgentId,
    pub name: String,
    pub knowledge_entries: u32,
    pub directory_entries: u32,
}

/// The number bought for the agent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provisioned {
    /// E.164.
    pub phone_number: String,
    pub number_sid: String,
}

/// How a build ended, recorded on its row and as its last event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildEnding {
    pub build: BuildRef,
    pub state: BuildState,
    /// The step that failed, or the last one that ran.
    pub step: Option<BuildStep>,
    pub error: Option<String>,
}

/// What undoing a build took back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Undone {
    /// The number released (E.164), if one was bought.
    pub released_number: Option<String>,
    pub agent_dropped: bool,
}

pub struct AgentBuildActivities;

#[activity_definitions]
impl AgentBuildActivities {
    /// Crawl the site (same site, robots.txt, sitemap, breadth first), keeping each page as it
    /// is fetched; a retried crawl starts from the pages kept and does not fetch them again.
    #[activity(name = "crawl_site")]
    pub fn crawl_site(_input: BuildRef) -> Result<Crawled, ActivityError> {
        unimplemented!()
    }

    /// Draw knowledge in the 18 categories from the kept pages: the configured LLM, or the
    /// offline extractor when there is none or the LLM's answers do not validate.
    #[activity(name = "extract_knowledge")]
    pub fn extract_knowledge(_input: BuildRef) -> Result<Extracted, ActivityError> {
        unimplemented!()
    }

    /// Create (or update) the agent: name, greeting, instructions, hours, knowledge, directory.
    #[activity(name = "generate_agent")]
    pub fn generate_agent(_input: BuildRef) -> Result<Generated, ActivityError> {
        unimplemented!()
    }

    /// Buy a number in the build's area code (once: a retry buys the number chosen before, or
    /// adopts it when the purchase went through) and route it to the agent.
    #[activity(name = "provision_number")]
    pub fn provision_number(_input: BuildRef) -> Result<Provisioned, ActivityError> {
        unimplemented!()
    }

    /// Check the number reaches the agent and put the agent live.
    #[activity(name = "deploy_agent")]
    pub fn deploy_agent(_input: BuildRef) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// A re-sync: replace the agent's site knowledge where the site changed, keeping edits.
    #[activity(name = "update_knowledge")]
    pub fn update_knowledge(_input: BuildRef) -> Result<store_counts::Synced, ActivityError> {
        unimplemented!()
    }

    /// Take back what a cancelled or failed build made: release its number, drop its draft
    /// agent and that agent's knowledge.
    #[activity(name = "undo_build")]
    pub fn undo_build(_input: BuildRef) -> Result<Undone, ActivityError> {
        unimplemented!()
    }

    /// Record how the build ended.
    #[activity(name = "finish_build")]
    pub fn finish_build(_input: BuildEnding) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// What a re-sync changed, counted.
pub mod store_counts {
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Synced {
        pub added: u32,
        pub changed: u32,
        pub unchanged: u32,
        pub removed: u32,
        pub kept_edits: u32,
    }
}

/// The generated definition types of [`AgentBuildActivities`].
pub mod defs {
    pub use super::agent_build_activities::{
        CrawlSite, DeployAgent, ExtractKnowledge, FinishBuild, GenerateAgent, ProvisionNumber,
        UndoBuild, UpdateKnowledge,
    };
}
