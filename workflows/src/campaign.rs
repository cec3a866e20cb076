//! `CampaignWorkflow`: an outbound campaign, id `campaign-{campaign_id}`.
//!
//! The story, as `run` tells it: read the campaign (agent, number, settings), then run a
//! feeder and `concurrency` dialling slots side by side until every target is in a final
//! state, the campaign is cancelled, or this run has handled `targets_per_run` targets (then
//! it drains its live calls and continues as new, so a campaign of any size keeps a bounded
//! history).
//!
//! - The **feeder** asks for targets due now (`due_targets`, which checks each one's calling
//!   window in the recipient's own zone and parks those outside it until it opens), queues
//!   them, then sleeps on a durable timer until the earliest waiting target is due or a live
//!   call ends.
//!
//! Whether the workflow issues a command never depends on its clock (`workflow_time`): a
//! query served by a worker without the run in its cache replays the history and may run
//! the pending events at the previous task's time, and the commands it makes then are the
//! ones sent. The window is checked in an activity (its answer is history) and the pacing
//! timer is always started; the clock only sets durations and activity inputs.
//! - Each **slot** takes the next queued target, keeps the campaign's pace (one dial every
//!   `1 / calls_per_second`), and runs one attempt: `dial_target` (which re-checks the
//!   do-not-call list and places the call at most once), the call as a child `CallWorkflow`
//!   running the campaign's script, then `conclude_attempt` (post-call analysis, and the
//!   target's next step under the retry policy).
//! - `pause` stops new dials (a slot waiting for its pace re-checks before dialling); live
//!   calls finish. `resume` goes on. `cancel` stops new dials, lets live calls finish, marks
//!   the targets not reached `canceled` and ends the campaign.

use crate::activities::{
    CampaignActivities, CampaignPlan, CampaignRef, CampaignStatusChange, ConcludeAttempt,
    Concluded, DialResult, DialTarget, DueTarget, DueTargetsRequest, HandOverStatus,
};
use crate::options::unix_ms;
use crate::{CallWorkflow, search_attributes as sa};
use domain::{
    CallDirection, CallSid,
    crm::{CampaignStatus, TargetState},
    workflow_io::{CallSummary, CallWorkflowInput, CampaignCall},
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ChildWorkflowOptions, ContinueAsNewOptions, ParentClosePolicy,
    SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

/// The longest the feeder sleeps without looking again (a target added meanwhile is found).
const IDLE_LOOK_AGAIN: Duration = Duration::from_secs(60);
/// The shortest sleep of the feeder, so a due time in the past cannot spin it.
const MIN_SLEEP: Duration = Duration::from_millis(500);

/// `record_starting_status` writes the status again when the switch moved meanwhile.
const STATUS_FOLLOWS_PAUSE_PATCH: &str = "campaign-status-follows-pause";

/// Input of `campaign-{id}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignWorkflowInput {
    pub tenant_id: domain::TenantId,
    pub campaign_id: uuid::Uuid,
    /// Set when a run continues as new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<CampaignCarry>,
}

impl CampaignWorkflowInput {
    pub fn workflow_id(&self) -> String {
        workflow_id(self.campaign_id)
    }
}

/// `campaign-{id}`.
pub fn workflow_id(campaign_id: uuid::Uuid) -> String {
    format!("campaign-{campaign_id}")
}

/// What a run hands to the next.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignCarry {
    pub run: u32,
    pub paused: bool,
    pub totals: CampaignTotals,
}

/// Counts over the whole campaign (all runs).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignTotals {
    /// Calls placed.
    pub dials: u64,
    /// Targets found on the do-not-call list when their turn came.
    pub refused_do_not_call: u64,
    /// Times a target was parked until its calling window opened.
    pub waited_for_window: u64,
    /// Attempts by where they left their target (`completed`, `scheduled` for a retry …).
    pub after_attempt: BTreeMap<String, u64>,
    /// Answered calls by post-call outcome (`appointment_booked` …).
    pub outcomes: BTreeMap<String, u64>,
}

/// Where the campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignPhase {
    Starting,
    Running,
    Paused,
    /// Cancelled: live calls are finishing.
    Canceling,
    /// This run has handled its share: live calls finish, then a new run continues.
    Draining,
    Completed,
    Canceled,
}

