//! `RecordingRetentionWorkflow`: the purge of call recordings past their tenant's retention,
//! id `recording-retention-{task queue}`, one per deployment.
//!
//! The story: every `every_secs` (an hour by default), one activity deletes the recordings
//! older than their tenant's `recording_retention_days` (object first, then row: a pass cut
//! short leaves rows the next pass finishes, never objects nobody points to). Each worker
//! starts it at boot; a start that finds it running starts nothing. Its history stays short:
//! after `rounds_per_run` passes it continues as new. The Temporal UI shows the last pass and
//! when the next is due.

use crate::activities::RetentionActivities;
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ContinueAsNewOptions, WorkflowContext, WorkflowContextView, WorkflowResult};

/// The retention workflow's id on task queue `task_queue`.
pub fn workflow_id(task_queue: &str) -> String {
    format!("recording-retention-{task_queue}")
}

/// How often the purge runs, and how many passes one run makes before it continues as new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetentionSchedule {
    pub every_secs: u64,
    pub rounds_per_run: u32,
}

impl Default for RetentionSchedule {
    fn default() -> Self {
        Self {
            every_secs: 3600,
            rounds_per_run: 24,
        }
    }
}

/// One pass of the purge may take this long per attempt (it deletes a bounded batch).
const PASS_TIMEOUT: Duration = Duration::from_secs(300);

#[workflow]
pub struct RecordingRetentionWorkflow {
    schedule: RetentionSchedule,
    /// Recordings this run deleted.
    purged: u64,
}

#[workflow_methods]
impl RecordingRetentionWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, schedule: RetentionSchedule) -> Self {
        Self {
            schedule,
            purged: 0,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<u64> {
        let schedule = ctx.state(|s| s.schedule);
        for round in 0..schedule.rounds_per_run.max(1) {
            ctx.set_current_details(format!("Pass {}: deleting expired recordings", round + 1));
            let options = crate::options::retried(
                "Delete expired recordings",
                PASS_TIMEOUT,
                Duration::from_secs(5),
                Duration::from_secs(300),
                Some(5),
            );
            let pass = ctx
                .execute_activity(RetentionActivities::purge_expired_recordings, (), options)
                .await;
            let details = match pass {
                Ok(purged) => {
                    let total = ctx.state_mut(|s| {
                        s.purged += purged;
                        s.purged
                    });
                    format!(
                        "Deleted {purged} expired recordings ({total} in this run); next pass in {} s",
                        schedule.every_secs
                    )
                }
                // The next pass tries again; the failure is in the history.
                Err(_) => format!(
                    "The last pass failed; next pass in {} s",
                    schedule.every_secs
                ),
            };
            ctx.set_current_details(details);
            ctx.timer(Duration::from_secs(schedule.every_secs)).await;
        }
        match ctx.continue_as_new(schedule, ContinueAsNewOptions::default()) {
            Err(termination) => Err(termination),
            Ok(never) => match never {},
        }
    }

    /// Recordings this run has deleted so far.
    #[query]
    pub fn purged(&self, _ctx: &WorkflowContextView) -> u64 {
        self.purged
    }
}
