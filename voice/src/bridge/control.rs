//! The call workflow, as the bridge sees it: [`CallControl`].

use domain::{
    TranscriptSegment,
    conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn},
};

/// The call workflow, as the bridge sees it. The API implements it with Temporal Signals and
/// Updates on `call-{CallSid}`; tests and benchmarks use their own.
#[async_trait::async_trait]
pub trait CallControl: Send + Sync + 'static {
    async fn stream_started(&self, stream_sid: &str) -> Result<(), ControlError>;
    async fn transcript(&self, segments: Vec<TranscriptSegment>) -> Result<(), ControlError>;
    async fn dtmf(&self, digit: char) -> Result<(), ControlError>;
    /// Run a tool the model asked for (a workflow Update).
    async fn tool_call(&self, request: ToolCallRequest) -> Result<ToolCallResult, ControlError>;
    /// Answer a cascaded engine's user turn (a workflow Update running the LLM activity).
    async fn user_turn(&self, turn: UserTurn) -> Result<TurnReply, ControlError>;
    /// The agent's goodbye after `end_call` has been heard; the workflow hangs up.
    async fn goodbye_played(&self) -> Result<(), ControlError>;
    async fn stream_stopped(&self) -> Result<(), ControlError>;
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ControlError(pub String);
