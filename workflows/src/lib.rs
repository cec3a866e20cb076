//! Temporal workflows. Deterministic: no I/O, no clocks, no tokio — only `ctx` APIs.
//!
//! - [`call`]: `CallWorkflow`, one per phone call (`call-{CallSid}`).
//! - [`transfer`]: `TransferWorkflow`, a warm transfer, child of a call
//!   (`transfer-{CallSid}-{n}`).
//! - [`campaign`]: `CampaignWorkflow`, an outbound campaign (`campaign-{id}`), whose calls
//!   are child `CallWorkflow`s.
//! - [`message`]: `MessageDeliveryWorkflow`, delivering a taken message by SMS, email and
//!   webhook (`message-{message_id}`).
//! - [`event_delivery`]: `EventDeliveryWorkflow`, delivering one event (`call.analyzed`) to the
//!   tenant's webhook with retries (`event-{event_id}`).
//! - [`agent_build`]: `AgentBuildWorkflow`, an agent built (or re-synced) from a business's
//!   website (`agent-build-{agent_id}`).
//! - [`activities`]: typed declarations of the activities the workflows schedule; the
//!   implementations live in the `activities` crate and are checked against these.
//! - [`search_attributes`]: the custom search attributes operators filter calls by.

pub mod activities;
pub mod agent_build;
pub mod call;
pub mod campaign;
pub mod event_delivery;
pub mod message;
mod options;
pub mod retention;
pub mod search_attributes;
pub mod transfer;

pub use agent_build::AgentBuildWorkflow;
pub use call::CallWorkflow;
pub use campaign::CampaignWorkflow;
pub use event_delivery::EventDeliveryWorkflow;
pub use message::MessageDeliveryWorkflow;
pub use retention::RecordingRetentionWorkflow;
pub use transfer::TransferWorkflow;

/// The task queue served by `switchboard worker` unless `TEMPORAL_TASK_QUEUE` says otherwise.
pub const DEFAULT_TASK_QUEUE: &str = "switchboard";
