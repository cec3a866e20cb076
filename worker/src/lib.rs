//! The Temporal worker and the Temporal connection it (and the API) use.
//!
//! - [`connect`]: a client for `TEMPORAL_ADDRESS` / namespace.
//! - [`ensure_search_attributes`]: registers our custom Keyword search attributes (idempotent).
//! - [`build_worker`]: one worker on the task queue with every workflow and activity registered.

use activities::{
    AgentBuildActivitiesImpl, CallActivitiesImpl, CampaignActivitiesImpl,
    ConversationActivitiesImpl, DirectoryActivitiesImpl, EventActivitiesImpl,
    MessageActivitiesImpl, NotifyActivitiesImpl, TransferActivitiesImpl,
    recordings::RetentionActivitiesImpl,
};
use std::collections::HashMap;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowStartOptions, errors::WorkflowStartError,
};
use temporalio_common::protos::temporal::api::{
    enums::v1::IndexedValueType, operatorservice::v1::AddSearchAttributesRequest,
    operatorservice::v1::ListSearchAttributesRequest,
};
use temporalio_sdk::WorkerOptions;
pub use temporalio_sdk::{Runtime, Worker};
use workflows::{
    AgentBuildWorkflow, CallWorkflow, CampaignWorkflow, EventDeliveryWorkflow,
    MessageDeliveryWorkflow, RecordingRetentionWorkflow, TransferWorkflow,
    retention::{self, RetentionSchedule},
    search_attributes,
};

#[derive(Debug, thiserror::Error)]
pub enum TemporalError {
    #[error("`{0}` is not a valid Temporal address")]
    InvalidAddress(String),
    #[error("cannot connect to Temporal at {address}: {message}")]
    Connect { address: String, message: String },
    #[error("cannot register search attributes: {0}")]
    SearchAttributes(String),
    #[error("cannot create the worker: {0}")]
    Worker(String),
}

/// Connects to Temporal at `address` (`host:port` or a URL).
pub async fn connect(address: &str, namespace: &str) -> Result<Client, TemporalError> {
    let target = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let url =
        url::Url::parse(&target).map_err(|_| TemporalError::InvalidAddress(address.to_owned()))?;
    let options = ConnectionOptions::new(url)
        .identity(format!("switchboard@{}", std::process::id()))
        .build();
    let connection = Connection::connect(options)
        .await
        .map_err(|e| TemporalError::Connect {
            address: address.to_owned(),
            message: e.to_string(),
        })?;
    Client::new(connection, ClientOptions::new(namespace).build()).map_err(|e| {
        TemporalError::Connect {
            address: address.to_owned(),
            message: e.to_string(),
        }
    })
}

/// Registers `TenantId`, `CallDirection`, `CampaignId`, `AgentId`, `CallOutcome` as Keyword
/// search attributes of `namespace`, skipping any already there.
pub async fn ensure_search_attributes(
    client: &Client,
    namespace: &str,
) -> Result<(), TemporalError> {
    let mut operator = client.connection().operator_service();
    let existing = operator
        .list_search_attributes(tonic::Request::new(ListSearchAttributesRequest {
            namespace: namespace.to_owned(),
        }))
        .await
        .map_err(|e| TemporalError::SearchAttributes(e.message().to_owned()))?
        .into_inner()
        .custom_attributes;
    let missing: HashMap<String, i32> = search_attributes::ALL_KEYWORDS
        .iter()
        .filter(|name| !existing.contains_key(**name))
        .map(|name| ((*name).to_owned(), IndexedValueType::Keyword as i32))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    tracing::info!(attributes = ?missing.keys().collect::<Vec<_>>(), "registering search attributes");
    operator
        .add_search_attributes(tonic::Request::new(AddSearchAttributesRequest {
            search_attributes: missing,
            namespace: namespace.to_owned(),
        }))
        .await
        .map_err(|e| TemporalError::SearchAttributes(e.message().to_owned()))?;
    Ok(())
}

/// The SDK runtime, bound to the current tokio runtime.
pub fn runtime() -> Result<Runtime, TemporalError> {
    Runtime::from_current_tokio(Default::default())
        .map_err(|e| TemporalError::Worker(e.to_string()))
}

/// Every activity implementation the worker serves.
#[derive(Debug)]
pub struct WorkerActivities {
    pub call: CallActivitiesImpl,
    pub conversation: ConversationActivitiesImpl,
    pub message: MessageActivitiesImpl,
    pub notify: NotifyActivitiesImpl,
    pub transfer: TransferActivitiesImpl,
    pub directory: DirectoryActivitiesImpl,
    pub campaign: CampaignActivitiesImpl,
    pub events: EventActivitiesImpl,
    pub agent_build: AgentBuildActivitiesImpl,
    pub retention: RetentionActivitiesImpl,
}

/// Starts the recordings' retention workflow on `task_queue` unless it is running: each worker
/// does this at boot, and only the first start of a deployment starts anything.
pub async fn start_recording_retention(
    client: &Client,
    task_queue: &str,
    schedule: RetentionSchedule,
) -> Result<bool, WorkflowStartError> {
    let options =
        WorkflowStartOptions::new(task_queue.to_owned(), retention::workflow_id(task_queue))
            .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
            .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
            .static_summary("Delete call recordings past their tenant's retention".to_owned())
            .build();
    match client
        .start_workflow(RecordingRetentionWorkflow::run, schedule, options)
        .await
    {
        Ok(_) => Ok(true),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}

/// A worker serving every workflow and activity on `task_queue`.
pub fn build_worker(
    runtime: &Runtime,
    client: Client,
    task_queue: &str,
    activities: WorkerActivities,
) -> Result<Worker, TemporalError> {
    let options = WorkerOptions::new(task_queue)
        .register_workflow::<CallWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<MessageDeliveryWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<TransferWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<CampaignWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<EventDeliveryWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<AgentBuildWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_workflow::<RecordingRetentionWorkflow>()
        .map_err(|e| TemporalError::Worker(e.to_string()))?
        .register_activities(activities.call)
        .register_activities(activities.conversation)
        .register_activities(activities.message)
        .register_activities(activities.notify)
        .register_activities(activities.transfer)
        .register_activities(activities.directory)
        .register_activities(activities.campaign)
        .register_activities(activities.events)
        .register_activities(activities.agent_build)
        .register_activities(activities.retention)
        .build();
    Worker::new(runtime, client, options).map_err(|e| TemporalError::Worker(e.to_string()))
}
