//! The extract step: the kept pages into knowledge in the 18 categories.
//!
//! With an LLM configured, each chunk of pages (within the token budget) is one chat request
//! whose answer must be JSON matching `knowledge::llm::response_schema`; an answer that does
//! not parse or validate is asked for once more, and if it fails again the build falls back to
//! the offline extractor for the whole site (and says so: `extractor: offline`). The
//! business's facts (hours, numbers, address, people) come from the offline rules either
//! way: they are patterns, not prose, and a model adds nothing there but risk.

use super::AgentBuildActivitiesImpl;
use crate::call::store_failure;
use crate::llm::LlmClient;
use domain::conversation::ChatMessage;
use domain::site::{ExtractedKnowledge, KnowledgeEntry, Page};
use knowledge::llm::{self, LlmExtractError};
use std::collections::BTreeSet;
use store::agent_builds::BuildChange;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::agent_build::{BuildRef, Extracted};

/// Tokens per extraction request unless configured otherwise.
pub(super) const DEFAULT_TOKEN_BUDGET: usize = 6_000;
/// Times a chunk is asked for when its answer does not validate.
const TRIES_PER_CHUNK: usize = 2;

impl AgentBuildActivitiesImpl {
    pub(super) async fn extract(
        &self,
        ctx: &ActivityContext,
        input: BuildRef,
    ) -> Result<Extracted, ActivityError> {
        let pages = self
            .store
            .crawled_pages(input.tenant_id, input.build_id)
            .await
            .map_err(store_failure)?;
        let mut found = knowledge::offline::extract(&pages);
        let mut extractor = "offline";
        if let Some(model) = &self.llm {
            match by_llm(model, ctx, &pages, self.token_budget).await {
                Ok(entries) => {
                    found.entries = merge(entries, &found.entries);
                    extractor = "llm";
                }
                Err(e) => tracing::warn!(
                    build = %input.build_id,
                    error = %e,
                    "the LLM's knowledge did not validate: using the offline extractor"
                ),
            }
        }
        let extracted = Extracted {
            extractor: extractor.to_owned(),
            entries: found.entries.len() as u32,
            categories: categories(&found),
        };
        let change = BuildChange {
            extractor: Some(extractor.to_owned()),
            knowledge: Some(found),
            ..BuildChange::default()
        };
        self.store
            .update_agent_build(input.tenant_id, input.build_id, change)
            .await
            .map_err(store_failure)?;
        Ok(extracted)
    }
}

fn categories(found: &ExtractedKnowledge) -> u32 {
    found
        .entries
        .iter()
        .map(|e| e.category)
        .collect::<BTreeSet<_>>()
        .len() as u32
}

/// Why the LLM's knowledge was not used.
#[derive(Debug, thiserror::Error)]
enum LlmFallback {
    #[error(transparent)]
    Chunking(LlmExtractError),
    #[error("chunk {chunk}: {error}")]
    Invalid {
        chunk: usize,
        error: LlmExtractError,
    },
    #[error("chunk {chunk}: the model failed: {error}")]
    Model { chunk: usize, error: String },
}

/// Every chunk through the model; the first chunk that fails twice ends it.
async fn by_llm(
    model: &LlmClient,
    ctx: &ActivityContext,
    pages: &[Page],
    budget: usize,
) -> Result<Vec<KnowledgeEntry>, LlmFallback> {
    let chunks = llm::chunk(pages, budget).map_err(LlmFallback::Chunking)?;
    let mut entries = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let messages: Vec<ChatMessage> = llm::prompt(chunk)
            .into_iter()
            .map(|(role, content)| match role.as_str() {
                "system" => ChatMessage::system(content),
                _ => ChatMessage::user(content),
            })
            .collect();
        let mut last = None;
        for _ in 0..TRIES_PER_CHUNK {
            let reply = model
                .chat(None, &messages, &[])
                .await
                .map_err(|e| LlmFallback::Model {
                    chunk: index,
                    error: e.to_string(),
                })?;
            match llm::parse_response(reply.content.as_deref().unwrap_or_default(), chunk) {
                Ok(found) => {
                    entries.extend(found);
                    last = None;
                    break;
                }
                Err(error) => last = Some(error),
            }
        }
        if let Some(error) = last {
            return Err(LlmFallback::Invalid {
                chunk: index,
                error,
            });
        }
        let _ = ctx.record_heartbeat(index as u32 + 1).await;
    }
    Ok(entries)
}

/// The model's entries, then the offline ones for questions the model did not answer (hours,
/// numbers and prices in the rules' exact words are never lost).
fn merge(model: Vec<KnowledgeEntry>, offline: &[KnowledgeEntry]) -> Vec<KnowledgeEntry> {
    let key = |e: &KnowledgeEntry| (e.category, e.question.trim().to_lowercase());
    let mut seen: BTreeSet<_> = model.iter().map(key).collect();
    let mut all = model;
    for entry in offline {
        if seen.insert(key(entry)) {
            all.push(entry.clone());
        }
    }
    all
}
