//! The activities of a conversation: the LLM turn of cascaded engines and the tools a model calls
//! (`take_message`, `lookup_knowledge`).

use crate::{
    call::store_failure,
    llm::{LlmClient, LlmError},
};
use domain::conversation::{
    ChatMessage, KnowledgeHit, KnowledgeQuery, LlmTurnInput, LlmTurnOutput,
};
use std::sync::Arc;
use store::Store;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::{TakeMessageRequest, conversation as definitions};

/// Knowledge hits returned to a model at most.
const MAX_KNOWLEDGE_HITS: u32 = 5;

#[derive(Debug)]
pub struct ConversationActivitiesImpl {
    store: Store,
    llm: LlmClient,
}

impl ConversationActivitiesImpl {
    pub fn new(store: Store, llm: LlmClient) -> Self {
        Self { store, llm }
    }
}

fn llm_failure(err: LlmError) -> ActivityError {
    if err.is_retryable() {
        ApplicationFailure::new(err).into()
    } else {
        ApplicationFailure::non_retryable(err).into()
    }
}

#[activities]
impl ConversationActivitiesImpl {
    #[activity(definition = definitions::LlmTurn)]
    pub async fn llm_turn(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: LlmTurnInput,
    ) -> Result<LlmTurnOutput, ActivityError> {
        let agent = self
            .store
            .agent(input.tenant_id, input.agent_id)
            .await
            .map_err(store_failure)?;
        let model = agent
            .engine_settings
            .get("llm_model")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut messages = Vec::with_capacity(input.messages.len() + 1);
        messages.push(ChatMessage::system(system_prompt(&agent)));
        messages.extend(input.messages);
        let message = self
            .llm
            .chat(model.as_deref(), &messages, &input.tools)
            .await
            .map_err(llm_failure)?;
        Ok(LlmTurnOutput { message })
    }

    #[activity(definition = definitions::TakeMessage)]
    pub async fn take_message(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: TakeMessageRequest,
    ) -> Result<String, ActivityError> {
        let row = self
            .store
            .take_message(&input.request_key, &input.message)
            .await
            .map_err(store_failure)?;
        tracing::info!(message_id = %row.id, call_sid = %input.message.call_sid, "message taken");
        Ok(row.id.to_string())
    }

    #[activity(definition = definitions::LookupKnowledge)]
    pub async fn lookup_knowledge(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: KnowledgeQuery,
    ) -> Result<Vec<KnowledgeHit>, ActivityError> {
        let limit = input.limit.clamp(1, MAX_KNOWLEDGE_HITS) as usize;
        self.store
            .search_knowledge(input.tenant_id, &input.query, limit)
            .await
            .map_err(store_failure)
    }
}

/// The system prompt of a cascaded turn: the agent's instructions plus how to behave on a phone.
fn system_prompt(agent: &store::Agent) -> String {
    format!(
        "{}\n\nYou are {} on a phone call. Answer in one or two short spoken sentences, no \
         markdown or lists. Use lookup_knowledge before stating facts about the business and \
         never invent them. Confirm a message's details with the caller before take_message. \
         When the caller is done, call end_call and then say a short goodbye.",
        agent.instructions.trim(),
        agent.name
    )
}
