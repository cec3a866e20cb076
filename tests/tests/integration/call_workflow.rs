//! `CallWorkflow` durability: worker replacement mid-call, the max-duration timer, replay.

use crate::helpers::*;
use std::time::Duration;
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowHistory};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};
use workflows::CallWorkflow;

#[tokio::test]
async fn a_call_completes_after_its_worker_is_stopped_mid_call_and_a_new_one_started() {
    let mut app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    app.wait_for_call_row(&call_sid).await;

    app.stop_worker().await;
    // With no worker at all, the call's events still land in history.
    app.complete_call(&call_sid, 17).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.start_worker();

    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
    assert_eq!(summary.duration_secs, 17);
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.status, domain::CallStatus::Completed);
}

#[tokio::test]
async fn the_max_duration_timer_hangs_up_through_the_twilio_rest_api() {
    let app = spawn_app_with_max_duration(Some(2)).await;
    let call_sid = app.start_inbound_call().await;
    // Twilio answers the first hang-up attempt with a 429: the activity must retry.
    app.twilio.fail_next.lock().unwrap().push((
        429,
        serde_json::json!({"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}),
    ));

    let hang_up = wait_for_hang_up(&app, &call_sid, 2).await;
    assert_eq!(
        hang_up.form,
        vec![("Status".to_owned(), "completed".to_owned())]
    );
    app.complete_call(&call_sid, 2).await;

    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::MaxDurationReached);
    record_history(&app, &call_sid, "SWITCHBOARD_RECORD_MAX_DURATION_HISTORY").await;
    let row = app.wait_for_call_row(&call_sid).await;
    assert_eq!(row.outcome, Some(domain::CallOutcome::MaxDurationReached));
}

/// The call's history as JSON; also written to the file named by `env_var`, if set.
pub(crate) async fn record_history(app: &TestApp, call_sid: &str, env_var: &str) -> Vec<u8> {
    let handle = app
        .temporal
        .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"));
    let json = handle
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    if let Ok(path) = std::env::var(env_var) {
        std::fs::write(path, &json).unwrap();
    }
    json
}

#[tokio::test]
async fn a_recorded_call_history_replays_without_nondeterminism() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    app.wait_for_call_row(&call_sid).await;
    app.complete_call(&call_sid, 5).await;
    app.call_result(&call_sid).await;

    let json = record_history(&app, &call_sid, "SWITCHBOARD_RECORD_HISTORY").await;

    replay(&json).await.expect("the recorded history replays");
}

/// Replays a JSON history against today's `CallWorkflow`, decrypting with the tests' payload
/// keys (histories from before encryption pass through).
pub(crate) async fn replay(
    json: &[u8],
) -> Result<(), temporalio_sdk::workflow_replayer::WorkflowReplayError> {
    replay_with::<CallWorkflow>(json).await
}

/// Replays a JSON history against today's workflow `W`.
pub(crate) async fn replay_with<W>(
    json: &[u8],
) -> Result<(), temporalio_sdk::workflow_replayer::WorkflowReplayError>
where
    W: temporalio_sdk::workflows::WorkflowImplementation,
    <W::Run as temporalio_common::WorkflowDefinition>::Input: Send,
{
    let mut options = WorkflowReplayerOptions::new()
        .data_converter(test_payload_codec().data_converter())
        .build();
    options.register_workflow::<W>().unwrap();
    let replayer = WorkflowReplayer::new(options)?;
    replayer
        .replay_workflow(WorkflowHistory::from_json(json).unwrap())
        .await
}

/// The history of workflow `workflow_id` (its latest run), replayed against today's `W`; a
/// nondeterminism fails the test with `what`. The history, for more checks.
pub(crate) async fn fetch_and_replay<W>(app: &TestApp, workflow_id: &str, what: &str) -> Vec<u8>
where
    W: temporalio_sdk::workflows::WorkflowImplementation + temporalio_common::HasWorkflowDefinition,
    <<W as temporalio_sdk::workflows::WorkflowImplementation>::Run as temporalio_common::WorkflowDefinition>::Input: Send,
{
    let json = app
        .temporal
        .get_workflow_handle::<W>(workflow_id.to_owned())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    if let Err(e) = replay_with::<W>(&json).await {
        panic!("{what} does not replay: {e}");
    }
    json
}

/// Histories recorded from real runs and committed: a change to `CallWorkflow` that would break
/// calls in flight fails here. Each is written by the test that sets its variable to a path:
/// `SWITCHBOARD_RECORD_HISTORY` (a completed call), `SWITCHBOARD_RECORD_MAX_DURATION_HISTORY`
/// (a hang-up by the max-duration timer), `SWITCHBOARD_RECORD_CONVERSATION_HISTORY` (a cascaded
/// conversation with Updates, the LLM in local activities and tool activities; committed as
/// `call_cascaded_conversation_local_llm.json`, while `call_cascaded_conversation.json` is the
/// same conversation from before the LLM ran locally), `SWITCHBOARD_RECORD_VOICEMAIL_HISTORY`
/// (an outbound call answered by a machine) and `SWITCHBOARD_RECORD_SMS_HISTORY` (a call with a
/// follow-up SMS under injected Twilio faults). Files named `campaign_*` are `CampaignWorkflow`
/// runs: `SWITCHBOARD_RECORD_CAMPAIGN_HISTORY` (a campaign paused, resumed and cancelled).
/// Files named `agent_build_*` are `AgentBuildWorkflow` runs:
/// `SWITCHBOARD_RECORD_AGENT_BUILD_HISTORY` (a build from the fixture site to a live number) and
/// `SWITCHBOARD_RECORD_CANCELED_BUILD_HISTORY` (a build cancelled while it bought its number).
#[tokio::test]
async fn committed_call_histories_replay_without_nondeterminism() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("histories");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let json = std::fs::read(&path).unwrap();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let replayed_run = if name.starts_with("campaign_") {
            replay_with::<workflows::CampaignWorkflow>(&json).await
        } else if name.starts_with("agent_build_") {
            replay_with::<workflows::AgentBuildWorkflow>(&json).await
        } else {
            replay(&json).await
        };
        replayed_run.unwrap_or_else(|e| panic!("{} no longer replays: {e}", path.display()));
        replayed += 1;
    }
    assert!(replayed > 0, "no committed histories in {}", dir.display());
}
