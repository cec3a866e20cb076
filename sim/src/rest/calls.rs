//! `Calls.json`, `Calls/{Sid}.json` and `Recordings/{Sid}.wav`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse as _;

use super::{
    ApiError, ApiResult, Form, account_path, created, ok, page, query_pairs, sid_in, valid_address,
    valid_url,
};
use crate::runner::{self, DocSource, OutboundRequest};
use crate::state::{CallCommand, Shared};

/// `POST Calls.json`: place an outbound call.
pub(crate) async fn create(State(shared): State<Shared>, body: Bytes) -> ApiResult {
    let form = Form::parse(&body)?;
    let to = form
        .get("To")
        .ok_or_else(|| ApiError::bad(21201, "No 'To' number is specified"))?;
    if !valid_address(to) {
        return Err(ApiError::bad(
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    let from = form
        .get("From")
        .ok_or_else(|| ApiError::bad(21213, "No 'From' number is specified"))?;
    if !valid_address(from) {
        return Err(ApiError::bad(
            21212,
            format!("Invalid 'From' Phone Number: {from}"),
        ));
    }
    let method = method_param(&form, "Method")?;
    let doc = match (form.get("Twiml"), form.get("Url")) {
        (Some(twiml), _) => DocSource::Twiml(twiml.to_owned()),
        (None, Some(url)) if valid_url(url) => DocSource::Url {
            url: url.to_owned(),
            method,
            extra: Vec::new(),
        },
        (None, Some(url)) => {
            return Err(ApiError::bad(
                21205,
                format!("Url is not a valid URL: {url}"),
            ));
        }
        (None, None) => {
            return Err(ApiError::bad(
                21205,
                "Either Url, Twiml or ApplicationSid is required",
            ));
        }
    };
    let status_callback = form.status_callback()?;
    // Twilio accepts the parameter repeated, and SDKs sometimes send it space-separated.
    let mut events: Vec<String> = form
        .all("StatusCallbackEvent")
        .iter()
        .flat_map(|v| v.split([' ', ',']))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    for e in &events {
        if !matches!(
            e.as_str(),
            "initiated" | "ringing" | "answered" | "completed"
        ) {
            return Err(ApiError::bad(
                21626,
                format!("Invalid StatusCallbackEvent: {e}"),
            ));
        }
    }
    if events.is_empty() {
        events.push("completed".into());
    }
    let machine_detection = match form.get("MachineDetection") {
        None => None,
        Some(v @ ("Enable" | "DetectMessageEnd")) => Some(v.to_owned()),
        Some(v) => {
            return Err(ApiError::bad(
                21626,
                format!("Invalid MachineDetection value: {v}"),
            ));
        }
    };
    let async_amd = form.bool("AsyncAmd")?.unwrap_or(false);
    let async_amd_callback = form.get("AsyncAmdStatusCallback").map(str::to_owned);
    let timeout_secs = match form.get("Timeout") {
        None => 60,
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| ApiError::bad(21626, format!("Invalid Timeout: {v}")))?
            .clamp(5, 600),
    };
    let request = OutboundRequest {
        to: to.to_owned(),
        from: from.to_owned(),
        doc,
        status_callback,
        status_callback_method: method_param(&form, "StatusCallbackMethod")?,
        status_callback_events: events,
        machine_detection,
        async_amd,
        async_amd_callback,
        async_amd_callback_method: method_param(&form, "AsyncAmdStatusCallbackMethod")?,
        timeout_secs,
        parent_call_sid: None,
        direction: "outbound-api".into(),
    };
    let record = runner::spawn_outbound(&shared, request);
    Ok(created(&record))
}

/// `Method`-like parameters: `GET` or `POST` (default).
pub(crate) fn method_param(form: &Form, name: &str) -> Result<String, ApiError> {
    match form.get(name) {
        None => Ok("POST".into()),
        Some(m) if m.eq_ignore_ascii_case("GET") => Ok("GET".into()),
        Some(m) if m.eq_ignore_ascii_case("POST") => Ok("POST".into()),
        Some(m) => Err(ApiError::bad(21626, format!("Invalid {name}: {m}"))),
    }
}

/// `GET Calls.json` with `To`, `From`, `Status`, `ParentCallSid` filters, newest first.
pub(crate) async fn list(State(shared): State<Shared>, uri: Uri) -> ApiResult {
    let query = query_pairs(uri.query());
    let filter = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (to, from, status, parent) = (
        filter("To"),
        filter("From"),
        filter("Status"),
        filter("ParentCallSid"),
    );
    let calls: Vec<_> = shared
        .lock()
        .calls
        .iter()
        .rev()
        .map(|c| c.record.clone())
        .filter(|c| to.as_ref().is_none_or(|t| &c.to == t))
        .filter(|c| from.as_ref().is_none_or(|f| &c.from == f))
        .filter(|c| status.as_ref().is_none_or(|s| &c.status == s))
        .filter(|c| {
            parent
                .as_ref()
                .is_none_or(|p| c.parent_call_sid.as_ref() == Some(p))
        })
        .collect();
    let path = format!("{}/Calls.json", account_path(&shared.settings.account_sid));
    page("calls", &path, &query, calls)
}

pub(crate) async fn fetch(
    State(shared): State<Shared>,
    Path((_, segment)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let sid = sid_in(&segment, &uri)?;
    let record = shared
        .lock()
        .call(sid)
        .map(|c| c.record.clone())
        .ok_or_else(|| ApiError::not_found(uri.path()))?;
    Ok(ok(&record))
}

/// `POST Calls/{Sid}.json`: `Twiml` / `Url` (+`Method`) redirect a live call,
/// `Status=completed` hangs it up, `Status=canceled` cancels it if it has not been answered.
pub(crate) async fn update(
    State(shared): State<Shared>,
    Path((_, segment)): Path<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> ApiResult {
    let sid = sid_in(&segment, &uri)?;
    let form = Form::parse(&body)?;
    let (status, commands) = {
        let state = shared.lock();
        let slot = state
            .call(sid)
            .ok_or_else(|| ApiError::not_found(uri.path()))?;
        (slot.record.status.clone(), slot.commands.clone())
    };
    let command = if let Some(s) = form.get("Status") {
        match s {
            "completed" | "canceled" => {
                // Twilio: `canceled` only affects calls that are queued or ringing.
                if s == "canceled" && status == "in-progress" {
                    None
                } else {
                    Some(CallCommand::Hangup(s.to_owned()))
                }
            }
            other => {
                return Err(ApiError::bad(
                    21626,
                    format!("Invalid Status: {other}; use completed or canceled"),
                ));
            }
        }
    } else if let Some(twiml) = form.get("Twiml") {
        Some(CallCommand::Twiml(twiml.to_owned()))
    } else if let Some(url) = form.get("Url") {
        if !valid_url(url) {
            return Err(ApiError::bad(
                21205,
                format!("Url is not a valid URL: {url}"),
            ));
        }
        Some(CallCommand::Url(
            url.to_owned(),
            method_param(&form, "Method")?,
        ))
    } else {
        None
    };
    if let Some(command) = command {
        let redirect = !matches!(command, CallCommand::Hangup(_));
        if redirect && status != "in-progress" {
            return Err(ApiError::bad(
                21220,
                "Call is not in-progress. Cannot redirect.",
            ));
        }
        let final_status = crate::state::is_final_status(&status);
        match commands {
            Some(tx) if !final_status => {
                let _ = tx.send(command);
                // Let the runner apply a hangup before we answer, as Twilio's answer shows
                // the new status.
                if !redirect {
                    shared
                        .wait_until(std::time::Duration::from_secs(2), |s| {
                            s.call(sid).filter(|c| c.record.is_final()).map(|_| ())
                        })
                        .await;
                }
            }
            _ if redirect => {
                return Err(ApiError::bad(
                    21220,
                    "Call is not in-progress. Cannot redirect.",
                ));
            }
            _ => {}
        }
    }
    let record = shared
        .lock()
        .call(sid)
        .map(|c| c.record.clone())
        .ok_or_else(|| ApiError::not_found(uri.path()))?;
    Ok(ok(&record))
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
