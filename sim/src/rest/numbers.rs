//! `AvailablePhoneNumbers/{Country}/Local.json` and `IncomingPhoneNumbers`.
//!
//! Available numbers are made up on the spot: up to `PageSize` (default ten) numbers in the
//! requested `AreaCode` (default 415 for US/CA) that match `Contains` (digits, `*` for any
//! digit), none of them already owned. The same query always offers the same numbers. Buying (`PhoneNumber` or `AreaCode`)
//! makes an [`NumberRecord`] whose `VoiceUrl` receives inbound calls placed with
//! `SimHandle::place_inbound_call`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse as _;

use super::{
    ApiError, ApiResult, Form, Query, Resource, created, list_page, method_param, ok, valid_e164,
    valid_url,
};
use crate::state::{NumberRecord, Shared, rfc2822_now};

fn candidates(country: &str, area: &str, owned: &[NumberRecord]) -> Vec<String> {
    let prefix = match country {
        "US" | "CA" => format!("+1{area}555"),
        "GB" => "+4420795".to_owned(),
        _ => format!("+99{area}555"),
    };
    (0..100)
        .map(|i| format!("{prefix}{:04}", 100 + i * 37))
        .filter(|n| !owned.iter().any(|o| &o.phone_number == n))
        .collect()
}

/// Twilio's `Contains`: the pattern's digits appear in the number in a row, `*` any digit.
fn contains(number: &str, pattern: &str) -> bool {
    let (digits, pattern) = (
        number.as_bytes(),
        pattern.trim_start_matches('+').as_bytes(),
    );
    pattern.is_empty()
        || digits
            .windows(pattern.len())
            .any(|w| w.iter().zip(pattern).all(|(d, p)| *p == b'*' || d == p))
}

pub(crate) async fn available_local(
    State(shared): State<Shared>,
    Path((_, country)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(uri.query());
    let area = query.get("AreaCode").unwrap_or_else(|| "415".into());
    if area.len() != 3 || !area.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(21452, format!("Invalid AreaCode: {area}")));
    }
    if !matches!(country.as_str(), "US" | "CA" | "GB") {
        return Err(ApiError::not_found(uri.path()));
    }
    let pattern = query.get("Contains").unwrap_or_default();
    let size = match query.get("PageSize") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad(20001, format!("Invalid PageSize: {v}")))?,
    };
    let owned = shared.lock().numbers.clone();
    let numbers: Vec<serde_json::Value> = candidates(&country, &area, &owned)
        .into_iter()
        .filter(|n| contains(n, &pattern))
        .take(size)
        .map(|n| {
            let friendly = if n.starts_with("+1") && n.len() == 12 {
                format!("({}) {}-{}", &n[2..5], &n[5..8], &n[8..])
            } else {
                n.clone()
            };
            serde_json::json!({
                "friendly_name": friendly,
                "phone_number": n,
                "lata": null,
                "locality": null,
                "rate_center": null,
                "latitude": null,
                "longitude": null,
                "region": null,
                "postal_code": null,
                "iso_country": country,
                "address_requirements": "none",
                "beta": false,
                "capabilities": {"voice": true, "SMS": true, "MMS": true, "fax": false},
            })
        })
        .collect();
    Ok(ok(&serde_json::json!({
        "available_phone_numbers": numbers,
        "uri": format!("{}?{}", uri.path(), uri.query().unwrap_or_default()),
    })))
}

fn apply(form: &Form, n: &mut NumberRecord) -> Result<(), ApiError> {
    for (param, slot) in [
        ("VoiceUrl", &mut n.voice_url),
        ("VoiceFallbackUrl", &mut n.voice_fallback_url),
        ("StatusCallback", &mut n.status_callback),
        ("SmsUrl", &mut n.sms_url),
    ] {
        if let Some((_, v)) = form.0.iter().find(|(k, _)| k == param) {
            if !v.is_empty() && !valid_url(v) {
                return Err(ApiError::bad(21502, format!("Invalid {param}: {v}")));
            }
            *slot = (!v.is_empty()).then(|| v.clone());
        }
    }
    if form.get("VoiceMethod").is_some() {
        n.voice_method = method_param(form, "VoiceMethod")?;
    }
    if form.get("StatusCallbackMethod").is_some() {
        n.status_callback_method = method_param(form, "StatusCallbackMethod")?;
    }
    if form.get("SmsMethod").is_some() {
        n.sms_method = method_param(form, "SmsMethod")?;
    }
    if let Some(name) = form.get("FriendlyName") {
        n.friendly_name = name.to_owned();
    }
    n.date_updated = rfc2822_now();
    Ok(())
}

