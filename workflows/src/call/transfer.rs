//! The call's side of a warm transfer and the directory tools.
//!
//! `transfer_call` asks the directory whom to ring (`plan_transfer`). Nobody (no match,
//! outside their hours, away) is an answer the model passes on with an offer of a message. A
//! person to ring makes the agent say "please hold" — the reply ends the stream like a
//! goodbye — and once it has been heard the call runs `TransferWorkflow` as a child. A
//! connected transfer ends the agent's part (outcome `transferred`); any other ending brings
//! the caller back on a new stream, and the conversation gets a note of what happened so the
//! agent offers a message for the person.

use super::{CallWorkflow, conversation_activity_options, tools::Arguments};
use crate::activities::{DirectoryActivities, DirectoryQuery, TransferPlan};
use crate::transfer::TransferWorkflow;
use domain::{
    conversation::{ChatMessage, ChatRole},
    transfer::{TransferInput, TransferOutcome, TransferReason, transfer_result_note},
    workflow_io::CallChannel,
};
use serde_json::{Value, json};
use std::time::Duration;
use temporalio_sdk::{ChildWorkflowOptions, WorkflowContext};

/// How long the "please hold" may take to be heard before the caller is moved anyway.
const HANDOFF_WAIT: Duration = Duration::from_secs(8);
/// How long the person's phone rings.
const RING_TIMEOUT_SECS: u32 = 20;
/// How long the person has to decide once the whisper has been read.
const DECISION_TIMEOUT_SECS: u32 = 10;
/// Transfers one call may attempt.
const MAX_TRANSFERS: u32 = 3;

impl CallWorkflow {
    /// `find_person_or_department` and `check_availability`: the directory's answer as is.
    pub(super) async fn directory_tool(
        ctx: &mut WorkflowContext<Self>,
        availability: bool,
        args: &Arguments,
    ) -> Value {
        let key = if availability { "target" } else { "query" };
        let Some(query) = args.text(key) else {
            return json!({"error": format!("{key} is required")});
        };
        let input = Self::directory_query(ctx, query);
        ctx.set_current_details("Looking up the company directory");
        let answer = if availability {
            ctx.execute_activity(
                DirectoryActivities::check_availability,
                input,
                conversation_activity_options("Check availability"),
            )
            .await
        } else {
            ctx.execute_activity(
                DirectoryActivities::find_in_directory,
                input,
                conversation_activity_options("Search the directory"),
            )
            .await
        };
        answer.unwrap_or_else(|_| json!({"error": "the company directory is unavailable"}))
    }

    /// `transfer_call`: whom to ring, or the model's answer on why nobody.
    pub(super) async fn transfer_tool(ctx: &mut WorkflowContext<Self>, args: &Arguments) -> Value {
        let Some(target) = args.text("target") else {
            return json!({"ok": false, "error": "target is required"});
        };
        if ctx.state(|s| s.input.channel == CallChannel::Browser) {
            return json!({"ok": false, "reason": "not_available", "target": target,
                "say": "I can't transfer a call from the browser to a phone. Would you like to leave a message instead?"});
        }
        if ctx.state(|s| s.transfers >= MAX_TRANSFERS) {
            return json!({"ok": false, "reason": "too_many_transfers", "target": target,
                "say": "I'm sorry, I can't transfer you again on this call. Would you like to leave a message?"});
        }
        let input = Self::directory_query(ctx, target.clone());
        ctx.set_current_details(format!("Finding {target} to transfer to"));
        let plan = ctx
            .execute_activity(
                DirectoryActivities::plan_transfer,
                input,
                conversation_activity_options("Plan the transfer"),
            )
            .await;
        let (target, business_number) = match plan {
            Ok(TransferPlan::Ring {
                target,
                business_number,
            }) => (target, business_number),
            Ok(TransferPlan::Refused(answer)) => return answer,
            Err(_) => {
                return json!({"ok": false, "reason": "failed", "target": target,
                    "error": "the company directory is unavailable"});
            }
        };
        let name = target.name.clone();
        let reason = args.text("reason");
        ctx.state_mut(|s| {
            s.transfers += 1;
            s.goodbye_played = false;
            s.transfer = Some(TransferInput {
                tenant_id: s.input.tenant_id,
                call_sid: s.input.call_sid.clone(),
                n: s.transfers,
                whisper: s.whisper(&target.name, &target.asked_for, reason.as_deref()),
                caller_label: s.caller_label(),
                target,
                business_number,
                ring_timeout_secs: RING_TIMEOUT_SECS,
                decision_timeout_secs: DECISION_TIMEOUT_SECS,
            });
        });
        ctx.set_current_details(format!("Transferring to {name}"));
        json!({"ok": true, "status": "transferring", "target": name,
            "say": format!("Please hold while I connect you to {name}.")})
    }

