//! Activity implementations: every side effect a workflow asks for.
//!
//! - [`call`]: the activities of `CallWorkflow` (database rows, Twilio hang-up, sessions).
//! - [`conversation`]: the LLM turn of cascaded engines and the tools models call; with no model
//!   configured, the turn is answered by the `dialog` crate's rule-based receptionist.
//! - [`directory`]: the directory tools (find, availability, whom a transfer rings).
//! - [`transfer`]: the activities of `TransferWorkflow` (hold, ring, return the caller).
//! - [`llm`]: an OpenAI-compatible chat completions client (OpenAI, Groq, Ollama, vLLM, llama.cpp).
//!
//! The live call session store lives in the `sessions` crate (the API uses it too); it is
//! re-exported here for the worker's wiring.
//!
//! Each implementation is bound to its declaration in `workflows::activities` with
//! `#[activity(definition = …)]`, so a type mismatch is a compile error. Errors are classified
//! explicitly: retryable (database, network, Twilio 429/5xx) or not.

pub mod call;
pub mod conversation;
pub mod directory;
pub mod llm;
pub mod transfer;

pub use call::CallActivitiesImpl;
pub use conversation::{ConversationActivitiesImpl, LlmProvider};
pub use dialog::RuleDialog;
pub use directory::DirectoryActivitiesImpl;
pub use sessions::{
    CallSession, InProcessSessionStore, RedisSessionStore, SessionError, SessionStore,
};
pub use transfer::TransferActivitiesImpl;
