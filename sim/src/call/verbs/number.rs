//! `<Dial><Number>`: a child call (`outbound-dial`, `ParentCallSid`) to the registered phone,
//! ringing up to `timeout`; once it answers both people hear each other until one hangs up or
//! `timeLimit` passes.

use std::ops::ControlFlow;
use std::time::Duration;

use domain::CallStatus;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::DialOutcome;
use crate::call::lifecycle::{
    StatusCallbacks, finish, mark_answered, new_slot, record_of, set_heard, set_status,
};
use crate::call::outbound::{Ring, ring};
use crate::call::person::{Person, Utterance, spawn_person};
use crate::call::{CallRun, Input, Step, default_script};
use crate::person::Ear;
use crate::state::{CallEventKind, CallRecord};

/// The leg to dial.
pub(crate) struct Leg<'a> {
    pub number: &'a str,
    pub caller_id: Option<&'a str>,
    pub timeout_secs: u32,
    pub time_limit_secs: u32,
}

/// Rings the number as a child call and bridges the two people.
pub(crate) async fn run(call: &mut CallRun, leg: Leg<'_>) -> Step<DialOutcome> {
    let registered = call.shared.lock().phones.get(leg.number).cloned();
    let script = registered.unwrap_or_else(default_script);
    let child = new_child(call, &leg);
    let (_cancel_tx, mut child_cmds) = mpsc::unbounded_channel();
    let outcome = tokio::select! {
        r = ring(&child, &script, leg.timeout_secs, &mut child_cmds) => r,
        exit = call.wait_hangup_or_command() => {
            finish(&call.shared, &child, CallStatus::Canceled, &StatusCallbacks::none());
            return ControlFlow::Break(exit);
        }
    };
    if let Ring::Ended(status) = outcome {
        finish(&call.shared, &child, status, &StatusCallbacks::none());
        return ControlFlow::Continue(DialOutcome {
            status,
            call_sid: Some(child),
            duration: 0,
            caller_gone: false,
        });
    }
    mark_answered(&call.shared, &child);
    let child_ear = Ear::new();
    set_heard(&call.shared, &child, &child_ear);
    let callee = spawn_person(&call.shared, &child, &script, child_ear);
    call.event(CallEventKind::Bridge {
        event: "connected".into(),
        detail: child.clone(),
    });
    let started = Instant::now();
    let limit = started + Duration::from_secs(u64::from(leg.time_limit_secs));
    let bridged = bridge(call, &child, callee, limit).await;
    let duration = started.elapsed().as_secs();
    finish(
        &call.shared,
        &child,
        CallStatus::Completed,
        &StatusCallbacks::none(),
    );
    call.event(CallEventKind::Bridge {
        event: "disconnected".into(),
        detail: child.clone(),
    });
    let caller_gone = bridged?;
    ControlFlow::Continue(DialOutcome {
        status: CallStatus::Completed,
        call_sid: Some(child),
        duration,
        caller_gone,
    })
}

/// The child call's record, ringing; returns its SID.
fn new_child(call: &CallRun, leg: &Leg<'_>) -> String {
    let parent = record_of(&call.shared, &call.sid);
    let from = leg.caller_id.map(str::to_owned).unwrap_or_else(|| {
        parent
            .as_ref()
            .map(|p| {
                if p.direction == "inbound" {
                    p.to.clone()
                } else {
                    p.from.clone()
                }
            })
            .unwrap_or_default()
    });
    let record = CallRecord::new(
        &call.shared.settings.account_sid,
        &from,
        leg.number,
        "outbound-dial",
        Some(&call.sid),
    );
    let child = record.sid.clone();
    call.shared.lock().calls.push(new_slot(record, None));
    call.event(CallEventKind::Bridge {
        event: "dialing".into(),
        detail: format!("{} ({child})", leg.number),
    });
    set_status(&call.shared, &child, CallStatus::Ringing);
    child
}

/// Both people hear each other until one hangs up, the limit passes or a REST command
/// interrupts. `Continue(caller_gone)`.
async fn bridge(call: &mut CallRun, child: &str, mut callee: Person, limit: Instant) -> Step<bool> {
    loop {
        tokio::select! {
            input = call.wait(Some(limit)) => match input {
                Input::Timeout => return ControlFlow::Continue(false),
                Input::Person(Utterance::HangUp) => return ControlFlow::Continue(true),
                Input::Person(Utterance::Speech { text, audio }) => {
                    callee.ear.hear(&audio);
                    call.shared.event(child, CallEventKind::CallSaid {
                        text: text.unwrap_or_else(|| "(audio)".into()),
                    });
                }
                Input::Person(Utterance::Digit(_)) => {}
                Input::Command(c) => return ControlFlow::Break(call.command_exit(c)),
            },
            u = callee.rx.recv() => match u {
                Some(Utterance::Speech { text, audio }) => {
                    call.person.ear.hear(&audio);
                    call.event(CallEventKind::CallSaid {
                        text: text.unwrap_or_else(|| "(audio)".into()),
                    });
                }
                Some(Utterance::Digit(_)) => {}
                Some(Utterance::HangUp) | None => return ControlFlow::Continue(false),
            },
        }
    }
}