/// `POST IncomingPhoneNumbers.json`: buy `PhoneNumber` (or any number in `AreaCode`).
pub(crate) async fn buy(State(shared): State<Shared>, body: Bytes) -> ApiResult {
    let form = Form::parse(&body)?;
    let account = shared.settings.account_sid.clone();
    let record = {
        let mut state = shared.lock();
        let number = match (form.get("PhoneNumber"), form.get("AreaCode")) {
            (Some(n), _) => {
                if !valid_e164(n) {
                    return Err(ApiError::bad(21421, format!("PhoneNumber is invalid: {n}")));
                }
                if state.number_by_phone(n).is_some() {
                    return Err(ApiError::bad(
                        21422,
                        format!("PhoneNumber {n} is not available"),
                    ));
                }
                n.to_owned()
            }
            (None, Some(area)) => candidates("US", area, &state.numbers)
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::bad(21452, "No numbers found in that AreaCode"))?,
            (None, None) => {
                return Err(ApiError::bad(
                    21421,
                    "A PhoneNumber or AreaCode is required",
                ));
            }
        };
        let mut record = NumberRecord::new(&account, &number);
        apply(&form, &mut record)?;
        state.numbers.push(record.clone());
        record
    };
    shared.bump();
    Ok(created(&record))
}

/// `GET IncomingPhoneNumbers.json` with `PhoneNumber` and `FriendlyName` filters.
pub(crate) async fn list(State(shared): State<Shared>, uri: Uri) -> ApiResult {
    let query = Query::parse(uri.query());
    let (phone, name) = (query.get("PhoneNumber"), query.get("FriendlyName"));
    let numbers: Vec<NumberRecord> = shared
        .lock()
        .numbers
        .iter()
        .filter(|n| {
            phone
                .as_ref()
                .is_none_or(|p| n.phone_number.contains(p.as_str()))
        })
        .filter(|n| name.as_ref().is_none_or(|f| &n.friendly_name == f))
        .cloned()
        .collect();
    list_page(
        &shared,
        "incoming_phone_numbers",
        "IncomingPhoneNumbers",
        &query,
        numbers,
    )
}

pub(crate) async fn fetch(State(shared): State<Shared>, number: Resource) -> ApiResult {
    let state = shared.lock();
    number.found(state.numbers.iter().find(|n| n.sid == number.sid))
}

pub(crate) async fn update(
    State(shared): State<Shared>,
    number: Resource,
    body: Bytes,
) -> ApiResult {
    let sid = number.sid.as_str();
    let form = Form::parse(&body)?;
    let record = {
        let mut state = shared.lock();
        let n = state
            .numbers
            .iter_mut()
            .find(|n| n.sid == sid)
            .ok_or_else(|| number.not_found())?;
        apply(&form, n)?;
        n.clone()
    };
    shared.bump();
    Ok(ok(&record))
}

pub(crate) async fn release(State(shared): State<Shared>, number: Resource) -> ApiResult {
    let sid = number.sid.as_str();
    {
        let mut state = shared.lock();
        let before = state.numbers.len();
        state.numbers.retain(|n| n.sid != sid);
        if state.numbers.len() == before {
            return Err(number.not_found());
        }
    }
    shared.bump();
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn contains_matches_digits_in_a_row_with_wildcards() {
        assert!(contains("+14155550137", "555"));
        assert!(contains("+14155550137", "0*37"));
        assert!(contains("+14155550137", ""));
        assert!(!contains("+14155550137", "999"));
        assert!(!contains("+1415", "14155550137"));
    }
}
