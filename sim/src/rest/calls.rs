//! `Calls.json`, `Calls/{Sid}.json` and `Recordings/{Sid}.wav`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse as _;

use domain::CallStatus;

use super::{
    ApiError, ApiResult, Form, Query, Resource, created, list_page, method_param, to_param,
    valid_address, valid_url,
};
use crate::call::{self, DocSource, OutboundRequest};
use crate::state::{CallCommand, Shared};

/// `POST Calls.json`: place an outbound call.
pub(crate) async fn create(State(shared): State<Shared>, body: Bytes) -> ApiResult {
    let form = Form::parse(&body)?;
    let (to, from) = parties(&form)?;
    let request = OutboundRequest {
        to: to.to_owned(),
        from: from.to_owned(),
        doc: document(&form)?,
        status_callback: form.status_callback()?,
        status_callback_method: method_param(&form, "StatusCallbackMethod")?,
        status_callback_events: status_callback_events(&form)?,
        machine_detection: machine_detection(&form)?,
        async_amd: form.bool("AsyncAmd")?.unwrap_or(false),
        async_amd_callback: form.get("AsyncAmdStatusCallback").map(str::to_owned),
        async_amd_callback_method: method_param(&form, "AsyncAmdStatusCallbackMethod")?,
        timeout_secs: timeout_secs(&form)?,
        parent_call_sid: None,
        direction: "outbound-api".into(),
    };
    let record = call::spawn_outbound(&shared, request);
    Ok(created(&record))
}

/// `To` and `From`, both required and valid.
fn parties(form: &Form) -> Result<(&str, &str), ApiError> {
    let to = to_param(form, ApiError::bad(21201, "No 'To' number is specified"))?;
    let from = form
        .get("From")
        .ok_or_else(|| ApiError::bad(21213, "No 'From' number is specified"))?;
    if !valid_address(from) {
        return Err(ApiError::bad(
            21212,
            format!("Invalid 'From' Phone Number: {from}"),
        ));
    }
    Ok((to, from))
}

/// The call's TwiML: `Twiml`, or `Url` (+`Method`).
fn document(form: &Form) -> Result<DocSource, ApiError> {
    let method = method_param(form, "Method")?;
    match (form.get("Twiml"), form.get("Url")) {
        (Some(twiml), _) => Ok(DocSource::Twiml(twiml.to_owned())),
        (None, Some(url)) if valid_url(url) => Ok(DocSource::Url {
            url: url.to_owned(),
            method,
            extra: Vec::new(),
        }),
        (None, Some(url)) => Err(ApiError::bad(
            21205,
            format!("Url is not a valid URL: {url}"),
        )),
        (None, None) => Err(ApiError::bad(
            21205,
            "Either Url, Twiml or ApplicationSid is required",
        )),
    }
}

/// `StatusCallbackEvent`s (default `completed`). Twilio accepts the parameter repeated, and
/// SDKs sometimes send it space-separated.
fn status_callback_events(form: &Form) -> Result<Vec<String>, ApiError> {
    let mut events: Vec<String> = form.list("StatusCallbackEvent", &[' ', ',']);
    if let Some(e) = events.iter().find(|e| {
        !matches!(
            e.as_str(),
            "initiated" | "ringing" | "answered" | "completed"
        )
    }) {
        return Err(ApiError::bad(
            21626,
            format!("Invalid StatusCallbackEvent: {e}"),
        ));
    }
    if events.is_empty() {
        events.push("completed".into());
    }
    Ok(events)
}

fn machine_detection(form: &Form) -> Result<Option<String>, ApiError> {
    match form.get("MachineDetection") {
        None => Ok(None),
        Some(v @ ("Enable" | "DetectMessageEnd")) => Ok(Some(v.to_owned())),
        Some(v) => Err(ApiError::bad(
            21626,
            format!("Invalid MachineDetection value: {v}"),
        )),
    }
}

/// `Timeout` (ring time): default 60, kept within 5–600.
fn timeout_secs(form: &Form) -> Result<u32, ApiError> {
    match form.get("Timeout") {
        None => Ok(60),
        Some(v) => Ok(v
            .parse::<u32>()
            .map_err(|_| ApiError::bad(21626, format!("Invalid Timeout: {v}")))?
            .clamp(5, 600)),
    }
}

