//! `GET /v1/calls/{id}/recording`: a call's recording as Ogg/Opus, whole or by byte range
//! (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`), so a player can seek. Bearer auth only: the
//! console fetches it with its token and plays a Blob URL.

use crate::{
    ApiError, AppState,
    auth::{Authorized, jwt::LinkPurpose, perm},
};
use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use domain::CallSid;
use serde::Serialize;
use std::ops::Range;
use store::RecordingRecord;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/calls/{id}/recording", get(get_recording))
        .route("/v1/recordings/{token}", get(play_recording))
}

/// How long a player link works.
const PLAYER_LINK_SECS: i64 = 3600;

/// A call's recording, as the call page shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingView {
    /// Where to fetch it (with the same bearer token).
    pub url: String,
    pub duration_ms: u64,
    pub bytes: u64,
    /// 2: the caller on the left, the agent on the right.
    pub channels: u8,
    /// The same file for an `<audio>` element, which cannot send a bearer token: a link that
    /// opens this recording only, for an hour, with byte ranges.
    pub player_url: String,
}

impl RecordingView {
    pub fn new(
        state: &AppState,
        tenant: domain::TenantId,
        call_id: Uuid,
        recording: &RecordingRecord,
    ) -> Self {
        let now = chrono::Utc::now().timestamp();
        let token = state.config.auth.jwt.sign_link(
            LinkPurpose::Recording,
            tenant,
            call_id,
            PLAYER_LINK_SECS,
            now,
        );
        Self {
            player_url: format!("/v1/recordings/{token}"),
            url: format!("/v1/calls/{call_id}/recording"),
            duration_ms: recording.duration_ms,
            bytes: recording.bytes,
            channels: recording.channels,
        }
    }
}

/// What a `Range` header asks of a resource of `size` bytes: `Ok(None)` for the whole of it
/// (no header, or one we do not read, which RFC 9110 lets us ignore), `Err` when it selects
/// nothing. One range only; a multi-range request gets the whole resource.
pub fn requested_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let unsatisfiable = ApiError::RangeNotSatisfiable { size };
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        // `bytes=-n`: the last n bytes.
        _ if first.is_empty() => match last.parse::<u64>() {
            Ok(0) | Err(_) => return Err(unsatisfiable),
            Ok(n) => size.saturating_sub(n)..size,
        },
        (Ok(a), _) if last.is_empty() => a..size,
        (Ok(a), Ok(b)) if a <= b => a..size.min(b.saturating_add(1)),
        _ => return Ok(None),
    };
    if range.start >= size || range.is_empty() {
        return Err(unsatisfiable);
    }
    Ok(Some(range))
}

/// The call's recording (`audio/ogg`); `206` with `Content-Range` for a range.
#[utoipa::path(get, path = "/v1/calls/{id}/recording", tag = "calls",
    params(("id" = String, Path, description = "Call id (UUID) or Twilio call SID"),
           ("Range" = Option<String>, Header, description = "`bytes=a-b`, `bytes=a-` or `bytes=-n`")),
    security(("bearer" = ["calls:read"])),
    responses((status = 200, description = "The whole recording", content_type = "audio/ogg"),
              (status = 206, description = "The requested bytes", content_type = "audio/ogg"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, description = "No such call, or it was not recorded", body = crate::error::Problem),
              (status = 416, description = "The range selects nothing", body = crate::error::Problem)))]
pub async fn get_recording(
    State(state): State<AppState>,
    auth: Authorized<perm::CallsRead>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let call = if let Ok(sid) = CallSid::parse(&id) {
        state.store.call_by_sid(auth.tenant, &sid).await?
    } else if let Ok(uuid) = Uuid::parse_str(&id) {
        state.store.call(auth.tenant, uuid).await?
    } else {
        return Err(ApiError::NotFound("call"));
    };
    let call = call.ok_or(ApiError::NotFound("call"))?;
    serve(&state, auth.tenant, call.id, &headers).await
}

/// The recording a player link opens (`player_url` of a call), by byte range. The link is
/// its own credential: signed by the API, for one call's recording, for an hour.
#[utoipa::path(get, path = "/v1/recordings/{token}", tag = "calls",
    params(("token" = String, Path, description = "From a call's `recording.player_url`"),
           ("Range" = Option<String>, Header, description = "`bytes=a-b`, `bytes=a-` or `bytes=-n`")),
    responses((status = 200, description = "The whole recording", content_type = "audio/ogg"),
              (status = 206, description = "The requested bytes", content_type = "audio/ogg"),
              (status = 404, description = "No such link (or it expired), or no recording", body = crate::error::Problem),
              (status = 416, description = "The range selects nothing", body = crate::error::Problem)))]
pub async fn play_recording(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, call_id) = state
        .config
        .auth
        .jwt
        .verify_link(LinkPurpose::Recording, &token)
        .ok_or(ApiError::NotFound("recording"))?;
    serve(&state, tenant, call_id, &headers).await
}

/// The recording of `call_id`, whole or the range `headers` ask for.
async fn serve(
    state: &AppState,
    tenant: domain::TenantId,
    call_id: Uuid,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let recording = state
        .store
        .call_recording(tenant, call_id)
        .await?
        .ok_or(ApiError::NotFound("recording"))?;
    let size = recording.bytes;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = requested_range(range_header, size)?;
    let wanted = range.clone().unwrap_or(0..size);
    let bytes = state
        .recordings
        .get_range(&recording.storage_key, wanted.clone())
        .await
        .map_err(|e| match e {
            store::ObjectsError::NotFound => ApiError::NotFound("recording"),
            other => ApiError::Internal(other.into()),
        })?;
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, recording.content_type.as_str())
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "private, max-age=3600")
        .body(Body::from(bytes))
        .map_err(|e| ApiError::Internal(e.into()))?;
    if range.is_some() {
        let value = format!("bytes {}-{}/{size}", wanted.start, wanted.end - 1);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(h: &str, size: u64) -> Option<Range<u64>> {
        requested_range(Some(h), size).expect("satisfiable")
    }

    #[test]
    fn the_three_range_forms_select_the_right_bytes() {
        assert_eq!(range("bytes=0-99", 1000), Some(0..100));
        assert_eq!(range("bytes=900-", 1000), Some(900..1000));
        assert_eq!(range("bytes=-100", 1000), Some(900..1000));
        assert_eq!(range("bytes=990-2000", 1000), Some(990..1000));
        assert_eq!(range("bytes=-5000", 1000), Some(0..1000));
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable_and_garbage_is_ignored() {
        assert!(requested_range(Some("bytes=1000-"), 1000).is_err());
        assert!(requested_range(Some("bytes=-0"), 1000).is_err());
        assert_eq!(range("bytes=5-1", 1000), None);
        assert_eq!(range("items=0-1", 1000), None);
        assert_eq!(requested_range(None, 1000).unwrap(), None);
    }
}
