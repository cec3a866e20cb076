//! Activities of `CampaignWorkflow`, and the campaign tools its calls run.
//!
//! The one that must never repeat itself is [`CampaignActivitiesImpl::dial_target`]: before
//! asking Twilio for a call it makes sure the attempt has a row; Twilio's `initiated` callback
//! (our API) writes the new call's SID into that row, and so does the dial when Twilio answers.
//! A retried dial — after a request that timed out having taken effect, or a worker that died
//! between the request and its answer — finds the SID there and adopts that call.

use crate::call::{store_failure, twilio_failure};
use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use dialog::campaign::{CampaignScript, LocalDateTime, Recipient};
use domain::{
    CallOutcome, CallSid, CallStatus, TenantId,
    campaign::{
        AttemptOutcome, CampaignSettings, MachinePolicy, NextStep, analyse_call,
        analysis::OutcomeClass,
    },
    conversation::ToolName,
    crm::TargetState,
    directory::schedule::resolve_local,
    workflow_io::{CallStatusChanged, CampaignCall},
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use store::{
    Store, StoreError,
    crm::{
        campaigns::Campaigns,
        engine::AttemptScript,
        scripts::Scripts,
        targets::{CampaignTarget, TargetProgress},
    },
    post_call::CallBooking,
};
use telephony::{
    PublicUrl, TwilioClient,
    rest::{CallInstructions, CreateCall},
    routes::{CAMPAIGN_ANSWER_PATH, CAMPAIGN_STATUS_PATH, campaign_webhook},
};
use temporalio_client::{Client, WorkflowSignalOptions, errors::WorkflowInteractionError};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::{
    CallWorkflow,
    activities::{
        CampaignPlan, CampaignRef, CampaignStatusChange, CampaignToolRequest, ConcludeAttempt,
        Concluded, DialResult, DialTarget, DueTarget, DueTargets, DueTargetsRequest,
        HandOverStatus, ScheduleTargets, campaign as defs,
    },
};

/// How long a retried dial waits for the `initiated` callback of a call an earlier try may
/// have placed.
const DIAL_WITNESS_WAIT: Duration = Duration::from_secs(3);
/// Slots offered to a recipient: the next days (not Sundays) at these local times.
const SLOT_TIMES: [(u32, u32); 2] = [(10, 0), (14, 30)];
const SLOT_DAYS: usize = 3;

#[derive(Debug)]
pub struct CampaignActivitiesImpl {
    store: Store,
    twilio: TwilioClient,
    public: PublicUrl,
    temporal: Client,
}

impl CampaignActivitiesImpl {
    pub fn new(store: Store, twilio: TwilioClient, public: PublicUrl, temporal: Client) -> Self {
        Self {
            store,
            twilio,
            public,
            temporal,
        }
    }

    /// The call SID an earlier try of this attempt placed, waiting briefly for Twilio's
    /// `initiated` callback to land.
    async fn placed_before(
        &self,
        tenant: TenantId,
        attempt: uuid::Uuid,
    ) -> Result<Option<String>, ActivityError> {
        let deadline = tokio::time::Instant::now() + DIAL_WITNESS_WAIT;
        loop {
            let row = self
                .store
                .attempt(tenant, attempt)
                .await
                .map_err(store_failure)?;
            if row.call_sid.is_some() || tokio::time::Instant::now() >= deadline {
                return Ok(row.call_sid);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The script of this dial: the campaign's script filled in for the recipient, now.
    async fn script_for(
        &self,
        campaign: &CampaignRef,
        target: &CampaignTarget,
        agent_name: &str,
        machine: MachinePolicy,
    ) -> Result<(CampaignScript, AttemptScript), ActivityError> {
        let tenant = campaign.tenant_id;
        let row = self
            .store
            .resource::<Campaigns>(tenant, campaign.campaign_id)
            .await
            .map_err(store_failure)?;
        let script = match row.stored.fields.script_id {
            Some(id) => Some(
                self.store
                    .resource::<Scripts>(tenant, id)
                    .await
                    .map_err(store_failure)?
                    .fields,
            ),
            None => None,
        };
        let zone: Tz = target
            .target
            .time_zone
            .unwrap_or(chrono_tz::America::New_York);
        let now_local = Utc::now().with_timezone(&zone).naive_local();
        let mut fields = std::collections::BTreeMap::new();
        if let Value::Object(extra) = &target.target.extra {
            for (key, value) in extra {
                if let Some(text) = value.as_str().filter(|t| !t.trim().is_empty()) {
                    fields.insert(key.clone(), text.to_owned());
                }
            }
        }
        let vehicle = fields.remove("vehicle");
        let name = target.target.name.clone().unwrap_or_default();
        let script = CampaignScript {
            goal: script
                .as_ref()
                .and_then(|s| s.goal.clone())
                .unwrap_or_else(|| "Offer the recipient an appointment.".into()),
            opening: script
                .as_ref()
                .and_then(|s| s.opening.clone())
                .unwrap_or_else(|| format!("Hello, this is {agent_name}.")),
            questions: script
                .as_ref()
                .map(|s| s.questions.clone())
                .unwrap_or_default(),
            collect: script
                .as_ref()
                .map(|s| s.collect.iter().map(|c| c.key.clone()).collect())
                .unwrap_or_default(),
            voicemail_message: script
                .as_ref()
                .and_then(|s| s.voicemail_message.clone())
                .unwrap_or_default(),
            offer_slots: offer_slots(now_local.date()),
            recipient: Recipient {
                name: if name.trim().is_empty() {
                    "there".into()
                } else {
                    name
                },
                vehicle,
                time_zone: zone.name().to_owned(),
                fields,
            },
            now_local: LocalDateTime(now_local),
        };
        let instruction_line = script
            .to_instruction_line()
            .map_err(|e| ApplicationFailure::non_retryable(e))?;
        let attempt = AttemptScript {
            instruction_line,
            opening: script.opening_line(),
            voicemail: match machine {
                MachinePolicy::Voicemail => Some(script.voicemail_line()),
                MachinePolicy::HangUp => None,
            },
        };
        Ok((script, attempt))
    }
}

/// The next `SLOT_DAYS` days after `today` (Sundays skipped) at each of `SLOT_TIMES`.
fn offer_slots(today: NaiveDate) -> Vec<LocalDateTime> {
    (1..)
        .map(|d| today + Days::days(d))
        .filter(|day| day.weekday() != Weekday::Sun)
        .take(SLOT_DAYS)
        .flat_map(|day| {
            SLOT_TIMES.iter().filter_map(move |&(h, m)| {
                NaiveTime::from_hms_opt(h, m, 0).map(|t| LocalDateTime(day.and_time(t)))
            })
        })
        .collect()
}

/// What Twilio's final status (and the call's outcome) make of the attempt.
fn attempt_outcome(status: Option<CallStatus>, outcome: Option<CallOutcome>) -> AttemptOutcome {
    if outcome == Some(CallOutcome::Voicemail) {
        return AttemptOutcome::Voicemail;
    }
    match status {
        Some(CallStatus::Busy) => AttemptOutcome::Busy,
        Some(CallStatus::NoAnswer | CallStatus::Canceled) => AttemptOutcome::NoAnswer,
        Some(CallStatus::Completed | CallStatus::InProgress) => AttemptOutcome::Completed,
        _ => AttemptOutcome::Failed,
    }
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_else(Utc::now)
}

#[activities]
impl CampaignActivitiesImpl {
    #[activity(definition = defs::LoadCampaign)]
    pub async fn load_campaign(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignRef,
    ) -> Result<CampaignPlan, ActivityError> {
        let tenant = input.tenant_id;
        let campaign = self
            .store
            .resource::<Campaigns>(tenant, input.campaign_id)
            .await
            .map_err(store_failure)?;
        let fields = campaign.stored.fields;
        let settings = CampaignSettings::from_json(&fields.settings)
            .map_err(ApplicationFailure::non_retryable)?;
        let agent_id = fields
            .agent_id
            .map(domain::AgentId::from)
            .ok_or_else(|| ApplicationFailure::non_retryable(NoAgent))?;
        let agent = self
            .store
            .agent(tenant, agent_id)
            .await
            .map_err(store_failure)?;
        let from = match settings.from_number.clone() {
            Some(from) => from,
            None => self
                .store
                .agent_number(tenant, agent_id)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| ApplicationFailure::non_retryable(NoNumber))?,
        };
        Ok(CampaignPlan {
            name: fields.name,
            agent_id,
            agent_name: agent.name,
            max_duration_secs: agent.max_call_duration_secs,
            from,
            settings,
        })
    }

    #[activity(definition = defs::SetCampaignStatus)]
    pub async fn set_campaign_status(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignStatusChange,
    ) -> Result<(), ActivityError> {
        let c = input.campaign;
        if input.status == domain::crm::CampaignStatus::Canceled {
            let closed = self
                .store
                .close_open_targets(c.tenant_id, c.campaign_id, TargetState::Canceled)
                .await
                .map_err(store_failure)?;
            tracing::info!(campaign = %c.campaign_id, closed, "campaign canceled");
        }
        self.store
            .set_campaign_status(c.tenant_id, c.campaign_id, input.status)
            .await
            .map_err(store_failure)
    }

    #[activity(definition = defs::DueTargets)]
    pub async fn due_targets(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DueTargetsRequest,
    ) -> Result<DueTargets, ActivityError> {
        let c = input.campaign;
        let targets = if input.limit == 0 {
            Vec::new()
        } else {
            self.store
                .due_targets(
                    c.tenant_id,
                    c.campaign_id,
                    at_ms(input.now_ms),
                    &input.exclude,
                    u64::from(input.limit),
                )
                .await
                .map_err(store_failure)?
        };
        let (next, remaining) = self
            .store
            .campaign_outlook(c.tenant_id, c.campaign_id)
            .await
            .map_err(store_failure)?;
        Ok(DueTargets {
            targets: targets
                .into_iter()
                .map(|t| DueTarget {
                    id: t.id,
                    time_zone: t
                        .target
                        .time_zone
                        .map_or_else(|| "America/New_York".to_owned(), |z| z.name().to_owned()),
                    attempts: u32::try_from(t.attempts).unwrap_or(0),
                    masked: t.target.phone.masked(),
                })
                .collect(),
            next_due_ms: next.map(|n| n.timestamp_millis()),
            remaining,
        })
    }

    #[activity(definition = defs::ScheduleTargets)]
    pub async fn schedule_targets(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ScheduleTargets,
    ) -> Result<(), ActivityError> {
        let (state, at) = match input.at_ms {
            Some(ms) => (TargetState::Scheduled, Some(at_ms(ms))),
            None => (TargetState::Skipped, None),
        };
        self.store
            .set_targets_state(input.tenant_id, &input.ids, state, at)
            .await
            .map_err(store_failure)
    }

    #[activity(definition = defs::DialTarget)]
    pub async fn dial_target(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: DialTarget,
    ) -> Result<DialResult, ActivityError> {
        let tenant = input.campaign.tenant_id;
        let Some(target) = self
            .store
            .campaign_target(tenant, input.target_id)
            .await
            .map_err(store_failure)?
        else {
            return Ok(DialResult::Gone);
        };
        if target.state.is_final() {
            return Ok(DialResult::Gone);
        }
        let to = target.target.phone.clone();
        // A number put on the list since the upload is never called.
        if self.store.is_dnc(tenant, &to).await.map_err(store_failure)? {
            self.store
                .set_targets_state(tenant, &[target.id], TargetState::DoNotCall, None)
                .await
                .map_err(store_failure)?;
            tracing::info!(target = %target.id, "on the do-not-call list at dial time: not called");
            return Ok(DialResult::DoNotCall);
        }
        let (script, attempt_script) = self
            .script_for(&input.campaign, &target, &input.agent_name, input.machine)
            .await?;
        let attempt = self
            .store
            .begin_attempt(
                tenant,
                input.campaign.campaign_id,
                target.id,
                i32::try_from(input.attempt).unwrap_or(i32::MAX),
                attempt_script,
            )
            .await
            .map_err(store_failure)?;
        let call = |call_sid: &str| -> Result<DialResult, ActivityError> {
            Ok(DialResult::Dialed {
                call_sid: CallSid::parse(call_sid).map_err(|_| {
                    ApplicationFailure::non_retryable(StoreError::Corrupt(
                        "campaign_attempts.call_sid".into(),
                    ))
                })?,
                to: to.clone(),
                call: CampaignCall {
                    campaign_id: input.campaign.campaign_id,
                    target_id: target.id,
                    attempt_id: attempt.id,
                    attempt: input.attempt,
                    instruction_line: attempt.instruction_line.clone(),
                    opening: attempt.opening.clone(),
                    customer_id: target.target.customer_id,
                    time_zone: script.recipient.time_zone.clone(),
                },
            })
        };
        let earlier = match (&attempt.call_sid, ctx.info().attempt > 1) {
            (Some(sid), _) => Some(sid.clone()),
            (None, true) => self.placed_before(tenant, attempt.id).await?,
            (None, false) => None,
        };
        if let Some(sid) = earlier {
            tracing::info!(target = %target.id, attempt = input.attempt, "adopting the call an earlier try placed");
            return call(&sid);
        }
        self.store
            .set_targets_state(tenant, &[target.id], TargetState::Dialing, None)
            .await
            .map_err(store_failure)?;
        let request = CreateCall {
            to: to.as_str().to_owned(),
            from: input.from.as_str().to_owned(),
            instructions: CallInstructions::Url(campaign_webhook(
                &self.public,
                CAMPAIGN_ANSWER_PATH,
                attempt.id,
                tenant,
            )),
            status_callback: Some(campaign_webhook(
                &self.public,
                CAMPAIGN_STATUS_PATH,
                attempt.id,
                tenant,
            )),
            status_callback_events: ["initiated", "ringing", "answered", "completed"]
                .map(String::from)
                .to_vec(),
            machine_detection: Some("Enable".into()),
            timeout_secs: Some(input.ring_timeout_secs),
        };
        let placed = self
            .twilio
            .create_call(&request)
            .await
            .map_err(twilio_failure)?;
        self.store
            .witness_attempt(tenant, attempt.id, &placed.sid, None)
            .await
            .map_err(store_failure)?;
        tracing::info!(target = %target.id, attempt = input.attempt, to = %to.masked(), "campaign call placed");
        call(&placed.sid)
    }

    #[activity(definition = defs::HandOverStatus)]
    pub async fn hand_over_status(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: HandOverStatus,
    ) -> Result<(), ActivityError> {
        let attempt = self
            .store
            .attempt(input.tenant_id, input.attempt_id)
            .await
            .map_err(store_failure)?;
        let Some(status) = attempt
            .status
            .as_deref()
            .and_then(CallStatus::parse)
            .filter(|s| s.is_final())
        else {
            return Ok(());
        };
        let handle = self
            .temporal
            .get_workflow_handle::<CallWorkflow>(input.call_sid.workflow_id());
        let update = CallStatusChanged {
            status,
            duration_secs: None,
        };
        match handle
            .signal(
                CallWorkflow::call_status_changed,
                update,
                WorkflowSignalOptions::default(),
            )
            .await
        {
            Ok(()) | Err(WorkflowInteractionError::NotFound(_)) => Ok(()),
            Err(err) => Err(ApplicationFailure::new(err).into()),
        }
    }

    #[activity(definition = defs::ConcludeAttempt)]
    pub async fn conclude_attempt(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ConcludeAttempt,
    ) -> Result<Concluded, ActivityError> {
        let tenant = input.campaign.tenant_id;
        let Some(target) = self
            .store
            .campaign_target(tenant, input.target_id)
            .await
            .map_err(store_failure)?
        else {
            return Ok(Concluded {
                state: TargetState::Skipped,
                next_attempt_ms: None,
                outcome_class: None,
            });
        };
        let attempt = match input.attempt_id {
            Some(id) => Some(self.store.attempt(tenant, id).await.map_err(store_failure)?),
            None => None,
        };
        let twilio_status = input.summary.as_ref().map(|s| s.final_status).or_else(|| {
            attempt
                .as_ref()
                .and_then(|a| a.status.as_deref())
                .and_then(CallStatus::parse)
        });
        let outcome = attempt_outcome(twilio_status, input.summary.as_ref().map(|s| s.outcome));
        let now = at_ms(input.now_ms);
        let zone: Tz = target
            .target
            .time_zone
            .unwrap_or(chrono_tz::America::New_York);
        let mut outcome_class = None;
        if let Some(sid) = &input.call_sid
            && let Some(call) = self
                .store
                .call_by_sid(tenant, sid)
                .await
                .map_err(store_failure)?
        {
            let transcript = self
                .store
                .transcript(tenant, call.id)
                .await
                .map_err(store_failure)?;
            let analysis = analyse_call(&transcript, outcome, zone, now);
            outcome_class = Some(analysis.outcome.as_str().to_owned());
            self.store
                .record_analysis(
                    tenant,
                    call.id,
                    &analysis,
                    Some(input.campaign.campaign_id),
                    input.customer_id,
                )
                .await
                .map_err(store_failure)?;
        }
        let listed = self
            .store
            .is_dnc(tenant, &target.target.phone)
            .await
            .map_err(store_failure)?;
        let callback = attempt
            .as_ref()
            .and_then(|a| a.callback_at)
            .filter(|at| *at > now);
        let step = if listed || outcome_class.as_deref() == Some(OutcomeClass::DoNotCall.as_str()) {
            NextStep::Final(TargetState::DoNotCall)
        } else if let Some(at) = callback {
            NextStep::RetryAt(at)
        } else {
            input.retry.after_attempt(outcome, input.attempt, now)
        };
        let (state, next) = match step {
            NextStep::RetryAt(at) => (TargetState::Scheduled, Some(at)),
            NextStep::Final(state) => (state, None),
        };
        self.store
            .update_target(
                tenant,
                target.id,
                TargetProgress {
                    state,
                    attempts: i32::try_from(input.attempt).unwrap_or(i32::MAX),
                    last_call_sid: input.call_sid.clone(),
                    last_outcome: input.summary.as_ref().map(|s| s.outcome),
                    next_attempt_at: next,
                },
            )
            .await
            .map_err(store_failure)?;
        Ok(Concluded {
            state,
            next_attempt_ms: next.map(|n| n.timestamp_millis()),
            outcome_class,
        })
    }

    #[activity(definition = defs::CampaignTool)]
    pub async fn campaign_tool(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CampaignToolRequest,
    ) -> Result<Value, ActivityError> {
        let tenant = input.tenant_id;
        let args: Value = serde_json::from_str(&input.arguments).unwrap_or(Value::Null);
        let text = |key: &str| {
            args.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let Some(target) = self
            .store
            .campaign_target(tenant, input.campaign.target_id)
            .await
            .map_err(store_failure)?
        else {
            return Ok(json!({"ok": false, "reason": "the person called is no longer on the list"}));
        };
        let zone: Tz = text("time_zone")
            .and_then(|z| z.parse().ok())
            .or(target.target.time_zone)
            .unwrap_or(chrono_tz::America::New_York);
        match input.tool {
            ToolName::DoNotCall => {
                self.store
                    .do_not_call_from_call(tenant, &target.target.phone, &input.call_sid)
                    .await
                    .map_err(store_failure)?;
                Ok(json!({"ok": true, "next": "Apologise briefly, confirm they will not be called again, and end the call."}))
            }
            ToolName::BookAppointment => {
                let Some(local) = text("starts_at_local").and_then(|t| LocalDateTime::parse(&t).ok())
                else {
                    return Ok(json!({"ok": false, "error": "starts_at_local must be YYYY-MM-DDTHH:MM"}));
                };
                let starts_at = resolve_local(zone, local.0.date(), local.0.time());
                if starts_at <= at_ms(input.now_ms) {
                    return Ok(json!({"ok": false, "error": "that time has passed; offer a later one"}));
                }
                let id = self
                    .store
                    .book_during_call(
                        tenant,
                        CallBooking {
                            call_sid: input.call_sid.clone(),
                            campaign_id: input.campaign.campaign_id,
                            customer_id: input.campaign.customer_id,
                            name: target.target.name.clone().unwrap_or_else(|| "Unknown".into()),
                            phone: target.target.phone.clone(),
                            starts_at,
                            time_zone: zone.name().to_owned(),
                            notes: text("notes"),
                        },
                    )
                    .await
                    .map_err(store_failure)?;
                Ok(json!({"ok": true, "appointment_id": id, "starts_at_local": local.to_string(), "time_zone": zone.name()}))
            }
            ToolName::RequestCallback => {
                let when = text("when_local").and_then(|t| {
                    LocalDateTime::parse(&t).ok().map(|l| l.0).or_else(|| {
                        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(10, 0, 0))
                    })
                });
                let at = when.map(|w| resolve_local(zone, w.date(), w.time()));
                if let Some(at) = at.filter(|at| *at > at_ms(input.now_ms)) {
                    self.store
                        .set_attempt_callback(tenant, input.campaign.attempt_id, at)
                        .await
                        .map_err(store_failure)?;
                    return Ok(json!({"ok": true, "callback_at_local": when.map(|w| w.format("%Y-%m-%dT%H:%M").to_string())}));
                }
                Ok(json!({"ok": true, "note": "No time given: the campaign calls back under its retry policy."}))
            }
            other => Ok(json!({"ok": false, "error": format!("{} is not a campaign tool", other.as_str())})),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the campaign has no agent")]
struct NoAgent;

#[derive(Debug, thiserror::Error)]
#[error("the campaign has no from_number and its agent has no phone number")]
struct NoNumber;
