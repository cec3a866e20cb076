//! The activities of a conversation: the LLM turn of cascaded engines and the tools a model calls
//! (`take_message`, `lookup_knowledge`).

use crate::{
    call::store_failure,
    llm::{LlmClient, LlmConfig, LlmError},
};
use dialog::{CALLER_ID_LINE, RuleDialog};
use domain::CallerId;
use domain::conversation::{
    ChatMessage, KnowledgeHit, KnowledgeQuery, LlmTurnInput, LlmTurnOutput, ToolSpec,
};
use domain::directory::{EmployeeStatus, TargetKind};
use domain::message::MessageRecipient;
use std::sync::Arc;
use store::Store;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::{TakeMessageRequest, conversation as definitions};

/// Knowledge hits returned to a model at most.
const MAX_KNOWLEDGE_HITS: u32 = 5;

/// Who writes the agent's side of a cascaded conversation: a model behind an
/// OpenAI-compatible API, or the rule-based receptionist when no model is configured.
#[derive(Debug, Clone)]
pub enum LlmProvider {
    Remote(LlmClient),
    Rules(RuleDialog),
}

impl LlmProvider {
    /// [`LlmProvider::Rules`] when `config` reaches no model (no API key and OpenAI's default
    /// base URL), otherwise a client for it.
    pub fn from_config(config: LlmConfig) -> Result<Self, LlmError> {
        if config.is_configured() {
            LlmClient::new(config).map(LlmProvider::Remote)
        } else {
            Ok(LlmProvider::Rules(RuleDialog::new()))
        }
    }

    /// `"rules"` or the remote model's name, for logs.
    pub fn describe(&self) -> String {
        match self {
            LlmProvider::Remote(client) => {
                format!("{} at {}", client.config().model, client.config().base_url)
            }
            LlmProvider::Rules(_) => "rules".into(),
        }
    }

    /// The assistant's next message; the rules ignore the model override and the tool list
    /// (they only call the tools every agent offers). `earlier`: how many messages of the call
    /// precede `messages` (the workflow sends a window of the conversation).
    pub async fn chat(
        &self,
        model_override: Option<&str>,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
        earlier: usize,
    ) -> Result<ChatMessage, LlmError> {
        match self {
            LlmProvider::Remote(client) => client.chat(model_override, messages, tools).await,
            LlmProvider::Rules(rules) => Ok(rules.reply(messages, earlier)),
        }
    }
}

#[derive(Debug)]
pub struct ConversationActivitiesImpl {
    store: Store,
    llm: LlmProvider,
}

impl ConversationActivitiesImpl {
    pub fn new(store: Store, llm: LlmProvider) -> Self {
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

impl ConversationActivitiesImpl {
    /// Whom "for Dr. Smith" / "for billing" means in the tenant's directory, as it is now: a
    /// department's message goes to the first person who answers its line.
    async fn recipient(
        &self,
        tenant: domain::TenantId,
        for_whom: &str,
    ) -> Result<Option<MessageRecipient>, ActivityError> {
        let directory = self.store.directory(tenant).await.map_err(store_failure)?;
        let Some(best) = directory.find(for_whom).into_iter().next() else {
            return Ok(None);
        };
        let person = match best.kind {
            TargetKind::Employee => directory.employee(best.id),
            TargetKind::Department => directory
                .ring_list(best.kind, best.id, chrono::Utc::now())
                .into_iter()
                .next()
                .or_else(|| {
                    directory.employees.iter().find(|e| {
                        e.department_id == Some(best.id) && e.status == EmployeeStatus::Active
                    })
                }),
        };
        Ok(Some(MessageRecipient {
            kind: best.kind.as_str().to_owned(),
            id: Some(best.id),
            name: best.name.clone(),
            phone: person.and_then(|p| p.phone.clone()),
            email: person.and_then(|p| p.email.clone()),
        }))
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
        let model = agent.settings().llm_model;
        let mut messages = Vec::with_capacity(input.messages.len() + 1);
        let mut prompt = system_prompt(&agent, input.caller_id.as_ref());
        if let Some(line) = &input.campaign_line {
            prompt.push_str("\n\n");
            prompt.push_str(domain::conversation::CAMPAIGN_GUIDANCE);
            prompt.push('\n');
            prompt.push_str(line);
        }
        messages.push(ChatMessage::system(prompt));
        messages.extend(input.messages);
        let message = self
            .llm
            .chat(
                model.as_deref(),
                &messages,
                &input.tools,
                input.earlier_messages as usize,
            )
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
        let mut message = input.message;
        if message.recipient.is_none()
            && let Some(for_whom) = message.for_whom.clone()
        {
            message.recipient = self.recipient(message.tenant_id, &for_whom).await?;
        }
        let row = self
            .store
            .take_message(&input.request_key, &message)
            .await
            .map_err(store_failure)?;
        tracing::info!(message_id = %row.id, call_sid = %message.call_sid, addressed = message.recipient.is_some(), "message taken");
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
            .search_knowledge(input.tenant_id, input.agent_id, &input.query, limit)
            .await
            .map_err(store_failure)
    }
}

/// The system prompt of a cascaded turn: the agent's instructions, how to behave on a phone,
/// and the caller ID line (`Caller ID: +14155550199` or `Caller ID: withheld`), which the rule
/// dialog reads too.
fn system_prompt(agent: &store::Agent, caller_id: Option<&CallerId>) -> String {
    let caller = match caller_id {
        Some(CallerId::Number(number)) => format!(
            "\n\n{CALLER_ID_LINE} {number}\nWhen a message needs a callback number, first offer \
             this one, saying only its last four digits, and ask for another only if the \
             caller declines."
        ),
        Some(_) => format!(
            "\n\n{CALLER_ID_LINE} withheld\nThe caller's number is unknown: ask for a callback \
             number; they may also key it in followed by the pound key."
        ),
        None => String::new(),
    };
    format!(
        "{}\n\nYou are {} on a phone call. Answer in one or two short spoken sentences, no \
         markdown or lists. Use lookup_knowledge before stating facts about the business and \
         never invent them. Confirm a message's details with the caller before take_message. \
         When the caller is done, call end_call and then say a short goodbye.{caller}",
        agent.instructions.trim(),
        agent.name
    )
}

#[cfg(test)]
mod tests {
    use crate::llm::LlmConfig;

    #[test]
    fn rules_provider_is_chosen_without_a_key_on_openai() {
        let mut config = LlmConfig::openai(String::new(), "gpt-4o-mini");
        config.api_key = None;
        assert!(!config.is_configured());
        config.api_key = Some("sk-test".into());
        assert!(config.is_configured());
        config.api_key = None;
        config.base_url = "http://localhost:11434/v1".into();
        assert!(config.is_configured());
    }
}
