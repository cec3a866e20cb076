//! Updates to the call workflow (tool calls, cascaded user turns): asked concurrently, each in
//! its own task, their answers coming back to the bridge as [`WorkflowAnswer`]s.

use super::control::{CallControl, ControlError};
use domain::conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn};
use std::sync::Arc;
use tokio::{sync::mpsc, time::Instant};

pub(super) enum WorkflowAnswer {
    Tool(ToolCallRequest, Result<ToolCallResult, ControlError>),
    Turn(Result<TurnReply, ControlError>),
}

/// Asks the workflow to answer a cascaded engine's user turn.
pub(super) fn ask_user_turn(
    control: Arc<dyn CallControl>,
    answers: mpsc::Sender<WorkflowAnswer>,
    turn: UserTurn,
    call_sid: String,
) {
    tokio::spawn(async move {
        let asked = Instant::now();
        let answer = control.user_turn(turn).await;
        tracing::info!(%call_sid, workflow_ms = asked.elapsed().as_millis() as u64, ok = answer.is_ok(), "user turn answered");
        let _ = answers.send(WorkflowAnswer::Turn(answer)).await;
    });
}

/// Asks the workflow to run a tool the model called.
pub(super) fn ask_tool_call(
    control: Arc<dyn CallControl>,
    answers: mpsc::Sender<WorkflowAnswer>,
    request: ToolCallRequest,
) {
    tokio::spawn(async move {
        let answer = control.tool_call(request.clone()).await;
        let _ = answers.send(WorkflowAnswer::Tool(request, answer)).await;
    });
}