/// `GET Calls.json` with `To`, `From`, `Status`, `ParentCallSid` filters, newest first.
pub(crate) async fn list(State(shared): State<Shared>, uri: Uri) -> ApiResult {
    let query = Query::parse(uri.query());
    let (to, from, status, parent) = (
        query.get("To"),
        query.get("From"),
        query.get("Status"),
        query.get("ParentCallSid"),
    );
    let calls: Vec<_> = shared
        .lock()
        .calls
        .iter()
        .rev()
        .map(|c| c.record.clone())
        .filter(|c| to.as_ref().is_none_or(|t| &c.to == t))
        .filter(|c| from.as_ref().is_none_or(|f| &c.from == f))
        .filter(|c| status.as_ref().is_none_or(|s| c.status.as_str() == s))
        .filter(|c| {
            parent
                .as_ref()
                .is_none_or(|p| c.parent_call_sid.as_ref() == Some(p))
        })
        .collect();
    list_page(&shared, "calls", "Calls", &query, calls)
}

pub(crate) async fn fetch(State(shared): State<Shared>, call: Resource) -> ApiResult {
    call.found(shared.lock().call(&call.sid).map(|c| &c.record))
}

/// `POST Calls/{Sid}.json`: `Twiml` / `Url` (+`Method`) redirect a live call,
/// `Status=completed` hangs it up, `Status=canceled` cancels it if it has not been answered.
pub(crate) async fn update(State(shared): State<Shared>, call: Resource, body: Bytes) -> ApiResult {
    let sid = call.sid.as_str();
    let form = Form::parse(&body)?;
    let (status, commands) = {
        let state = shared.lock();
        let slot = state.call(sid).ok_or_else(|| call.not_found())?;
        (slot.record.status, slot.commands.clone())
    };
    if let Some(command) = update_command(&form, status)? {
        let redirect = !matches!(command, CallCommand::Hangup(_));
        if redirect && status != CallStatus::InProgress {
            return Err(not_in_progress());
        }
        match commands {
            Some(tx) if !status.is_final() => {
                let _ = tx.send(command);
                // Let the call apply a hangup before we answer, as Twilio's answer shows the
                // new status.
                if !redirect {
                    shared
                        .wait_until(std::time::Duration::from_secs(2), |s| {
                            s.call(sid).filter(|c| c.record.is_final()).map(|_| ())
                        })
                        .await;
                }
            }
            _ if redirect => return Err(not_in_progress()),
            _ => {}
        }
    }
    call.found(shared.lock().call(sid).map(|c| &c.record))
}

fn not_in_progress() -> ApiError {
    ApiError::bad(21220, "Call is not in-progress. Cannot redirect.")
}

/// What an update asks of a call in `status`: `Status=completed|canceled` hangs up (`canceled`
/// only a call that is not yet answered), `Twiml` / `Url` redirect; `None` for nothing.
fn update_command(form: &Form, status: CallStatus) -> Result<Option<CallCommand>, ApiError> {
    if let Some(s) = form.get("Status") {
        return match CallStatus::parse(s) {
            Some(CallStatus::Completed) => Ok(Some(CallCommand::Hangup(CallStatus::Completed))),
            // Twilio: `canceled` only affects calls that are queued or ringing.
            Some(CallStatus::Canceled) if status == CallStatus::InProgress => Ok(None),
            Some(CallStatus::Canceled) => Ok(Some(CallCommand::Hangup(CallStatus::Canceled))),
            _ => Err(ApiError::bad(
                21626,
                format!("Invalid Status: {s}; use completed or canceled"),
            )),
        };
    }
    if let Some(twiml) = form.get("Twiml") {
        return Ok(Some(CallCommand::Twiml(twiml.to_owned())));
    }
    let Some(url) = form.get("Url") else {
        return Ok(None);
    };
    if !valid_url(url) {
        return Err(ApiError::bad(
            21205,
            format!("Url is not a valid URL: {url}"),
        ));
    }
    Ok(Some(CallCommand::Url(
        url.to_owned(),
        method_param(form, "Method")?,
    )))
}

/// `GET Recordings/{Sid}.wav` (or `.json`-less / `.mp3`-less): the recording as μ-law WAV.
pub(crate) async fn recording(
    State(shared): State<Shared>,
    Path((_, segment)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let sid = segment
        .split('.')
        .next()
        .ok_or_else(|| ApiError::not_found(uri.path()))?;
    let audio = shared
        .lock()
        .recordings
        .get(sid)
        .cloned()
        .ok_or_else(|| ApiError::not_found(uri.path()))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "audio/x-wav")],
        mulaw_wav(&audio),
    )
        .into_response())
}

/// A WAV file (format 7, μ-law, 8 kHz mono) around `audio`.
pub(crate) fn mulaw_wav(audio: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(audio.len() + 58);
    let data_len = audio.len() as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(50 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes()); // μ-law
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // extension size
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(audio);
    out
}