/// The `progress` Query.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignProgress {
    pub phase: CampaignPhase,
    pub run: u32,
    /// Calls live now.
    pub live: u32,
    /// Targets due and waiting for a free slot.
    pub queued: u32,
    /// Targets this run has dialled (or found on the do-not-call list).
    pub handled_this_run: u32,
    /// When the feeder looks again, when nothing is due (Unix ms).
    pub sleeping_until_ms: Option<i64>,
    pub totals: CampaignTotals,
}

#[workflow]
pub struct CampaignWorkflow {
    input: CampaignWorkflowInput,
    plan: Option<CampaignPlan>,
    run: u32,
    paused: bool,
    cancel_requested: bool,
    /// Due targets inside their window, waiting for a slot.
    queue: VecDeque<DueTarget>,
    /// Targets queued or live: the feeder does not fetch them again.
    held: BTreeSet<uuid::Uuid>,
    live: u32,
    /// Bumped whenever a live call ends: the feeder looks again.
    ended_calls: u64,
    handled: u32,
    /// The earliest workflow time (Unix ms) the next dial may start.
    next_dial_ms: i64,
    feeding_done: bool,
    continue_next: bool,
    sleeping_until_ms: Option<i64>,
    totals: CampaignTotals,
}

#[workflow_methods]
impl CampaignWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CampaignWorkflowInput) -> Self {
        let carried = input.carried.clone().unwrap_or_default();
        Self {
            input,
            plan: None,
            run: carried.run,
            paused: carried.paused,
            cancel_requested: false,
            queue: VecDeque::new(),
            held: BTreeSet::new(),
            live: 0,
            ended_calls: 0,
            handled: 0,
            next_dial_ms: 0,
            feeding_done: false,
            continue_next: false,
            sleeping_until_ms: None,
            totals: carried.totals,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<CampaignTotals> {
        let campaign = ctx.state(|s| s.campaign());
        ctx.set_current_details("Reading the campaign");
        let plan = ctx
            .execute_activity(
                CampaignActivities::load_campaign,
                campaign,
                db_options("Read the campaign"),
            )
            .await?;
        let slots = plan.settings.concurrency;
        ctx.state_mut(|s| s.plan = Some(plan));
        Self::record_starting_status(ctx).await;
        Self::describe(ctx);

        let feeder = Self::feed(ctx.clone());
        let dialers = temporalio_sdk::workflows::join_all(
            (0..slots).map(|_| Self::dial_from_queue(ctx.clone())),
        );
        temporalio_sdk::workflows::join!(feeder, dialers);

        if ctx.state(|s| s.cancel_requested) {
            Self::set_status(ctx, CampaignStatus::Canceled).await;
            ctx.set_current_details("Canceled: no more calls");
            return Ok(ctx.state(|s| s.totals.clone()));
        }
        if ctx.state(|s| s.continue_next) {
            return Self::continue_in_a_new_run(ctx).await;
        }
        Self::set_status(ctx, CampaignStatus::Completed).await;
        let totals = ctx.state(|s| s.totals.clone());
        ctx.set_current_details(format!(
            "Completed: {} calls placed, every target is done",
            totals.dials
        ));
        Ok(totals)
    }

    /// Stop new dials; live calls finish.
    #[signal]
    pub fn pause(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.paused = true;
    }

    #[signal]
    pub fn resume(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.paused = false;
    }

    /// Stop new dials, let live calls finish, end the campaign.
    #[signal]
    pub fn cancel(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _unit: ()) {
        self.cancel_requested = true;
    }

    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> CampaignProgress {
        CampaignProgress {
            phase: self.phase(),
            run: self.run,
            live: self.live,
            queued: self.queue.len() as u32,
            handled_this_run: self.handled,
            sleeping_until_ms: self.sleeping_until_ms,
            totals: self.totals.clone(),
        }
    }
}

impl CampaignWorkflow {
    /// This run has handled its share: the next run carries on with the totals.
    async fn continue_in_a_new_run(
        ctx: &mut WorkflowContext<Self>,
    ) -> WorkflowResult<CampaignTotals> {
        let handled = ctx.state(|s| s.handled);
        ctx.set_current_details(format!(
            "Handled {handled} targets in this run: continuing in a new run"
        ));
        // Signals that arrived meanwhile are handled before the run closes.
        let handlers = ctx.clone();
        ctx.wait_condition(move |_: &Self| handlers.all_handlers_finished())
            .await?;
        let next = ctx.state(|s| CampaignWorkflowInput {
            tenant_id: s.input.tenant_id,
            campaign_id: s.input.campaign_id,
            carried: Some(CampaignCarry {
                run: s.run + 1,
                paused: s.paused,
                totals: s.totals.clone(),
            }),
        });
        match ctx.continue_as_new(next, ContinueAsNewOptions::default()) {
            Err(termination) => Err(termination),
            Ok(never) => match never {},
        }
    }

