//! Activities other workflows call to notify people: starting a message's delivery.

use domain::message::MessageDeliveryInput;
use std::sync::Arc;
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
    errors::WorkflowStartError,
};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::{MessageDeliveryWorkflow, activities::notify as defs};

/// Whether starting a delivery may begin a new run after an earlier one closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redelivery {
    /// Never: the first run is the delivery (a retried activity must not start a second).
    Once,
    /// Yes, when the earlier run has closed: it re-plans and delivers the channels not
    /// delivered yet (the API's `POST /v1/messages/{id}/deliver`).
    UndeliveredChannels,
}

/// Starts `message-{message_id}`. `Ok(false)`: one is running (or, with
/// [`Redelivery::Once`], has run) already.
pub async fn start_message_delivery(
    client: &Client,
    task_queue: &str,
    input: MessageDeliveryInput,
    redelivery: Redelivery,
) -> Result<bool, WorkflowStartError> {
    let reuse = match redelivery {
        Redelivery::Once => WorkflowIdReusePolicy::RejectDuplicate,
        Redelivery::UndeliveredChannels => WorkflowIdReusePolicy::AllowDuplicate,
    };
    let options = WorkflowStartOptions::new(task_queue.to_owned(), input.workflow_id())
        .id_reuse_policy(reuse)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .static_summary(format!("Deliver message {}", input.message_id))
        .build();
    match client
        .start_workflow(MessageDeliveryWorkflow::run, input, options)
        .await
    {
        Ok(_) => Ok(true),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}

#[derive(Debug)]
pub struct NotifyActivitiesImpl {
    client: Client,
    task_queue: String,
}

impl NotifyActivitiesImpl {
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self {
            client,
            task_queue: task_queue.into(),
        }
    }
}

#[activities]
impl NotifyActivitiesImpl {
    #[activity(definition = defs::StartMessageDelivery)]
    pub async fn start_message_delivery(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: MessageDeliveryInput,
    ) -> Result<(), ActivityError> {
        let message_id = input.message_id;
        match start_message_delivery(&self.client, &self.task_queue, input, Redelivery::Once).await
        {
            Ok(started) => {
                tracing::info!(%message_id, started, "message delivery workflow");
                Ok(())
            }
            Err(err) => Err(ApplicationFailure::new(err).into()),
        }
    }
}
