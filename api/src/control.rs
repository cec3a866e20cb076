//! The bridge's view of the call workflow, backed by Temporal: Signals for stream events and
//! transcripts, Updates for tool calls and cascaded user turns. Each transcript batch is also
//! stored as the call's live transcript, which the console's live page follows.

use async_trait::async_trait;
use domain::{
    CallSid, TenantId, TranscriptSegment,
    conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn},
    workflow_io::{StreamStarted, TranscriptBatch},
};
use temporalio_client::{
    Client, NamespacedClient, WorkflowExecuteUpdateOptions, WorkflowSignalOptions,
    errors::WorkflowUpdateError,
};
use voice::bridge::{CallControl, ControlError};
use workflows::CallWorkflow;

#[derive(Clone)]
pub struct TemporalCallControl {
    client: Client,
    workflow_id: String,
    /// The media stream this control speaks for: a call has more than one when the caller
    /// comes back from a transfer, and Update ids (a model's tool call id, a turn's time on
    /// the stream) are unique only within one stream.
    stream_sid: String,
    live: LiveTranscript,
}

/// Where a call's transcript batches are stored as they happen.
#[derive(Clone)]
pub struct LiveTranscript {
    pub store: store::Store,
    pub tenant: TenantId,
    pub call_sid: CallSid,
}

impl TemporalCallControl {
    pub fn new(
        client: Client,
        workflow_id: String,
        stream_sid: String,
        live: LiveTranscript,
    ) -> Self {
        Self {
            client,
            workflow_id,
            stream_sid,
            live,
        }
    }

    fn handle(&self) -> temporalio_client::WorkflowHandle<Client, CallWorkflow> {
        self.client
            .get_workflow_handle::<CallWorkflow>(self.workflow_id.clone())
    }
}

fn failed(e: impl std::fmt::Display) -> ControlError {
    ControlError(e.to_string())
}

/// The message of a failed or rejected Update, without the transport noise around it. The SDK
/// hands the failure over as stored, its message encrypted by the payload codec: decode it.
async fn update_failed(client: &Client, e: WorkflowUpdateError) -> ControlError {
    match e {
        WorkflowUpdateError::Failed(failure) => {
            ControlError(codec::failure_message(client.data_converter(), &failure).await)
        }
        other => failed(other),
    }
}

#[async_trait]
impl CallControl for TemporalCallControl {
    async fn stream_started(&self, stream_sid: &str) -> Result<(), ControlError> {
        self.handle()
            .signal(
                CallWorkflow::stream_started,
                StreamStarted {
                    stream_sid: stream_sid.to_owned(),
                },
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(failed)
    }

    async fn transcript(&self, segments: Vec<TranscriptSegment>) -> Result<(), ControlError> {
        // The live copy is for watching: a database hiccup costs the live page some words,
        // never the call (the workflow's transcript is the record). It is written beside the
        // Signal, not before it, and both are done before the bridge's next signal (the end
        // of the stream, after which the call's live rows are deleted) can go.
        let live = &self.live;
        let handle = self.handle();
        let (stored, signalled) = tokio::join!(
            live.store
                .append_live_transcript(live.tenant, &live.call_sid, &segments),
            handle.signal(
                CallWorkflow::transcript_batch,
                TranscriptBatch {
                    segments: segments.clone()
                },
                WorkflowSignalOptions::default(),
            )
        );
        if let Err(e) = stored {
            tracing::warn!(error = %e, "could not store the live transcript");
        }
        signalled.map_err(failed)
    }

    async fn dtmf(&self, digit: char) -> Result<(), ControlError> {
        self.handle()
            .signal(
                CallWorkflow::dtmf,
                digit.to_string(),
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(failed)
    }

    async fn tool_call(&self, request: ToolCallRequest) -> Result<ToolCallResult, ControlError> {
        let options = WorkflowExecuteUpdateOptions::builder()
            .update_id(format!("tool-{}-{}", self.stream_sid, request.call_id))
            .build();
        match self
            .handle()
            .execute_update(CallWorkflow::tool_call, request, options)
            .await
        {
            Ok(result) => Ok(result),
            Err(e) => Err(update_failed(&self.client, e).await),
        }
    }

    async fn user_turn(&self, turn: UserTurn) -> Result<TurnReply, ControlError> {
        let options = WorkflowExecuteUpdateOptions::builder()
            .update_id(format!("turn-{}-{}", self.stream_sid, turn.at_ms))
            .build();
        match self
            .handle()
            .execute_update(CallWorkflow::user_turn, turn, options)
            .await
        {
            Ok(reply) => Ok(reply),
            Err(e) => Err(update_failed(&self.client, e).await),
        }
    }

    async fn goodbye_played(&self) -> Result<(), ControlError> {
        self.handle()
            .signal(
                CallWorkflow::goodbye_played,
                (),
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(failed)
    }

    async fn stream_stopped(&self) -> Result<(), ControlError> {
        self.handle()
            .signal(
                CallWorkflow::stream_stopped,
                (),
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(failed)
    }
}
