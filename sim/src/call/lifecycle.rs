//! A call's record through its life: status changes (each one a transcript event), answering,
//! the end (final status, end time, duration), and the status callbacks Twilio sends.

use domain::CallStatus;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::person::Ear;
use crate::state::{
    API_VERSION, CallCommand, CallEventKind, CallRecord, CallSlot, Shared, rfc2822_now,
};
use crate::webhooks::{self, Webhook};

/// Changes the call's record (and its `date_updated`); `None` when there is no such call.
pub(crate) fn update_record(
    shared: &Shared,
    sid: &str,
    f: impl FnOnce(&mut CallRecord),
) -> Option<CallRecord> {
    let record = {
        let mut state = shared.lock();
        let slot = state.call_mut(sid)?;
        f(&mut slot.record);
        slot.record.date_updated = rfc2822_now();
        slot.record.clone()
    };
    shared.bump();
    Some(record)
}

/// Sets the call's status and logs it on the transcript.
pub(crate) fn set_status(shared: &Shared, sid: &str, status: CallStatus) {
    let changed = update_record(shared, sid, |r| r.status = status);
    if changed.is_some() {
        shared.event(sid, CallEventKind::Status { status });
    }
}

pub(crate) fn record_of(shared: &Shared, sid: &str) -> Option<CallRecord> {
    shared.lock().call(sid).map(|c| c.record.clone())
}

/// The voice webhook parameters of a call (as Twilio sends on every TwiML request).
pub(crate) fn voice_params(shared: &Shared, sid: &str) -> Vec<(String, String)> {
    let Some(r) = record_of(shared, sid) else {
        return Vec::new();
    };
    let mut p = vec![
        ("AccountSid".to_owned(), r.account_sid.clone()),
        ("ApiVersion".into(), API_VERSION.into()),
        ("CallSid".into(), r.sid.clone()),
        ("CallStatus".into(), r.status.to_string()),
        ("Called".into(), r.to.clone()),
        ("Caller".into(), r.from.clone()),
        ("Direction".into(), r.direction.clone()),
        ("From".into(), r.from.clone()),
        ("To".into(), r.to.clone()),
    ];
    if let Some(parent) = &r.parent_call_sid {
        p.push(("ParentCallSid".into(), parent.clone()));
    }
    if let Some(by) = &r.answered_by {
        p.push(("AnsweredBy".into(), by.clone()));
    }
    p
}

/// Where a call's status callbacks go.
#[derive(Debug, Clone)]
pub(crate) struct StatusCallbacks {
    pub url: Option<String>,
    pub method: String,
    pub events: Vec<String>,
}

impl StatusCallbacks {
    pub(crate) fn none() -> Self {
        Self {
            url: None,
            method: "POST".into(),
            events: Vec::new(),
        }
    }

    /// Sends the `event` callback (if requested) with the call's current state.
    pub(crate) fn send(&self, shared: &Shared, sid: &str, event: &str, call_status: CallStatus) {
        let Some(url) = &self.url else { return };
        if !self.events.iter().any(|e| e == event) {
            return;
        }
        let Some(seq) = next_callback_seq(shared, sid) else {
            return;
        };
        let mut params: Vec<(String, String)> = voice_params(shared, sid)
            .into_iter()
            .filter(|(k, _)| k != "CallStatus")
            .collect();
        params.push(("CallStatus".into(), call_status.to_string()));
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), seq.to_string()));
        params.push(("Timestamp".into(), rfc2822_now()));
        if event == "completed"
            && let Some(r) = record_of(shared, sid)
        {
            let secs: u64 = r
                .duration
                .as_deref()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            params.push(("CallDuration".into(), secs.to_string()));
            params.push(("Duration".into(), secs.div_ceil(60).to_string()));
        }
        let hook = Webhook::post(url, params, &format!("status-callback:{event}"))
            .with_method(&self.method);
        webhooks::spawn_callback(shared, hook, Some(sid));
    }
}

/// The call's next status callback `SequenceNumber` (from 0).
fn next_callback_seq(shared: &Shared, sid: &str) -> Option<u32> {
    let mut state = shared.lock();
    let slot = state.call_mut(sid)?;
    let seq = slot.callback_seq;
    slot.callback_seq += 1;
    Some(seq)
}

/// Ends a call: final status, end time, duration, `completed` callback. A call already in a
/// final status is left as it is.
pub(crate) fn finish(shared: &Shared, sid: &str, status: CallStatus, callbacks: &StatusCallbacks) {
    let answered_at = shared.lock().call(sid).and_then(|c| c.answered_at);
    let already_final = record_of(shared, sid).is_some_and(|r| r.is_final());
    if already_final {
        return;
    }
    update_record(shared, sid, |r| {
        r.end_time = Some(rfc2822_now());
        r.duration = Some(
            answered_at
                .map(|a| a.elapsed().as_secs())
                .unwrap_or(0)
                .to_string(),
        );
    });
    set_status(shared, sid, status);
    {
        let mut state = shared.lock();
        if let Some(slot) = state.call_mut(sid) {
            slot.commands = None;
        }
    }
    callbacks.send(shared, sid, "completed", status);
}

/// The sim's bookkeeping for a new call.
pub(crate) fn new_slot(
    record: CallRecord,
    commands: Option<mpsc::UnboundedSender<CallCommand>>,
) -> CallSlot {
    CallSlot {
        record,
        events: Vec::new(),
        created: Instant::now(),
        answered_at: None,
        commands,
        callback_seq: 0,
        conference_kick: None,
        heard: None,
    }
}

/// Adds a new call to the sim and logs its first status.
pub(crate) fn add_call(
    shared: &Shared,
    record: CallRecord,
    commands: Option<mpsc::UnboundedSender<CallCommand>>,
) {
    let (sid, status) = (record.sid.clone(), record.status);
    shared.lock().calls.push(new_slot(record, commands));
    shared.event(&sid, CallEventKind::Status { status });
}

/// The call is answered now: `in-progress`, with its start time.
pub(crate) fn mark_answered(shared: &Shared, sid: &str) {
    {
        let mut state = shared.lock();
        if let Some(slot) = state.call_mut(sid) {
            slot.answered_at = Some(Instant::now());
            slot.record.start_time = Some(rfc2822_now());
        }
    }
    set_status(shared, sid, CallStatus::InProgress);
}

/// Keeps the person's ear on the call, for `heard_audio`.
pub(crate) fn set_heard(shared: &Shared, sid: &str, ear: &Ear) {
    if let Some(slot) = shared.lock().call_mut(sid) {
        slot.heard = Some(ear.clone());
    }
}
