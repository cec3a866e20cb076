//! A build as the API shows it: its state, its steps with their timings and figures, and the
//! result (the agent and its number).

use chrono::{DateTime, Utc};
use domain::site::{BuildStep, StepPhase};
use serde::Serialize;
use store::{
    PhoneNumber,
    agent_builds::{AgentBuild, BuildEvent},
};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct BuildView {
    pub id: Uuid,
    pub agent_id: Uuid,
    /// `build` or `resync`.
    pub kind: String,
    pub url: String,
    /// `running`, `succeeded`, `failed`, `canceled`.
    pub state: String,
    /// The step running now, or the one that failed.
    pub step: Option<String>,
    pub error: Option<String>,
    /// `offline` or `llm`, once knowledge is extracted.
    pub extractor: Option<String>,
    pub steps: Vec<StepView>,
    /// The agent's new number (E.164), once bought and not released.
    pub phone_number: Option<String>,
    /// Knowledge entries per category, once extracted.
    #[schema(value_type = Object)]
    pub categories: std::collections::BTreeMap<String, usize>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// From the request to the end, when it has ended.
    pub elapsed_ms: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub step: String,
    /// `started`, `retrying`, `finished`, `failed`.
    pub phase: String,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub elapsed_ms: Option<i64>,
    /// The step's figures (pages, entries, the number …) or its error.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl StepView {
    fn apply(&mut self, event: &BuildEvent) {
        self.phase = event.phase.as_str().to_owned();
        match event.phase {
            StepPhase::Started | StepPhase::Retrying => {
                self.attempts += 1;
                self.started_at.get_or_insert(event.at);
            }
            StepPhase::Finished | StepPhase::Failed => {
                self.finished_at = Some(event.at);
                self.elapsed_ms = self.started_at.map(|s| (event.at - s).num_milliseconds());
                self.detail = event.detail.clone();
            }
        }
    }
}

/// One view per step, in the order the steps first appeared.
fn steps(events: &[BuildEvent]) -> Vec<StepView> {
    let mut steps: Vec<(BuildStep, StepView)> = Vec::new();
    for event in events {
        let at = match steps.iter().position(|(s, _)| *s == event.step) {
            Some(i) => i,
            None => {
                steps.push((
                    event.step,
                    StepView {
                        step: event.step.as_str().to_owned(),
                        phase: String::new(),
                        attempts: 0,
                        started_at: None,
                        finished_at: None,
                        elapsed_ms: None,
                        detail: None,
                    },
                ));
                steps.len() - 1
            }
        };
        steps[at].1.apply(event);
    }
    steps.into_iter().map(|(_, v)| v).collect()
}

impl BuildView {
    pub fn new(build: AgentBuild, events: &[BuildEvent], number: Option<PhoneNumber>) -> Self {
        let mut categories = std::collections::BTreeMap::new();
        for entry in build.knowledge.iter().flat_map(|k| &k.entries) {
            *categories
                .entry(entry.category.as_str().to_owned())
                .or_insert(0) += 1;
        }
        Self {
            id: build.id,
            agent_id: build.agent_id.as_uuid(),
            kind: build.kind.as_str().to_owned(),
            url: build.url,
            state: build.state.as_str().to_owned(),
            step: build.step.map(|s| s.as_str().to_owned()),
            error: build.error,
            extractor: build.extractor,
            steps: steps(events),
            phone_number: number
                .filter(|n| n.released_at.is_none())
                .map(|n| n.e164.to_string()),
            categories,
            created_at: build.created_at,
            finished_at: build.finished_at,
            elapsed_ms: build
                .finished_at
                .map(|f| (f - build.created_at).num_milliseconds()),
        }
    }
}
