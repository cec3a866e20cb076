//! Activity implementations: every side effect a workflow asks for.
//!
//! - [`agent_build`]: the activities of `AgentBuildWorkflow` (crawl, extract, generate the
//!   agent, buy its number, deploy; undo).
//! - [`call`]: the activities of `CallWorkflow` (database rows, Twilio hang-up, sessions).
//! - [`conversation`]: the LLM turn of cascaded engines and the tools models call; with no model
//!   configured, the turn is answered by the `dialog` crate's rule-based receptionist.
//! - [`directory`]: the directory tools (find, availability, whom a transfer rings).
//! - [`transfer`]: the activities of `TransferWorkflow` (hold, ring, return the caller).
//! - [`message`]: the activities of `MessageDeliveryWorkflow` (plan, SMS, email, webhook).
//! - [`notify`]: `start_message_delivery`, for other workflows and the API.
//! - [`recordings`]: the purge of call recordings past their tenant's retention.
//! - [`events`]: `emit_call_analyzed`, and the activities of `EventDeliveryWorkflow` (POST a
//!   signed event to the tenant's webhook, record each attempt).
//! - [`sms`]: sending an SMS at most once (the follow-up SMS and the message SMS).
//! - [`email`]: SMTP (lettre) with a stable Message-ID.
//! - [`webhook`]: the signed POST to the tenant's webhook.
//! - [`llm`]: an OpenAI-compatible chat completions client (OpenAI, Groq, Ollama, vLLM, llama.cpp).
//!
//! The live call session store lives in the `sessions` crate (the API uses it too); it is
//! re-exported here for the worker's wiring.
//!
//! Each implementation is bound to its declaration in `workflows::activities` with
//! `#[activity(definition = …)]`, so a type mismatch is a compile error. Errors are classified
//! explicitly: retryable (database, network, Twilio 429/5xx) or not.

pub mod agent_build;
pub mod call;
pub mod campaign;
pub mod conversation;
pub mod directory;
pub mod email;
pub mod events;
pub mod llm;
pub mod message;
pub mod notify;
pub mod recordings;
pub mod sms;
pub mod transfer;
pub mod webhook;

pub use agent_build::AgentBuildActivitiesImpl;
pub use call::CallActivitiesImpl;
pub use campaign::CampaignActivitiesImpl;
pub use conversation::{ConversationActivitiesImpl, LlmProvider};
pub use dialog::RuleDialog;
pub use directory::DirectoryActivitiesImpl;
pub use email::{EmailSender, SmtpConfig};
pub use events::EventActivitiesImpl;
pub use message::MessageActivitiesImpl;
pub use notify::NotifyActivitiesImpl;
pub use sessions::{
    CallSession, InProcessSessionStore, RedisSessionStore, SessionError, SessionStore,
};
pub use transfer::TransferActivitiesImpl;