    fn campaign(&self) -> CampaignRef {
        CampaignRef {
            tenant_id: self.input.tenant_id,
            campaign_id: self.input.campaign_id,
        }
    }

    fn plan(&self) -> &CampaignPlan {
        #[allow(clippy::expect_used)]
        self.plan
            .as_ref()
            .expect("the plan is read before any slot runs")
    }

    fn phase(&self) -> CampaignPhase {
        if self.plan.is_none() {
            CampaignPhase::Starting
        } else if self.cancel_requested {
            if self.live == 0 && self.feeding_done {
                CampaignPhase::Canceled
            } else {
                CampaignPhase::Canceling
            }
        } else if self.continue_next || self.run_is_full() {
            CampaignPhase::Draining
        } else if self.feeding_done && self.live == 0 && self.queue.is_empty() {
            CampaignPhase::Completed
        } else if self.paused {
            CampaignPhase::Paused
        } else {
            CampaignPhase::Running
        }
    }

    fn run_is_full(&self) -> bool {
        self.plan
            .as_ref()
            .is_some_and(|p| self.handled + self.queue.len() as u32 >= p.settings.targets_per_run)
    }

    /// "Running: 3 live, 40 handled in run 2 (1,240 calls placed)".
    fn describe(ctx: &WorkflowContext<Self>) {
        let text = ctx.state(|s| {
            let phase = match s.phase() {
                CampaignPhase::Starting => "Starting",
                CampaignPhase::Running => "Running",
                CampaignPhase::Paused => "Paused (live calls finish)",
                CampaignPhase::Canceling => "Canceling (live calls finish)",
                CampaignPhase::Draining => "Finishing this run's calls",
                CampaignPhase::Completed => "Completed",
                CampaignPhase::Canceled => "Canceled",
            };
            format!(
                "{phase}: {} live, {} queued, {} handled in run {} ({} calls placed)",
                s.live,
                s.queue.len(),
                s.handled,
                s.run + 1,
                s.totals.dials
            )
        });
        ctx.set_current_details(text);
    }

    /// Records `running` or `paused` as the run starts. A pause or resume that arrives while
    /// it is written (the API has already recorded its own) is written again after it, so the
    /// stored status ends as the switch stands.
    async fn record_starting_status(ctx: &WorkflowContext<Self>) {
        loop {
            let paused = ctx.state(|s| s.paused);
            let status = if paused {
                CampaignStatus::Paused
            } else {
                CampaignStatus::Running
            };
            Self::set_status(ctx, status).await;
            if ctx.state(|s| s.paused) == paused || !ctx.patched(STATUS_FOLLOWS_PAUSE_PATCH) {
                return;
            }
        }
    }

    async fn set_status(ctx: &WorkflowContext<Self>, status: CampaignStatus) {
        let change = CampaignStatusChange {
            campaign: ctx.state(|s| s.campaign()),
            status,
        };
        let _ = ctx
            .execute_activity(
                CampaignActivities::set_campaign_status,
                change,
                db_options("Record the campaign's status"),
            )
            .await;
    }

    /// Keeps the queue stocked with due targets inside their window, until nothing is left,
    /// the campaign is cancelled, or this run has its share.
    async fn feed(ctx: WorkflowContext<Self>) {
        loop {
            ctx.wait_condition(|s: &Self| {
                s.cancel_requested
                    || s.run_is_full()
                    || (!s.paused && s.queue.len() < s.slots() as usize)
            })
            .await
            .ok();
            if ctx.state(|s| s.cancel_requested || s.run_is_full()) {
                break;
            }
            let request = ctx.state(|s| DueTargetsRequest {
                campaign: s.campaign(),
                window: s.plan().settings.window.clone(),
                exclude: s.held.iter().copied().collect(),
                limit: (s.slots() * 2).min(
                    s.plan()
                        .settings
                        .targets_per_run
                        .saturating_sub(s.handled + s.queue.len() as u32),
                ),
            });
            let Ok(due) = ctx
                .execute_activity(
                    CampaignActivities::due_targets,
                    request,
                    db_options("Find the targets due"),
                )
                .await
            else {
                // The database stays unreachable past the retries: look again later.
                let _ = ctx.timer(IDLE_LOOK_AGAIN).await;
                continue;
            };
            let fetched = due.targets.len();
            ctx.state_mut(|s| {
                s.totals.waited_for_window += due.parked;
                for target in due.targets {
                    s.held.insert(target.id);
                    s.queue.push_back(target);
                }
            });
            if fetched > 0 {
                continue;
            }
            let nothing_left = ctx.state(|s| s.live == 0 && s.queue.is_empty());
            if due.remaining == 0 && nothing_left {
                break;
            }
            Self::sleep_until_due(&ctx, due.next_due_ms).await;
        }
        ctx.state_mut(|s| {
            s.feeding_done = true;
            if !s.cancel_requested && s.run_is_full() {
                s.continue_next = true;
            }
        });
        Self::describe(&ctx);
    }

