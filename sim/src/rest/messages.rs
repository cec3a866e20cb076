//! `Messages.json` and `Messages/{Sid}.json`. A created message goes `queued` (or `accepted`
//! with a Messaging Service) → `sent` → `delivered`, with status callbacks (`MessageSid`,
//! `MessageStatus`, `SmsSid`, `SmsStatus`, `AccountSid`, `From`, `To`, `ApiVersion`).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;

use super::{
    ApiError, ApiResult, Form, Query, Resource, account_path, created, list_page, valid_address,
};
use crate::state::{API_VERSION, MessageRecord, Shared, new_sid, rfc2822_now};
use crate::webhooks::{self, Webhook};

pub(crate) async fn create(State(shared): State<Shared>, body: Bytes) -> ApiResult {
    let form = Form::parse(&body)?;
    let to = form
        .get("To")
        .ok_or_else(|| ApiError::bad(21604, "A 'To' phone number is required."))?;
    if !valid_address(to) && !to.starts_with("whatsapp:") {
        return Err(ApiError::bad(
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    let (from, service) = sender(&form)?;
    let body_text = form.get("Body").unwrap_or_default();
    if body_text.is_empty() && form.get("MediaUrl").is_none() {
        return Err(ApiError::bad(21602, "Message body is required."));
    }
    if body_text.chars().count() > 1600 {
        return Err(ApiError::bad(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    let mut record = new_message(&shared.settings.account_sid, to, from, service, body_text);
    record.status_callback = form.status_callback()?;
    shared.lock().messages.push(record.clone());
    shared.bump();
    tokio::spawn(deliver(shared.clone(), record.sid.clone()));
    Ok(created(&record))
}

/// `From` and/or a valid `MessagingServiceSid`.
fn sender(form: &Form) -> Result<(Option<&str>, Option<&str>), ApiError> {
    let from = form.get("From");
    let service = form.get("MessagingServiceSid");
    if from.is_none() && service.is_none() {
        return Err(ApiError::bad(
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        ));
    }
    if service.is_some_and(|s| !s.starts_with("MG") || s.len() != 34) {
        return Err(ApiError::bad(
            21701,
            "The Messaging Service Sid is invalid.",
        ));
    }
    Ok((from, service))
}

/// A new outbound message: `queued`, or `accepted` when a Messaging Service picks the sender.
fn new_message(
    account: &str,
    to: &str,
    from: Option<&str>,
    service: Option<&str>,
    body: &str,
) -> MessageRecord {
    let sid = new_sid("SM");
    let now = rfc2822_now();
    let uri = format!("{}/Messages/{sid}.json", account_path(account));
    let segments = body.chars().count().max(1).div_ceil(160);
    let status = if service.is_some() && from.is_none() {
        "accepted"
    } else {
        "queued"
    };
    MessageRecord {
        account_sid: account.to_owned(),
        api_version: API_VERSION.into(),
        body: body.to_owned(),
        date_created: now.clone(),
        date_updated: now,
        date_sent: None,
        direction: "outbound-api".into(),
        error_code: None,
        error_message: None,
        from: from.map(str::to_owned),
        to: to.to_owned(),
        messaging_service_sid: service.map(str::to_owned),
        num_media: "0".into(),
        num_segments: segments.to_string(),
        price: None,
        price_unit: "USD".into(),
        status: status.into(),
        subresource_uris: serde_json::json!({
            "media": uri.replace(".json", "/Media.json"),
            "feedback": uri.replace(".json", "/Feedback.json"),
        }),
        uri,
        sid,
        status_callback: None,
    }
}

/// `sent` then `delivered`, each with a status callback.
async fn deliver(shared: Shared, sid: String) {
    for status in ["sent", "delivered"] {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let record = {
            let mut state = shared.lock();
            let Some(m) = state.messages.iter_mut().find(|m| m.sid == sid) else {
                return;
            };
            m.status = status.into();
            m.date_updated = rfc2822_now();
            if m.date_sent.is_none() {
                m.date_sent = Some(m.date_updated.clone());
            }
            if m.from.is_none() {
                // A Messaging Service picks a sender from its pool.
                m.from = Some("+15005550006".into());
            }
            m.clone()
        };
        shared.bump();
        if let Some(cb) = &record.status_callback {
            let params = vec![
                ("AccountSid".into(), record.account_sid.clone()),
                ("ApiVersion".into(), API_VERSION.into()),
                ("From".into(), record.from.clone().unwrap_or_default()),
                ("MessageSid".into(), record.sid.clone()),
                ("MessageStatus".into(), status.into()),
                ("SmsSid".into(), record.sid.clone()),
                ("SmsStatus".into(), status.into()),
                ("To".into(), record.to.clone()),
            ];
            webhooks::send_callback(&shared, Webhook::post(cb, params, "message-status"), None)
                .await;
        }
    }
}

/// `GET Messages.json` with `To`, `From`, `DateSent` (`YYYY-MM-DD`, also `DateSent<` and
/// `DateSent>`) filters, newest first.
pub(crate) async fn list(State(shared): State<Shared>, uri: Uri) -> ApiResult {
    let query = Query::parse(uri.query());
    let (to, from) = (query.get("To"), query.get("From"));
    let parse_day = |v: Option<String>| -> Result<Option<chrono::NaiveDate>, ApiError> {
        v.map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad(20001, format!("Invalid DateSent: {d}")))
        })
        .transpose()
    };
    let on = parse_day(query.get("DateSent"))?;
    let before = parse_day(query.get("DateSent<"))?;
    let after = parse_day(query.get("DateSent>"))?;
    let sent_day = |m: &MessageRecord| {
        m.date_sent
            .as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.date_naive())
    };
    let messages: Vec<MessageRecord> = shared
        .lock()
        .messages
        .iter()
        .rev()
        .filter(|m| to.as_ref().is_none_or(|t| &m.to == t))
        .filter(|m| from.as_ref().is_none_or(|f| m.from.as_ref() == Some(f)))
        .filter(|m| on.is_none_or(|d| sent_day(m) == Some(d)))
        .filter(|m| before.is_none_or(|d| sent_day(m).is_some_and(|s| s <= d)))
        .filter(|m| after.is_none_or(|d| sent_day(m).is_some_and(|s| s >= d)))
        .cloned()
        .collect();
    list_page(&shared, "messages", "Messages", &query, messages)
}

pub(crate) async fn fetch(State(shared): State<Shared>, message: Resource) -> ApiResult {
    let state = shared.lock();
    message.found(state.messages.iter().find(|m| m.sid == message.sid))
}