    /// The transfer phase: once "please hold" has been heard, run the child workflow and act
    /// on how it ended.
    pub(super) async fn serve_transfer(ctx: &WorkflowContext<Self>) {
        temporalio_sdk::workflows::select! {
            _ = ctx.wait_condition(|s: &Self| s.goodbye_played || !s.stream_live() || s.final_status.is_some()) => {}
            _ = ctx.timer(HANDOFF_WAIT) => {}
        };
        let Some(input) = ctx.state(|s| s.transfer.clone()) else {
            return;
        };
        if ctx.state(|s| s.final_status.is_some()) {
            ctx.state_mut(|s| s.transfer = None);
            return;
        }
        let outcome = Self::run_transfer(ctx, &input).await;
        ctx.state_mut(|s| {
            s.transfer = None;
            s.goodbye_played = false;
            s.apply_transfer_outcome(&outcome);
        });
        ctx.set_current_details(match outcome.reason {
            None => format!("Transferred to {}", outcome.target_name),
            Some(reason) => format!(
                "Transfer to {} did not connect ({reason}): back with the agent",
                outcome.target_name
            ),
        });
    }

    /// Runs `transfer-{CallSid}-{n}`; a caller who hangs up meanwhile is passed on to it.
    async fn run_transfer(ctx: &WorkflowContext<Self>, input: &TransferInput) -> TransferOutcome {
        let failed = TransferOutcome {
            reason: Some(TransferReason::Failed),
            target_name: input.target.name.clone(),
            employee_call_sid: None,
            ring_after_ms: None,
            connect_after_ms: None,
        };
        let workflow_id = input.workflow_id();
        let options = ChildWorkflowOptions::builder()
            .workflow_id(workflow_id.clone())
            .static_summary(format!("Warm transfer to {}", input.target.name))
            .build();
        let Ok(started) = ctx
            .start_child_workflow(TransferWorkflow::run, input.clone(), options)
            .await
        else {
            return failed;
        };
        let mut result = std::pin::pin!(started.result());
        let told = temporalio_sdk::workflows::select! {
            r = result.as_mut() => return r.unwrap_or(failed),
            _ = ctx.wait_condition(|s: &Self| s.final_status.is_some()) => true,
        };
        if told {
            let _ = ctx
                .external_workflow(workflow_id, None)
                .signal(TransferWorkflow::caller_gone, (), Default::default())
                .await;
        }
        result.await.unwrap_or(failed)
    }

    fn directory_query(ctx: &WorkflowContext<Self>, query: String) -> DirectoryQuery {
        let now_ms = super::now_ms(ctx);
        ctx.state(|s| DirectoryQuery {
            tenant_id: s.input.tenant_id,
            call_sid: s.input.call_sid.clone(),
            query,
            now_ms,
        })
    }

    /// A connected transfer is the call's outcome; one that did not connect leaves a note the
    /// model (and the rule dialog) read, and the sentence the caller hears on coming back.
    fn apply_transfer_outcome(&mut self, outcome: &TransferOutcome) {
        match outcome.reason {
            None => self.transferred = true,
            Some(reason) => {
                self.memory.push(ChatMessage::system(transfer_result_note(
                    reason,
                    &outcome.target_name,
                )));
                self.memory.push(ChatMessage::assistant(
                    reason.caller_sentence(&outcome.target_name),
                ));
            }
        }
        self.transfer_results.push(
            outcome
                .reason
                .map_or("transferred", TransferReason::as_str)
                .to_owned(),
        );
    }

    /// What the person hears before deciding: who is calling, for what, and the caller's own
    /// words so far.
    fn whisper(&self, name: &str, asked_for: &str, reason: Option<&str>) -> String {
        let about = reason.map(|r| format!(" about {r}")).unwrap_or_default();
        let wanted = if asked_for.is_empty() || asked_for.eq_ignore_ascii_case(name) {
            String::new()
        } else {
            format!(" for {asked_for}")
        };
        let said = match self.caller_words() {
            words if words.is_empty() => String::new(),
            words => format!(" They said: {words}"),
        };
        format!(
            "Hello {name}, this is the receptionist. I have {}{wanted} on the line{about}.{said} \
             Press 1 or say yes to take the call, press 2 or say no to decline, or press 3 to have me take a message.",
            self.caller_label()
        )
    }

    /// The caller's last few utterances: the cascaded conversation's, or the transcript's (a
    /// speech-to-speech model keeps its own conversation).
    fn caller_words(&self) -> String {
        let mut said: Vec<&str> = self
            .memory
            .window
            .iter()
            .filter(|m| m.role == ChatRole::User)
            .filter_map(|m| m.content.as_deref())
            .collect();
        if said.is_empty() {
            said = self
                .transcript
                .iter()
                .filter(|s| s.speaker == domain::Speaker::Caller)
                .map(|s| s.text.as_str())
                .collect();
        }
        let last = &said[said.len().saturating_sub(3)..];
        last.iter()
            .map(|s| s.trim().trim_end_matches(['.', '!', '?']).to_owned() + ".")
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// "a caller from a number ending 0199", or "a caller with a withheld number".
    fn caller_label(&self) -> String {
        match self.input.from.number() {
            Some(n) => {
                let digits = n.as_str();
                let last = &digits[digits.len().saturating_sub(4)..];
                let spaced: Vec<String> = last.chars().map(String::from).collect();
                format!("a caller from a number ending {}", spaced.join(" "))
            }
            None => "a caller with a withheld number".to_owned(),
        }
    }
}