    /// Nothing is due now: sleep until the earliest waiting target is, a live call ends (it
    /// may schedule a retry), or the campaign is cancelled or resumed.
    async fn sleep_until_due(ctx: &WorkflowContext<Self>, next_due_ms: Option<i64>) {
        let now = now_ms(ctx);
        let sleep = next_due_ms
            .map(|due| Duration::from_millis(u64::try_from(due - now).unwrap_or(0)))
            .unwrap_or(IDLE_LOOK_AGAIN)
            .clamp(MIN_SLEEP, IDLE_LOOK_AGAIN);
        ctx.state_mut(|s| s.sleeping_until_ms = Some(now + sleep.as_millis() as i64));
        Self::describe(ctx);
        let ended = ctx.state(|s| s.ended_calls);
        temporalio_sdk::workflows::select! {
            _ = ctx.timer(sleep) => {}
            _ = ctx.wait_condition(move |s: &Self| s.ended_calls != ended || s.cancel_requested) => {}
        };
        ctx.state_mut(|s| s.sleeping_until_ms = None);
    }

    fn slots(&self) -> u32 {
        self.plan.as_ref().map_or(1, |p| p.settings.concurrency)
    }

    /// One slot: dial queued targets one after the other at the campaign's pace.
    async fn dial_from_queue(ctx: WorkflowContext<Self>) {
        loop {
            ctx.wait_condition(|s: &Self| {
                s.cancel_requested
                    || (s.feeding_done && s.queue.is_empty())
                    || (!s.paused && !s.queue.is_empty())
            })
            .await
            .ok();
            if ctx.state(|s| s.cancel_requested || s.queue.is_empty()) {
                if ctx.state(|s| s.cancel_requested || s.feeding_done) {
                    return;
                }
                continue;
            }
            // Keep the pace: reserve the next dial time, wait for it, look again. The timer is
            // started even when the reserved time has come: whether a command is issued must
            // not hang on the workflow's clock, which a replay may read differently (an
            // activation for a query can carry the previous task's time).
            let now = now_ms(&ctx);
            let wait = ctx.state_mut(|s| {
                let at = s.next_dial_ms.max(now);
                s.next_dial_ms = at + s.plan().settings.dial_spacing_ms() as i64;
                at - now
            });
            let _ = ctx.timer(Duration::from_millis(wait.max(1) as u64)).await;
            let Some(target) = ctx.state_mut(|s| {
                if s.paused || s.cancel_requested {
                    return None;
                }
                let target = s.queue.pop_front()?;
                s.live += 1;
                s.handled += 1;
                Some(target)
            }) else {
                continue;
            };
            Self::describe(&ctx);
            Self::attempt(&ctx, &target).await;
            ctx.state_mut(|s| {
                s.live -= 1;
                s.ended_calls += 1;
                s.held.remove(&target.id);
            });
            Self::describe(&ctx);
        }
    }

