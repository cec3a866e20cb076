//! Outbound calls (`POST Calls.json`, conference participants, `<Dial>` legs): ringing the
//! callee's phone and running the answered call.

use std::time::Duration;

use domain::CallStatus;
use tokio::sync::mpsc;

use super::amd;
use super::lifecycle::{StatusCallbacks, add_call, finish, mark_answered, set_heard, set_status};
use super::person::spawn_person;
use super::{CallRun, OutboundRequest, default_script};
use crate::person::{Answer, Ear, PersonScript};
use crate::state::{CallCommand, CallRecord, Shared};

/// Creates the call (status `queued`) and runs it in the background.
pub(crate) fn spawn_outbound(shared: &Shared, req: OutboundRequest) -> CallRecord {
    let mut record = CallRecord::new(
        &shared.settings.account_sid,
        &req.from,
        &req.to,
        &req.direction,
        req.parent_call_sid.as_deref(),
    );
    record.phone_number_sid = shared
        .lock()
        .number_by_phone(&req.from)
        .map(|n| n.sid.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let sid = record.sid.clone();
    add_call(shared, record.clone(), Some(tx));
    tokio::spawn(run_outbound(shared.clone(), sid, req, rx));
    record
}

/// How the callee's phone responds to ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ring {
    Answered,
    Ended(CallStatus),
}

/// How long `answer` rings before `outcome`, given the caller's `timeout`.
fn ring_plan(script: &PersonScript, timeout: Duration) -> (Duration, Ring) {
    match script.answer {
        Answer::Busy => (Duration::from_millis(300), Ring::Ended(CallStatus::Busy)),
        Answer::Fail => (Duration::from_millis(200), Ring::Ended(CallStatus::Failed)),
        Answer::NoAnswer => (timeout, Ring::Ended(CallStatus::NoAnswer)),
        Answer::Human | Answer::Machine { .. } => {
            let after = Duration::from_millis(u64::from(script.answer_after_ms));
            if after >= timeout {
                (timeout, Ring::Ended(CallStatus::NoAnswer))
            } else {
                (after, Ring::Answered)
            }
        }
    }
}

/// Rings `script`'s phone for up to `timeout_secs`, honouring cancel commands.
pub(crate) async fn ring(
    sid: &str,
    script: &PersonScript,
    timeout_secs: u32,
    commands: &mut mpsc::UnboundedReceiver<CallCommand>,
) -> Ring {
    let timeout = Duration::from_secs(u64::from(timeout_secs));
    let (wait, outcome) = ring_plan(script, timeout);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return outcome,
            cmd = commands.recv() => match cmd {
                Some(CallCommand::Hangup(_)) | None => return Ring::Ended(CallStatus::Canceled),
                Some(other) => {
                    // Redirects of ringing calls are refused at the REST layer; keep ringing.
                    tracing::debug!(sid, ?other, "ignoring a redirect of a ringing call");
                }
            },
        }
    }
}

async fn run_outbound(
    shared: Shared,
    sid: String,
    req: OutboundRequest,
    mut commands: mpsc::UnboundedReceiver<CallCommand>,
) {
    let callbacks = StatusCallbacks {
        url: req.status_callback.clone(),
        method: req.status_callback_method.clone(),
        events: req.status_callback_events.clone(),
    };
    let registered = shared.lock().phones.get(&req.to).cloned();
    let script = registered.clone().unwrap_or_else(default_script);
    callbacks.send(&shared, &sid, "initiated", CallStatus::Initiated);
    tokio::time::sleep(Duration::from_millis(50)).await;
    set_status(&shared, &sid, CallStatus::Ringing);
    callbacks.send(&shared, &sid, "ringing", CallStatus::Ringing);
    if let Ring::Ended(status) = ring(&sid, &script, req.timeout_secs, &mut commands).await {
        finish(&shared, &sid, status, &callbacks);
        return;
    }
    mark_answered(&shared, &sid);
    callbacks.send(&shared, &sid, "answered", CallStatus::InProgress);
    let ear = Ear::new();
    set_heard(&shared, &sid, &ear);
    let person = spawn_person(&shared, &sid, &script, ear);
    let mut call = CallRun::new(&shared, &sid, person, commands);
    if let Some(mode) = &req.machine_detection {
        let detection = amd::detect(&script, registered.is_some(), mode);
        if let Some(end) = amd::run(&mut call, &req, detection).await {
            call.end(end, &callbacks).await;
            return;
        }
    }
    let end = call.run_document(req.doc).await;
    call.end(end, &callbacks).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_long_each_phone_rings() {
        let timeout = Duration::from_secs(30);
        let plan = |script: PersonScript| ring_plan(&script, timeout);
        assert_eq!(
            plan(PersonScript::busy()),
            (Duration::from_millis(300), Ring::Ended(CallStatus::Busy))
        );
        assert_eq!(
            plan(PersonScript::fail()),
            (Duration::from_millis(200), Ring::Ended(CallStatus::Failed))
        );
        assert_eq!(
            plan(PersonScript::no_answer()),
            (timeout, Ring::Ended(CallStatus::NoAnswer))
        );
        assert_eq!(
            plan(PersonScript::human().answer_after(2500)),
            (Duration::from_millis(2500), Ring::Answered)
        );
        assert_eq!(
            plan(PersonScript::machine(3000).answer_after(40_000)),
            (timeout, Ring::Ended(CallStatus::NoAnswer)),
            "answering after the timeout is no answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hangup_while_ringing_cancels_and_redirects_are_ignored() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let script = PersonScript::human().answer_after(5000);
        tx.send(CallCommand::Url("http://x/".into(), "POST".into()))
            .unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(ring("CA1", &script, 30, &mut rx).await, Ring::Answered);
        assert_eq!(started.elapsed(), Duration::from_millis(5000));
        tx.send(CallCommand::Hangup(CallStatus::Canceled)).unwrap();
        assert_eq!(
            ring("CA1", &script, 30, &mut rx).await,
            Ring::Ended(CallStatus::Canceled)
        );
    }
}
