//! Inbound calls: a simulated person calls one of the sim's numbers, whose `VoiceUrl` gets
//! the call (`CallStatus=ringing`) and whose `StatusCallback` gets the `completed` callback.

use domain::CallStatus;
use tokio::sync::mpsc;

use super::lifecycle::{StatusCallbacks, add_call, set_heard};
use super::person::spawn_person;
use super::{CallRun, DocSource};
use crate::SimError;
use crate::person::{Ear, PersonScript};
use crate::state::{CallRecord, Shared};

/// Places an inbound call from `from` to the sim's number `to`; returns its SID.
pub(crate) fn place_inbound(
    shared: &Shared,
    from: &str,
    to: &str,
    script: PersonScript,
) -> Result<String, SimError> {
    let number = shared
        .lock()
        .number_by_phone(to)
        .cloned()
        .ok_or_else(|| SimError::UnknownNumber(to.to_owned()))?;
    let voice_url = number
        .voice_url
        .clone()
        .ok_or_else(|| SimError::UnknownNumber(format!("{to} has no VoiceUrl")))?;
    let mut record = CallRecord::new(&shared.settings.account_sid, from, to, "inbound", None);
    record.phone_number_sid = Some(number.sid.clone());
    record.status = CallStatus::Ringing;
    let sid = record.sid.clone();
    let (tx, rx) = mpsc::unbounded_channel();
    add_call(shared, record, Some(tx));
    let callbacks = StatusCallbacks {
        url: number.status_callback.clone(),
        method: number.status_callback_method.clone(),
        events: vec!["completed".into()],
    };
    let doc = DocSource::url(&voice_url, &number.voice_method);
    let (shared, call_sid) = (shared.clone(), sid.clone());
    tokio::spawn(async move {
        let ear = Ear::new();
        set_heard(&shared, &call_sid, &ear);
        let person = spawn_person(&shared, &call_sid, &script, ear);
        let mut call = CallRun::new(&shared, &call_sid, person, rx);
        let end = call.run_document(doc).await;
        call.end(end, &callbacks).await;
    });
    Ok(sid)
}