    /// One dial of `target`: place it (at most once), run the call, conclude.
    async fn attempt(ctx: &WorkflowContext<Self>, target: &DueTarget) {
        let (campaign, plan) = ctx.state(|s| (s.campaign(), s.plan().clone()));
        let attempt = target.attempts + 1;
        let dial = ctx
            .execute_activity(
                CampaignActivities::dial_target,
                DialTarget {
                    campaign,
                    target_id: target.id,
                    attempt,
                    from: plan.from.clone(),
                    ring_timeout_secs: plan.settings.ring_timeout_secs,
                    machine: plan.settings.machine,
                    agent_name: plan.agent_name.clone(),
                },
                crate::options::twilio("Dial the target"),
            )
            .await;
        let (call_sid, call, summary) = match dial {
            Ok(DialResult::Dialed { call_sid, to, call }) => {
                ctx.state_mut(|s| s.totals.dials += 1);
                let summary =
                    Self::run_call(ctx, &plan, &call_sid, to, call.clone(), &target.masked).await;
                (Some(call_sid), Some(call), summary)
            }
            Ok(DialResult::DoNotCall) => {
                ctx.state_mut(|s| s.totals.refused_do_not_call += 1);
                return;
            }
            Ok(DialResult::Gone) => return,
            // Twilio refused past the retries: the attempt failed.
            Err(_) => (None, None, None),
        };
        let conclude = ConcludeAttempt {
            campaign,
            target_id: target.id,
            attempt_id: call.as_ref().map(|c| c.attempt_id),
            attempt,
            call_sid,
            summary,
            retry: plan.settings.retry.clone(),
            customer_id: call.and_then(|c| c.customer_id),
            now_ms: now_ms(ctx),
        };
        if let Ok(concluded) = ctx
            .execute_activity(
                CampaignActivities::conclude_attempt,
                conclude,
                db_options("Conclude the attempt"),
            )
            .await
        {
            ctx.state_mut(|s| s.count(&concluded));
        }
    }

    /// The call as a child `CallWorkflow` (`call-{CallSid}`); its summary, or `None` when it
    /// could not be started.
    async fn run_call(
        ctx: &WorkflowContext<Self>,
        plan: &CampaignPlan,
        call_sid: &CallSid,
        to: domain::E164,
        call: CampaignCall,
        masked: &str,
    ) -> Option<CallSummary> {
        let tenant_id = ctx.state(|s| s.input.tenant_id);
        let attempt_id = call.attempt_id;
        let campaign_id = call.campaign_id;
        let input = CallWorkflowInput {
            call_sid: call_sid.clone(),
            tenant_id,
            agent_id: plan.agent_id,
            agent_name: plan.agent_name.clone(),
            direction: CallDirection::Outbound,
            from: plan.from.clone().into(),
            to,
            max_duration_secs: plan.max_duration_secs,
            followup_sms: None,
            carried: None,
            campaign: Some(call),
            channel: Default::default(),
            tools: None,
        };
        let attributes = SearchAttributes::new([
            sa::TENANT_ID.value_set(tenant_id.to_string()),
            sa::CALL_DIRECTION.value_set(CallDirection::Outbound.as_str().to_owned()),
            sa::AGENT_ID.value_set(plan.agent_id.to_string()),
            sa::CAMPAIGN_ID.value_set(campaign_id.to_string()),
        ]);
        let options = ChildWorkflowOptions::builder()
            .workflow_id(call_sid.workflow_id())
            .static_summary(format!("Campaign {} → {masked}", plan.name))
            .parent_close_policy(ParentClosePolicy::Abandon)
            .search_attributes(attributes)
            .build();
        let started = ctx
            .start_child_workflow(CallWorkflow::run, input, options)
            .await
            .ok()?;
        // Twilio may have said "busy" before the call's workflow existed to hear it.
        let _ = ctx
            .execute_activity(
                CampaignActivities::hand_over_status,
                HandOverStatus {
                    tenant_id,
                    attempt_id,
                    call_sid: call_sid.clone(),
                },
                db_options("Hand Twilio's early status to the call"),
            )
            .await;
        started.result().await.ok()
    }

    fn count(&mut self, concluded: &Concluded) {
        let key = match concluded.state {
            TargetState::Scheduled => "retry_scheduled",
            other => other.as_str(),
        };
        *self.totals.after_attempt.entry(key.to_owned()).or_default() += 1;
        if let Some(class) = &concluded.outcome_class {
            *self.totals.outcomes.entry(class.clone()).or_default() += 1;
        }
    }
}

fn now_ms(ctx: &WorkflowContext<CampaignWorkflow>) -> i64 {
    unix_ms(ctx.workflow_time())
}

/// Database activities: retried with backoff for about a minute.
fn db_options(summary: &str) -> ActivityOptions {
    crate::options::retried(
        summary,
        Duration::from_secs(30),
        Duration::from_millis(200),
        Duration::from_secs(10),
        Some(10),
    )
}
